"""Elementwise math: unary functions, binary operators, comparisons, ``where``.

Every op is looked up in the kernel registry by ``(name, device)`` and called
on the tensors' arrays (zero-copy strided views), so a provider can replace
any of them. The reference implementations registered here call the array
module's ufuncs, which broadcast and promote exactly as NumPy does; Python
scalars are passed through untouched so that they stay *weak* (NEP 50).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from hyperion.tensor.device import array_module, device_of_array
from hyperion.tensor.dtypes import SUPPORTED
from hyperion.tensor.errors import DeviceError, DTypeError, ShapeError
from hyperion.tensor.layout import broadcast_shapes
from hyperion.tensor.registry import lookup, register_reference

if TYPE_CHECKING:
    from hyperion.tensor.tensor import Tensor

Scalar = bool | int | float


_CPU_TYPES = (np.ndarray, np.generic, bool, int, float)
_SUPPORTED_SET = frozenset(SUPPORTED)


def xp_of(*arrays: Any) -> Any:
    """The array module of the first non-NumPy array (CuPy), else NumPy."""
    for array in arrays:
        if not isinstance(array, _CPU_TYPES):
            return array_module("cuda")
    return np


class _UfuncReference:
    """Reference kernel: the array module's ufunc ``name`` (NumPy's bound directly on the CPU)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, *args: Any) -> Any:
        return getattr(xp_of(*args), self.name)(*args)

    def __repr__(self) -> str:
        return f"reference {self.name}"


def _ufunc(name: str) -> Callable[..., Any]:
    return _UfuncReference(name)


def _rsqrt(x: Any) -> Any:
    xp = xp_of(x)
    return xp.reciprocal(xp.sqrt(x)) if x.dtype.kind == "f" else 1.0 / xp.sqrt(x)


def _reciprocal(x: Any) -> Any:
    return xp_of(x).reciprocal(x) if x.dtype.kind == "f" else 1.0 / x


def _sigmoid(x: Any) -> Any:
    # 1 / (1 + e^-x) overflows for very negative x, and 0.5 * (tanh(x / 2) + 1) rounds the left tail
    # to 0. With e = e^-|x| (never overflows), 1 / (1 + e) and e / (1 + e) are accurate on each side.
    xp = xp_of(x)
    if x.dtype.kind != "f":
        x = x.astype(xp.float64)  # integers give float64, as 0.5 * x does
    e = xp.exp(-xp.abs(x))
    positive = 1 / (1 + e)
    return xp.where(x >= 0, positive, e * positive)


UNARY: dict[str, Callable[..., Any]] = {
    "neg": _ufunc("negative"),
    "abs": _ufunc("absolute"),
    "sign": _ufunc("sign"),
    "exp": _ufunc("exp"),
    "log": _ufunc("log"),
    "log1p": _ufunc("log1p"),
    "expm1": _ufunc("expm1"),
    "sqrt": _ufunc("sqrt"),
    "rsqrt": _rsqrt,
    "reciprocal": _reciprocal,
    "square": _ufunc("square"),
    "sin": _ufunc("sin"),
    "cos": _ufunc("cos"),
    "tanh": _ufunc("tanh"),
    "sigmoid": _sigmoid,
    "floor": _ufunc("floor"),
    "ceil": _ufunc("ceil"),
    "logical_not": _ufunc("logical_not"),
    "isnan": _ufunc("isnan"),
    "isinf": _ufunc("isinf"),
    "isfinite": _ufunc("isfinite"),
}

BINARY: dict[str, Callable[..., Any]] = {
    "add": _ufunc("add"),
    "sub": _ufunc("subtract"),
    "mul": _ufunc("multiply"),
    "div": _ufunc("true_divide"),
    "floordiv": _ufunc("floor_divide"),
    "mod": _ufunc("remainder"),
    "pow": _ufunc("power"),
    "maximum": _ufunc("maximum"),
    "minimum": _ufunc("minimum"),
    "eq": _ufunc("equal"),
    "ne": _ufunc("not_equal"),
    "lt": _ufunc("less"),
    "le": _ufunc("less_equal"),
    "gt": _ufunc("greater"),
    "ge": _ufunc("greater_equal"),
    "logical_and": _ufunc("logical_and"),
    "logical_or": _ufunc("logical_or"),
    "logical_xor": _ufunc("logical_xor"),
    "bitwise_and": _ufunc("bitwise_and"),
    "bitwise_or": _ufunc("bitwise_or"),
    "bitwise_xor": _ufunc("bitwise_xor"),
}

