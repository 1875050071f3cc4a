"""Copies and conversions: ``clone``, ``contiguous``, ``astype``/``to`` (dtype and device).

A dtype cast between floating types is differentiable: the gradient is cast
back to the input's dtype. A cast to an integer or bool dtype is not (the
result does not require grad). A device move sends the gradient back to the
input's device.
"""

from __future__ import annotations

from typing import Any

from hyperion.autograd.function import Function, RawTensor, wrap
from hyperion.tensor.device import to_device
from hyperion.tensor.dtypes import to_dtype
from hyperion.tensor.errors import DTypeError


def _is_dtype_name(name: str) -> bool:
    try:
        to_dtype(name)
    except DTypeError:
        return False
    return True


class Clone(Function):
    """A copy with its own (contiguous) storage; the gradient passes through."""

    @staticmethod
    def forward(_ctx: Any, x: RawTensor) -> RawTensor:
        return x.clone()

    @staticmethod
    def backward(_ctx: Any, grad_out: Any) -> Any:
        return grad_out


class Cast(Function):
    """Convert to another floating dtype; the gradient is cast back."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, dtype: Any) -> RawTensor:
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        return Cast.apply(grad_out, ctx.in_dtype), None


class ToDevice(Function):
    """Copy to another device; the gradient is copied back."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, device: str) -> RawTensor:
        ctx.in_device = x.device
        return x.to(device=device)

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        return ToDevice.apply(grad_out, ctx.in_device), None


class ConvertMethods:
    """Copy and conversion methods of :class:`~hyperion.autograd.Tensor`."""

    __slots__ = ()

    def clone(self) -> Any:
        """A copy with its own storage (differentiable)."""
        return Clone.apply(self)

    def contiguous(self) -> Any:
        """This tensor if its data is row-major dense, else a dense copy (differentiable)."""
        return self if self.data.is_contiguous() else Clone.apply(self)

    def astype(self, dtype: Any) -> Any:
        """A copy converted to ``dtype`` (``self`` if it already has it).

        Floating-to-floating casts are differentiable; other casts give a
        tensor that does not require grad.
        """
        target = to_dtype(dtype)
        if target == self.data.dtype:
            return self
        if target.kind != "f":
            return wrap(self.data.astype(target))
        return Cast.apply(self, target)

    def to(self, target: Any = None, *, dtype: Any = None, device: Any = None) -> Any:
        """Move to a device and/or convert to a dtype: ``t.to("cuda")``, ``t.to("float64")``."""
        if target is not None:
            # A string names a dtype ("float64") or else a device ("cuda", or a typo such as "mps",
            # which to_device reports as an unknown device rather than as a strange dtype).
            if isinstance(target, str) and not _is_dtype_name(target):
                device = target
            else:
                dtype = target
        out = self
        if device is not None and to_device(device) != self.data.device:
            out = ToDevice.apply(out, to_device(device))
        return out.astype(dtype) if dtype is not None else out

    def cpu(self) -> Any:
        """This tensor on the CPU."""
        return self.to(device="cpu")

    def cuda(self) -> Any:
        """This tensor on the GPU (needs CuPy and a CUDA device)."""
        return self.to(device="cuda")

    def float(self) -> Any:
        """Cast to float32."""
        return self.astype("float32")

    def double(self) -> Any:
        """Cast to float64."""
        return self.astype("float64")

    def half(self) -> Any:
        """Cast to float16."""
        return self.astype("float16")
