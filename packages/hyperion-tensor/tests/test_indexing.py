"""Indexing against NumPy: basic indices give views with NumPy's layout, advanced ones copies."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hyperion.tensor as ht
from hyperion.tensor import ShapeError, TensorIndexError

from .assertions import assert_matches, assert_same_layout
from .strategies import pairs, random_values, replay, shapes


def _slices(size: int) -> st.SearchStrategy:
    bound = st.none() | st.integers(-size - 2, size + 2)
    return st.builds(slice, bound, bound, st.sampled_from((None, 1, 2, 3, -1, -2, -3)))


def _basic_item(size: int) -> st.SearchStrategy:
    if size == 0:
        return _slices(size)
    return st.integers(-size, size - 1) | _slices(size) | st.integers(-size, size - 1).map(np.int64)


@st.composite
def basic_keys(draw: Any, shape: tuple[int, ...]) -> tuple[Any, ...]:
    """A basic index for ``shape``: ints, slices with any step, ``None`` and at most one ``...``."""
    ndim = len(shape)
    consumed = draw(st.integers(0, ndim))
    ellipsis_at = draw(st.none() | st.integers(0, consumed))
    if ellipsis_at is None:
        dims = list(range(consumed))
    else:
        dims = list(range(ellipsis_at)) + list(range(ndim - (consumed - ellipsis_at), ndim))
    items: list[Any] = [draw(_basic_item(shape[d])) for d in dims]
    if ellipsis_at is not None:
        items.insert(ellipsis_at, Ellipsis)
    for _ in range(draw(st.integers(0, 2))):
        items.insert(draw(st.integers(0, len(items))), None)
    return tuple(items)


def numpy_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """The same basic index for NumPy, always giving a view (never a NumPy scalar)."""
    return key if any(item is Ellipsis for item in key) else key + (Ellipsis,)


def as_tensor_key(key: tuple[Any, ...]) -> Any:
    """Spell a one-item key without the tuple, as users do: ``t[2]``, ``t[::2]``."""
    return key[0] if len(key) == 1 else key


@given(pairs(), st.data())
def test_basic_indexing_gives_numpys_view(pair: Any, data: st.DataObject) -> None:
    key = data.draw(basic_keys(pair.a.shape), label="key")
    view = pair.t[as_tensor_key(key)]
    expected = pair.a[numpy_key(key)]
    assert_same_layout(view, expected, pair.base)
    if expected.size:
        assert view.shares_storage(pair.t)


@given(pairs(shape=shapes(min_dims=1), broadcast=False), st.data())
def test_basic_indexing_chains_alias_the_base(pair: Any, data: st.DataObject) -> None:
    t, a = pair.t, pair.a
    for _ in range(3):
        key = data.draw(basic_keys(a.shape), label="key")
        t, a = t[key], a[numpy_key(key)]
    assert_same_layout(t, a, pair.base)
    pair.base[...] = random_values(np.random.default_rng(1), pair.base.shape, pair.base.dtype)
    np.testing.assert_array_equal(t.numpy(), a)


def test_zero_dim_integer_tensors_and_numpy_ints_index_like_ints() -> None:
    t = ht.arange(12).reshape(3, 4)
    assert t[ht.tensor(1)].tolist() == [4, 5, 6, 7]
    assert t[ht.tensor(1)].shares_storage(t)
    assert t[np.int8(-1), np.int64(2)].item() == 10
    assert t[1][2].shape == ()


@st.composite
def advanced_keys(draw: Any, shape: tuple[int, ...]) -> tuple[Any, ...]:
    """An index with integer arrays (lists, arrays, tensors) or a boolean mask, mixed with basic items."""
    ndim = len(shape)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        # a boolean mask over the leading dims, then basic items
        k = draw(st.integers(1, ndim))
        mask = rng.random(shape[:k]) < 0.5
        spelled = draw(st.sampled_from(("numpy", "tensor", "list") if mask.size else ("numpy", "tensor")))
        head = mask if spelled == "numpy" else ht.tensor(mask) if spelled == "tensor" else mask.tolist()
        rest = [draw(_basic_item(n)) if draw(st.booleans()) else slice(None) for n in shape[k:]]
        return (head, *rest)
    index_shape = draw(shapes(min_dims=1, max_dims=2, max_side=3))  # 0-d int arrays are ints
    items: list[Any] = []
    for size in shape:
        choice = draw(st.sampled_from(("array", "slice", "int")))
        if size == 0 or choice == "slice":
            items.append(draw(_slices(size)))
        elif choice == "int":
            items.append(draw(st.integers(-size, size - 1)))
        else:
            index = rng.integers(-size, size, index_shape)
            # (a list of an empty 2-D index would lose its shape: [] is (0,))
            spelled = draw(st.sampled_from(("numpy", "tensor", "list") if index.size else ("numpy", "tensor")))
            items.append(index if spelled == "numpy" else ht.tensor(index) if spelled == "tensor" else index.tolist())
    if not any(isinstance(i, list | np.ndarray | ht.Tensor) for i in items):
        size = shape[0]
        items[0] = [0, -1, 0] if size else []
    return tuple(items)


def numpy_advanced(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(item.numpy() if isinstance(item, ht.Tensor) else item for item in key)


@given(pairs(shape=shapes(min_dims=1, max_dims=3)), st.data())
def test_advanced_indexing_copies_numpys_result(pair: Any, data: st.DataObject) -> None:
    key = data.draw(advanced_keys(pair.a.shape), label="key")
    expected = pair.a[numpy_advanced(key)]
    result = pair.t[key]
    assert_matches(result, expected, exact=True)
    assert not result.shares_storage(pair.t)
    assert not np.shares_memory(result.numpy(), pair.base)


def test_advanced_indexing_examples() -> None:
    t = ht.arange(12).reshape(3, 4)
    assert t[[2, 0]].tolist() == [[8, 9, 10, 11], [0, 1, 2, 3]]
    assert t[[0, 2], [1, 3]].tolist() == [1, 11]
    assert t[t > 8].tolist() == [9, 10, 11]
    assert t[:, ht.tensor([True, False, False, True])].tolist() == [[0, 3], [4, 7], [8, 11]]
    assert t[1, [3, 3]].tolist() == [7, 7]
    assert t[[]].shape == (0, 4)  # an empty list selects nothing, as in NumPy
    assert t[[[]]].shape == (1, 0, 4)
    copy = t[[0]]
    copy[0, 0] = 100
    assert t[0, 0].item() == 0


# -- assignment ------------------------------------------------------------------------------


@given(pairs(shape=shapes(min_dims=1), broadcast=False), st.data())
def test_setitem_with_basic_index_writes_through_the_view(pair: Any, data: st.DataObject) -> None:
    key = data.draw(basic_keys(pair.a.shape), label="key")
    target_shape = pair.a[numpy_key(key)].shape
    # a value that broadcasts to the target: a suffix of its shape, some dims squeezed to 1
    suffix = target_shape[data.draw(st.integers(0, len(target_shape)), label="drop") :]
    value_shape = tuple(1 if data.draw(st.booleans(), label="to 1") else n for n in suffix)
    value = data.draw(st.sampled_from(("scalar", "numpy", "tensor")), label="value kind")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    values = random_values(rng, value_shape, pair.a.dtype)
    if value == "scalar":
        values = values.reshape(-1)[:1].item() if values.size else 1
        operand: Any = values
    elif value == "numpy":
        operand = values
    else:
        operand = data.draw(pairs(shape=value_shape, dtype=pair.a.dtype), label="value tensor")
        values, operand = operand.a.copy(), operand.t
    expected_base = pair.base.copy()
    replay(expected_base, pair.steps)[numpy_key(key)] = values
    pair.t[as_tensor_key(key)] = operand
    np.testing.assert_array_equal(pair.base, expected_base)


@given(pairs(shape=shapes(min_dims=1, max_dims=3), broadcast=False), st.data())
def test_setitem_with_advanced_index_matches_numpy(pair: Any, data: st.DataObject) -> None:
    key = data.draw(advanced_keys(pair.a.shape), label="key")
    expected_base = pair.base.copy()
    replay(expected_base, pair.steps)[numpy_advanced(key)] = 1
    pair.t[key] = 1
    np.testing.assert_array_equal(pair.base, expected_base)


def test_setitem_into_transposed_and_stepped_views_of_another_tensor() -> None:
    base = ht.zeros(4, 6, dtype="int64")
    view = base.T[::-2, 1:3]  # shape (3, 2), strides (-2, 6)
    assert view.strides == (-2, 6)
    view[...] = ht.tensor([[1, 2], [3, 4], [5, 6]])
    view[0] = ht.tensor([7])  # broadcast along the row
    expected = np.zeros((4, 6), np.int64)
    expected.T[::-2, 1:3] = [[1, 2], [3, 4], [5, 6]]
    expected.T[::-2, 1:3][0] = [7]
    np.testing.assert_array_equal(base.numpy(), expected)
    base[base > 4] = -1
    assert base.numpy().max() == 4
    base[1:3, [0, 5]] = ht.tensor([9, 8])
    assert base[1:3, 0].tolist() == [9, 9] and base[1:3, 5].tolist() == [8, 8]
    base[2:, :][...] = base[:2, :]  # overlapping source and target: NumPy semantics (a copy is read first)
    np.testing.assert_array_equal(base.numpy()[2:], base.numpy()[:2])


# -- errors -----------------------------------------------------------------------------------


def test_out_of_range_index_names_index_dimension_and_size() -> None:
    t = ht.zeros(2, 3)
    with pytest.raises(TensorIndexError) as info:
        t[2]
    assert str(info.value) == "index 2 is out of range for dimension 0 with size 2"
    with pytest.raises(TensorIndexError, match="index -4 is out of range for dimension 1 with size 3"):
        t[0, -4]
    with pytest.raises(TensorIndexError, match="index 3 is out of range for dimension 1 with size 3"):
        t[..., 3]
    with pytest.raises(
        TensorIndexError,
        match=r"index 5 is out of bounds for axis 0 with size 2 \(indexing a tensor of shape \(2, 3\)\)",
    ):
        t[[0, 5]]
    with pytest.raises(TensorIndexError, match="index 7 is out of range for dimension 1 with size 3"):
        t[1, 7] = 1.0
    with pytest.raises(TensorIndexError, match="index 9 is out of bounds for axis 0 with size 2"):
        t[[9]] = 1.0
    assert isinstance(info.value, IndexError)


def test_malformed_indices_are_refused_with_a_reason() -> None:
    t = ht.zeros(2, 3)
    with pytest.raises(TensorIndexError, match=r"too many indices for a tensor of shape \(2, 3\): 3 were given"):
        t[0, 0, 0]
    with pytest.raises(TensorIndexError, match=r"an index can only have a single ellipsis \('...'\)"):
        t[..., 0, ...]
    with pytest.raises(TensorIndexError, match="slice step cannot be zero"):
        t[::0]
    with pytest.raises(TensorIndexError, match="tensors used as indices must be integer or bool, got float32"):
        t[ht.tensor([0.0, 1.0])]


def test_setitem_shape_mismatch_names_both_shapes() -> None:
    t = ht.zeros(2, 3)
    with pytest.raises(ShapeError) as info:
        t[0] = np.ones(4)
    assert "cannot assign a value of shape (4,)" in str(info.value)
    assert "of shape (2, 3)" in str(info.value)
    with pytest.raises(ShapeError, match=r"cannot assign a value of shape \(3, 2\)"):
        t[:, :2] = ht.ones(2, 3).T
