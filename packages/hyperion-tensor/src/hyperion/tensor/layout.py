"""Layout arithmetic: pure functions over shapes, strides and offsets.

A tensor's element at multi-index ``(i_0, ..., i_{n-1})`` lives at position
``offset + sum(i_k * strides[k])`` of its flat storage. Every view (transpose,
slice, broadcast, reshape-without-copy) is a new ``(shape, strides, offset)``
over the same storage, computed here. Strides are counted in **elements**, as
PyTorch's ``Tensor.stride()`` does, not in bytes as NumPy's ``ndarray.strides``.

These functions know nothing about arrays or devices, so the CPU and CUDA code
paths (and the kernels) share them.

The functions are pure, so the hot ones are memoized on their (tuple)
arguments: a training loop asks the same layout questions every step.

Example:
    >>> contiguous_strides((2, 3, 4))
    (12, 4, 1)
    >>> broadcast_shapes((3, 1), (1, 4))
    (3, 4)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache

from hyperion.tensor.errors import ShapeError, TensorIndexError

Shape = tuple[int, ...]
Strides = tuple[int, ...]


def numel(shape: Sequence[int]) -> int:
    """Number of elements of a tensor of this shape (1 for a scalar)."""
    n = 1
    for size in shape:
        n *= size
    return n


def contiguous_strides(shape: Sequence[int]) -> Strides:
    """Row-major (C-order) strides, in elements, for ``shape``.

    Dimensions of size 0 or 1 get the stride they would have if they were
    larger, as NumPy and PyTorch do.
    """
    return _contiguous_strides(tuple(shape))


@lru_cache(maxsize=4096)
def _contiguous_strides(shape: Shape) -> Strides:
    # Cached: every op result asks for the strides of its (usually recurring) shape.
    strides = [0] * len(shape)
    step = 1
    for k in range(len(shape) - 1, -1, -1):
        strides[k] = step
        step *= max(shape[k], 1)
    return tuple(strides)


@lru_cache(maxsize=8192)
def is_contiguous(shape: Sequence[int], strides: Sequence[int]) -> bool:
    """Whether a layout is row-major dense (strides of size-1 dims are ignored; empty layouts are dense)."""
    if 0 in shape:
        return True
    expected = 1
    for size, stride in zip(reversed(shape), reversed(strides), strict=True):
        if size != 1 and stride != expected:
            return False
        expected *= size
    return True


def normalize_dim(dim: int, ndim: int, *, name: str = "dim") -> int:
    """Map a possibly negative dimension index into ``range(ndim)``.

    Raises:
        TensorIndexError: (an ``IndexError``) naming the dimension and the valid range.
    """
    if not isinstance(dim, int) or isinstance(dim, bool):
        raise TypeError(f"{name} must be an int, got {type(dim).__name__} {dim!r}")
    bound = max(ndim, 1)
    if not -bound <= dim < bound:
        raise TensorIndexError(
            f"{name} {dim} is out of range for a tensor with {ndim} dimension(s) "
            f"(expected {-bound} <= {name} < {bound})"
        )
    return dim % bound


def normalize_dims(dims: int | Iterable[int] | None, ndim: int) -> tuple[int, ...]:
    """Normalize ``None`` (all dims), an int, or a tuple of ints; rejects repeats."""
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, int):
        return (normalize_dim(dims, ndim),)
    if isinstance(dims, str | bytes) or not isinstance(dims, Iterable):
        raise TypeError(f"dim must be an int, a sequence of ints or None, got {type(dims).__name__} {dims!r}")
    out = tuple(normalize_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        raise ValueError(f"dimension repeated in {tuple(dims)}")
    return out


@lru_cache(maxsize=8192)
def _broadcast_shapes_cached(*shapes: Shape) -> Shape:
    return _broadcast_shapes(shapes)


def broadcast_shapes(*shapes: Sequence[int]) -> Shape:
    """The shape that NumPy broadcasting gives to operands of these shapes.

    Raises:
        ShapeError: naming every shape when two sizes disagree and neither is 1.
    """
    return _broadcast_shapes_cached(*(tuple(s) for s in shapes))


def _broadcast_shapes(shapes: tuple[Shape, ...]) -> Shape:
    ndim = max((len(s) for s in shapes), default=0)
    out = [1] * ndim
    for shape in shapes:
        for k, size in enumerate(shape, start=ndim - len(shape)):
            if size == out[k] or size == 1:
                continue
            if out[k] == 1:
                out[k] = size
            else:
                listed = " and ".join(str(tuple(s)) for s in shapes)
                raise ShapeError(
                    f"shapes {listed} cannot be broadcast together: "
                    f"size {out[k]} vs {size} at dimension {k - ndim}"
                )
    return tuple(out)


@lru_cache(maxsize=8192)
def broadcast_strides(shape: Sequence[int], strides: Sequence[int], target: Sequence[int]) -> Strides:
    """Strides that present a ``shape``/``strides`` layout as the larger ``target`` shape.

    New leading dimensions and dimensions expanded from size 1 get stride 0,
    so every index along them reads the same element.

    Raises:
        ShapeError: if ``shape`` cannot be broadcast to ``target``.
    """
    lead = len(target) - len(shape)
    if lead < 0:
        raise ShapeError(f"cannot broadcast shape {tuple(shape)} to fewer dimensions {tuple(target)}")
    out = [0] * len(target)
    for k, (size, stride) in enumerate(zip(shape, strides, strict=True)):
        want = target[lead + k]
        if size == want:
            out[lead + k] = stride
        elif size == 1:
            out[lead + k] = 0
        else:
            raise ShapeError(
                f"cannot broadcast shape {tuple(shape)} to {tuple(target)}: "
                f"size {size} at dimension {k} is neither 1 nor {want}"
            )
    return tuple(out)


@lru_cache(maxsize=8192)
def view_strides(shape: Sequence[int], strides: Sequence[int], new_shape: Sequence[int]) -> Strides | None:
    """Strides giving ``new_shape`` over the same memory without copying, or ``None``.

    The old dimensions fall into maximal *chunks* whose elements are evenly
    spaced in memory (``stride[k] == stride[k+1] * size[k+1]``, size-1 dims
    join any chunk). A chunk behaves like one flat run and may be re-split
    freely; a new shape whose dimensions straddle two chunks needs a copy.

    Example:
        >>> view_strides((2, 3), (3, 1), (3, 2))
        (2, 1)
        >>> view_strides((2, 3), (1, 2), (6,)) is None  # a transpose cannot be flattened
        True
    """
    if numel(shape) != numel(new_shape):
        return None
    if numel(shape) == 0 and tuple(shape) == tuple(new_shape):
        return tuple(strides)  # as PyTorch: a same-shape view of an empty tensor keeps its strides
    if numel(shape) == 0 or len(shape) == 0:
        return contiguous_strides(new_shape)
    out = [0] * len(new_shape)
    k_new = len(new_shape) - 1
    chunk_stride = strides[-1]
    chunk_numel = 1
    new_numel = 1
    for k in range(len(shape) - 1, -1, -1):
        chunk_numel *= shape[k]
        chunk_ends = k == 0 or (shape[k - 1] != 1 and strides[k - 1] != chunk_numel * chunk_stride)
        if not chunk_ends:
            continue
        # Hand out this chunk to new dims, innermost first; size-1 new dims ride along.
        while k_new >= 0 and (new_numel < chunk_numel or new_shape[k_new] == 1):
            out[k_new] = new_numel * chunk_stride
            new_numel *= new_shape[k_new]
            k_new -= 1
        if new_numel != chunk_numel:
            return None
        if k > 0:
            chunk_stride, chunk_numel, new_numel = strides[k - 1], 1, 1
    if k_new != -1:
        return None
    return tuple(out)


@lru_cache(maxsize=8192)
def infer_shape(shape: Sequence[int], total: int) -> Shape:
    """Resolve one ``-1`` in a requested shape and check the element count.

    Raises:
        ShapeError: for more than one ``-1``, negative sizes, or a count mismatch.
    """
    shape = tuple(int(s) for s in shape)
    if shape.count(-1) > 1:
        raise ShapeError(f"only one dimension can be -1, got shape {shape}")
    if any(s < -1 for s in shape):
        raise ShapeError(f"invalid shape {shape}: sizes must be >= 0 (or a single -1)")
    if -1 in shape:
        known = numel([s for s in shape if s != -1])
        if known == 0 or total % known:
            raise ShapeError(f"shape {shape} is invalid for input of size {total}")
        shape = tuple(total // known if s == -1 else s for s in shape)
    if numel(shape) != total:
        raise ShapeError(f"shape {shape} is invalid for input of size {total}")
    return shape


def memory_extent(shape: Sequence[int], strides: Sequence[int], offset: int) -> tuple[int, int]:
    """The lowest and highest storage positions a layout touches (``(offset, offset - 1)`` if empty)."""
    if numel(shape) == 0:
        return offset, offset - 1
    low = high = offset
    for size, stride in zip(shape, strides, strict=True):
        reach = (size - 1) * stride
        if reach < 0:
            low += reach
        else:
            high += reach
    return low, high


def index_to_offset(index: Sequence[int], strides: Sequence[int], offset: int = 0) -> int:
    """Storage position of the element at a multi-index."""
    pos = offset
    for i, stride in zip(index, strides, strict=True):
        pos += i * stride
    return pos
