"""Grad mode: whether ops record the graph.

``no_grad()`` turns recording off inside a block (for inference and for
parameter updates), ``enable_grad()`` turns it back on inside a ``no_grad``
block, and ``set_grad_enabled(flag)`` does either. All three are context
managers and decorators over a context variable, so they nest and are local
to the thread or task that enters them.

Example:
    >>> import hyperion.autograd as ag
    >>> w = ag.ones(3, requires_grad=True)
    >>> with ag.no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hyperion.autograd._mode import MODE, ModeSwitch, require_flag

__all__ = ["enable_grad", "is_grad_enabled", "no_grad", "set_grad_enabled"]


class no_grad(ModeSwitch):  # noqa: N801 - PyTorch's name
    """Context manager (and decorator) that disables graph recording.

    Ops inside the block return tensors with ``requires_grad=False``.
    Usable as ``with no_grad():``, ``@no_grad()`` or ``@no_grad``.
    """

    __slots__ = ()

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        if func is not None:  # bare ``@no_grad``
            return cls()(func)
        return object.__new__(cls)

    def __init__(self, func: Callable[..., Any] | None = None) -> None:
        super().__init__(grad_enabled=False)


class enable_grad(ModeSwitch):  # noqa: N801 - PyTorch's name
    """Context manager (and decorator) that enables graph recording, e.g. inside ``no_grad``."""

    __slots__ = ()

    def __new__(cls, func: Callable[..., Any] | None = None) -> Any:
        if func is not None:
            return cls()(func)
        return object.__new__(cls)

    def __init__(self, func: Callable[..., Any] | None = None) -> None:
        super().__init__(grad_enabled=True)


class set_grad_enabled(ModeSwitch):  # noqa: N801 - PyTorch's name
    """Context manager (and decorator) that sets grad mode to ``mode``.

    Args:
        mode: ``True`` to record the graph, ``False`` not to.
    """

    __slots__ = ()

    def __init__(self, mode: bool) -> None:
        super().__init__(grad_enabled=require_flag("set_grad_enabled: mode", mode))


def is_grad_enabled() -> bool:
    """Whether ops currently record the graph."""
    return MODE.get().grad_enabled