def _register(name: str, fn: Callable[..., Any]) -> None:
    """Register ``fn`` for both devices; a plain ufunc is bound to NumPy directly on the CPU (no dispatch cost)."""
    if isinstance(fn, _UfuncReference):
        register_reference(name, getattr(np, fn.name), devices=("cpu",))
        register_reference(name, fn, devices=("cuda",))
    else:
        register_reference(name, fn)


for _name, _fn in (UNARY | BINARY).items():
    _register(_name, _fn)
_register("where", _ufunc("where"))
_register("clip", _ufunc("clip"))


def operand(value: Any, device: str) -> Any:
    """An op argument as the registry's implementations take it: an array or a weak Python scalar."""
    if isinstance(value, bool | int | float):
        return value
    arr = getattr(value, "_arr", None)
    if arr is not None:
        if value.device != device:
            raise DeviceError(f"expected all tensors on the same device, got {device} and {value.device}")
        return arr()
    array = array_module(device).asarray(value)
    if device_of_array(array) != device:
        raise DeviceError(f"cannot combine a {type(value).__name__} with a tensor on {device}")
    if array.dtype not in _SUPPORTED_SET:
        raise DTypeError(
            f"cannot use {value!r} ({type(value).__name__}, dtype {array.dtype}) as a tensor operand; "
            f"supported dtypes are {', '.join(d.name for d in SUPPORTED)}"
        )
    return array


def _defers(value: Any) -> bool:
    """Whether an operand's type asks NumPy-like arrays to step aside (``__array_ufunc__ = None``).

    Tensor types of higher layers (the autograd tensor) do, so ``raw + differentiable`` returns
    ``NotImplemented`` here and Python calls the differentiable type's reflected method.
    """
    return not isinstance(value, _CPU_TYPES) and getattr(type(value), "__array_ufunc__", 0) is None


def describe_operands(arrays: tuple[Any, ...]) -> str:
    """Operands as a message names them: ``float32 (2, 3)`` for arrays, the value for scalars."""
    return ", ".join(f"{a.dtype} {tuple(a.shape)}" if hasattr(a, "dtype") and hasattr(a, "shape") else repr(a) for a in arrays)


def kernel_name(impl: Any) -> str:
    """The name of a kernel for messages (a ufunc's ``__name__``, a reference's ``name``)."""
    return str(getattr(impl, "__name__", None) or getattr(impl, "name", None) or impl)


def call_broadcasting(impl: Callable[..., Any], arrays: tuple[Any, ...]) -> Any:
    """Call a kernel; if it fails, say which shapes, dtypes or values it refused (checked only on failure: no cost otherwise).

    Raises:
        ShapeError: the shapes do not broadcast.
        DTypeError: the kernel has no loop for these dtypes (``-`` of bools, ``&`` of floats...).
        ValueError: any other refusal of the kernel (integers to negative integer powers),
            naming the op and its operands.
    """
    try:
        return impl(*arrays)
    except ValueError as exc:
        shapes = [a.shape for a in arrays if hasattr(a, "shape")]
        broadcast_shapes(*shapes)  # raises ShapeError naming every shape
        raise ValueError(f"{kernel_name(impl)}({describe_operands(arrays)}): {exc}") from None
    except TypeError as exc:
        raise DTypeError(f"{kernel_name(impl)} does not support operands {describe_operands(arrays)}: {exc}") from None


def apply_elementwise(name: str, device: str, args: tuple[Any, ...], wrap: Callable[[Any], Tensor]) -> Tensor:
    """Run registry op ``name`` on the arrays of ``args`` and wrap the result."""
    arrays = tuple(operand(a, device) for a in args)
    return wrap(call_broadcasting(lookup(name, device), arrays))


