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
from typing import Any

import numpy as np

from hyperion.physics.cpml import AxisProfile, axis_profiles, psi_shape
from hyperion.physics.grid import Grid
from hyperion.physics.update import backward_difference, zero_pec_walls

__all__ = ["TMzProblem", "adjoint_step", "forward_step"]


def _sl(axis: int, s: slice) -> tuple[slice, ...]:
    out = [slice(None)] * 3
    out[axis] = s
    return tuple(out)


def _along(v: np.ndarray, axis: int) -> np.ndarray:
    shape = [1, 1, 1]
    shape[axis] = v.shape[0]
    return v.reshape(shape)


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
    """Step ``n`` of the run: a new state vector (the input is not modified)."""
    from hyperion.physics.update import fdtd3d_step_reference

    out = state.copy()
    v = problem.view
    ch = np.asarray(float(problem.grid.courant), dtype=out.dtype)
    psi_e = (v(out, "psi_e0"), v(out, "psi_e1"), None)
    psi_h = (v(out, "psi_h0"), v(out, "psi_h1"), None)
    fdtd3d_step_reference(
        None,
        None,
        v(out, "ez"),
        v(out, "hx"),
        v(out, "hy"),
        None,
        ca,
        cb,
        ch,
        tuple(p.as_tuple() for p in problem.profiles),
        psi_e,
        psi_h,
        problem.grid.periodic,
    )
    ez = v(out, "ez")
    sx, sy = problem.source
    ez[sx, sy, 0] += amp * problem.waveform[n]
    acc = v(out, "acc")
    c, s = problem.phase(n)
    for k, (tx, ty) in enumerate(problem.targets):
        acc[k, 0] += ez[tx, ty, 0] * c
        acc[k, 1] += ez[tx, ty, 0] * s
    return out


def _forward_difference_t(g: np.ndarray, axis: int, periodic: bool) -> np.ndarray:
    """Transpose of :func:`forward_difference` applied to ``g``."""
    n = g.shape[axis]
    r = np.zeros_like(g)
    head = _sl(axis, slice(0, n - 1))
    r[_sl(axis, slice(1, n))] += g[head]
    r[head] -= g[head]
    if periodic:
        last = g[_sl(axis, slice(n - 1, n))]
        r[_sl(axis, slice(0, 1))] += last
        r[_sl(axis, slice(n - 1, n))] -= last
    return r


def _backward_difference_t(g: np.ndarray, axis: int, periodic: bool) -> np.ndarray:
    """Transpose of :func:`backward_difference` applied to ``g``."""
    n = g.shape[axis]
    r = g.copy()
    r[_sl(axis, slice(0, n - 1))] -= g[_sl(axis, slice(1, n))]
    if periodic:
        r[_sl(axis, slice(n - 1, n))] -= g[_sl(axis, slice(0, 1))]
    return r


