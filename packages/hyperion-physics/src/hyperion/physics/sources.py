"""Waveforms and sources.

A source adds (soft) or assigns (hard) ``amplitude · waveform(t)`` to an
``E`` component after each step, at a point or on a whole plane (a plane-wave
line/plane source in 2-D/3-D, a point in 1-D).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["COMPONENTS", "CW", "Gaussian", "ModulatedGaussian", "PlaneSource", "PointSource", "Waveform"]

COMPONENTS = ("ex", "ey", "ez", "hx", "hy", "hz")


class Waveform:
    """A function of time (seconds) -> float."""

    def _check_positive(self, **values: float) -> None:
        for name, value in values.items():
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise ValueError(f"{type(self).__name__}: {name} must be a finite number > 0, got {value!r}")

    def __call__(self, t: float) -> float:  # pragma: no cover - interface
        raise NotImplementedError

    def samples(self, times: np.ndarray) -> np.ndarray:
        """The waveform at many times."""
        return np.array([self(float(t)) for t in times])


@dataclass(frozen=True)
class Gaussian(Waveform):
    """``exp(−((t − delay)/width)²)``; ``delay`` defaults to ``4·width``."""

    width: float
    delay: float | None = None

    def __post_init__(self) -> None:
        self._check_positive(width=self.width)

    def __call__(self, t: float) -> float:
        t0 = 4.0 * self.width if self.delay is None else self.delay
        return math.exp(-(((t - t0) / self.width) ** 2))


@dataclass(frozen=True)
class ModulatedGaussian(Waveform):
    """``sin(2π f (t − delay)) · exp(−((t − delay)/width)²)``."""

    frequency: float
    width: float
    delay: float | None = None

    def __post_init__(self) -> None:
        self._check_positive(frequency=self.frequency, width=self.width)

    def __call__(self, t: float) -> float:
        t0 = 4.0 * self.width if self.delay is None else self.delay
        return math.sin(2 * math.pi * self.frequency * (t - t0)) * math.exp(-(((t - t0) / self.width) ** 2))


@dataclass(frozen=True)
class CW(Waveform):
    """``sin(2π f t)`` switched on smoothly over ``ramp`` periods."""

    frequency: float
    ramp: float = 3.0

    def __post_init__(self) -> None:
        self._check_positive(frequency=self.frequency)
        if not (math.isfinite(self.ramp) and self.ramp >= 0):
            raise ValueError(f"CW: ramp must be a finite number >= 0, got {self.ramp!r}")

    def __call__(self, t: float) -> float:
        periods = self.frequency * t
        envelope = 1.0 if periods >= self.ramp else math.sin(0.5 * math.pi * periods / self.ramp) ** 2
        return envelope * math.sin(2 * math.pi * self.frequency * t)


def _component(name: str) -> int:
    if name not in COMPONENTS[:3]:
        raise ValueError(f"sources drive an E component ('ex', 'ey', 'ez'), got {name!r}")
    return COMPONENTS.index(name)


@dataclass(frozen=True)
class PointSource:
    """A point source at cell ``position`` (1 to 3 ints) on ``component``.

    ``kind="soft"`` adds the waveform (the source is transparent to passing
    waves); ``kind="hard"`` assigns it (a reflecting point).
    """

    position: tuple[int, ...]
    waveform: Waveform
    component: str = "ez"
    amplitude: float = 1.0
    kind: str = "soft"

    def __post_init__(self) -> None:
        _component(self.component)
        if self.kind not in ("soft", "hard"):
            raise ValueError(f"source kind must be 'soft' or 'hard', got {self.kind!r}")

    def index(self, shape: tuple[int, int, int]) -> tuple[int, int, int]:
        """The 3-D index of the source, checked against the grid shape."""
        pos = tuple(int(p) for p in self.position) + (0,) * (3 - len(self.position))
        if len(pos) != 3 or any(not 0 <= p < n for p, n in zip(pos, shape, strict=True)):
            raise IndexError(f"source position {self.position} is outside the grid {shape}")
        return pos  # type: ignore[return-value]

    def apply(self, e: tuple[Any, Any, Any], t: float) -> None:
        """Inject the source at time ``t`` into the E arrays."""
        field = e[_component(self.component)]
        if field is None:
            raise ValueError(f"this grid's mode has no {self.component!r} component")
        idx = self.index(field.shape)
        value = self.amplitude * self.waveform(t)
        if self.kind == "soft":
            field[idx] += value
        else:
            field[idx] = value


@dataclass(frozen=True)
class PlaneSource:
    """A soft source on the whole plane ``index`` across ``axis`` (a plane wave launched both ways)."""

    axis: int
    index: int
    waveform: Waveform
    component: str = "ez"
    amplitude: float = 1.0

    def __post_init__(self) -> None:
        comp = _component(self.component)
        if self.axis not in (0, 1, 2):
            raise ValueError(f"plane source axis must be 0, 1 or 2, got {self.axis!r}")
        if comp == self.axis:
            raise ValueError(
                f"a plane wave along axis {self.axis} cannot drive the normal component {self.component!r}"
            )

    def apply(self, e: tuple[Any, Any, Any], t: float) -> None:
        """Inject the source at time ``t`` into the E arrays."""
        field = e[_component(self.component)]
        if field is None:
            raise ValueError(f"this grid's mode has no {self.component!r} component")
        if not 0 <= self.index < field.shape[self.axis]:
            raise IndexError(f"plane index {self.index} is outside axis {self.axis} of size {field.shape[self.axis]}")
        sl = [slice(None)] * 3
        sl[self.axis] = self.index
        field[tuple(sl)] += self.amplitude * self.waveform(t)
