"""Anomaly mode: find the first op that produces NaN or Inf.

Inside ``detect_anomaly()`` every op keeps the Python stack it was created at
and checks its forward output; the engine checks every gradient an op's
backward returns. The first non-finite value raises :class:`AnomalyError`
naming the op and, for backward, the stack of the forward call that created
it. Outside the block nothing is captured or checked (the flag is part of the
mode every op reads anyway).

Example:
    >>> import hyperion.autograd as ag
    >>> x = ag.tensor([-1.0, 1.0], requires_grad=True)
    >>> with ag.detect_anomaly():
    ...     try:
    ...         y = x.log()
    ...     except ag.AnomalyError as err:
    ...         print(str(err).splitlines()[0])
    Log produced a non-finite forward output (shape (2,), dtype float32: 1 nan, 0 inf).
"""

from __future__ import annotations

import traceback
from typing import Any

from hyperion.autograd._mode import MODE, ModeSwitch, require_flag

__all__ = ["AnomalyError", "detect_anomaly", "is_anomaly_enabled", "set_detect_anomaly"]

# Frames of this package at the top of a captured stack are noise for the user.
_INTERNAL = ("/hyperion/autograd/",)
_FRAMES = 12  # the innermost frames of the user's stack are the informative ones


class AnomalyError(RuntimeError):
    """An op produced NaN or Inf while anomaly mode was on."""


class detect_anomaly(ModeSwitch):  # noqa: N801 - PyTorch's name
    """Context manager (and decorator) that turns anomaly detection on (or off with ``mode=False``)."""

    __slots__ = ()

    def __init__(self, mode: bool = True) -> None:
        super().__init__(anomaly=require_flag("detect_anomaly: mode", mode))


class set_detect_anomaly(detect_anomaly):  # noqa: N801 - PyTorch's name
    """Like :class:`detect_anomaly`, with the flag required."""

    __slots__ = ()

    def __init__(self, mode: bool) -> None:
        super().__init__(mode)


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on in the current context."""
    return MODE.get().anomaly


def capture_stack() -> tuple[str, ...]:
    """The current Python stack as formatted lines, without this package's own frames.

    Kept as strings (not frames) so a graph never holds frames and their locals alive.
    """
    frames = traceback.extract_stack()
    while frames and any(part in frames[-1].filename.replace("\\", "/") for part in _INTERNAL):
        frames.pop()
    return tuple(traceback.format_list(frames[-_FRAMES:]))


def nonfinite_summary(data: Any) -> str | None:
    """``None`` if every element of a floating raw tensor is finite, else a short description."""
    if data.dtype.kind != "f":
        return None
    finite = data.isfinite()
    if bool(finite.all()):
        return None
    bad = data.numel() - int(finite.sum().item())
    nan = int(data.isnan().sum().item())
    return f"shape {data.shape}, dtype {data.dtype}: {nan} nan, {bad - nan} inf"


def format_stack(stack: tuple[str, ...] | None) -> str:
    """The creation stack of an op for an error message."""
    if not stack:
        return "(stack not recorded: the op was created outside detect_anomaly())"
    return "".join(stack).rstrip()
