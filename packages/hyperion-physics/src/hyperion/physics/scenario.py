"""Simulations described in TOML: grid, materials as shapes, sources, monitors.

Example scenario (see the files shipped in ``hyperion/physics/scenarios/``)::

    steps = 300
    [grid]
    shape = [120, 100]       # cells
    dx = 1e-3                # metres
    boundary = "pml"
    pml_cells = 10
    [[materials]]
    shape = "sphere"         # or "box" (lower, upper in metres)
    centre = [0.07, 0.05]
    radius = 0.012
    eps = 4.0
    [[sources]]
    type = "point"           # or "plane" (axis, index)
    position = [30, 50]
    waveform = "modulated_gaussian"   # "gaussian", "cw"
    frequency = 1.5e10
    width_steps = 25
    [[monitors]]
    type = "probe"           # "snapshots", "dft", "flux"
    name = "p"
    position = [90, 50]
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import numpy as np

from hyperion.physics.grid import Grid
from hyperion.physics.materials import Materials, box_mask, sphere_mask
from hyperion.physics.monitors import DFTMonitor, FluxMonitor, Monitor, Probe, Snapshots
from hyperion.physics.simulation import Simulation
from hyperion.physics.sources import CW, Gaussian, ModulatedGaussian, PlaneSource, PointSource, Waveform

__all__ = ["ScenarioError", "load_scenario"]

_GRID_KEYS = {
    "shape",
    "dx",
    "courant",
    "boundary",
    "pml_cells",
    "pml_reflection",
    "pml_order",
    "pml_kappa_max",
    "pml_alpha_max",
    "mode",
    "dtype",
    "device",
}


class ScenarioError(ValueError):
    """A scenario file that cannot be run; the message names the offending entry."""


def _require(table: dict[str, Any], key: str, where: str) -> Any:
    if key not in table:
        raise ScenarioError(f"{where}: missing key {key!r}")
    return table[key]


def _waveform(src: dict[str, Any], grid: Grid, where: str) -> Waveform:
    kind = src.get("waveform", "gaussian")
    width = float(src.get("width_steps", 20)) * grid.dt
    if kind == "gaussian":
        return Gaussian(width=width)
    if kind == "modulated_gaussian":
        return ModulatedGaussian(float(_require(src, "frequency", where)), width)
    if kind == "cw":
        return CW(float(_require(src, "frequency", where)), ramp=float(src.get("ramp_periods", 3.0)))
    raise ScenarioError(f"{where}: unknown waveform {kind!r}; expected 'gaussian', 'modulated_gaussian' or 'cw'")


def _materials(entries: list[dict[str, Any]], grid: Grid) -> Materials:
    mats = Materials.vacuum(grid)
    for k, entry in enumerate(entries):
        where = f"materials[{k}]"
        shape = entry.get("shape", "box")
        if shape == "box":
            mask = box_mask(grid, tuple(entry.get("lower", ())), tuple(entry.get("upper", ())))
        elif shape == "sphere":
            mask = sphere_mask(grid, tuple(_require(entry, "centre", where)), float(_require(entry, "radius", where)))
        else:
            raise ScenarioError(f"{where}: unknown shape {shape!r}; expected 'box' or 'sphere'")
        for key in ("eps", "mu", "sigma"):
            if key in entry:
                getattr(mats, key)[mask] = float(entry[key])
    return mats


def _monitor(entry: dict[str, Any], k: int) -> Monitor:
    where = f"monitors[{k}]"
    kind = _require(entry, "type", where)
    name = str(entry.get("name", f"m{k}"))
    if kind == "probe":
        return Probe(name, tuple(_require(entry, "position", where)), entry.get("component", "ez"))
    if kind == "snapshots":
        return Snapshots(name, entry.get("component", "ez"), int(entry.get("every", 10)))
    if kind == "dft":
        region = entry.get("region")
        try:
            sl = None if region is None else tuple(slice(int(a), int(b)) for a, b in region)
        except (TypeError, ValueError):
            raise ScenarioError(f"{where}: region must be a list of [start, stop] pairs, got {region!r}") from None
        return DFTMonitor(
            name, tuple(float(f) for f in _require(entry, "frequencies", where)), entry.get("component", "ez"), sl
        )
    if kind == "flux":
        return FluxMonitor(
            name,
            int(_require(entry, "axis", where)),
            int(_require(entry, "index", where)),
            tuple(float(f) for f in _require(entry, "frequencies", where)),
        )
    raise ScenarioError(f"{where}: unknown monitor type {kind!r}; expected probe, snapshots, dft or flux")


def _check_memory(grid: Grid) -> None:
    """Refuse a grid whose arrays could not fit in this machine's memory, before allocating any."""
    cells = int(np.prod(grid.shape, dtype=np.int64))
    # Material maps (3, float64), update coefficients (3), six field components and the CPML's psi.
    needed = cells * (3 * 8 + 12 * grid.np_dtype.itemsize)
    try:
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows): nothing to compare with
        return
    if needed > available:
        raise ScenarioError(
            f"[grid]: shape {grid.shape} needs about {needed / 2**30:.1f} GiB, more than this machine's "
            f"{available / 2**30:.1f} GiB of memory"
        )


