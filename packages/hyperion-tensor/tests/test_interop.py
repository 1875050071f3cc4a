"""Interop: ``numpy()``/``from_numpy`` share memory, ``__array__``, DLPack with NumPy and PyTorch."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hyperion.tensor as ht

from .assertions import address, significant_strides
from .strategies import ALL_DTYPES, pairs, random_values, shapes


@given(pair=pairs())
def test_numpy_is_a_zero_copy_view_with_the_same_layout(pair: Any) -> None:
    array = pair.t.numpy()
    assert isinstance(array, np.ndarray)
    assert array.dtype == pair.t.dtype and array.shape == pair.t.shape
    np.testing.assert_array_equal(array, pair.a)
    if array.size:
        assert np.shares_memory(array, pair.base)
        assert address(array) == address(pair.a)
        byte_strides = tuple(s * array.itemsize for s in pair.t.strides)
        assert significant_strides(array.shape, array.strides) == significant_strides(array.shape, byte_strides)


@given(pair=pairs(broadcast=False))
def test_writes_through_numpy_show_in_the_tensor_and_back(pair: Any) -> None:
    array = pair.t.numpy()
    if not array.size:
        return
    fresh = random_values(np.random.default_rng(7), array.shape, array.dtype)
    array[...] = fresh
    np.testing.assert_array_equal(pair.t.numpy(), fresh)
    np.testing.assert_array_equal(pair.a, fresh)
    pair.t[...] = ht.zeros_like(pair.t)
    assert not array.any()


def _numpy_layouts(draw: Any) -> np.ndarray:
    """A NumPy array that is a transposed, stepped (negative steps too) or broadcast view of a buffer."""
    shape = draw(shapes(min_dims=1, max_dims=3, max_side=4))
    dtype = draw(st.sampled_from(ALL_DTYPES))
    base = random_values(np.random.default_rng(draw(st.integers(0, 1000))), tuple(2 * n + 1 for n in shape), dtype)
    steps = tuple(slice(None, None, draw(st.sampled_from((1, 2, -1, -2)))) for _ in shape)
    view = base[steps][tuple(slice(0, n) for n in shape)]
    kind = draw(st.sampled_from(("plain", "transposed", "broadcast", "fortran")))
    if kind == "transposed":
        return view.T
    if kind == "broadcast":
        return np.broadcast_to(view[..., :1], view.shape)
    if kind == "fortran":
        return np.asfortranarray(view)
    return view


numpy_layouts = st.composite(_numpy_layouts)


@given(array=numpy_layouts())
def test_from_numpy_is_zero_copy_for_any_strides(array: np.ndarray) -> None:
    t = ht.from_numpy(array)
    assert t.shape == array.shape and t.dtype == array.dtype
    np.testing.assert_array_equal(t.numpy(), array)
    if array.size:
        assert np.shares_memory(t.numpy(), array)
        assert address(t.numpy()) == address(array)
        element_strides = tuple(s // array.itemsize for s in array.strides)
        assert significant_strides(t.shape, t.strides) == significant_strides(t.shape, element_strides)
        assert t.numpy().flags.writeable == array.flags.writeable  # read-only stays read-only


def test_from_numpy_aliases_both_ways_and_keeps_scalars_0d() -> None:
    array = np.arange(12.0).reshape(3, 4)[::-1, 1::2]
    t = ht.from_numpy(array)
    array[0, 0] = -1.0
    assert t[0, 0].item() == -1.0
    t[2, 1] = 99.0
    assert array[2, 1] == 99.0
    scalar = ht.from_numpy(np.array(5, np.int16))
    assert scalar.shape == () and scalar.dtype == np.int16 and scalar.item() == 5
    empty = ht.from_numpy(np.zeros((0, 3), np.float16))
    assert empty.shape == (0, 3) and empty.dtype == np.float16


@given(pair=pairs())
def test_array_protocol(pair: Any) -> None:
    assert np.asarray(pair.t).dtype == pair.t.dtype
    np.testing.assert_array_equal(np.asarray(pair.t), pair.a)
    converted = np.asarray(pair.t, dtype=np.float64)
    assert converted.dtype == np.float64
    np.testing.assert_array_equal(converted, pair.a.astype(np.float64))
    copy = np.array(pair.t, copy=True)
    np.testing.assert_array_equal(copy, pair.a)
    if pair.a.size:
        assert np.shares_memory(np.asarray(pair.t), pair.base)
        assert not np.shares_memory(copy, pair.base)


def test_python_conversions() -> None:
    t = ht.tensor([[1.5, 2.0]])
    assert t.tolist() == [[1.5, 2.0]]
    assert ht.tensor(3).tolist() == 3
    assert float(t[0, 1]) == 2.0 and int(t[0, 0]) == 1
    assert bool(ht.tensor([True])) is True
    assert [10, 20, 30][ht.tensor(2)] == 30
    assert [row.tolist() for row in ht.arange(4).reshape(2, 2)] == [[0, 1], [2, 3]]
    assert len(ht.zeros(5, 2)) == 5
    assert isinstance(ht.tensor(3).item(), int) and isinstance(ht.tensor(True).item(), bool)


# -- DLPack --------------------------------------------------------------------------------------


@given(pair=pairs(negative_steps=False))
def test_dlpack_to_numpy_is_zero_copy(pair: Any) -> None:
    assert pair.t.__dlpack_device__() == (1, 0)  # kDLCPU
    array = np.from_dlpack(pair.t)
    np.testing.assert_array_equal(array, pair.a)
    if array.size:
        assert np.shares_memory(array, pair.base)


@given(pair=pairs(dtype=st.sampled_from(ALL_DTYPES), negative_steps=False, broadcast=False))
def test_dlpack_round_trip_with_torch_shares_memory(torch: Any, pair: Any) -> None:
    shared = torch.from_dlpack(pair.t)
    assert tuple(shared.shape) == pair.t.shape
    np.testing.assert_array_equal(shared.numpy(), pair.a)
    back = ht.from_dlpack(shared)
    assert back.dtype == pair.t.dtype
    np.testing.assert_array_equal(back.numpy(), pair.a)
    if pair.a.size:
        assert shared.stride() == pair.t.strides
        assert np.shares_memory(back.numpy(), pair.base)
        corner = (0,) * pair.t.ndim
        shared[corner] = 1 if pair.t.dtype.kind != "b" else not bool(pair.a[corner])
        assert pair.a[corner] == shared[corner].item()


def test_from_dlpack_of_torch_and_numpy(torch: Any) -> None:
    source = torch.arange(12, dtype=torch.float32).reshape(3, 4).t()
    t = ht.from_dlpack(source)
    assert t.shape == (4, 3) and t.strides == (1, 4) and t.dtype == np.float32
    source[0, 0] = 42.0
    assert t[0, 0].item() == 42.0
    array = np.arange(6, dtype=np.int8).reshape(2, 3)
    from_np = ht.from_dlpack(array)
    assert from_np.dtype == np.int8 and np.shares_memory(from_np.numpy(), array)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_torch_from_numpy_of_hyperion_tensors(torch: Any, dtype: np.dtype) -> None:
    t = ht.ones((2, 3), dtype=dtype)
    shared = torch.from_numpy(t.numpy())
    shared.zero_()
    assert not t.numpy().any()
