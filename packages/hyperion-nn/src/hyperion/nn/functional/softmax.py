"""``softmax`` and ``log_softmax``: fused ops whose array-level kernels come from the registry.

Both subtract the maximum along ``dim`` before exponentiating (log-sum-exp),
so logits of ±1e4 neither overflow nor underflow to NaN. Each is one
``Function``; its forward and its backward run the array-level kernels
``nn.softmax_forward``/``nn.softmax_backward`` (and the ``log_softmax`` pair)
looked up in :mod:`hyperion.tensor.registry`. The references registered here
are composed NumPy/CuPy code; an installed provider (hyperion-kernels) may
override them. Kernels see C-contiguous 2-D ``(rows, n)`` arrays: the reduced
dimension is moved last and the others flattened here, in one place.

* softmax: ``y = exp(x - max) / Σ exp(x - max)``; ``gx = y ⊙ (gy - Σ gy ⊙ y)``;
* log_softmax: ``y = x - max - log Σ exp(x - max)``; ``gx = gy - exp(y) Σ gy``.

When the backward itself is recorded (``create_graph=True``), it is built from
autograd ops on the saved output instead, so it can be differentiated again.

Examples:
    >>> import hyperion.autograd as ag
    >>> from hyperion.nn import functional as F
    >>> F.softmax(ag.tensor([0.0, 0.0]), dim=0).tolist()
    [0.5, 0.5]
"""

from __future__ import annotations

from typing import Any

from hyperion.autograd import Function, Tensor, is_grad_enabled
from hyperion.autograd.function import RawTensor
from hyperion.nn.functional._common import arr, as_input, constant, raw_from, xp_of
from hyperion.tensor import layout, registry

__all__ = ["log_softmax", "softmax"]

KERNEL_DTYPES = ("float32", "float64")
"""Input dtypes for which a provider's kernel is used; others always run the reference."""


def kernel_for(op: str, device: str, dtype: Any, reference: Any) -> Any:
    """The registry's implementation of ``op`` for float32/float64 data, else ``reference`` itself."""
    return registry.lookup(op, device) if str(dtype) in KERNEL_DTYPES else reference


def to_rows(a: Any, dim: int, xp: Any) -> tuple[Any, tuple[int, ...]]:
    """``a`` with ``dim`` moved last, as a C-contiguous ``(rows, n)`` array, and the moved shape."""
    moved = xp.moveaxis(a, dim, -1) if dim != a.ndim - 1 else a
    return xp.ascontiguousarray(moved.reshape(-1, moved.shape[-1]) if moved.ndim else moved.reshape(1, 1)), moved.shape


def from_rows(a2d: Any, moved_shape: tuple[int, ...], dim: int, xp: Any) -> Any:
    """Undo :func:`to_rows`: the ``(rows, n)`` result back to the original layout (a view)."""
    out = a2d.reshape(moved_shape)
    return xp.moveaxis(out, -1, dim) if dim != out.ndim - 1 else out


def softmax_forward_reference(x2d: Any) -> Any:
    """Reference ``nn.softmax_forward``: softmax over the last axis of a 2-D array."""
    xp = xp_of_array(x2d)
    e = x2d - x2d.max(axis=-1, keepdims=True)
    xp.exp(e, out=e)
    e /= e.sum(axis=-1, keepdims=True)
    return e


def softmax_backward_reference(y2d: Any, gy2d: Any) -> Any:
    """Reference ``nn.softmax_backward``: ``y ⊙ (gy - Σ gy ⊙ y)`` along the last axis."""
    return y2d * (gy2d - (gy2d * y2d).sum(axis=-1, keepdims=True))


def log_softmax_forward_reference(x2d: Any) -> Any:
    """Reference ``nn.log_softmax_forward``: ``x - max - log Σ exp(x - max)`` along the last axis."""
    xp = xp_of_array(x2d)
    shifted = x2d - x2d.max(axis=-1, keepdims=True)
    shifted -= xp.log(xp.exp(shifted).sum(axis=-1, keepdims=True))
    return shifted


def log_softmax_backward_reference(y2d: Any, gy2d: Any) -> Any:
    """Reference ``nn.log_softmax_backward``: ``gy - exp(y) Σ gy`` along the last axis."""
    xp = xp_of_array(y2d)
    return gy2d - xp.exp(y2d) * gy2d.sum(axis=-1, keepdims=True)


