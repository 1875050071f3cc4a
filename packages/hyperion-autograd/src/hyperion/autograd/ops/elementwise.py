"""Elementwise methods and operators of ``Tensor``, and their function spellings.

Differentiable methods apply the ops of :mod:`.unary` and :mod:`.binary`.
The others -- comparisons, ``floor``/``ceil``, ``isnan``..., ``//``, logical
and bitwise operators -- compute on the data and return tensors that do not
require grad.

Operands: autograd tensors take part in the graph; Python numbers stay
Python numbers (so they are *weak* in dtype promotion, as in NumPy and
PyTorch: ``float32_tensor * 2.0`` is float32); anything else (raw tensors,
NumPy arrays, lists) becomes a constant raw tensor.
"""

from __future__ import annotations

from typing import Any

import hyperion.tensor as ht
from hyperion.autograd.function import RawTensor, is_tensor, unwrap, wrap
from hyperion.autograd.ops import binary, unary

_SCALARS = (bool, int, float)
_PASS_THROUGH = (bool, int, float, RawTensor)


def operand(value: Any) -> Any:
    """An op argument: autograd tensors and Python numbers as they are, anything else as a raw tensor."""
    if isinstance(value, _PASS_THROUGH) or is_tensor(value):
        return value
    return ht.as_tensor(value)


