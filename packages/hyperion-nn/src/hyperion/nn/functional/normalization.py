"""Normalization: ``layer_norm`` and ``rms_norm`` (fused, through the registry), ``batch_norm``, ``group_norm``.

``layer_norm`` and ``rms_norm`` are one ``Function`` each whose forward and
backward run the array-level kernels ``nn.layer_norm_forward``/``_backward`` and
``nn.rms_norm_forward``/``_backward`` from the registry, on the input flattened
to C-contiguous ``(rows, n)``; the references registered here are composed
NumPy/CuPy code. With ``create_graph=True`` their backward is built from
autograd ops instead, so it is differentiable again. ``batch_norm`` and
``group_norm`` are composed from autograd ops (``mean``, ``rsqrt``,
broadcasting arithmetic). Variances
used for normalising are biased (divide by ``n``), as in PyTorch; the running
variance that ``batch_norm`` tracks is unbiased (``n - 1``).

Examples:
    >>> import hyperion.autograd as ag
    >>> from hyperion.nn import functional as F
    >>> y = F.layer_norm(ag.tensor([[1.0, 3.0]]), (2,))
    >>> [round(v, 3) for v in y.tolist()[0]]
    [-1.0, 1.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hyperion.autograd import Function, Tensor, is_grad_enabled, no_grad
from hyperion.autograd.function import RawTensor
from hyperion.nn.functional._common import arr, as_input, constant, raw_from, xp_of
from hyperion.nn.functional.softmax import kernel_for, xp_of_array
from hyperion.tensor import ShapeError, registry

__all__ = ["batch_norm", "group_norm", "layer_norm", "rms_norm"]


def _normalized_dims(
    x: Tensor, normalized_shape: Sequence[int] | int, op: str
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(int(s) for s in normalized_shape)
    k = len(shape)
    if k == 0 or k > x.ndim or tuple(x.shape[x.ndim - k :]) != shape:
        raise ShapeError(
            f"{op}: normalized_shape {shape} must equal the trailing dimensions of the input, "
            f"but the input has shape {x.shape}"
        )
    return shape, tuple(range(x.ndim - k, x.ndim))


def _check_affine(param: Any, shape: tuple[int, ...], name: str, op: str) -> Tensor | None:
    if param is None:
        return None
    p = as_input(param, name)
    if tuple(p.shape) != shape:
        raise ShapeError(f"{op}: {name} must have shape {shape}, got {p.shape}")
    return p


def layer_norm_forward_reference(x2d: Any, weight: Any, bias: Any, eps: float) -> tuple[Any, Any, Any]:
    """Reference ``nn.layer_norm_forward``: ``(y, mean, rstd)`` over the last axis (biased variance)."""
    xp = xp_of_array(x2d)
    mean = x2d.mean(axis=-1)
    centered = x2d - mean[:, None]
    var = (centered * centered).mean(axis=-1)
    rstd = 1.0 / xp.sqrt(var + eps)
    out = centered * rstd[:, None]
    if weight is not None:
        out *= weight
    if bias is not None:
        out += bias
    return out, mean, rstd


def layer_norm_backward_reference(gy2d: Any, x2d: Any, mean: Any, rstd: Any, weight: Any) -> tuple[Any, Any, Any]:
    """Reference ``nn.layer_norm_backward``: ``(gx, gweight, gbias)`` (``None`` twice without weight)."""
    xhat = (x2d - mean[:, None]) * rstd[:, None]
    g = gy2d * weight if weight is not None else gy2d
    gx = rstd[:, None] * (g - g.mean(axis=-1, keepdims=True) - xhat * (g * xhat).mean(axis=-1, keepdims=True))
    if weight is None:
        return gx, None, None
    return gx, (gy2d * xhat).sum(axis=0), gy2d.sum(axis=0)


def rms_norm_forward_reference(x2d: Any, weight: Any, eps: float) -> tuple[Any, Any]:
    """Reference ``nn.rms_norm_forward``: ``(y, rstd)`` with ``rstd = 1/sqrt(mean(x²) + eps)``."""
    xp = xp_of_array(x2d)
    rstd = 1.0 / xp.sqrt((x2d * x2d).mean(axis=-1) + eps)
    out = x2d * rstd[:, None]
    if weight is not None:
        out *= weight
    return out, rstd


def rms_norm_backward_reference(gy2d: Any, x2d: Any, rstd: Any, weight: Any) -> tuple[Any, Any]:
    """Reference ``nn.rms_norm_backward``: ``(gx, gweight)`` (``None`` without weight)."""
    xhat = x2d * rstd[:, None]
    g = gy2d * weight if weight is not None else gy2d
    gx = rstd[:, None] * (g - xhat * (g * xhat).mean(axis=-1, keepdims=True))
    return gx, (None if weight is None else (gy2d * xhat).sum(axis=0))


registry.register_reference("nn.layer_norm_forward", layer_norm_forward_reference)
registry.register_reference("nn.layer_norm_backward", layer_norm_backward_reference)
registry.register_reference("nn.rms_norm_forward", rms_norm_forward_reference)
registry.register_reference("nn.rms_norm_backward", rms_norm_backward_reference)


def _flat_rows(x: RawTensor, n: int) -> Any:
    return xp_of(x).ascontiguousarray(arr(x).reshape(-1, n))


def _flat_param(p: RawTensor | None) -> Any:
    return None if p is None else xp_of(p).ascontiguousarray(arr(p).reshape(-1))


def _differentiable_stats(x: Tensor, dims: tuple[int, ...], eps: float, centred: bool) -> tuple[Tensor, Tensor]:
    """``(x̂, rstd)`` recomputed from autograd ops (for a backward that is itself differentiated)."""
    if centred:
        x = x - x.mean(dim=dims, keepdim=True)
    rstd = ((x * x).mean(dim=dims, keepdim=True) + eps).rsqrt()
    return x * rstd, rstd


class LayerNorm(Function):
    """``layer_norm`` over the trailing dims: kernels ``nn.layer_norm_forward``/``_backward``."""

    @staticmethod
    def forward(
        ctx: Any, x: RawTensor, weight: RawTensor | None, bias: RawTensor | None, shape: tuple[int, ...], eps: float
    ) -> RawTensor:
        n = int(np.prod(shape))
        rows = _flat_rows(x, n)
        impl = kernel_for("nn.layer_norm_forward", x.device, rows.dtype, layer_norm_forward_reference)
        y, mean, rstd = impl(rows, _flat_param(weight), _flat_param(bias), eps)
        ctx.stats = (mean, rstd)
        ctx.shape, ctx.eps, ctx.has_bias = shape, eps, bias is not None
        ctx.save_for_backward(x, weight)
        return raw_from(y.reshape(x.shape))

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        x, weight = ctx.saved_tensors
        dims = tuple(range(x.ndim - len(ctx.shape), x.ndim))
        lead = tuple(range(x.ndim - len(ctx.shape)))
        if is_grad_enabled():
            xhat, rstd = _differentiable_stats(x, dims, ctx.eps, centred=True)
            g = grad_out * weight if weight is not None else grad_out
            gx = rstd * (g - g.mean(dim=dims, keepdim=True) - xhat * (g * xhat).mean(dim=dims, keepdim=True))
            gw = (grad_out * xhat).sum(dim=lead) if weight is not None and lead else (grad_out * xhat)
            gb = grad_out.sum(dim=lead) if lead else grad_out
        else:
            n = int(np.prod(ctx.shape))
            xa = _flat_rows(x.data, n)
            gy = xp_of(x).ascontiguousarray(arr(grad_out.data).reshape(-1, n)).astype(xa.dtype, copy=False)
            wa = None if weight is None else _flat_param(weight.data)
            impl = kernel_for("nn.layer_norm_backward", x.device, xa.dtype, layer_norm_backward_reference)
            gxa, gwa, gba = impl(gy, xa, *ctx.stats, wa)
            gx = constant(gxa.reshape(x.shape))
            if weight is not None:
                gw, gb = constant(gwa.reshape(ctx.shape)), constant(gba.reshape(ctx.shape))
            else:
                gw = None
                gb = grad_out.sum(dim=lead) if lead else grad_out
        return gx, (gw if weight is not None else None), (gb if ctx.has_bias else None), None, None


class RMSNorm(Function):
    """``rms_norm`` over the trailing dims: kernels ``nn.rms_norm_forward``/``_backward``."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, weight: RawTensor | None, shape: tuple[int, ...], eps: float) -> RawTensor:
        n = int(np.prod(shape))
        rows = _flat_rows(x, n)
        impl = kernel_for("nn.rms_norm_forward", x.device, rows.dtype, rms_norm_forward_reference)
        y, rstd = impl(rows, _flat_param(weight), eps)
        ctx.rstd = rstd
        ctx.shape, ctx.eps = shape, eps
        ctx.save_for_backward(x, weight)
        return raw_from(y.reshape(x.shape))

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        x, weight = ctx.saved_tensors
        dims = tuple(range(x.ndim - len(ctx.shape), x.ndim))
        lead = tuple(range(x.ndim - len(ctx.shape)))
        if is_grad_enabled():
            xhat, rstd = _differentiable_stats(x, dims, ctx.eps, centred=False)
            g = grad_out * weight if weight is not None else grad_out
            gx = rstd * (g - xhat * (g * xhat).mean(dim=dims, keepdim=True))
            gw = None if weight is None else ((grad_out * xhat).sum(dim=lead) if lead else grad_out * xhat)
            return gx, gw, None, None
        n = int(np.prod(ctx.shape))
        xa = _flat_rows(x.data, n)
        gy = xp_of(x).ascontiguousarray(arr(grad_out.data).reshape(-1, n)).astype(xa.dtype, copy=False)
        wa = None if weight is None else _flat_param(weight.data)
        impl = kernel_for("nn.rms_norm_backward", x.device, xa.dtype, rms_norm_backward_reference)
        gxa, gwa = impl(gy, xa, ctx.rstd, wa)
        gw = None if weight is None else constant(gwa.reshape(ctx.shape))
        return constant(gxa.reshape(x.shape)), gw, None, None


