"""Wrapping NumPy arrays as tensors on the hot paths (one place, so the choice is visible).

``hyperion.tensor.from_numpy`` accepts any strides and works out the storage window each time
(tens of microseconds); the arrays wrapped here are fresh results of NumPy operations, for which
``Tensor._from_array`` — the constructor hyperion's own ops use for their results — is a
constant-time wrap (it copies only a non-contiguous input).
"""

from __future__ import annotations

import numpy as np

import hyperion.tensor as ht
from hyperion.autograd import Tensor

__all__ = ["constant", "raw"]


def raw(array: np.ndarray) -> ht.Tensor:
    """A raw tensor over ``array`` (no copy when it is C-contiguous)."""
    return ht.Tensor._from_array(array)


def constant(array: np.ndarray) -> Tensor:
    """An autograd tensor outside the graph over ``array`` (token ids, masks, cached keys)."""
    return Tensor(raw(array))
