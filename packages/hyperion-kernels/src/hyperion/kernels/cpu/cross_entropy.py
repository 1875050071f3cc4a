"""Fused cross-entropy (log-softmax + negative log-likelihood), forward and backward (Numba).

Forward, per row: ``lse = m + log Σ exp(x - m)`` and ``loss = lse - x[target]``
(0 for ``ignore_index`` rows) — the probabilities are never stored, only
``lse`` (one number per row) is kept for backward. Backward recomputes them
in the output row: ``g = grow · (exp(x - lse) - onehot(target))``. The
composed version materialises the log-probabilities, then gathers, then in
backward builds a one-hot scatter and the softmax again.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numba import njit, prange

from hyperion.kernels.cpu._rowmath import FASTMATH, exp_shifted, like, row_max, run

__all__ = ["KERNELS", "cross_entropy_backward", "cross_entropy_forward"]


@njit(cache=True, fastmath=FASTMATH)
def _forward_rows_part(x, target, ignore_index, loss, lse, lo, hi):
    n = x.shape[1]
    for r in range(lo, x.shape[0] if hi < 0 else hi):
        xr = x[r]
        m = row_max(xr)
        if math.isfinite(m):
            scratch = np.empty(n, x.dtype)
            total = exp_shifted(xr, m, scratch)
        else:
            total = 0.0
            for j in range(n):
                total += math.exp(xr[j] - m)
        s = m + math.log(total)
        lse[r] = s
        t = target[r]
        loss[r] = 0.0 if t == ignore_index else s - xr[t]


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def _forward_rows(x, target, ignore_index, loss, lse):
    for r in prange(x.shape[0]):
        _forward_rows_part(x, target, ignore_index, loss, lse, r, r + 1)


@njit(cache=True, fastmath=FASTMATH)
def _backward_rows_part(x, target, lse, grow, ignore_index, gx, lo, hi):
    n = x.shape[1]
    for r in range(lo, x.shape[0] if hi < 0 else hi):
        xr, gr = x[r], gx[r]
        t = target[r]
        if t == ignore_index:
            for j in range(n):
                gr[j] = 0
            continue
        g = like(xr, grow[r])
        if math.isfinite(lse[r]):
            exp_shifted(xr, like(xr, lse[r]), gr)
        else:
            for j in range(n):
                gr[j] = math.exp(xr[j] - lse[r])
        for j in range(n):
            gr[j] *= g
        gr[t] -= g


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def _backward_rows(x, target, lse, grow, ignore_index, gx):
    for r in prange(x.shape[0]):
        _backward_rows_part(x, target, lse, grow, ignore_index, gx, r, r + 1)


def _check(logits2d: np.ndarray, target: np.ndarray, op: str) -> tuple[np.ndarray, np.ndarray]:
    if logits2d.ndim != 2:
        raise ValueError(f"{op}: logits2d must be 2-D (N, C), got shape {logits2d.shape}")
    t = np.ascontiguousarray(target, dtype=np.int64).reshape(-1)
    if t.shape[0] != logits2d.shape[0]:
        raise ValueError(f"{op}: target has {t.shape[0]} entries for {logits2d.shape[0]} rows of logits")
    return np.ascontiguousarray(logits2d), t


def _check_targets(t: np.ndarray, classes: int, ignore_index: int, op: str) -> None:
    bad = (t != ignore_index) & ((t < 0) | (t >= classes))
    if bad.any():
        raise IndexError(f"{op}: target {int(t[bad][0])} is out of bounds for {classes} classes")


def cross_entropy_forward(logits2d: np.ndarray, target: np.ndarray, ignore_index: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-row NLL of log-softmax and the row log-sum-exp (``nn.cross_entropy_forward``).

    Examples:
        >>> loss, lse = cross_entropy_forward(np.zeros((1, 4)), np.array([2]), -100)
        >>> round(float(loss[0]), 6) == round(float(np.log(4)), 6)
        True
    """
    x, t = _check(logits2d, target, "cross_entropy_forward")
    _check_targets(t, x.shape[1], ignore_index, "cross_entropy_forward")
    loss = np.empty(x.shape[0], np.float64)
    lse = np.empty(x.shape[0], np.float64)
    if x.size:
        run(x.size, _forward_rows, _forward_rows_part, x, t, int(ignore_index), loss, lse)
    else:
        loss[:] = 0.0
        lse[:] = -np.inf
    return loss.astype(x.dtype), lse.astype(x.dtype)


def cross_entropy_backward(
    logits2d: np.ndarray, target: np.ndarray, lse: np.ndarray, grow: np.ndarray, ignore_index: int
) -> np.ndarray:
    """``grow[:, None] · (softmax - onehot)``, 0 on ignored rows (``nn.cross_entropy_backward``)."""
    x, t = _check(logits2d, target, "cross_entropy_backward")
    _check_targets(t, x.shape[1], ignore_index, "cross_entropy_backward")
    gx = np.empty_like(x)
    if x.size:
        run(x.size, _backward_rows, _backward_rows_part,
            x, t, np.ascontiguousarray(lse, dtype=np.float64).reshape(-1),
            np.ascontiguousarray(grow, dtype=np.float64).reshape(-1), int(ignore_index), gx,
        )  # fmt: skip
    return gx


KERNELS: dict[tuple[str, str], Callable[..., object]] = {
    ("nn.cross_entropy_forward", "cpu"): cross_entropy_forward,
    ("nn.cross_entropy_backward", "cpu"): cross_entropy_backward,
}
