"""The bad-input case harness fails for the right reasons, and its examples run."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import hyperion.tensor as ht
from hyperion.tensor import testing
from hyperion.tensor.testing import FakeDeviceTensor, Matches, Raises, check_matches, check_raises, params, summary


def test_examples_run() -> None:
    result = doctest.testmod(testing, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def _raise(exc: BaseException) -> None:
    raise exc


def test_raises_needs_the_type_and_every_name() -> None:
    assert check_raises(Raises("f", "argument", lambda: _raise(ValueError("bad 3")), ValueError, ("3",))) == "bad 3"
    with pytest.raises(AssertionError, match=r"does not name \['4'\]"):
        check_raises(Raises("f", "argument", lambda: _raise(ValueError("bad 3")), ValueError, ("3", "4")))
    with pytest.raises(AssertionError, match="expected ValueError or KeyError, got TypeError"):
        check_raises(Raises("f", "argument", lambda: _raise(TypeError("x")), (ValueError, KeyError), ()))
    with pytest.raises(AssertionError, match="nothing was raised"):
        check_raises(Raises("f", "argument", lambda: None, ValueError, ()))


def test_matches_compares_shape_dtype_and_values() -> None:
    check_matches(Matches("f", "nonfinite", lambda: ht.tensor([np.nan, 1.0]), lambda: np.array([np.nan, 1.0], np.float32)))
    with pytest.raises(AssertionError, match="dtype float32 != float64"):
        check_matches(Matches("f", "dtype", lambda: np.zeros(2, np.float32), lambda: np.zeros(2)))
    with pytest.raises(AssertionError, match=r"shape \(2,\) != \(3,\)"):
        check_matches(Matches("f", "shape", lambda: np.zeros(2), lambda: np.zeros(3)))
    with pytest.raises(AssertionError):
        check_matches(Matches("f", "argument", lambda: np.ones(2), lambda: np.ones(2) + 1e-3))
    check_matches(Matches("f", "argument", lambda: (np.ones(1), np.zeros(1)), lambda: [np.ones(1), np.zeros(1)]))


def test_params_mark_known_bugs_and_summary_checks_categories() -> None:
    cases = [
        Raises("f", "shape", lambda: None, ValueError, ("x",), known_bug="fix f"),
        Matches("g", "empty", lambda: 0, lambda: 0, "zero"),
    ]
    (raising,) = params(cases, Raises)
    assert raising.id == "f-shape-x" and raising.marks[0].kwargs == {"strict": True, "reason": "fix f"}
    (matching,) = params(cases, Matches)
    assert matching.id == "g-empty-zero" and not matching.marks
    assert summary(cases, ("shape", "empty")) == "2 cases: shape 1, empty 1"
    with pytest.raises(AssertionError, match="unknown categories"):
        summary(cases, ("shape",))
    assert testing.uncovered(["f", "g", "h", "i"], cases, {"i": "reason"}) == ["h"]


def test_fake_device_tensor_refuses_to_be_read() -> None:
    fake = FakeDeviceTensor((2, 3))
    assert (fake.shape, fake.ndim, fake.device) == ((2, 3), 2, "cuda")
    with pytest.raises(AssertionError, match="before the device check"):
        fake._arr()
