"""Shared fixtures: the CPU kernels (skipped cleanly where Numba is not installed) and the NumPy references."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-10, "atol": 1e-12}}
"""Tolerances: relative 1e-5 (float32) / 1e-10 (float64), with an absolute floor for values near 0."""


def _load_reference() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kernels_test_reference", Path(__file__).with_name("reference.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def ref() -> ModuleType:
    """The composed NumPy formulas of reference.py."""
    return _load_reference()


@pytest.fixture(scope="session")
def kernels() -> dict:
    """``(op, "cpu") -> kernel`` of a fresh cpu provider."""
    pytest.importorskip("numba")
    from hyperion.kernels.cpu import CpuProvider

    return dict(CpuProvider().kernels())


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(params=[np.float32, np.float64], ids=["f32", "f64"])
def dtype(request: pytest.FixtureRequest) -> type:
    return request.param


@pytest.fixture
def tol(dtype: type) -> dict:
    return TOL[dtype]
