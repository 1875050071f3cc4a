"""Views: ops whose output shares the input's storage, and their gradients.

Each view op is a ``Function`` with ``is_view = True``: its output shares the
input's version counter, so an in-place write through either is seen by
saved-tensor checks on both. The data is never copied (except by
``reshape`` when no view exists, as in hyperion.tensor).

Gradients:

* reshape-like views (``view``, ``reshape``, ``squeeze``, ``unsqueeze``,
  ``flatten``, ``unflatten``) reshape the gradient back;
* ``permute`` (and ``transpose``, ``.T``, ``.mT``) applies the inverse permutation;
* ``expand``/``broadcast_to`` return the gradient as it is: the engine sums
  it back over the expanded dimensions, exactly as for a broadcast operand;
* ``narrow`` (and ``split``/``chunk``) scatter the gradient into zeros;
* ``diagonal``, ``unfold`` and ``as_strided`` scatter-*add* it into zeros
  through a map from output elements to input elements (for ``diagonal`` and
  ``unfold`` the same view of ``arange``; for ``as_strided``, through storage
  positions), so overlapping windows accumulate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import hyperion.tensor as ht
from hyperion.autograd.function import Function, RawTensor, unwrap
from hyperion.autograd.ops.indexing import IndexScatter, ScatterAdd, element_map, layout_of
from hyperion.tensor import layout


def shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` as well as ``f((2, 3))``."""
    if len(shape) == 1 and (type(shape[0]) is tuple or isinstance(shape[0], Sequence | range)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


class _ReshapeLike(Function):
    """Views that keep the elements in order; the gradient is reshaped back."""

    is_view = True

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        return (grad_out.reshape(ctx.in_shape),) + (None,) * ctx.extra


class View(_ReshapeLike):
    """``x.view(shape)`` (an error if no view exists)."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, shape: tuple[int, ...]) -> RawTensor:
        ctx.in_shape, ctx.extra = x.shape, 1
        return x.view(shape)


class Reshape(_ReshapeLike):
    """``x.reshape(shape)`` (a view when possible, else a copy)."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, shape: tuple[int, ...]) -> RawTensor:
        ctx.in_shape, ctx.extra = x.shape, 1
        return x.reshape(shape)


class Squeeze(_ReshapeLike):
    """Drop size-1 dimensions."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, dim: Any) -> RawTensor:
        ctx.in_shape, ctx.extra = x.shape, 1
        return x.squeeze(dim)


class Unsqueeze(_ReshapeLike):
    """Insert a size-1 dimension."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, dim: int) -> RawTensor:
        ctx.in_shape, ctx.extra = x.shape, 1
        return x.unsqueeze(dim)


class Flatten(_ReshapeLike):
    """Merge a run of dimensions."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, start_dim: int, end_dim: int) -> RawTensor:
        ctx.in_shape, ctx.extra = x.shape, 2
        return x.flatten(start_dim, end_dim)


class Unflatten(_ReshapeLike):
    """Split one dimension into several."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, dim: int, sizes: tuple[int, ...]) -> RawTensor:
        ctx.in_shape, ctx.extra = x.shape, 2
        return x.unflatten(dim, sizes)


class Permute(Function):
    """Reorder dimensions; the gradient is permuted back."""

    is_view = True

    @staticmethod
    def forward(ctx: Any, x: RawTensor, dims: tuple[int, ...]) -> RawTensor:
        out = x.permute(dims)  # checks that dims is a permutation
        normalized = tuple(layout.normalize_dim(d, x.ndim) for d in dims) if x.ndim else ()
        ctx.inverse = tuple(sorted(range(len(normalized)), key=normalized.__getitem__))
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        return grad_out.permute(ctx.inverse), None


class Expand(Function):
    """Broadcast to a larger shape; the engine sums the gradient back (its one un-broadcast)."""

    is_view = True

    @staticmethod
    def forward(_ctx: Any, x: RawTensor, sizes: tuple[int, ...]) -> RawTensor:
        return x.expand(sizes)

    @staticmethod
    def backward(_ctx: Any, grad_out: Any) -> Any:
        return grad_out, None


class Narrow(Function):
    """Elements ``start .. start+length-1`` along ``dim``; the gradient is scattered into zeros."""

    is_view = True

    @staticmethod
    def forward(ctx: Any, x: RawTensor, dim: int, start: int, length: int) -> RawTensor:
        out = x.narrow(dim, start, length)
        d = layout.normalize_dim(dim, x.ndim)
        first = start + x.shape[d] if start < 0 else start
        ctx.key = (slice(None),) * d + (slice(first, first + length),)
        ctx.in_shape = x.shape
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        return IndexScatter.apply(grad_out, ctx.key, ctx.in_shape, False), None, None, None


def _logical_index(shape: tuple[int, ...], device: str) -> RawTensor:
    """``arange(numel).reshape(shape)``: each element's row-major index."""
    return ht.arange(layout.numel(shape), device=device).reshape(shape)


class Diagonal(Function):
    """The diagonal of the ``(dim1, dim2)`` planes, as a new last dimension."""

    is_view = True

    @staticmethod
    def forward(ctx: Any, x: RawTensor, offset: int, dim1: int, dim2: int) -> RawTensor:
        ctx.in_shape, ctx.args = x.shape, (offset, dim1, dim2)
        return x.diagonal(offset, dim1, dim2)

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        index = _logical_index(ctx.in_shape, grad_out.device).diagonal(*ctx.args)
        return ScatterAdd.apply(grad_out, index, ctx.in_shape), None, None, None


class Unfold(Function):
    """Sliding windows along ``dim``; where windows overlap, their gradients add up."""

    is_view = True

    @staticmethod
    def forward(ctx: Any, x: RawTensor, dim: int, size: int, step: int) -> RawTensor:
        ctx.in_shape, ctx.args = x.shape, (dim, size, step)
        return x.unfold(dim, size, step)

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        index = _logical_index(ctx.in_shape, grad_out.device).unfold(*ctx.args)
        return ScatterAdd.apply(grad_out, index, ctx.in_shape), None, None, None


class AsStrided(Function):
    """Any layout over the input's storage; elements read more than once add up in the gradient.

    The map from output elements to input elements goes through storage
    positions, so it depends on the input's layout (which must not overlap itself).
    """

    is_view = True

    @staticmethod
    def forward(
        ctx: Any, x: RawTensor, size: tuple[int, ...], stride: tuple[int, ...], storage_offset: int | None
    ) -> RawTensor:
        out = x.as_strided(size, stride, storage_offset)
        ctx.layouts = (layout_of(x), layout_of(out))
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        x_layout, out_layout = ctx.layouts
        index = element_map(x_layout, out_layout, grad_out.device)
        return ScatterAdd.apply(grad_out, index, x_layout[0]), None, None, None


class ViewMethods:
    """View methods of :class:`~hyperion.autograd.Tensor` (all differentiable)."""

    __slots__ = ()

    def view(self, *shape: Any) -> Any:
        """The same elements in a new shape, without copying (an error if impossible)."""
        return View.apply(self, shape_arg(shape))

    def reshape(self, *shape: Any) -> Any:
        """The same elements in a new shape (a view when possible, else a copy)."""
        return Reshape.apply(self, shape_arg(shape))

    def view_as(self, other: Any) -> Any:
        """``view`` to another tensor's shape."""
        return View.apply(self, tuple(other.shape))

    def reshape_as(self, other: Any) -> Any:
        """``reshape`` to another tensor's shape."""
        return self.reshape(tuple(other.shape))

    def squeeze(self, dim: int | Sequence[int] | None = None) -> Any:
        """Drop size-1 dimensions (all, or those in ``dim``)."""
        return Squeeze.apply(self, dim)

    def unsqueeze(self, dim: int) -> Any:
        """Insert a size-1 dimension at ``dim``."""
        return Unsqueeze.apply(self, dim)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Any:
        """Merge dimensions ``start_dim..end_dim`` into one."""
        return Flatten.apply(self, start_dim, end_dim)

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Any:
        """Split dimension ``dim`` into ``sizes``."""
        return Unflatten.apply(self, dim, tuple(sizes))

    def permute(self, *dims: Any) -> Any:
        """Reorder the dimensions: ``t.permute(2, 0, 1)``."""
        return Permute.apply(self, shape_arg(dims))

    def transpose(self, dim0: int = -2, dim1: int = -1) -> Any:
        """Swap two dimensions."""
        ndim = self.data.ndim
        order = list(range(ndim))
        a, b = layout.normalize_dim(dim0, ndim), layout.normalize_dim(dim1, ndim)
        order[a], order[b] = order[b], order[a]
        return Permute.apply(self, tuple(order))

    swapaxes = transpose

    @property
    def T(self) -> Any:  # noqa: N802 - NumPy/PyTorch name
        """All dimensions reversed."""
        return Permute.apply(self, tuple(reversed(range(self.data.ndim))))

    @property
    def mT(self) -> Any:  # noqa: N802 - PyTorch name
        """The last two dimensions swapped."""
        if self.data.ndim < 2:
            raise ValueError(f".mT needs at least 2 dimensions, got shape {self.data.shape}")
        return self.transpose(-2, -1)

    def expand(self, *sizes: Any) -> Any:
        """Broadcast size-1 dimensions (and new leading ones) to ``sizes``; ``-1`` keeps a size."""
        return Expand.apply(self, shape_arg(sizes))

    def broadcast_to(self, shape: Sequence[int]) -> Any:
        """NumPy's ``broadcast_to`` (a view)."""
        return Expand.apply(self, tuple(int(s) for s in shape))

    def expand_as(self, other: Any) -> Any:
        """``expand`` to another tensor's shape."""
        return Expand.apply(self, tuple(unwrap(other).shape))

    def narrow(self, dim: int, start: int, length: int) -> Any:
        """Elements ``start .. start+length-1`` along ``dim``."""
        return Narrow.apply(self, dim, start, length)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Any:
        """The diagonal of the ``(dim1, dim2)`` planes, as a new last dimension."""
        return Diagonal.apply(self, offset, dim1, dim2)

    def unfold(self, dim: int, size: int, step: int) -> Any:
        """Sliding windows of ``size`` along ``dim`` every ``step`` elements, as a new last dimension."""
        return Unfold.apply(self, dim, size, step)

    def as_strided(self, size: Sequence[int], stride: Sequence[int], storage_offset: int | None = None) -> Any:
        """Any layout over this tensor's storage (elements read twice get gradient twice)."""
        return AsStrided.apply(self, tuple(size), tuple(stride), storage_offset)

    def split(self, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Any, ...]:
        """Consecutive pieces along ``dim`` (a size, or a list of sizes), each a differentiable view."""
        pieces = self.data.split(split_size_or_sections, dim)
        d = layout.normalize_dim(dim, self.data.ndim)
        out, start = [], 0
        for piece in pieces:
            out.append(Narrow.apply(self, d, start, piece.shape[d]))
            start += piece.shape[d]
        return tuple(out)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Any, ...]:
        """Split into ``chunks`` views of (nearly) equal size along ``dim``."""
        sizes = [piece.shape[layout.normalize_dim(dim, self.data.ndim)] for piece in self.data.chunk(chunks, dim)]
        return self.split(sizes, dim)

    def unbind(self, dim: int = 0) -> tuple[Any, ...]:
        """The slices along ``dim``, with that dimension removed."""
        d = layout.normalize_dim(dim, self.data.ndim)
        return tuple(self[(slice(None),) * d + (k,)] for k in range(self.data.shape[d]))
