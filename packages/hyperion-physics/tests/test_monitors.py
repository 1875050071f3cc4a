import numpy as np
import pytest

from hyperion.physics import DFTMonitor, FluxMonitor, Gaussian, Grid, Probe, Simulation, Snapshots
from hyperion.physics.sources import PointSource


def test_probe_snapshots_dft_and_flux():
    g = Grid((200,), pml_cells=20, courant=0.99)
    f0 = 1 / (30 * g.dt)
    mons = [
        Probe("p", (120,)),
        Snapshots("s", every=25),
        DFTMonitor("d", (f0,), region=(slice(120, 121),)),
        FluxMonitor("f", 0, 120, (f0,)),
        FluxMonitor("b", 0, 60, (f0,)),
    ]
    sim = Simulation(g, sources=[PointSource((90,), Gaussian(width=10 * g.dt))], monitors=mons)
    sim.run(400)
    assert len(mons[0].values) == 400 and mons[0].times[1] - mons[0].times[0] == pytest.approx(g.dt)
    assert mons[1].data()["s.frames"].shape == (16, 200, 1, 1)
    # The DFT equals the transform of the probe's time series.
    t = np.array(mons[0].times)
    direct = np.sum(np.array(mons[0].values) * np.exp(-2j * np.pi * f0 * t)) * g.dt
    assert mons[2].spectrum().ravel()[0] == pytest.approx(direct)
    # Power flows away from the source on both sides, symmetrically.
    forward, backward = mons[3].flux()[0], mons[4].flux()[0]
    assert forward > 0 and backward < 0
    assert forward == pytest.approx(-backward, rel=2e-2)


def test_monitor_errors_name_the_problem():
    g = Grid((30, 30), boundary="pec")
    with pytest.raises(ValueError, match="'hz'"):
        Simulation(g, monitors=[Probe("p", (3, 3), component="hz")]).step()
    with pytest.raises(ValueError, match=">= 1"):
        Snapshots("s", every=0)
