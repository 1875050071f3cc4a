"""The TMz step and its adjoint, in place, on buffers allocated once per problem.

At 2-D sizes of interest (tens of cells a side) a NumPy time step is bound by
the number of calls, not by arithmetic, so the step is written call by call:

* every view (field, ψ slab, shifted slice) of a state buffer is made once,
  when the buffer is bound, not once per step;
* differences go into preallocated scratch arrays (``out=``), nothing is
  allocated inside a step; differences along y run over the flat array in one
  contiguous call, the row-end entries being overwritten (or undone) after;
* the two CPML slabs of an axis are one strided view, so each ψ operation is
  one call; ``1/κ`` is skipped where ``κ = 1`` (the default);
* the E update adds the two stretched differences first and multiplies by
  ``cb`` once;
* the DFT of a run is one product of the recorded target values with the
  weights of its steps, taken at the end (and, in the adjoint, its rows are
  injected from one precomputed table).

The adjoint step runs on the gradient buffer in place. It needs nothing of
the forward state: the step is affine in the state, so the only state-dependent
quantities are the coefficient gradients ``∂L/∂ca = Σ g·Eⁿ`` and
``∂L/∂cb = Σ g·curlⁿ``, where ``g`` is the adjoint of the E half step. Because
``cb·curlⁿ = Eⁿ⁺¹ − ca·Eⁿ`` (minus the source, wherever ``g`` is not held at zero
on a wall), both follow from two sums, ``P = Σ g·Eⁿ`` and ``Q = Σ g·Eⁿ⁺¹``,
taken over a whole stack of steps at once. A backward pass therefore needs only
the ``Ez`` history of the run, not its states, and the curl is never recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

if TYPE_CHECKING:
    from hyperion.physics.adjoint.tmz import TMzProblem

__all__ = ["Bound", "TMzKernel", "kernel_for"]


@dataclass
class Bound:
    """Views of one flat state (or gradient) vector, made once and reused every step."""

    array: np.ndarray
    ez: np.ndarray
    hx: np.ndarray
    hy: np.ndarray
    acc: np.ndarray
    psi: dict[str, list[Any]]
    flat_ez: np.ndarray
    flat_hx: np.ndarray


class TMzKernel:
    """In-place forward and adjoint TMz steps for one :class:`TMzProblem` grid.

    The scratch buffers are shared by every call, so one kernel serves one thread at a time.

    Args:
        problem: the run; its grid, CPML profiles and state layout fix the buffers.
    """

    def __init__(self, problem: TMzProblem) -> None:
        grid = problem.grid
        self.problem = problem
        self.nx, self.ny = grid.shape[0], grid.shape[1]
        self.dtype = grid.np_dtype
        self.px, self.py = bool(grid.periodic[0]), bool(grid.periodic[1])
        self.ch = float(grid.courant)
        shape = (self.nx, self.ny)
        # Forward scratch: one array per difference; adjoint scratch: one per stretched term.
        self.dxh, self.dyh, self.dxe, self.dye = (np.zeros(shape, self.dtype) for _ in range(4))
        self.vx, self.vy, self.tx, self.ty = (np.zeros(shape, self.dtype) for _ in range(4))
        self._rows = {axis: problem.profiles[axis].rows for axis in (0, 1)}
        # Which ψ term each stretched difference owns (see update.py): E x → term 0, E y → 1, H x → 1, H y → 0.
        self._terms = {"e0": ("psi_e0", 0), "e1": ("psi_e1", 1), "h0": ("psi_h0", 1), "h1": ("psi_h1", 0)}
        self.coef = {key: self._coefficients(key) for key in self._terms}
        # Per-step scalars as Python floats: the source and DFT weights of every step.
        self.source = tuple(int(i) for i in problem.source)
        self.targets = tuple(tuple(int(i) for i in t) for t in problem.targets)
        self.waveform = [float(v) for v in problem.waveform]
        self.phases = [problem.phase(n) for n in range(problem.steps)]
        self.weights = np.array(self.phases, dtype=self.dtype).reshape(-1, 2)
        self.wave = np.asarray(problem.waveform, dtype=self.dtype)
        self.target_list = [tx * self.ny + ty for tx, ty in self.targets]
        self.source_index = self.source[0] * self.ny + self.source[1]
        on_wall = (not self.px and self.source[0] in (0, self.nx - 1)) or (
            not self.py and self.source[1] in (0, self.ny - 1)
        )
        # Whole-block bookkeeping of the DFT and source rows needs distinct targets and a source
        # that no wall zeroes (otherwise the adjoint takes them step by step).
        self.blockwise = len(set(self.targets)) == len(self.targets) and not on_wall
        self.key = _key(problem)
        self._stacks: dict[str, np.ndarray] = {}
        self._fwd_scratch = {"e0": self.dxe, "e1": self.dye, "h0": self.dxh, "h1": self.dyh}
        self._adj_scratch = {"e0": self.vx, "e1": self.vy, "h0": self.tx, "h1": self.ty}
        # The scratch side of every CPML slab view is the same for every bound vector: make it once.
        self._scratch_views = {
            key: [(view(self._fwd_scratch[key]), view(self._adj_scratch[key])) for view, *_ in self.coef[key]]
            for key in self._terms
        }
        self._tmp = {
            key: [np.empty(f.shape, self.dtype) for f, _ in views] for key, views in self._scratch_views.items()
        }
        self.flat = {
            "dyh": self.dyh.reshape(-1),
            "dye": self.dye.reshape(-1),
            "vy": self.vy.reshape(-1),
            "ty": self.ty.reshape(-1),
        }

    # -- setup --------------------------------------------------------------------
    def _coefficients(self, key: str) -> list[tuple[Any, Any, Any, Any, Any]]:
        """(grid-slab view maker, ψ-slab view maker, 1/κ or None, b, c) of stretched difference ``key``.

        The two slabs of an axis are one strided view (two blocks, ``n − half`` rows or columns
        apart), so each CPML operation is one NumPy call, not two.
        """
        kind, axis = key[0], int(key[1])
        rows = self._rows[axis]
        if not rows:
            return []
        prof = self.problem.profiles[axis]
        kinv_all, b_all, c_all = (prof.kinv_e, prof.b_e, prof.c_e) if kind == "e" else (prof.kinv_h, prof.b_h, prof.c_h)
        n = self.nx if axis == 0 else self.ny
        half = rows // 2
        parts = (slice(0, half), slice(n - half, n))
        if n - half < half:  # a Grid keeps n >= 2·cells + 3, so the two slabs never meet
            raise ValueError(f"CPML slabs of {half} rows overlap on an axis of {n} cells")
        stacked = [np.stack([np.asarray(v[gp], dtype=self.dtype) for gp in parts]) for v in (kinv_all, b_all, c_all)]
        shape = (2, half, self.ny) if axis == 0 else (self.nx, 2, half)
        coef = [np.ascontiguousarray(np.broadcast_to(v[:, :, None] if axis == 0 else v[None], shape)) for v in stacked]

        def grid_view(a: np.ndarray) -> np.ndarray:
            s0, s1 = a.strides
            if axis == 0:
                return as_strided(a, shape=shape, strides=((n - half) * s0, s0, s1))
            return as_strided(a, shape=shape, strides=(s0, (n - half) * s1, s1))

        def psi_view(p: np.ndarray) -> np.ndarray:
            return p.reshape(shape)

        kinv = None if np.all(coef[0] == 1) else coef[0]
        return [(grid_view, psi_view, kinv, coef[1], coef[2])]

    def stack(self, name: str, count: int) -> np.ndarray:
        """A reusable ``(count, nx, ny)`` scratch stack (its contents are whatever was left there)."""
        buf = self._stacks.get(name)
        if buf is None or buf.shape[0] < count:
            buf = np.empty((count, self.nx, self.ny), self.dtype)
            self._stacks[name] = buf
        return buf[:count]

    def state_buffer(self) -> np.ndarray:
        """A reusable flat state vector (its contents are whatever was left there)."""
        buf = self.__dict__.get("_state_buffer")
        if buf is None:
            buf = self._state_buffer = np.empty(self.problem.size, self.dtype)
        return buf

    def bind(self, array: np.ndarray) -> Bound:
        """Views of the flat vector ``array`` (which must stay alive and in place while used)."""
        p = self.problem
        sq = (self.nx, self.ny)
        psi: dict[str, list[Any]] = {}
        for key, (name, term) in self._terms.items():
            full = p.view(array, name)
            slabs = []
            if full is not None:
                psi2d = full[term][..., 0]
                for (_, psi_view, kinv, b, c), (scratch_f, scratch_a), tmp in zip(
                    self.coef[key], self._scratch_views[key], self._tmp[key], strict=True
                ):
                    slabs.append((scratch_f, scratch_a, psi_view(psi2d), kinv, b, c, tmp))
            psi[key] = slabs
        ez, hx = p.view(array, "ez").reshape(sq), p.view(array, "hx").reshape(sq)
        return Bound(
            array=array,
            ez=ez,
            hx=hx,
            hy=p.view(array, "hy").reshape(sq),
            acc=p.view(array, "acc"),
            psi=psi,
            flat_ez=ez.reshape(-1),
            flat_hx=hx.reshape(-1),
        )

    # -- forward ------------------------------------------------------------------
    @staticmethod
    def _stretch(slabs: list[Any]) -> None:
        """``ψ ← b·ψ + c·d``, then ``d ← d/κ + ψ`` in each slab (in place)."""
        for d, _, p, kinv, b, c, tmp in slabs:
            p *= b
            np.multiply(c, d, out=tmp)
            p += tmp
            if kinv is not None:
                d *= kinv
            d += p

    def forward(
        self,
        s: Bound,
        ca: np.ndarray,
        cb: np.ndarray,
        amp: float,
        n: int,
        dft: bool = True,
        record: list[list[float]] | None = None,
    ) -> None:
        """Advance the bound state by step ``n`` in place (``ca``, ``cb`` of shape ``(nx, ny)``).

        ``dft=False`` leaves the DFT accumulators alone (a recomputation that only needs the
        fields); a ``record`` list instead gets ``Ez`` at the targets appended, for :meth:`run` to
        fold into the accumulators once at the end.
        """
        ez, hx, hy = s.ez, s.hx, s.hy
        dxh, dyh, dxe, dye = self.dxh, self.dyh, self.dxe, self.dye
        ch = self.ch
        # H ← H − ch·curl⁺E: Hy += ch·∂x Ez, Hx −= ch·∂y Ez (forward differences).
        np.subtract(ez[1:], ez[:-1], out=dxh[:-1])
        if self.px:
            np.subtract(ez[0], ez[-1], out=dxh[-1])
        else:
            dxh[-1] = 0
        # Along y the flat arrays are differenced in one contiguous call; the entries that straddle
        # two rows land in the last column, which the boundary then overwrites.
        ez_f, dyh_f = s.flat_ez, self.flat["dyh"]
        np.subtract(ez_f[1:], ez_f[:-1], out=dyh_f[:-1])
        if self.py:
            np.subtract(ez[:, 0], ez[:, -1], out=dyh[:, -1])
        else:
            dyh[:, -1] = 0
        self._stretch(s.psi["h0"])
        self._stretch(s.psi["h1"])
        dxh *= ch
        hy += dxh
        dyh *= ch
        hx -= dyh
        # E ← ca·E + cb·(∂x Hy − ∂y Hx) (backward differences).
        np.subtract(hy[1:], hy[:-1], out=dxe[1:])
        if self.px:
            np.subtract(hy[0], hy[-1], out=dxe[0])
        else:
            dxe[0] = hy[0]
        hx_f, dye_f = s.flat_hx, self.flat["dye"]
        np.subtract(hx_f[1:], hx_f[:-1], out=dye_f[1:])
        if self.py:
            np.subtract(hx[:, 0], hx[:, -1], out=dye[:, 0])
        else:
            dye[:, 0] = hx[:, 0]
        self._stretch(s.psi["e0"])
        self._stretch(s.psi["e1"])
        dxe -= dye
        dxe *= cb
        ez *= ca
        ez += dxe
        self.zero_walls(ez)
        sx, sy = self.source
        ez[sx, sy] += amp * self.waveform[n]
        if record is not None:
            flat = s.flat_ez
            record.append([flat.item(i) for i in self.target_list])
            return
        if not dft:
            return
        c, sn = self.phases[n]
        acc = s.acc
        for k, (tx, ty) in enumerate(self.targets):
            value = ez[tx, ty]
            acc[k, 0] += value * c
            acc[k, 1] += value * sn

    def run(
        self,
        s: Bound,
        ca: np.ndarray,
        cb: np.ndarray,
        amp: float,
        n0: int,
        count: int,
        history: np.ndarray | None = None,
        dft: bool = True,
    ) -> None:
        """Steps ``n0 … n0 + count − 1`` in place; ``history[j]`` gets ``Ez`` before step ``n0 + j``.

        The DFT is taken at the end, as one product of the recorded target values with the
        weights of the run's steps.
        """
        record: list[list[float]] | None = [] if dft else None
        if history is not None:
            np.copyto(history[0], s.ez)
        for j in range(count):
            self.forward(s, ca, cb, amp, n0 + j, False, record)
            if history is not None:
                np.copyto(history[j + 1], s.ez)
        if record and self.targets:
            s.acc += np.array(record, dtype=self.dtype).T @ self.weights[n0 : n0 + count]

    def zero_walls(self, f: np.ndarray) -> None:
        """Hold a field (or its gradient) at zero on the PEC walls."""
        if not self.px:
            f[0] = 0
            f[-1] = 0
        if not self.py:
            f[:, 0] = 0
            f[:, -1] = 0

    # -- adjoint ------------------------------------------------------------------
    @staticmethod
    def _stretch_t(slabs: list[Any]) -> None:
        """Transpose of :meth:`_stretch`: ``ψ̄ ← ψ̄ + w``, ``w ← w/κ + c·ψ̄``, ``ψ̄ ← b·ψ̄`` per slab."""
        for _, w, gp, kinv, b, c, tmp in slabs:
            gp += w
            if kinv is not None:
                w *= kinv
            np.multiply(c, gp, out=tmp)
            w += tmp
            gp *= b

    def adjoint(
        self, g: Bound, g_e: np.ndarray, g_prev: np.ndarray, ca: np.ndarray, cb: np.ndarray, neg_cb: np.ndarray, n: int
    ) -> tuple[float, float]:
        """Pull a gradient back through step ``n``.

        The H, ψ and DFT parts of the gradient are the bound vector ``g`` (updated in
        place); its ``Ez`` part is ``g_e`` on the way in (``∂L/∂Ez'``) and ``g_prev`` on the
        way out (``∂L/∂Ez``, overwritten). ``g_e`` is left holding the adjoint of the E
        half step (held at zero on PEC walls), from which the coefficient gradients are
        summed: keeping one ``g_e`` per step in a stack costs no copy.

        Returns:
            ``(∂L/∂amp, g_e at the source cell · waveform)`` of this step.
        """
        # DFT rows and the source.
        c, sn = self.phases[n]
        acc = g.acc
        for k, (px_, py_) in enumerate(self.targets):
            g_e[px_, py_] += acc[k, 0] * c + acc[k, 1] * sn
        sx, sy = self.source
        w = self.waveform[n]
        g_amp = float(g_e[sx, sy]) * w
        self.zero_walls(g_e)
        src = float(g_e[sx, sy]) * w
        self.adjoint_fields(g, g_e, g_prev, ca, cb, neg_cb)
        return g_amp, src

    def adjoint_fields(
        self, g: Bound, g_e: np.ndarray, g_prev: np.ndarray, ca: np.ndarray, cb: np.ndarray, neg_cb: np.ndarray
    ) -> None:
        """The field part of :meth:`adjoint`, from ``g_e`` with the DFT and source rows already applied."""
        ghx, ghy = g.hx, g.hy
        vx, vy, tx, ty = self.vx, self.vy, self.tx, self.ty
        # E ← ca·E + cb·(∂x Hy − ∂y Hx): the adjoint of the stretched backward differences.
        np.multiply(g_e, cb, out=vx)
        np.multiply(g_e, neg_cb, out=vy)
        np.multiply(g_e, ca, out=g_prev)
        self._stretch_t(g.psi["e0"])
        self._stretch_t(g.psi["e1"])
        ghy += vx
        ghy[:-1] -= vx[1:]
        if self.px:
            ghy[-1] -= vx[0]
        ghx += vy
        g.flat_hx[:-1] -= self.flat["vy"][1:]
        ghx[:-1, -1] += vy[1:, 0]  # undo what the flat difference put across row ends
        if self.py:
            ghx[:, -1] -= vy[:, 0]
        # Hy += ch·t_x, Hx −= ch·t_y: the adjoint of the stretched forward differences.
        np.multiply(ghy, self.ch, out=tx)
        np.multiply(ghx, -self.ch, out=ty)
        self._stretch_t(g.psi["h0"])
        self._stretch_t(g.psi["h1"])
        g_prev[1:] += tx[:-1]
        g_prev[:-1] -= tx[:-1]
        if self.px:
            g_prev[0] += tx[-1]
            g_prev[-1] -= tx[-1]
        if self.py:
            g_prev[:, 1:] += ty[:, :-1]
            g_prev[:, :-1] -= ty[:, :-1]
            g_prev[:, 0] += ty[:, -1]
            g_prev[:, -1] -= ty[:, -1]
        else:
            # The last column of a PEC forward difference is a constant zero: drop its gradient, then
            # the flat calls add nothing across row ends.
            ty[:, -1] = 0
            ty_f, gp_f = self.flat["ty"], g_prev.reshape(-1)
            gp_f[1:] += ty_f[:-1]
            gp_f[:-1] -= ty_f[:-1]


def kernel_for(problem: TMzProblem) -> TMzKernel:
    """The problem's kernel, made on first use and kept on the problem."""
    kernel = problem.__dict__.get("_kernel")
    if kernel is None or kernel.key != _key(problem):
        kernel = TMzKernel(problem)
        problem.__dict__["_kernel"] = kernel
    return kernel


def _key(problem: TMzProblem) -> tuple[Any, ...]:
    # What the kernel copied out of the problem: a changed source, target, waveform or frequency makes a new one.
    return (
        id(problem.grid),
        tuple(problem.source),
        tuple(map(tuple, problem.targets)),
        problem.frequency,
        problem.waveform.size,
        hash(np.asarray(problem.waveform).tobytes()),
    )
