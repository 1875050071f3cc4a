"""Elementwise math and ``matmul`` against NumPy, on non-contiguous layouts and every dtype pair."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import hyperion.tensor as ht
from hyperion.tensor import ShapeError

from .assertions import assert_matches, assert_parity
from .strategies import FLOAT_DTYPES, broadcastable_pairs, dtypes, float_dtypes, pairs

# -- unary ------------------------------------------------------------------------------------

UNARY: dict[str, tuple[Callable[[Any], Any], Callable[[np.ndarray], Any]]] = {
    "neg": (lambda t: t.neg(), np.negative),
    "-x": (operator.neg, np.negative),
    "abs": (lambda t: t.abs(), np.absolute),
    "abs()": (abs, np.absolute),
    "sign": (ht.sign, np.sign),
    "exp": (lambda t: t.exp(), np.exp),
    "log": (ht.log, np.log),
    "log1p": (lambda t: t.log1p(), np.log1p),
    "expm1": (ht.expm1, np.expm1),
    "sqrt": (lambda t: t.sqrt(), np.sqrt),
    # documented: integers give floats, as true division does
    "rsqrt": (ht.rsqrt, lambda a: 1.0 / np.sqrt(a)),
    "reciprocal": (lambda t: t.reciprocal(), lambda a: 1.0 / a),
    "square": (ht.square, np.square),
    "sin": (ht.sin, np.sin),
    "cos": (lambda t: t.cos(), np.cos),
    "tanh": (ht.tanh, np.tanh),
    "floor": (ht.floor, np.floor),
    "ceil": (lambda t: t.ceil(), np.ceil),
    "isnan": (ht.isnan, np.isnan),
    "isinf": (lambda t: t.isinf(), np.isinf),
    "isfinite": (ht.isfinite, np.isfinite),
    "logical_not": (ht.logical_not, np.logical_not),
}


@pytest.mark.parametrize("name", UNARY)
@given(pair=pairs())
def test_unary_ops_match_numpy(name: str, pair: Any) -> None:
    ours, reference = UNARY[name]
    assert_parity(lambda: ours(pair.t), lambda: reference(pair.a))


def _sigmoid_reference(a: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x) in float64 (accurate in both tails), in the dtype true division gives."""
    x = a.astype(np.float64)
    with np.errstate(over="ignore"):
        return (1.0 / (1.0 + np.exp(-x))).astype(np.result_type(a.dtype, 1.0))


