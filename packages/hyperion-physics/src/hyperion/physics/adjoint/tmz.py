"""A pure 2-D TMz time step with CPML, and its hand-written adjoint.

The state of a TMz run is one flat vector (so that one autograd node carries
it): ``Ez, Hx, Hy`` on the ``(nx, ny, 1)`` grid, the four ψ arrays of the CPML
slabs, and the running DFT (real, imaginary) of ``Ez`` at each target point.
One step is an affine map of the state whose matrix depends on ε::

    s' = A(ε)·s + amp·w(t)·e_src

so its adjoint is the transposed map, run backwards in time: the same
differences, transposed (a forward difference becomes minus a backward one,
with the boundary rows swapped), the same CPML recursions with ``b`` and ``c``
moved to the other side, and the ε gradient from ``∂ca/∂ε`` and ``∂cb/∂ε``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from hyperion.physics.adjoint.kernel import kernel_for
from hyperion.physics.cpml import AxisProfile, axis_profiles, psi_shape
from hyperion.physics.grid import Grid

__all__ = ["TMzProblem", "adjoint_step", "forward_step"]


@dataclass
class TMzProblem:
    """Everything about a differentiable TMz run that is not differentiated.

    Args:
        grid: a 2-D grid in ``"tm"`` mode (CPML, PEC or periodic boundaries).
        source: cell of the soft ``Ez`` point source.
        waveform: the source waveform sampled after each step (``len = steps``).
        targets: cells whose ``Ez`` is Fourier transformed at ``frequency``.
        frequency: the DFT frequency (Hz).
        sigma: conductivity map (S/m), constant (default zero).
    """

    grid: Grid
    source: tuple[int, int]
    waveform: np.ndarray
    targets: tuple[tuple[int, int], ...]
    frequency: float
    sigma: np.ndarray | None = None
    profiles: tuple[AxisProfile, ...] = field(init=False)
    layout: dict[str, tuple[int, tuple[int, ...]]] = field(init=False)
    size: int = field(init=False)
    _slices: dict[str, tuple[slice, tuple[int, ...]]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        g = self.grid
        if g.mode != "tm" or g.ndim != 2 or g.shape[2] != 1:
            raise ValueError(f"a TMzProblem needs a 2-D 'tm' grid, got shape {g.shape} mode {g.mode!r}")
        if g.device != "cpu":
            raise ValueError("the differentiable TMz solver runs on NumPy arrays (device 'cpu')")
        self.waveform = np.asarray(self.waveform, dtype=np.float64)
        self.profiles = axis_profiles(g)
        layout: dict[str, tuple[int, tuple[int, ...]]] = {}
        offset = 0
        for name in ("ez", "hx", "hy"):
            layout[name] = (offset, g.shape)
            offset += int(np.prod(g.shape))
        for kind in ("psi_e", "psi_h"):
            for axis in (0, 1):
                rows = self.profiles[axis].rows
                if rows:
                    shape = psi_shape(g, axis, rows)
                    layout[f"{kind}{axis}"] = (offset, shape)
                    offset += int(np.prod(shape))
        layout["acc"] = (offset, (len(self.targets), 2))
        offset += 2 * len(self.targets)
        self.layout = layout
        self.size = offset
        self._slices = {k: (slice(o, o + int(np.prod(sh))), sh) for k, (o, sh) in layout.items()}
        if self.sigma is None:
            self.sigma = np.zeros(g.shape[:2])

    @property
    def steps(self) -> int:
        """Number of time steps (the length of the sampled waveform)."""
        return int(self.waveform.size)

    def view(self, state: np.ndarray, name: str) -> np.ndarray | None:
        """A named part of a flat state vector, as a view (``None`` for absent ψ)."""
        entry = self._slices.get(name)
        if entry is None:
            return None
        part, shape = entry
        return state[part].reshape(shape)

    def zero_state(self) -> np.ndarray:
        """The all-zero initial state."""
        return np.zeros(self.size, dtype=self.grid.np_dtype)

    def coefficients(self, eps: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(ca, cb, dcb/dε)``-style update coefficients and ``∂ca/∂ε`` for an ε map ``(nx, ny)``."""
        from hyperion.physics.constants import EPS0

        s_c = float(self.grid.courant)
        sig = self.sigma * self.grid.dt / (2 * EPS0)
        denom = eps + sig
        ca = (eps - sig) / denom
        cb = s_c / denom
        dca = 2 * sig / denom**2
        dtype = self.grid.np_dtype
        return ca[..., None].astype(dtype), cb[..., None].astype(dtype), dca[..., None].astype(dtype)

    def phase(self, n: int) -> tuple[float, float]:
        """DFT weights ``(cos ωt·dt, −sin ωt·dt)`` for the E fields after step ``n`` (time ``(n+1)·dt``)."""
        w = 2 * math.pi * self.frequency
        t = (n + 1) * self.grid.dt
        return math.cos(w * t) * self.grid.dt, -math.sin(w * t) * self.grid.dt


def forward_step(
    problem: TMzProblem, state: np.ndarray, ca: np.ndarray, cb: np.ndarray, amp: float, n: int
) -> np.ndarray:
    """Step ``n`` of the run: a new state vector (the input is not modified).

    ``ca`` and ``cb`` are the ``(nx, ny, 1)`` maps of :meth:`TMzProblem.coefficients`. Runs of
    many steps should step one buffer in place instead (see :mod:`hyperion.physics.adjoint.kernel`).
    """
    out = np.array(state, dtype=problem.grid.np_dtype, copy=True)
    kernel = kernel_for(problem)
    kernel.forward(kernel.bind(out), ca[..., 0], cb[..., 0], amp, n)
    return out


def adjoint_step(
    problem: TMzProblem,
    state: np.ndarray,
    next_state: np.ndarray,
    grad_out: np.ndarray,
    ca: np.ndarray,
    cb: np.ndarray,
    amp: float,
    n: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The vector-Jacobian product of :func:`forward_step` at ``state``.

    ``next_state`` is ``forward_step(state)``: its ``Ez`` gives the curl term of the
    E update as ``cb·curl = Ez' − ca·Ez`` (less the source), without recomputing it.

    Returns:
        ``(∂L/∂state, ∂L/∂ca, ∂L/∂cb, ∂L/∂amp)`` given ``grad_out = ∂L/∂state'``.
    """
    kernel = kernel_for(problem)
    g_in = np.array(grad_out, dtype=problem.grid.np_dtype, copy=True)
    ca2, cb2 = ca[..., 0], cb[..., 0]
    bound = kernel.bind(g_in)
    g_e = bound.ez.copy()
    g_amp, at_source = kernel.adjoint(bound, g_e, bound.ez, ca2, cb2, -cb2, n)
    shape = ca2.shape
    ez, ez_next = problem.view(state, "ez").reshape(shape), problem.view(next_state, "ez").reshape(shape)
    g_ca = g_e * ez
    g_cb = g_e * (ez_next - ca2 * ez) / cb2
    sx, sy = problem.source
    g_cb[sx, sy] -= amp * at_source / cb2[sx, sy]
    return g_in, g_ca[..., None], g_cb[..., None], g_amp
