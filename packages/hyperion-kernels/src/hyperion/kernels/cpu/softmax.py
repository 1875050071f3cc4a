"""Fused row softmax and log-softmax, forward and backward (Numba, parallel over rows).

The composed NumPy softmax makes five passes over memory (max, subtract,
``exp``, sum, divide) and allocates two temporaries. Here each row is read
from memory once and written once: its statistics are computed while it sits
in L1/L2 (a 4096-float row is 16 KiB), then the output row is produced and
normalised in cache. Row statistics (the maximum, and ``Σ exp(x - max)`` in
float64) are per row, so rows run in parallel (``prange``) without sharing.

* softmax: ``y = exp(x - m) / s`` with ``m = max x``, ``s = Σ exp(x - m)``;
  backward ``gx = y ⊙ (gy - Σ gy ⊙ y)``;
* log-softmax: ``y = x - m - log s``; backward ``gx = gy - exp(y) Σ gy``.

Rows whose maximum is not finite (a NaN, or ±inf) go through a slow path with
libm's ``exp`` so they produce exactly what the composed version produces.
Kernels take C-contiguous 2-D ``(rows, n)`` arrays (the nn wrapper flattens)
and return new arrays.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numba import njit, prange

from hyperion.kernels.cpu._rowmath import FASTMATH, exp_shifted, like, row_max, run

__all__ = ["KERNELS", "log_softmax_backward", "log_softmax_forward", "softmax_backward", "softmax_forward"]


@njit(cache=True, fastmath=FASTMATH)
def _softmax_rows_part(x: np.ndarray, out: np.ndarray, lo: int, hi: int) -> None:
    for r in range(lo, x.shape[0] if hi < 0 else hi):
        xr, yr = x[r], out[r]
        m = row_max(xr)
        if math.isfinite(m):
            inv = like(xr, 1.0 / exp_shifted(xr, m, yr))
            for j in range(xr.shape[0]):
                yr[j] *= inv
        else:
            total = 0.0
            for j in range(xr.shape[0]):
                yr[j] = math.exp(xr[j] - m)
                total += yr[j]
            for j in range(xr.shape[0]):
                yr[j] /= total


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def _softmax_rows(x: np.ndarray, out: np.ndarray) -> None:
    for r in prange(x.shape[0]):
        _softmax_rows_part(x, out, r, r + 1)


@njit(cache=True, fastmath=FASTMATH)
def _log_softmax_rows_part(x: np.ndarray, out: np.ndarray, lo: int, hi: int) -> None:
    for r in range(lo, x.shape[0] if hi < 0 else hi):
        xr, yr = x[r], out[r]
        m = row_max(xr)
        if math.isfinite(m):
            shift = like(xr, m + math.log(exp_shifted(xr, m, yr)))  # yr is scratch until overwritten below
        else:
            total = 0.0
            for j in range(xr.shape[0]):
                total += math.exp(xr[j] - m)
            shift = like(xr, m + math.log(total))
        for j in range(xr.shape[0]):
            yr[j] = xr[j] - shift


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def _log_softmax_rows(x: np.ndarray, out: np.ndarray) -> None:
    for r in prange(x.shape[0]):
        _log_softmax_rows_part(x, out, r, r + 1)


@njit(cache=True, fastmath=FASTMATH)
def _softmax_backward_rows_part(y: np.ndarray, gy: np.ndarray, out: np.ndarray, lo: int, hi: int) -> None:
    for r in range(lo, y.shape[0] if hi < 0 else hi):
        yr, gr, orow = y[r], gy[r], out[r]
        dot = 0.0
        for j in range(yr.shape[0]):
            dot += gr[j] * yr[j]
        d = like(yr, dot)
        for j in range(yr.shape[0]):
            orow[j] = yr[j] * (gr[j] - d)


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def _softmax_backward_rows(y: np.ndarray, gy: np.ndarray, out: np.ndarray) -> None:
    for r in prange(y.shape[0]):
        _softmax_backward_rows_part(y, gy, out, r, r + 1)


@njit(cache=True, fastmath=FASTMATH)
def _log_softmax_backward_rows_part(y: np.ndarray, gy: np.ndarray, out: np.ndarray, lo: int, hi: int) -> None:
    for r in range(lo, y.shape[0] if hi < 0 else hi):
        yr, gr, orow = y[r], gy[r], out[r]
        total = 0.0
        for j in range(yr.shape[0]):
            total += gr[j]
        t = like(yr, total)
        for j in range(yr.shape[0]):
            orow[j] = gr[j] - math.exp(yr[j]) * t


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def _log_softmax_backward_rows(y: np.ndarray, gy: np.ndarray, out: np.ndarray) -> None:
    for r in prange(y.shape[0]):
        _log_softmax_backward_rows_part(y, gy, out, r, r + 1)


def _rows(a: np.ndarray, name: str) -> np.ndarray:
    if a.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (rows, n) array, got shape {a.shape}")
    return np.ascontiguousarray(a)


def softmax_forward(x2d: np.ndarray) -> np.ndarray:
    """Softmax over the last axis of a 2-D array (``nn.softmax_forward``).

    Examples:
        >>> softmax_forward(np.zeros((1, 4))).tolist()
        [[0.25, 0.25, 0.25, 0.25]]
    """
    x = _rows(x2d, "x2d")
    out = np.empty_like(x)
    if x.size:
        run(x.size, _softmax_rows, _softmax_rows_part, x, out)
    return out


def softmax_backward(y2d: np.ndarray, gy2d: np.ndarray) -> np.ndarray:
    """``y ⊙ (gy - Σ gy ⊙ y)`` row by row (``nn.softmax_backward``)."""
    y, gy = _rows(y2d, "y2d"), _rows(gy2d, "gy2d").astype(y2d.dtype, copy=False)
    out = np.empty_like(y)
    if y.size:
        run(y.size, _softmax_backward_rows, _softmax_backward_rows_part, y, gy, out)
    return out


def log_softmax_forward(x2d: np.ndarray) -> np.ndarray:
    """Log-softmax over the last axis of a 2-D array (``nn.log_softmax_forward``).

    Examples:
        >>> np.round(np.exp(log_softmax_forward(np.zeros((1, 2)))), 6).tolist()
        [[0.5, 0.5]]
    """
    x = _rows(x2d, "x2d")
    out = np.empty_like(x)
    if x.size:
        run(x.size, _log_softmax_rows, _log_softmax_rows_part, x, out)
    return out


def log_softmax_backward(y2d: np.ndarray, gy2d: np.ndarray) -> np.ndarray:
    """``gy - exp(y) Σ gy`` row by row (``nn.log_softmax_backward``)."""
    y, gy = _rows(y2d, "y2d"), _rows(gy2d, "gy2d").astype(y2d.dtype, copy=False)
    out = np.empty_like(y)
    if y.size:
        run(y.size, _log_softmax_backward_rows, _log_softmax_backward_rows_part, y, gy, out)
    return out


KERNELS: dict[tuple[str, str], Callable[..., object]] = {
    ("nn.softmax_forward", "cpu"): softmax_forward,
    ("nn.softmax_backward", "cpu"): softmax_backward,
    ("nn.log_softmax_forward", "cpu"): log_softmax_forward,
    ("nn.log_softmax_backward", "cpu"): log_softmax_backward,
}
