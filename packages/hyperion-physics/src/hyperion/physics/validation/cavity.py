"""Resonances of a 2-D PEC rectangular cavity (TM modes) from the spectrum of a probe.

Continuum: ``f_mn = (c/2)·√((m/a)² + (n/b)²)``. The Yee grid's own dispersion
relation predicts the discrete resonances exactly::

    sin²(ω·dt/2) / (c·dt)² = sin²(mπ·dx/(2a)) / dx² + sin²(nπ·dx/(2b)) / dx²

The peaks are located on a Hann-windowed, heavily zero-padded spectrum
refined by parabolic interpolation.
"""

from __future__ import annotations

import math

import numpy as np

from hyperion.physics.constants import C0
from hyperion.physics.grid import Grid
from hyperion.physics.monitors import Probe
from hyperion.physics.simulation import Simulation
from hyperion.physics.sources import Gaussian, PointSource

__all__ = ["cavity_modes"]

MODES = ((1, 1), (2, 1), (1, 2))


def _peak(signal: np.ndarray, dt: float, f_guess: float) -> float:
    n = signal.size
    windowed = (signal - signal.mean()) * np.hanning(n)
    pad = 1 << int(math.ceil(math.log2(n * 16)))
    spec = np.abs(np.fft.rfft(windowed, pad))
    freqs = np.fft.rfftfreq(pad, dt)
    lo, hi = np.searchsorted(freqs, [0.97 * f_guess, 1.03 * f_guess])
    k = lo + int(np.argmax(spec[lo:hi]))
    a, b, c = np.log(spec[k - 1 : k + 2])
    shift = 0.5 * (a - c) / (a - 2 * b + c)
    return float(freqs[k] + shift * (freqs[1] - freqs[0]))


def cavity_modes(nx: int = 41, ny: int = 29, steps: int = 12000) -> dict[str, float]:
    """Measured TM_11, TM_21, TM_12 vs the continuum and the discrete dispersion relation.

    Returns:
        ``cavity_rel_err`` (largest vs the continuum), ``discrete_rel_err`` (largest vs
        the discrete relation) and the cells per wavelength of the highest mode.
    """
    grid = Grid((nx, ny), dx=1e-3, boundary="pec")
    dx, dt = grid.dx, grid.dt
    a, b = (nx - 1) * dx, (ny - 1) * dx
    probe = Probe("p", (nx // 3, ny // 4))
    wave = Gaussian(width=6 * dt)
    sim = Simulation(grid, sources=[PointSource((nx // 5 + 1, ny // 3 + 1), wave)], monitors=[probe])
    sim.run(steps)
    signal = np.array(probe.values)[int(40 * 6) :]
    out: dict[str, float] = {}
    worst_c = worst_d = 0.0
    for m, n in MODES:
        f_cont = 0.5 * C0 * math.hypot(m / a, n / b)
        rhs = (math.sin(m * math.pi * dx / (2 * a)) ** 2 + math.sin(n * math.pi * dx / (2 * b)) ** 2) / dx**2
        f_disc = 2.0 / dt * math.asin(C0 * dt * math.sqrt(rhs)) / (2 * math.pi)
        f_meas = _peak(signal, dt, f_cont)
        out[f"f{m}{n}_measured"] = f_meas
        worst_c = max(worst_c, abs(f_meas - f_cont) / f_cont)
        worst_d = max(worst_d, abs(f_meas - f_disc) / f_disc)
    out["cavity_rel_err"] = worst_c
    out["discrete_rel_err"] = worst_d
    out["cells_per_wavelength_min"] = C0 / max(out[f"f{m}{n}_measured"] for m, n in MODES) / dx
    return out
