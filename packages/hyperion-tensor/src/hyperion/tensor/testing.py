"""Tables of bad-input cases for test suites: what to call, and what must come out of it.

Every Hyperion package checks its public API against such a table (its ``tests/reliability``),
and a project built on Hyperion can do the same. Two kinds of case:

- :class:`Raises`: the call must raise ``error`` and the message must contain every string of
  ``names`` — the offending value, shape, dtype or device — so raising *something* is not enough;
- :class:`Matches`: the call must *not* raise and must return what ``reference()`` returns
  (same shape, dtype and values; NaN equals NaN).

A case with ``known_bug`` set documents a defect: :func:`params` turns it into a strict ``xfail``
whose reason is the fix to make, so the day the fix lands the case fails until the mark goes.
Each case belongs to an ``op`` (a public name, so :func:`uncovered` can list names with no case)
and a ``category`` (a suite's own vocabulary: shape, dtype, device, empty, …).

Examples:
    >>> import hyperion.tensor as ht
    >>> case = Raises("reshape", "shape", lambda: ht.zeros(6).reshape(4), ValueError, ("4",))
    >>> "4" in check_raises(case)
    True
    >>> check_matches(Matches("sum", "empty", lambda: ht.zeros(0).sum(), lambda: np.float32(0)))
"""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "Case",
    "FakeDeviceTensor",
    "Matches",
    "Raises",
    "check_matches",
    "check_raises",
    "params",
    "summary",
    "to_numpy",
    "uncovered",
]


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
        """A test id: op, category and the start of the names."""
        return f"{self.op}-{self.category}-{'-'.join(self.names)[:40]}"


@dataclass(frozen=True)
class Matches:
    """``call()`` returns what ``reference()`` returns: shape, dtype and values (NaN == NaN, floats to ``rtol``)."""

    op: str
    category: str
    call: Callable[[], Any]
    reference: Callable[[], Any]
    label: str = ""
    rtol: float = 1e-6
    known_bug: str = ""

    @property
    def id(self) -> str:
        """A test id: op, category and label."""
        return f"{self.op}-{self.category}-{self.label}"


Case = Raises | Matches


def params(cases: Iterable[Case], kind: type) -> list[Any]:
    """One ``pytest.param`` per case of ``kind``, known bugs marked as strict ``xfail`` (needs pytest)."""
    import pytest

    out = []
    for case in cases:
        if isinstance(case, kind):
            marks = [pytest.mark.xfail(strict=True, reason=case.known_bug)] if case.known_bug else []
            out.append(pytest.param(case, marks=marks, id=case.id))
    return out


def check_raises(case: Raises) -> str:
    """Run a :class:`Raises` case; return the message (an ``AssertionError`` explains a failure)."""
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
    """A tensor (or a tuple or list of them) as NumPy; anything else unchanged."""
    if isinstance(value, tuple | list):
        return [to_numpy(v) for v in value]
    if hasattr(value, "numpy"):
        return value.numpy()
    return value


def check_matches(case: Matches) -> None:
    """Run a :class:`Matches` case with NumPy's floating-point warnings silenced (they are not errors)."""
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
    assert got.shape == expected.shape, f"{case.op}: shape {got.shape} != {expected.shape}"
    assert got.dtype == expected.dtype, f"{case.op}: dtype {got.dtype} != {expected.dtype}"
    if got.dtype.kind in "fc":
        np.testing.assert_allclose(got, expected, rtol=case.rtol, atol=0, equal_nan=True, err_msg=case.op)
    else:
        np.testing.assert_array_equal(got, expected, err_msg=case.op)


def uncovered(public: Iterable[str], cases: Iterable[Case], exempt: dict[str, str]) -> list[str]:
    """Public names that have neither a case nor a justified exemption."""
    covered = {case.op for case in cases}
    return sorted(name for name in public if name not in covered and name not in exempt)


def summary(cases: Sequence[Case], categories: Sequence[str]) -> str:
    """``"N cases: shape 12, dtype 9, ..."`` in the order of ``categories`` (each case's must be one)."""
    counts = Counter(case.category for case in cases)
    unknown = set(counts) - set(categories)
    assert not unknown, f"unknown categories {unknown}"
    return f"{len(cases)} cases: " + ", ".join(f"{c} {counts[c]}" for c in categories if counts[c])


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
