"""Normalization: ``layer_norm`` (fused, through the registry), ``batch_norm``, ``group_norm``, ``rms_norm``.

All are composed from autograd ops (``mean``, ``rsqrt``, broadcasting
arithmetic), so their gradients are exact and differentiable again. Variances
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

from hyperion.autograd import Tensor, no_grad
from hyperion.nn.functional._common import arr, as_input
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


def layer_norm_reference(
    input: Tensor,  # noqa: A002 - PyTorch name
    normalized_shape: tuple[int, ...],
    weight: Tensor | None,
    bias: Tensor | None,
    eps: float,
) -> Tensor:
    """Reference ``nn.layer_norm`` kernel; arguments as :func:`layer_norm`, validated, all positional."""
    dims = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    centered = input - input.mean(dim=dims, keepdim=True)
    var = (centered * centered).mean(dim=dims, keepdim=True)
    out = centered * (var + eps).rsqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


registry.register_reference("nn.layer_norm", layer_norm_reference)


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
    return registry.lookup("nn.layer_norm", x.device)(x, shape, w, b, float(eps))


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
    shape, dims = _normalized_dims(x, normalized_shape, "rms_norm")
    w = _check_affine(weight, shape, "weight", "rms_norm")
    eps_ = float(np.finfo(x.dtype).eps) if eps is None else float(eps)
    out = x * ((x * x).mean(dim=dims, keepdim=True) + eps_).rsqrt()
    return out * w if w is not None else out


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
