"""Assertions shared by the tests: values against a NumPy reference, layouts against NumPy's."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

import hyperion.tensor as ht

from .strategies import TOLERANCE


def hyperion_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype Hyperion gives where NumPy gives ``dtype``: unsigned results wider than uint8 become int64.

    NumPy sums and multiplies uint8 in uint64, which Hyperion does not carry (see
    ``hyperion.tensor.tensor._coerce_result_dtype``).
    """
    dtype = np.dtype(dtype)
    return np.dtype("int64") if dtype.kind == "u" and dtype.itemsize > 1 else dtype


def assert_matches(result: Any, expected: Any, *, exact: bool = False, tolerance_dtype: Any = None) -> None:
    """``result`` is a Tensor with NumPy's result dtype and shape, and the same values.

    Integers and bools must be equal; floats agree within :data:`TOLERANCE` of their dtype (or of
    ``tolerance_dtype``), NaN matching NaN, unless ``exact``.
    """
    assert isinstance(result, ht.Tensor), f"expected a Tensor, got {type(result).__name__}"
    expected = np.asarray(expected)
    dtype = hyperion_dtype(expected.dtype)
    assert result.dtype == dtype, f"dtype {result.dtype}, NumPy gives {expected.dtype} (expected {dtype})"
    assert result.shape == expected.shape, f"shape {result.shape}, NumPy gives {expected.shape}"
    got = result.numpy()
    if exact or dtype.kind != "f":
        np.testing.assert_array_equal(got, expected.astype(dtype))
    else:
        rtol, atol = TOLERANCE[np.dtype(tolerance_dtype or dtype)]
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)


def outcome(fn: Callable[[], Any]) -> tuple[Any, BaseException | None]:
    """``(value, None)``, or ``(None, exception)`` if ``fn`` raised (NumPy's warnings silenced)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "Mean of empty slice" and the like
        try:
            return fn(), None
        except (ArithmeticError, TypeError, ValueError) as exc:
            return None, exc


_CATEGORIES = (OverflowError, ZeroDivisionError, TypeError, IndexError, ValueError)


def assert_parity(ours: Callable[[], Any], numpy: Callable[[], Any], **kwargs: Any) -> None:
    """Run an op and its NumPy twin: both give the same result, or both fail with the same kind of error."""
    expected, numpy_error = outcome(numpy)
    result, our_error = outcome(ours)
    if numpy_error is not None:
        kind = next(c for c in _CATEGORIES if isinstance(numpy_error, c))
        assert isinstance(our_error, kind), f"NumPy raised {numpy_error!r}; we gave {our_error or result!r}"
        return
    if our_error is not None:
        raise AssertionError(f"NumPy gives a result but we raised {our_error!r}") from our_error
    assert_matches(result, expected, **kwargs)


def significant_strides(shape: tuple[int, ...], strides: tuple[int, ...]) -> list[int]:
    """The strides of the dimensions longer than 1 (the only ones that address anything)."""
    return [s for s, n in zip(strides, shape, strict=True) if n > 1]


def address(array: np.ndarray) -> int:
    """The address of an array's element ``(0, ..., 0)``."""
    return array.__array_interface__["data"][0]


def assert_same_layout(t: ht.Tensor, a: np.ndarray, base: np.ndarray) -> None:
    """``t`` and its twin ``a`` (both views of ``base``, ``t`` through ``from_numpy``) have one layout.

    Same shape; strides equal to NumPy's byte strides divided by the item size (NumPy and PyTorch
    choose the stride of a size-1 dimension freely, so those are not compared); the same first
    element (``offset`` counts from the start of ``base``); the same values.
    """
    assert t.shape == a.shape, f"shape {t.shape} != NumPy's {a.shape}"
    numpy_strides = tuple(s // a.itemsize for s in a.strides)
    for k, size in enumerate(a.shape):
        if size > 1 and a.size:
            assert t.strides[k] == numpy_strides[k], f"strides {t.strides} != NumPy's {numpy_strides} (dim {k})"
    if a.size:
        assert t.offset == (address(a) - address(base)) // a.itemsize, "offset does not point where NumPy's view starts"
        assert np.shares_memory(t.numpy(), base)
    np.testing.assert_array_equal(t.numpy(), a)
