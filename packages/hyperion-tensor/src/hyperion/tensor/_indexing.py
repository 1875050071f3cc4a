"""Indexing: ``t[...]`` and ``t[...] = value``.

*Basic* indices (ints, slices with any step, ``None``, ``...``) give views:
the new layout is computed here, element by element of the key. *Advanced*
indices (integer arrays/lists/tensors, boolean masks) gather into a copy, as
in NumPy. Assignment writes into the storage through the view, so it is seen
by every tensor that shares that storage.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperion.tensor.errors import ShapeError, TensorIndexError

if TYPE_CHECKING:
    from hyperion.tensor.tensor import Tensor


def _is_basic(item: Any) -> bool:
    if item is None or item is Ellipsis or isinstance(item, slice):
        return True
    if isinstance(item, bool | np.bool_):
        return False
    if isinstance(item, int | np.integer):
        return True
    # a 0-d integer tensor acts as an int
    return getattr(item, "ndim", None) == 0 and getattr(item, "dtype", np.dtype(bool)).kind in "iu"


def basic_layout(
    shape: tuple[int, ...], strides: tuple[int, ...], offset: int, key: tuple[Any, ...]
) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    """The ``(shape, strides, offset)`` that a basic index selects.

    Raises:
        TensorIndexError: too many indices, or an int outside its dimension
            (naming the index, the dimension and its size).
    """
    consumed = sum(1 for item in key if item is not None and item is not Ellipsis)
    if sum(1 for item in key if item is Ellipsis) > 1:
        raise TensorIndexError("an index can only have a single ellipsis ('...')")
    if consumed > len(shape):
        raise TensorIndexError(f"too many indices for a tensor of shape {shape}: {consumed} were given")
    new_shape: list[int] = []
    new_strides: list[int] = []
    dim = 0
    for item in key:
        if item is None:
            new_shape.append(1)
            new_strides.append(0)
        elif item is Ellipsis:
            skip = len(shape) - consumed
            new_shape.extend(shape[dim : dim + skip])
            new_strides.extend(strides[dim : dim + skip])
            dim += skip
        elif isinstance(item, slice):
            if item.step == 0:
                raise TensorIndexError("slice step cannot be zero")
            selected = range(*item.indices(shape[dim]))
            length = len(selected)
            if length:
                offset += selected.start * strides[dim]
            new_shape.append(length)
            new_strides.append(strides[dim] * selected.step)
            dim += 1
        else:
            index = operator.index(item)
            size = shape[dim]
            if not -size <= index < size:
                raise TensorIndexError(f"index {index} is out of range for dimension {dim} with size {size}")
            offset += (index % size) * strides[dim]
            dim += 1
    new_shape.extend(shape[dim:])
    new_strides.extend(strides[dim:])
    return tuple(new_shape), tuple(new_strides), offset


class IndexingMixin:
    """``__getitem__``/``__setitem__`` of :class:`~hyperion.tensor.Tensor`."""

    __slots__ = ()

    def _normalize_key(self, key: Any) -> tuple[Any, ...]:
        return key if isinstance(key, tuple) else (key,)

    def _advanced_key(self, key: tuple[Any, ...]) -> tuple[Any, ...]:
        """Replace tensors/lists in an index with arrays on this tensor's device."""
        xp = self._xp()
        out = []
        for item in key:
            if hasattr(item, "_arr") and hasattr(item, "device"):
                if item.device != self.device:
                    raise TensorIndexError(f"index tensor is on {item.device} but the indexed tensor is on {self.device}")
                item = item._arr()
            elif isinstance(item, list | np.ndarray):
                from_list, item = isinstance(item, list), xp.asarray(item)
                if from_list and item.size == 0:  # NumPy reads an empty list ([], [[]]) as an empty integer index
                    item = item.astype(np.intp)
            if hasattr(item, "dtype") and getattr(item, "ndim", 0) and item.dtype.kind not in "iub":
                raise TensorIndexError(f"tensors used as indices must be integer or bool, got {item.dtype}")
            out.append(item)
        return tuple(out)

    def __getitem__(self, key: Any) -> Tensor:
        key = self._normalize_key(key)
        if all(_is_basic(item) for item in key):
            return self._view(*basic_layout(self._shape, self._strides, self._offset, key))
        try:
            return self._from_array(self._arr()[self._advanced_key(key)])
        except IndexError as exc:
            raise TensorIndexError(f"{exc} (indexing a tensor of shape {self._shape})") from None

    def __setitem__(self, key: Any, value: Any) -> None:
        key = self._normalize_key(key)
        if hasattr(value, "_arr") and hasattr(value, "device"):
            if value.device != self.device:
                raise TensorIndexError(f"cannot assign a tensor on {value.device} into a tensor on {self.device}")
            value = value._arr()
        try:
            if all(_is_basic(item) for item in key):
                target = self._view(*basic_layout(self._shape, self._strides, self._offset, key))
                target._arr()[...] = value
            else:
                self._arr()[self._advanced_key(key)] = value
        except ValueError as exc:
            shape = getattr(value, "shape", ())
            raise ShapeError(f"cannot assign a value of shape {tuple(shape)} into tensor[{key}] of shape {self._shape}: {exc}") from None
        except IndexError as exc:
            raise TensorIndexError(f"{exc} (indexing a tensor of shape {self._shape})") from None
