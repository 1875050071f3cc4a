"""``scaled_dot_product_attention``: ``softmax(q kᵀ · scale + mask) v``, with fused kernels from the registry.

Without dropout and with no mask or a boolean one, attention is one
``Function`` whose forward and backward run the array-level kernels
``nn.attention_forward``/``nn.attention_backward`` from the registry on
``(B, L, E)`` arrays (leading dims flattened into ``B``, the boolean mask
broadcast to ``(B, L, S)``). The references registered here materialise the
``L×S`` scores; a provider may supply a FlashAttention-style kernel that does
not. The forward also returns the log-sum-exp of each query row's masked,
scaled scores, from which the backward recomputes the attention weights.

A query row with every key masked outputs **0** (and gets zero gradients)
where PyTorch returns NaN. Additive float masks and dropout use the composed
path (matmul, :func:`softmax`, dropout); so does a backward that is itself
differentiated (``create_graph=True``).

Examples:
    >>> import hyperion.autograd as ag
    >>> from hyperion.nn import functional as F
    >>> q = k = v = ag.ones(1, 2, 4)
    >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
    (1, 2, 4)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hyperion.autograd import Function, Tensor, is_grad_enabled
from hyperion.autograd.function import RawTensor
from hyperion.nn.functional._common import arr, as_input, constant, raw_from, xp_of
from hyperion.nn.functional.dropout import dropout
from hyperion.nn.functional.softmax import kernel_for, softmax, xp_of_array
from hyperion.tensor import ShapeError, layout, registry

__all__ = ["scaled_dot_product_attention"]


def _masked_scores(q: Any, k: Any, mask: Any, is_causal: bool, scale: float) -> Any:
    xp = xp_of_array(q)
    scores = xp.matmul(q, k.transpose(0, 2, 1)) * scale
    if is_causal:
        scores = xp.where(xp.tril(xp.ones(scores.shape[1:], dtype=bool)), scores, -math.inf)
    if mask is not None:
        scores = xp.where(mask, scores, -math.inf)
    return scores.astype(q.dtype, copy=False)


def attention_forward_reference(q: Any, k: Any, v: Any, mask: Any, is_causal: bool, scale: float) -> tuple[Any, Any]:
    """Reference ``nn.attention_forward`` (materialises the scores): ``(o (B, L, Ev), lse (B, L))``.

    A fully masked query row gets ``o = 0`` and ``lse = -inf``.
    """
    xp = xp_of_array(q)
    scores = _masked_scores(q, k, mask, is_causal, scale)
    m = scores.max(axis=-1, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0.0).astype(scores.dtype, copy=False)
    p = xp.exp(scores - m)
    total = p.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore"):
        lse = (m + xp.log(total))[..., 0]
    o = xp.matmul(p, v) / xp.where(total > 0, total, 1.0).astype(p.dtype, copy=False)
    return o.astype(q.dtype, copy=False), lse.astype(q.dtype, copy=False)


def attention_backward_reference(
    q: Any, k: Any, v: Any, mask: Any, is_causal: bool, scale: float, o: Any, lse: Any, go: Any
) -> tuple[Any, Any, Any]:
    """Reference ``nn.attention_backward``: ``(gq, gk, gv)``, recomputing the weights from ``lse``."""
    xp = xp_of_array(q)
    scores = _masked_scores(q, k, mask, is_causal, scale)
    finite = xp.isfinite(lse)[..., None]
    p = xp.where(finite, xp.exp(scores - xp.where(finite, lse[..., None], 0.0)), 0.0).astype(q.dtype, copy=False)
    gv = xp.matmul(p.transpose(0, 2, 1), go)
    gp = xp.matmul(go, v.transpose(0, 2, 1))
    delta = (go * o).sum(axis=-1, keepdims=True)
    gs = p * (gp - delta) * scale
    return xp.matmul(gs, k), xp.matmul(gs.transpose(0, 2, 1), q), gv


registry.register_reference("nn.attention_forward", attention_forward_reference)
registry.register_reference("nn.attention_backward", attention_backward_reference)


class Attention(Function):
    """Attention on ``(B, L, E)``/``(B, S, E)``/``(B, S, Ev)``: kernels ``nn.attention_forward``/``_backward``."""

    @staticmethod
    def forward(
        ctx: Any, q: RawTensor, k: RawTensor, v: RawTensor, mask: Any, is_causal: bool, scale: float
    ) -> RawTensor:
        xp = xp_of(q)
        qa, ka, va = (xp.ascontiguousarray(arr(t)) for t in (q, k, v))
        impl = kernel_for("nn.attention_forward", q.device, qa.dtype, attention_forward_reference)
        o, lse = impl(qa, ka, va, mask, is_causal, scale)
        ctx.mask, ctx.is_causal, ctx.scale, ctx.lse = mask, is_causal, scale, lse
        out = raw_from(o)
        ctx.save_for_backward(q, k, v, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        q, k, v, o = ctx.saved_tensors
        if is_grad_enabled():
            return (*_differentiable_backward(q, k, v, ctx.mask, ctx.is_causal, ctx.scale, grad_out), None, None, None)
        xp = xp_of(q)
        qa, ka, va, oa = (xp.ascontiguousarray(arr(t.data)) for t in (q, k, v, o))
        go = xp.ascontiguousarray(arr(grad_out.data)).astype(qa.dtype, copy=False)
        impl = kernel_for("nn.attention_backward", q.device, qa.dtype, attention_backward_reference)
        gq, gk, gv = impl(qa, ka, va, ctx.mask, ctx.is_causal, ctx.scale, oa, ctx.lse, go)
        return constant(gq), constant(gk), constant(gv), None, None, None


def _differentiable_backward(
    q: Tensor, k: Tensor, v: Tensor, mask: Any, is_causal: bool, scale: float, go: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """The attention gradients from autograd ops (composed softmax), for ``create_graph=True``."""
    xp = xp_of(q)
    scores = q.matmul(k.transpose(1, 2)) * scale
    allowed = xp.ones(tuple(scores.shape), dtype=bool)
    if is_causal:
        allowed &= xp.tril(xp.ones(tuple(scores.shape[1:]), dtype=bool))
    if mask is not None:
        allowed &= mask
    scores = scores + constant(xp.where(allowed, 0.0, -math.inf).astype(scores.dtype))
    p = softmax(scores, dim=-1)
    gp = go.matmul(v.transpose(1, 2))
    gs = p * (gp - (gp * p).sum(dim=-1, keepdim=True)) * scale
    return gs.matmul(k), gs.transpose(1, 2).matmul(q), p.transpose(1, 2).matmul(go)


def _composed_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None,
    dropout_p: float,
    is_causal: bool,
    scale: float,
    generator: np.random.Generator | None,
) -> Tensor:
    """Attention composed of matmul, softmax and dropout (additive masks, dropout)."""
    scores = query.matmul(key.transpose(-2, -1)) * scale
    xp = xp_of(query)
    length, source = query.shape[-2], key.shape[-2]
    if is_causal:
        allowed = xp.tril(xp.ones((length, source), dtype=bool))
        scores = scores + constant(xp.where(allowed, 0.0, -math.inf).astype(scores.dtype))
    if attn_mask is not None:
        if attn_mask.dtype.kind == "b":
            scores = scores + constant(xp.where(arr(attn_mask.data), 0.0, -math.inf).astype(scores.dtype))
        else:
            scores = scores + attn_mask
    weights = softmax(scores, dim=-1)
    if dropout_p > 0.0:
        weights = dropout(weights, p=dropout_p, training=True, generator=generator)
    return weights.matmul(value)


def _fused_attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, is_causal: bool, scale: float) -> Tensor:
    """Broadcast the batch dims, flatten them into ``B``, and run :class:`Attention`."""
    xp = xp_of(q)
    length, source = q.shape[-2], k.shape[-2]
    batch = layout.broadcast_shapes(tuple(q.shape[:-2]), tuple(k.shape[:-2]), tuple(v.shape[:-2]))
    if mask is not None:
        batch = layout.broadcast_shapes(batch, tuple(mask.shape[:-2]))
    flat = int(np.prod(batch)) if batch else 1

    def as_batch(t: Tensor) -> Tensor:
        full = (*batch, *t.shape[-2:])
        t = t if tuple(t.shape) == full else t.expand(*full)
        return t.reshape(flat, *t.shape[-2:])

    mask_array = None
    if mask is not None:
        mask_array = xp.broadcast_to(arr(mask.data), (*batch, length, source)).reshape(flat, length, source)
    out = Attention.apply(as_batch(q), as_batch(k), as_batch(v), mask_array, is_causal, scale)
    return out.reshape(*batch, length, v.shape[-1])


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    generator: np.random.Generator | None = None,
) -> Tensor:
    """Attention of ``query`` over ``key``/``value``.

    Args:
        query: ``(..., L, E)``.
        key: ``(..., S, E)``.
        value: ``(..., S, Ev)``.
        attn_mask: boolean (``True`` = may attend) or additive float, broadcastable to ``(..., L, S)``.
        dropout_p: dropout on the attention weights.
        is_causal: position ``i`` attends only to ``j <= i`` (the top-left ``L×S`` lower triangle).
        scale: factor on the scores (default ``1/√E``).
        generator: the dropout mask's generator.

    Raises:
        ShapeError: for mismatched feature or sequence sizes.
        ValueError: for ``is_causal`` together with a mask, or ``dropout_p`` outside ``[0, 1)``.
    """
    q, k, v = as_input(query, "query"), as_input(key, "key"), as_input(value, "value")
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ShapeError(
            f"scaled_dot_product_attention needs at least 2-D query/key/value, got {q.shape}, {k.shape}, {v.shape}"
        )
    if q.shape[-1] != k.shape[-1]:
        raise ShapeError(f"scaled_dot_product_attention: query features {q.shape} and key features {k.shape} differ")
    if k.shape[-2] != v.shape[-2]:
        raise ShapeError(f"scaled_dot_product_attention: key {k.shape} and value {v.shape} have different lengths")
    if is_causal and attn_mask is not None:
        raise ValueError("scaled_dot_product_attention: give either attn_mask or is_causal, not both")
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"scaled_dot_product_attention: dropout_p must be in [0, 1), got {dropout_p}")
    mask = as_input(attn_mask, "attn_mask") if attn_mask is not None else None
    scale_ = 1.0 / math.sqrt(q.shape[-1]) if scale is None else float(scale)
    fused = dropout_p == 0.0 and (mask is None or mask.dtype.kind == "b") and q.dtype.kind == "f"
    if fused and q.dtype == k.dtype == v.dtype:
        return _fused_attention(q, k, v, mask, bool(is_causal), scale_)
    return _composed_attention(q, k, v, mask, float(dropout_p), bool(is_causal), scale_, generator)