@given(pair=pairs())
def test_sigmoid_matches_reference(pair: Any) -> None:
    assert_matches(pair.t.sigmoid(), _sigmoid_reference(pair.a))
    assert_matches(ht.sigmoid(pair.t), _sigmoid_reference(pair.a))


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_sigmoid_is_accurate_in_both_tails_without_overflow(dtype: np.dtype) -> None:
    # down to where sigmoid(x) leaves the normal range of the dtype
    limit = {np.dtype("float16"): 9.0, np.dtype("float32"): 85.0, np.dtype("float64"): 700.0}[dtype]
    x = np.linspace(-limit, limit, 4001).astype(dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # the formula must not overflow
        result = ht.from_numpy(x).sigmoid()
        huge = ht.tensor([-1e30, 1e30], dtype=dtype if dtype != np.float16 else "float32").sigmoid()
    assert huge.tolist() == [0.0, 1.0]
    expected = _sigmoid_reference(x)
    assert result.dtype == dtype
    assert np.all(result.numpy() > 0)  # e.g. sigmoid(-85) = 1.2e-37 is not 0 in float32
    # relative accuracy everywhere, the far left tail included (where 1/(1 + e^-x) is tiny)
    rtol = {np.dtype("float16"): 2e-3, np.dtype("float32"): 1e-5, np.dtype("float64"): 1e-12}[dtype]
    np.testing.assert_allclose(result.numpy(), expected, rtol=rtol, atol=0)
    assert ht.tensor([np.nan]).sigmoid().isnan().item()


# -- binary -----------------------------------------------------------------------------------

BINARY: dict[str, tuple[Callable[[Any, Any], Any], Callable[[Any, Any], Any]]] = {
    "+": (operator.add, np.add),
    "-": (operator.sub, np.subtract),
    "*": (operator.mul, np.multiply),
    "/": (operator.truediv, np.true_divide),
    "//": (operator.floordiv, np.floor_divide),
    "%": (operator.mod, np.remainder),
    "**": (operator.pow, np.power),
    "&": (operator.and_, np.bitwise_and),
    "|": (operator.or_, np.bitwise_or),
    "^": (operator.xor, np.bitwise_xor),
    "==": (operator.eq, np.equal),
    "!=": (operator.ne, np.not_equal),
    "<": (operator.lt, np.less),
    "<=": (operator.le, np.less_equal),
    ">": (operator.gt, np.greater),
    ">=": (operator.ge, np.greater_equal),
    "add": (ht.add, np.add),
    "sub": (lambda x, y: x.sub(y), np.subtract),
    "mul": (ht.mul, np.multiply),
    "div": (ht.div, np.true_divide),
    "pow": (ht.pow, np.power),
    "maximum": (ht.maximum, np.maximum),
    "minimum": (lambda x, y: x.minimum(y), np.minimum),
}

SCALARS = st.sampled_from((0, 1, 2, -3, 7, 2.5, -0.5, 0.0, True, False))


@pytest.mark.parametrize("name", BINARY)
@given(operands=broadcastable_pairs(2))
def test_binary_ops_match_numpy_on_broadcast_noncontiguous_operands(name: str, operands: list[Any]) -> None:
    ours, reference = BINARY[name]
    x, y = operands
    assert_parity(lambda: ours(x.t, y.t), lambda: reference(x.a, y.a))


@pytest.mark.parametrize("name", BINARY)
@given(pair=pairs(max_dims=3), scalar=SCALARS)
def test_binary_ops_with_weak_python_scalars_match_numpy(name: str, pair: Any, scalar: Any) -> None:
    """NEP 50: a Python scalar does not widen the tensor's dtype, on either side of the operator."""
    ours, reference = BINARY[name]
    assert_parity(lambda: ours(pair.t, scalar), lambda: reference(pair.a, scalar))
    if name[0] in "+-*/%&|^=!<>":  # operators: the reflected spelling too
        assert_parity(lambda: ours(scalar, pair.t), lambda: reference(scalar, pair.a))


@pytest.mark.parametrize("name", ["+", "-", "*", "/", "**", "<", "==", "&"])
@given(operands=broadcastable_pairs(2, max_dims=3))
def test_operators_with_numpy_arrays_on_either_side_give_tensors(name: str, operands: list[Any]) -> None:
    ours, reference = BINARY[name]
    x, y = operands
    assert_parity(lambda: ours(x.t, y.a), lambda: reference(x.a, y.a))
    assert_parity(lambda: ours(x.a, y.t), lambda: reference(x.a, y.a))


def test_weak_scalar_promotion_examples() -> None:
    f16 = ht.ones(2, dtype="float16")
    i8 = ht.ones(2, dtype="int8")
    assert (f16 + 2.5).dtype == np.float16  # a Python float does not widen float16
    assert (2 * i8).dtype == np.int8
    assert (i8 + 2.5).dtype == np.float64  # int + Python float: the default float of NumPy
    assert (i8 / 2).dtype == np.float64
    assert (f16 + ht.ones(2, dtype="float32")).dtype == np.float32  # tensors are strong
    assert (np.float32(2) * i8).dtype == np.float32  # NumPy scalars are strong, and defer to the Tensor
    assert isinstance(np.float32(2) * i8, ht.Tensor)
    assert (ht.ones(2, dtype="uint8") + ht.ones(2, dtype="int8")).dtype == np.int16
    with pytest.raises(OverflowError):  # NumPy 2 refuses a Python int the tensor's dtype cannot hold
        i8 + 1000


def test_integer_division_and_modulo_follow_python_signs() -> None:
    x = ht.tensor([7, -7, 7, -7])
    y = ht.tensor([2, 2, -2, -2])
    assert (x // y).tolist() == [3, -4, -4, 3]
    assert (x % y).tolist() == [1, 1, -1, -1]
    assert (7 // y).tolist() == [3, 3, -4, -4]
    assert (-7 % y).tolist() == [1, 1, -1, -1]
    assert (2 ** ht.tensor([0, 1, 3])).tolist() == [1, 2, 8]


def test_maximum_minimum_propagate_nan() -> None:
    x = ht.tensor([1.0, np.nan, 3.0])
    y = ht.tensor([np.nan, 2.0, 1.0])
    assert np.array_equal(x.maximum(y).numpy(), [np.nan, np.nan, 3.0], equal_nan=True)
    assert np.array_equal(ht.minimum(x, y).numpy(), [np.nan, np.nan, 1.0], equal_nan=True)


def test_invert_is_logical_not_for_bool_and_refused_otherwise() -> None:
    assert (~ht.tensor([True, False])).tolist() == [False, True]
    with pytest.raises(TypeError, match="~ is only defined for bool tensors here, got int64"):
        ~ht.tensor([1, 2])
    t = ht.tensor([1.0, -2.0])
    assert +t is t


# -- where, clip ------------------------------------------------------------------------------


@given(operands=broadcastable_pairs(3, max_dims=3))
def test_where_matches_numpy(operands: list[Any]) -> None:
    cond, x, y = operands
    condition = cond.t.astype("bool")
    assert_parity(lambda: ht.where(condition, x.t, y.t), lambda: np.where(cond.a.astype(bool), x.a, y.a))
    assert_parity(lambda: x.t.where(condition, y.t), lambda: np.where(cond.a.astype(bool), x.a, y.a))
    assert_parity(lambda: ht.where(condition, x.t, 0.5), lambda: np.where(cond.a.astype(bool), x.a, 0.5))
    assert_parity(lambda: ht.where(condition, 1, 0), lambda: np.where(cond.a.astype(bool), 1, 0).astype(np.int64))


def test_where_needs_a_tensor() -> None:
    with pytest.raises(TypeError, match="where needs at least one tensor argument"):
        ht.where(True, 1, 2)


@given(operands=broadcastable_pairs(3, max_dims=3), low=SCALARS, high=SCALARS)
def test_clip_matches_numpy(operands: list[Any], low: Any, high: Any) -> None:
    x, lo, hi = operands
    assert_parity(lambda: x.t.clip(lo.t, hi.t), lambda: np.clip(x.a, lo.a, hi.a))
    assert_parity(lambda: ht.clip(x.t, low, high), lambda: np.clip(x.a, low, high))
    # One bound is maximum/minimum (NumPy's clip also accepts Python ints outside the dtype's range there)
    assert_parity(lambda: x.t.clamp(min=low), lambda: np.maximum(x.a, low))
    assert_parity(lambda: ht.clamp(x.t, max=hi.t), lambda: np.clip(x.a, None, hi.a))


def test_clip_needs_a_bound() -> None:
    with pytest.raises(ValueError, match="clip needs at least one of min and max"):
        ht.zeros(2).clip()


# -- matmul -----------------------------------------------------------------------------------


@given(
    shapes_=hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=4, min_side=0, max_side=4),
    data=st.data(),
)
def test_matmul_matches_numpy(shapes_: Any, data: st.DataObject) -> None:
    """1-D operands, matrices, batches and broadcast batch dims, with NumPy's promotion."""
    first, second = shapes_.input_shapes
    x = data.draw(pairs(first, dtypes), label="x")
    y = data.draw(pairs(second, dtypes), label="y")
    assert_parity(lambda: x.t @ y.t, lambda: x.a @ y.a)
    assert_parity(lambda: ht.matmul(x.t, y.t), lambda: np.matmul(x.a, y.a))
    assert_parity(lambda: x.t @ y.a, lambda: x.a @ y.a)
    assert_parity(lambda: x.a @ y.t, lambda: x.a @ y.a)


@given(x=pairs((3, 4), float_dtypes), y=pairs((4,), float_dtypes))
def test_matmul_with_lists(x: Any, y: Any) -> None:
    as_list = y.a.tolist()
    assert_parity(lambda: x.t @ as_list, lambda: x.a @ np.asarray(as_list))
    assert_parity(lambda: as_list @ x.t.T, lambda: np.asarray(as_list) @ x.a.T)


def test_matmul_errors_name_both_shapes() -> None:
    with pytest.raises(ShapeError) as info:
        ht.zeros(2, 3) @ ht.zeros(4, 5)
    assert str(info.value) == (
        "matmul: shapes (2, 3) and (4, 5) do not align: 3 (last dim of the first) != 4 (second-to-last dim of the second)"
    )
    with pytest.raises(
        ShapeError, match=r"matmul: shapes \(3,\) and \(2,\) do not align: 3 .* != 2 \(only dim of the second\)"
    ):
        ht.zeros(3) @ ht.zeros(2)
    with pytest.raises(
        ShapeError, match=r"matmul needs operands with at least 1 dimension, got shapes \(\) and \(3,\)"
    ):
        ht.tensor(2.0) @ ht.zeros(3)
    with pytest.raises(
        ShapeError, match=r"matmul needs operands with at least 1 dimension, got shapes \(3,\) and \(\)"
    ):
        ht.zeros(3) @ 2.0
    with pytest.raises(
        ShapeError, match=r"matmul needs operands with at least 1 dimension, got shapes \(\) and \(3,\)"
    ):
        2 @ ht.zeros(3)
    with pytest.raises(ShapeError) as info:
        ht.zeros(2, 2, 3) @ ht.zeros(3, 3, 4)
    assert "(2, 2, 3)" in str(info.value) and "(3, 3, 4)" in str(info.value)


def test_elementwise_broadcast_error_names_both_shapes() -> None:
    with pytest.raises(ShapeError) as info:
        ht.zeros(2, 3) + ht.zeros(4, 3)
    assert str(info.value) == "shapes (2, 3) and (4, 3) cannot be broadcast together: size 2 vs 4 at dimension -2"
    with pytest.raises(ShapeError, match=r"shapes \(3,\) and \(2,\) and \(3,\) cannot be broadcast together"):
        ht.where(ht.zeros(3, dtype="bool"), ht.zeros(2), ht.zeros(3))
    with pytest.raises(ShapeError, match=r"shapes \(2, 3\) and \(2,\) cannot be broadcast together"):
        ht.zeros(2, 3) * np.zeros(2)


@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_float_ops_keep_their_dtype(dtype: np.dtype) -> None:
    x = ht.ones(3, dtype=dtype)
    for result in (x + 1, x * 0.5, x.exp(), x.sigmoid(), x.rsqrt(), x.reciprocal(), x @ x, x.clip(0, 1), -x):
        assert result.dtype == dtype


def test_operators_defer_to_types_that_opt_out_of_numpy_operators():
    """A higher-layer tensor type sets ``__array_ufunc__ = None``; raw ops must hand over to it."""

    class Differentiable:
        __array_ufunc__ = None

        def __radd__(self, other):
            return ("radd", other.shape)

        def __rmatmul__(self, other):
            return ("rmatmul", other.shape)

    x = ht.ones(2, 3)
    assert x + Differentiable() == ("radd", (2, 3))
    assert x @ Differentiable() == ("rmatmul", (2, 3))
