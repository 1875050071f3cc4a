"""Functions of several tensors that build one: ``cat``, ``stack``; and triangles, ``tril``/``triu``.

``cat``/``stack`` copy their inputs into new storage; the gradient of each
input is its slice of the output's gradient. ``split``/``chunk``, their
inverses, are views (:mod:`.views`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import hyperion.tensor as ht
from hyperion.autograd.function import Function, RawTensor, unwrap, wrap
from hyperion.autograd.ops.elementwise import operand
from hyperion.tensor import layout


class Cat(Function):
    """Join along an existing dimension; each input gets its slice of the gradient."""

    @staticmethod
    def forward(ctx: Any, dim: int, *tensors: RawTensor) -> RawTensor:
        out = ht.cat(tensors, dim)
        ctx.dim = layout.normalize_dim(dim, out.ndim)
        ctx.sizes = tuple(t.shape[ctx.dim] for t in tensors)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        grads: list[Any] = [None]
        start = 0
        for need, size in zip(ctx.needs_input_grad[1:], ctx.sizes, strict=True):
            grads.append(grad_out.narrow(ctx.dim, start, size) if need else None)
            start += size
        return tuple(grads)


class Stack(Function):
    """Join along a new dimension; each input gets its slice of the gradient."""

    @staticmethod
    def forward(ctx: Any, dim: int, *tensors: RawTensor) -> RawTensor:
        out = ht.stack(tensors, dim)
        ctx.dim = layout.normalize_dim(dim, out.ndim)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        lead = (slice(None),) * ctx.dim
        return (None,) + tuple(
            grad_out[lead + (k,)] if need else None for k, need in enumerate(ctx.needs_input_grad[1:])
        )


class Tril(Function):
    """Zero the elements above a diagonal of the last two dims; the gradient is masked the same way."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, diagonal: int) -> RawTensor:
        ctx.diagonal = diagonal
        return ht.tril(x, diagonal)

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        return Tril.apply(grad_out, ctx.diagonal), None


class Triu(Function):
    """Zero the elements below a diagonal of the last two dims; the gradient is masked the same way."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, diagonal: int) -> RawTensor:
        ctx.diagonal = diagonal
        return ht.triu(x, diagonal)

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        return Triu.apply(grad_out, ctx.diagonal), None


def _tensors(tensors: Sequence[Any], what: str) -> list[Any]:
    if isinstance(tensors, RawTensor) or not isinstance(tensors, Sequence):
        raise TypeError(f"{what} takes a sequence of tensors, got {type(unwrap(tensors)).__name__}")
    return [operand(t) for t in tensors]


def cat(tensors: Sequence[Any], dim: int = 0) -> Any:
    """Join tensors along an existing dimension (all other sizes must match).

    Example:
        >>> import hyperion.autograd as ag
        >>> ag.cat([ag.zeros(2, 3), ag.ones(1, 3)]).shape
        (3, 3)
    """
    return Cat.apply(dim, *_tensors(tensors, "cat"))


def stack(tensors: Sequence[Any], dim: int = 0) -> Any:
    """Join equally shaped tensors along a new dimension ``dim``."""
    return Stack.apply(dim, *_tensors(tensors, "stack"))


def tril(x: Any, diagonal: int = 0) -> Any:
    """Zero the elements above the ``diagonal``-th diagonal of the last two dims."""
    return Tril.apply(operand(x), diagonal)


def triu(x: Any, diagonal: int = 0) -> Any:
    """Zero the elements below the ``diagonal``-th diagonal of the last two dims."""
    return Triu.apply(operand(x), diagonal)


def one_hot(indices: Any, num_classes: int = -1) -> Any:
    """Integer class indices → a ``(..., num_classes)`` int64 tensor of 0/1 (not differentiable)."""
    return wrap(ht.one_hot(unwrap(operand(indices)), num_classes))
