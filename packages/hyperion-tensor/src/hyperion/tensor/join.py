"""Functions over several tensors: ``cat``, ``stack``, ``where``, and structured builders.

``cat`` and ``stack`` copy (their inputs live in different storages);
``split``/``chunk`` are views and live on the tensor (:mod:`._views`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hyperion.tensor._math import apply_elementwise, xp_of
from hyperion.tensor.dtypes import int64
from hyperion.tensor.errors import DeviceError, ShapeError
from hyperion.tensor.layout import normalize_dim
from hyperion.tensor.registry import lookup, register_reference
from hyperion.tensor.tensor import Tensor


def _concatenate(arrays: Sequence[Any], axis: int) -> Any:
    return xp_of(*arrays).concatenate(arrays, axis=axis)


def _stack(arrays: Sequence[Any], axis: int) -> Any:
    return xp_of(*arrays).stack(arrays, axis=axis)


register_reference("cat", _concatenate)
register_reference("stack", _stack)


def _same_device(tensors: Sequence[Tensor], what: str) -> str:
    if not tensors:
        raise ValueError(f"{what} needs at least one tensor")
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        raise DeviceError(f"{what}: expected all tensors on the same device, got {sorted(devices)}")
    return tensors[0].device


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension (all other sizes must match).

    Example:
        >>> import hyperion.tensor as ht
        >>> cat([ht.zeros(2, 3), ht.ones(1, 3)]).shape
        (3, 3)
    """
    tensors = list(tensors)
    device = _same_device(tensors, "cat")
    ndim = tensors[0].ndim
    if ndim == 0:
        raise ShapeError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    d = normalize_dim(dim, ndim)
    for t in tensors[1:]:
        if t.ndim != ndim or any(a != b for k, (a, b) in enumerate(zip(t.shape, tensors[0].shape)) if k != d):
            shapes = [t.shape for t in tensors]
            raise ShapeError(f"cat along dim {d}: shapes {shapes} must match except in dimension {d}")
    return Tensor._from_array(lookup("cat", device)([t._arr() for t in tensors], d))


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join equally shaped tensors along a new dimension ``dim``."""
    tensors = list(tensors)
    device = _same_device(tensors, "stack")
    shapes = {t.shape for t in tensors}
    if len(shapes) > 1:
        raise ShapeError(f"stack needs tensors of one shape, got {[t.shape for t in tensors]}")
    d = normalize_dim(dim, tensors[0].ndim + 1)
    return Tensor._from_array(lookup("stack", device)([t._arr() for t in tensors], d))


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """``x`` where ``condition`` is true, else ``y`` (all three broadcast together)."""
    like = next((v for v in (condition, x, y) if isinstance(v, Tensor)), None)
    if like is None:
        raise TypeError("where needs at least one tensor argument")
    return apply_elementwise("where", like.device, (condition, x, y), Tensor._from_array)


def one_hot(indices: Tensor, num_classes: int = -1) -> Tensor:
    """Integer class indices → a ``(..., num_classes)`` int64 tensor of 0/1.

    Raises:
        ValueError: naming the first index outside ``[0, num_classes)``.
    """
    if indices.dtype.kind not in "iu":
        raise TypeError(f"one_hot needs integer indices, got {indices.dtype}")
    values = indices._arr()
    xp = xp_of(values)
    if num_classes < 0:
        num_classes = int(values.max()) + 1 if values.size else 0
    bad = (values < 0) | (values >= num_classes)
    if values.size and bool(bad.any()):
        first = values[bad].reshape(-1)[0].item()
        raise ValueError(f"one_hot: index {first} is out of range for num_classes={num_classes}")
    return Tensor._from_array((values[..., None] == xp.arange(num_classes)).astype(int64))


def _triangle(x: Tensor, diagonal: int, upper: bool) -> Tensor:
    if x.ndim < 2:
        raise ShapeError(f"{'triu' if upper else 'tril'} needs at least 2 dimensions, got shape {x.shape}")
    xp = xp_of(x._arr())
    fn = xp.triu if upper else xp.tril
    return Tensor._from_array(fn(x._arr(), k=diagonal))


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """Zero the elements above the ``diagonal``-th diagonal of the last two dims."""
    return _triangle(x, diagonal, upper=False)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """Zero the elements below the ``diagonal``-th diagonal of the last two dims."""
    return _triangle(x, diagonal, upper=True)
