"""A table of bad-input cases: what to call, and what must come out of it.

Two kinds of case:

- :class:`Raises`: the call must raise ``error`` (a Hyperion error type or the built-in one the
  API documents) and the message must contain every string of ``names`` — the offending value,
  shape, dtype or device, so the user can see what was wrong;
- :class:`Matches`: the call must *not* raise and must give what NumPy gives (NaN/Inf propagate
  like NumPy, empty tensors and zero-size dimensions work) — same shape, dtype and values.

A case with ``known_bug`` set documents a defect in code this suite does not own: it runs as a
strict ``xfail`` (the fix to make is in the text), so the day it is fixed the case fails until the
marker is removed.

Each case belongs to an ``op`` (a public name, so a test can list public names with no case) and a
``category`` (shape, dtype, device, empty, zero-size, nonfinite, index, argument).
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

CATEGORIES = ("shape", "dtype", "device", "empty", "zero-size", "nonfinite", "index", "argument")


@dataclass(frozen=True)
class Raises:
    """``call()`` raises ``error`` with every string of ``names`` in its message."""

    op: str
    category: str
    call: Callable[[], Any]
    error: type[BaseException] | tuple[type[BaseException], ...]
    names: tuple[str, ...]
    known_bug: str = ""

    @property
    def id(self) -> str:
        return f"{self.op}-{self.category}-{'-'.join(self.names)[:40]}"


@dataclass(frozen=True)
class Matches:
    """``call()`` returns what ``reference()`` (NumPy) returns: shape, dtype and values (NaN == NaN)."""

    op: str
    category: str
    call: Callable[[], Any]
    reference: Callable[[], Any]
    rtol: float = 1e-6
    label: str = ""
    known_bug: str = ""

    @property
    def id(self) -> str:
        return f"{self.op}-{self.category}-{self.label}"


Case = Raises | Matches


def params(cases: Iterable[Case], kind: type) -> list[Any]:
    """``pytest.param`` per case of ``kind``, known bugs marked as strict ``xfail``."""
    out = []
    for case in cases:
        if isinstance(case, kind):
            marks = [pytest.mark.xfail(strict=True, reason=case.known_bug)] if case.known_bug else []
            out.append(pytest.param(case, marks=marks, id=case.id))
    return out


def check_raises(case: Raises) -> str:
    """Run a :class:`Raises` case; return the message (an AssertionError explains a failure)."""
    try:
        case.call()
    except case.error as exc:
        message = str(exc)
        missing = [name for name in case.names if name not in message]
        assert not missing, f"{case.op}: message {message!r} does not name {missing}"
        return message
    except Exception as exc:  # noqa: BLE001 - the point is to report the wrong type
        raise AssertionError(f"{case.op}: expected {_names(case.error)}, got {type(exc).__name__}: {exc}") from exc
    raise AssertionError(f"{case.op}: expected {_names(case.error)}, nothing was raised")


def _names(error: type[BaseException] | tuple[type[BaseException], ...]) -> str:
    return " or ".join(e.__name__ for e in (error if isinstance(error, tuple) else (error,)))


def to_numpy(value: Any) -> Any:
    """A tensor (or a tuple of them) as NumPy, anything else unchanged."""
    if isinstance(value, tuple | list):
        return [to_numpy(v) for v in value]
    if hasattr(value, "numpy"):
        return value.numpy()
    return value


def check_matches(case: Matches) -> None:
    """Run a :class:`Matches` case with NumPy's warnings silenced (they are not errors)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        got = to_numpy(case.call())
        expected = case.reference()
    _compare(got, expected, case)


def _compare(got: Any, expected: Any, case: Matches) -> None:
    if isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), f"{case.op}: {got!r} != {expected!r}"
        for g, e in zip(got, expected, strict=True):
            _compare(g, e, case)
        return
    got, expected = np.asarray(got), np.asarray(expected)
    assert got.shape == expected.shape, f"{case.op}: shape {got.shape} != NumPy's {expected.shape}"
    assert got.dtype == expected.dtype, f"{case.op}: dtype {got.dtype} != NumPy's {expected.dtype}"
    if got.dtype.kind == "f":
        np.testing.assert_allclose(got, expected, rtol=case.rtol, atol=0, equal_nan=True, err_msg=case.op)
    else:
        np.testing.assert_array_equal(got, expected, err_msg=case.op)


def uncovered(public: Iterable[str], cases: Iterable[Case], exempt: dict[str, str]) -> list[str]:
    """Public names that have neither a case nor a justified exemption."""
    covered = {case.op for case in cases}
    return sorted(name for name in public if name not in covered and name not in exempt)


def summary(cases: list[Case]) -> str:
    """``N cases: shape 12, dtype 9, ...`` for the report."""
    counts = Counter(case.category for case in cases)
    unknown = set(counts) - set(CATEGORIES)
    assert not unknown, f"unknown categories {unknown}"
    return f"{len(cases)} cases: " + ", ".join(f"{c} {counts[c]}" for c in CATEGORIES if counts[c])


class FakeDeviceTensor:
    """A stand-in for a tensor on another device, for the device-mismatch path without a GPU.

    It has what the ops look at to decide (``device``, ``shape``, ``dtype``) and fails loudly if
    anyone tries to read its data, so a case passes only when the mismatch is caught first.
    """

    def __init__(self, shape: tuple[int, ...] = (2,), device: str = "cuda", dtype: Any = np.float32) -> None:
        self.shape = shape
        self.device = device
        self.dtype = np.dtype(dtype)
        self.ndim = len(shape)

    def _arr(self) -> Any:
        raise AssertionError("the data of a tensor on another device was read before the device check")

    def __repr__(self) -> str:
        return f"FakeDeviceTensor(shape={self.shape}, device={self.device!r})"
