"""Every public name of hyperion.gpt, fed bad input (the table is in ``cases.py``).

:func:`test_every_public_name_has_a_case` fails when a new public name arrives without a case (or a
justified entry in ``EXEMPT``).
"""

from __future__ import annotations

import pytest

import hyperion.gpt as gpt
from hyperion.tensor.testing import Matches, Raises, check_matches, check_raises, params, summary, uncovered

from .cases import CASES, CATEGORIES, EXEMPT, PUBLIC

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


@pytest.mark.parametrize("case", params(CASES, Raises))
def test_bad_input_raises_a_documented_error_naming_the_value(case: Raises) -> None:
    check_raises(case)


@pytest.mark.parametrize("case", params(CASES, Matches))
def test_edge_input_gives_the_reference_result(case: Matches) -> None:
    check_matches(case)


def test_every_public_name_has_a_case() -> None:
    missing = uncovered(PUBLIC, CASES, EXEMPT)
    assert not missing, f"public names of hyperion.gpt with no bad-input case (add one to cases.py): {missing}"


def test_exemptions_name_real_public_objects() -> None:
    stale = sorted(set(EXEMPT) - set(gpt.__all__))
    assert not stale, f"EXEMPT lists names that are no longer public: {stale}"


def test_case_count(record_property: pytest.RecordProperty) -> None:
    text = summary(CASES, CATEGORIES)
    record_property("bad_input_cases", len(CASES))
    print(f"hyperion.gpt bad-input {text}")
    assert len(CASES) >= 100
