"""``embedding``: rows of a weight table picked by integer indices.

The lookup is one :class:`EmbeddingLookup` ``Function``; its gradient is
a scatter-add of the output gradient into the rows that were read
(:class:`EmbeddingScatter`, the row at ``padding_idx`` left at zero), whose
gradient is the lookup again.

Examples:
    >>> import hyperion.autograd as ag
    >>> from hyperion.nn import functional as F
    >>> F.embedding(ag.tensor([1, 0]), ag.tensor([[0.0, 1.0], [2.0, 3.0]])).tolist()
    [[2.0, 3.0], [0.0, 1.0]]
"""

from __future__ import annotations

from typing import Any

from hyperion.autograd import Function, Tensor
from hyperion.autograd.function import RawTensor
from hyperion.nn.functional._common import arr, as_input, raw_from, xp_of
from hyperion.tensor import ShapeError

__all__ = ["embedding"]


class EmbeddingLookup(Function):
    """``weight[indices]`` (rows); ``padding_idx`` rows receive no gradient."""

    @staticmethod
    def forward(ctx: Any, weight: RawTensor, indices: Any, padding_idx: int | None) -> RawTensor:
        ctx.indices = indices
        ctx.padding_idx = padding_idx
        ctx.num_rows = weight.shape[0]
        return raw_from(arr(weight)[indices])

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        return EmbeddingScatter.apply(grad_out, ctx.indices, ctx.padding_idx, ctx.num_rows), None, None


class EmbeddingScatter(Function):
    """Zeros ``(num_rows, D)`` with each ``g[..., :]`` added to row ``indices[...]`` (not ``padding_idx``)."""

    @staticmethod
    def forward(ctx: Any, g: RawTensor, indices: Any, padding_idx: int | None, num_rows: int) -> RawTensor:
        xp = xp_of(g)
        ctx.indices = indices
        ctx.padding_idx = padding_idx
        dim = g.shape[-1]
        out = xp.zeros((num_rows, dim), dtype=g.dtype)
        xp.add.at(out, indices.reshape(-1), arr(g).reshape(-1, dim))
        if padding_idx is not None:
            out[padding_idx] = 0
        return raw_from(out)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        return EmbeddingLookup.apply(grad_out, ctx.indices, ctx.padding_idx), None, None, None


def embedding(
    input: Tensor,  # noqa: A002 - PyTorch name
    weight: Tensor,
    padding_idx: int | None = None,
) -> Tensor:
    """Look up rows of ``weight`` ``(num_embeddings, embedding_dim)`` at the integer ``input``.

    Args:
        input: integer indices of any shape.
        weight: the table.
        padding_idx: a row that gets no gradient (negative counts from the end).

    Returns:
        ``(*input.shape, embedding_dim)``.

    Raises:
        TypeError: for non-integer indices.
        IndexError: for an index outside ``[0, num_embeddings)``.
        ShapeError: for a weight that is not 2-D.
    """
    idx = as_input(input, "input")
    w = as_input(weight, "weight")
    if w.ndim != 2:
        raise ShapeError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {w.shape}")
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    num = w.shape[0]
    indices = arr(idx.data)
    if indices.size and (int(indices.min()) < 0 or int(indices.max()) >= num):
        raise IndexError(
            f"embedding: index out of range [0, {num}): got values in [{int(indices.min())}, {int(indices.max())}]"
        )
    if padding_idx is not None:
        if not -num <= padding_idx < num:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within [-{num}, {num})")
        padding_idx = padding_idx % num
    return EmbeddingLookup.apply(w, indices, padding_idx)
