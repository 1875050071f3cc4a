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

The exact form needs ``Φ(x) = erfc(-x/√2)/2``. On float64 it calls libm's ``erf`` per element
(full precision, one call at a time). On float32 it uses a branch-free approximation of the
upper tail, Chebyshev-fitted in ``t = 1/(1 + z/2)`` (Numerical Recipes' ``erfcc``):
``erfc(z) = t·exp(-z² + P(t))`` for ``z >= 0``, ``P`` of degree 9, relative error below 1.2e-7
(1.07e-7 measured on ``[0, 26]``), about one float32 rounding. It is evaluated in float64 with
the vectorisable exponential, so the loop runs on whole SIMD registers; ``Φ(x)`` is the tail for
``x < 0`` and one minus it otherwise, and ``φ(x) = e^{-x²/2}/√(2π)`` for the slope comes from the
same exponential. Either way each element is read once and written once (two reads backward),
where the composed version makes a pass per operator.
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
# erfc(z) ≈ t·exp(-z² + P(t)), t = 1/(1 + z/2), z >= 0: P's coefficients, constant term first.
_ERFC_P = (
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
)


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


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _lower_tail(v):
    """``Φ(-|v|) = erfc(|v|/√2)/2`` of a float64 ``v`` (relative error < 1.2e-7), branch-free."""
    z = abs(v) * _INV_SQRT2
    t = 1.0 / (1.0 + 0.5 * z)
    p = _ERFC_P[9]
    p = _ERFC_P[8] + t * p
    p = _ERFC_P[7] + t * p
    p = _ERFC_P[6] + t * p
    p = _ERFC_P[5] + t * p
    p = _ERFC_P[4] + t * p
    p = _ERFC_P[3] + t * p
    p = _ERFC_P[2] + t * p
    p = _ERFC_P[1] + t * p
    p = _ERFC_P[0] + t * p
    return 0.5 * t * exp_approx(p - z * z)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _gelu_erf32_part(x, out, lo, hi):
    stop = x.shape[0] if hi < 0 else min(x.shape[0], hi * _BLOCK)
    xs, ys = x[lo * _BLOCK : stop], out[lo * _BLOCK : stop]
    for i in range(xs.shape[0]):
        v = np.float64(xs[i])
        tail = _lower_tail(v)
        ys[i] = v * (tail if v < 0.0 else 1.0 - tail)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy")
def _gelu_erf32_backward_part(x, gy, out, lo, hi):
    stop = x.shape[0] if hi < 0 else min(x.shape[0], hi * _BLOCK)
    xs, gs, ys = x[lo * _BLOCK : stop], gy[lo * _BLOCK : stop], out[lo * _BLOCK : stop]
    for i in range(xs.shape[0]):
        v = np.float64(xs[i])
        tail = _lower_tail(v)
        density = _INV_SQRT_2PI * exp_approx(-0.5 * v * v)
        ys[i] = gs[i] * ((tail if v < 0.0 else 1.0 - tail) + v * density)


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


_TANH, _ERF, _ERF32 = 0, 1, 2  # the loop a call runs: tanh form, libm erf, float32 tail


@njit(cache=True, parallel=True)
def _gelu(x, out, mode):
    for blk in prange((x.shape[0] + _BLOCK - 1) // _BLOCK):
        _gelu_part(x, out, mode, blk, blk + 1)


@njit(cache=True, parallel=True)
def _gelu_backward(x, gy, out, mode):
    for blk in prange((x.shape[0] + _BLOCK - 1) // _BLOCK):
        _gelu_backward_part(x, gy, out, mode, blk, blk + 1)


@njit(cache=True)
def _gelu_part(x, out, mode, lo, hi):
    """Forward over blocks ``lo..hi`` (serially: the small-array path of :func:`run`)."""
    if mode == _TANH:
        _gelu_tanh_part(x, out, lo, hi)
    elif mode == _ERF32:
        _gelu_erf32_part(x, out, lo, hi)
    else:
        _gelu_erf_part(x, out, lo, hi)


@njit(cache=True)
def _gelu_backward_part(x, gy, out, mode, lo, hi):
    """Backward over blocks ``lo..hi`` (serially: the small-array path of :func:`run`)."""
    if mode == _TANH:
        _gelu_tanh_backward_part(x, gy, out, lo, hi)
    elif mode == _ERF32:
        _gelu_erf32_backward_part(x, gy, out, lo, hi)
    else:
        _gelu_erf_backward_part(x, gy, out, lo, hi)


def _mode(approximate: str, dtype: np.dtype) -> int:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")
    if approximate == "tanh":
        return _TANH
    return _ERF32 if dtype == np.float32 else _ERF


def gelu_forward(x: np.ndarray, approximate: str) -> np.ndarray:
    """GELU of an array of any shape (``nn.gelu_forward``).

    Examples:
        >>> np.round(gelu_forward(np.array([-1.0, 0.0, 1.0]), "none"), 6).tolist()
        [-0.158655, 0.0, 0.841345]
    """
    a = np.ascontiguousarray(x)
    mode = _mode(approximate, a.dtype)
    out = np.empty_like(a)
    if a.size:
        run(a.size, _gelu, _gelu_part, a.reshape(-1), out.reshape(-1), mode)
    return out


def gelu_backward(x: np.ndarray, gy: np.ndarray, approximate: str) -> np.ndarray:
    """``gy · GELU'(x)`` (``nn.gelu_backward``); ``gy`` has ``x``'s shape."""
    a = np.ascontiguousarray(x)
    mode = _mode(approximate, a.dtype)
    g = np.ascontiguousarray(gy, dtype=a.dtype)
    if g.shape != a.shape:
        raise ValueError(f"gelu_backward: gy of shape {g.shape} does not match x of shape {a.shape}")
    out = np.empty_like(a)
    if a.size:
        run(a.size, _gelu_backward, _gelu_backward_part, a.reshape(-1), g.reshape(-1), out.reshape(-1), mode)
    return out


KERNELS: dict[tuple[str, str], Callable[..., object]] = {
    ("nn.gelu_forward", "cpu"): gelu_forward,
    ("nn.gelu_backward", "cpu"): gelu_backward,
}
