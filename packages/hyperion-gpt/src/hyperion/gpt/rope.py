"""Rotary position embeddings (RoPE): rotate each pair of features by an angle proportional to the position.

A head vector ``x`` of even size ``d`` is read as ``d/2`` pairs ``(x[2i], x[2i+1])``.
At position ``m`` pair ``i`` is rotated by the angle ``m·θᵢ`` with ``θᵢ = base^(-2i/d)``::

    x'[2i]   = x[2i]·cos(m θᵢ) − x[2i+1]·sin(m θᵢ)
    x'[2i+1] = x[2i]·sin(m θᵢ) + x[2i+1]·cos(m θᵢ)

Rotations compose and are orthogonal, so ``⟨R(m)q, R(n)k⟩ = ⟨q, R(n−m)k⟩``: the score of a
query at ``m`` and a key at ``n`` depends only on ``n − m``. The backward pass is the inverse
rotation (the transpose of an orthogonal matrix), i.e. the same op with ``sin`` negated.

Examples:
    >>> import numpy as np
    >>> import hyperion.autograd as ag
    >>> cos, sin = rope_angles(np.arange(3), head_dim=4)
    >>> x = ag.ones(1, 1, 3, 4)
    >>> y = apply_rope(x, cos, sin)
    >>> bool(np.allclose(np.linalg.norm(y.numpy(), axis=-1), 2.0))  # rotations keep lengths
    True
"""

from __future__ import annotations

from typing import Any

import numpy as np

import hyperion.tensor as ht
from hyperion.autograd import Function, Tensor
from hyperion.gpt._arrays import raw
from hyperion.tensor import ShapeError

__all__ = ["RotaryFunction", "apply_rope", "rope_angles", "rotate_pairs"]


def rope_angles(positions: Any, head_dim: int, base: float = 10000.0, dtype: Any = np.float32) -> tuple[Any, Any]:
    """``cos`` and ``sin`` of the rotation angles ``m·θᵢ`` for integer ``positions``.

    Args:
        positions: integer positions of any shape ``P`` (e.g. ``(T,)`` or ``(B, T)``).
        head_dim: the (even) head size ``d``.
        base: ``θᵢ = base^(-2i/d)``.
        dtype: the dtype of the result.

    Returns:
        ``(cos, sin)``, each of shape ``P + (d/2,)``. The angles are computed in float64, then cast.

    Raises:
        ValueError: for an odd ``head_dim``.
    """
    if head_dim % 2:
        raise ValueError(f"rope_angles: head_dim must be even, got {head_dim}")
    inv_freq = base ** (-np.arange(0, head_dim, 2, dtype=np.float64) / head_dim)
    angles = np.asarray(positions, dtype=np.float64)[..., None] * inv_freq
    return np.cos(angles).astype(dtype), np.sin(angles).astype(dtype)


def rotate_pairs(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """The rotation on plain arrays: pairs ``(x[..., 2i], x[..., 2i+1])`` turned by the angles of ``cos``/``sin``.

    ``cos``/``sin`` have ``x``'s shape with the last axis halved (or broadcast to it).
    """
    even, odd = x[..., 0::2], x[..., 1::2]
    out = np.empty(np.broadcast_shapes(x.shape, cos.shape[:-1] + (x.shape[-1],)), dtype=np.result_type(x, cos))
    out[..., 0::2] = even * cos - odd * sin
    out[..., 1::2] = even * sin + odd * cos
    return out


class RotaryFunction(Function):
    """RoPE as one graph node: forward rotates by ``+angle``, backward by ``−angle`` (the same op)."""

    @staticmethod
    def forward(ctx: Any, x: ht.Tensor, cos: np.ndarray, sin: np.ndarray) -> ht.Tensor:
        ctx.cos, ctx.sin = cos, sin
        return raw(rotate_pairs(x.numpy(), cos, sin))

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        return RotaryFunction.apply(grad_out, ctx.cos, -ctx.sin), None, None


def apply_rope(x: Tensor, cos: np.ndarray, sin: np.ndarray) -> Tensor:
    """Rotate the feature pairs of ``x`` ``(..., T, d)`` by the angles in ``cos``/``sin``.

    Args:
        x: queries or keys, ``(B, H, T, d)`` (any leading dims).
        cos: ``(T, d/2)`` or ``(B, 1, T, d/2)`` from :func:`rope_angles` (broadcast against ``x``).
        sin: like ``cos``.

    Raises:
        ShapeError: if the angles do not fit ``x``.
    """
    cos = np.asarray(cos, dtype=x.dtype)
    sin = np.asarray(sin, dtype=x.dtype)
    if x.shape[-1] % 2 or cos.shape[-1] * 2 != x.shape[-1] or cos.shape != sin.shape:
        raise ShapeError(f"apply_rope: angles {cos.shape}/{sin.shape} do not fit x of shape {x.shape}")
    try:
        np.broadcast_shapes(x.shape[:-1], cos.shape[:-1])
    except ValueError:
        raise ShapeError(f"apply_rope: angles {cos.shape} do not broadcast against x of shape {x.shape}") from None
    return RotaryFunction.apply(x, cos, sin)