class ElementwiseMethods:
    """Elementwise methods and operators of :class:`~hyperion.autograd.Tensor`."""

    __slots__ = ()

    # -- differentiable, one tensor ---------------------------------------------
    def neg(self) -> Any:
        """``-x``."""
        return unary.Neg.apply(self)

    def abs(self) -> Any:
        """``|x|`` (derivative ``sign(x)``, 0 at 0)."""
        return unary.Abs.apply(self)

    def sign(self) -> Any:
        """-1, 0 or 1 by the sign of ``x`` (derivative 0)."""
        return unary.Sign.apply(self)

    def exp(self) -> Any:
        """``e**x``."""
        return unary.Exp.apply(self)

    def log(self) -> Any:
        """Natural logarithm."""
        return unary.Log.apply(self)

    def log1p(self) -> Any:
        """``log(1 + x)``, accurate for small ``x``."""
        return unary.Log1p.apply(self)

    def expm1(self) -> Any:
        """``exp(x) - 1``, accurate for small ``x``."""
        return unary.Expm1.apply(self)

    def sqrt(self) -> Any:
        """Square root."""
        return unary.Sqrt.apply(self)

    def rsqrt(self) -> Any:
        """``1 / sqrt(x)``."""
        return unary.Rsqrt.apply(self)

    def reciprocal(self) -> Any:
        """``1 / x``."""
        return unary.Reciprocal.apply(self)

    def square(self) -> Any:
        """``x * x``."""
        return unary.Square.apply(self)

    def sin(self) -> Any:
        """Sine."""
        return unary.Sin.apply(self)

    def cos(self) -> Any:
        """Cosine."""
        return unary.Cos.apply(self)

    def tanh(self) -> Any:
        """Hyperbolic tangent."""
        return unary.Tanh.apply(self)

    def sigmoid(self) -> Any:
        """Logistic function ``1 / (1 + e**-x)``."""
        return unary.Sigmoid.apply(self)

    # -- differentiable, several tensors ---------------------------------------
    def add(self, other: Any) -> Any:
        """``x + other`` (broadcasting)."""
        return binary.Add.apply(self, operand(other))

    def sub(self, other: Any) -> Any:
        """``x - other``."""
        return binary.Sub.apply(self, operand(other))

    def mul(self, other: Any) -> Any:
        """``x * other``."""
        return binary.Mul.apply(self, operand(other))

    def div(self, other: Any) -> Any:
        """True division ``x / other``."""
        return binary.Div.apply(self, operand(other))

    def pow(self, exponent: Any) -> Any:
        """``x ** exponent`` (a number or a tensor; both are differentiable)."""
        if isinstance(exponent, _SCALARS):
            return binary.PowScalar.apply(self, exponent)
        return binary.Pow.apply(self, operand(exponent))

    def maximum(self, other: Any) -> Any:
        """Elementwise maximum (ties split the gradient evenly)."""
        return binary.Maximum.apply(self, operand(other))

    def minimum(self, other: Any) -> Any:
        """Elementwise minimum (ties split the gradient evenly)."""
        return binary.Minimum.apply(self, operand(other))

    def clip(self, min: Any = None, max: Any = None) -> Any:  # noqa: A002 - NumPy/PyTorch names
        """Limit values to ``[min, max]`` (either may be ``None``; bounds may be tensors)."""
        if min is None and max is None:
            raise ValueError("clip needs at least one of min and max")
        return binary.Clip.apply(self, None if min is None else operand(min), None if max is None else operand(max))

    clamp = clip

    def where(self, condition: Any, other: Any) -> Any:
        """PyTorch's ``x.where(condition, other)``: ``x`` where ``condition`` holds, else ``other``."""
        return binary.Where.apply(operand(condition), self, operand(other))

    def __add__(self, other: Any) -> Any:
        return binary.Add.apply(self, operand(other))

    def __radd__(self, other: Any) -> Any:
        return binary.Add.apply(operand(other), self)

    def __sub__(self, other: Any) -> Any:
        return binary.Sub.apply(self, operand(other))

    def __rsub__(self, other: Any) -> Any:
        return binary.Sub.apply(operand(other), self)

    def __mul__(self, other: Any) -> Any:
        return binary.Mul.apply(self, operand(other))

    def __rmul__(self, other: Any) -> Any:
        return binary.Mul.apply(operand(other), self)

    def __truediv__(self, other: Any) -> Any:
        return binary.Div.apply(self, operand(other))

    def __rtruediv__(self, other: Any) -> Any:
        return binary.Div.apply(operand(other), self)

    def __pow__(self, exponent: Any) -> Any:
        return self.pow(exponent)

    def __rpow__(self, base: Any) -> Any:
        return binary.Pow.apply(operand(base), self)

    def __mod__(self, other: Any) -> Any:
        return binary.Mod.apply(self, operand(other))

    def __rmod__(self, other: Any) -> Any:
        return binary.Mod.apply(operand(other), self)

    def __neg__(self) -> Any:
        return unary.Neg.apply(self)

    def __pos__(self) -> Any:
        return self

    def __abs__(self) -> Any:
        return unary.Abs.apply(self)

    # -- not differentiable ------------------------------------------------------
    def floor(self) -> Any:
        """Round down (not differentiable: the result does not require grad)."""
        return wrap(self.data.floor())

    def ceil(self) -> Any:
        """Round up (not differentiable)."""
        return wrap(self.data.ceil())

    def isnan(self) -> Any:
        """Elementwise NaN test."""
        return wrap(self.data.isnan())

    def isinf(self) -> Any:
        """Elementwise infinity test."""
        return wrap(self.data.isinf())

    def isfinite(self) -> Any:
        """Elementwise finiteness test."""
        return wrap(self.data.isfinite())

    def logical_not(self) -> Any:
        """Elementwise ``not``."""
        return wrap(self.data.logical_not())

    def __floordiv__(self, other: Any) -> Any:
        return wrap(self.data // unwrap(operand(other)))

    def __rfloordiv__(self, other: Any) -> Any:
        return wrap(unwrap(operand(other)) // self.data)

    def __invert__(self) -> Any:
        return wrap(~self.data)

    def __and__(self, other: Any) -> Any:
        return wrap(self.data & unwrap(operand(other)))

    def __or__(self, other: Any) -> Any:
        return wrap(self.data | unwrap(operand(other)))

    def __xor__(self, other: Any) -> Any:
        return wrap(self.data ^ unwrap(operand(other)))

    __rand__ = __and__
    __ror__ = __or__
    __rxor__ = __xor__

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return wrap(self.data == unwrap(operand(other)))

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return wrap(self.data != unwrap(operand(other)))

    def __lt__(self, other: Any) -> Any:
        return wrap(self.data < unwrap(operand(other)))

    def __le__(self, other: Any) -> Any:
        return wrap(self.data <= unwrap(operand(other)))

    def __gt__(self, other: Any) -> Any:
        return wrap(self.data > unwrap(operand(other)))

    def __ge__(self, other: Any) -> Any:
        return wrap(self.data >= unwrap(operand(other)))

    eq = __eq__
    ne = __ne__
    lt = __lt__
    le = __le__
    gt = __gt__
    ge = __ge__


def where(condition: Any, x: Any, y: Any) -> Any:
    """``x`` where ``condition`` holds, else ``y`` (broadcasting; differentiable in ``x`` and ``y``).

    Example:
        >>> import hyperion.autograd as ag
        >>> x = ag.tensor([-1.0, 2.0], requires_grad=True)
        >>> ag.where(x > 0, x, 0.0).tolist()
        [0.0, 2.0]
    """
    return binary.Where.apply(operand(condition), operand(x), operand(y))
