"""Property-based parity: random shapes, reduced dims and NaN/±Inf positions, kernels vs reference.

Settings: ``max_examples=30``, ``deadline=None`` (the first call compiles), ``derandomize=True``
(the same examples on every run, so a failure reproduces).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .parity import KERNELS_OFF, KERNELS_ON, Case, assert_same, outcome, with_grads

pytest.importorskip("numba")
F = pytest.importorskip("hyperion.nn.functional")

FUZZ = settings(max_examples=30, deadline=None, derandomize=True)


@st.composite
def poisoned_arrays(draw: st.DrawFn) -> tuple[np.ndarray, int]:
    shape = tuple(draw(st.lists(st.integers(1, 7), min_size=1, max_size=3)))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    seed = draw(st.integers(0, 2**16))
    x = (np.random.default_rng(seed).standard_normal(shape) * draw(st.sampled_from([1.0, 30.0, 1e4]))).astype(dtype)
    flat = x.reshape(-1)
    for value in draw(st.lists(st.sampled_from([np.nan, np.inf, -np.inf]), max_size=3)):
        flat[draw(st.integers(0, flat.size - 1))] = value
    return x, draw(st.integers(-len(shape), len(shape) - 1))


@FUZZ
@given(poisoned_arrays(), st.sampled_from(["softmax", "log_softmax"]))
def test_softmax_family_parity(data: tuple[np.ndarray, int], name: str) -> None:
    x, dim = data
    case = Case(f"nn.{name}_forward", name, "nonfinite", with_grads(lambda t: getattr(F, name)(t, dim=dim), x), "fuzz")
    assert_same(outcome(case.call, KERNELS_ON), outcome(case.call, KERNELS_OFF), case)


@FUZZ
@given(poisoned_arrays(), st.sampled_from(["layer_norm", "rms_norm"]))
def test_normalization_parity(data: tuple[np.ndarray, int], name: str) -> None:
    x, _ = data
    fn = lambda t: getattr(F, name)(t, x.shape[-1])  # noqa: E731
    case = Case(f"nn.{name}_forward", name, "nonfinite", with_grads(fn, x), "fuzz")
    assert_same(outcome(case.call, KERNELS_ON), outcome(case.call, KERNELS_OFF), case)


@FUZZ
@given(poisoned_arrays(), st.sampled_from(["none", "tanh"]))
def test_gelu_parity(data: tuple[np.ndarray, int], approximate: str) -> None:
    x, _ = data
    case = Case(
        "nn.gelu_forward", "gelu", "nonfinite", with_grads(lambda t: F.gelu(t, approximate=approximate), x), "fuzz"
    )
    assert_same(outcome(case.call, KERNELS_ON), outcome(case.call, KERNELS_OFF), case)
