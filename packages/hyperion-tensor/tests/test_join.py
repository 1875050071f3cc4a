"""``cat``, ``stack``, ``one_hot``, ``tril``/``triu`` against NumPy (and PyTorch for ``one_hot``)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hyperion.tensor as ht
from hyperion.tensor import ShapeError

from .assertions import assert_matches, assert_parity
from .strategies import dtypes, int_dtypes_and_bool, pairs, shapes


@given(shape=shapes(min_dims=1, max_dims=3, max_side=3), data=st.data())
def test_cat_matches_numpy_concatenate(shape: tuple[int, ...], data: st.DataObject) -> None:
    ndim = len(shape)
    dim = data.draw(st.integers(-ndim, ndim - 1), label="dim")
    count = data.draw(st.integers(1, 4), label="count")
    same_dtype = data.draw(st.booleans(), label="one dtype")
    dtype = data.draw(dtypes, label="dtype")
    parts = []
    for k in range(count):
        size = data.draw(st.integers(0, 3), label=f"size {k}")
        part_shape = shape[: dim % ndim] + (size,) + shape[dim % ndim + 1 :]
        parts.append(data.draw(pairs(part_shape, dtype if same_dtype else dtypes), label=f"part {k}"))
    tensors = [p.t for p in parts]
    arrays = [p.a for p in parts]
    assert_parity(lambda: ht.cat(tensors, dim), lambda: np.concatenate(arrays, axis=dim))
    assert_parity(lambda: ht.cat(tuple(tensors), dim=dim), lambda: np.concatenate(arrays, axis=dim))
    result = ht.cat(tensors, dim)
    assert not any(result.shares_storage(t) for t in tensors if t.numel())


@given(shape=shapes(max_dims=3, max_side=3), data=st.data())
def test_stack_matches_numpy(shape: tuple[int, ...], data: st.DataObject) -> None:
    dim = data.draw(st.integers(-len(shape) - 1, len(shape)), label="dim")
    count = data.draw(st.integers(1, 4), label="count")
    parts = [data.draw(pairs(shape), label=f"part {k}") for k in range(count)]
    assert_parity(lambda: ht.stack([p.t for p in parts], dim), lambda: np.stack([p.a for p in parts], axis=dim))


def test_cat_and_stack_errors_name_the_shapes() -> None:
    with pytest.raises(ShapeError) as info:
        ht.cat([ht.zeros(2, 3), ht.zeros(2, 4)])
    assert str(info.value) == "cat along dim 0: shapes [(2, 3), (2, 4)] must match except in dimension 0"
    with pytest.raises(
        ShapeError, match=r"cat along dim 1: shapes \[\(2, 3\), \(2,\)\] must match except in dimension 1"
    ):
        ht.cat([ht.zeros(2, 3), ht.zeros(2)], dim=-1)
    with pytest.raises(ShapeError, match=r"stack needs tensors of one shape, got \[\(2,\), \(3,\)\]"):
        ht.stack([ht.zeros(2), ht.zeros(3)])
    with pytest.raises(ValueError, match="cat needs at least one tensor"):
        ht.cat([])
    with pytest.raises(ValueError, match="stack needs at least one tensor"):
        ht.stack([])
    with pytest.raises(ShapeError, match="cat: zero-dimensional tensors cannot be concatenated"):
        ht.cat([ht.tensor(1.0), ht.tensor(2.0)])
    with pytest.raises(IndexError, match="dim 2 is out of range for a tensor with 1 dimension"):
        ht.cat([ht.zeros(2), ht.zeros(2)], dim=2)


@given(pair=pairs(dtype=st.sampled_from(("int8", "int32", "int64", "uint8")), max_side=4), data=st.data())
def test_one_hot_matches_numpy_and_torch(torch: Any, pair: Any, data: st.DataObject) -> None:
    pair.base[...] = np.abs(pair.base.astype(np.int64)) % 5  # class indices, seen through the strided view
    indices, t = pair.a.astype(np.int64), pair.t
    if data.draw(st.booleans(), label="given num_classes") or not indices.size:
        num_classes = int(indices.max(initial=-1)) + 1 + data.draw(st.integers(0, 2), label="extra")
    else:
        num_classes = -1
    expected_classes = num_classes if num_classes >= 0 else int(indices.max()) + 1
    expected = (indices[..., None] == np.arange(expected_classes)).astype(np.int64)
    result = ht.one_hot(t, num_classes)
    assert_matches(result, expected)
    if indices.size:
        reference = torch.nn.functional.one_hot(torch.from_numpy(indices), num_classes)
        np.testing.assert_array_equal(result.numpy(), reference.numpy())


def test_one_hot_errors() -> None:
    with pytest.raises(ValueError, match="one_hot: index 3 is out of range for num_classes=3"):
        ht.one_hot(ht.tensor([0, 3, 1]), 3)
    with pytest.raises(ValueError, match="one_hot: index -1 is out of range for num_classes=2"):
        ht.one_hot(ht.tensor([[0], [-1]]), 2)
    with pytest.raises(TypeError, match="one_hot needs integer indices, got float32"):
        ht.one_hot(ht.tensor([0.0]), 2)
    assert ht.one_hot(ht.tensor([2, 0])).tolist() == [[0, 0, 1], [1, 0, 0]]


@pytest.mark.parametrize("which", ["tril", "triu"])
@given(pair=pairs(shape=shapes(min_dims=2, max_dims=4, max_side=5)), k=st.integers(-6, 6))
def test_tril_triu_match_numpy(which: str, pair: Any, k: int) -> None:
    ours = getattr(ht, which)
    reference = getattr(np, which)
    assert_parity(lambda: ours(pair.t, k), lambda: reference(pair.a, k))
    assert_parity(lambda: ours(pair.t, diagonal=k), lambda: reference(pair.a, k))
    assert_parity(lambda: ours(pair.t), lambda: reference(pair.a))


@given(pair=pairs(shape=shapes(max_dims=1), dtype=int_dtypes_and_bool))
def test_tril_triu_need_a_matrix(pair: Any) -> None:
    with pytest.raises(ShapeError, match=re.escape(f"tril needs at least 2 dimensions, got shape {pair.t.shape}")):
        ht.tril(pair.t)
    with pytest.raises(ShapeError, match="triu needs at least 2 dimensions"):
        ht.triu(pair.t)
