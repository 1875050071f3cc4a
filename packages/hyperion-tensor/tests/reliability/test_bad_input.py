"""Every public function of hyperion.tensor, fed bad input: the right error type, a message naming the culprit.

The table is in ``cases.py``; :func:`test_every_public_callable_has_a_case` fails when a new public
function arrives without a case (or a justified entry in ``EXEMPT``).
"""

from __future__ import annotations

import pytest

import hyperion.tensor as ht
from hyperion.tensor.testing import Matches, Raises, check_matches, check_raises, params, summary, uncovered

from .cases import CASES, CATEGORIES, EXEMPT

# NumPy warns about the very values under test (log of -1, division by 0): expected, not a failure.
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _public_callables() -> list[str]:
    return [name for name in ht.__all__ if not name.startswith("_") and callable(getattr(ht, name)) or name in EXEMPT]


@pytest.mark.parametrize("case", params(CASES, Raises))
def test_bad_input_raises_a_documented_error_naming_the_value(case: Raises) -> None:
    check_raises(case)


@pytest.mark.parametrize("case", params(CASES, Matches))
def test_edge_input_behaves_like_numpy(case: Matches) -> None:
    check_matches(case)


def test_every_public_callable_has_a_case() -> None:
    missing = uncovered(_public_callables(), CASES, EXEMPT)
    assert not missing, f"public callables of hyperion.tensor with no bad-input case (add one to cases.py): {missing}"


def test_exemptions_name_real_public_objects() -> None:
    stale = sorted(set(EXEMPT) - set(ht.__all__))
    assert not stale, f"EXEMPT lists names that are no longer public: {stale}"


def test_case_count(record_property: pytest.RecordProperty) -> None:
    text = summary(CASES, CATEGORIES)
    record_property("bad_input_cases", len(CASES))
    print(f"hyperion.tensor bad-input {text}")
    assert len(CASES) >= 300
