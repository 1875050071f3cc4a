"""Reductions against NumPy: every axis spelling, keepdims, empty slices, ties, and a stable logsumexp."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hyperion.tensor as ht
from hyperion.tensor import ShapeError

from .assertions import assert_matches, assert_parity
from .strategies import TOLERANCE, float_dtypes, int_dtypes_and_bool, pairs, shapes


@st.composite
def axes(draw: Any, ndim: int) -> Any:
    """``None``, one dim, or a tuple of distinct dims, negative ones included."""
    if ndim == 0:
        return None
    kind = draw(st.sampled_from(("none", "int", "tuple")))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    dims = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim))
    return tuple(d - ndim if draw(st.booleans()) else d for d in dims)


@st.composite
def reduction_calls(
    draw: Any, ndim: int, *, single_axis: bool = False
) -> tuple[tuple[Any, ...], dict[str, Any], Any, bool]:
    """The arguments of a reduction in one of its spellings, and the NumPy ``axis``/``keepdims`` they mean."""
    if single_axis:
        axis = draw(st.none() | st.integers(-ndim, ndim - 1)) if ndim else None
    else:
        axis = draw(axes(ndim))
    keep = draw(st.booleans())
    spelling = draw(st.sampled_from(("positional", "numpy", "torch")))
    if spelling == "positional":
        return (axis, keep), {}, axis, keep
    if spelling == "numpy":
        return (), {"axis": axis, "keepdims": keep}, axis, keep
    return (), {"dim": axis, "keepdim": keep}, axis, keep


REDUCTIONS = ("sum", "mean", "prod", "max", "min", "all", "any")


@pytest.mark.parametrize("name", REDUCTIONS)
@given(pair=pairs(), data=st.data())
def test_reductions_match_numpy(name: str, pair: Any, data: st.DataObject) -> None:
    args, kwargs, axis, keep = data.draw(reduction_calls(pair.a.ndim), label="call")

    def ours() -> Any:
        return getattr(pair.t, name)(*args, **kwargs)

    assert_parity(ours, lambda: getattr(np, name)(pair.a, axis=axis, keepdims=keep))
    assert_parity(
        lambda: getattr(ht, name)(pair.t, *args, **kwargs), lambda: getattr(np, name)(pair.a, axis=axis, keepdims=keep)
    )


@pytest.mark.parametrize("name", ["var", "std"])
@given(pair=pairs(dtype=st.sampled_from(("int16", "uint8", "float16", "float32", "float64"))), data=st.data())
def test_var_std_default_to_bessels_correction(name: str, pair: Any, data: st.DataObject) -> None:
    args, kwargs, axis, keep = data.draw(reduction_calls(pair.a.ndim), label="call")
    method = getattr(pair.t, name)
    reference = getattr(np, name)
    assert_parity(lambda: method(*args, **kwargs), lambda: reference(pair.a, axis=axis, keepdims=keep, ddof=1))
    correction = data.draw(st.sampled_from((0, 1, 2)), label="correction")
    expected = lambda: reference(pair.a, axis=axis, keepdims=keep, ddof=correction)  # noqa: E731
    assert_parity(lambda: method(*args, **kwargs, correction=correction), expected)
    assert_parity(lambda: method(*args, **kwargs, ddof=correction), expected)


def test_var_std_examples_and_argument_errors() -> None:
    x = ht.tensor([1.0, 2.0, 3.0, 4.0])
    assert x.var().item() == pytest.approx(5 / 3)  # correction=1, as PyTorch
    assert x.var(correction=0).item() == pytest.approx(1.25)
    assert x.std(ddof=0).item() == pytest.approx(1.25**0.5)
    with pytest.raises(TypeError, match="pass either correction or ddof, not both"):
        x.var(correction=1, ddof=1)
    with pytest.raises(TypeError, match=r"pass either axis or dim, not both \(got axis=0, dim=0\)"):
        x.sum(0, dim=0)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(pair=pairs(ties=True), data=st.data())
def test_argmax_argmin_match_numpy_and_take_the_first_tie(name: str, pair: Any, data: st.DataObject) -> None:
    args, kwargs, axis, keep = data.draw(reduction_calls(pair.a.ndim, single_axis=True), label="call")
    ours = getattr(pair.t, name)
    assert_parity(lambda: ours(*args, **kwargs), lambda: getattr(np, name)(pair.a, axis=axis, keepdims=keep))


def test_argmax_first_tie_and_errors() -> None:
    x = ht.tensor([[1, 3, 3], [2, 2, 0]])
    assert x.argmax().item() == 1
    assert x.argmax(dim=1).tolist() == [1, 0]
    assert x.argmin(axis=0, keepdims=True).tolist() == [[0, 1, 1]]
    assert ht.argmin(x, 1).tolist() == [0, 2]
    with pytest.raises(ShapeError, match=r"argmax\(\) of an empty tensor of shape \(0, 3\)"):
        ht.zeros(0, 3).argmax()
    with pytest.raises(ShapeError, match=r"argmin\(\) of an empty tensor of shape \(0, 3\)"):
        ht.zeros(0, 3).argmin(0)
    assert ht.zeros(0, 3).argmax(1).shape == (0,)  # nothing is empty along dim 1
    with pytest.raises(TypeError, match=r"argmax takes a single dimension, got \(0, 1\)"):
        x.argmax((0, 1))


def test_max_min_of_empty_slices_are_errors_naming_the_shape() -> None:
    with pytest.raises(ShapeError, match=r"max\(\) of an empty slice of a tensor of shape \(0, 3\) has no identity"):
        ht.zeros(0, 3).max()
    with pytest.raises(ShapeError, match=r"min\(\) of an empty slice of a tensor of shape \(2, 0\) has no identity"):
        ht.zeros(2, 0).min(dim=1)
    assert ht.zeros(2, 0).max(axis=0).shape == (0,)
    assert ht.zeros(0, 3).sum().item() == 0.0


def test_reductions_of_scalars_accept_dim_zero_like_pytorch() -> None:
    x = ht.tensor(3.0)
    assert x.shape == ()
    for name in ("sum", "mean", "max", "min", "prod", "logsumexp"):
        assert getattr(x, name)(0).item() == pytest.approx(3.0), name
        assert getattr(x, name)(dim=-1, keepdim=True).shape == ()
    assert x.argmax(0).item() == 0


def test_integer_sums_widen_like_numpy_and_unsigned_become_int64() -> None:
    """uint8 sums and products are uint64 in NumPy; Hyperion carries no uint64, so they are int64."""
    u = ht.full((300,), 255, dtype="uint8")
    assert u.sum().dtype == np.int64 and u.sum().item() == 76500
    assert u[:2].prod().item() == 65025 and u[:2].prod().dtype == np.int64
    assert ht.ones(3, dtype="int8").sum().dtype == np.int64
    assert ht.ones(3, dtype="bool").sum().dtype == np.int64
    assert ht.ones(3, dtype="int16").mean().dtype == np.float64
    assert u.max().dtype == np.uint8


# -- logsumexp ------------------------------------------------------------------------------


def logsumexp_reference(a: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    """log(sum(exp(a))) by ``logaddexp`` in float64 (exact identity -inf, no overflow)."""
    x = a.astype(np.float64)
    dims = tuple(range(x.ndim)) if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
    dims = tuple(d % x.ndim for d in dims) if x.ndim else ()
    kept = [d for d in range(x.ndim) if d not in dims]
    moved = np.transpose(x, kept + list(dims)).reshape(
        [x.shape[d] for d in kept] + [math.prod(x.shape[d] for d in dims)]
    )
    out = np.logaddexp.reduce(moved, axis=-1)
    if keepdims:
        out = np.expand_dims(out, dims)
    return np.asarray(out)


@given(pair=pairs(dtype=float_dtypes), data=st.data())
def test_logsumexp_matches_reference(pair: Any, data: st.DataObject) -> None:
    args, kwargs, axis, keep = data.draw(reduction_calls(pair.a.ndim), label="call")
    result = pair.t.logsumexp(*args, **kwargs)
    expected = logsumexp_reference(pair.a, axis, keep).astype(pair.a.dtype)
    assert_matches(result, expected)
    assert_matches(ht.logsumexp(pair.t, *args, **kwargs), expected)


@given(pair=pairs(dtype=int_dtypes_and_bool, shape=shapes(min_dims=1)))
def test_logsumexp_of_integers_is_floating(pair: Any) -> None:
    result = pair.t.logsumexp(-1)
    assert result.dtype.kind == "f"
    rtol, atol = TOLERANCE[np.dtype("float32")]
    expected = logsumexp_reference(pair.a, -1, False)
    np.testing.assert_allclose(result.numpy(), expected, rtol=rtol, atol=atol)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logsumexp_is_stable_for_large_values_and_all_minus_inf_rows(dtype: str) -> None:
    x = ht.tensor(
        [[1e4, 1e4, 0.0], [-np.inf, -np.inf, -np.inf], [-1e4, -1e4 - 1.0, -np.inf], [np.inf, 0.0, 1.0]], dtype=dtype
    )
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow, no warning for log(0)
        result = x.logsumexp(dim=1)
    assert result.dtype == np.dtype(dtype)
    expected = [1e4 + np.log(2.0), -np.inf, -1e4 + np.log1p(np.exp(-1.0)), np.inf]
    np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6)
    assert np.isneginf(x[1].logsumexp().item())
    assert x[:1].logsumexp(keepdims=True).shape == (1, 1)


def test_logsumexp_of_empty_slices_is_minus_inf_like_pytorch() -> None:
    empty = ht.zeros(3, 0)
    assert empty.logsumexp(1).tolist() == [-np.inf] * 3
    assert empty.logsumexp().item() == -np.inf
    assert empty.logsumexp(0).shape == (0,)
    assert empty.logsumexp(1, keepdims=True).shape == (3, 1)
