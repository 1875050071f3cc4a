"""The bad-input case table's harness: :mod:`hyperion.tensor.testing` with this suite's categories."""

from __future__ import annotations

from collections.abc import Sequence

from hyperion.tensor import testing
from hyperion.tensor.testing import (
    Case,
    FakeDeviceTensor,
    Matches,
    Raises,
    check_matches,
    check_raises,
    params,
    uncovered,
)

__all__ = [
    "CATEGORIES",
    "Case",
    "FakeDeviceTensor",
    "Matches",
    "Raises",
    "check_matches",
    "check_raises",
    "params",
    "summary",
    "uncovered",
]

CATEGORIES = ("shape", "dtype", "device", "empty", "zero-size", "nonfinite", "index", "argument")


def summary(cases: Sequence[Case]) -> str:
    """``"N cases: shape 12, dtype 9, ..."`` over this suite's categories."""
    return testing.summary(cases, CATEGORIES)
