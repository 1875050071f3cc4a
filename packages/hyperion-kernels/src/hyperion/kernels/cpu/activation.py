"""GELU, exact and tanh-approximated, forward and backward (Numba, parallel over blocks).

* exact: ``y = x·Φ(x) = x/2 · (1 + erf(x/√2))``; ``y' = Φ(x) + x·φ(x)``, ``φ(x) = e^{-x²/2}/√(2π)``;
* tanh: ``u = √(2/π)·(x + 0.044715·x³)``, ``y = x/2 · (1 + tanh u)``.

The tanh form is computed through the identity ``(1 + tanh u)/2 = σ(2u) = 1/(1 + e^{-2u})``:
``y = x·s`` with ``s = 1/(1 + e)``, ``e = e^{-2u}``, and, since ``σ' = σ(1 - σ)`` and
``1 - s = e·s``, ``y' = s·(1 + 2x·e·s·√(2/π)·(1 + 3·0.044715·x²))``. There is no ``1 - tanh²``
to cancel, and ``e`` comes from the vectorisable exponential of ``_rowmath``, so the loop
runs on whole SIMD registers in the input's own dtype. Where ``-2u`` is beyond the largest
argument that exponential takes, ``e`` would overflow: there ``s`` is 0 and ``y = x·0``,
``y' = x·0`` (0, or NaN for ``x = -inf``, as the composed formula gives).

The exact form calls libm's ``erf`` per element, in float64. Either way each element is
read once and written once (two reads backward), where the composed version makes a pass
per operator.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numba import njit, prange

from hyperion.kernels.cpu._rowmath import FASTMATH, exp_approx, like, max_exp_arg, run

__all__ = ["KERNELS", "gelu_backward", "gelu_forward"]

_BLOCK = 16384
_INV_SQRT2 = 1.0 / math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_K = math.sqrt(2.0 / math.pi)
_C = 0.044715


# error_model="numpy": a float division is just a division (no ZeroDivisionError branch in the loop).
@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _gelu_tanh_part(x, out, lo, hi):
    stop = x.shape[0] if hi < 0 else min(x.shape[0], hi * _BLOCK)
    xs, ys = x[lo * _BLOCK : stop], out[lo * _BLOCK : stop]  # indices from 0: no negative-index wrap
    big, one, zero = max_exp_arg(x), like(x, 1.0), like(x, 0.0)
    k2, kc2 = like(x, -2.0 * _K), like(x, -2.0 * _K * _C)
    for i in range(xs.shape[0]):
        v = xs[i]
        a = v * (k2 + kc2 * v * v)  # -2u
        s = one / (one + exp_approx(a))
        ys[i] = v * s if a <= big else v * zero


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _gelu_tanh_backward_part(x, gy, out, lo, hi):
    stop = x.shape[0] if hi < 0 else min(x.shape[0], hi * _BLOCK)
    xs, gs, ys = x[lo * _BLOCK : stop], gy[lo * _BLOCK : stop], out[lo * _BLOCK : stop]
    big, one, zero = max_exp_arg(x), like(x, 1.0), like(x, 0.0)
    k2, kc2 = like(x, -2.0 * _K), like(x, -2.0 * _K * _C)
    two_k, three_c = like(x, 2.0 * _K), like(x, 3.0 * _C)
    for i in range(xs.shape[0]):
        v = xs[i]
        a = v * (k2 + kc2 * v * v)
        e = exp_approx(a)
        s = one / (one + e)
        # e = 0 (u large): the second term is exactly 0, even where v² overflows (v·0: NaN only for inf).
        # e·s = 1 - s is formed first: e alone reaches ~1e38 in float32 and two_k·v·e would overflow.
        term = v * zero if e == zero else two_k * v * (e * s) * (one + three_c * v * v)
        d = s * (one + term)
        ys[i] = gs[i] * (d if a <= big else v * zero)


@njit(cache=True)
def _gelu_erf_part(x, out, lo, hi):
    n = x.shape[0]
    stop = n if hi < 0 else min(n, hi * _BLOCK)
    for i in range(lo * _BLOCK, stop):
        v = np.float64(x[i])
        out[i] = 0.5 * v * (1.0 + math.erf(v * _INV_SQRT2))


@njit(cache=True)
def _gelu_erf_backward_part(x, gy, out, lo, hi):
    n = x.shape[0]
    stop = n if hi < 0 else min(n, hi * _BLOCK)
    for i in range(lo * _BLOCK, stop):
        v = np.float64(x[i])
        d = 0.5 * (1.0 + math.erf(v * _INV_SQRT2)) + v * _INV_SQRT_2PI * math.exp(-0.5 * v * v)
        out[i] = gy[i] * d


@njit(cache=True, parallel=True)
def _gelu(x, out, tanh_mode):
    for blk in prange((x.shape[0] + _BLOCK - 1) // _BLOCK):
        if tanh_mode:
            _gelu_tanh_part(x, out, blk, blk + 1)
        else:
            _gelu_erf_part(x, out, blk, blk + 1)


@njit(cache=True, parallel=True)
def _gelu_backward(x, gy, out, tanh_mode):
    for blk in prange((x.shape[0] + _BLOCK - 1) // _BLOCK):
        if tanh_mode:
            _gelu_tanh_backward_part(x, gy, out, blk, blk + 1)
        else:
            _gelu_erf_backward_part(x, gy, out, blk, blk + 1)


def _gelu_part(x, out, tanh_mode, lo, hi):
    """Serial forward over blocks ``lo..hi`` (the small-array path of :func:`run`)."""
    (_gelu_tanh_part if tanh_mode else _gelu_erf_part)(x, out, lo, hi)


def _gelu_backward_part(x, gy, out, tanh_mode, lo, hi):
    """Serial backward over blocks ``lo..hi`` (the small-array path of :func:`run`)."""
    (_gelu_tanh_backward_part if tanh_mode else _gelu_erf_backward_part)(x, gy, out, lo, hi)


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
