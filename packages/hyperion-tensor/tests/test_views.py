"""View semantics: layouts equal to NumPy's for the same view chain, aliasing, and PyTorch's view rules."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hyperion.tensor as ht
from hyperion.tensor import ShapeError

from .assertions import address, assert_same_layout, significant_strides
from .strategies import pairs, random_values, same_numel_shapes, shapes, to_torch

ViewStep = tuple[str, Callable[[Any], Any], Callable[[np.ndarray], np.ndarray]]


@st.composite
def view_steps(draw: Any, shape: tuple[int, ...]) -> ViewStep:
    """One view op valid for ``shape``: its description, Hyperion's spelling and NumPy's."""
    ndim = len(shape)
    kinds = ["permute", "unsqueeze", "expand", "T"]
    if ndim:
        kinds += ["transpose", "narrow", "squeeze", "unfold", "squeeze_all"]
    if ndim >= 2:
        kinds += ["diagonal", "mT"]
    kind = draw(st.sampled_from(kinds))
    dim = draw(st.integers(-ndim, ndim - 1)) if ndim else 0
    if kind == "permute":
        perm = tuple(draw(st.permutations(range(ndim))))
        return f"permute{perm}", lambda t: t.permute(*perm), lambda a: a.transpose(perm)
    if kind == "transpose":
        other = draw(st.integers(-ndim, ndim - 1))
        return f"transpose({dim}, {other})", lambda t: t.transpose(dim, other), lambda a: np.swapaxes(a, dim, other)
    if kind == "T":
        return ".T", lambda t: t.T, lambda a: a.T
    if kind == "mT":
        return ".mT", lambda t: t.mT, lambda a: np.swapaxes(a, -1, -2)
    if kind == "unsqueeze":
        where = draw(st.integers(-ndim - 1, ndim))
        return f"unsqueeze({where})", lambda t: t.unsqueeze(where), lambda a: np.expand_dims(a, where)
    if kind == "squeeze":
        return f"squeeze({dim})", lambda t: t.squeeze(dim), lambda a: np.squeeze(a, dim) if a.shape[dim] == 1 else a
    if kind == "squeeze_all":
        return "squeeze()", lambda t: t.squeeze(), lambda a: np.squeeze(a)
    if kind == "expand":
        lead = draw(st.lists(st.integers(0, 3), max_size=2))
        target = tuple(lead) + tuple(draw(st.integers(0, 3)) if n == 1 else n for n in shape)
        return f"expand{target}", lambda t: t.expand(target), lambda a: np.broadcast_to(a, target)
    if kind == "narrow":
        size = shape[dim]
        start = draw(st.integers(0, size))
        length = draw(st.integers(0, size - start))
        index = (slice(None),) * (dim % ndim) + (slice(start, start + length),)
        return f"narrow({dim}, {start}, {length})", lambda t: t.narrow(dim, start, length), lambda a: a[index]
    if kind == "unfold":
        size = draw(st.integers(0, shape[dim]))
        step = draw(st.integers(1, 3))
        d = dim % ndim

        def numpy_unfold(a: np.ndarray) -> np.ndarray:
            windows = np.lib.stride_tricks.sliding_window_view(a, size, axis=d)
            return windows[(slice(None),) * d + (slice(None, None, step),)]

        return f"unfold({dim}, {size}, {step})", lambda t: t.unfold(dim, size, step), numpy_unfold
    # diagonal
    d1 = draw(st.integers(-ndim, ndim - 1))
    d2 = draw(st.integers(-ndim, ndim - 1).filter(lambda d: d % ndim != d1 % ndim))
    offset = draw(st.integers(-4, 4))
    return (
        f"diagonal({offset}, {d1}, {d2})",
        lambda t: t.diagonal(offset, d1, d2),
        lambda a: np.diagonal(a, offset, d1, d2),
    )


@given(pairs(max_dims=3, max_side=4), st.data())
def test_view_chains_match_numpy_layouts_and_alias(pair: Any, data: st.DataObject) -> None:
    t, a = pair.t, pair.a
    assert_same_layout(t, a, pair.base)
    for _ in range(data.draw(st.integers(1, 4), label="length")):
        if a.ndim > 5 or a.size > 400:
            break
        description, ours, numpys = data.draw(view_steps(a.shape), label="step")
        t, a = ours(t), numpys(a)
        assert_same_layout(t, a, pair.base)
        assert t.shares_storage(pair.base_t)
    # Aliasing: new values written into the shared buffer are seen through both views ...
    fresh = random_values(np.random.default_rng(0), pair.base.shape, pair.base.dtype)
    pair.base[...] = fresh
    np.testing.assert_array_equal(t.numpy(), a)
    # ... and a write through the tensor view lands where NumPy's view says.
    if a.size:
        corner = (0,) * a.ndim
        value = not a[corner] if a.dtype.kind == "b" else a[corner] + 1
        t[corner] = value
        assert a[corner] == value
        assert pair.base_t.numpy()[np.unravel_index(t.offset, pair.base.shape)] == value


@given(pairs(negative_steps=False), st.data())
def test_view_raises_exactly_when_torch_view_does(torch: Any, pair: Any, data: st.DataObject) -> None:
    new_shape = data.draw(same_numel_shapes(pair.a.size), label="new_shape")
    reference = to_torch(torch, pair)
    try:
        expected = reference.view(new_shape)
    except RuntimeError:
        with pytest.raises(ShapeError, match=r"view .* is not compatible with shape .* without a copy"):
            pair.t.view(new_shape)
        return
    view = pair.t.view(*new_shape)
    assert view.shape == tuple(expected.shape)
    if pair.a.size:
        assert view.strides == expected.stride()
        assert view.offset == expected.storage_offset()
        assert view.shares_storage(pair.t)
    np.testing.assert_array_equal(view.numpy(), expected.numpy())


@given(pairs(negative_steps=False), st.data())
def test_reshape_copies_exactly_when_torch_reshape_does(torch: Any, pair: Any, data: st.DataObject) -> None:
    new_shape = data.draw(same_numel_shapes(pair.a.size), label="new_shape")
    reference = to_torch(torch, pair)
    expected = reference.reshape(new_shape)
    result = pair.t.reshape(new_shape)
    np.testing.assert_array_equal(result.numpy(), expected.numpy())
    np.testing.assert_array_equal(result.numpy(), pair.a.reshape(new_shape))
    if pair.a.size:
        torch_view = expected.untyped_storage().data_ptr() == reference.untyped_storage().data_ptr()
        assert result.shares_storage(pair.t) == torch_view
        assert np.shares_memory(result.numpy(), pair.base) == torch_view
        if torch_view:
            assert result.strides == expected.stride()
        else:
            assert result.is_contiguous()


def test_reshape_accepts_sizes_tuple_and_minus_one() -> None:
    t = ht.arange(24)
    assert t.reshape(2, 3, 4).shape == t.reshape((2, 3, 4)).shape == t.reshape([2, -1, 4]).shape == (2, 3, 4)
    assert t.reshape(2, -1).strides == (12, 1)
    assert t.view(np.int64(4), 6).shape == (4, 6)
    with pytest.raises(ShapeError, match=r"shape \(5, 5\) is invalid for input of size 24"):
        t.reshape(5, 5)
    with pytest.raises(TypeError, match="sizes must be integers, got float 2.0"):
        t.reshape(2.0, 12)


def test_view_error_names_shape_and_strides() -> None:
    t = ht.arange(6).reshape(2, 3).T
    with pytest.raises(ShapeError) as info:
        t.view(6)
    assert str(info.value) == (
        "view (6,) is not compatible with shape (3, 2) and strides (1, 3) without a copy; use .reshape(...) instead"
    )


@given(pairs(negative_steps=False), st.data())
def test_expand_matches_torch(torch: Any, pair: Any, data: st.DataObject) -> None:
    shape = pair.t.shape
    lead = tuple(data.draw(st.lists(st.integers(0, 3), max_size=2), label="lead"))
    sizes = lead + tuple(
        data.draw(st.sampled_from((-1, 0, 2, 3) if n == 1 else (-1, n)), label=f"size{k}") for k, n in enumerate(shape)
    )
    reference = to_torch(torch, pair)
    expected = reference.expand(sizes)
    result = pair.t.expand(*sizes)
    assert result.shape == tuple(expected.shape)
    if result.numel():  # PyTorch gives new size-1 dims a nonzero stride; the stride of a size-1 dim is free
        assert significant_strides(result.shape, result.strides) == significant_strides(result.shape, expected.stride())
        assert result.shares_storage(pair.t)
    np.testing.assert_array_equal(result.numpy(), expected.numpy())
    assert pair.t.expand(sizes).shape == result.shape
    assert pair.t.broadcast_to(tuple(expected.shape)).strides == result.strides
    assert pair.t.expand_as(ht.zeros(tuple(expected.shape))).strides == result.strides


def test_expand_errors() -> None:
    t = ht.zeros(3, 1)
    with pytest.raises(ShapeError, match=r"cannot broadcast shape \(3, 1\) to \(4, 2\): size 3 at dimension 0"):
        t.expand(4, 2)
    with pytest.raises(ShapeError, match=r"expand\(3,\) has fewer dimensions than shape \(3, 1\)"):
        t.expand(3)
    with pytest.raises(ShapeError, match=r"-1 is only allowed for existing dimensions of shape \(3, 1\)"):
        t.expand(-1, 3, 1)


@given(pairs(dtype=np.float32, negative_steps=False), st.data())
def test_unfold_matches_torch(torch: Any, pair: Any, data: st.DataObject) -> None:
    ndim = pair.t.ndim
    dim = data.draw(st.integers(-max(ndim, 1), max(ndim, 1) - 1), label="dim")
    length = pair.t.shape[dim] if ndim else 1
    size = data.draw(st.integers(0, length), label="size")
    step = data.draw(st.integers(1, 4), label="step")
    expected = to_torch(torch, pair).unfold(dim, size, step)
    result = pair.t.unfold(dim, size, step)
    assert result.shape == tuple(expected.shape)
    if expected.numel():
        assert result.strides == expected.stride()
        assert result.offset == expected.storage_offset()
        assert result.shares_storage(pair.t)
    np.testing.assert_array_equal(result.numpy(), expected.numpy())


def test_unfold_errors_and_overlap() -> None:
    t = ht.arange(5)
    windows = t.unfold(0, 3, 1)
    assert windows.tolist() == [[0, 1, 2], [1, 2, 3], [2, 3, 4]]
    assert windows.strides == (1, 1)
    windows[0, 2] = 9  # the windows overlap: one write shows in all three
    assert windows.tolist() == [[0, 1, 9], [1, 9, 3], [9, 3, 4]]
    with pytest.raises(ShapeError, match="unfold: window size 6 is larger than size 5 of dimension 0"):
        t.unfold(0, 6, 1)
    with pytest.raises(ShapeError, match="unfold: step must be positive, got 0"):
        t.unfold(0, 2, 0)


@given(pairs(dtype=np.int32, shape=shapes(min_dims=2), negative_steps=False), st.data())
def test_diagonal_matches_torch(torch: Any, pair: Any, data: st.DataObject) -> None:
    ndim = pair.t.ndim
    dim1 = data.draw(st.integers(-ndim, ndim - 1), label="dim1")
    dim2 = data.draw(st.integers(-ndim, ndim - 1).filter(lambda d: d % ndim != dim1 % ndim), label="dim2")
    offset = data.draw(st.integers(-6, 6), label="offset")
    expected = to_torch(torch, pair).diagonal(offset, dim1, dim2)
    result = pair.t.diagonal(offset, dim1, dim2)
    assert result.shape == tuple(expected.shape)
    if expected.numel():
        assert result.strides == expected.stride()
        assert result.offset == expected.storage_offset()
    np.testing.assert_array_equal(result.numpy(), expected.numpy())
    np.testing.assert_array_equal(ht.diagonal(pair.t, offset, dim1, dim2).numpy(), expected.numpy())


def test_diagonal_errors() -> None:
    with pytest.raises(ShapeError, match="diagonal: dim1 and dim2 must differ, both are 1"):
        ht.zeros(2, 2).diagonal(0, 1, -1)
    with pytest.raises(IndexError, match=r"dim[12] \d is out of range for a tensor with 0 dimension"):
        ht.zeros(()).diagonal()


@given(pairs(dtype=np.int16, shape=shapes(min_dims=1), negative_steps=False), st.data())
def test_narrow_matches_torch(torch: Any, pair: Any, data: st.DataObject) -> None:
    ndim = pair.t.ndim
    dim = data.draw(st.integers(-ndim, ndim - 1), label="dim")
    size = pair.t.shape[dim]
    start = data.draw(st.integers(-size, size), label="start")
    length = data.draw(st.integers(0, size - start % (size or 1) if start < 0 else size - start), label="length")
    expected = to_torch(torch, pair).narrow(dim, start, length)
    result = pair.t.narrow(dim, start, length)
    assert result.shape == tuple(expected.shape)
    if expected.numel():
        assert result.strides == expected.stride()
        assert result.offset == expected.storage_offset()
    np.testing.assert_array_equal(result.numpy(), expected.numpy())


def test_narrow_errors() -> None:
    with pytest.raises(ShapeError, match="narrow: start 2 and length 3 exceed size 4 of dimension 0"):
        ht.zeros(4).narrow(0, 2, 3)
    with pytest.raises(ShapeError, match="narrow: start 5 and length 0 exceed size 4 of dimension 1"):
        ht.zeros(2, 4).narrow(-1, 5, 0)


@given(pairs(dtype=np.float64, negative_steps=False), st.data())
def test_squeeze_unsqueeze_match_torch(torch: Any, pair: Any, data: st.DataObject) -> None:
    reference = to_torch(torch, pair)
    ndim = pair.t.ndim
    where = data.draw(st.integers(-ndim - 1, ndim), label="unsqueeze")
    for result, expected in [
        (pair.t.unsqueeze(where), reference.unsqueeze(where)),
        (pair.t.squeeze(), reference.squeeze()),
    ]:
        assert result.shape == tuple(expected.shape)
        if expected.numel():
            assert result.strides == expected.stride()
    if ndim:
        dims = tuple(data.draw(st.sets(st.integers(0, ndim - 1), min_size=1), label="squeeze dims"))
        assert pair.t.squeeze(dims).shape == tuple(reference.squeeze(dims).shape)
        assert pair.t.squeeze(dims[0]).shape == tuple(reference.squeeze(dims[0]).shape)


@given(pairs(dtype=np.float32, negative_steps=False), st.data())
def test_flatten_unflatten_match_torch(torch: Any, pair: Any, data: st.DataObject) -> None:
    reference = to_torch(torch, pair)
    ndim = pair.t.ndim
    bound = max(ndim, 1)
    start = data.draw(st.integers(-bound, bound - 1), label="start")
    end = data.draw(st.integers(start % bound, bound - 1), label="end")
    expected = reference.flatten(start, end)
    result = pair.t.flatten(start, end)
    assert result.shape == tuple(expected.shape)
    np.testing.assert_array_equal(result.numpy(), expected.numpy())
    if pair.a.size:
        shares = expected.untyped_storage().data_ptr() == reference.untyped_storage().data_ptr()
        assert result.shares_storage(pair.t) == shares
        if shares:
            assert significant_strides(result.shape, result.strides) == significant_strides(
                result.shape, expected.stride()
            )
    if ndim:
        dim = data.draw(st.integers(-ndim, ndim - 1), label="unflatten dim")
        sizes = data.draw(same_numel_shapes(pair.t.shape[dim], max_dims=3).filter(len), label="sizes")
        unflat = pair.t.unflatten(dim, sizes)
        expected = reference.unflatten(dim, sizes)
        assert unflat.shape == tuple(expected.shape)
        if pair.a.size:
            assert unflat.strides == expected.stride()
            assert unflat.shares_storage(pair.t)
        np.testing.assert_array_equal(unflat.numpy(), expected.numpy())


def test_flatten_errors_and_scalars() -> None:
    assert ht.tensor(3.0).flatten().shape == (1,)
    with pytest.raises(ShapeError, match=r"flatten: start_dim 2 comes after end_dim 1 for shape \(2, 3, 4\)"):
        ht.zeros(2, 3, 4).flatten(2, 1)
    with pytest.raises(ShapeError, match=r"shape \(4, -1\) is invalid for input of size 6"):
        ht.zeros(6, 2).unflatten(0, (4, -1))


@given(st.integers(1, 30), st.data())
def test_as_strided_matches_torch(torch: Any, n: int, data: st.DataObject) -> None:
    storage = np.arange(n, dtype=np.float64)
    base = ht.from_numpy(storage)
    shape = data.draw(shapes(max_dims=3, max_side=4), label="size")
    strides = tuple(data.draw(st.integers(0, 5), label="stride") for _ in shape)
    offset = data.draw(st.integers(0, n), label="storage_offset")
    low, high = ht.layout.memory_extent(shape, strides, offset)
    if math.prod(shape) and high >= n:
        with pytest.raises(ShapeError) as info:
            base.as_strided(shape, strides, offset)
        assert str(info.value) == (
            f"layout shape={shape} strides={strides} offset={offset} reaches storage positions "
            f"{low}..{high}, outside a storage of {n} elements"
        )
        with pytest.raises(RuntimeError):  # PyTorch refuses it too
            torch.from_numpy(storage).as_strided(shape, strides, offset)
        return
    result = base.as_strided(shape, strides, offset)
    expected = torch.from_numpy(storage).as_strided(shape, strides, offset)
    assert result.shape == tuple(expected.shape)
    assert result.strides == strides
    np.testing.assert_array_equal(result.numpy(), expected.numpy())
    if result.numel():
        assert result.shares_storage(base)
        assert np.shares_memory(result.numpy(), storage)


def test_as_strided_offset_defaults_to_the_views_own() -> None:
    t = ht.arange(10)[3:]
    assert t.as_strided((2, 2), (1, 1)).tolist() == [[3, 4], [4, 5]]
    assert ht.as_strided(t, (2,), (3,), 0).tolist() == [0, 3]
    with pytest.raises(ShapeError, match="reaches storage positions -1..0, outside a storage of 10 elements"):
        t.as_strided((2,), (1,), -1)


@given(pairs(max_dims=3))
def test_transposes_match_numpy(pair: Any) -> None:
    t, a = pair.t, pair.a
    assert_same_layout(t.T, a.T, pair.base)
    permutation = tuple(reversed(range(a.ndim)))
    assert_same_layout(t.permute(permutation), a.transpose(permutation), pair.base)
    assert_same_layout(ht.permute(t, *permutation), a.transpose(permutation), pair.base)
    if a.ndim >= 2:
        assert_same_layout(t.mT, np.swapaxes(a, -1, -2), pair.base)
        assert_same_layout(t.transpose(0, -1), np.swapaxes(a, 0, -1), pair.base)
        assert_same_layout(ht.transpose(t, 0, 1), np.swapaxes(a, 0, 1), pair.base)
        assert_same_layout(t.transpose(), np.swapaxes(a, -2, -1), pair.base)


def test_permute_and_mt_errors() -> None:
    t = ht.zeros(2, 3, 4)
    with pytest.raises(ShapeError, match=r"permute\(0, 0, 1\) is not a permutation of the dims 0..2"):
        t.permute(0, 0, 1)
    with pytest.raises(ShapeError, match=r"permute\(0, 1\) is not a permutation of the dims 0..2"):
        t.permute(0, 1)
    with pytest.raises(ShapeError, match=r"\.mT needs at least 2 dimensions, got shape \(3,\)"):
        _ = ht.zeros(3).mT
    assert t.permute(-1, 0, 1).shape == (4, 2, 3)


@given(pairs())
def test_contiguous_returns_self_when_dense_and_a_copy_otherwise(pair: Any) -> None:
    t = pair.t
    result = t.contiguous()
    if pair.a.flags.c_contiguous:
        assert result is t
    else:
        assert result is not t
        assert not result.shares_storage(t)
        assert result.is_contiguous()
        assert result.strides == ht.layout.contiguous_strides(t.shape)
        assert result.offset == 0
    assert result.dtype == t.dtype
    np.testing.assert_array_equal(result.numpy(), pair.a)


@given(pairs(negative_steps=False))
def test_is_contiguous_agrees_with_torch(torch: Any, pair: Any) -> None:
    if pair.a.size:
        assert pair.t.is_contiguous() == to_torch(torch, pair).is_contiguous()


@given(pairs(broadcast=False))
def test_clone_always_copies(pair: Any) -> None:
    copy = pair.t.clone()
    assert not copy.shares_storage(pair.t)
    assert copy.is_contiguous() and copy.offset == 0
    assert copy.dtype == pair.t.dtype
    np.testing.assert_array_equal(copy.numpy(), pair.a)
    if pair.a.size:
        before = pair.a.copy()
        copy[(0,) * copy.ndim] = 1 if copy.dtype.kind != "b" else not before[(0,) * copy.ndim]
        np.testing.assert_array_equal(pair.a, before)
        if pair.a.flags.c_contiguous:
            assert address(copy.numpy()) != address(pair.a)


# -- split and chunk (PyTorch semantics, views) ------------------------------------------------


@given(pairs(dtype=np.int32, shape=shapes(min_dims=1), negative_steps=False), st.data())
def test_split_matches_torch(torch: Any, pair: Any, data: st.DataObject) -> None:
    ndim = pair.t.ndim
    dim = data.draw(st.integers(-ndim, ndim - 1), label="dim")
    size = pair.t.shape[dim]
    if data.draw(st.booleans(), label="by sizes"):
        cuts = sorted(data.draw(st.lists(st.integers(0, size), max_size=3), label="cuts"))
        arg: int | list[int] = [b - a for a, b in zip([0, *cuts], [*cuts, size])]
    else:
        arg = data.draw(st.integers(1, size + 2), label="split size")
    reference = to_torch(torch, pair)
    expected = reference.split(arg, dim)
    result = pair.t.split(arg, dim)
    assert isinstance(result, tuple)
    assert len(result) == len(expected)
    for piece, ref in zip(result, expected, strict=True):
        assert piece.shape == tuple(ref.shape)
        np.testing.assert_array_equal(piece.numpy(), ref.numpy())
        if ref.numel():
            assert piece.shares_storage(pair.t)
            assert piece.strides == ref.stride()
            assert piece.offset == ref.storage_offset()
    assert [p.shape for p in ht.split(pair.t, arg, dim)] == [p.shape for p in result]


@given(pairs(dtype=np.int32, shape=shapes(min_dims=1), negative_steps=False), st.data())
def test_chunk_matches_torch(torch: Any, pair: Any, data: st.DataObject) -> None:
    ndim = pair.t.ndim
    dim = data.draw(st.integers(-ndim, ndim - 1), label="dim")
    chunks = data.draw(st.integers(1, 7), label="chunks")
    expected = to_torch(torch, pair).chunk(chunks, dim)
    result = pair.t.chunk(chunks, dim)
    assert [p.shape for p in result] == [tuple(r.shape) for r in expected]
    for piece, ref in zip(result, expected, strict=True):
        np.testing.assert_array_equal(piece.numpy(), ref.numpy())
        if ref.numel():
            assert piece.shares_storage(pair.t)
    assert [p.shape for p in ht.chunk(pair.t, chunks, dim)] == [p.shape for p in result]


def test_split_and_chunk_errors() -> None:
    t = ht.arange(5)
    assert [p.tolist() for p in t.split(2)] == [[0, 1], [2, 3], [4]]
    assert [p.tolist() for p in t.split([1, 4])] == [[0], [1, 2, 3, 4]]
    assert [p.tolist() for p in t.chunk(2)] == [[0, 1, 2], [3, 4]]
    with pytest.raises(ShapeError, match=r"split sizes \[2, 2\] do not add up to size 5 of dimension 0"):
        t.split([2, 2])
    with pytest.raises(ShapeError, match="split size must be positive, got 0"):
        t.split(0)
    with pytest.raises(ShapeError, match="chunk: number of chunks must be positive, got 0"):
        t.chunk(0)


def test_views_write_through_to_each_other() -> None:
    base = ht.zeros(3, 4)
    column = base[:, 1]
    row_view = base.T[2]
    column[...] = 7.0
    row_view[::2] = ht.tensor([1.0, 2.0])
    assert base.tolist() == [[0, 7, 1, 0], [0, 7, 0, 0], [0, 7, 2, 0]]
    assert base.reshape(12).shares_storage(base)
    flat = base.view(-1)
    flat[0] = 5.0
    assert base[0, 0].item() == 5.0
