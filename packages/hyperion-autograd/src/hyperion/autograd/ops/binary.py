"""Elementwise functions of several tensors: arithmetic, powers, maximum/minimum, clip, where.

Operands broadcast (NumPy rules) and may be Python scalars. Every ``backward``
returns gradients of the *output's* shape: the engine sums them back to each
operand's shape (:func:`hyperion.autograd.engine.sum_to_shape`), so no op
here un-broadcasts anything itself.

Ties follow PyTorch: ``maximum``/``minimum`` split the gradient evenly
between equal operands; ``clip`` passes the gradient to ``x`` where
``min <= x <= max`` (bounds included).
"""

from __future__ import annotations

from typing import Any

import hyperion.tensor as ht
from hyperion.autograd.function import Function, RawTensor, wrap

Operand = RawTensor | bool | int | float


class Add(Function):
    """``a + b``."""

    @staticmethod
    def forward(_ctx: Any, a: Operand, b: Operand) -> RawTensor:
        return a + b

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        need_a, need_b = ctx.needs_input_grad
        return (grad_out if need_a else None), (grad_out if need_b else None)


class Sub(Function):
    """``a - b``."""

    @staticmethod
    def forward(_ctx: Any, a: Operand, b: Operand) -> RawTensor:
        return a - b

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        need_a, need_b = ctx.needs_input_grad
        return (grad_out if need_a else None), (-grad_out if need_b else None)


class Mul(Function):
    """``a * b``."""

    @staticmethod
    def forward(ctx: Any, a: Operand, b: Operand) -> RawTensor:
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad_out * b if need_a else None), (grad_out * a if need_b else None)


class Div(Function):
    """``a / b``: derivatives ``1/b`` and ``-a/b²``."""

    @staticmethod
    def forward(ctx: Any, a: Operand, b: Operand) -> RawTensor:
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad_out / b if need_a else None), (-grad_out * a / (b * b) if need_b else None)


class PowScalar(Function):
    """``x ** c`` for a Python number ``c``: derivative ``c x**(c-1)`` (0 when ``c == 0``)."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, exponent: float) -> RawTensor:
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        return x**exponent

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        (x,) = ctx.saved_tensors
        c = ctx.exponent
        if c == 0:
            return grad_out._zeros_like(), None
        return grad_out * (x ** (c - 1) * c), None


class Pow(Function):
    """``a ** b`` with tensor exponent (and a tensor or Python-number base).

    Derivatives ``b a**(b-1)`` (0 where ``b == 0``) and ``a**b log(a)`` (0 where
    ``a == 0`` and ``b >= 0``, the limit PyTorch uses).
    """

    @staticmethod
    def forward(ctx: Any, a: Operand, b: RawTensor) -> RawTensor:
        out = a**b
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_a = grad_b = None
        if need_a:
            grad_a = (grad_out * (b * a ** (b - 1))).where(b != 0, 0.0)
        if need_b:
            base = a if not isinstance(a, bool | int | float) else wrap(ht.full((), a, dtype=b.dtype, device=b.device))
            grad_b = (grad_out * (out * base.log())).where(~((base == 0) & (b >= 0)), 0.0)
        return grad_a, grad_b


def _tie_weight(winner: Any, equal: Any, dtype: Any) -> Any:
    """1 where ``a`` wins, 0.5 on ties, 0 where ``b`` wins (a constant: comparisons are not differentiable)."""
    return winner.astype(dtype) + equal.astype(dtype) * 0.5


class Maximum(Function):
    """Elementwise maximum; on ties each operand gets half the gradient."""

    @staticmethod
    def forward(ctx: Any, a: Operand, b: Operand) -> RawTensor:
        ctx.save_for_backward(a, b)
        return a.maximum(b) if isinstance(a, RawTensor) else b.maximum(a)

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        weight = _tie_weight(_compare(a, b, "gt"), _compare(a, b, "eq"), grad_out.dtype)
        return (grad_out * weight if need_a else None), (grad_out * (1 - weight) if need_b else None)


class Minimum(Function):
    """Elementwise minimum; on ties each operand gets half the gradient."""

    @staticmethod
    def forward(ctx: Any, a: Operand, b: Operand) -> RawTensor:
        ctx.save_for_backward(a, b)
        return a.minimum(b) if isinstance(a, RawTensor) else b.minimum(a)

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        weight = _tie_weight(_compare(a, b, "lt"), _compare(a, b, "eq"), grad_out.dtype)
        return (grad_out * weight if need_a else None), (grad_out * (1 - weight) if need_b else None)


def _compare(a: Any, b: Any, op: str) -> Any:
    """``a <op> b`` for tensors and Python numbers in either position."""
    if isinstance(a, bool | int | float):
        flipped = {"gt": "lt", "lt": "gt", "eq": "eq"}[op]
        return getattr(b, f"__{flipped}__")(a)
    return getattr(a, f"__{op}__")(b)


class Mod(Function):
    """Python/NumPy remainder ``a % b``: derivatives 1 and ``-floor(a / b)``."""

    @staticmethod
    def forward(ctx: Any, a: Operand, b: Operand) -> RawTensor:
        ctx.save_for_backward(a, b)
        return a % b

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        grad_b = -grad_out * (a / b).floor() if need_b else None
        return (grad_out if need_a else None), grad_b


class Clip(Function):
    """``min(max(x, lo), hi)`` with bounds that are numbers, tensors or ``None``.

    The gradient goes to whichever operand the output was taken from: ``x``
    where ``lo <= x <= hi`` (bounds included), ``lo`` where ``x < lo``, ``hi``
    where ``x > hi`` (and everywhere ``lo > hi``, where the output is ``hi``).
    """

    @staticmethod
    def forward(ctx: Any, x: RawTensor, lo: Operand | None, hi: Operand | None) -> RawTensor:
        ctx.save_for_backward(x, lo, hi)
        return x.clip(lo, hi)

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        x, lo, hi = ctx.saved_tensors
        need_x, need_lo, need_hi = ctx.needs_input_grad
        take_hi = None if hi is None else (x > hi) if lo is None else (x > hi) | _compare(lo, hi, "gt")
        take_lo = None if lo is None else (x < lo) if take_hi is None else (x < lo) & ~take_hi
        grad_x = grad_lo = grad_hi = None
        if need_x:
            outside = take_lo if take_hi is None else take_hi if take_lo is None else take_lo | take_hi
            grad_x = grad_out.where(~outside, 0.0)
        if need_lo:
            grad_lo = grad_out.where(take_lo, 0.0)
        if need_hi:
            grad_hi = grad_out.where(take_hi, 0.0)
        return grad_x, grad_lo, grad_hi


class Where(Function):
    """``a`` where ``condition`` holds, else ``b`` (all three broadcast); ``condition`` gets no gradient."""

    @staticmethod
    def forward(ctx: Any, condition: RawTensor, a: Operand, b: Operand) -> RawTensor:
        ctx.save_for_backward(condition)
        return ht.where(condition, a, b)

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        (condition,) = ctx.saved_tensors
        _, need_a, need_b = ctx.needs_input_grad
        grad_a = Where.apply(condition, grad_out, 0.0) if need_a else None
        grad_b = Where.apply(condition, 0.0, grad_out) if need_b else None
        return None, grad_a, grad_b