def _check_positions(grid: Grid, sources: list[Any], monitors: list[Monitor]) -> None:
    """Point sources, plane sources and probes inside the grid, checked now rather than at the first step."""
    for k, src in enumerate(sources):
        try:
            if isinstance(src, PointSource):
                src.index(grid.shape)
            elif not 0 <= src.index < grid.shape[src.axis]:
                raise IndexError(f"plane index {src.index} is outside axis {src.axis} of size {grid.shape[src.axis]}")
        except IndexError as exc:
            raise ScenarioError(f"sources[{k}]: {exc}") from None
    for k, monitor in enumerate(monitors):
        if isinstance(monitor, Probe):
            position = tuple(int(p) for p in monitor.position) + (0,) * (3 - len(monitor.position))
            if len(position) != 3 or any(not 0 <= p < n for p, n in zip(position, grid.shape, strict=True)):
                raise ScenarioError(f"monitors[{k}]: monitor position {monitor.position} is outside the grid {grid.shape}")


def load_scenario(path: str | Path) -> tuple[Simulation, int, dict[str, Any]]:
    """Build the simulation a TOML scenario describes.

    Returns:
        ``(simulation, steps, output_options)``.

    Raises:
        ScenarioError: for unreadable TOML or an invalid entry (the message names it).
    """
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    grid_table = _require(data, "grid", str(path))
    unknown = set(grid_table) - _GRID_KEYS
    if unknown:
        raise ScenarioError(f"[grid]: unknown keys {sorted(unknown)}")
    try:
        grid = Grid(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in grid_table.items()})
        _check_memory(grid)
        steps = int(_require(data, "steps", str(path)))
        if steps < 1:
            raise ScenarioError(f"steps must be >= 1, got {steps}")
        mats = _materials(data.get("materials", []), grid)
        sources: list[Any] = []
        for k, src in enumerate(data.get("sources", [])):
            where = f"sources[{k}]"
            wave = _waveform(src, grid, where)
            kind = src.get("type", "point")
            amp = float(src.get("amplitude", 1.0))
            comp = src.get("component", "ez" if grid.mode != "te" else "ey")
            if kind == "point":
                sources.append(
                    PointSource(tuple(_require(src, "position", where)), wave, comp, amp, src.get("kind", "soft"))
                )
            elif kind == "plane":
                sources.append(
                    PlaneSource(int(_require(src, "axis", where)), int(_require(src, "index", where)), wave, comp, amp)
                )
            else:
                raise ScenarioError(f"{where}: unknown source type {kind!r}; expected 'point' or 'plane'")
        monitors = [_monitor(m, k) for k, m in enumerate(data.get("monitors", []))]
        _check_positions(grid, sources, monitors)
        sim = Simulation(grid, mats, sources, monitors)
    except ScenarioError:
        raise
    except (TypeError, ValueError, IndexError) as exc:
        raise ScenarioError(f"{path}: {exc}") from None
    output = dict(data.get("output", {}))
    output.setdefault("gif_component", "ez" if grid.mode != "te" else "hz")
    output.setdefault("gif_every", max(1, steps // 60))
    return sim, steps, output


def field_frames(sim: Simulation, component: str, every: int, steps: int, progress: Any = None) -> list[np.ndarray]:
    """Run ``steps`` steps, keeping a 2-D slice of ``component`` every ``every`` steps (for the animation)."""
    frames = []
    for n in range(steps):
        sim.step()
        if (n + 1) % every == 0:
            f = sim.fields[component]
            if f is None:
                raise ScenarioError(f"output: this grid has no {component!r} component")
            host = f.get() if hasattr(f, "get") else np.asarray(f)
            frames.append(host[:, :, host.shape[2] // 2].copy())
        if progress is not None:
            progress(n + 1, steps)
    return frames
