"""Every public name of hyperion.autograd (and of hyperion.autograd.functional), fed bad input.

The table is in ``cases.py``; :func:`test_every_public_callable_has_a_case` fails when a new public
name arrives without a case (or a justified entry in ``EXEMPT``).
"""

from __future__ import annotations

import pytest

import hyperion.autograd as ag
from hyperion.tensor.testing import Matches, Raises, check_matches, check_raises, params, summary, uncovered

from .cases import CASES, CATEGORIES, EXEMPT

# NumPy warns about the very values under test (log of -1, division by 0): expected, not a failure.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _public_names() -> list[str]:
    names = [name for name in ag.__all__ if callable(getattr(ag, name)) or name in EXEMPT]
    names += [f"functional.{name}" for name in ag.functional.__all__]
    return names


@pytest.mark.parametrize("case", params(CASES, Raises))
def test_bad_input_raises_a_documented_error_naming_the_value(case: Raises) -> None:
    check_raises(case)


@pytest.mark.parametrize("case", params(CASES, Matches))
def test_edge_input_behaves_like_numpy(case: Matches) -> None:
    check_matches(case)


def test_every_public_callable_has_a_case() -> None:
    missing = uncovered(_public_names(), CASES, EXEMPT)
    assert not missing, f"public names of hyperion.autograd with no bad-input case (add one to cases.py): {missing}"


def test_exemptions_name_real_public_objects() -> None:
    stale = sorted(set(EXEMPT) - set(ag.__all__))
    assert not stale, f"EXEMPT lists names that are no longer public: {stale}"


def test_case_count(record_property: pytest.RecordProperty) -> None:
    text = summary(CASES, CATEGORIES)
    record_property("bad_input_cases", len(CASES))
    print(f"hyperion.autograd bad-input {text}")
    assert len(CASES) >= 250
