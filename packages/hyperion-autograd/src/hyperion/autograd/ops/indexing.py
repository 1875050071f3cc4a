"""Indexing: ``t[key]``, ``t[key] = value`` and in-place updates, with their gradients.

Reading (:class:`GetItem`) with a *basic* key (ints, slices, ``None``,
``...``) gives a view; with an *advanced* key (integer arrays, boolean masks)
a copy. Either way the gradient is scattered into zeros of the input's shape
(:class:`IndexScatter`); for advanced keys it is scatter-*added*
(``add.at``), so an element picked twice gets both gradients.

Writing (``t[key] = value``, :class:`IndexPut`) changes ``t`` in place and,
in grad mode, makes ``t`` the output of a new node whose inputs are the old
``t`` and ``value``: the old ``t`` gets the gradient with zeros at ``key``,
``value`` gets the gradient at ``key`` (summed by the engine to its shape if it
was broadcast). Every in-place write bumps the version counter of the data
it writes, so a tensor saved for backward that is later overwritten makes
backward fail with an error naming the op that saved it.

In-place writes are refused, in grad mode, on a leaf that requires grad
(its gradient would be lost) and on a view of a tensor in the graph (write
into the base tensor with an index instead).
"""

from __future__ import annotations

from typing import Any

import numpy as np

import hyperion.tensor as ht
from hyperion.autograd._mode import MODE
from hyperion.autograd.function import Function, RawTensor, is_tensor, unwrap, version_counter
from hyperion.tensor import layout
from hyperion.tensor.device import array_module

Layout = tuple[tuple[int, ...], tuple[int, ...], int]


def layout_of(x: RawTensor) -> Layout:
    """``(shape, strides, offset)`` of a raw tensor."""
    return x.shape, x.strides, x.offset


def raw_key(key: Any) -> tuple[Any, ...]:
    """An index key as a tuple, with autograd tensors replaced by their data."""
    items = key if isinstance(key, tuple) else (key,)
    return tuple(unwrap(item) for item in items)


def _is_advanced(key: tuple[Any, ...]) -> bool:
    for item in key:
        if item is None or item is Ellipsis or isinstance(item, slice):
            continue
        if isinstance(item, bool | np.bool_):
            return True
        if isinstance(item, int | np.integer):
            continue
        if getattr(item, "ndim", None) == 0 and item.dtype.kind in "iu":
            continue
        return True
    return False


def _array_key(key: tuple[Any, ...], xp: Any) -> tuple[Any, ...]:
    """The key with tensors and lists as arrays of the device's array module (for ``add.at``)."""
    out = []
    for item in key:
        if isinstance(item, RawTensor):
            item = item._arr()
        elif isinstance(item, list | np.ndarray):
            item = xp.asarray(item)
        out.append(item)
    return tuple(out)


class GetItem(Function):
    """``x[key]``: a view for basic keys, a gather for advanced ones."""

    is_view = True  # only takes effect when the result shares storage (basic keys)

    @staticmethod
    def forward(ctx: Any, x: RawTensor, key: tuple[Any, ...]) -> RawTensor:
        ctx.key = key
        ctx.in_shape = x.shape
        return x[key]

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        return IndexScatter.apply(grad_out, ctx.key, ctx.in_shape, _is_advanced(ctx.key)), None


class IndexScatter(Function):
    """Zeros of ``shape`` with ``g`` written (or, ``accumulate``, added) at ``key``: the adjoint of ``x[key]``."""

    @staticmethod
    def forward(ctx: Any, g: RawTensor, key: tuple[Any, ...], shape: tuple[int, ...], accumulate: bool) -> RawTensor:
        ctx.key = key
        out = ht.zeros(shape, dtype=g.dtype, device=g.device)
        if accumulate:
            xp = array_module(g.device)
            values = g._arr()
            xp.add.at(out._arr(), _array_key(key, xp), values)
        else:
            out[key] = g
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        return GetItem.apply(grad_out, ctx.key), None, None, None


class IndexFill(Function):
    """A copy of ``g`` with zeros at ``key`` (what the overwritten tensor's gradient is)."""

    @staticmethod
    def forward(ctx: Any, g: RawTensor, key: tuple[Any, ...]) -> RawTensor:
        ctx.key = key
        out = g.clone()
        out[key] = 0
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        return IndexFill.apply(grad_out, ctx.key), None


