"""dtypes: names, NumPy's promotion rules (weak Python scalars), ``astype``/``to``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hyperion.tensor as ht
from hyperion.tensor import DTypeError
from hyperion.tensor.dtypes import SUPPORTED, infer_dtype, is_floating, to_dtype

from .assertions import assert_matches
from .strategies import ALL_DTYPES, dtypes, pairs

SUPPORTED_LIST = "bool, int8, int16, int32, int64, uint8, float16, float32, float64"


def test_dtype_objects_are_numpys() -> None:
    assert ht.float32 is np.dtype("float32")
    assert ht.bool_ == np.dtype(bool)
    assert SUPPORTED == ALL_DTYPES
    assert [d.name for d in SUPPORTED] == SUPPORTED_LIST.split(", ")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        *((d, d) for d in ALL_DTYPES),
        *((d.name, d) for d in ALL_DTYPES),
        *((d.type, d) for d in ALL_DTYPES),
        ("float", "float32"),
        ("double", "float64"),
        ("half", "float16"),
        ("long", "int64"),
        ("int", "int64"),
        ("bool", "bool"),
        (float, "float32"),
        (int, "int64"),
        (bool, "bool"),
        ("f4", "float32"),
    ],
)
def test_to_dtype_resolves_names_types_and_aliases(spec: Any, expected: Any) -> None:
    assert to_dtype(spec) == np.dtype(expected)


@pytest.mark.parametrize("spec", [np.complex64, "complex128", complex, object, str, "uint16", np.uint64, "U3", "nope"])
def test_unsupported_dtypes_are_named_with_the_supported_list(spec: Any) -> None:
    with pytest.raises(DTypeError) as info:
        to_dtype(spec)
    assert str(info.value) == f"unsupported dtype {spec!r}; supported dtypes are {SUPPORTED_LIST}"
    assert isinstance(info.value, TypeError)


def test_unsupported_dtypes_are_refused_everywhere() -> None:
    for make in (
        lambda: ht.zeros(2, dtype="complex64"),
        lambda: ht.tensor([1j, 2j]),
        lambda: ht.tensor(np.array(["a", "b"])),
        lambda: ht.from_numpy(np.zeros(2, np.complex128)),
        lambda: ht.arange(3).astype(np.uint16),
        lambda: ht.full((2,), 1 + 2j),
    ):
        with pytest.raises(DTypeError, match=f"supported dtypes are {SUPPORTED_LIST}"):
            make()
    with pytest.raises(DTypeError, match=f"unsupported storage dtype object; supported: {SUPPORTED_LIST}"):
        ht.Tensor(np.array([None, 1], dtype=object), (2,))


@given(first=dtypes, second=dtypes)
def test_result_type_follows_numpy_and_the_ops(first: np.dtype, second: np.dtype) -> None:
    x, y = ht.zeros(2, dtype=first), ht.ones(2, dtype=second)
    assert ht.result_type(x, y) == np.result_type(first, second)
    assert ht.result_type(first, second) == np.result_type(first, second)
    assert (x * y).dtype == ht.result_type(x, y)
    assert ht.where(x > 0, x, y).dtype == ht.result_type(x, y)


@given(dtype=dtypes, scalar=st.sampled_from((True, 2, -1, 2.5)))
def test_result_type_treats_python_scalars_as_weak(dtype: np.dtype, scalar: Any) -> None:
    assert ht.result_type(ht.zeros(1, dtype=dtype), scalar) == np.result_type(dtype, scalar)
    if dtype.kind == "f":
        assert ht.result_type(ht.zeros(1, dtype=dtype), scalar) == dtype


def test_is_floating_and_infer_dtype() -> None:
    assert [is_floating(d) for d in ALL_DTYPES] == [d.kind == "f" for d in ALL_DTYPES]
    assert infer_dtype(1.0) == np.float32
    assert infer_dtype(np.float64(1.0)) == np.float64  # a NumPy scalar is not a Python float here
    assert infer_dtype([1, 2]) == np.int64
    assert infer_dtype([[0.5]]) == np.float32
    assert infer_dtype(np.zeros(2, np.int8)) == np.int8
    assert infer_dtype(True) == np.bool_


@given(pair=pairs(), target=dtypes)
def test_astype_matches_numpy(pair: Any, target: np.dtype) -> None:
    if pair.a.dtype.kind == "f" and target.kind == "u":
        pair.base[...] = np.abs(pair.base)  # negative floats to unsigned ints are undefined in C (and NumPy)
    result = pair.t.astype(target)
    assert_matches(result, pair.a.astype(target), exact=True)
    assert_matches(pair.t.to(target), pair.a.astype(target), exact=True)
    assert_matches(pair.t.to(dtype=target.name), pair.a.astype(target), exact=True)
    if target == pair.a.dtype:
        assert result is pair.t  # no copy when nothing changes
    else:
        assert not result.shares_storage(pair.t)
