"""The :class:`BenchContext` every op benchmark receives, and the result schema it fills in.

An op module ``hyperion/kernels/bench/ops_<name>.py`` exposes
``run(ctx: BenchContext) -> list[dict]``; it times its contenders with
:meth:`BenchContext.time` (one function) or :meth:`BenchContext.compare`
(several, interleaved) and turns each timing into a row with
:meth:`BenchContext.result`, which derives the throughput and the ratios::

    {"op", "impl", "shape", "dtype", "seconds", "gbps", "gflops",
     "roofline_fraction", "speedup_vs_naive", "ratio_vs_torch"}

``gbps`` is ``bytes_moved / seconds`` (the bytes an ideal implementation must
move: each input read once, each output written once), ``gflops`` is
``flops / seconds``; ``roofline_fraction`` is ``gbps / copy_gbps`` for a
memory-bound op (``bytes_moved`` given) or ``gflops / blas_gflops`` for a
compute-bound one (only ``flops`` given); ``speedup_vs_naive`` is
``naive_seconds / seconds`` and ``ratio_vs_torch`` is ``torch_seconds / seconds``
(above 1: faster than PyTorch). Fields that do not apply are ``None``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RESULT_FIELDS", "BenchContext"]

RESULT_FIELDS = (
    "op",
    "impl",
    "shape",
    "dtype",
    "seconds",
    "gbps",
    "gflops",
    "roofline_fraction",
    "speedup_vs_naive",
    "ratio_vs_torch",
)
"""The keys of every result row, in order."""


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator <= 0:
        return None
    return numerator / denominator


@dataclass
class BenchContext:
    """What an op benchmark gets: the mode, the measured machine, PyTorch if installed, and timers.

    Attributes:
        quick: Small sizes and few repeats (a smoke run of seconds).
        machine: ``copy_gbps`` and ``blas_gflops`` (the roofline, measured first) and a description.
        torch: The ``torch`` module, or ``None`` if it is not installed.
        repeats: Samples per timing (median taken); 3 with ``quick``, else 7.
        target_s: How long one sample should last; a call is looped until it does.
        progress: Called with one-line progress messages (the CLI prints them on stderr).
    """

    quick: bool
    machine: dict[str, Any]
    torch: Any = None
    repeats: int = 7
    target_s: float = 0.05
    progress: Callable[[str], None] = field(default=lambda message: None)

    def time(self, fn: Callable[[], Any], *, repeats: int | None = None) -> float:
        """Median seconds per call of ``fn`` over ``repeats`` samples, after a warm-up call.

        Examples:
            >>> ctx = BenchContext(quick=True, machine={}, repeats=3, target_s=1e-4)
            >>> ctx.time(lambda: sum(range(100))) > 0
            True
        """
        return self.compare({"fn": fn}, repeats=repeats)["fn"]

    def compare(self, fns: Mapping[str, Callable[[], Any]], *, repeats: int | None = None) -> dict[str, float]:
        """Median seconds per call of each function, their samples taken interleaved.

        Each function is called once to warm up (compilation, caches), then
        looped ``number`` times per sample, ``number`` chosen so a sample lasts
        about ``target_s``. Repeat ``r`` runs the functions in an order rotated by
        ``r``, so a burst of load from elsewhere hits them all alike.
        """
        names = list(fns)
        numbers = {}
        for name in names:
            fn = fns[name]
            start = time.perf_counter()
            fn()
            first = time.perf_counter() - start
            start = time.perf_counter()
            fn()
            once = max(time.perf_counter() - start, 1e-9) if first > 0 else 1e-9
            numbers[name] = max(1, min(10_000, int(self.target_s / once)))
        samples: dict[str, list[float]] = {name: [] for name in names}
        for r in range(repeats or self.repeats):
            shift = r % len(names)
            for name in names[shift:] + names[:shift]:
                fn, number = fns[name], numbers[name]
                start = time.perf_counter()
                for _ in range(number):
                    fn()
                samples[name].append((time.perf_counter() - start) / number)
        return {name: statistics.median(values) for name, values in samples.items()}

    def result(
        self,
        *,
        op: str,
        impl: str,
        shape: Sequence[int],
        dtype: str,
        seconds: float,
        bytes_moved: float | None = None,
        flops: float | None = None,
        naive_seconds: float | None = None,
        torch_seconds: float | None = None,
    ) -> dict[str, Any]:
        """One result row in the report's schema (see the module docstring).

        Examples:
            >>> ctx = BenchContext(quick=True, machine={"copy_gbps": 10.0, "blas_gflops": 100.0})
            >>> row = ctx.result(op="softmax", impl="cpu", shape=(2, 2), dtype="float32", seconds=1e-9, bytes_moved=5.0,
            ...                  naive_seconds=3e-9)
            >>> row["gbps"], row["roofline_fraction"], round(row["speedup_vs_naive"], 6), row["ratio_vs_torch"]
            (5.0, 0.5, 3.0, None)
        """
        if seconds <= 0:
            raise ValueError(f"{op}/{impl}: seconds must be positive, got {seconds}")
        gbps = bytes_moved / seconds / 1e9 if bytes_moved is not None else None
        gflops = flops / seconds / 1e9 if flops is not None else None
        if gbps is not None:
            roofline = _ratio(gbps, self.machine.get("copy_gbps"))
        else:
            roofline = _ratio(gflops, self.machine.get("blas_gflops"))
        return {
            "op": op,
            "impl": impl,
            "shape": [int(s) for s in shape],
            "dtype": str(dtype),
            "seconds": seconds,
            "gbps": gbps,
            "gflops": gflops,
            "roofline_fraction": roofline,
            "speedup_vs_naive": _ratio(naive_seconds, seconds),
            "ratio_vs_torch": _ratio(torch_seconds, seconds),
        }
