"""``linear`` (``x Wᵀ + b`` as one ``Function``) and ``swiglu`` (``silu(a) ⊙ b`` of the two halves).

``linear`` is the hot op of every MLP, so forward and backward are a single
node each way: the forward is one matmul plus an in-place bias add; the
backward is ``gx = gy W`` and ``gW = gyᵀ x`` (two matmuls on autograd tensors,
so they are differentiable again) and ``gb = Σ gy`` over the leading dims.

Examples:
    >>> import hyperion.autograd as ag
    >>> from hyperion.nn import functional as F
    >>> F.linear(ag.ones(2, 3), ag.ones(4, 3), ag.zeros(4)).tolist()[0]
    [3.0, 3.0, 3.0, 3.0]
"""

from __future__ import annotations

from typing import Any

from hyperion.autograd import Function, Tensor
from hyperion.autograd.function import RawTensor
from hyperion.nn.functional._common import arr, as_input, check_same_device, raw_from, xp_of
from hyperion.nn.functional.activation import silu
from hyperion.tensor import ShapeError
from hyperion.tensor.layout import normalize_dim

__all__ = ["linear", "swiglu"]


class LinearFunction(Function):
    """``x @ weight.T + bias`` for ``x`` ``(..., in)``, ``weight`` ``(out, in)``, ``bias`` ``(out,)`` or ``None``."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, weight: RawTensor, bias: RawTensor | None) -> RawTensor:
        xp = xp_of(x)
        y = xp.matmul(arr(x), arr(weight).T)
        if bias is not None:
            y += arr(bias)
        ctx.save_for_backward(x, weight)
        return raw_from(y)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        gx = gw = gb = None
        if need_x:
            gx = grad_out.matmul(weight)
        out_features, in_features = weight.shape
        g2 = grad_out.reshape(-1, out_features) if grad_out.ndim != 2 else grad_out
        if need_w:
            x2 = x.reshape(-1, in_features) if x.ndim != 2 else x
            gw = g2.transpose(0, 1).matmul(x2)
        if need_b:
            gb = g2.sum(dim=0)
        return gx, gw, gb


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:  # noqa: A002 - PyTorch name
    """Affine map ``input @ weight.T + bias``.

    Args:
        input: ``(..., in_features)``.
        weight: ``(out_features, in_features)``.
        bias: optional ``(out_features,)``.

    Raises:
        ShapeError: if the input's last dimension is not ``in_features``, or the bias does not fit.
        DeviceError: if the weight or bias is on another device than the input.
    """
    x = as_input(input)
    w = as_input(weight, "weight")
    check_same_device(x, w, "linear", "weight")
    if w.ndim != 2:
        raise ShapeError(f"linear: weight must be 2-D (out_features, in_features), got shape {w.shape}")
    if x.ndim < 1 or x.shape[-1] != w.shape[1]:
        raise ShapeError(
            f"linear: input of shape {x.shape} has {x.shape[-1] if x.ndim else 0} features, "
            f"but weight of shape {w.shape} expects {w.shape[1]}"
        )
    if bias is not None:
        bias = as_input(bias, "bias")
        check_same_device(x, bias, "linear", "bias")
        if tuple(bias.shape) != (w.shape[0],):
            raise ShapeError(f"linear: bias must have shape ({w.shape[0]},), got {bias.shape}")
    return LinearFunction.apply(x, w, bias)


def swiglu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002 - PyTorch-style name
    """Split ``input`` in two halves ``a, b`` along ``dim`` and return ``silu(a) ⊙ b``.

    Raises:
        TensorIndexError: if ``dim`` is out of range for the input.
        ShapeError: if that dimension has an odd size.
    """
    x = as_input(input)
    dim = normalize_dim(dim, x.ndim)
    size = x.shape[dim]
    if size % 2:
        raise ShapeError(f"swiglu: dimension {dim} of input shape {x.shape} must have an even size")
    a, b = x.split(size // 2, dim)
    return silu(a) * b
