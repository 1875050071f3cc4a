"""hyperion.physics: a validated, differentiable FDTD solver on a Yee grid.

Example:
    >>> from hyperion.physics import Grid, Simulation, PointSource, Gaussian
    >>> g = Grid((40,), dx=1e-3, courant=1.0, boundary="pec")
    >>> sim = Simulation(g, sources=[PointSource((20,), Gaussian(width=5 * g.dt))])
    >>> sim.run(10)
    >>> sim.step_count
    10
"""

from hyperion.physics.__about__ import __version__
from hyperion.physics.constants import C0, EPS0, ETA0, MU0
from hyperion.physics.grid import CourantError, Grid, courant_limit
from hyperion.physics.materials import Materials, box_mask, coefficients, sphere_mask
from hyperion.physics.monitors import DFTMonitor, FluxMonitor, Probe, Snapshots
from hyperion.physics.simulation import Simulation, staggered_energy
from hyperion.physics.sources import CW, Gaussian, ModulatedGaussian, PlaneSource, PointSource

__all__ = [
    "C0",
    "CW",
    "EPS0",
    "ETA0",
    "MU0",
    "CourantError",
    "DFTMonitor",
    "FluxMonitor",
    "Gaussian",
    "Grid",
    "Materials",
    "ModulatedGaussian",
    "PlaneSource",
    "PointSource",
    "Probe",
    "Simulation",
    "Snapshots",
    "__version__",
    "box_mask",
    "coefficients",
    "courant_limit",
    "sphere_mask",
    "staggered_energy",
]
