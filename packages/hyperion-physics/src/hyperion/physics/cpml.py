"""Convolutional PML (Roden & Gedney 2000) with complex-frequency-shifted stretching.

Along an absorbing axis the derivative is replaced by the stretched one::

    ∂/∂x  →  (1/κ) ∂/∂x + ψ,      ψⁿ⁺¹ = b·ψⁿ + c·∂f/∂x,
    b = exp(−(σ/κ + α)·dt/ε₀),     c = σ·(b − 1) / (σ·κ + κ²·α),

with σ and κ graded polynomially with the depth ρ into the layer and α
linearly (largest at the interface, where it keeps evanescent and
low-frequency waves from growing). ``σ_max = −(m + 1)·ln R₀ / (2·η₀·d)`` gives
a normal-incidence reflection ``R₀`` for a layer of thickness ``d``.

Everything here is dimensionless: ``σ·dt/ε₀ = −(m+1)·ln R₀·S·(ρ/d)^m / (2·N)``
for ``N`` cells and Courant number ``S``, and ``ψ`` is stored multiplied by
``dx`` so that it adds directly to a raw difference. ``ψ`` lives only in the
slabs: a per-axis index map sends an axis index to its slab row, or ``-1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from hyperion.physics.grid import Grid

__all__ = ["AxisProfile", "axis_profiles", "psi_shape"]


@dataclass(frozen=True)
class AxisProfile:
    """CPML coefficients along one axis (length ``n`` each, in the grid's array module).

    ``kinv_e``, ``b_e``, ``c_e`` act on derivatives taken at integer nodes (the
    ``E`` update), ``kinv_h``, ``b_h``, ``c_h`` at half-integer nodes (the ``H``
    update); ``index`` maps an axis index to its row in the compact ψ arrays,
    ``-1`` outside the slabs; ``rows`` is the number of slab rows (0 without CPML).
    """

    kinv_e: Any
    b_e: Any
    c_e: Any
    kinv_h: Any
    b_h: Any
    c_h: Any
    index: Any
    rows: int

    def as_tuple(self) -> tuple[Any, ...]:
        """The arrays in the order the kernels take them."""
        return (self.kinv_e, self.b_e, self.c_e, self.kinv_h, self.b_h, self.c_h, self.index)


def _grade(depth: np.ndarray, grid: Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(1/κ, b, c) at the given depths (in cells, 0 = interface, N = outer wall); zero depth is vacuum."""
    n = grid.pml_cells
    m = grid.pml_order
    rho = np.clip(depth / n, 0.0, 1.0)
    s_max = -(m + 1) * math.log(grid.pml_reflection) * float(grid.courant) / (2.0 * n)
    sigma = s_max * rho**m
    kappa = 1.0 + (grid.pml_kappa_max - 1.0) * rho**m
    alpha = np.where(depth > 0, grid.pml_alpha_max * (1.0 - rho), 0.0)
    b = np.exp(-(sigma / kappa + alpha))
    denom = sigma * kappa + kappa * kappa * alpha
    c = np.divide(sigma * (b - 1.0), denom, out=np.zeros_like(sigma), where=denom > 0)
    return 1.0 / kappa, np.where(depth > 0, b, 0.0), c


def _profile(axis: int, grid: Grid) -> AxisProfile:
    n_axis = grid.shape[axis]
    dtype = grid.np_dtype
    xp = grid.xp
    index = np.full(n_axis, -1, dtype=np.int32)
    if grid.boundaries[axis] != "pml":
        ones = np.ones(n_axis)
        zeros = np.zeros(n_axis)
        arrays = [ones, zeros, zeros, ones, zeros, zeros]
        rows = 0
    else:
        n = grid.pml_cells
        i = np.arange(n_axis, dtype=np.float64)
        last = n_axis - 1
        # Depth into the layer at integer nodes (E-update derivatives) and half-integer nodes (H update);
        # the outer PEC walls sit at nodes 0 and n_axis - 1.
        depth_e = np.maximum(np.maximum(n - i, i - (last - n)), 0.0)
        depth_h = np.maximum(np.maximum(n - (i + 0.5), (i + 0.5) - (last - n)), 0.0)
        kinv_e, b_e, c_e = _grade(depth_e, grid)
        kinv_h, b_h, c_h = _grade(depth_h, grid)
        arrays = [kinv_e, b_e, c_e, kinv_h, b_h, c_h]
        slab = np.concatenate([np.arange(0, n + 1), np.arange(n_axis - n - 1, n_axis)])
        index[slab] = np.arange(slab.size, dtype=np.int32)
        rows = int(slab.size)
    converted = [xp.asarray(a.astype(dtype)) for a in arrays]
    return AxisProfile(*converted, index=xp.asarray(index), rows=rows)


def axis_profiles(grid: Grid) -> tuple[AxisProfile, AxisProfile, AxisProfile]:
    """The CPML profiles of the three axes (identity profiles where there is no CPML)."""
    return (_profile(0, grid), _profile(1, grid), _profile(2, grid))


def psi_shape(grid: Grid, axis: int, rows: int) -> tuple[int, int, int, int]:
    """Shape of the ψ array of ``axis``: two terms × the grid with that axis cut to its slab rows."""
    shape = list(grid.shape)
    shape[axis] = rows
    return (2, *shape)
