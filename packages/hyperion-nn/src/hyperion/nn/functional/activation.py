"""Elementwise activations: ``relu``, ``leaky_relu``, ``gelu`` (exact and tanh), ``silu``, ``sigmoid``, ``tanh``.

``relu`` and ``erf`` are single ``Function`` s (one pass over the data each
way); the others are composed from autograd ops, so every gradient is itself
differentiable.

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

from hyperion.autograd import Function, Tensor
from hyperion.autograd.function import RawTensor
from hyperion.nn.functional._common import arr, as_input, constant, raw_from, xp_of

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
    """The error function, differentiable (to any order)."""
    return Erf.apply(as_input(input))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:  # noqa: A002 - PyTorch name
    """Gaussian error linear unit, ``x · Φ(x)``.

    Args:
        input: any tensor.
        approximate: ``"none"`` for the exact ``x/2 · (1 + erf(x/√2))``, or
            ``"tanh"`` for ``x/2 · (1 + tanh(√(2/π) (x + 0.044715 x³)))``.

    Raises:
        ValueError: for another ``approximate``.
    """
    x = as_input(input)
    if approximate == "none":
        return x * 0.5 * (1.0 + erf(x / _SQRT_2))
    if approximate == "tanh":
        inner = math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)
        return x * 0.5 * (1.0 + inner.tanh())
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


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