class IndexPut(Function):
    """``target[key] = value``, done in place on the target's data (see :func:`index_put_`)."""

    @staticmethod
    def forward(ctx: Any, target: RawTensor, value: Any, key: tuple[Any, ...]) -> RawTensor:
        ctx.key = key
        ctx.value_ndim = getattr(value, "ndim", 0)
        target[key] = value
        return target

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        need_target, need_value, _ = ctx.needs_input_grad
        grad_target = IndexFill.apply(grad_out, ctx.key) if need_target else None
        grad_value = None
        if need_value:
            grad_value = GetItem.apply(grad_out, ctx.key)
            extra = ctx.value_ndim - grad_value.ndim
            if extra > 0:  # assignment drops leading size-1 dims of the value; put them back
                grad_value = grad_value.reshape((1,) * extra + grad_value.shape)
        return grad_target, grad_value, None


def index_put_(target: Any, key: Any, value: Any) -> None:
    """Write ``value`` into ``target[key]`` in place, recording the write in grad mode.

    Raises:
        RuntimeError: in grad mode, for a leaf that requires grad, or for a
            view of a tensor in the graph.
    """
    key = raw_key(key)
    if not (is_tensor(value) or isinstance(value, bool | int | float | RawTensor)):
        value = ht.as_tensor(value)
    grad_enabled = MODE.get().grad_enabled
    value_requires_grad = is_tensor(value) and value._rg
    if grad_enabled:
        if target._rg and target._grad_fn is None:
            raise RuntimeError(
                f"a leaf tensor that requires grad (shape {target.shape}) cannot be modified in place: its gradient "
                "would be lost. Modify it under no_grad() (e.g. a parameter update) or use out-of-place ops."
            )
        if target._base is not None and (target._grad_fn is not None or value_requires_grad):
            raise RuntimeError(
                f"in-place write into a view (shape {target.shape}) of a tensor in the graph is not supported: "
                "write into the base tensor with an index instead (base[index] = value)"
            )
    if grad_enabled and (target._rg or value_requires_grad):
        old = target._grad_fn
        node = IndexPut.apply(target, value, key)._grad_fn
        if old is not None and old._retained is not None:
            node._retained, old._retained = old._retained, None
        target._grad_fn = node
        target._rg = True
    else:
        target.data[key] = unwrap(value)
    version_counter(target).value += 1


# -- gradients of arbitrary strided views (diagonal, unfold, as_strided) -----------------------


def _positions(shape: tuple[int, ...], strides: tuple[int, ...], offset: int, xp: Any) -> Any:
    """The storage position of every element of a layout, as an int64 array of ``shape``."""
    pos = xp.full(shape, offset, dtype=np.int64)
    for k, (size, stride) in enumerate(zip(shape, strides, strict=True)):
        axis = [1] * len(shape)
        axis[k] = size
        pos = pos + (xp.arange(size, dtype=np.int64) * stride).reshape(axis)
    return pos


def element_map(source: Layout, view: Layout, device: str) -> RawTensor:
    """For each element of ``view``, the row-major index of the ``source`` element at the same storage position.

    Both layouts describe the same storage. Elements of ``view`` outside
    ``source`` map to -1.

    Raises:
        ValueError: if ``source``'s elements overlap in memory (an expanded
            tensor): which of them a view element belongs to is ambiguous.
    """
    xp = array_module(device)
    (s_shape, s_strides, s_offset), (v_shape, v_strides, v_offset) = source, view
    s_count, v_count = layout.numel(s_shape), layout.numel(v_shape)
    if v_count == 0 or s_count == 0:
        return ht.Tensor._from_array(xp.full(v_shape, -1, dtype=np.int64))
    s_lo, s_hi = layout.memory_extent(s_shape, s_strides, s_offset)
    v_lo, v_hi = layout.memory_extent(v_shape, v_strides, v_offset)
    lo, hi = min(s_lo, v_lo), max(s_hi, v_hi)
    source_pos = _positions(s_shape, s_strides, s_offset - lo, xp).reshape(-1)
    inverse = xp.full(hi - lo + 1, -1, dtype=np.int64)
    inverse[source_pos] = xp.arange(s_count, dtype=np.int64)
    if int((inverse >= 0).sum()) != s_count:
        raise ValueError(
            f"cannot differentiate a strided view of a tensor whose elements overlap in memory "
            f"(shape {s_shape}, strides {s_strides}); call .contiguous() on it first"
        )
    return ht.Tensor._from_array(inverse[_positions(v_shape, v_strides, v_offset - lo, xp)])


