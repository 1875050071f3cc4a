"""``softmax`` and ``log_softmax``: fused ops that go through the kernel registry.

Both subtract the maximum along ``dim`` before exponentiating (log-sum-exp),
so logits of ±1e4 neither overflow nor underflow to NaN. The reference
implementation of each is one ``Function`` whose forward works on raw arrays
and whose backward is built from autograd ops on the saved output:

* softmax: ``y = exp(x - max) / Σ exp(x - max)``; ``gx = y ⊙ (gy - Σ gy ⊙ y)``;
* log_softmax: ``y = x - max - log Σ exp(x - max)``; ``gx = gy - exp(y) Σ gy``.

Examples:
    >>> import hyperion.autograd as ag
    >>> from hyperion.nn import functional as F
    >>> F.softmax(ag.tensor([0.0, 0.0]), dim=0).tolist()
    [0.5, 0.5]
"""

from __future__ import annotations

from typing import Any

from hyperion.autograd import Function, Tensor
from hyperion.autograd.function import RawTensor
from hyperion.nn.functional._common import arr, as_input, raw_from, xp_of
from hyperion.tensor import layout, registry

__all__ = ["log_softmax", "softmax"]


class Softmax(Function):
    """``softmax`` along one dimension (stable)."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, dim: int) -> RawTensor:
        a = arr(x)
        xp = xp_of(x)
        shifted = a - a.max(axis=dim, keepdims=True)
        e = xp.exp(shifted, out=shifted)
        e /= e.sum(axis=dim, keepdims=True)
        out = raw_from(e)
        ctx.dim = dim
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        (y,) = ctx.saved_tensors
        return y * (grad_out - (grad_out * y).sum(dim=ctx.dim, keepdim=True)), None


class LogSoftmax(Function):
    """``log_softmax`` along one dimension (stable)."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, dim: int) -> RawTensor:
        a = arr(x)
        xp = xp_of(x)
        shifted = a - a.max(axis=dim, keepdims=True)
        shifted -= xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        out = raw_from(shifted)
        ctx.dim = dim
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        (y,) = ctx.saved_tensors
        return grad_out - y.exp() * grad_out.sum(dim=ctx.dim, keepdim=True), None


def softmax_reference(input: Tensor, dim: int) -> Tensor:  # noqa: A002 - PyTorch name
    """Reference ``nn.softmax`` kernel: ``(input, dim) -> output``, ``dim`` already non-negative."""
    return Softmax.apply(input, dim)


def log_softmax_reference(input: Tensor, dim: int) -> Tensor:  # noqa: A002 - PyTorch name
    """Reference ``nn.log_softmax`` kernel: ``(input, dim) -> output``, ``dim`` already non-negative."""
    return LogSoftmax.apply(input, dim)


registry.register_reference("nn.softmax", softmax_reference)
registry.register_reference("nn.log_softmax", log_softmax_reference)


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
    out = registry.lookup("nn.softmax", x.device)(x, d)
    return out.reshape(()) if getattr(input, "ndim", 1) == 0 else out


def log_softmax(input: Tensor, dim: int = -1, dtype: Any = None) -> Tensor:  # noqa: A002 - PyTorch name
    """``x - log Σ exp(x)`` along ``dim``, computed stably (no overflow at ±1e4)."""
    x, d = _prepare(input, dim, dtype)
    out = registry.lookup("nn.log_softmax", x.device)(x, d)
    return out.reshape(()) if getattr(input, "ndim", 1) == 0 else out
