"""A profiler for autograd ops: per-op records, a summary table, and a Chrome/Perfetto trace.

``with profile() as prof:`` installs an op observer (see :mod:`.hooks`) for
the block. Every op's forward and every backward the engine runs becomes an
:class:`OpRecord` (name, phase, start, duration, input shapes, dtype, device,
bytes of new storage). Outside the block nothing is recorded and nothing is
paid.

Ops run *inside* another op's backward (the gradient formulas are built from
ops) are recorded too; they nest inside that backward in time, and the
summary's *self* time subtracts them from it.

Example:
    >>> import hyperion.autograd as ag
    >>> x = ag.randn(64, 64, seed=0, requires_grad=True)
    >>> with ag.profile() as prof:
    ...     (x @ x).tanh().sum().backward()
    >>> [r.name for r in prof.records if r.phase == "backward"]
    ['Sum', 'Tanh', 'Matmul']
    >>> prof.export_chrome_trace("trace.json")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hyperion.autograd.hooks import observe_ops
from hyperion.autograd.tensor import Tensor
from hyperion.tensor.files import write_text_atomic

__all__ = ["OpRecord", "Profile", "profile"]


@dataclass(frozen=True, slots=True)
class OpRecord:
    """One op's forward or backward, as the profiler saw it.

    Attributes:
        name: the ``Function`` class name (``"Matmul"``).
        phase: ``"forward"`` or ``"backward"``.
        start: seconds since the profile started.
        duration: wall time in seconds.
        input_shapes: shapes of the tensor inputs (forward) or of the incoming gradient (backward).
        dtype: dtype of the first tensor input, or ``None``.
        device: device of the first tensor input, or ``None``.
        bytes: bytes of new storage the results hold (0 for views).
        thread: the thread that ran it.
    """

    name: str
    phase: str
    start: float
    duration: float
    input_shapes: tuple[tuple[int, ...] | None, ...]
    dtype: str | None
    device: str | None
    bytes: int
    thread: int


def _data(value: Any) -> Any:
    return value.data if isinstance(value, Tensor) else value


def _new_bytes(results: Sequence[Any], sources: Sequence[Any]) -> int:
    """Bytes held by results whose storage none of the sources share."""
    storages = {id(_data(s).storage) for s in sources if s is not None and hasattr(_data(s), "storage")}
    total = 0
    for r in results:
        if r is None:
            continue
        data = _data(r)
        if hasattr(data, "storage") and id(data.storage) not in storages:
            total += data.nbytes
    return total


class Profile:
    """Records ops while installed as the op observer; see :func:`profile`."""

    def __init__(self) -> None:
        self.records: list[OpRecord] = []
        self._origin = time.perf_counter()
        self._lock = threading.Lock()

    # -- the observer protocol ---------------------------------------------------------------
    def on_forward(self, fn_name: str, inputs: Sequence[Any], outputs: Sequence[Any], seconds: float) -> None:
        """Record an op's forward."""
        self._add(fn_name, "forward", seconds, inputs, _new_bytes(outputs, inputs))

    def on_backward(
        self, fn_name: str, grad_outputs: Sequence[Any], grad_inputs: Sequence[Any], seconds: float
    ) -> None:
        """Record an op's backward."""
        self._add(fn_name, "backward", seconds, grad_outputs, _new_bytes(grad_inputs, grad_outputs))

    def _add(self, name: str, phase: str, seconds: float, tensors: Sequence[Any], nbytes: int) -> None:
        end = time.perf_counter() - self._origin
        datas = [_data(t) for t in tensors if t is not None]
        first = next((d for d in datas if hasattr(d, "dtype")), None)
        record = OpRecord(
            name=name,
            phase=phase,
            start=end - seconds,
            duration=seconds,
            input_shapes=tuple(getattr(d, "shape", None) for d in datas),
            dtype=None if first is None else first.dtype.name,
            device=None if first is None else first.device,
            bytes=nbytes,
            thread=threading.get_ident(),
        )
        with self._lock:
            self.records.append(record)

    # -- analysis -------------------------------------------------------------------------
    def self_times(self) -> list[float]:
        """Each record's duration minus the durations of the records nested directly inside it."""
        order = sorted(range(len(self.records)), key=lambda k: (self.records[k].start, -self.records[k].duration))
        own = [r.duration for r in self.records]
        stack: list[int] = []
        for k in order:
            record = self.records[k]
            while stack and self.records[stack[-1]].start + self.records[stack[-1]].duration <= record.start:
                stack.pop()
            if stack and self.records[stack[-1]].thread == record.thread:
                own[stack[-1]] -= record.duration
            stack.append(k)
        return own

    def summary(self, sort_by: str = "total", limit: int | None = None) -> str:
        """A table with one row per (op, phase), sorted by ``"total"`` (inclusive) or ``"self"`` time.

        Columns: calls, total and self time (ms), mean time per call (µs),
        share of all self time, and bytes allocated.
        """
        if sort_by not in ("total", "self", "calls"):
            raise ValueError(f"sort_by must be 'total', 'self' or 'calls', got {sort_by!r}")
        rows: dict[tuple[str, str], list[float]] = {}
        for record, own in zip(self.records, self.self_times(), strict=True):
            row = rows.setdefault((record.name, record.phase), [0, 0.0, 0.0, 0])
            row[0] += 1
            row[1] += record.duration
            row[2] += own
            row[3] += record.bytes
        grand_self = sum(row[2] for row in rows.values()) or 1.0
        key = {"total": 1, "self": 2, "calls": 0}[sort_by]
        ordered = sorted(rows.items(), key=lambda item: item[1][key], reverse=True)[:limit]
        header = (
            f"{'op':<22} {'phase':<9} {'calls':>7} {'total ms':>10} {'self ms':>10} "
            f"{'mean us':>9} {'self %':>7} {'bytes':>12}"
        )
        lines = [header, "-" * len(header)]
        for (name, phase), (calls, total, own, nbytes) in ordered:
            lines.append(
                f"{name:<22} {phase:<9} {calls:>7d} {total * 1e3:>10.3f} {own * 1e3:>10.3f} "
                f"{total / calls * 1e6:>9.1f} {own / grand_self * 100:>6.1f}% {int(nbytes):>12d}"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def chrome_trace(self) -> dict[str, Any]:
        """The records as a Chrome trace (``traceEvents`` of complete ``"X"`` events, microseconds)."""
        pid = os.getpid()
        events = [
            {
                "name": r.name if r.phase == "forward" else f"{r.name}Backward",
                "cat": r.phase,
                "ph": "X",
                "ts": r.start * 1e6,
                "dur": r.duration * 1e6,
                "pid": pid,
                "tid": r.thread,
                "args": {
                    "input_shapes": [list(s) if s is not None else None for s in r.input_shapes],
                    "dtype": r.dtype,
                    "device": r.device,
                    "bytes": r.bytes,
                },
            }
            for r in sorted(self.records, key=lambda r: r.start)
        ]
        return {"traceEvents": events, "displayTimeUnit": "ms"}

    def export_chrome_trace(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`chrome_trace` as JSON to ``path`` atomically (temporary file, then rename).

        The file opens in Perfetto (ui.perfetto.dev) and ``chrome://tracing``.
        """
        return write_text_atomic(path, json.dumps(self.chrome_trace()))


class profile:  # noqa: N801 - a context manager, named like PyTorch's
    """Context manager that records every op run inside it; yields a :class:`Profile`.

    Example:
        >>> import hyperion.autograd as ag
        >>> with ag.profile() as prof:
        ...     ag.ones(3, requires_grad=True).exp().sum().backward()
        >>> print(prof.summary(limit=1).splitlines()[0].split()[:3])
        ['op', 'phase', 'calls']
    """

    def __init__(self) -> None:
        self.profile = Profile()
        self._switch = observe_ops(self.profile)

    def __enter__(self) -> Profile:
        self.profile._origin = time.perf_counter()
        self._switch.__enter__()
        return self.profile

    def __exit__(self, *exc: object) -> None:
        self._switch.__exit__(*exc)