def xp_of_array(a: Any) -> Any:
    """``numpy`` or ``cupy``, whichever ``a`` belongs to (NumPy unless CuPy is loaded and ``a`` is its array)."""
    module = type(a).__module__
    if module.startswith("cupy"):
        import cupy

        return cupy
    import numpy

    return numpy


registry.register_reference("nn.softmax_forward", softmax_forward_reference)
registry.register_reference("nn.softmax_backward", softmax_backward_reference)
registry.register_reference("nn.log_softmax_forward", log_softmax_forward_reference)
registry.register_reference("nn.log_softmax_backward", log_softmax_backward_reference)


class _RowOp(Function):
    """A row op along ``dim``: forward and backward kernels from the registry (see the module docstring)."""

    forward_op = ""
    backward_op = ""
    forward_reference: Any = None
    backward_reference: Any = None

    @classmethod
    def forward(cls, ctx: Any, x: RawTensor, dim: int) -> RawTensor:  # type: ignore[override]
        xp = xp_of(x)
        rows, moved = to_rows(arr(x), dim, xp)
        impl = kernel_for(cls.forward_op, x.device, rows.dtype, cls.forward_reference)
        out = raw_from(from_rows(impl(rows), moved, dim, xp))
        ctx.dim = dim
        ctx.save_for_backward(out)
        return out

    @classmethod
    def backward(cls, ctx: Any, grad_out: Tensor) -> Any:  # type: ignore[override]
        (y,) = ctx.saved_tensors
        if is_grad_enabled():
            return cls.differentiable_backward(y, grad_out, ctx.dim), None
        xp = xp_of(y)
        y2d, moved = to_rows(arr(y.data), ctx.dim, xp)
        gy2d, _ = to_rows(arr(grad_out.data).astype(y2d.dtype, copy=False), ctx.dim, xp)
        impl = kernel_for(cls.backward_op, y.device, y2d.dtype, cls.backward_reference)
        return constant(from_rows(impl(y2d, gy2d), moved, ctx.dim, xp)), None

    @staticmethod
    def differentiable_backward(y: Tensor, grad_out: Tensor, dim: int) -> Tensor:
        raise NotImplementedError("a _RowOp subclass must define differentiable_backward(y, grad_out, dim)")


class Softmax(_RowOp):
    """``softmax`` along one dimension (stable)."""

    forward_op, backward_op = "nn.softmax_forward", "nn.softmax_backward"
    forward_reference = staticmethod(softmax_forward_reference)
    backward_reference = staticmethod(softmax_backward_reference)

    @staticmethod
    def differentiable_backward(y: Tensor, grad_out: Tensor, dim: int) -> Tensor:
        return y * (grad_out - (grad_out * y).sum(dim=dim, keepdim=True))


class LogSoftmax(_RowOp):
    """``log_softmax`` along one dimension (stable)."""

    forward_op, backward_op = "nn.log_softmax_forward", "nn.log_softmax_backward"
    forward_reference = staticmethod(log_softmax_forward_reference)
    backward_reference = staticmethod(log_softmax_backward_reference)

    @staticmethod
    def differentiable_backward(y: Tensor, grad_out: Tensor, dim: int) -> Tensor:
        return grad_out - y.exp() * grad_out.sum(dim=dim, keepdim=True)


def _prepare(input: Any, dim: int, dtype: Any) -> tuple[Tensor, int]:
    x = as_input(input)
    if dtype is not None:
        x = x.astype(dtype)
    if x.ndim == 0:
        x = x.reshape(1)
        return x, 0
    return x, layout.normalize_dim(dim, x.ndim)


def softmax(input: Tensor, dim: int = -1, dtype: Any = None) -> Tensor:  # noqa: A002 - PyTorch name
    """``exp(x) / Σ exp(x)`` along ``dim``, computed stably.

    Args:
        input: any tensor.
        dim: the dimension that sums to one.
        dtype: cast the input to this dtype first.
    """
    x, d = _prepare(input, dim, dtype)
    out = Softmax.apply(x, d)
    return out.reshape(()) if getattr(input, "ndim", 1) == 0 else out


def log_softmax(input: Tensor, dim: int = -1, dtype: Any = None) -> Tensor:  # noqa: A002 - PyTorch name
    """``x - log Σ exp(x)`` along ``dim``, computed stably (no overflow at ±1e4)."""
    x, d = _prepare(input, dim, dtype)
    out = LogSoftmax.apply(x, d)
    return out.reshape(()) if getattr(input, "ndim", 1) == 0 else out