def _stretch_t(
    w: np.ndarray, axis: int, kinv: Any, b: Any, c: Any, gpsi: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Adjoint of the stretch: from ``w = ∂L/∂t`` and ``gpsi = ∂L/∂ψ'`` to ``(∂L/∂d, ∂L/∂ψ)``."""
    gd = w.copy()
    if gpsi is None:
        return gd, None
    rows = gpsi.shape[axis]
    half = rows // 2
    n = w.shape[axis]
    gpsi_in = np.empty_like(gpsi)
    for gp, pp in ((slice(0, half), slice(0, half)), (slice(n - half, n), slice(half, rows))):
        total = gpsi[_sl(axis, pp)] + w[_sl(axis, gp)]
        gd[_sl(axis, gp)] = _along(kinv[gp], axis) * w[_sl(axis, gp)] + _along(c[gp], axis) * total
        gpsi_in[_sl(axis, pp)] = _along(b[gp], axis) * total
    return gd, gpsi_in


def _stretched(d: np.ndarray, axis: int, kinv: Any, psi_new: np.ndarray | None) -> np.ndarray:
    """``d/κ + ψ'`` in the slabs (``ψ'`` already advanced), ``d`` elsewhere; ``d`` is overwritten."""
    if psi_new is None:
        return d
    rows = psi_new.shape[axis]
    half = rows // 2
    n = d.shape[axis]
    for gp, pp in ((slice(0, half), slice(0, half)), (slice(n - half, n), slice(half, rows))):
        part = d[_sl(axis, gp)]
        part *= _along(kinv[gp], axis)
        part += psi_new[_sl(axis, pp)]
    return d


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

    ``next_state`` is ``forward_step(state)``: the new H and ψ it holds give the
    curl of the E update without recomputing the H half step.

    Returns:
        ``(∂L/∂state, ∂L/∂ca, ∂L/∂cb, ∂L/∂amp)`` given ``grad_out = ∂L/∂state'``.
    """
    v = problem.view
    periodic = problem.grid.periodic
    px, py = problem.profiles[0], problem.profiles[1]
    ch = float(problem.grid.courant)
    ez = v(state, "ez")
    hx_new, hy_new = v(next_state, "hx"), v(next_state, "hy")
    psi_ex, psi_ey = v(next_state, "psi_e0"), v(next_state, "psi_e1")
    u_x = _stretched(
        backward_difference(hy_new, 0, periodic[0], np.empty_like(ez)),
        0,
        px.kinv_e,
        None if psi_ex is None else psi_ex[0],
    )
    u_y = _stretched(
        backward_difference(hx_new, 1, periodic[1], np.empty_like(ez)),
        1,
        py.kinv_e,
        None if psi_ey is None else psi_ey[1],
    )
    curl = u_x
    curl -= u_y

    g = grad_out
    g_in = np.zeros_like(state)
    for name in ("psi_e0", "psi_e1", "psi_h0", "psi_h1"):
        part = v(g_in, name)
        if part is not None:
            part[...] = v(g, name)  # the ψ slots a TMz step never touches pass their gradient through
    gez = v(g, "ez").copy()
    # (6) sources and DFT accumulators
    gacc = v(g, "acc")
    c, s = problem.phase(n)
    for k, (tx, ty) in enumerate(problem.targets):
        gez[tx, ty, 0] += gacc[k, 0] * c + gacc[k, 1] * s
    v(g_in, "acc")[...] = gacc
    sx, sy = problem.source
    g_amp = float(gez[sx, sy, 0]) * float(problem.waveform[n])
    # (5) PEC walls, then E ← ca·E + cb·curl
    zero_pec_walls((None, None, gez), periodic)
    g_ca = gez * ez
    g_cb = gez * curl
    vv = cb * gez
    gez_in = v(g_in, "ez")
    gez_in[...] = ca * gez
    # (3), (4): the stretched backward differences of the new H
    g_psi_ex = v(g, "psi_e0")
    g_dx, gpe_x = _stretch_t(vv, 0, px.kinv_e, px.b_e, px.c_e, None if g_psi_ex is None else g_psi_ex[0])
    g_psi_ey = v(g, "psi_e1")
    g_dy, gpe_y = _stretch_t(-vv, 1, py.kinv_e, py.b_e, py.c_e, None if g_psi_ey is None else g_psi_ey[1])
    if gpe_x is not None:
        v(g_in, "psi_e0")[0] = gpe_x
    if gpe_y is not None:
        v(g_in, "psi_e1")[1] = gpe_y
    ghy = v(g, "hy") + _backward_difference_t(g_dx, 0, periodic[0])
    ghx = v(g, "hx") + _backward_difference_t(g_dy, 1, periodic[1])
    v(g_in, "hy")[...] = ghy
    v(g_in, "hx")[...] = ghx
    # (2) Hy ← Hy + ch·t_x, (1) Hx ← Hx − ch·t_y
    g_psi_hx = v(g, "psi_h0")
    g_tx, gph_x = _stretch_t(ch * ghy, 0, px.kinv_h, px.b_h, px.c_h, None if g_psi_hx is None else g_psi_hx[1])
    g_psi_hy = v(g, "psi_h1")
    g_ty, gph_y = _stretch_t(-ch * ghx, 1, py.kinv_h, py.b_h, py.c_h, None if g_psi_hy is None else g_psi_hy[0])
    if gph_x is not None:
        v(g_in, "psi_h0")[1] = gph_x
    if gph_y is not None:
        v(g_in, "psi_h1")[0] = gph_y
    gez_in += _forward_difference_t(g_tx, 0, periodic[0]) + _forward_difference_t(g_ty, 1, periodic[1])
    return g_in, g_ca, g_cb, g_amp
