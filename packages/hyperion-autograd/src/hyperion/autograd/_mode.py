"""The autograd mode: one context variable read by every op and by the engine.

Grad mode, anomaly detection and the op observer (the profiler's hook) are
three fields of one immutable :class:`Mode` held in a single
:class:`contextvars.ContextVar`. ``Function.apply`` reads it once per op, so the
cost of all three switches when they are off is one ``ContextVar.get()`` and
one attribute read. Context managers replace the whole object and restore it
with the token ``ContextVar.set`` returns, so modes nest, and each thread (or
asyncio task) starts from the defaults.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import numpy as np


class Mode:
    """Immutable snapshot of the autograd switches.

    Attributes:
        grad_enabled: whether ops record the graph.
        anomaly: whether ops check their results for NaN/Inf and keep the stack they were created at.
        observer: an object notified of every op's forward and backward (see :mod:`hyperion.autograd.hooks`).
        instrumented: ``anomaly or observer is not None`` -- the one flag the hot path tests.
    """

    __slots__ = ("grad_enabled", "anomaly", "observer", "instrumented", "_toggled")

    def __init__(self, grad_enabled: bool = True, anomaly: bool = False, observer: Any = None) -> None:
        self.grad_enabled = grad_enabled
        self.anomaly = anomaly
        self.observer = observer
        self.instrumented = anomaly or observer is not None
        self._toggled: Mode | None = None

    def with_grad(self, enabled: bool) -> Mode:
        """This mode with ``grad_enabled`` set (the other setting is built once and kept: the engine asks often)."""
        if enabled == self.grad_enabled:
            return self
        if self._toggled is None:
            self._toggled = self.replace(grad_enabled=enabled)
            self._toggled._toggled = self
        return self._toggled

    def replace(self, **changes: Any) -> Mode:
        """A copy with some fields changed."""
        fields = {"grad_enabled": self.grad_enabled, "anomaly": self.anomaly, "observer": self.observer}
        fields.update(changes)
        return Mode(**fields)

    def __repr__(self) -> str:
        return f"Mode(grad_enabled={self.grad_enabled}, anomaly={self.anomaly}, observer={self.observer!r})"


MODE: ContextVar[Mode] = ContextVar("hyperion_autograd_mode", default=Mode())  # noqa: B039 - Mode is never mutated


def require_flag(name: str, value: Any) -> bool:
    """``value`` as a bool, refusing anything that is not one (``bool("no")`` is True: a silent wrong mode)."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise TypeError(f"{name} must be a bool, got {type(value).__name__} {value!r}")


class ModeSwitch:
    """Base of the context managers that change fields of the mode inside a ``with`` block.

    Subclasses pass the fields to set to ``__init__``. An instance also works
    as a decorator: the function then runs inside the block on every call.
    The tokens are kept on a stack, so one instance may be re-entered.
    """

    __slots__ = ("_changes", "_tokens")

    def __init__(self, **changes: Any) -> None:
        self._changes = changes
        self._tokens: list[Any] = []

    def __enter__(self) -> ModeSwitch:
        self._tokens.append(MODE.set(MODE.get().replace(**self._changes)))
        return self

    def __exit__(self, *exc: object) -> None:
        MODE.reset(self._tokens.pop())

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        changes = self._changes

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            token = MODE.set(MODE.get().replace(**changes))
            try:
                return func(*args, **kwargs)
            finally:
                MODE.reset(token)

        return wrapper
