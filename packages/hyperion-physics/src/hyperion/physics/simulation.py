"""A simulation: a grid, materials, sources and monitors, stepped in time.

Example:
    >>> from hyperion.physics import Grid, Simulation, PointSource, Gaussian, Probe
    >>> g = Grid((60, 60), dx=1e-3, pml_cells=8)
    >>> sim = Simulation(g, sources=[PointSource((30, 30), Gaussian(width=20 * g.dt))],
    ...                  monitors=[Probe("p", (40, 30))])
    >>> sim.run(100)
    >>> len(sim.monitors[0].values)
    100
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hyperion.physics.cpml import axis_profiles, psi_shape
from hyperion.physics.grid import Grid
from hyperion.physics.materials import Materials, coefficients
from hyperion.physics.monitors import Monitor
from hyperion.physics.sources import COMPONENTS
from hyperion.physics.update import step as kernel_step
from hyperion.tensor.errors import ShapeError

__all__ = ["Simulation", "staggered_energy"]


class Simulation:
    """Fields on a Yee grid, advanced with the registry's ``physics.fdtd3d_step``.

    Args:
        grid: the grid (shape, spacing, time step, boundaries, dtype, device).
        materials: per-cell ε_r, μ_r, σ (default vacuum).
        sources: point or plane sources, applied to E after each step.
        monitors: probes, snapshots, DFT and flux monitors, recorded after each step.
    """

    def __init__(
        self,
        grid: Grid,
        materials: Materials | None = None,
        sources: Sequence[Any] = (),
        monitors: Sequence[Monitor] = (),
    ) -> None:
        self.grid = grid
        self.materials = materials if materials is not None else Materials.vacuum(grid)
        self.sources = list(sources)
        self.monitors = list(monitors)
        self.xp = grid.xp
        self.step_count = 0
        has_e, has_h = grid.components
        xp = self.xp
        dtype = grid.np_dtype
        present = has_e + has_h
        self.fields: dict[str, Any] = {
            name: (xp.zeros(grid.shape, dtype=dtype) if on else None)
            for name, on in zip(COMPONENTS, present, strict=True)
        }
        self.profiles = axis_profiles(grid)
        self.psi_e = tuple(
            xp.zeros(psi_shape(grid, a, p.rows), dtype=dtype) if p.rows else None for a, p in enumerate(self.profiles)
        )
        self.psi_h = tuple(
            xp.zeros(psi_shape(grid, a, p.rows), dtype=dtype) if p.rows else None for a, p in enumerate(self.profiles)
        )
        self.update_materials()

    def update_materials(self) -> None:
        """Recompute the update coefficients after the material maps changed."""
        self.ca, self.cb, self.ch = coefficients(self.grid, self.materials)

    @property
    def time(self) -> float:
        """The time of the E fields (seconds)."""
        return self.step_count * self.grid.dt

    def time_of(self, component: str) -> float:
        """The time a component is sampled at: ``n·dt`` for E, ``(n − ½)·dt`` for H."""
        return self.time - (0.5 * self.grid.dt if component.startswith("h") else 0.0)

    def e(self) -> tuple[Any, Any, Any]:
        """(Ex, Ey, Ez), ``None`` where the mode has no such component."""
        return self.fields["ex"], self.fields["ey"], self.fields["ez"]

    def h(self) -> tuple[Any, Any, Any]:
        """(Hx, Hy, Hz) scaled by η₀, ``None`` where absent."""
        return self.fields["hx"], self.fields["hy"], self.fields["hz"]

    def step(self) -> None:
        """Advance one time step: H, then E, then the sources, then the monitors."""
        kernel_step(
            self.grid.device,
            *self.e(),
            *self.h(),
            self.ca,
            self.cb,
            self.ch,
            tuple(p.as_tuple() for p in self.profiles),
            self.psi_e,
            self.psi_h,
            self.grid.periodic,
        )
        self.step_count += 1
        t = self.time
        for source in self.sources:
            source.apply(self.e(), t)
        for monitor in self.monitors:
            monitor.record(self)

    def run(self, steps: int, progress: Callable[[int, int], None] | None = None) -> None:
        """Advance ``steps`` time steps, calling ``progress(done, steps)`` now and then."""
        if isinstance(steps, bool) or not isinstance(steps, int | np.integer):
            raise TypeError(f"steps must be an integer, got {steps!r}")
        if steps < 0:
            raise ValueError(f"steps must be >= 0, got {steps!r}")
        every = max(1, steps // 100)
        for k in range(steps):
            self.step()
            if progress is not None and ((k + 1) % every == 0 or k + 1 == steps):
                progress(k + 1, steps)

    def field(self, component: str) -> np.ndarray:
        """A component as a host NumPy array (squeezed to the grid's dimensionality)."""
        f = self.fields[component]
        if f is None:
            raise ValueError(f"this grid's mode ({self.grid.mode!r}) has no {component!r} component")
        out = f.get() if hasattr(f, "get") else np.asarray(f)
        return out.reshape(self.grid.shape[: max(1, self.grid.ndim)]) if self.grid.ndim < 3 else out


def staggered_energy(e: Sequence[Any], h_before: Sequence[Any], h_after: Sequence[Any], eps: Any, mu: Any) -> float:
    """The leapfrog's conserved energy ``½Σ ε_r|Eⁿ|² + ½Σ μ_r Hⁿ⁻½·Hⁿ⁺½`` (units of ε₀·dx³).

    In a lossless cavity this quantity is exactly invariant under the Yee update
    (the plain ``½Σ ε|E|² + ½Σ μ|H|²`` at mismatched times oscillates).
    """
    shapes = sorted({np.shape(f) for f in (*e, *h_before, *h_after) if f is not None})
    if len(shapes) > 1:
        raise ShapeError(f"staggered_energy: the fields have different shapes {shapes}")
    total = 0.0
    for f in e:
        if f is not None:
            total += 0.5 * float((eps * f * f).sum())
    for a, b in zip(h_before, h_after, strict=True):
        if a is not None:
            total += 0.5 * float((mu * a * b).sum())
    return total
