"""The op observer: the hook a profiler (or a tracer, or a debugger) plugs into.

Every ``Function.apply`` and every call the engine makes to a ``backward``
checks one flag of the autograd mode; when an observer is installed, the op is
timed and the observer is told about it:

* ``on_forward(fn_name, inputs, outputs, seconds)`` after an op's forward;
* ``on_backward(fn_name, grad_outputs, grad_inputs, seconds)`` after the
  engine ran an op's backward.

``inputs``/``grad_outputs``/... are tuples of tensors (``hyperion.autograd.Tensor``
or ``None`` for non-tensor arguments); the observer reads shapes, dtypes,
devices and sizes from them and must not keep them alive longer than it needs.
With no observer installed the cost is nothing beyond the mode read every op
does anyway.

Example:
    >>> import hyperion.autograd as ag
    >>> class Count:
    ...     def __init__(self): self.names = []
    ...     def on_forward(self, fn_name, inputs, outputs, seconds): self.names.append(fn_name)
    ...     def on_backward(self, fn_name, grad_outputs, grad_inputs, seconds): self.names.append(fn_name)
    >>> counter = Count()
    >>> x = ag.ones(3, requires_grad=True)
    >>> with ag.observe_ops(counter):
    ...     (x * x).sum().backward()
    >>> counter.names[:2]
    ['Mul', 'Sum']
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from hyperion.autograd._mode import MODE, ModeSwitch

__all__ = ["OpObserver", "get_op_observer", "observe_ops", "set_op_observer"]


@runtime_checkable
class OpObserver(Protocol):
    """What the engine calls when an observer is installed."""

    def on_forward(self, fn_name: str, inputs: Sequence[Any], outputs: Sequence[Any], seconds: float) -> None:
        """Called after the forward of op ``fn_name`` (``seconds`` of wall time, graph recording excluded)."""

    def on_backward(
        self, fn_name: str, grad_outputs: Sequence[Any], grad_inputs: Sequence[Any], seconds: float
    ) -> None:
        """Called after the engine ran the backward of op ``fn_name``."""


def _check(observer: Any) -> None:
    if observer is not None and not isinstance(observer, OpObserver):
        raise TypeError(f"an op observer needs methods on_forward and on_backward, got {type(observer).__name__}")


class observe_ops(ModeSwitch):  # noqa: N801 - a context manager, named like the others
    """Install ``observer`` for the duration of a ``with`` block (``None`` removes the current one)."""

    __slots__ = ()

    def __init__(self, observer: OpObserver | None) -> None:
        _check(observer)
        super().__init__(observer=observer)


def set_op_observer(observer: OpObserver | None) -> OpObserver | None:
    """Install ``observer`` in the current context until replaced; returns the previous one.

    Prefer :class:`observe_ops`, which restores the previous observer on exit.
    """
    _check(observer)
    previous = MODE.get()
    MODE.set(previous.replace(observer=observer))
    return previous.observer


def get_op_observer() -> OpObserver | None:
    """The observer installed in the current context, or ``None``."""
    return MODE.get().observer
