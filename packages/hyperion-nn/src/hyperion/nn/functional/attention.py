"""``scaled_dot_product_attention``: ``softmax(q kᵀ · scale + mask) v``, through the kernel registry.

Reference kernel calling convention (every argument positional and given):
``impl(query, key, value, attn_mask, dropout_p, is_causal, scale, generator)``
with ``query`` ``(..., L, E)``, ``key`` ``(..., S, E)``, ``value`` ``(..., S, Ev)``,
``attn_mask`` ``None``, a boolean tensor (``True`` = may attend) or an additive
float tensor broadcastable to ``(..., L, S)``, ``scale`` a float.

Examples:
    >>> import hyperion.autograd as ag
    >>> from hyperion.nn import functional as F
    >>> q = k = v = ag.ones(1, 2, 4)
    >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
    (1, 2, 4)
"""

from __future__ import annotations

import math

import numpy as np

from hyperion.autograd import Tensor
from hyperion.nn.functional._common import arr, as_input, constant, xp_of
from hyperion.nn.functional.dropout import dropout
from hyperion.nn.functional.softmax import softmax
from hyperion.tensor import ShapeError, registry

__all__ = ["scaled_dot_product_attention"]


def scaled_dot_product_attention_reference(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None,
    dropout_p: float,
    is_causal: bool,
    scale: float,
    generator: np.random.Generator | None,
) -> Tensor:
    """Reference ``nn.scaled_dot_product_attention`` kernel, composed of matmul, softmax and dropout."""
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


registry.register_reference("nn.scaled_dot_product_attention", scaled_dot_product_attention_reference)


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
    impl = registry.lookup("nn.scaled_dot_product_attention", q.device)
    return impl(q, k, v, mask, float(dropout_p), bool(is_causal), scale_, generator)
