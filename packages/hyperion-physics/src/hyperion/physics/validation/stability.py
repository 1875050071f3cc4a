"""The Courant stability edge and energy conservation of the leapfrog."""

from __future__ import annotations

import numpy as np

from hyperion.physics.grid import CourantError, Grid
from hyperion.physics.simulation import Simulation, staggered_energy

__all__ = ["energy_drift", "instability_growth", "refuses_above_limit"]


def refuses_above_limit(ndim: int = 2, factor: float = 1.01) -> bool:
    """Whether a grid with ``factor ×`` the Courant limit is refused with :class:`CourantError`."""
    shape = (16,) * ndim
    limit = Grid(shape, boundary="pec").courant_max
    try:
        Grid(shape, courant=factor * limit, boundary="pec")
    except CourantError:
        return True
    return False


def instability_growth(factor: float = 1.02, steps: int = 400, seed: int = 0) -> float:
    """Growth of the field maximum over ``steps`` steps of a 2-D PEC grid run (opted in) above the limit."""
    shape = (32, 32)
    limit = Grid(shape, boundary="pec").courant_max
    grid = Grid(shape, courant=factor * limit, boundary="pec", allow_unstable=True)
    sim = Simulation(grid)
    rng = np.random.default_rng(seed)
    sim.fields["ez"][1:-1, 1:-1, 0] = rng.standard_normal((30, 30))
    start = float(np.abs(sim.fields["ez"]).max())
    sim.run(steps)
    return float(np.abs(sim.fields["ez"]).max()) / start


def energy_drift(
    steps: int = 10_000, shape: tuple[int, int] = (24, 18), dtype: str = "float64", seed: int = 0
) -> float:
    """Largest relative change of the staggered-time energy of a lossless 2-D PEC cavity over ``steps`` steps.

    The cavity holds an inhomogeneous dielectric (random ε_r in [1, 4]) and starts
    from a random field, so every mode is exercised.
    """
    grid = Grid(shape, boundary="pec", dtype=dtype)
    sim = Simulation(grid)
    rng = np.random.default_rng(seed)
    sim.materials.eps = rng.uniform(1.0, 4.0, grid.shape)
    sim.update_materials()
    sim.fields["ez"][1:-1, 1:-1, 0] = rng.standard_normal((shape[0] - 2, shape[1] - 2))
    eps, mu = sim.materials.eps, sim.materials.mu
    energies = np.empty(steps)
    h_before = [None if f is None else f.copy() for f in sim.h()]
    for n in range(steps):
        e_now = [None if f is None else f.copy() for f in sim.e()]
        sim.step()
        energies[n] = staggered_energy(e_now, h_before, sim.h(), eps, mu)
        for dst, src in zip(h_before, sim.h(), strict=True):
            if dst is not None:
                dst[...] = src
    return float(np.max(np.abs(energies - energies[0])) / energies[0])
