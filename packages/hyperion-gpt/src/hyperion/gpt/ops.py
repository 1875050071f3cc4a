"""A fused GELU (tanh form) for the MLP: one graph node instead of a dozen elementwise ones.

``gelu(x) = x/2 · (1 + tanh(u))`` with ``u = √(2/π)·(x + 0.044715·x³)`` — the form GPT-2 uses.
Its derivative is ``½(1 + tanh u) + x/2 · (1 − tanh² u) · √(2/π)·(1 + 3·0.044715·x²)``.
The forward keeps ``tanh u`` so the backward is a handful of array operations; the
derivative itself is a :class:`GeluTanhGrad` node, so a second backward works too.

Examples:
    >>> import hyperion.autograd as ag
    >>> round(gelu_tanh(ag.tensor([1.0])).item(), 4)
    0.8412
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import hyperion.tensor as ht
from hyperion.autograd import Function, Tensor
from hyperion.gpt._arrays import constant, raw

__all__ = ["GeluTanh", "gelu_tanh"]

_C = math.sqrt(2.0 / math.pi)
_A = 0.044715


def _tanh_u(x: np.ndarray) -> np.ndarray:
    """``tanh(√(2/π)(x + 0.044715 x³))`` in four passes over memory, in ``x``'s dtype."""
    u = x * x
    u *= _A * _C
    u += _C
    u *= x
    return np.tanh(u, out=u)


def _derivative(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``gelu'(x)`` from ``t = tanh u``, in place on one temporary."""
    sech2 = t * t
    np.subtract(1.0, sech2, out=sech2)
    g = x * x
    g *= 3.0 * _A * _C
    g += _C
    g *= sech2
    g *= x
    g += t
    g += 1.0
    g *= 0.5
    return g


def _second_derivative(x: np.ndarray) -> np.ndarray:
    t = _tanh_u(x)
    du = _C * (1.0 + 3.0 * _A * x * x)
    d2u = _C * 6.0 * _A * x
    sech2 = 1.0 - t * t
    return sech2 * du + 0.5 * x * (sech2 * d2u - 2.0 * t * sech2 * du * du)


class GeluTanhGrad(Function):
    """``gelu_tanh'(x)`` as a node (what :class:`GeluTanh`'s backward multiplies by)."""

    @staticmethod
    def forward(ctx: Any, x: ht.Tensor) -> ht.Tensor:
        ctx.save_for_backward(x)
        a = x.numpy()
        return raw(_derivative(a, _tanh_u(a)).astype(a.dtype, copy=False))

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        (x,) = ctx.saved_tensors
        second = _second_derivative(x.detach().numpy()).astype(x.dtype, copy=False)
        return grad_out * constant(second)


class GeluTanh(Function):
    """``x/2 · (1 + tanh(√(2/π)(x + 0.044715 x³)))``, forward and backward on whole arrays."""

    @staticmethod
    def forward(ctx: Any, x: ht.Tensor) -> ht.Tensor:
        a = x.numpy()
        t = _tanh_u(a)
        ctx.save_for_backward(x)
        ctx.tanh_u = t
        out = t + 1.0
        out *= a
        out *= 0.5
        return raw(out)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        (x,) = ctx.saved_tensors
        if grad_out.requires_grad:  # create_graph=True: keep the derivative in the graph
            return grad_out * GeluTanhGrad.apply(x)
        a = x.detach().numpy()
        slope = _derivative(a, ctx.tanh_u).astype(a.dtype, copy=False)
        return grad_out * constant(slope)


def gelu_tanh(x: Tensor) -> Tensor:
    """GELU in GPT-2's tanh form (equal to ``torch.nn.functional.gelu(x, approximate="tanh")``)."""
    return GeluTanh.apply(x)
