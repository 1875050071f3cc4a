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


# erfc(z) = t·exp(P(u) - z²) for z >= 0, t = 1/(1 + z/2), u = t mapped from [1/14, 1] (z from 26
# to 0) onto [-1, 1]: P's coefficients, lowest order first, fitted by scripts/fit_erfc.py (the
# relative error of e^{z²}·erfc(z) is about 2e-15; the rounding of z² adds ulp(z²), 1e-13 at
# z = 26, where erfc is 5.7e-296; it is 0 from about z = 27.3 on).
_ERFC_POLYNOMIAL = (
    -0.6235239226142582,
    0.6301987137971394,
    0.03192442598184528,
    -0.03943667162472515,
    -0.004919030192738687,
    0.006438726605341161,
    0.00037508140493054454,
    -0.0013757251619046374,
    0.0001413997892907086,
    0.0002894886139848058,
    -9.728206838812826e-05,
    -4.620679813154847e-05,
    3.586562693493766e-05,
    1.2175434963003217e-06,
    -9.094965173055949e-06,
    2.5040311462997237e-06,
    1.3837865243270837e-06,
    -1.0240918020034864e-06,
    5.773039482975557e-10,
    2.1485960112632217e-07,
    -5.299632630860883e-08,
    -2.098466008289339e-08,
    8.880570685961652e-09,
)
_ERFC_T_MIN = 1.0 / 14.0


def _erfc_nonnegative(z: Any, xp: Any) -> Any:
    """``erfc(z)`` of a float64 array with ``z >= 0`` (or inf/NaN): Horner's rule in place, one exponential."""
    t = 1.0 / (1.0 + 0.5 * z)
    u = t * (2.0 / (1.0 - _ERFC_T_MIN))
    u -= (1.0 + _ERFC_T_MIN) / (1.0 - _ERFC_T_MIN)
    p = xp.full_like(z, _ERFC_POLYNOMIAL[-1])
    for c in _ERFC_POLYNOMIAL[-2::-1]:
        p *= u
        p += c
    with np.errstate(over="ignore"):  # z² of a huge z is inf: exp(-inf) = 0, as it should be
        p -= z * z
    p = xp.exp(p, out=p)
    p *= t
    return p


def _normal_cdf(x: Any, xp: Any) -> Any:
    """``Φ(x) = erfc(-x/√2)/2`` of a float64 array: the tail directly, no ``1 - erf`` cancellation for ``x < 0``."""
    tail = 0.5 * _erfc_nonnegative(xp.abs(x) / _SQRT_2, xp)
    return xp.where(x < 0, tail, 1.0 - tail)


def _erf_array(a: Any, xp: Any) -> Any:
    """``erf`` of an array to float64 accuracy (NumPy has none).

    Below ``|x| = 1/2`` the Taylor series (alternating, but each term is at most ``x² <= 1/4``
    of the one before: 14 terms reach 1e-17), beyond ``1 - erfc(|x|)`` from the fitted table
    (``erfc < 0.48`` there, so the subtraction loses nothing).
    """
    x = a.astype(np.float64)
    ax = xp.abs(x)
    out = xp.empty_like(x)
    small = ax < 0.5
    s = x[small]
    if s.size:
        s2 = s * s
        term = s.copy()  # (-1)^n x^(2n+1) / n!
        total = s.copy()
        for n in range(1, 14):
            term *= s2
            term *= -1.0 / n
            total += term / (2 * n + 1)
        out[small] = total * (2.0 / _SQRT_PI)
    large = ~small  # NaN lands here: erfc(NaN) is NaN
    big = x[large]
    if big.size:
        out[large] = xp.sign(big) * (1.0 - _erfc_nonnegative(xp.abs(big), xp))
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
        y = x * _normal_cdf(x.astype(np.float64), xp)
        return y.astype(x.dtype, copy=False) if x.dtype.kind == "f" else y
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
        x64 = x.astype(np.float64)
        slope = _normal_cdf(x64, xp) + x64 * (xp.exp(-0.5 * x64 * x64) / math.sqrt(2.0 * math.pi))
        g = gy * slope
        return g.astype(xp.result_type(x, gy), copy=False) if x.dtype.kind == "f" else g
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