def layer_norm(
    input: Tensor,  # noqa: A002 - PyTorch name
    normalized_shape: Sequence[int] | int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` dimensions, then scale and shift.

    Raises:
        ShapeError: if ``normalized_shape`` is not the input's trailing shape, or
            weight/bias do not have that shape.
    """
    x = as_input(input)
    shape, _ = _normalized_dims(x, normalized_shape, "layer_norm")
    w = _check_affine(weight, shape, "weight", "layer_norm")
    b = _check_affine(bias, shape, "bias", "layer_norm")
    return LayerNorm.apply(x, w, b, shape, float(eps))


def rms_norm(
    input: Tensor,  # noqa: A002 - PyTorch name
    normalized_shape: Sequence[int] | int,
    weight: Tensor | None = None,
    eps: float | None = None,
) -> Tensor:
    """``x / sqrt(mean(x²) + eps)`` over the trailing ``normalized_shape`` dims, times ``weight``.

    Args:
        eps: default: the machine epsilon of the input's dtype (as PyTorch).

    Raises:
        ShapeError: for a ``normalized_shape`` that is not the input's trailing shape.
    """
    x = as_input(input)
    shape, _ = _normalized_dims(x, normalized_shape, "rms_norm")
    w = _check_affine(weight, shape, "weight", "rms_norm")
    eps_ = float(np.finfo(x.dtype).eps) if eps is None else float(eps)
    return RMSNorm.apply(x, w, shape, eps_)


def _channel_shape(x: Tensor) -> tuple[int, ...]:
    return (1, x.shape[1], *([1] * (x.ndim - 2)))


def batch_norm(
    input: Tensor,  # noqa: A002 - PyTorch name
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each channel (dim 1) over the batch and spatial dims.

    In training (or without running statistics) the batch's own mean and
    biased variance are used, and the running statistics, if given, are
    updated in place: ``r ← (1 - momentum)·r + momentum·batch`` (unbiased
    variance). In evaluation the running statistics are used.

    Raises:
        ShapeError: for an input of fewer than 2 dims, mismatched statistics or
            affine parameters.
        ValueError: in training with only one value per channel.
    """
    x = as_input(input)
    if x.ndim < 2:
        raise ShapeError(f"batch_norm expects an input of at least 2 dims (N, C, ...), got shape {x.shape}")
    channels = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ShapeError(f"batch_norm: {name} must have shape ({channels},) for input {x.shape}, got {t.shape}")
    dims = (0, *range(2, x.ndim))
    shape = _channel_shape(x)
    use_batch = training or running_mean is None or running_var is None
    if use_batch:
        count = x.numel() // channels
        if training and count <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input {x.shape}")
        mean = x.mean(dim=dims, keepdim=True)
        centered = x - mean
        var = (centered * centered).mean(dim=dims, keepdim=True)
        if training and running_mean is not None and running_var is not None:
            with no_grad():
                rm, rv = arr(running_mean.data), arr(running_var.data)
                batch_mean = arr(mean.data).reshape(channels)
                batch_var = arr(var.data).reshape(channels) * (count / max(count - 1, 1))
                rm[...] = (1.0 - momentum) * rm + momentum * batch_mean
                rv[...] = (1.0 - momentum) * rv + momentum * batch_var
        out = centered * (var + eps).rsqrt()
    else:
        mean = running_mean.detach().reshape(shape)
        var = running_var.detach().reshape(shape)
        out = (x - mean) * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def group_norm(
    input: Tensor,  # noqa: A002 - PyTorch name
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each of ``num_groups`` channel groups per sample, then scale and shift per channel.

    Raises:
        ShapeError: for an input of fewer than 2 dims or mismatched affine parameters.
        ValueError: if ``num_groups`` does not divide the channels.
    """
    x = as_input(input)
    if x.ndim < 2:
        raise ShapeError(f"group_norm expects an input of at least 2 dims (N, C, ...), got shape {x.shape}")
    n, channels = x.shape[0], x.shape[1]
    if num_groups < 1 or channels % num_groups:
        raise ValueError(f"group_norm: num_groups={num_groups} must divide the number of channels {channels}")
    w = _check_affine(weight, (channels,), "weight", "group_norm")
    b = _check_affine(bias, (channels,), "bias", "group_norm")
    grouped = x.reshape(n, num_groups, -1)
    centered = grouped - grouped.mean(dim=2, keepdim=True)
    var = (centered * centered).mean(dim=2, keepdim=True)
    out = (centered * (var + eps).rsqrt()).reshape(x.shape)
    shape = _channel_shape(x)
    if w is not None:
        out = out * w.reshape(shape)
    if b is not None:
        out = out + b.reshape(shape)
    return out
