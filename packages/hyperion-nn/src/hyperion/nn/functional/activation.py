"""Elementwise activations: ``relu``, ``leaky_relu``, ``gelu`` (exact and tanh), ``silu``, ``sigmoid``, ``tanh``.

``relu`` and ``erf`` are single ``Function`` s (one pass over the data each
way); ``gelu`` is one ``Function`` whose forward and backward run the
array-level kernels ``nn.gelu_forward``/``nn.gelu_backward`` from the registry
(the references registered here are composed NumPy/CuPy code, and with
``create_graph=True`` the backward is built from autograd ops); the others are
composed from autograd ops, so every gradient is itself differentiable.

Examples:
    >>> import hyperion.autograd as ag
    >>> from hyperion.nn import functional as F
    >>> F.relu(ag.tensor([-1.0, 2.0])).tolist()
    [0.0, 2.0]
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hyperion.autograd import Function, Tensor, is_grad_enabled
from hyperion.autograd.function import RawTensor
from hyperion.nn.functional._common import arr, as_input, constant, raw_from, xp_of
from hyperion.tensor import registry
from hyperion.tensor.dtypes import DEFAULT_FLOAT

__all__ = ["erf", "gelu", "leaky_relu", "relu", "sigmoid", "silu", "tanh"]

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2 = math.sqrt(2.0)


class ReLU(Function):
    """``max(x, 0)``; the gradient is passed where ``x > 0``."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor) -> RawTensor:
        a = arr(x)
        xp = xp_of(x)
        ctx.mask = a > 0
        return raw_from(xp.maximum(a, 0))

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        return MaskGradient.apply(grad_out, ctx.mask)


class MaskGradient(Function):
    """``g`` where ``mask`` holds, else 0 (ReLU's backward); its own gradient is the same masking."""

    @staticmethod
    def forward(ctx: Any, g: RawTensor, mask: Any) -> RawTensor:
        ctx.mask = mask
        return raw_from(arr(g) * mask)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        return MaskGradient.apply(grad_out, ctx.mask), None


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002 - PyTorch name
    """Rectified linear unit, ``max(x, 0)``.

    Args:
        input: any tensor.
        inplace: accepted for PyTorch compatibility; a new tensor is always returned.

    Returns:
        A tensor of ``input``'s shape.
    """
    return ReLU.apply(as_input(input))


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:  # noqa: A002
    """``x`` where ``x > 0``, else ``negative_slope * x``."""
    x = as_input(input)
    xp = xp_of(x)
    scale = xp.where(arr(x.data) > 0, 1.0, negative_slope).astype(x.dtype)
    return x * constant(scale)


def _erf_array(a: Any, xp: Any) -> Any:
    """``erf`` of an array to float64 accuracy (NumPy has none).

    A positive-term series ``erf(x) = 2/√π e^{-x²} Σ (2x²)ⁿ x / (2n+1)!!`` for
    ``|x| < 3`` (no cancellation), and the continued fraction of ``erfc`` beyond.
    """
    x = a.astype(np.float64)
    ax = xp.abs(x)
    out = xp.empty_like(x)
    small = ax < 3.0
    s = ax[small]
    if s.size:
        s2 = s * s
        term = s.copy()
        total = s.copy()
        for n in range(1, 120):
            term = term * (2.0 * s2) / (2 * n + 1)
            total += term
            if not bool((term > 1e-17 * total).any()):
                break
        out[small] = 2.0 / _SQRT_PI * xp.exp(-s2) * total
    large = ~small
    big = ax[large]
    if big.size:
        k = big.copy()
        for n in range(60, 0, -1):
            k = big + (n / 2.0) / k
        out[large] = 1.0 - xp.exp(-big * big) / (_SQRT_PI * k)
    out = xp.where(xp.isnan(x), xp.nan, xp.sign(x) * out)
    return out.astype(a.dtype)


