"""GELU, exact and tanh-approximated, forward and backward (Numba, parallel over blocks).

* exact: ``y = x·Φ(x) = x/2 · (1 + erf(x/√2))``; ``y' = Φ(x) + x·φ(x)``, ``φ(x) = e^{-x²/2}/√(2π)``;
* tanh: ``u = √(2/π)·(x + 0.044715·x³)``, ``y = x/2 · (1 + tanh u)``;
  ``y' = (1 + tanh u)/2 + x/2 · (1 - tanh² u) · √(2/π)·(1 + 3·0.044715·x²)``.

Each element is computed in float64 (libm's ``erf``/``tanh``) and stored in the
input's dtype: one read and one write per element (two reads backward), where
the composed version makes a pass per operator.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numba import njit, prange

from hyperion.kernels.cpu._rowmath import run

__all__ = ["KERNELS", "gelu_backward", "gelu_forward"]

_BLOCK = 16384
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_K = math.sqrt(2.0 / math.pi)
_C = 0.044715


@njit(cache=True)
def _gelu_part(x, out, tanh_mode, lo, hi):
    n = x.shape[0]
    for blk in range(lo, (n + _BLOCK - 1) // _BLOCK if hi < 0 else hi):
        for i in range(blk * _BLOCK, min(n, (blk + 1) * _BLOCK)):
            v = np.float64(x[i])
            if tanh_mode:
                out[i] = 0.5 * v * (1.0 + math.tanh(_K * (v + _C * v * v * v)))
            else:
                out[i] = 0.5 * v * (1.0 + math.erf(v * _INV_SQRT2))


@njit(cache=True, parallel=True)
def _gelu(x, out, tanh_mode):
    n = x.shape[0]
    for blk in prange((n + _BLOCK - 1) // _BLOCK):
        _gelu_part(x, out, tanh_mode, blk, blk + 1)


@njit(cache=True)
def _gelu_backward_part(x, gy, out, tanh_mode, lo, hi):
    n = x.shape[0]
    for blk in range(lo, (n + _BLOCK - 1) // _BLOCK if hi < 0 else hi):
        for i in range(blk * _BLOCK, min(n, (blk + 1) * _BLOCK)):
            v = np.float64(x[i])
            if tanh_mode:
                t = math.tanh(_K * (v + _C * v * v * v))
                d = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * _K * (1.0 + 3.0 * _C * v * v)
            else:
                d = 0.5 * (1.0 + math.erf(v * _INV_SQRT2)) + v * _INV_SQRT_2PI * math.exp(-0.5 * v * v)
            out[i] = gy[i] * d


@njit(cache=True, parallel=True)
def _gelu_backward(x, gy, out, tanh_mode):
    n = x.shape[0]
    for blk in prange((n + _BLOCK - 1) // _BLOCK):
        _gelu_backward_part(x, gy, out, tanh_mode, blk, blk + 1)


def _mode(approximate: str) -> bool:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    return approximate == "tanh"


def gelu_forward(x: np.ndarray, approximate: str) -> np.ndarray:
    """GELU of an array of any shape (``nn.gelu_forward``).

    Examples:
        >>> np.round(gelu_forward(np.array([-1.0, 0.0, 1.0]), "none"), 6).tolist()
        [-0.158655, 0.0, 0.841345]
    """
    tanh_mode = _mode(approximate)
    a = np.ascontiguousarray(x)
    out = np.empty_like(a)
    if a.size:
        run(a.size, _gelu, _gelu_part, a.reshape(-1), out.reshape(-1), tanh_mode)
    return out


def gelu_backward(x: np.ndarray, gy: np.ndarray, approximate: str) -> np.ndarray:
    """``gy · GELU'(x)`` (``nn.gelu_backward``); ``gy`` has ``x``'s shape."""
    tanh_mode = _mode(approximate)
    a = np.ascontiguousarray(x)
    g = np.ascontiguousarray(gy, dtype=a.dtype)
    if g.shape != a.shape:
        raise ValueError(f"gelu_backward: gy of shape {g.shape} does not match x of shape {a.shape}")
    out = np.empty_like(a)
    if a.size:
        run(a.size, _gelu_backward, _gelu_backward_part, a.reshape(-1), g.reshape(-1), out.reshape(-1), tanh_mode)
    return out


KERNELS: dict[tuple[str, str], Callable[..., object]] = {
    ("nn.gelu_forward", "cpu"): gelu_forward,
    ("nn.gelu_backward", "cpu"): gelu_backward,
}
