"""Hypothesis fuzzing of hyperion.tensor against NumPy: any dtype mix, strided/permuted/broadcast layouts.

Each property runs an op on a Hyperion tensor and on its NumPy twin (the same view chain over
one buffer, see ``tests/strategies.py``) and asserts the same result — dtype, shape and values —
or the same kind of error. Non-finite values are injected on purpose: they must propagate as in
NumPy, never raise. Failing examples found while writing these are kept as ``@example``s.

Settings: ``max_examples=40`` per property (``FUZZ``), ``deadline=None`` (a shared CI machine
is noisy); ``--hypothesis-profile=thorough`` in ``tests/conftest.py`` does not raise these.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import hyperion.tensor as ht

from ..assertions import assert_matches, assert_parity
from ..strategies import ALL_DTYPES, FLOAT_DTYPES, broadcastable_pairs, pairs, same_numel_shapes

FUZZ = settings(max_examples=40, deadline=None)

BINARY = {
    "add": (operator.add, np.add),
    "sub": (operator.sub, np.subtract),
    "mul": (operator.mul, np.multiply),
    "truediv": (operator.truediv, np.true_divide),
    "floordiv": (operator.floordiv, np.floor_divide),
    "mod": (operator.mod, np.remainder),
    "pow": (operator.pow, np.power),
    "maximum": (ht.maximum, np.maximum),
    "minimum": (ht.minimum, np.minimum),
    "lt": (operator.lt, np.less),
    "eq": (operator.eq, np.equal),
    "and": (operator.and_, np.bitwise_and),
    "xor": (operator.xor, np.bitwise_xor),
}

UNARY = {
    "neg": (operator.neg, np.negative),
    "abs": (ht.abs, np.abs),
    "sign": (ht.sign, np.sign),
    "exp": (ht.exp, np.exp),
    "log": (ht.log, np.log),
    "sqrt": (ht.sqrt, np.sqrt),
    "sin": (ht.sin, np.sin),
    "tanh": (ht.tanh, np.tanh),
    "floor": (ht.floor, np.floor),
    "square": (ht.square, np.square),
    "isnan": (ht.isnan, np.isnan),
    "isfinite": (ht.isfinite, np.isfinite),
    "logical_not": (ht.logical_not, np.logical_not),
}

REDUCTIONS = {
    "sum": np.sum,
    "mean": np.mean,
    "prod": np.prod,
    "max": np.max,
    "min": np.min,
    "any": np.any,
    "all": np.all,
}


def _tolerance_dtype(*arrays: np.ndarray) -> Any:
    """float16 tolerance whenever a float16 operand takes part (its rounding dominates)."""
    return np.float16 if any(a.dtype == np.float16 for a in arrays) else None


@FUZZ
@given(st.sampled_from(sorted(BINARY)), broadcastable_pairs(2, negative_steps=True))
def test_binary_ops_match_numpy_for_any_dtypes_layouts_and_broadcasts(name: str, operands: list[Any]) -> None:
    ours, theirs = BINARY[name]
    a, b = operands
    assert_parity(lambda: ours(a.t, b.t), lambda: theirs(a.a, b.a), tolerance_dtype=_tolerance_dtype(a.a, b.a))


@FUZZ
@given(st.sampled_from(sorted(UNARY)), pairs())
def test_unary_ops_match_numpy_for_any_dtype_and_layout(name: str, x: Any) -> None:
    ours, theirs = UNARY[name]
    assert_parity(lambda: ours(x.t), lambda: theirs(x.a))


@FUZZ
@given(pairs())
def test_invert_is_logical_not_on_bool_and_refused_explicitly_otherwise(x: Any) -> None:
    """Found by fuzzing: ``~`` of an int8 tensor raised where NumPy inverts bits.

    Hyperion documents ``~`` as logical not, for bool tensors only; the fix made the refusal a
    :class:`~hyperion.tensor.DTypeError` naming the dtype (the regression case is in cases.py).
    """
    if x.a.dtype == np.bool_:
        assert_matches(~x.t, ~x.a)
        return
    with pytest.raises(ht.DTypeError, match=str(x.a.dtype)):
        _ = ~x.t


def _with_nonfinite(data: st.DataObject, x: Any) -> None:
    """Overwrite a few elements of the shared buffer with NaN, +Inf or -Inf (both twins see them)."""
    flat = x.base.reshape(-1)
    if flat.size == 0:
        return
    for _ in range(data.draw(st.integers(1, 3))):
        flat[data.draw(st.integers(0, flat.size - 1))] = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))


@FUZZ
@given(st.sampled_from(sorted(UNARY)), st.sampled_from(sorted(BINARY)), st.data())
@example("exp", "maximum", None).via("NaN in maximum must win, as in NumPy")
def test_nonfinite_values_propagate_like_numpy(unary: str, binary: str, data: st.DataObject | None) -> None:
    if data is None:  # the explicit example: maximum(NaN, 1) and maximum(1, NaN) are both NaN
        assert_matches(ht.maximum(ht.tensor([np.nan, 1.0]), ht.tensor([1.0, np.nan])), np.array([np.nan, np.nan], "f4"))
        return
    x, y = data.draw(broadcastable_pairs(2, dtype=st.sampled_from(FLOAT_DTYPES)))
    _with_nonfinite(data, x)
    _with_nonfinite(data, y)
    (uo, un), (bo, bn) = UNARY[unary], BINARY[binary]
    assert_parity(lambda: uo(x.t), lambda: un(x.a))
    assert_parity(lambda: bo(x.t, y.t), lambda: bn(x.a, y.a), tolerance_dtype=_tolerance_dtype(x.a, y.a))


@FUZZ
@given(st.sampled_from(sorted(REDUCTIONS)), pairs(), st.data())
def test_reductions_match_numpy_over_any_axes(name: str, x: Any, data: st.DataObject) -> None:
    ndim = x.a.ndim
    axis = data.draw(
        st.none() | st.lists(st.integers(-ndim, ndim - 1), max_size=ndim, unique_by=lambda d: d % ndim).map(tuple)
        if ndim
        else st.none()
    )
    keep = data.draw(st.booleans())
    if name in ("max", "min") and x.a.size == 0:
        return  # no identity: asserted to raise a ShapeError in test_bad_input
    assert_parity(
        lambda: getattr(ht, name)(x.t, axis, keep),
        lambda: REDUCTIONS[name](x.a, axis=axis, keepdims=keep),
        tolerance_dtype=np.float16 if x.a.dtype == np.float16 else None,
    )


@FUZZ
@given(
    st.sampled_from(ALL_DTYPES),
    st.sampled_from(ALL_DTYPES),
    st.integers(0, 4),
    st.integers(0, 4),
    st.integers(0, 4),
    st.lists(st.integers(1, 3), max_size=2),
    st.data(),
)
def test_matmul_matches_numpy_for_any_dtypes_layouts_and_batches(
    da: Any, db: Any, m: int, k: int, n: int, batch: list[int], data: st.DataObject
) -> None:
    a = data.draw(pairs((*batch, m, k), da, broadcast=True))
    b = data.draw(pairs((k, n), db, broadcast=True))
    assert_parity(lambda: a.t @ b.t, lambda: a.a @ b.a, tolerance_dtype=_tolerance_dtype(a.a, b.a))


@FUZZ
@given(pairs(), st.data())
def test_reshape_of_any_layout_matches_numpy(x: Any, data: st.DataObject) -> None:
    shape = data.draw(same_numel_shapes(x.a.size))
    assert_matches(x.t.reshape(shape), x.a.reshape(shape), exact=True)


@FUZZ
@given(pairs(shape=st.tuples(st.integers(0, 5), st.integers(0, 5))), st.data())
def test_out_of_range_indices_raise_like_numpy(x: Any, data: st.DataObject) -> None:
    rows, cols = x.a.shape
    i = data.draw(st.integers(-rows - 2, rows + 1))
    j = data.draw(st.integers(-cols - 2, cols + 1))
    inside = -rows <= i < rows and -cols <= j < cols
    if inside:
        assert x.t[i, j].item() == x.a[i, j].item()
        return
    bad = i if not -rows <= i < rows else j
    with pytest.raises(ht.TensorIndexError, match=f"index {bad} "):
        _ = x.t[i, j]
