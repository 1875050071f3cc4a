"""Properties of the pure layout functions (``hyperion.tensor.layout``) against NumPy and PyTorch."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from hyperion.tensor import ShapeError, layout

from .strategies import pairs, same_numel_shapes, shapes, to_torch


def raw_layouts(*, negative: bool = True) -> st.SearchStrategy:
    """Arbitrary ``(shape, strides)``, overlapping and negative strides included."""
    low = -4 if negative else 0
    return shapes(max_dims=4, max_side=4).flatmap(
        lambda shape: st.tuples(st.just(shape), st.tuples(*(st.integers(low, 7) for _ in shape)))
    )


def numpy_view(shape: tuple[int, ...], strides: tuple[int, ...]) -> np.ndarray:
    """A NumPy array with this element layout (int8, so byte strides are element strides)."""
    low, high = layout.memory_extent(shape, strides, 0)
    buffer = np.zeros(max(high - low + 1, 1), np.int8)
    return np.lib.stride_tricks.as_strided(buffer[-low if low < 0 else 0 :], shape, strides)


# -- contiguous strides, numel ------------------------------------------------------------


@given(shapes())
def test_contiguous_strides_match_numpy_for_nonempty_shapes(shape: tuple[int, ...]) -> None:
    if 0 in shape:
        shape = tuple(max(s, 1) for s in shape)
    assert layout.contiguous_strides(shape) == np.empty(shape, np.int8).strides


@given(shapes())
def test_contiguous_strides_match_torch(torch: Any, shape: tuple[int, ...]) -> None:
    # PyTorch, like Hyperion, gives size-0 dims the strides they would have with size 1.
    assert layout.contiguous_strides(shape) == torch.empty(shape).stride()
    assert layout.contiguous_strides(list(shape)) == layout.contiguous_strides(shape)


@given(shapes())
def test_numel(shape: tuple[int, ...]) -> None:
    assert layout.numel(shape) == math.prod(shape) == np.empty(shape).size


# -- is_contiguous ------------------------------------------------------------------------


@given(raw_layouts())
def test_is_contiguous_matches_numpy_flags(case: tuple[tuple[int, ...], tuple[int, ...]]) -> None:
    shape, strides = case
    assert layout.is_contiguous(shape, strides) == numpy_view(shape, strides).flags.c_contiguous


@given(pairs())
def test_is_contiguous_of_generated_views_matches_numpy(pair: Any) -> None:
    assert layout.is_contiguous(pair.t.shape, pair.t.strides) == pair.a.flags.c_contiguous
    assert pair.t.is_contiguous() == pair.a.flags.c_contiguous


@given(raw_layouts(negative=False))
def test_is_contiguous_matches_torch(torch: Any, case: tuple[tuple[int, ...], tuple[int, ...]]) -> None:
    shape, strides = case
    storage = torch.zeros(layout.memory_extent(shape, strides, 0)[1] + 1)
    assert layout.is_contiguous(shape, strides) == storage.as_strided(shape, strides).is_contiguous()


@pytest.mark.parametrize(
    ("shape", "strides", "expected"),
    [
        ((2, 3), (3, 1), True),
        ((2, 3), (1, 2), False),
        ((2, 1, 3), (3, 99, 1), True),  # the stride of a size-1 dim is irrelevant
        ((0, 3), (3, 5), True),  # no elements: trivially dense, as NumPy and PyTorch say
        ((3, 0), (7, 7), True),
        ((), (), True),
        ((4,), (-1,), False),
        ((4,), (0,), False),
    ],
)
def test_is_contiguous_examples(shape: tuple[int, ...], strides: tuple[int, ...], expected: bool) -> None:
    assert layout.is_contiguous(shape, strides) is expected


# -- broadcasting -------------------------------------------------------------------------


@given(st.integers(1, 4).flatmap(lambda n: hnp.mutually_broadcastable_shapes(num_shapes=n, min_side=0)))
def test_broadcast_shapes_match_numpy(case: Any) -> None:
    assert layout.broadcast_shapes(*case.input_shapes) == np.broadcast_shapes(*case.input_shapes) == case.result_shape


@given(st.lists(shapes(max_dims=3, max_side=3), min_size=2, max_size=3))
def test_broadcast_shapes_fail_exactly_when_numpy_fails(shape_list: list[tuple[int, ...]]) -> None:
    try:
        expected = np.broadcast_shapes(*shape_list)
    except ValueError:
        with pytest.raises(ShapeError) as info:
            layout.broadcast_shapes(*shape_list)
        for shape in shape_list:
            assert str(shape) in str(info.value)
    else:
        assert layout.broadcast_shapes(*shape_list) == expected


def test_broadcast_shapes_message_names_both_shapes_and_the_dimension() -> None:
    with pytest.raises(
        ShapeError,
        match=r"shapes \(2, 3\) and \(4, 3\) cannot be broadcast together: "
        r"size 2 vs 4 at dimension -2",
    ):
        layout.broadcast_shapes((2, 3), (4, 3))
    assert layout.broadcast_shapes() == ()
    assert layout.broadcast_shapes([3, 1], [1, 4]) == (3, 4)


@given(pairs(), st.data())
def test_broadcast_strides_match_numpy_broadcast_to(pair: Any, data: st.DataObject) -> None:
    other = data.draw(hnp.broadcastable_shapes(pair.a.shape, min_side=0), label="other")
    target = np.broadcast_shapes(pair.a.shape, other)
    expected = np.broadcast_to(pair.a, target)
    strides = layout.broadcast_strides(pair.t.shape, pair.t.strides, target)
    for k, size in enumerate(target):
        if size > 1 and expected.size:
            assert strides[k] == expected.strides[k] // expected.itemsize


def test_broadcast_strides_examples_and_errors() -> None:
    assert layout.broadcast_strides((3, 1), (1, 1), (2, 3, 4)) == (0, 1, 0)
    assert layout.broadcast_strides((1,), (5,), (1,)) == (5,)
    with pytest.raises(
        ShapeError, match=r"cannot broadcast shape \(3,\) to \(4,\): size 3 at dimension 0 is neither 1 nor 4"
    ):
        layout.broadcast_strides((3,), (1,), (4,))
    with pytest.raises(ShapeError, match=r"cannot broadcast shape \(2, 3\) to fewer dimensions \(3,\)"):
        layout.broadcast_strides((2, 3), (3, 1), (3,))


# -- view strides ---------------------------------------------------------------------------


@given(pairs(dtype=np.float32, negative_steps=False), st.data())
def test_view_strides_follow_torch_view_rules(torch: Any, pair: Any, data: st.DataObject) -> None:
    new_shape = data.draw(same_numel_shapes(pair.a.size), label="new_shape")
    reference = to_torch(torch, pair)
    if pair.a.size:
        assert reference.stride() == pair.t.strides
    else:  # from_numpy does not keep the (meaningless) strides of an empty array
        reference = torch.empty(0).as_strided(pair.t.shape, pair.t.strides)
    strides = layout.view_strides(pair.t.shape, pair.t.strides, new_shape)
    try:
        expected = reference.view(new_shape).stride()
    except RuntimeError:
        assert strides is None, f"torch refuses view{new_shape} of strides {pair.t.strides}; we gave {strides}"
    else:
        assert strides == expected


@given(raw_layouts(negative=False), st.data())
def test_view_strides_of_arbitrary_layouts_follow_torch(torch: Any, case: Any, data: st.DataObject) -> None:
    shape, strides = case
    new_shape = data.draw(same_numel_shapes(math.prod(shape)), label="new_shape")
    storage = torch.zeros(layout.memory_extent(shape, strides, 0)[1] + 1)
    ours = layout.view_strides(shape, strides, new_shape)
    try:
        expected = storage.as_strided(shape, strides).view(new_shape).stride()
    except RuntimeError:
        assert ours is None
    else:
        assert ours == expected


@given(raw_layouts(), st.data())
def test_view_strides_address_the_same_elements_in_row_major_order(case: Any, data: st.DataObject) -> None:
    shape, strides = case
    new_shape = data.draw(same_numel_shapes(math.prod(shape)), label="new_shape")
    new_strides = layout.view_strides(shape, strides, new_shape)
    if new_strides is None:
        return
    positions = [layout.index_to_offset(i, strides) for i in itertools.product(*map(range, shape))]
    new_positions = [layout.index_to_offset(i, new_strides) for i in itertools.product(*map(range, new_shape))]
    assert positions == new_positions


def test_view_strides_examples() -> None:
    assert layout.view_strides((2, 3), (3, 1), (3, 2)) == (2, 1)
    assert layout.view_strides((2, 3), (1, 2), (6,)) is None
    assert layout.view_strides((2, 3), (1, 2), (2, 3, 1)) == (1, 2, 2)
    assert layout.view_strides((4,), (0,), (2, 2)) == (0, 0)
    assert layout.view_strides((2, 3), (3, 1), (7,)) is None
    assert layout.view_strides((), (), (1, 1)) == (1, 1)


# -- infer_shape, normalize_dim ---------------------------------------------------------------


@given(shapes(min_dims=1), st.data())
def test_infer_shape_resolves_one_minus_one(shape: tuple[int, ...], data: st.DataObject) -> None:
    total = math.prod(shape)
    assert layout.infer_shape(shape, total) == shape
    k = data.draw(st.integers(0, len(shape) - 1), label="k")
    spec = shape[:k] + (-1,) + shape[k + 1 :]
    known = math.prod(spec) * -1
    if known == 0:
        with pytest.raises(ShapeError, match="is invalid for input of size"):
            layout.infer_shape(spec, total)
    else:
        assert layout.infer_shape(spec, total) == shape


def test_infer_shape_errors() -> None:
    with pytest.raises(ShapeError, match=r"only one dimension can be -1, got shape \(-1, -1\)"):
        layout.infer_shape((-1, -1), 4)
    with pytest.raises(ShapeError, match=r"invalid shape \(2, -3\): sizes must be >= 0"):
        layout.infer_shape((2, -3), 6)
    with pytest.raises(ShapeError, match=r"shape \(4, 2\) is invalid for input of size 6"):
        layout.infer_shape((4, 2), 6)
    with pytest.raises(ShapeError, match=r"shape \(4, -1\) is invalid for input of size 6"):
        layout.infer_shape((4, -1), 6)


@given(st.integers(0, 5), st.data())
def test_normalize_dim(ndim: int, data: st.DataObject) -> None:
    bound = max(ndim, 1)
    dim = data.draw(st.integers(-bound - 3, bound + 3), label="dim")
    if -bound <= dim < bound:
        assert layout.normalize_dim(dim, ndim) == dim % bound
    else:
        with pytest.raises(IndexError, match=f"dim {dim} is out of range for a tensor with {ndim} dimension"):
            layout.normalize_dim(dim, ndim)


def test_normalize_dims_errors() -> None:
    assert layout.normalize_dims(None, 3) == (0, 1, 2)
    assert layout.normalize_dims((-1, 0), 3) == (2, 0)
    with pytest.raises(ValueError, match=r"dimension repeated in \(1, -2\)"):
        layout.normalize_dims((1, -2), 3)
    with pytest.raises(TypeError, match="dim must be an int, got bool True"):
        layout.normalize_dim(True, 3)
    with pytest.raises(IndexError, match=r"expected -2 <= dim < 2"):
        layout.normalize_dim(2, 2)


# -- memory extent, index to offset --------------------------------------------------------


@given(raw_layouts(), st.integers(0, 50))
def test_memory_extent_and_index_to_offset_by_brute_force(case: Any, offset: int) -> None:
    shape, strides = case
    positions = [layout.index_to_offset(i, strides, offset) for i in itertools.product(*map(range, shape))]
    if not positions:
        assert layout.memory_extent(shape, strides, offset) == (offset, offset - 1)
        return
    assert layout.memory_extent(shape, strides, offset) == (min(positions), max(positions))
    # index_to_offset is the address rule NumPy uses, in elements
    view = numpy_view(shape, strides)
    origin = view.__array_interface__["data"][0]
    for index in itertools.islice(itertools.product(*map(range, shape)), 20):
        element = view[index + (Ellipsis,)]
        assert (
            layout.index_to_offset(index, strides, offset) - offset == element.__array_interface__["data"][0] - origin
        )
