"""Materials as per-cell maps of ε_r, μ_r and σ, and simple shapes to paint them.

A design region is simply a slice of the ``eps`` map. Maps are NumPy arrays
of the grid's 3-D shape; :func:`coefficients` turns them into the update
coefficients ``ca``, ``cb``, ``ch`` on the grid's device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from hyperion.physics.constants import EPS0
from hyperion.physics.grid import Grid
from hyperion.tensor.errors import ShapeError

__all__ = ["Materials", "box_mask", "coefficients", "sphere_mask"]


@dataclass
class Materials:
    """Relative permittivity, relative permeability and conductivity (S/m) per cell.

    Example:
        >>> from hyperion.physics import Grid
        >>> m = Materials.vacuum(Grid((50,), dx=1e-3))
        >>> m.eps[25:] = 4.0  # a half-space of n = 2
        >>> float(m.eps.max())
        4.0
    """

    eps: np.ndarray
    mu: np.ndarray
    sigma: np.ndarray

    @classmethod
    def vacuum(cls, grid: Grid) -> Materials:
        """ε_r = μ_r = 1, σ = 0 everywhere."""
        shape = grid.shape
        return cls(np.ones(shape), np.ones(shape), np.zeros(shape))

    def check(self, grid: Grid) -> None:
        """Raise a clear error for maps of the wrong shape or unphysical values."""
        for name in ("eps", "mu", "sigma"):
            value = np.asarray(getattr(self, name))
            if value.shape != grid.shape:
                try:
                    value = np.broadcast_to(value, grid.shape).copy()
                except ValueError:
                    raise ShapeError(
                        f"material map {name!r} has shape {value.shape}; the grid is {grid.shape}"
                    ) from None
                setattr(self, name, value)
        if not np.all(np.isfinite(self.eps)) or np.min(self.eps) <= 0:
            raise ValueError(f"eps must be finite and positive; its minimum is {np.min(self.eps)!r}")
        if not np.all(np.isfinite(self.mu)) or np.min(self.mu) <= 0:
            raise ValueError(f"mu must be finite and positive; its minimum is {np.min(self.mu)!r}")
        if not np.all(np.isfinite(self.sigma)) or np.min(self.sigma) < 0:
            raise ValueError(f"sigma must be finite and non-negative; its minimum is {np.min(self.sigma)!r}")


def coefficients(grid: Grid, materials: Materials) -> tuple[Any, Any, Any]:
    """The update coefficients ``(ca, cb, ch)`` on the grid's device and dtype."""
    materials.check(grid)
    s = float(grid.courant)
    sig = materials.sigma * grid.dt / (2.0 * EPS0)
    ca = (materials.eps - sig) / (materials.eps + sig)
    cb = s / (materials.eps + sig)
    ch = s / materials.mu
    xp = grid.xp
    return tuple(xp.asarray(np.ascontiguousarray(a, dtype=grid.np_dtype)) for a in (ca, cb, ch))  # type: ignore[return-value]


def _centres(grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return tuple(np.meshgrid(*(np.arange(n) * grid.dx for n in grid.shape), indexing="ij"))  # type: ignore[return-value]


def box_mask(grid: Grid, lower: tuple[float, ...], upper: tuple[float, ...]) -> np.ndarray:
    """Cells whose node lies in the axis-aligned box ``lower <= x < upper`` (metres; missing axes unbounded)."""
    lower, upper = tuple(float(v) for v in lower), tuple(float(v) for v in upper)
    mask = np.ones(grid.shape, dtype=bool)
    for axis, coord in enumerate(_centres(grid)):
        if axis < len(lower):
            mask &= coord >= lower[axis]
        if axis < len(upper):
            mask &= coord < upper[axis]
    return mask


def sphere_mask(grid: Grid, centre: tuple[float, ...], radius: float) -> np.ndarray:
    """Cells whose node lies within ``radius`` of ``centre`` (a disk in 2-D, a slab in 1-D)."""
    if not radius >= 0:
        raise ValueError(f"sphere radius must be >= 0, got {radius!r}")
    r2 = np.zeros(grid.shape)
    for axis, coord in enumerate(_centres(grid)):
        if axis < len(centre):
            r2 = r2 + (coord - centre[axis]) ** 2
    return r2 <= radius * radius
