"""Shared test configuration: Hypothesis profiles, the ``gpu`` marker, an optional PyTorch.

Hypothesis profiles (choose one with ``pytest --hypothesis-profile=NAME``):

- ``default``: 50 examples per property, no deadline (CI machines are slow and noisy);
- ``thorough``: 500 examples per property, for a long local run after touching layout code;
- ``quick``: 10 examples, for iterating on one test.

Tests marked ``@pytest.mark.gpu`` are skipped unless :func:`hyperion.tensor.cuda_available`
says CuPy can see a CUDA device.
"""

from __future__ import annotations

from types import ModuleType

import pytest
from hypothesis import HealthCheck, settings

import hyperion.tensor as ht

_COMMON = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large]}
settings.register_profile("default", max_examples=50, **_COMMON)
settings.register_profile("thorough", max_examples=500, **_COMMON)
settings.register_profile("quick", max_examples=10, **_COMMON)
settings.load_profile("default")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    if gpu_items and not ht.cuda_available():
        skip = pytest.mark.skip(reason="needs CuPy and a CUDA device (hyperion.tensor.cuda_available() is False)")
        for item in gpu_items:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def torch() -> ModuleType:
    """PyTorch, the reference for view/stride semantics; tests that take it skip without it."""
    return pytest.importorskip("torch")
