"""CPML reflection: a 2-D point source near the layer vs a reference run on a large domain.

The probes sit between the source and the layer; the reference domain is
large enough that nothing comes back within the window, so the difference of
the two time series is what the CPML reflected. The error is the largest
difference over time and probes relative to the largest reference value, in dB.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from hyperion.physics.grid import Grid
from hyperion.physics.monitors import Probe
from hyperion.physics.simulation import Simulation
from hyperion.physics.sources import ModulatedGaussian, PointSource

__all__ = ["pml_reflection_db"]


def _probes(offset: tuple[int, int], sim_shape: tuple[int, ...], interior: int, origin: int) -> list[Probe]:
    # Probes in the interior: next to the layer at the side, a corner, and near the source.
    spots = [(origin + 1, origin + interior // 2), (origin + 1, origin + 1), (origin + interior // 2, origin + 2)]
    return [Probe(f"p{k}", (x + offset[0], y + offset[1])) for k, (x, y) in enumerate(spots)]


def _wave(dt: float) -> ModulatedGaussian:
    # A modulated Gaussian has no DC content, so no static charge is left at the source.
    return ModulatedGaussian(frequency=1.0 / (20 * dt * 1.4), width=12 * dt)


@functools.lru_cache(maxsize=8)
def _reference(interior: int, steps: int, courant: float, dtype: str) -> tuple[np.ndarray, ...]:
    """Probe series of the reference run: a PEC box so large that nothing returns within ``steps``.

    Influence spreads at most one cell per step, and the source and every probe are at least
    ``reach`` cells from the walls, so an echo needs ``2·reach > steps`` steps to arrive.
    """
    reach = steps // 2 + 4
    big = interior + 2 * reach
    grid = Grid((big, big), dx=1e-3, courant=courant, boundary="pec", dtype=dtype)
    src = (reach + interior // 2, reach + interior // 2)
    ref = Simulation(grid, sources=[PointSource(src, _wave(grid.dt))], monitors=_probes((0, 0), grid.shape, interior, reach))
    ref.run(steps)
    return tuple(np.array(m.values) for m in ref.monitors)


def pml_reflection_db(
    cells: int = 10, interior: int = 40, steps: int = 300, dtype: str = "float64", alpha_max: float = 0.05
) -> float:
    """Largest relative error (dB) of the CPML run vs the reference over ``steps`` steps.

    Args:
        cells: CPML thickness in cells.
        interior: size of the square interior (cells) between the layers.
        steps: length of the window.
        dtype: field dtype.
        alpha_max: the CPML's CFS α (``α·dt/ε₀``); 0 gives a plain CPML.
    """
    grid = Grid(
        (interior + 2 * cells, interior + 2 * cells), dx=1e-3, pml_cells=cells, dtype=dtype, pml_alpha_max=alpha_max
    )
    src = (cells + interior // 2, cells + interior // 2)
    sim = Simulation(
        grid, sources=[PointSource(src, _wave(grid.dt))], monitors=_probes((0, 0), grid.shape, interior, cells)
    )
    sim.run(steps)
    reference = _reference(interior, steps, float(grid.courant), dtype)
    err = max(float(np.max(np.abs(np.array(m.values) - r))) for m, r in zip(sim.monitors, reference, strict=True))
    scale = max(float(np.max(np.abs(r))) for r in reference)
    return 20.0 * math.log10(err / scale)
