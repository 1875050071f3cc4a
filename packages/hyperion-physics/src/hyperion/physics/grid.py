"""The Yee grid: shape, spacing, time step, boundaries, dtype and device.

Every grid is stored as 3-D arrays ``(nx, ny, nz)``; a 2-D grid has ``nz = 1``
and a 1-D grid ``ny = nz = 1``. A collapsed axis (size 1) has no variation, so
derivatives along it vanish; it is treated as periodic by the kernels, which
makes the same 3-D update serve every dimensionality.

Staggering (cell ``(i, j, k)``, spacing ``dx``)::

    Ex (i+½, j,   k  )   Hx (i,   j+½, k+½)
    Ey (i,   j+½, k  )   Hy (i+½, j,   k+½)
    Ez (i,   j,   k+½)   Hz (i+½, j+½, k  )

so ``H`` uses forward differences of ``E`` and ``E`` backward differences of ``H``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hyperion.physics.constants import C0
from hyperion.tensor.errors import DeviceError, DTypeError, ShapeError

__all__ = ["BOUNDARIES", "MODES", "CourantError", "Grid", "courant_limit", "get_xp"]

BOUNDARIES = ("pec", "periodic", "pml")
MODES = ("tm", "te", "3d")


class CourantError(ValueError):
    """A time step above the Courant stability limit was asked for."""


def get_xp(device: str) -> Any:
    """The array module for ``device``: NumPy for ``"cpu"``, CuPy for ``"cuda"``.

    Raises:
        DeviceError: for an unknown device, or ``"cuda"`` without CuPy.
    """
    if device == "cpu":
        return np
    if device == "cuda":
        try:
            import cupy
        except ImportError as exc:  # pragma: no cover - depends on the machine
            raise DeviceError("device 'cuda' needs CuPy: pip install 'hyperion-physics[cuda]'") from exc
        return cupy
    raise DeviceError(f"unknown device {device!r}; expected 'cpu' or 'cuda'")


def courant_limit(ndim: int) -> float:
    """The largest stable Courant number ``S = c·dt/dx`` on a uniform grid with ``ndim`` varying axes."""
    if ndim < 1 or ndim > 3:
        raise ShapeError(f"a grid has 1 to 3 varying axes, got {ndim}")
    return 1.0 / math.sqrt(ndim)


@dataclass(frozen=True)
class Grid:
    """A uniform Yee grid.

    Args:
        shape: cells per axis, 1 to 3 ints (missing trailing axes have size 1).
        dx: cell size in metres (the same along every axis).
        courant: Courant number ``S = c₀·dt/dx``; default 0.99 of the limit.
        boundary: ``"pec"``, ``"periodic"`` or ``"pml"`` for every axis, or one per axis.
        pml_cells: CPML thickness in cells (axes with ``"pml"`` boundaries).
        pml_reflection: target normal-incidence reflection ``R₀`` of the CPML.
        pml_order: polynomial grading order ``m`` of σ and κ.
        pml_kappa_max: largest coordinate stretch κ.
        pml_alpha_max: largest CFS α, in units of ``ε₀/dt`` (dimensionless ``α·dt/ε₀``).
        mode: ``"tm"`` (Ez, Hx, Hy), ``"te"`` (Hz, Ex, Ey) or ``"3d"``; default ``"3d"``
            for 3-D grids and ``"tm"`` otherwise.
        dtype: ``"float32"`` or ``"float64"``.
        device: ``"cpu"`` or ``"cuda"``.
        allow_unstable: accept a Courant number above the limit (to show the instability).

    Raises:
        CourantError: if ``courant`` is above the limit and ``allow_unstable`` is false.

    Example:
        >>> g = Grid((100, 80), dx=1e-3)
        >>> g.ndim, g.mode, round(g.courant_max, 4)
        (2, 'tm', 0.7071)
    """

    shape: tuple[int, ...]
    dx: float = 1e-3
    courant: float | None = None
    boundary: str | tuple[str, ...] = "pml"
    pml_cells: int = 10
    pml_reflection: float = 1e-8
    pml_order: float = 3.0
    pml_kappa_max: float = 1.0
    pml_alpha_max: float = 0.05
    mode: str | None = None
    dtype: str = "float64"
    device: str = "cpu"
    allow_unstable: bool = False
    boundaries: tuple[str, str, str] = field(init=False)

    def __post_init__(self) -> None:
        sizes = () if isinstance(self.shape, str) else tuple(self.shape)
        if not all(isinstance(n, int | np.integer) and not isinstance(n, bool) for n in sizes):
            raise ShapeError(f"grid shape must be 1 to 3 positive ints, got {self.shape!r}")
        shape = tuple(int(n) for n in sizes)
        if not 1 <= len(shape) <= 3 or any(n < 1 for n in shape):
            raise ShapeError(f"grid shape must be 1 to 3 positive ints, got {self.shape!r}")
        shape = shape + (1,) * (3 - len(shape))
        object.__setattr__(self, "shape", shape)
        if not (self.dx > 0 and math.isfinite(self.dx)):
            raise ValueError(f"dx must be positive, got {self.dx!r}")
        if self.dtype not in ("float32", "float64"):
            raise DTypeError(f"grid dtype must be 'float32' or 'float64', got {self.dtype!r}")
        if self.device not in ("cpu", "cuda"):
            raise DeviceError(f"unknown device {self.device!r}; expected 'cpu' or 'cuda'")
        mode = self.mode or ("3d" if self.ndim == 3 else "tm")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {self.mode!r}")
        object.__setattr__(self, "mode", mode)
        bnd = (self.boundary,) * 3 if isinstance(self.boundary, str) else tuple(self.boundary)
        if len(bnd) < 3:
            bnd = bnd + ("periodic",) * (3 - len(bnd))
        if len(bnd) != 3 or any(b not in BOUNDARIES for b in bnd):
            raise ValueError(f"boundary must be one of {BOUNDARIES} or one per axis, got {self.boundary!r}")
        # A collapsed axis is uniform: periodic of period one cell.
        bnd = tuple("periodic" if n == 1 else b for n, b in zip(shape, bnd, strict=True))
        object.__setattr__(self, "boundaries", bnd)
        for n, b in zip(shape, bnd, strict=True):
            if b == "pml" and self.pml_cells < 1:
                raise ValueError(f"pml_cells must be >= 1 on a pml axis, got {self.pml_cells!r}")
            if b == "pml" and n < 2 * self.pml_cells + 3:
                raise ShapeError(f"an axis of {n} cells cannot hold two {self.pml_cells}-cell CPML slabs")
        if not 0 < self.pml_reflection < 1:
            raise ValueError(f"pml_reflection must be in (0, 1), got {self.pml_reflection!r}")
        if self.pml_kappa_max < 1:
            raise ValueError(f"pml_kappa_max must be >= 1, got {self.pml_kappa_max!r}")
        s_max = courant_limit(self.ndim)
        courant = 0.99 * s_max if self.courant is None else float(self.courant)
        if not courant > 0:
            raise CourantError(f"the Courant number must be positive, got {courant!r}")
        if courant > s_max * (1 + 1e-12) and not self.allow_unstable:
            raise CourantError(
                f"Courant number {courant:.6g} is above the stability limit {s_max:.6g} = 1/sqrt({self.ndim}) "
                f"of this {self.ndim}-D grid (dt = {courant * self.dx / C0:.6g} s > "
                f"{s_max * self.dx / C0:.6g} s); pass allow_unstable=True to run it anyway"
            )
        object.__setattr__(self, "courant", courant)

    @property
    def ndim(self) -> int:
        """The number of axes with more than one cell."""
        return max(1, sum(n > 1 for n in self.shape))

    @property
    def courant_max(self) -> float:
        """The Courant limit ``1/sqrt(ndim)`` of this grid."""
        return courant_limit(self.ndim)

    @property
    def dt(self) -> float:
        """The time step in seconds."""
        return float(self.courant) * self.dx / C0

    @property
    def xp(self) -> Any:
        """The array module of this grid's device."""
        return get_xp(self.device)

    @property
    def np_dtype(self) -> np.dtype:
        """The NumPy dtype of the fields."""
        return np.dtype(self.dtype)

    @property
    def components(self) -> tuple[tuple[bool, bool, bool], tuple[bool, bool, bool]]:
        """Which of (Ex, Ey, Ez) and (Hx, Hy, Hz) this grid's mode carries."""
        if self.mode == "tm":
            return (False, False, True), (True, True, False)
        if self.mode == "te":
            return (True, True, False), (False, False, True)
        return (True, True, True), (True, True, True)

    @property
    def periodic(self) -> tuple[bool, bool, bool]:
        """Per axis: whether differences wrap around."""
        return tuple(b == "periodic" for b in self.boundaries)  # type: ignore[return-value]

    def coordinates(self, axis: int) -> np.ndarray:
        """Integer-node coordinates (metres) along ``axis``."""
        return np.arange(self.shape[axis]) * self.dx
