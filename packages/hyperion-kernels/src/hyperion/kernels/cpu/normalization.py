"""LayerNorm and RMSNorm, forward and backward (Numba, parallel over rows).

Row statistics use Welford's update in its *blocked* form (Chan et al.): the
row is cut into blocks of ``_BLOCK`` elements; each block's mean and sum of
squared deviations are computed exactly in two passes over the block (which
is in L1, and whose loops vectorise), and blocks are merged with::

    δ = mean_b - mean_a;  n = n_a + n_b
    mean = mean_a + δ·n_b/n;  M2 = M2_a + M2_b + δ²·n_a·n_b/n

That keeps Welford's robustness (no ``E[x²] - E[x]²`` cancellation for rows
with a large mean) without a division per element. Statistics accumulate in
float64 for float32 rows too.

Backward, with ``x̂ = (x - μ)·rstd`` and ``ĝ = gy ⊙ w``::

    gx = rstd · (ĝ - mean(ĝ) - x̂ · mean(ĝ ⊙ x̂))       (LayerNorm)
    gx = rstd · (ĝ - x̂ · mean(ĝ ⊙ x̂))                  (RMSNorm, x̂ = x·rstd)
    gw = Σ_rows gy ⊙ x̂,   gb = Σ_rows gy

The column sums ``gw``/``gb`` are reduced without races: rows are split in
chunks, each chunk sums into its own float64 row of a partial table, and the
partial rows are added at the end.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numba import njit, prange

from hyperion.kernels.cpu._rowmath import FASTMATH, run

__all__ = ["KERNELS", "layer_norm_backward", "layer_norm_forward", "rms_norm_backward", "rms_norm_forward"]

_BLOCK = 256
_CHUNKS = 64  # row chunks for the column sums: enough to balance the threads, few partial rows


@njit(cache=True, fastmath=FASTMATH)
def _welford_row(xr: np.ndarray) -> tuple[float, float]:
    """``(mean, M2)`` of one row by blocked Welford (float64)."""
    n = xr.shape[0]
    mean = 0.0
    m2 = 0.0
    count = 0
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        nb = stop - start
        total = 0.0
        for j in range(start, stop):
            total += xr[j]
        bmean = total / nb
        bm2 = 0.0
        for j in range(start, stop):
            d = xr[j] - bmean
            bm2 += d * d
        new_count = count + nb
        delta = bmean - mean
        mean += delta * nb / new_count
        m2 += bm2 + delta * delta * count * nb / new_count
        count = new_count
    return mean, m2


@njit(cache=True, fastmath=FASTMATH)
def _layer_norm_rows_part(x, w, b, eps, out, mean, rstd, lo, hi):
    n = x.shape[1]
    for r in range(lo, x.shape[0] if hi < 0 else hi):
        xr, yr = x[r], out[r]
        mu, m2 = _welford_row(xr)
        rs = 1.0 / math.sqrt(m2 / n + eps)
        mean[r] = mu
        rstd[r] = rs
        for j in range(n):
            yr[j] = (xr[j] - mu) * rs * w[j] + b[j]


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def _layer_norm_rows(x, w, b, eps, out, mean, rstd):
    for r in prange(x.shape[0]):
        _layer_norm_rows_part(x, w, b, eps, out, mean, rstd, r, r + 1)


@njit(cache=True, fastmath=FASTMATH)
def _layer_norm_backward_rows_part(gy, x, mean, rstd, w, gx, partial_w, partial_b, lo, hi):
    rows, n = x.shape
    chunk = (rows + partial_w.shape[0] - 1) // partial_w.shape[0]
    for c in range(lo, partial_w.shape[0] if hi < 0 else hi):
        pw, pb = partial_w[c], partial_b[c]
        for r in range(c * chunk, min(rows, (c + 1) * chunk)):
            xr, gr, gxr = x[r], gy[r], gx[r]
            mu, rs = mean[r], rstd[r]
            sum_g = 0.0
            sum_gx = 0.0
            for j in range(n):
                xhat = (xr[j] - mu) * rs
                g = gr[j] * w[j]
                sum_g += g
                sum_gx += g * xhat
                pw[j] += gr[j] * xhat
                pb[j] += gr[j]
            mean_g = sum_g / n
            mean_gx = sum_gx / n
            for j in range(n):
                xhat = (xr[j] - mu) * rs
                gxr[j] = rs * (gr[j] * w[j] - mean_g - xhat * mean_gx)


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def _layer_norm_backward_rows(gy, x, mean, rstd, w, gx, partial_w, partial_b):
    for c in prange(partial_w.shape[0]):
        _layer_norm_backward_rows_part(gy, x, mean, rstd, w, gx, partial_w, partial_b, c, c + 1)


@njit(cache=True, fastmath=FASTMATH)
def _rms_norm_rows_part(x, w, eps, out, rstd, lo, hi):
    n = x.shape[1]
    for r in range(lo, x.shape[0] if hi < 0 else hi):
        xr, yr = x[r], out[r]
        total = 0.0
        for j in range(n):
            total += xr[j] * xr[j]
        rs = 1.0 / math.sqrt(total / n + eps)
        rstd[r] = rs
        for j in range(n):
            yr[j] = xr[j] * rs * w[j]


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def _rms_norm_rows(x, w, eps, out, rstd):
    for r in prange(x.shape[0]):
        _rms_norm_rows_part(x, w, eps, out, rstd, r, r + 1)


@njit(cache=True, fastmath=FASTMATH)
def _rms_norm_backward_rows_part(gy, x, rstd, w, gx, partial_w, lo, hi):
    rows, n = x.shape
    chunk = (rows + partial_w.shape[0] - 1) // partial_w.shape[0]
    for c in range(lo, partial_w.shape[0] if hi < 0 else hi):
        pw = partial_w[c]
        for r in range(c * chunk, min(rows, (c + 1) * chunk)):
            xr, gr, gxr = x[r], gy[r], gx[r]
            rs = rstd[r]
            sum_gx = 0.0
            for j in range(n):
                xhat = xr[j] * rs
                sum_gx += gr[j] * w[j] * xhat
                pw[j] += gr[j] * xhat
            mean_gx = sum_gx / n
            for j in range(n):
                gxr[j] = rs * (gr[j] * w[j] - xr[j] * rs * mean_gx)


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def _rms_norm_backward_rows(gy, x, rstd, w, gx, partial_w):
    for c in prange(partial_w.shape[0]):
        _rms_norm_backward_rows_part(gy, x, rstd, w, gx, partial_w, c, c + 1)


def _check_rows(x2d: np.ndarray, op: str) -> np.ndarray:
    if x2d.ndim != 2:
        raise ValueError(f"{op}: x2d must be a 2-D (rows, n) array, got shape {x2d.shape}")
    return np.ascontiguousarray(x2d)


def _param(p: np.ndarray | None, n: int, fill: float, dtype: np.dtype, name: str, op: str) -> np.ndarray:
    if p is None:
        return np.full(n, fill, dtype=dtype)
    p = np.ascontiguousarray(p, dtype=dtype).reshape(-1)
    if p.shape != (n,):
        raise ValueError(f"{op}: {name} must have {n} elements (one per normalised feature), got shape {p.shape}")
    return p


def _chunks(rows: int) -> int:
    return max(1, min(rows, _CHUNKS))


def layer_norm_forward(
    x2d: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """LayerNorm over the last axis (``nn.layer_norm_forward``): ``(y, mean, rstd)``.

    ``mean`` and ``rstd`` are float64 whatever the input dtype: rounding the mean of a row far
    from zero to float32 would cost the backward pass several digits (it gets them back).

    Examples:
        >>> y, mean, rstd = layer_norm_forward(np.array([[1.0, 3.0]]), None, None, 0.0)
        >>> y.tolist(), mean.tolist(), rstd.tolist()
        ([[-1.0, 1.0]], [2.0], [1.0])
    """
    x = _check_rows(x2d, "layer_norm_forward")
    rows, n = x.shape
    w = _param(weight, n, 1.0, x.dtype, "weight", "layer_norm_forward")
    b = _param(bias, n, 0.0, x.dtype, "bias", "layer_norm_forward")
    out = np.empty_like(x)
    mean = np.empty(rows, np.float64)
    rstd = np.empty(rows, np.float64)
    if x.size:
        run(x.size, _layer_norm_rows, _layer_norm_rows_part, x, w, b, float(eps), out, mean, rstd)
    return out, mean, rstd


def layer_norm_backward(
    gy2d: np.ndarray, x2d: np.ndarray, mean: np.ndarray, rstd: np.ndarray, weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """LayerNorm backward (``nn.layer_norm_backward``): ``(gx, gweight, gbias)``; the last two ``None`` without weight."""
    x = _check_rows(x2d, "layer_norm_backward")
    gy = _check_rows(gy2d, "layer_norm_backward").astype(x.dtype, copy=False)
    rows, n = x.shape
    w = _param(weight, n, 1.0, x.dtype, "weight", "layer_norm_backward")
    gx = np.empty_like(x)
    partial_w = np.zeros((_chunks(rows), n), np.float64)
    partial_b = np.zeros((_chunks(rows), n), np.float64)
    if x.size:
        mean64 = np.ascontiguousarray(mean, dtype=np.float64).reshape(-1)
        rstd64 = np.ascontiguousarray(rstd, dtype=np.float64).reshape(-1)
        run(
            x.size,
            _layer_norm_backward_rows,
            _layer_norm_backward_rows_part,
            gy,
            x,
            mean64,
            rstd64,
            w,
            gx,
            partial_w,
            partial_b,
        )
    if weight is None:
        return gx, None, None
    return gx, partial_w.sum(0).astype(x.dtype), partial_b.sum(0).astype(x.dtype)


def rms_norm_forward(x2d: np.ndarray, weight: np.ndarray | None, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """RMSNorm over the last axis (``nn.rms_norm_forward``): ``(y, rstd)``, ``rstd = 1/sqrt(mean(x²) + eps)``.

    ``rstd`` is float64 (as LayerNorm's statistics).

    Examples:
        >>> y, rstd = rms_norm_forward(np.array([[3.0, 4.0]]), None, 0.0)
        >>> np.round(y * np.sqrt(12.5), 6).tolist()
        [[3.0, 4.0]]
    """
    x = _check_rows(x2d, "rms_norm_forward")
    rows, n = x.shape
    w = _param(weight, n, 1.0, x.dtype, "weight", "rms_norm_forward")
    out = np.empty_like(x)
    rstd = np.empty(rows, np.float64)
    if x.size:
        run(x.size, _rms_norm_rows, _rms_norm_rows_part, x, w, float(eps), out, rstd)
    return out, rstd


def rms_norm_backward(
    gy2d: np.ndarray, x2d: np.ndarray, rstd: np.ndarray, weight: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """RMSNorm backward (``nn.rms_norm_backward``): ``(gx, gweight)``, ``gweight`` ``None`` without weight."""
    x = _check_rows(x2d, "rms_norm_backward")
    gy = _check_rows(gy2d, "rms_norm_backward").astype(x.dtype, copy=False)
    rows, n = x.shape
    w = _param(weight, n, 1.0, x.dtype, "weight", "rms_norm_backward")
    gx = np.empty_like(x)
    partial_w = np.zeros((_chunks(rows), n), np.float64)
    if x.size:
        run(
            x.size,
            _rms_norm_backward_rows,
            _rms_norm_backward_rows_part,
            gy,
            x,
            np.ascontiguousarray(rstd, dtype=np.float64).reshape(-1),
            w,
            gx,
            partial_w,
        )
    return gx, (None if weight is None else partial_w.sum(0).astype(x.dtype))


KERNELS: dict[tuple[str, str], Callable[..., object]] = {
    ("nn.layer_norm_forward", "cpu"): layer_norm_forward,
    ("nn.layer_norm_backward", "cpu"): layer_norm_backward,
    ("nn.rms_norm_forward", "cpu"): rms_norm_forward,
    ("nn.rms_norm_backward", "cpu"): rms_norm_backward,
}
