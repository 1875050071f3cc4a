"""The Yee update (``physics.fdtd3d_step``) on the GPU: one thread per cell, two launches.

The contract is hyperion-physics' (``hyperion.physics.update``): in place,
``H -= ch * curl+ E`` then ``E = ca * E + cb * curl- H``, every derivative along
an absorbing axis stretched to ``D / kappa + psi`` with ``psi <- b * psi + c * D``
inside the CPML slabs, tangential ``E`` zeroed on PEC walls, axes of length 1
skipped.

Partitioning: the H update reads only E and writes only H, the E update the
reverse, so each is one launch in which a thread owns one cell: its H (or E)
components and its entries of the psi arrays. No two threads write the same
word, so there are no atomics, and the launch boundary between the two
updates is the only synchronisation needed. Each thread computes its flat cell
index from the grid and unflattens it with ``z`` fastest, so the 32 lanes of a
warp touch 32 consecutive ``z`` cells: every field read, including the
``z``-neighbour reads, is coalesced (the ``x``/``y`` neighbours are one row or
plane away, still contiguous across the warp).

Divergence: the CPML branch is taken only by threads in the slabs, and the
wall test only on the faces; inside the bulk the whole warp takes the same
path. The axis and periodicity flags are the same for every thread.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import cuda

from hyperion.kernels.cuda.device import array_module, ceil_div, check_float

THREADS = 128


@cuda.jit(device=True)
def forward_difference(f, i, j, k, axis, n, periodic):
    """``f[next] - f[here]`` along ``axis``; past the last node: wrap, or 0 on a PEC wall."""
    if axis == 0:
        if i + 1 < n:
            return f[i + 1, j, k] - f[i, j, k] + 0.0
        return f[0, j, k] - f[i, j, k] + 0.0 if periodic else 0.0
    if axis == 1:
        if j + 1 < n:
            return f[i, j + 1, k] - f[i, j, k] + 0.0
        return f[i, 0, k] - f[i, j, k] + 0.0 if periodic else 0.0
    if k + 1 < n:
        return f[i, j, k + 1] - f[i, j, k] + 0.0
    return f[i, j, 0] - f[i, j, k] + 0.0 if periodic else 0.0


@cuda.jit(device=True)
def backward_difference(f, i, j, k, axis, n, periodic):
    """``f[here] - f[previous]``; before the first node: wrap, or take ``f[-1] = 0``."""
    if axis == 0:
        if i > 0:
            return f[i, j, k] - f[i - 1, j, k] + 0.0
        return f[i, j, k] - f[n - 1, j, k] + 0.0 if periodic else f[i, j, k] + 0.0
    if axis == 1:
        if j > 0:
            return f[i, j, k] - f[i, j - 1, k] + 0.0
        return f[i, j, k] - f[i, n - 1, k] + 0.0 if periodic else f[i, j, k] + 0.0
    if k > 0:
        return f[i, j, k] - f[i, j, k - 1] + 0.0
    return f[i, j, k] - f[i, j, n - 1] + 0.0 if periodic else f[i, j, k] + 0.0


@cuda.jit(device=True)
def stretch(d, psi, term, has_psi, profile, axis, row, i, j, k, n):
    """CPML: advance this cell's ``psi[term]`` and return ``d / kappa + psi`` (``d`` outside the slabs).

    ``profile[axis, row:row + 3, pos]`` is ``(1/kappa, b, c)`` at axis position ``pos``.
    """
    if not has_psi:
        return d
    pos = i if axis == 0 else (j if axis == 1 else k)
    half = psi.shape[axis + 1] // 2
    if pos < half:
        p = pos
    elif pos >= n - half:
        p = pos - n + 2 * half
    else:
        return d
    kinv = profile[axis, row, pos]
    b = profile[axis, row + 1, pos]
    c = profile[axis, row + 2, pos]
    if axis == 0:
        new = b * psi[term, p, j, k] + c * d
        psi[term, p, j, k] = new
    elif axis == 1:
        new = b * psi[term, i, p, k] + c * d
        psi[term, i, p, k] = new
    else:
        new = b * psi[term, i, j, p] + c * d
        psi[term, i, j, p] = new
    return d * kinv + new


@cuda.jit
def fdtd_h_kernel(ex, ey, ez, hx, hy, hz, ch, profile, psi_x, psi_y, psi_z, flags):
    """``H -= ch * curl+ E`` for the cell of this thread; ``flags`` = periodic[3], has psi_h[3]."""
    nx, ny, nz = ex.shape
    cell = cuda.grid(1)
    if cell >= nx * ny * nz:
        return
    i = cell // (ny * nz)
    j = (cell // nz) % ny
    k = cell % nz
    c = ch[i, j, k]
    vx = hx[i, j, k] + 0.0
    vy = hy[i, j, k] + 0.0
    vz = hz[i, j, k] + 0.0
    if nx > 1:  # axis x: b = y, c = z
        vz -= c * stretch(
            forward_difference(ey, i, j, k, 0, nx, flags[0]), psi_x, 0, flags[3], profile, 0, 3, i, j, k, nx
        )
        vy += c * stretch(
            forward_difference(ez, i, j, k, 0, nx, flags[0]), psi_x, 1, flags[3], profile, 0, 3, i, j, k, nx
        )
    if ny > 1:  # axis y: b = z, c = x
        vx -= c * stretch(
            forward_difference(ez, i, j, k, 1, ny, flags[1]), psi_y, 0, flags[4], profile, 1, 3, i, j, k, ny
        )
        vz += c * stretch(
            forward_difference(ex, i, j, k, 1, ny, flags[1]), psi_y, 1, flags[4], profile, 1, 3, i, j, k, ny
        )
    if nz > 1:  # axis z: b = x, c = y
        vy -= c * stretch(
            forward_difference(ex, i, j, k, 2, nz, flags[2]), psi_z, 0, flags[5], profile, 2, 3, i, j, k, nz
        )
        vx += c * stretch(
            forward_difference(ey, i, j, k, 2, nz, flags[2]), psi_z, 1, flags[5], profile, 2, 3, i, j, k, nz
        )
    hx[i, j, k] = vx
    hy[i, j, k] = vy
    hz[i, j, k] = vz


@cuda.jit
def fdtd_e_kernel(ex, ey, ez, hx, hy, hz, ca, cb, profile, psi_x, psi_y, psi_z, flags):
    """``E = ca * E + cb * curl- H`` for this thread's cell, then the PEC walls; ``flags`` as above, psi_e."""
    nx, ny, nz = ex.shape
    cell = cuda.grid(1)
    if cell >= nx * ny * nz:
        return
    i = cell // (ny * nz)
    j = (cell // nz) % ny
    k = cell % nz
    a = ca[i, j, k]
    c = cb[i, j, k]
    vx = a * ex[i, j, k]
    vy = a * ey[i, j, k]
    vz = a * ez[i, j, k]
    if nx > 1:
        vz += c * stretch(
            backward_difference(hy, i, j, k, 0, nx, flags[0]), psi_x, 0, flags[3], profile, 0, 0, i, j, k, nx
        )
        vy -= c * stretch(
            backward_difference(hz, i, j, k, 0, nx, flags[0]), psi_x, 1, flags[3], profile, 0, 0, i, j, k, nx
        )
    if ny > 1:
        vx += c * stretch(
            backward_difference(hz, i, j, k, 1, ny, flags[1]), psi_y, 0, flags[4], profile, 1, 0, i, j, k, ny
        )
        vz -= c * stretch(
            backward_difference(hx, i, j, k, 1, ny, flags[1]), psi_y, 1, flags[4], profile, 1, 0, i, j, k, ny
        )
    if nz > 1:
        vy += c * stretch(
            backward_difference(hx, i, j, k, 2, nz, flags[2]), psi_z, 0, flags[5], profile, 2, 0, i, j, k, nz
        )
        vx -= c * stretch(
            backward_difference(hy, i, j, k, 2, nz, flags[2]), psi_z, 1, flags[5], profile, 2, 0, i, j, k, nz
        )
    # PEC walls: on a non-periodic axis, every component is 0 on the last node,
    # and the components tangential to the axis also on the first node.
    if not flags[0]:
        if i == nx - 1:
            vx, vy, vz = 0.0, 0.0, 0.0
        elif i == 0:
            vy, vz = 0.0, 0.0
    if not flags[1]:
        if j == ny - 1:
            vx, vy, vz = 0.0, 0.0, 0.0
        elif j == 0:
            vx, vz = 0.0, 0.0
    if not flags[2]:
        if k == nz - 1:
            vx, vy, vz = 0.0, 0.0, 0.0
        elif k == 0:
            vx, vy = 0.0, 0.0
    ex[i, j, k] = vx
    ey[i, j, k] = vy
    ez[i, j, k] = vz


def _full(xp: Any, coef: Any, shape: tuple[int, ...], dtype: np.dtype) -> Any:
    """``coef`` as a writable C-contiguous array of the field shape (a broadcast view is filled in)."""
    coef = xp.asarray(coef, dtype=dtype)
    if tuple(coef.shape) == shape and coef.flags.c_contiguous and getattr(coef.flags, "writeable", True):
        return coef
    full = xp.empty(shape, dtype=dtype)
    full[...] = coef
    return full


def _pack_profiles(xp: Any, profiles: Any, shape: tuple[int, int, int], dtype: np.dtype) -> Any:
    """``(3, 6, max(n))``: per axis the rows ``kinv_e, b_e, c_e, kinv_h, b_h, c_h``."""
    packed = xp.zeros((3, 6, max(shape)), dtype=dtype)
    for axis, prof in enumerate(profiles):
        if prof is None:
            continue
        for row in range(6):
            if prof[row] is not None:
                packed[axis, row, : shape[axis]] = xp.asarray(prof[row], dtype=dtype)
    return packed


def fdtd3d_step(
    ex: Any, ey: Any, ez: Any, hx: Any, hy: Any, hz: Any,
    ca: Any, cb: Any, ch: Any,
    profiles: tuple[tuple[Any, ...], ...],
    psi_e: tuple[Any, Any, Any], psi_h: tuple[Any, Any, Any], periodic: tuple[bool, bool, bool],
) -> None:  # fmt: skip
    """One in-place Yee step with CPML on the GPU (contract: ``hyperion.physics.update``).

    The six field arrays and the psi arrays must be C-contiguous (they are
    updated in place); ``ca``/``cb``/``ch`` may be anything that broadcasts to
    the field shape.

    Raises:
        ValueError: for a non-contiguous field or psi array, or mismatched shapes.
    """
    fields = (ex, ey, ez, hx, hy, hz)
    dtype = check_float("ex", ex)
    for name, f in zip(("ex", "ey", "ez", "hx", "hy", "hz"), fields):
        check_float(name, f, dtype)
        if f.shape != ex.shape or f.ndim != 3:
            raise ValueError(f"{name} has shape {tuple(f.shape)}, expected the 3-D field shape {tuple(ex.shape)}")
        if not f.flags.c_contiguous:
            raise ValueError(f"{name} must be C-contiguous: it is updated in place")
    for name, psi in (("psi_e", psi_e), ("psi_h", psi_h)):
        for axis, p in enumerate(psi):
            if p is not None and not p.flags.c_contiguous:
                raise ValueError(f"{name}[{axis}] must be C-contiguous: it is updated in place")
    xp = array_module(*fields)
    shape = tuple(int(s) for s in ex.shape)
    ca, cb, ch = (_full(xp, c, shape, dtype) for c in (ca, cb, ch))
    profile = _pack_profiles(xp, profiles, shape, dtype)
    absent = xp.zeros((2, 1, 1, 1), dtype=dtype)
    flags = xp.asarray(
        [bool(p) for p in periodic] + [p is not None for p in psi_h] + [p is not None for p in psi_e], dtype=np.int32
    )
    flags_e = xp.concatenate([flags[:3], flags[6:]])
    cells = shape[0] * shape[1] * shape[2]
    if cells == 0:
        return
    grid = ceil_div(cells, THREADS)
    fdtd_h_kernel[grid, THREADS](
        ex, ey, ez, hx, hy, hz, ch, profile, *(absent if p is None else p for p in psi_h), flags
    )
    fdtd_e_kernel[grid, THREADS](
        ex, ey, ez, hx, hy, hz, ca, cb, profile, *(absent if p is None else p for p in psi_e), flags_e
    )


KERNELS = {("physics.fdtd3d_step", "cuda"): fdtd3d_step}
