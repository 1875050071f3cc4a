"""The Yee time step on raw arrays: the registry op ``physics.fdtd3d_step`` and its reference.

One step updates, in place::

    H  ←  H − ch · curl⁺E                  (forward differences, half-integer nodes)
    E  ←  ca · E + cb · curl⁻H              (backward differences, integer nodes)

where every derivative along an absorbing axis is the CPML-stretched one
``D/κ + ψ`` (see :mod:`hyperion.physics.cpml`), ``ch = S/μ_r``,
``ca = (ε_r − σ')/(ε_r + σ')`` and ``cb = S/(ε_r + σ')`` with ``σ' = σ·dt/(2ε₀)``.
Tangential ``E`` is held at zero on PEC walls. The curl is written axis by
axis: for axis ``a`` with ``b = a+1``, ``c = a+2`` (mod 3)::

    H_c −= ch · D_a E_b     H_b += ch · D_a E_c
    E_c += cb · D_a H_b     E_b −= cb · D_a H_c

ψ term 0 of axis ``a`` belongs to the ``c`` component, term 1 to ``b``.

Signature (all arrays of one dtype, fields ``(nx, ny, nz)``; a missing
component is ``None`` for the reference, kernels need all six)::

    fdtd3d_step(ex, ey, ez, hx, hy, hz, ca, cb, ch, profiles, psi_e, psi_h, periodic) -> None

``profiles`` is three 7-tuples ``(kinv_e, b_e, c_e, kinv_h, b_h, c_h, index)``,
``psi_e``/``psi_h`` three arrays ``(2, …)`` (or ``None`` without CPML on that
axis) and ``periodic`` three bools.
"""

from __future__ import annotations

from typing import Any

from hyperion.tensor import registry

__all__ = ["OP", "fdtd3d_step_reference", "step"]

OP = "physics.fdtd3d_step"


def _axis_slice(axis: int, s: slice) -> tuple[slice, ...]:
    out = [slice(None)] * 3
    out[axis] = s
    return tuple(out)


def _along(v: Any, axis: int) -> Any:
    shape = [1, 1, 1]
    shape[axis] = v.shape[0]
    return v.reshape(shape)


def forward_difference(f: Any, axis: int, periodic: bool, out: Any) -> Any:
    """``out[i] = f[i+1] − f[i]`` along ``axis``; the last entry wraps (periodic) or is 0 (PEC)."""
    n = f.shape[axis]
    lo, hi, last = (
        _axis_slice(axis, slice(0, n - 1)),
        _axis_slice(axis, slice(1, n)),
        _axis_slice(axis, slice(n - 1, n)),
    )
    out[lo] = f[hi]
    out[lo] -= f[lo]
    if periodic:
        out[last] = f[_axis_slice(axis, slice(0, 1))]
        out[last] -= f[last]
    else:
        out[last] = 0
    return out


def backward_difference(f: Any, axis: int, periodic: bool, out: Any) -> Any:
    """``out[i] = f[i] − f[i−1]`` along ``axis``; the first entry wraps (periodic) or takes ``f[−1] = 0``."""
    n = f.shape[axis]
    lo, hi, first = _axis_slice(axis, slice(0, n - 1)), _axis_slice(axis, slice(1, n)), _axis_slice(axis, slice(0, 1))
    out[hi] = f[hi]
    out[hi] -= f[lo]
    out[first] = f[first]
    if periodic:
        out[first] -= f[_axis_slice(axis, slice(n - 1, n))]
    return out


def stretch(d: Any, axis: int, kinv: Any, b: Any, c: Any, psi: Any) -> None:
    """Turn the raw difference ``d`` into ``d/κ + ψ`` in the slabs, updating ``ψ ← b·ψ + c·d`` first."""
    if psi is None:
        return
    rows = psi.shape[axis]
    half = rows // 2
    n = d.shape[axis]
    for grid_part, psi_part in ((slice(0, half), slice(0, half)), (slice(n - half, n), slice(half, rows))):
        sl = _axis_slice(axis, grid_part)
        ps = _axis_slice(axis, psi_part)
        dd = d[sl]
        p = psi[ps]
        p *= _along(b[grid_part], axis)
        p += _along(c[grid_part], axis) * dd
        dd *= _along(kinv[grid_part], axis)
        dd += p


def zero_pec_walls(e: tuple[Any, Any, Any], periodic: tuple[bool, bool, bool]) -> None:
    """Hold tangential E at zero on every PEC wall (and the unused normal component past the last node)."""
    for comp, f in enumerate(e):
        if f is None:
            continue
        for axis in range(3):
            if periodic[axis]:
                continue
            n = f.shape[axis]
            f[_axis_slice(axis, slice(n - 1, n))] = 0
            if axis != comp:
                f[_axis_slice(axis, slice(0, 1))] = 0


def fdtd3d_step_reference(
    ex: Any,
    ey: Any,
    ez: Any,
    hx: Any,
    hy: Any,
    hz: Any,
    ca: Any,
    cb: Any,
    ch: Any,
    profiles: tuple[tuple[Any, ...], ...],
    psi_e: tuple[Any, Any, Any],
    psi_h: tuple[Any, Any, Any],
    periodic: tuple[bool, bool, bool],
) -> None:
    """One in-place Yee step with CPML (NumPy or CuPy arrays); see the module docstring."""
    e = (ex, ey, ez)
    h = (hx, hy, hz)
    like = next(f for f in e + h if f is not None)
    d = like.copy()  # the one full-size scratch array of the step
    # H ← H − ch·curl⁺E
    for a in range(3):
        if like.shape[a] == 1:
            continue  # no variation along a collapsed axis
        b_, c_ = (a + 1) % 3, (a + 2) % 3
        kinv, bb, cc = profiles[a][3], profiles[a][4], profiles[a][5]
        psi = psi_h[a]
        for term, (target, source, sign) in enumerate(((h[c_], e[b_], -1.0), (h[b_], e[c_], 1.0))):
            if target is None or source is None:
                continue
            forward_difference(source, a, periodic[a], d)
            stretch(d, a, kinv, bb, cc, None if psi is None else psi[term])
            d *= ch
            if sign > 0:
                target += d
            else:
                target -= d
    # E ← ca·E + cb·curl⁻H
    for f in e:
        if f is not None:
            f *= ca
    for a in range(3):
        if like.shape[a] == 1:
            continue
        b_, c_ = (a + 1) % 3, (a + 2) % 3
        kinv, bb, cc = profiles[a][0], profiles[a][1], profiles[a][2]
        psi = psi_e[a]
        for term, (target, source, sign) in enumerate(((e[c_], h[b_], 1.0), (e[b_], h[c_], -1.0))):
            if target is None or source is None:
                continue
            backward_difference(source, a, periodic[a], d)
            stretch(d, a, kinv, bb, cc, None if psi is None else psi[term])
            d *= cb
            if sign > 0:
                target += d
            else:
                target -= d
    zero_pec_walls(e, periodic)


registry.register_reference(OP, fdtd3d_step_reference)


def step(device: str, *args: Any) -> None:
    """Run one step with the best registered implementation of ``physics.fdtd3d_step`` for ``device``.

    Providers (hyperion-kernels) get the call only when all six components are present.
    """
    if any(a is None for a in args[:6]):
        fdtd3d_step_reference(*args)
        return
    registry.lookup(OP, device)(*args)