class Erf(Function):
    """The error function ``erf(x)``; derivative ``2/√π · exp(-x²)``."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor) -> RawTensor:
        ctx.save_for_backward(x)
        return raw_from(_erf_array(arr(x), xp_of(x)))

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        (x,) = ctx.saved_tensors
        return grad_out * (2.0 / _SQRT_PI) * (-(x * x)).exp()


def erf(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
    """The error function, differentiable (to any order); integer or bool input is promoted to the default float dtype."""
    x = as_input(input)
    if x.dtype.kind in "biu":
        x = x.to(DEFAULT_FLOAT)
    return Erf.apply(x)


_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_GELU_C = 0.044715


def _check_approximate(approximate: str) -> None:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def _xp_of_array(a: Any) -> Any:
    if type(a).__module__.startswith("cupy"):
        import cupy

        return cupy
    return np


def _tanh_u(x: Any, xp: Any) -> Any:
    """``tanh(√(2/π)(x + 0.044715·x³))`` of a float array in five passes on one temporary."""
    u = x * x
    u *= _GELU_C * _SQRT_2_OVER_PI
    u += _SQRT_2_OVER_PI
    u *= x
    return xp.tanh(u, out=u)


def gelu_forward_reference(x: Any, approximate: str) -> Any:
    """Reference ``nn.gelu_forward``: GELU of an array (exact with ``"none"``, else the tanh form)."""
    _check_approximate(approximate)
    xp = _xp_of_array(x)
    if approximate == "none":
        return x * 0.5 * (1.0 + _erf_array(x / _SQRT_2, xp))
    if x.dtype.kind != "f":
        return x * 0.5 * (1.0 + xp.tanh(_SQRT_2_OVER_PI * (x + _GELU_C * x * x * x)))
    y = _tanh_u(x, xp)
    y += 1.0
    y *= x
    y *= 0.5
    return y


def gelu_backward_reference(x: Any, gy: Any, approximate: str) -> Any:
    """Reference ``nn.gelu_backward``: ``gy · GELU'(x)``."""
    _check_approximate(approximate)
    xp = _xp_of_array(x)
    if approximate == "none":
        cdf = 0.5 * (1.0 + _erf_array(x / _SQRT_2, xp))
        return gy * (cdf + x * (xp.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)))
    if x.dtype.kind != "f":
        t = xp.tanh(_SQRT_2_OVER_PI * (x + _GELU_C * x * x * x))
        return gy * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_C * x * x))
    # gy · (½(1 + t) + ½x(1 - t²)·√(2/π)(1 + 3·0.044715·x²)), on two temporaries.
    t = _tanh_u(x, xp)
    g = t * t
    xp.subtract(1.0, g, out=g)
    d = x * x
    d *= 3.0 * _GELU_C * _SQRT_2_OVER_PI
    d += _SQRT_2_OVER_PI
    d *= g
    d *= x
    d += t
    d += 1.0
    d *= 0.5
    d *= gy
    return d


registry.register_reference("nn.gelu_forward", gelu_forward_reference)
registry.register_reference("nn.gelu_backward", gelu_backward_reference)


def _gelu_impl(op: str, device: str, dtype: Any, reference: Any) -> Any:
    return registry.lookup(op, device) if str(dtype) in ("float32", "float64") else reference


class GELU(Function):
    """GELU, exact or tanh: kernels ``nn.gelu_forward``/``nn.gelu_backward``."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, approximate: str) -> RawTensor:
        a = xp_of(x).ascontiguousarray(arr(x))
        impl = _gelu_impl("nn.gelu_forward", x.device, a.dtype, gelu_forward_reference)
        ctx.approximate = approximate
        ctx.save_for_backward(x)
        return raw_from(impl(a, approximate))

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        (x,) = ctx.saved_tensors
        if is_grad_enabled():
            if ctx.approximate == "none":
                cdf = 0.5 * (1.0 + erf(x / _SQRT_2))
                pdf = (x * x * -0.5).exp() * (1.0 / math.sqrt(2.0 * math.pi))
                return grad_out * (cdf + x * pdf), None
            t = (_SQRT_2_OVER_PI * (x + _GELU_C * x * x * x)).tanh()
            d = 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * _SQRT_2_OVER_PI * (1.0 + 3.0 * _GELU_C * x * x)
            return grad_out * d, None
        xp = xp_of(x)
        a = xp.ascontiguousarray(arr(x.data))
        g = xp.ascontiguousarray(arr(grad_out.data)).astype(a.dtype, copy=False)
        impl = _gelu_impl("nn.gelu_backward", x.device, a.dtype, gelu_backward_reference)
        return constant(impl(a, g, ctx.approximate)), None


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002 - PyTorch name
    """Gaussian error linear unit, ``x · Φ(x)``.

    Args:
        input: any tensor.
        approximate: ``"none"`` for the exact ``x/2 · (1 + erf(x/√2))``, or
            ``"tanh"`` for ``x/2 · (1 + tanh(√(2/π) (x + 0.044715 x³)))``.

    Raises:
        ValueError: for another ``approximate``.
    """
    _check_approximate(approximate)
    return GELU.apply(as_input(input), approximate)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002 - PyTorch name
    """Sigmoid linear unit (swish), ``x · sigmoid(x)``."""
    x = as_input(input)
    return x * x.sigmoid()


def sigmoid(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
    """Logistic function ``1 / (1 + exp(-x))``."""
    return as_input(input).sigmoid()


def tanh(input: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
    """Hyperbolic tangent."""
    return as_input(input).tanh()
