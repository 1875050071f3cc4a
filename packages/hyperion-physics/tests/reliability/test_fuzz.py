"""Property-based fuzzing of the grid's validation.

Settings: ``max_examples=60``, ``deadline=None`` (shared CI machines), ``derandomize=True`` (the
same examples on every run, so a failure reproduces).
"""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from hyperion.physics import CourantError, Grid, courant_limit
from hyperion.tensor import ShapeError

FUZZ = settings(max_examples=60, deadline=None, derandomize=True)


@FUZZ
@given(
    st.lists(st.integers(-3, 40), min_size=0, max_size=4),
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    st.sampled_from(["pec", "periodic", "pml"]),
    st.integers(0, 12),
)
def test_a_grid_is_valid_or_refused_with_a_documented_error(
    shape: list[int], courant: float | None, boundary: str, pml: int
) -> None:
    try:
        grid = Grid(tuple(shape), courant=courant, boundary=boundary, pml_cells=pml)
    except (ShapeError, CourantError, ValueError) as exc:
        assert str(exc), "an empty message"
        return
    assert 1 <= len(shape) <= 3 and all(n >= 1 for n in shape)
    assert 0 < grid.courant <= courant_limit(grid.ndim) * (1 + 1e-12)
    assert math.isfinite(grid.dt) and grid.dt > 0
