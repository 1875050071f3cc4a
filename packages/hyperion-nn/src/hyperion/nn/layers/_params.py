"""Creating parameters and buffers for layers (dtype/device handling in one place)."""

from __future__ import annotations

from typing import Any

import numpy as np

import hyperion.tensor as ht
from hyperion.autograd import Tensor
from hyperion.nn import init
from hyperion.nn.module import Parameter

__all__ = ["buffer", "generator_of", "parameter"]


def parameter(*shape: int, dtype: Any = None, device: Any = None) -> Parameter:
    """An uninitialised parameter (``float32`` by default; the layer's ``reset_parameters`` fills it)."""
    return Parameter(ht.empty(shape, dtype=dtype or "float32", device=device or "cpu"))


def buffer(value: float | int, *shape: int, dtype: Any = None, device: Any = None) -> Tensor:
    """A buffer filled with ``value``."""
    return Tensor(ht.full(shape, value, dtype=dtype or "float32", device=device or "cpu"))


def generator_of(generator: np.random.Generator | None, seed: int | None) -> np.random.Generator:
    """``generator``, else a fresh one from ``seed``, else the default generator of :mod:`hyperion.nn.init`."""
    if generator is not None:
        return generator
    if seed is not None:
        return np.random.default_rng(seed)
    return init.default_generator()
