"""Numerical dispersion of the Yee scheme, measured against its dispersion relation.

* 1-D, S = 1 ("magic time step"): a pulse arrives at a probe ``d`` cells further
  exactly ``d`` steps later, undistorted.
* 1-D, S = 0.5, 10 cells per wavelength: the wave number measured from the phase
  difference between two probes, vs ``k = (2/dx)·asin(sin(ω·dt/2)/S)``; the
  phase-velocity error ``ω/(c·k) − 1`` is ≈ −1.27 %.
* 3-D anisotropy: a standing plane-wave eigenmode in a periodic box, along an
  axis and along the body diagonal at (nearly) the same wavelength; its
  frequency follows exactly from the three-term recurrence
  ``x[n+1] + x[n−1] = 2·cos(ω·dt)·x[n]``, vs
  ``sin²(ω·dt/2)/(c·dt)² = Σ sin²(k_i·dx/2)/dx²``.
"""

from __future__ import annotations

import math

import numpy as np

from hyperion.physics.constants import C0
from hyperion.physics.grid import Grid
from hyperion.physics.monitors import DFTMonitor, Probe
from hyperion.physics.simulation import Simulation
from hyperion.physics.sources import Gaussian, ModulatedGaussian, PointSource

__all__ = ["anisotropy_3d", "magic_step_error", "phase_velocity_error"]


def magic_step_error(cells: int = 300, shift: int = 80) -> float:
    """Largest difference between a pulse and its copy ``shift`` cells on, relative to its peak (S = 1)."""
    grid = Grid((cells,), dx=1e-3, courant=1.0, pml_cells=10)
    p1, p2 = Probe("a", (100,)), Probe("b", (100 + shift,))
    wave = Gaussian(width=8 * grid.dt)
    sim = Simulation(grid, sources=[PointSource((60,), wave)], monitors=[p1, p2])
    sim.run(100 + shift + 60)
    a, b = np.array(p1.values), np.array(p2.values)
    return float(np.max(np.abs(b[shift:] - a[:-shift])) / np.max(np.abs(a)))


def phase_velocity_error(courant: float = 0.5, cells_per_wavelength: float = 10.0) -> dict[str, float]:
    """Measured and predicted phase-velocity error ``v_p/c − 1`` of a 1-D wave at a fixed frequency."""
    grid = Grid((400,), dx=1e-3, courant=courant, pml_cells=20)
    dx, dt = grid.dx, grid.dt
    freq = C0 / (cells_per_wavelength * dx)
    x1, x2 = 150, 250
    mon = DFTMonitor("d", (freq,), region=(slice(x1, x2 + 1),))
    width = 8.0 / freq
    sim = Simulation(
        grid, sources=[PointSource((60,), ModulatedGaussian(freq, width, delay=4 * width))], monitors=[mon]
    )
    sim.run(int((8 * width) / dt + 400 / courant))
    # The phase lag grows by less than π per cell, so unwrapping cell by cell is unambiguous.
    phase = np.unwrap(np.angle(mon.spectrum().ravel()))
    k_meas = -(phase[-1] - phase[0]) / ((x2 - x1) * dx)
    k0 = 2 * math.pi * freq / C0
    k_pred = 2.0 / dx * math.asin(math.sin(math.pi * freq * dt) / courant)
    measured = k0 / k_meas - 1.0
    predicted = k0 / k_pred - 1.0
    # Relative to the prediction (absolute where the prediction is zero, as at S = 1).
    rel = abs(measured - predicted) / (abs(predicted) if predicted != 0 else 1.0)
    return {"measured": float(measured), "predicted": float(predicted), "rel_err": float(rel)}


def _eigen_frequency(
    shape: tuple[int, int, int], mode: tuple[int, int, int], courant: float, steps: int = 400
) -> tuple[float, float]:
    """(measured, predicted) ω·dt of a standing plane wave of integer ``mode`` numbers in a periodic box."""
    grid = Grid(shape, dx=1e-3, courant=courant, boundary="periodic", mode="3d")
    sim = Simulation(grid)
    k = [2 * math.pi * m / n for m, n in zip(mode, shape, strict=True)]
    # Polarisation perpendicular to the (discrete) wave vector, at each component's own staggered position.
    kd = np.array([math.sin(ki / 2) for ki in k])
    pol = np.cross(kd, [0.0, 0.0, 1.0]) if abs(kd[0]) + abs(kd[1]) > 0 else np.array([1.0, 0.0, 0.0])
    if np.linalg.norm(pol) == 0:
        pol = np.cross(kd, [1.0, 0.0, 0.0])
    pol /= np.linalg.norm(pol)
    idx = np.meshgrid(*(np.arange(n, dtype=float) for n in shape), indexing="ij")
    for comp, name in enumerate(("ex", "ey", "ez")):
        phase = sum(k[a] * (idx[a] + (0.5 if a == comp else 0.0)) for a in range(3))
        sim.fields[name][...] = pol[comp] * np.cos(phase)
    comp = int(np.argmax(np.abs(pol)))
    probe = Probe("p", (0, 0, 0), component=("ex", "ey", "ez")[comp])
    sim.monitors.append(probe)
    sim.run(steps)
    x = np.array(probe.values)
    cos_w = float(np.dot(x[1:-1], x[2:] + x[:-2]) / (2 * np.dot(x[1:-1], x[1:-1])))
    predicted = 2 * math.asin(courant * math.sqrt(sum(math.sin(ki / 2) ** 2 for ki in k)))
    return math.acos(cos_w), predicted


def anisotropy_3d(courant: float = 0.5) -> dict[str, float]:
    """Phase-velocity error along an axis and along the body diagonal at ≈ 9.8 cells per wavelength.

    Returns measured and predicted errors ``v_p/c − 1`` for both directions and the
    anisotropy ``v_axis/v_diagonal − 1`` (negative: waves along the axes are slower).
    """
    out: dict[str, float] = {}
    for name, shape, mode in (("axis", (157, 1, 1), (16, 0, 0)), ("diagonal", (17, 17, 17), (1, 1, 1))):
        w_meas, w_pred = _eigen_frequency(shape, mode, courant)
        k_dx = 2 * math.pi * math.sqrt(sum((m / n) ** 2 for m, n in zip(mode, shape, strict=True)))
        out[f"{name}_measured"] = w_meas / (courant * k_dx) - 1.0
        out[f"{name}_predicted"] = w_pred / (courant * k_dx) - 1.0
    out["anisotropy_measured"] = (1 + out["axis_measured"]) / (1 + out["diagonal_measured"]) - 1
    out["anisotropy_predicted"] = (1 + out["axis_predicted"]) / (1 + out["diagonal_predicted"]) - 1
    return out