class ScatterAdd(Function):
    """Zeros of ``shape`` with each element of ``g`` added at the flat index ``index`` gives (-1: dropped)."""

    @staticmethod
    def forward(ctx: Any, g: RawTensor, index: RawTensor, shape: tuple[int, ...]) -> RawTensor:
        ctx.index = index
        xp = array_module(g.device)
        flat = xp.zeros(layout.numel(shape), dtype=g.dtype)
        idx = index._arr()
        valid = idx >= 0
        xp.add.at(flat, idx[valid], g._arr()[valid])
        return ht.Tensor._from_array(flat.reshape(shape))

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        return Gather.apply(grad_out, ctx.index), None, None


class Gather(Function):
    """``x.flat[index]`` (0 where ``index`` is -1): the adjoint of :class:`ScatterAdd`."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, index: RawTensor) -> RawTensor:
        ctx.index = index
        ctx.shape = x.shape
        xp = array_module(x.device)
        idx = index._arr()
        valid = idx >= 0
        flat = xp.ascontiguousarray(x._arr()).reshape(-1)
        out = (
            xp.where(valid, flat[xp.where(valid, idx, 0)], xp.zeros((), dtype=x.dtype))
            if flat.size
            else (xp.zeros(idx.shape, dtype=x.dtype))
        )
        return ht.Tensor._from_array(out)

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        return ScatterAdd.apply(grad_out, ctx.index, ctx.shape), None


class IndexingMethods:
    """Indexing and in-place methods of :class:`~hyperion.autograd.Tensor`."""

    __slots__ = ()

    def __getitem__(self, key: Any) -> Any:
        return GetItem.apply(self, raw_key(key))

    def __setitem__(self, key: Any, value: Any) -> None:
        index_put_(self, key, value)

    def copy_(self, source: Any) -> Any:
        """Overwrite the values with ``source`` (broadcast to this shape), in place."""
        index_put_(self, (Ellipsis,), source)
        return self

    def fill_(self, value: float) -> Any:
        """Set every element to ``value``, in place."""
        index_put_(self, (Ellipsis,), value)
        return self

    def zero_(self) -> Any:
        """Set every element to 0, in place."""
        index_put_(self, (Ellipsis,), 0)
        return self

    def _update_(self, op: str, other: Any) -> Any:
        # In grad mode the op reads a copy: the original data is about to be overwritten,
        # and the op might have saved it for its backward.
        source = self.clone() if MODE.get().grad_enabled and (self._rg or (is_tensor(other) and other._rg)) else self
        index_put_(self, (Ellipsis,), getattr(source, op)(other))
        return self

    def add_(self, other: Any, alpha: float = 1) -> Any:
        """``self += alpha * other``, in place."""
        return self._update_("__add__", other if alpha == 1 else other * alpha)

    def sub_(self, other: Any, alpha: float = 1) -> Any:
        """``self -= alpha * other``, in place."""
        return self._update_("__sub__", other if alpha == 1 else other * alpha)

    def mul_(self, other: Any) -> Any:
        """``self *= other``, in place."""
        return self._update_("__mul__", other)

    def div_(self, other: Any) -> Any:
        """``self /= other``, in place."""
        return self._update_("__truediv__", other)

    def clamp_(self, min: Any = None, max: Any = None) -> Any:  # noqa: A002 - PyTorch names
        """Clip to ``[min, max]``, in place."""
        source = self.clone() if MODE.get().grad_enabled and self._rg else self
        index_put_(self, (Ellipsis,), source.clip(min, max))
        return self

    clip_ = clamp_

    def __iadd__(self, other: Any) -> Any:
        return self.add_(other)

    def __isub__(self, other: Any) -> Any:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Any:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Any:
        return self.div_(other)
