"""Fused Numba kernel for ``physics.fdtd3d_step``: one Yee step with CPML, in place.

Same contract as the reference in ``hyperion.physics.update`` (which documents
the staggering, the curl written axis by axis and the ψ layout), but all six
components must be present. The step is organised for speed:

1. a branch-free bulk pass updates H everywhere with plain differences
   (κ = 1, no ψ), parallel over x, the inner loop over z vectorisable;
2. the stretching correction ``(1/κ − 1)·d + ψ`` is added after advancing ψ
   (the update is linear, so the two parts sum to the stretched update): for
   the z slabs inside the bulk pass, row by row while the row is in cache, for
   the x and y slabs in a pass over the slab planes;
3. the same two passes for E, then the PEC walls are zeroed.

On a PEC wall the "next" neighbour of the last node is the node itself, which
makes the forward difference zero, exactly as the reference; E components
that the wall zeroes may see any value there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit, prange

__all__ = ["KERNELS", "fdtd3d_step"]


@njit(cache=True, fastmath=False)
def _next(i, n, periodic):  # noqa: ANN001, ANN202
    """Index of the forward neighbour; on a PEC wall the node itself (zero difference)."""
    # int64 throughout: a prange index may be unsigned, and mixing it with int64 would give a float.
    ii = np.int64(i)
    nn = np.int64(n)
    o = ii + 1
    if o >= nn:
        o = np.int64(0) if periodic else ii
    return o


@njit(cache=True, fastmath=False)
def _prev(i, n, periodic):  # noqa: ANN001, ANN202
    """Index of the backward neighbour; on a PEC wall the node itself (the value there is zeroed)."""
    ii = np.int64(i)
    nn = np.int64(n)
    o = ii - 1
    if o < 0:
        o = nn - 1 if periodic else ii
    return o


@njit(cache=True, fastmath=False)
def _slab_row(r, half, shift):  # noqa: ANN001, ANN202
    """Grid index of compact ψ row ``r`` (low slab rows first, then the high slab)."""
    g = np.int64(r)
    if g >= half:
        g = g + shift
    return g


@njit(cache=True, fastmath=False, inline="always")
def _cell(src_b, src_c, dst_b, dst_c, coef, psi, ia, ib, ic, oa, ob, oc, pa, pb, pc, kv, bv, cv, forward, sign):  # noqa: ANN001, ANN202, PLR0913
    """CPML correction at one cell: ``(ia, ib, ic)`` the cell, ``(oa, ob, oc)`` its neighbour, ``(pa, pb, pc)`` its ψ slot."""
    if forward:
        d0 = src_b[oa, ob, oc] - src_b[ia, ib, ic]
        d1 = src_c[oa, ob, oc] - src_c[ia, ib, ic]
    else:
        d0 = src_b[ia, ib, ic] - src_b[oa, ob, oc]
        d1 = src_c[ia, ib, ic] - src_c[oa, ob, oc]
    p0 = bv * psi[0, pa, pb, pc] + cv * d0
    p1 = bv * psi[1, pa, pb, pc] + cv * d1
    psi[0, pa, pb, pc] = p0
    psi[1, pa, pb, pc] = p1
    w = sign * coef[ia, ib, ic]
    dst_c[ia, ib, ic] += w * (kv * d0 + p0)
    dst_b[ia, ib, ic] -= w * (kv * d1 + p1)


@njit(cache=True, fastmath=False, inline="always")
def _h_cell(ex, ey, ez, hx, hy, hz, ch, i, j, k, ip, jp, kp):  # noqa: ANN001, ANN202, PLR0913
    c = ch[i, j, k]
    exc, eyc, ezc = ex[i, j, k], ey[i, j, k], ez[i, j, k]
    hx[i, j, k] -= c * ((ez[i, jp, k] - ezc) - (ey[i, j, kp] - eyc))
    hy[i, j, k] -= c * ((ex[i, j, kp] - exc) - (ez[ip, j, k] - ezc))
    hz[i, j, k] -= c * ((ey[ip, j, k] - eyc) - (ex[i, jp, k] - exc))


@njit(cache=True, fastmath=False, inline="always")
def _e_cell(ex, ey, ez, hx, hy, hz, ca, cb, i, j, k, im, jm, km):  # noqa: ANN001, ANN202, PLR0913
    a = ca[i, j, k]
    b = cb[i, j, k]
    hxc, hyc, hzc = hx[i, j, k], hy[i, j, k], hz[i, j, k]
    ex[i, j, k] = a * ex[i, j, k] + b * ((hzc - hz[i, jm, k]) - (hyc - hy[i, j, km]))
    ey[i, j, k] = a * ey[i, j, k] + b * ((hxc - hx[i, j, km]) - (hzc - hz[im, j, k]))
    ez[i, j, k] = a * ez[i, j, k] + b * ((hyc - hy[im, j, k]) - (hxc - hx[i, jm, k]))


@njit(cache=True, fastmath=False, parallel=True)
def _bulk_h(ex, ey, ez, hx, hy, hz, ch, perx, pery, perz, kz, bz, cz, pz, has_pz):  # noqa: ANN001, ANN202, PLR0913
    nx, ny, nz = ex.shape
    last_k = _next(nz - 1, nz, perz)
    rows = pz.shape[3]
    half = rows // 2
    shift = np.int64(nz - rows)
    for p in prange(nx):
        i = np.int64(p)
        ip = _next(i, nx, perx)
        for j in range(ny):
            jp = _next(j, ny, pery)
            # The inner loop has no boundary test (so it vectorises); the last node follows.
            for k in range(nz - 1):
                _h_cell(ex, ey, ez, hx, hy, hz, ch, i, j, k, ip, jp, k + 1)
            _h_cell(ex, ey, ez, hx, hy, hz, ch, i, j, nz - 1, ip, jp, last_k)
            if has_pz:
                # The z-slab CPML correction of this row while it is in cache (z: b = x, c = y).
                for r in range(rows):
                    g = _slab_row(r, half, shift)
                    o = _next(g, nz, perz)
                    _cell(ex, ey, hx, hy, ch, pz, i, j, g, i, j, o, i, j, r, kz[g] - 1, bz[g], cz[g], True, -1.0)


@njit(cache=True, fastmath=False, parallel=True)
def _bulk_e(ex, ey, ez, hx, hy, hz, ca, cb, perx, pery, perz, kz, bz, cz, pz, has_pz):  # noqa: ANN001, ANN202, PLR0913
    nx, ny, nz = ex.shape
    first_k = _prev(0, nz, perz)
    rows = pz.shape[3]
    half = rows // 2
    shift = np.int64(nz - rows)
    for p in prange(nx):
        i = np.int64(p)
        im = _prev(i, nx, perx)
        for j in range(ny):
            jm = _prev(j, ny, pery)
            _e_cell(ex, ey, ez, hx, hy, hz, ca, cb, i, j, 0, im, jm, first_k)
            for k in range(1, nz):
                _e_cell(ex, ey, ez, hx, hy, hz, ca, cb, i, j, k, im, jm, k - 1)
            if has_pz:
                for r in range(rows):
                    g = _slab_row(r, half, shift)
                    o = _prev(g, nz, perz)
                    _cell(hx, hy, ex, ey, cb, pz, i, j, g, i, j, o, i, j, r, kz[g] - 1, bz[g], cz[g], False, 1.0)


@njit(cache=True, fastmath=False, parallel=True)
def _slab_x(src_b, src_c, dst_b, dst_c, coef, kinv, b, c, psi, forward, periodic, sign):  # noqa: ANN001, ANN202, PLR0913
    nx, ny, nz = src_b.shape
    rows = psi.shape[1]
    half = rows // 2
    shift = np.int64(nx - rows)
    for r in prange(rows):
        g = _slab_row(r, half, shift)
        o = _next(g, nx, periodic) if forward else _prev(g, nx, periodic)
        kv, bv, cv = kinv[g] - 1, b[g], c[g]
        for j in range(ny):
            for k in range(nz):
                _cell(src_b, src_c, dst_b, dst_c, coef, psi, g, j, k, o, j, k, r, j, k, kv, bv, cv, forward, sign)


@njit(cache=True, fastmath=False, parallel=True)
def _slab_y(src_b, src_c, dst_b, dst_c, coef, kinv, b, c, psi, forward, periodic, sign):  # noqa: ANN001, ANN202, PLR0913
    nx, ny, nz = src_b.shape
    rows = psi.shape[2]
    half = rows // 2
    shift = np.int64(ny - rows)
    for i in prange(nx):
        for r in range(rows):
            g = _slab_row(r, half, shift)
            o = _next(g, ny, periodic) if forward else _prev(g, ny, periodic)
            kv, bv, cv = kinv[g] - 1, b[g], c[g]
            for k in range(nz):
                _cell(src_b, src_c, dst_b, dst_c, coef, psi, i, g, k, i, o, k, i, r, k, kv, bv, cv, forward, sign)


_SLABS = (_slab_x, _slab_y)


def _zero_walls(e: tuple[np.ndarray, np.ndarray, np.ndarray], periodic: tuple[bool, bool, bool]) -> None:
    for comp, f in enumerate(e):
        for axis in range(3):
            if periodic[axis]:
                continue
            idx: list[Any] = [slice(None)] * 3
            idx[axis] = -1
            f[tuple(idx)] = 0
            if axis != comp:
                idx[axis] = 0
                f[tuple(idx)] = 0


def fdtd3d_step(
    ex: np.ndarray,
    ey: np.ndarray,
    ez: np.ndarray,
    hx: np.ndarray,
    hy: np.ndarray,
    hz: np.ndarray,
    ca: np.ndarray,
    cb: np.ndarray,
    ch: np.ndarray,
    profiles: tuple[tuple[np.ndarray, ...], ...],
    psi_e: tuple[Any, Any, Any],
    psi_h: tuple[Any, Any, Any],
    periodic: tuple[bool, bool, bool],
) -> None:
    """One in-place Yee step with CPML (see ``hyperion.physics.update`` for the contract)."""
    shape = ex.shape
    ca, cb, ch = (np.ascontiguousarray(np.broadcast_to(c, shape)) if c.shape != shape else c for c in (ca, cb, ch))
    per = tuple(bool(p) for p in periodic)
    e, h = (ex, ey, ez), (hx, hy, hz)
    z = profiles[2]
    dummy = np.zeros((2, 1, 1, 1), dtype=ex.dtype)
    pzh = psi_h[2] if psi_h[2] is not None else dummy
    pze = psi_e[2] if psi_e[2] is not None else dummy
    _bulk_h(ex, ey, ez, hx, hy, hz, ch, *per, z[3], z[4], z[5], pzh, psi_h[2] is not None)
    for a in range(2):
        if psi_h[a] is not None:
            b_, c_ = (a + 1) % 3, (a + 2) % 3
            kinv, bb, cc = profiles[a][3], profiles[a][4], profiles[a][5]
            # H_c −= ch·D_a E_b ; H_b += ch·D_a E_c  →  dst_c += (−ch)·(…), dst_b −= (−ch)·(…)
            _SLABS[a](e[b_], e[c_], h[b_], h[c_], ch, kinv, bb, cc, psi_h[a], True, per[a], -1.0)
    _bulk_e(ex, ey, ez, hx, hy, hz, ca, cb, *per, z[0], z[1], z[2], pze, psi_e[2] is not None)
    for a in range(2):
        if psi_e[a] is not None:
            b_, c_ = (a + 1) % 3, (a + 2) % 3
            kinv, bb, cc = profiles[a][0], profiles[a][1], profiles[a][2]
            # E_c += cb·D_a H_b ; E_b −= cb·D_a H_c
            _SLABS[a](h[b_], h[c_], e[b_], e[c_], cb, kinv, bb, cc, psi_e[a], False, per[a], 1.0)
    _zero_walls(e, per)


KERNELS = {("physics.fdtd3d_step", "cpu"): fdtd3d_step}