class MathMixin:
    """Elementwise methods and operators of :class:`~hyperion.tensor.Tensor`."""

    __slots__ = ()

    def _xp(self) -> Any:
        return array_module(self.device)

    def _unary(self, name: str) -> Tensor:
        impl = lookup(name, self.device)
        array = self._arr()
        try:
            return self._from_array(impl(array))
        except TypeError as exc:  # e.g. ``-`` of a bool tensor: NumPy's refusal, with our op and dtype named
            raise DTypeError(f"{name} does not support a {array.dtype} tensor: {exc}") from None

    def _binary(self, name: str, other: Any, *, reflected: bool = False) -> Tensor:
        # The hot path of every small op: keep it to a few attribute reads.
        a = self._array if self._array is not None else self._arr()
        device = self.device
        if type(other) is type(self):
            if type(other._storage) is not type(self._storage):
                raise DeviceError(f"expected all tensors on the same device, got {device} and {other.device}")
            b = other._array if other._array is not None else other._arr()
        elif _defers(other):
            return NotImplemented
        else:
            b = operand(other, device)
        arrays = (b, a) if reflected else (a, b)
        return self._from_array(call_broadcasting(lookup(name, device), arrays))

    # -- unary ----------------------------------------------------------------
    def neg(self) -> Tensor:
        """``-x``."""
        return self._unary("neg")

    def abs(self) -> Tensor:
        """``|x|``."""
        return self._unary("abs")

    def sign(self) -> Tensor:
        """-1, 0 or 1 by the sign of ``x``."""
        return self._unary("sign")

    def exp(self) -> Tensor:
        """``e**x``."""
        return self._unary("exp")

    def log(self) -> Tensor:
        """Natural logarithm."""
        return self._unary("log")

    def log1p(self) -> Tensor:
        """``log(1 + x)``, accurate for small ``x``."""
        return self._unary("log1p")

    def expm1(self) -> Tensor:
        """``exp(x) - 1``, accurate for small ``x``."""
        return self._unary("expm1")

    def sqrt(self) -> Tensor:
        """Square root."""
        return self._unary("sqrt")

    def rsqrt(self) -> Tensor:
        """``1 / sqrt(x)``."""
        return self._unary("rsqrt")

    def reciprocal(self) -> Tensor:
        """``1 / x`` (integers give floats, as true division does)."""
        return self._unary("reciprocal")

    def square(self) -> Tensor:
        """``x * x``."""
        return self._unary("square")

    def sin(self) -> Tensor:
        """Sine."""
        return self._unary("sin")

    def cos(self) -> Tensor:
        """Cosine."""
        return self._unary("cos")

    def tanh(self) -> Tensor:
        """Hyperbolic tangent."""
        return self._unary("tanh")

    def sigmoid(self) -> Tensor:
        """``1 / (1 + e**-x)``, computed without overflow."""
        return self._unary("sigmoid")

    def floor(self) -> Tensor:
        """Round down."""
        return self._unary("floor")

    def ceil(self) -> Tensor:
        """Round up."""
        return self._unary("ceil")

    def isnan(self) -> Tensor:
        """Elementwise NaN test."""
        return self._unary("isnan")

    def isinf(self) -> Tensor:
        """Elementwise infinity test."""
        return self._unary("isinf")

    def isfinite(self) -> Tensor:
        """Elementwise finiteness test."""
        return self._unary("isfinite")

    def logical_not(self) -> Tensor:
        """Elementwise ``not``."""
        return self._unary("logical_not")

    # -- binary ---------------------------------------------------------------
    def add(self, other: Any) -> Tensor:
        """``x + other`` with broadcasting."""
        return self._binary("add", other)

    def sub(self, other: Any) -> Tensor:
        """``x - other``."""
        return self._binary("sub", other)

    def mul(self, other: Any) -> Tensor:
        """``x * other``."""
        return self._binary("mul", other)

    def div(self, other: Any) -> Tensor:
        """True division ``x / other``."""
        return self._binary("div", other)

    def pow(self, exponent: Any) -> Tensor:
        """``x ** exponent``."""
        return self._binary("pow", exponent)

    def maximum(self, other: Any) -> Tensor:
        """Elementwise maximum (NaN propagates)."""
        return self._binary("maximum", other)

    def minimum(self, other: Any) -> Tensor:
        """Elementwise minimum (NaN propagates)."""
        return self._binary("minimum", other)

    def clip(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 - NumPy/PyTorch names
        """Limit values to ``[min, max]`` (either bound may be ``None``)."""
        if min is None and max is None:
            raise ValueError("clip needs at least one of min and max")
        if max is None:
            return self.maximum(min)
        if min is None:
            return self.minimum(max)
        return apply_elementwise("clip", self.device, (self, min, max), self._from_array)

    clamp = clip

    def where(self, condition: Any, other: Any) -> Tensor:
        """PyTorch's ``x.where(condition, other)``: ``x`` where ``condition`` holds, else ``other``."""
        return apply_elementwise("where", self.device, (condition, self, other), self._from_array)

    __add__ = add
    __sub__ = sub
    __mul__ = mul
    __truediv__ = div
    __pow__ = pow

    def __radd__(self, other: Any) -> Tensor:
        return self._binary("add", other, reflected=True)

    def __rsub__(self, other: Any) -> Tensor:
        return self._binary("sub", other, reflected=True)

    def __rmul__(self, other: Any) -> Tensor:
        return self._binary("mul", other, reflected=True)

    def __rtruediv__(self, other: Any) -> Tensor:
        return self._binary("div", other, reflected=True)

    def __rpow__(self, other: Any) -> Tensor:
        return self._binary("pow", other, reflected=True)

    def __floordiv__(self, other: Any) -> Tensor:
        return self._binary("floordiv", other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return self._binary("floordiv", other, reflected=True)

    def __mod__(self, other: Any) -> Tensor:
        return self._binary("mod", other)

    def __rmod__(self, other: Any) -> Tensor:
        return self._binary("mod", other, reflected=True)

    def __neg__(self) -> Tensor:
        return self._unary("neg")

    def __pos__(self) -> Tensor:
        return self  # type: ignore[return-value]

    def __abs__(self) -> Tensor:
        return self._unary("abs")

    def __invert__(self) -> Tensor:
        if self.dtype.kind != "b":
            raise DTypeError(f"~ is only defined for bool tensors here, got {self.dtype}")
        return self._unary("logical_not")

    def __and__(self, other: Any) -> Tensor:
        return self._binary("bitwise_and", other)

    def __or__(self, other: Any) -> Tensor:
        return self._binary("bitwise_or", other)

    def __xor__(self, other: Any) -> Tensor:
        return self._binary("bitwise_xor", other)

    __rand__ = __and__
    __ror__ = __or__
    __rxor__ = __xor__

    # -- comparisons (elementwise, bool results) --------------------------------
    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._binary("eq", other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._binary("ne", other)

    def __lt__(self, other: Any) -> Tensor:
        return self._binary("lt", other)

    def __le__(self, other: Any) -> Tensor:
        return self._binary("le", other)

    def __gt__(self, other: Any) -> Tensor:
        return self._binary("gt", other)

    def __ge__(self, other: Any) -> Tensor:
        return self._binary("ge", other)

    eq = __eq__
    ne = __ne__
    lt = __lt__
    le = __le__
    gt = __gt__
    ge = __ge__

    # -- matrix product ---------------------------------------------------------
    def matmul(self, other: Any) -> Tensor:
        """Matrix product with NumPy's rules: 1-D operands, batched and broadcast leading dims."""
        if _defers(other):
            return NotImplemented
        a = self._array if self._array is not None else self._arr()
        b = operand(other, self.device)
        try:
            return self._from_array(lookup("matmul", self.device)(a, b))
        except ValueError:
            _check_matmul_shapes(a.shape, getattr(b, "shape", ()))  # raises a ShapeError naming both shapes
            raise

    __matmul__ = matmul

    def __rmatmul__(self, other: Any) -> Tensor:
        return self._from_array(operand(other, self.device)).matmul(self)


_register("matmul", _ufunc("matmul"))


def _check_matmul_shapes(a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> None:
    """Explain why two shapes cannot be multiplied (called only after the kernel refused them)."""
    if not a_shape or not b_shape:
        raise ShapeError(f"matmul needs operands with at least 1 dimension, got shapes {a_shape} and {b_shape}")
    k_a = a_shape[-1]
    k_b = b_shape[-2] if len(b_shape) >= 2 else b_shape[0]
    if k_a != k_b:
        where = "second-to-last" if len(b_shape) >= 2 else "only"
        raise ShapeError(
            f"matmul: shapes {a_shape} and {b_shape} do not align: {k_a} (last dim of the first) != {k_b} "
            f"({where} dim of the second)"
        )
    try:
        broadcast_shapes(a_shape[:-2], b_shape[:-2])
    except ShapeError as exc:
        raise ShapeError(f"matmul: the batch dimensions of shapes {a_shape} and {b_shape} differ: {exc}") from None
