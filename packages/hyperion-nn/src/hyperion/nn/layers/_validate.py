"""Checks of layer configuration at construction time, so a bad value fails where it was written.

Without them a ``MaxPool2d(-1)`` or a ``MSELoss(reduction="avg")`` is built happily and fails (or
silently misbehaves) at the first forward pass, far from the mistake. Every message names the
layer, the argument and the value.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Any

from hyperion.nn.module import Module

__all__ = [
    "check_choice",
    "check_module",
    "check_positive_int",
    "check_real",
    "check_size_pair",
]

REDUCTIONS = ("none", "mean", "sum")


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def check_positive_int(layer: str, name: str, value: Any, *, minimum: int = 1) -> int:
    """``value`` if it is an int ``>= minimum``.

    Raises:
        TypeError: for a non-integer (a float, a string, a bool).
        ValueError: for an integer below ``minimum``.
    """
    if not _is_int(value):
        raise TypeError(f"{layer}: {name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{layer}: {name} must be >= {minimum}, got {value}")
    return int(value)


def check_size_pair(layer: str, name: str, value: Any, *, minimum: int = 1, allow_none: bool = False) -> Any:
    """``value`` if it is an int or a pair of ints, each ``>= minimum`` (or ``None`` where allowed).

    Raises:
        TypeError: for anything else than an int or a pair.
        ValueError: for a size below ``minimum``.
    """
    items = tuple(value) if isinstance(value, tuple | list) else (value,)
    if isinstance(value, tuple | list) and len(items) != 2:
        raise TypeError(f"{layer}: {name} must be an int or a pair of ints, got {value!r}")
    for item in items:
        if item is None and allow_none:
            continue
        if not _is_int(item):
            raise TypeError(f"{layer}: {name} must be an int or a pair of ints, got {value!r}")
        if item < minimum:
            raise ValueError(f"{layer}: {name} must be >= {minimum}, got {value!r}")
    return value


def check_real(
    layer: str, name: str, value: Any, *, low: float | None = None, high: float | None = None, low_open: bool = False
) -> float:
    """``value`` if it is a finite real number within ``[low, high]`` (``(low, high]`` with ``low_open``).

    Raises:
        TypeError: for a non-number.
        ValueError: for NaN, an infinity or a value out of range.
    """
    if not isinstance(value, Real) or isinstance(value, bool):
        raise TypeError(f"{layer}: {name} must be a real number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{layer}: {name} must be finite, got {value!r}")
    below = low is not None and (value <= low if low_open else value < low)
    if below or (high is not None and value > high):
        if high is None:
            wanted = f"{'>' if low_open else '>='} {low}"
        elif low is None:
            wanted = f"<= {high}"
        else:
            wanted = f"in {'(' if low_open else '['}{low}, {high}]"
        raise ValueError(f"{layer}: {name} must be {wanted}, got {value!r}")
    return value


def check_choice(layer: str, name: str, value: Any, choices: tuple[str, ...]) -> str:
    """``value`` if it is one of ``choices``.

    Raises:
        ValueError: naming the value and the choices.
    """
    if value not in choices:
        raise ValueError(f"{layer}: {name} must be one of {choices}, got {value!r}")
    return value


def check_module(layer: str, name: str, value: Any) -> Module:
    """``value`` if it is a :class:`~hyperion.nn.Module`.

    Raises:
        TypeError: naming the type received.
    """
    if not isinstance(value, Module):
        raise TypeError(f"{layer}: {name} must be a Module, got {type(value).__name__}")
    return value
