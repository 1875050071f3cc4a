import numpy as np
import pytest

from hyperion.physics import Grid, Materials, box_mask, coefficients, sphere_mask
from hyperion.tensor.errors import ShapeError


def test_coefficients_and_shapes():
    g = Grid((20, 10), dx=1e-3, boundary="pec")
    m = Materials.vacuum(g)
    m.eps[box_mask(g, (5e-3,), (10e-3,))] = 4.0
    ca, cb, ch = coefficients(g, m)
    assert np.all(ca == 1.0)
    assert cb[0, 0, 0] == pytest.approx(g.courant) and cb[7, 3, 0] == pytest.approx(g.courant / 4)
    assert sphere_mask(g, (10e-3, 5e-3), 2e-3).sum() == 13


def test_bad_material_maps_are_refused():
    g = Grid((20, 10), boundary="pec")
    with pytest.raises(ShapeError, match=r"\(3, 3\)"):
        coefficients(g, Materials(np.ones((3, 3)), np.ones(g.shape), np.zeros(g.shape)))
    with pytest.raises(ValueError, match="eps must be finite and positive"):
        coefficients(g, Materials(np.zeros(g.shape), np.ones(g.shape), np.zeros(g.shape)))
