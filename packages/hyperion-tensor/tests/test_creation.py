"""Creating tensors: default dtypes, copies, ranges, filled and random tensors, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hyperion.tensor as ht
from hyperion.tensor import DTypeError, ShapeError

from .assertions import assert_matches
from .strategies import ALL_DTYPES, pairs, shapes

# -- tensor() -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "dtype", "shape"),
    [
        (1.5, "float32", ()),  # Python floats: float32, as PyTorch
        (3, "int64", ()),
        (True, "bool", ()),
        ([1, 2, 3], "int64", (3,)),
        ([[1.0, 2], [3, 4]], "float32", (2, 2)),
        ([True, 2], "int64", (2,)),
        ([False, True], "bool", (2,)),
        ([], "float32", (0,)),
        ([[]], "float32", (1, 0)),
        (np.float64(2.0), "float64", ()),  # NumPy data keeps its dtype
        (np.int16(2), "int16", ()),
        (np.arange(3, dtype=np.uint8), "uint8", (3,)),
        (np.zeros((2, 0), np.float16), "float16", (2, 0)),
    ],
)
def test_tensor_default_dtypes(data: Any, dtype: str, shape: tuple[int, ...]) -> None:
    t = ht.tensor(data)
    assert t.dtype == np.dtype(dtype)
    assert t.shape == shape
    np.testing.assert_array_equal(t.numpy(), np.asarray(data, dtype=dtype))


@given(pair=pairs())
def test_tensor_from_numpy_keeps_dtype_and_copies(pair: Any) -> None:
    t = ht.tensor(pair.a)
    assert_matches(t, pair.a, exact=True)
    assert t.is_contiguous() and t.offset == 0
    assert not np.shares_memory(t.numpy(), pair.base)
    from_tensor = ht.tensor(pair.t)
    assert_matches(from_tensor, pair.a, exact=True)
    assert not from_tensor.shares_storage(pair.t)


@given(pair=pairs())
def test_tensor_from_nested_lists_uses_pytorch_defaults(pair: Any) -> None:
    t = ht.tensor(pair.a.tolist())
    expected = {"b": np.bool_, "i": np.int64, "u": np.int64, "f": np.float32}[pair.a.dtype.kind]
    if not pair.a.size:
        expected = np.float32  # nothing says the (empty) lists hold anything else, as in PyTorch
    assert_matches(t, np.array(pair.a.tolist(), dtype=expected), exact=True)  # (0, 0) lists as []: shape (0,)


@pytest.mark.parametrize("dtype", [*ALL_DTYPES, "float", "double", "half", "long", "int", "bool", float, int, bool])
def test_tensor_with_explicit_dtype(dtype: Any) -> None:
    aliases = {"float": "float32", "double": "float64", "half": "float16", "long": "int64", "int": "int64"}
    expected = np.dtype(
        aliases.get(dtype, dtype) if isinstance(dtype, str) else {float: "float32", int: "int64"}.get(dtype, dtype)
    )
    t = ht.tensor([0, 1, 2], dtype=dtype)
    assert t.dtype == expected
    assert t.tolist() == np.array([0, 1, 2], dtype=expected).tolist()
    assert ht.tensor(ht.tensor([1.0]), dtype=dtype).dtype == expected


def test_tensor_errors() -> None:
    with pytest.raises(ShapeError, match="cannot build a tensor from ragged or malformed data"):
        ht.tensor([[1, 2], [3]])
    with pytest.raises(DTypeError, match=r"cannot build a tensor from data of mixed or non-numeric types \(list\)"):
        ht.tensor([None, 1])


def test_as_tensor_returns_matching_tensors_unchanged() -> None:
    t = ht.arange(3)
    assert ht.as_tensor(t) is t
    assert ht.as_tensor(t, dtype="int64", device="cpu") is t
    converted = ht.as_tensor(t, dtype="float64")
    assert converted.dtype == np.float64 and converted.tolist() == [0.0, 1.0, 2.0]
    assert ht.as_tensor([1, 2]).dtype == np.int64


# -- ranges ------------------------------------------------------------------------------------


@given(
    start=st.integers(-10, 10),
    end=st.integers(-10, 10),
    step=st.integers(-4, 4).filter(bool),
)
def test_arange_of_ints_matches_numpy(start: int, end: int, step: int) -> None:
    assert_matches(ht.arange(start, end, step), np.arange(start, end, step, dtype=np.int64), exact=True)
    assert_matches(ht.arange(end), np.arange(end, dtype=np.int64), exact=True)
    assert_matches(ht.arange(start, end, step, dtype="float64"), np.arange(start, end, step, dtype=np.float64))


@given(
    start=st.floats(-10, 10).map(lambda x: round(x, 2)),
    length=st.floats(0, 10).map(lambda x: round(x, 2)),
    step=st.sampled_from((0.25, 0.5, 1.5, -0.25, -1.0)),
)
def test_arange_of_floats_is_float32_like_numpy(start: float, length: float, step: float) -> None:
    end = start + length if step > 0 else start - length
    result = ht.arange(start, end, step)
    expected = np.arange(start, end, step).astype(np.float32)
    assert_matches(result, expected)


@given(start=st.floats(-100, 100), end=st.floats(-100, 100), steps=st.integers(0, 50))
def test_linspace_matches_numpy(start: float, end: float, steps: int) -> None:
    assert_matches(ht.linspace(start, end, steps), np.linspace(start, end, steps).astype(np.float32))
    assert_matches(ht.linspace(start, end, steps, dtype="float64"), np.linspace(start, end, steps))


@given(n=st.integers(0, 6), m=st.none() | st.integers(0, 6), dtype=st.sampled_from(ALL_DTYPES))
def test_eye_matches_numpy(n: int, m: int | None, dtype: np.dtype) -> None:
    assert_matches(ht.eye(n, m, dtype=dtype), np.eye(n, m, dtype=dtype), exact=True)
    assert ht.eye(n, m).dtype == np.float32


def test_range_errors() -> None:
    with pytest.raises(ValueError, match="arange: step must be nonzero"):
        ht.arange(0, 3, 0)
    with pytest.raises(ValueError, match="linspace: number of steps must be >= 0, got -1"):
        ht.linspace(0, 1, -1)
    with pytest.raises(ShapeError, match="eye: sizes must be >= 0, got n=-1, m=None"):
        ht.eye(-1)
    with pytest.raises(ShapeError, match="eye: sizes must be >= 0, got n=2, m=-2"):
        ht.eye(2, -2)


# -- filled ------------------------------------------------------------------------------------


@given(shape=shapes(), dtype=st.sampled_from(ALL_DTYPES))
def test_filled_tensors(shape: tuple[int, ...], dtype: np.dtype) -> None:
    assert_matches(ht.zeros(shape, dtype=dtype), np.zeros(shape, dtype), exact=True)
    assert_matches(ht.zeros(*shape, dtype=dtype), np.zeros(shape, dtype), exact=True)
    assert_matches(ht.ones(shape, dtype=dtype), np.ones(shape, dtype), exact=True)
    assert_matches(ht.ones(*shape), np.ones(shape, np.float32), exact=True)
    assert_matches(ht.full(shape, 1, dtype=dtype), np.full(shape, 1, dtype), exact=True)
    empty = ht.empty(*shape, dtype=dtype)
    assert empty.shape == shape and empty.dtype == dtype and empty.is_contiguous()
    assert ht.empty(shape).dtype == np.float32


@pytest.mark.parametrize(
    ("fill", "dtype"), [(2, "int64"), (2.5, "float32"), (True, "bool"), (np.float16(1), "float16")]
)
def test_full_infers_the_dtype_from_the_fill_value(fill: Any, dtype: str) -> None:
    t = ht.full((2, 3), fill)
    assert t.dtype == np.dtype(dtype)
    assert t.tolist() == np.full((2, 3), fill, dtype).tolist()
    assert ht.full(4, fill).shape == (4,)
    assert ht.full((), fill).shape == ()


@given(pair=pairs(), dtype=st.none() | st.sampled_from(ALL_DTYPES))
def test_like_functions_keep_shape_and_dtype(pair: Any, dtype: np.dtype | None) -> None:
    want = dtype or pair.t.dtype
    shape = pair.a.shape
    assert_matches(ht.zeros_like(pair.t, dtype=dtype), np.zeros(shape, want), exact=True)
    assert_matches(ht.ones_like(pair.t, dtype=dtype), np.ones(shape, want), exact=True)
    assert_matches(ht.full_like(pair.t, 1, dtype=dtype), np.full(shape, 1, want), exact=True)
    empty = ht.empty_like(pair.t, dtype=dtype)
    assert empty.shape == shape and empty.dtype == want and empty.device == "cpu"
    assert not ht.zeros_like(pair.t).shares_storage(pair.t)


@pytest.mark.parametrize(
    "make",
    [
        lambda: ht.zeros(2, -1),
        lambda: ht.ones((-3,)),
        lambda: ht.empty(-1),
        lambda: ht.full((2, -2), 0.0),
        lambda: ht.rand(-2, seed=0),
        lambda: ht.randn(3, -1, seed=0),
        lambda: ht.randint(0, 3, (-1,), seed=0),
        lambda: ht.normal(0.0, 1.0, (-4,), seed=0),
        lambda: ht.uniform(0.0, 1.0, (1, -4), seed=0),
    ],
)
def test_negative_sizes_are_refused_naming_the_shape(make: Any) -> None:
    with pytest.raises(ShapeError, match=r"negative dimension in shape \(.*-\d.*\)"):
        make()


def test_sizes_must_be_integers() -> None:
    with pytest.raises(TypeError, match="sizes must be integers, got float 2.5"):
        ht.zeros(2.5)


# -- random ------------------------------------------------------------------------------------

RANDOM = {
    "rand": lambda **kw: ht.rand(3, 4, **kw),
    "randn": lambda **kw: ht.randn((3, 4), **kw),
    "randint": lambda **kw: ht.randint(-5, 5, (3, 4), **kw),
    "normal": lambda **kw: ht.normal(2.0, 3.0, (3, 4), **kw),
    "uniform": lambda **kw: ht.uniform(-1.0, 4.0, (3, 4), **kw),
}


@pytest.mark.parametrize("name", RANDOM)
@given(seed=st.integers(0, 2**32 - 1))
def test_random_functions_are_reproducible(name: str, seed: int) -> None:
    make = RANDOM[name]
    first = make(seed=seed)
    assert first.shape == (3, 4)
    np.testing.assert_array_equal(first.numpy(), make(seed=seed).numpy())
    np.testing.assert_array_equal(first.numpy(), make(generator=np.random.default_rng(seed)).numpy())
    assert not np.array_equal(first.numpy(), make(seed=seed + 1).numpy())
    generator = np.random.default_rng(seed)
    assert not np.array_equal(make(generator=generator).numpy(), make(generator=generator).numpy())


def test_random_values_have_the_right_range_dtype_and_moments() -> None:
    u = ht.rand(10_000, seed=1)
    assert u.dtype == np.float32 and 0.0 <= u.min().item() and u.max().item() < 1.0
    n = ht.randn(10_000, seed=2, dtype="float64")
    assert n.dtype == np.float64
    assert abs(n.mean().item()) < 0.05 and abs(n.std().item() - 1.0) < 0.05
    g = ht.normal(5.0, 2.0, (10_000,), seed=3)
    assert abs(g.mean().item() - 5.0) < 0.1 and abs(g.std().item() - 2.0) < 0.1
    i = ht.randint(-2, 3, (10_000,), seed=4)
    assert i.dtype == np.int64 and set(np.unique(i.numpy()).tolist()) == {-2, -1, 0, 1, 2}
    assert ht.randint(0, 2, (5,), seed=4, dtype="uint8").dtype == np.uint8
    w = ht.uniform(-3.0, -1.0, (10_000,), seed=5)
    assert -3.0 <= w.min().item() and w.max().item() < -1.0


def test_random_argument_errors() -> None:
    with pytest.raises(TypeError, match="pass either generator or seed, not both"):
        ht.rand(2, seed=1, generator=np.random.default_rng(1))
    with pytest.raises(TypeError, match="generator must be a numpy.random.Generator, got int"):
        ht.randn(2, generator=3)
    with pytest.raises(ValueError, match=r"randint: high \(2\) must be greater than low \(2\)"):
        ht.randint(2, 2, (3,))
    with pytest.raises(ValueError, match="normal: std must be >= 0, got -1.0"):
        ht.normal(0.0, -1.0, (2,))
    with pytest.raises(ValueError, match=r"uniform: high \(0.0\) must be >= low \(1.0\)"):
        ht.uniform(1.0, 0.0, (2,))
    with pytest.raises(DTypeError, match="random floats need a floating dtype, got int64"):
        ht.rand(2, dtype="int64")
