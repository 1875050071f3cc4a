import math

import pytest

from hyperion.physics import CourantError, Grid, courant_limit
from hyperion.tensor.errors import DTypeError, ShapeError


@pytest.mark.parametrize(("shape", "ndim"), [((50,), 1), ((40, 30), 2), ((20, 20, 20), 3), ((20, 1, 20), 2)])
def test_courant_limit_follows_dimensionality(shape, ndim):
    g = Grid(shape, boundary="pec")
    assert g.ndim == ndim
    assert g.courant_max == pytest.approx(1 / math.sqrt(ndim))
    assert g.courant == pytest.approx(0.99 / math.sqrt(ndim))
    assert g.dt == pytest.approx(g.courant * g.dx / 299_792_458.0)


def test_time_step_above_limit_is_refused_with_the_numbers():
    with pytest.raises(CourantError, match=r"above the stability limit 0\.707107"):
        Grid((30, 30), courant=0.72, boundary="pec")
    g = Grid((30, 30), courant=0.72, boundary="pec", allow_unstable=True)
    assert g.courant == 0.72
    assert courant_limit(3) == pytest.approx(3**-0.5)


def test_bad_arguments_are_named():
    with pytest.raises(ShapeError, match="two 10-cell CPML"):
        Grid((15, 40))
    with pytest.raises(DTypeError, match="float16"):
        Grid((30,), dtype="float16", boundary="pec")
    with pytest.raises(ValueError, match="boundary"):
        Grid((30,), boundary="mirror")
    with pytest.raises(ShapeError):
        Grid((0, 4))


def test_modes_and_components():
    assert Grid((30, 30), boundary="pec").components == ((False, False, True), (True, True, False))
    assert Grid((30, 30), boundary="pec", mode="te").components == ((True, True, False), (False, False, True))
    assert Grid((8, 8, 8), boundary="pec").mode == "3d"
    # A collapsed axis is uniform: treated as periodic.
    assert Grid((30, 30), boundary="pec").periodic == (False, False, True)
