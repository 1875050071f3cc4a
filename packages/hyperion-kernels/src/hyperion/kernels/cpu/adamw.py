"""A fused AdamW step (Numba): one pass over the parameter and its moments, in place.

The composed update (``adamw_step_reference`` in hyperion-nn) makes about a dozen
passes over the parameter-sized arrays, each a separate NumPy call with its own
temporaries. Here every element is updated once, with **the same operations in
the same order and the same precision** (scalars are rounded to the arrays' dtype
first, as NumPy does with Python floats), so float64 results agree bit for bit and
float32 ones to rounding. No fused multiply-adds (``fastmath`` is off): contracting
``a·b + c`` would round differently from the reference.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numba import njit, prange

from hyperion.kernels.cpu._rowmath import run

__all__ = ["KERNELS", "adamw_step"]

_BLOCK = 16384


@njit(cache=True)
def _adamw_part(p, g, m, v, vmax, decay, weight, small_weight, one_minus_weight, one_minus_beta2, beta2,
                bias_correction2_sqrt, eps, neg_step_size, amsgrad, maximize, use_decay, lo, hi):  # fmt: skip
    for i in range(lo, p.shape[0] if hi < 0 else hi):
        gi = -g[i] if maximize else g[i]
        pi = p[i] * decay if use_decay else p[i]
        tmp = gi - m[i]
        if small_weight:
            mi = m[i] + tmp * weight
        else:
            mi = gi - tmp * one_minus_weight
        m[i] = mi
        vi = v[i] * beta2 + (gi * one_minus_beta2) * gi
        v[i] = vi
        if amsgrad:
            vi = max(vmax[i], vi)
            vmax[i] = vi
        denom = np.sqrt(vi) / bias_correction2_sqrt + eps
        p[i] = pi + (mi * neg_step_size) / denom


@njit(cache=True, parallel=True)
def _adamw(p, g, m, v, vmax, decay, weight, small_weight, one_minus_weight, one_minus_beta2, beta2,
           bias_correction2_sqrt, eps, neg_step_size, amsgrad, maximize, use_decay):  # fmt: skip
    n = p.shape[0]
    for blk in prange((n + _BLOCK - 1) // _BLOCK):
        _adamw_part(p, g, m, v, vmax, decay, weight, small_weight, one_minus_weight, one_minus_beta2, beta2,
                    bias_correction2_sqrt, eps, neg_step_size, amsgrad, maximize, use_decay,
                    blk * _BLOCK, min(n, (blk + 1) * _BLOCK))  # fmt: skip


def adamw_step(
    param: np.ndarray,
    grad: np.ndarray,
    exp_avg: np.ndarray,
    exp_avg_sq: np.ndarray,
    max_exp_avg_sq: np.ndarray | None,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    amsgrad: bool,
    maximize: bool,
) -> None:
    """One AdamW update of one parameter, in place (``nn.adamw_step``; signature as hyperion-nn's reference).

    Arrays that are not C-contiguous (or not of the parameter's dtype) fall
    back to a contiguous copy that is written back, so the update is always in place.

    Examples:
        >>> p = np.array([1.0, -1.0]); m = np.zeros(2); v = np.zeros(2)
        >>> adamw_step(p, 2 * p, m, v, None, 1, 0.1, 0.9, 0.999, 1e-8, 0.0, False, False)
        >>> np.round(p, 6).tolist()
        [0.9, -0.9]
    """
    dtype = param.dtype.type
    arrays = [param, exp_avg, exp_avg_sq] + ([max_exp_avg_sq] if amsgrad else [])
    work = [a if a.flags.c_contiguous else np.ascontiguousarray(a) for a in arrays]
    p, m, v = (a.reshape(-1) for a in work[:3])
    vmax = work[3].reshape(-1) if amsgrad else v
    g = np.ascontiguousarray(grad, dtype=param.dtype).reshape(-1)
    weight = 1.0 - beta1
    run(
        p.size, _adamw, _adamw_part, p, g, m, v, vmax,
        dtype(1.0 - lr * weight_decay), dtype(weight), abs(weight) < 0.5, dtype(1.0 - weight),
        dtype(1.0 - beta2), dtype(beta2), dtype((1.0 - beta2**step) ** 0.5), dtype(eps),
        dtype(-(lr / (1.0 - beta1**step))), bool(amsgrad), bool(maximize), weight_decay != 0,
    )  # fmt: skip
    for original, copy in zip(arrays, work, strict=True):
        if copy is not original:
            original[...] = copy


KERNELS: dict[tuple[str, str], Callable[..., Any]] = {("nn.adamw_step", "cpu"): adamw_step}
