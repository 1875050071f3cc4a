"""Attention for short sequences: the score matrix in one piece, a few batched BLAS calls.

The flash kernels (:mod:`hyperion.kernels.cpu.attention`) exist to avoid holding the
``L × S`` scores. For short sequences that matrix is small (a GPT with a 64-token context
has 4,096 scores per head, 16 KiB in float32) and tiling only adds per-tile work: measured
on a training step of such a GPT, the flash kernels took 2-3x as long as the same attention
done with whole-matrix batched matmuls. :func:`attention_forward` and
:func:`attention_backward` here are what the ``cpu`` provider registers: they keep the
whole-matrix form while the scores of one batch entry fit in ``DENSE_MAX_SCORES`` and hand
anything longer to the flash kernels, so extra memory stays O(N·d) where it matters. Both
forms follow the same conventions (a fully masked query row outputs 0, ``lse = -inf``, zero
gradients; ``lse`` is float64).

Inputs holding a NaN or an infinity go to the reference implementation registered for the op
(the composed one of hyperion-nn) instead: the online softmax's running maximum and the
polynomial exponential's clamp would turn a NaN score into a weight of 0, where the composed
softmax propagates it. One pass over ``q``, ``k``, ``v`` (and ``go``) decides, O(N·d) next to
the O(N²·d) of the attention itself.
"""

from __future__ import annotations

import functools

import numpy as np
from numba import njit

from hyperion.kernels.cpu import attention as flash
from hyperion.kernels.cpu._rowmath import FASTMATH
from hyperion.kernels.fallback import registered_reference

__all__ = ["DENSE_MAX_SCORES", "attention_backward", "attention_forward", "dense_backward", "dense_forward"]

DENSE_MAX_SCORES = 128 * 128
"""Largest ``L · S`` computed as one matrix: 64 KiB of float32 scores per batch entry."""


@functools.lru_cache(maxsize=32)
def _causal_bias(length: int, source: int, dtype: np.dtype) -> np.ndarray:
    """``0`` where key ``j <= i`` may be attended, ``-inf`` above the diagonal (read-only, cached)."""
    bias = np.triu(np.full((length, source), -np.inf, dtype=dtype), 1)
    bias.flags.writeable = False
    return bias


def _scores(q: np.ndarray, k: np.ndarray, mask: np.ndarray | None, is_causal: bool, scale: float) -> np.ndarray:
    scores = np.matmul(q, k.transpose(0, 2, 1))
    scores *= scores.dtype.type(scale)
    if is_causal:
        # Adding a broadcast 0/-inf bias is one pass; boolean-index assignment was several.
        scores += _causal_bias(scores.shape[1], scores.shape[2], scores.dtype)
    if mask is not None:
        scores[~np.broadcast_to(mask, scores.shape)] = -np.inf
    return scores


def dense_forward(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None, is_causal: bool, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """``(o, lse)`` computed with the whole score matrix (same contract as the flash forward)."""
    q, k, v, _, has_mask = flash._prepare(q, k, v, mask)
    scores = _scores(q, k, mask if has_mask else None, is_causal, scale)
    m = scores.max(axis=-1, keepdims=True)
    m[~np.isfinite(m)] = 0.0  # fully masked rows: every exp below is 0
    scores -= m
    p = np.exp(scores, out=scores)
    total = p.sum(axis=-1, keepdims=True, dtype=np.float64)
    o = np.matmul(p, v)
    o /= np.where(total > 0.0, total, 1.0).astype(o.dtype)
    with np.errstate(divide="ignore"):
        lse = (m[..., 0] + np.log(total[..., 0])).astype(np.float64)
    return o, lse


def dense_backward(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    mask: np.ndarray | None,
    is_causal: bool,
    scale: float,
    o: np.ndarray,
    lse: np.ndarray,
    go: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(gq, gk, gv)`` from the saved ``o`` and ``lse``, with the whole weight matrix recomputed."""
    q, k, v, _, has_mask = flash._prepare(q, k, v, mask)
    go = np.ascontiguousarray(go, dtype=q.dtype)
    scores = _scores(q, k, mask if has_mask else None, is_causal, scale)
    shift = np.where(np.isfinite(lse), lse, np.inf).astype(q.dtype)[..., None]  # exp(s - inf) = 0
    scores -= shift
    p = np.exp(scores, out=scores)
    gv = np.matmul(p.transpose(0, 2, 1), go)
    gs = np.matmul(go, v.transpose(0, 2, 1))
    gs -= np.einsum("bld,bld->bl", go, np.asarray(o, dtype=q.dtype))[..., None]
    gs *= p
    gs *= gs.dtype.type(scale)
    return np.matmul(gs, k), np.matmul(gs.transpose(0, 2, 1), q), gv


def _dense(q: np.ndarray, k: np.ndarray) -> bool:
    return getattr(q, "ndim", 0) == 3 and getattr(k, "ndim", 0) == 3 and q.shape[1] * k.shape[1] <= DENSE_MAX_SCORES


@njit(cache=True, fastmath=FASTMATH)
def _all_finite(a: np.ndarray) -> bool:
    total = 0.0
    for x in a:
        total += x * 0.0  # 0 for a finite x, NaN for NaN or ±inf; a NaN sticks
    return total == 0.0


def _finite(*arrays: np.ndarray) -> bool:
    """Whether every element of the (float) arrays is finite, without temporaries."""
    return all(_all_finite(np.ravel(a)) for a in arrays if isinstance(a, np.ndarray) and a.size)


def attention_forward(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None, is_causal: bool, scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """The registered ``nn.attention_forward``: whole-matrix for short sequences, flash otherwise.

    Non-finite inputs are handed to the registered reference, which propagates them.
    """
    if not _finite(q, k, v) and (reference := registered_reference("nn.attention_forward", "cpu")) is not None:
        return reference(q, k, v, mask, is_causal, scale)
    if _dense(q, k):
        return dense_forward(q, k, v, mask, is_causal, scale)
    return flash.attention_forward(q, k, v, mask, is_causal, scale)


def attention_backward(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    mask: np.ndarray | None,
    is_causal: bool,
    scale: float,
    o: np.ndarray,
    lse: np.ndarray,
    go: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The registered ``nn.attention_backward``: whole-matrix for short sequences, flash otherwise.

    Non-finite inputs are handed to the registered reference, as in the forward.
    """
    if not _finite(q, k, v, go) and (reference := registered_reference("nn.attention_backward", "cpu")) is not None:
        return reference(q, k, v, mask, is_causal, scale, o, lse, go)
    if _dense(q, k):
        return dense_backward(q, k, v, mask, is_causal, scale, o, lse, go)
    return flash.attention_backward(q, k, v, mask, is_causal, scale, o, lse, go)


KERNELS = (
    {("nn.attention_forward", "cpu"): attention_forward, ("nn.attention_backward", "cpu"): attention_backward}
    if flash.KERNELS
    else {}
)
"""The registry entries: the size-dispatching pair (none where the flash kernels are unavailable)."""
