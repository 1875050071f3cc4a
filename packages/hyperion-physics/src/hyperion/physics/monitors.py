"""Monitors: probes over time, snapshots every k steps, DFT monitors, Poynting flux.

Each monitor's ``record(sim)`` is called after every step; ``data()`` returns
NumPy arrays (host memory) for saving. After step ``n`` the ``E`` fields are at
time ``n·dt`` and the ``H`` fields at ``(n − ½)·dt``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hyperion.physics.sources import COMPONENTS

__all__ = ["DFTMonitor", "FluxMonitor", "Monitor", "Probe", "Snapshots"]


def _host(x: Any) -> np.ndarray:
    return x.get() if hasattr(x, "get") else np.asarray(x)


def _field(sim: Any, component: str) -> Any:
    if component not in COMPONENTS:
        raise ValueError(f"unknown field component {component!r}; expected one of {COMPONENTS}")
    f = sim.fields[component]
    if f is None:
        raise ValueError(f"this grid's mode ({sim.grid.mode!r}) has no {component!r} component")
    return f


def _check_component(component: str) -> None:
    if component not in COMPONENTS:
        raise ValueError(f"unknown field component {component!r}; expected one of {COMPONENTS}")


def _check_frequencies(frequencies: tuple[float, ...]) -> None:
    bad = [f for f in frequencies if not math.isfinite(f)]
    if bad:
        raise ValueError(f"monitor frequencies must be finite, got {bad}")


def _index(position: tuple[int, ...], shape: tuple[int, int, int]) -> tuple[int, int, int]:
    pos = tuple(int(p) for p in position) + (0,) * (3 - len(position))
    if any(not 0 <= p < n for p, n in zip(pos, shape, strict=True)):
        raise IndexError(f"monitor position {position} is outside the grid {shape}")
    return pos  # type: ignore[return-value]


class Monitor:
    """Base class: ``record`` after each step, ``data`` for saving."""

    name: str

    def record(self, sim: Any) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def data(self) -> dict[str, np.ndarray]:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass
class Probe(Monitor):
    """The value of one component at one cell, every step."""

    name: str
    position: tuple[int, ...]
    component: str = "ez"
    values: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_component(self.component)

    def record(self, sim: Any) -> None:
        f = _field(sim, self.component)
        self.values.append(float(f[_index(self.position, f.shape)]))
        self.times.append(sim.time_of(self.component))

    def data(self) -> dict[str, np.ndarray]:
        return {f"{self.name}.values": np.array(self.values), f"{self.name}.times": np.array(self.times)}


@dataclass
class Snapshots(Monitor):
    """A copy of the whole component every ``every`` steps."""

    name: str
    component: str = "ez"
    every: int = 10
    frames: list[np.ndarray] = field(default_factory=list)
    steps: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        _check_component(self.component)
        if self.every < 1:
            raise ValueError(f"snapshot interval must be >= 1, got {self.every!r}")

    def record(self, sim: Any) -> None:
        if sim.step_count % self.every == 0:
            self.frames.append(_host(_field(sim, self.component)).copy())
            self.steps.append(sim.step_count)

    def data(self) -> dict[str, np.ndarray]:
        frames = np.stack(self.frames) if self.frames else np.zeros((0,))
        return {f"{self.name}.frames": frames, f"{self.name}.steps": np.array(self.steps)}


@dataclass
class DFTMonitor(Monitor):
    """Running discrete Fourier transform ``Σ f(t)·exp(−iωt)·dt`` of a component over a region.

    ``region`` is a tuple of slices (default: the whole grid).
    """

    name: str
    frequencies: tuple[float, ...]
    component: str = "ez"
    region: tuple[slice, ...] | None = None
    accum: Any = None

    def __post_init__(self) -> None:
        _check_component(self.component)
        _check_frequencies(self.frequencies)

    def record(self, sim: Any) -> None:
        f = _field(sim, self.component)
        sub = f[self.region] if self.region is not None else f
        xp = sim.xp
        if self.accum is None:
            self.accum = xp.zeros((len(self.frequencies), *sub.shape), dtype=complex)
        t = sim.time_of(self.component)
        for k, freq in enumerate(self.frequencies):
            self.accum[k] += sub * (
                complex(math.cos(2 * math.pi * freq * t), -math.sin(2 * math.pi * freq * t)) * sim.grid.dt
            )

    def spectrum(self) -> np.ndarray:
        """The accumulated transforms, ``(n_freq, *region_shape)``."""
        return _host(self.accum)

    def data(self) -> dict[str, np.ndarray]:
        return {f"{self.name}.dft": self.spectrum(), f"{self.name}.frequencies": np.array(self.frequencies)}


@dataclass
class FluxMonitor(Monitor):
    """Frequency-domain Poynting flux through the plane ``index`` across ``axis`` (W per unit area units of V²/Ω).

    The tangential E on the plane and the tangential H averaged from the two
    neighbouring half-cells are Fourier transformed (H is corrected for its
    half-step time lag); the flux at each frequency is
    ``½·Re Σ (E × H*)·n̂ · dA`` with ``H = (η₀H)/η₀``.
    """

    name: str
    axis: int
    index: int
    frequencies: tuple[float, ...]
    accum: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.axis not in (0, 1, 2):
            raise ValueError(f"flux plane axis must be 0, 1 or 2, got {self.axis!r}")
        _check_frequencies(self.frequencies)

    def record(self, sim: Any) -> None:
        a = self.axis
        b, c = (a + 1) % 3, (a + 2) % 3
        names = (COMPONENTS[b], COMPONENTS[c], COMPONENTS[3 + b], COMPONENTS[3 + c])
        xp = sim.xp
        n = sim.grid.shape[a]
        if not 1 <= self.index < n:
            raise IndexError(f"flux plane index {self.index} must be in [1, {n}) along axis {a}")
        sl = [slice(None)] * 3
        sl[a] = self.index
        sl_m = list(sl)
        sl_m[a] = self.index - 1
        if self.accum is None:
            self.accum = {}
        for name in names:
            f = sim.fields[name]
            if f is None:
                continue
            if name.startswith("h"):
                value = 0.5 * (f[tuple(sl)] + f[tuple(sl_m)])
            else:
                value = f[tuple(sl)]
            t = sim.time_of(name)
            if name not in self.accum:
                self.accum[name] = xp.zeros((len(self.frequencies), *value.shape), dtype=complex)
            for k, freq in enumerate(self.frequencies):
                w = 2 * math.pi * freq
                self.accum[name][k] += value * (complex(math.cos(w * t), -math.sin(w * t)) * sim.grid.dt)

    def flux(self, eta0: float | None = None) -> np.ndarray:
        """The net flux along ``+axis`` at each frequency (per unit length² in 2-D/1-D)."""
        from hyperion.physics.constants import ETA0

        eta = ETA0 if eta0 is None else eta0
        a = self.axis
        b, c = (a + 1) % 3, (a + 2) % 3
        acc = {k: _host(v) for k, v in (self.accum or {}).items()}
        zero = 0.0
        eb, ec = acc.get(COMPONENTS[b], zero), acc.get(COMPONENTS[c], zero)
        hb, hc = acc.get(COMPONENTS[3 + b], zero), acc.get(COMPONENTS[3 + c], zero)
        s = 0.5 * np.real(eb * np.conj(hc) - ec * np.conj(hb)) / eta
        if np.ndim(s) == 0:
            return np.zeros(len(self.frequencies))
        return s.reshape(len(self.frequencies), -1).sum(axis=1)

    def data(self) -> dict[str, np.ndarray]:
        return {f"{self.name}.flux": self.flux(), f"{self.name}.frequencies": np.array(self.frequencies)}
