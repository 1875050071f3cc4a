"""Every registry op the CPU kernels implement, called through its public entry point (hyperion.nn's
functions and AdamW, hyperion.physics' Simulation) with the kernels enabled and disabled: bad input
raises the reference's error type, naming the value; NaN/Inf and edge inputs give the reference's
result, with NaN and Inf at the same places. The table is in ``cases.py``.
"""

from __future__ import annotations

from collections import Counter

import pytest

from hyperion.tensor import registry

from .cases import CASES
from .parity import KERNELS_OFF, KERNELS_ON, Case, assert_same, kernel_ops, outcome

pytest.importorskip("numba")
pytest.importorskip("hyperion.nn")
pytest.importorskip("hyperion.physics")


def _params() -> list[object]:
    return [
        pytest.param(
            case, id=case.id, marks=[pytest.mark.xfail(strict=True, reason=case.known_bug)] if case.known_bug else []
        )
        for case in CASES
    ]


@pytest.mark.parametrize("case", _params())
def test_kernels_and_reference_agree(case: Case) -> None:
    if registry.which(case.op, "cpu") in (None, registry.REFERENCE):
        pytest.skip(f"no CPU kernel for {case.op} here")
    assert_same(outcome(case.call, KERNELS_ON), outcome(case.call, KERNELS_OFF), case)


def test_every_kernel_op_has_cases() -> None:
    missing = sorted(set(kernel_ops()) - {case.op for case in CASES})
    assert not missing, f"registry ops with a CPU kernel but no parity case (add them to cases.py): {missing}"


def test_case_count(record_property: pytest.RecordProperty) -> None:
    counts = Counter(case.category for case in CASES)
    record_property("bad_input_cases", len(CASES))
    print(f"hyperion-kernels parity cases: {len(CASES)}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    assert len(CASES) >= 80
