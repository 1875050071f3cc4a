import math

import numpy as np
import pytest

from hyperion.physics import CW, Gaussian, Grid, ModulatedGaussian, PlaneSource, PointSource, Simulation


def test_waveforms():
    assert Gaussian(width=1.0)(4.0) == 1.0
    assert Gaussian(width=1.0)(5.0) == pytest.approx(math.exp(-1))
    assert ModulatedGaussian(0.25, 2.0)(8.0) == 0.0
    assert CW(1.0, ramp=2.0)(10.25) == pytest.approx(1.0)
    assert abs(CW(1.0, ramp=2.0)(0.25)) < 0.2


def test_hard_source_assigns_soft_source_adds():
    g = Grid((20,), boundary="pec", courant=1.0)
    hard = Simulation(g, sources=[PointSource((10,), Gaussian(width=1e-12, delay=0.0), kind="hard")])
    hard.fields["ez"][10] = 5.0
    hard.step()
    assert hard.fields["ez"][10, 0, 0] == pytest.approx(math.exp(-((g.dt / 1e-12) ** 2)))
    with pytest.raises(ValueError, match="'hx'"):
        PointSource((1,), Gaussian(1.0), component="hx")
    with pytest.raises(IndexError, match="outside"):
        Simulation(g, sources=[PointSource((30,), Gaussian(1.0))]).step()


def test_plane_source_launches_a_plane_wave():
    g = Grid((60, 12), boundary=("pml", "periodic"), pml_cells=8)
    sim = Simulation(g, sources=[PlaneSource(0, 20, Gaussian(width=6 * g.dt))])
    sim.run(40)
    ez = sim.fields["ez"][:, :, 0]
    assert np.allclose(ez, ez[:, :1], atol=1e-12)  # uniform across the plane
    assert np.abs(ez[35]).max() > 0.1
    with pytest.raises(ValueError, match="normal component"):
        PlaneSource(2, 3, Gaussian(1.0), component="ez")
