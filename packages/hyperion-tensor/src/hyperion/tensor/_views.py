"""Views: new layouts over the same storage, never a copy.

Every method here computes a new ``(shape, strides, offset)`` with the pure
functions of :mod:`hyperion.tensor.layout` and returns ``self._view(...)``.
Only :meth:`contiguous` (when needed), :meth:`clone` and :meth:`reshape`
(when no view exists) copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from hyperion.tensor import layout
from hyperion.tensor.errors import ShapeError

if TYPE_CHECKING:
    from hyperion.tensor.tensor import Tensor


def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
    """Accept ``f(2, 3)`` as well as ``f((2, 3))``."""
    if len(shape) == 1 and isinstance(shape[0], Sequence | range):
        shape = tuple(shape[0])
    for s in shape:
        if type(s) is not int:
            return tuple(_size(s) for s in shape)
    return shape


def _size(value: Any) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"sizes must be integers, got {type(value).__name__} {value!r}")
    return value.__index__()


@lru_cache(maxsize=4096)
def _permutation(dims: tuple[int, ...], ndim: int) -> tuple[int, ...]:
    normalized = tuple(d % ndim if -ndim <= d < ndim else d for d in dims) if ndim else dims
    if sorted(normalized) != list(range(ndim)):
        raise ShapeError(f"permute{dims} is not a permutation of the dims 0..{ndim - 1}")
    return normalized


class ViewMixin:
    """Layout-changing methods of :class:`~hyperion.tensor.Tensor`."""

    __slots__ = ()

    _shape: tuple[int, ...]
    _strides: tuple[int, ...]
    _offset: int
    _storage: Any

    def view(self, *shape: Any) -> Tensor:
        """The same elements in a new shape, without copying.

        Raises:
            ShapeError: if the sizes do not match, or the layout cannot be
                expressed with strides (use :meth:`reshape`, which copies).
        """
        new_shape = layout.infer_shape(_shape_arg(shape), layout.numel(self._shape))
        strides = layout.view_strides(self._shape, self._strides, new_shape)
        if strides is None:
            raise ShapeError(
                f"view {new_shape} is not compatible with shape {self._shape} and strides {self._strides} "
                "without a copy; use .reshape(...) instead"
            )
        return self._view(new_shape, strides, self._offset)

    def reshape(self, *shape: Any) -> Tensor:
        """Like :meth:`view`, but copies to a contiguous tensor when no view exists."""
        new_shape = layout.infer_shape(_shape_arg(shape), layout.numel(self._shape))
        strides = layout.view_strides(self._shape, self._strides, new_shape)
        if strides is None:
            return self.clone().view(new_shape)
        return self._view(new_shape, strides, self._offset)

    def permute(self, *dims: Any) -> Tensor:
        """Reorder the dimensions: ``t.permute(2, 0, 1)``."""
        normalized = _permutation(_shape_arg(dims), len(self._shape))
        return self._view(
            tuple(self._shape[d] for d in normalized), tuple(self._strides[d] for d in normalized), self._offset
        )

    def transpose(self, dim0: int = -2, dim1: int = -1) -> Tensor:
        """Swap two dimensions."""
        ndim = len(self._shape)
        a, b = layout.normalize_dim(dim0, ndim), layout.normalize_dim(dim1, ndim)
        shape, strides = list(self._shape), list(self._strides)
        shape[a], shape[b] = shape[b], shape[a]
        strides[a], strides[b] = strides[b], strides[a]
        return self._view(tuple(shape), tuple(strides), self._offset)

    swapaxes = transpose

    @property
    def T(self) -> Tensor:  # noqa: N802 - NumPy/PyTorch name
        """All dimensions reversed (NumPy's ``.T``)."""
        return self._view(self._shape[::-1], self._strides[::-1], self._offset)

    @property
    def mT(self) -> Tensor:  # noqa: N802 - PyTorch name
        """The last two dimensions swapped (a batch of matrix transposes)."""
        if len(self._shape) < 2:
            raise ShapeError(f".mT needs at least 2 dimensions, got shape {self._shape}")
        return self.transpose(-2, -1)

    def expand(self, *sizes: Any) -> Tensor:
        """Broadcast size-1 dimensions (and new leading ones) to ``sizes``; ``-1`` keeps a size."""
        sizes = _shape_arg(sizes)
        lead = len(sizes) - len(self._shape)
        if lead < 0:
            raise ShapeError(f"expand{sizes} has fewer dimensions than shape {self._shape}")
        target = tuple(
            self._shape[k - lead] if (s == -1 and k >= lead) else s for k, s in enumerate(sizes)
        )
        if any(s < 0 for s in target):
            raise ShapeError(f"expand{sizes}: -1 is only allowed for existing dimensions of shape {self._shape}")
        return self._view(target, layout.broadcast_strides(self._shape, self._strides, target), self._offset)

    def broadcast_to(self, shape: Sequence[int]) -> Tensor:
        """NumPy's ``broadcast_to``: a read-through view with stride 0 on broadcast dims."""
        target = tuple(int(s) for s in shape)
        return self._view(target, layout.broadcast_strides(self._shape, self._strides, target), self._offset)

    def expand_as(self, other: Tensor) -> Tensor:
        """``expand`` to another tensor's shape."""
        return self.broadcast_to(other.shape)

    def squeeze(self, dim: int | Sequence[int] | None = None) -> Tensor:
        """Drop size-1 dimensions (all, or those in ``dim``; others in ``dim`` are kept, as in PyTorch)."""
        ndim = len(self._shape)
        chosen = set(range(ndim)) if dim is None else set(layout.normalize_dims(dim, ndim)) if ndim else set()
        keep = [k for k in range(ndim) if not (k in chosen and self._shape[k] == 1)]
        return self._view(tuple(self._shape[k] for k in keep), tuple(self._strides[k] for k in keep), self._offset)

    def unsqueeze(self, dim: int) -> Tensor:
        """Insert a size-1 dimension at ``dim`` (``-1`` appends)."""
        ndim = len(self._shape)
        d = layout.normalize_dim(dim, ndim + 1)
        stride = self._strides[d] * self._shape[d] if d < ndim else 1
        return self._view(self._shape[:d] + (1,) + self._shape[d:], self._strides[:d] + (stride,) + self._strides[d:], self._offset)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dimensions ``start_dim..end_dim`` into one (a view when possible)."""
        ndim = len(self._shape)
        if ndim == 0:
            return self.reshape(1)
        a, b = layout.normalize_dim(start_dim, ndim), layout.normalize_dim(end_dim, ndim)
        if a > b:
            raise ShapeError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {self._shape}")
        return self.reshape(self._shape[:a] + (layout.numel(self._shape[a : b + 1]),) + self._shape[b + 1 :])

    def unflatten(self, dim: int, sizes: Sequence[int]) -> Tensor:
        """Split dimension ``dim`` into ``sizes`` (one may be ``-1``)."""
        d = layout.normalize_dim(dim, len(self._shape))
        inner = layout.infer_shape(tuple(sizes), self._shape[d])
        return self.view(self._shape[:d] + inner + self._shape[d + 1 :])

    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        """Elements ``start .. start+length-1`` along ``dim``."""
        d = layout.normalize_dim(dim, len(self._shape))
        size = self._shape[d]
        if start < 0:
            start += size
        if not (0 <= start <= size and 0 <= length and start + length <= size):
            raise ShapeError(f"narrow: start {start} and length {length} exceed size {size} of dimension {d}")
        shape = self._shape[:d] + (length,) + self._shape[d + 1 :]
        return self._view(shape, self._strides, self._offset + start * self._strides[d] if length else self._offset)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        """The diagonal of the ``(dim1, dim2)`` planes, as a new last dimension (PyTorch's order)."""
        ndim = len(self._shape)
        a, b = layout.normalize_dim(dim1, ndim, name="dim1"), layout.normalize_dim(dim2, ndim, name="dim2")
        if a == b:
            raise ShapeError(f"diagonal: dim1 and dim2 must differ, both are {a}")
        if offset >= 0:
            length = max(min(self._shape[a], self._shape[b] - offset), 0)
            start = self._offset + offset * self._strides[b]
        else:
            length = max(min(self._shape[a] + offset, self._shape[b]), 0)
            start = self._offset - offset * self._strides[a]
        rest = [k for k in range(ndim) if k not in (a, b)]
        shape = tuple(self._shape[k] for k in rest) + (length,)
        strides = tuple(self._strides[k] for k in rest) + (self._strides[a] + self._strides[b],)
        return self._view(shape, strides, start if length else self._offset)

    def unfold(self, dim: int, size: int, step: int) -> Tensor:
        """Sliding windows of ``size`` along ``dim`` every ``step`` elements, as a new last dimension.

        The windows overlap in memory when ``step < size``; nothing is copied.
        This is the building block of im2col convolution.
        """
        ndim = len(self._shape)
        d = layout.normalize_dim(dim, ndim) if ndim else 0
        length = self._shape[d] if ndim else 1
        stride = self._strides[d] if ndim else 1
        if size < 0 or size > length:
            raise ShapeError(f"unfold: window size {size} is larger than size {length} of dimension {d}")
        if step <= 0:
            raise ShapeError(f"unfold: step must be positive, got {step}")
        if not ndim:  # as PyTorch: the windows of a scalar are one window, of its own
            return self._view((size,), (stride,), self._offset)
        count = (length - size) // step + 1
        shape = self._shape[:d] + (count,) + self._shape[d + 1 :] + (size,)
        strides = self._strides[:d] + (stride * step,) + self._strides[d + 1 :] + (stride,)
        return self._view(shape, strides, self._offset)

    def as_strided(self, size: Sequence[int], stride: Sequence[int], storage_offset: int | None = None) -> Tensor:
        """Any layout over this tensor's storage; refused if it reaches outside the storage."""
        offset = self._offset if storage_offset is None else int(storage_offset)
        return type(self)(self._storage, tuple(size), tuple(stride), offset)

    def contiguous(self) -> Tensor:
        """This tensor if it is already row-major dense, else a row-major copy."""
        if layout.is_contiguous(self._shape, self._strides):
            return self  # type: ignore[return-value]
        return self.clone()

    def clone(self) -> Tensor:
        """A row-major copy with its own storage."""
        xp = self._xp()
        return self._from_array(xp.array(self._arr(), order="C", copy=True))

    def split(self, split_size_or_sections: int | Sequence[int], dim: int = 0) -> tuple[Tensor, ...]:
        """Views of consecutive pieces along ``dim`` (PyTorch's ``split``: a size, or a list of sizes)."""
        d = layout.normalize_dim(dim, len(self._shape))
        size = self._shape[d]
        if isinstance(split_size_or_sections, int):
            if split_size_or_sections <= 0:
                raise ShapeError(f"split size must be positive, got {split_size_or_sections}")
            step = split_size_or_sections
            sizes = [min(step, size - start) for start in range(0, size, step)] or [0]
        else:
            sizes = [int(s) for s in split_size_or_sections]
            if sum(sizes) != size or any(s < 0 for s in sizes):
                raise ShapeError(f"split sizes {sizes} do not add up to size {size} of dimension {d}")
        out, start = [], 0
        for s in sizes:
            out.append(self.narrow(d, start, s))
            start += s
        return tuple(out)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """Split into ``chunks`` views of (nearly) equal size along ``dim``, as PyTorch does."""
        if chunks <= 0:
            raise ShapeError(f"chunk: number of chunks must be positive, got {chunks}")
        size = self._shape[layout.normalize_dim(dim, len(self._shape))]
        if size == 0:  # as PyTorch: an empty dimension still gives `chunks` (empty) pieces
            return self.split([0] * chunks, dim)
        return self.split(max(-(-size // chunks), 1), dim)
