"""Helpers shared by the benchmarks: interleaved timing, medians, the machine, the output.

Timing rules, so that numbers taken on a busy machine still mean something:

- Every contender of a case (hyperion, NumPy, PyTorch...) is timed in the same process, and
  their samples are **interleaved**: repeat 1 runs A, B, C; repeat 2 runs B, C, A; ... A burst
  of load from another process then hits all of them alike instead of one of them.
- One sample runs a statement ``number`` times in a ``timeit`` loop (the statement is compiled
  into the loop, so no Python call is added around it); ``number`` is calibrated once per
  contender so that a sample lasts about ``target_s``.
- A case reports the **median** time per call of each contender and, for a ratio, the median
  of the per-repeat ratios (each repeat's samples were taken side by side, so their ratio
  cancels most of the drift).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import timeit
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperion.tensor.files import write_text_atomic


@dataclass
class Contender:
    """One way of doing a case: a statement run in its own namespace."""

    name: str
    stmt: str
    namespace: dict[str, Any] = field(default_factory=dict)

    def timer(self) -> timeit.Timer:
        return timeit.Timer(self.stmt, globals=self.namespace)


def calibrate(timer: timeit.Timer, target_s: float) -> int:
    """The loop count that makes one sample last about ``target_s`` (at least 1).

    A first call is made and thrown away: it may pay one-off costs (imports, caches) that
    would otherwise pass for the speed of the statement.
    """
    timer.timeit(1)
    number = 1
    while True:
        elapsed = timer.timeit(number)
        if elapsed >= target_s or number >= 1 << 24:
            return number
        # Aim a little past the target from the measured rate, at most 10x per step.
        number = max(number + 1, min(number * 10, int(number * 1.2 * target_s / max(elapsed, 1e-9))))


def measure(contenders: Sequence[Contender], repeats: int, target_s: float) -> dict[str, list[float]]:
    """Seconds per call, one sample per repeat, for each contender, taken interleaved.

    Calibrating doubles as the warm-up (first calls fill caches: kernel lookups, layouts).
    """
    timers = {c.name: c.timer() for c in contenders}
    numbers = {name: calibrate(timer, target_s) for name, timer in timers.items()}
    samples: dict[str, list[float]] = {name: [] for name in timers}
    names = list(timers)
    for r in range(repeats):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(timers[name].timeit(numbers[name]) / numbers[name])
    return samples


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def paired_ratio(numerator: Sequence[float], denominator: Sequence[float]) -> float:
    """Median over repeats of ``numerator[r] / denominator[r]``."""
    return statistics.median(n / d for n, d in zip(numerator, denominator, strict=True))


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _numpy_blas() -> str:
    import numpy as np

    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '?')}"
    except Exception:  # the description is best effort, never fatal
        return "unknown"


def machine_description() -> dict[str, Any]:
    """What the numbers were measured on: CPU, thread settings, library versions."""
    import numpy as np

    from hyperion.tensor import __version__ as hyperion_version

    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "machine": platform.machine(),
        "system": platform.system(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "hyperion_tensor": hyperion_version,
        "numpy": np.__version__,
        "numpy_blas": _numpy_blas(),
        "thread_env": {
            var: os.environ.get(var, "unset") for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
        },
    }
    torch = optional_torch()
    if torch is not None:
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    return info


def optional_torch() -> Any:
    """The ``torch`` module, or ``None`` if it is not installed (its column is then skipped)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def format_machine(info: Mapping[str, Any]) -> str:
    threads = ", ".join(f"{k}={v}" for k, v in info["thread_env"].items())
    lines = [
        f"cpu: {info['cpu']} ({info['machine']}, {info['usable_cpus']}/{info['logical_cpus']} cpus usable)",
        f"python {info['python']}, hyperion-tensor {info['hyperion_tensor']}, "
        f"numpy {info['numpy']} (BLAS {info['numpy_blas']})",
        f"torch {info['torch']} with {info['torch_threads']} threads" if "torch" in info else "torch: not installed",
        f"threads: {threads}",
    ]
    return "\n".join(lines)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(str(row[k])) for row in [headers, *rows]) for k in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if k == 0 else str(c).rjust(w) for k, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def parser(description: str) -> argparse.ArgumentParser:
    """The common command line: ``--quick``, ``--json``, ``--output``, ``--repeats``."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="small sizes and few repeats (a smoke run of seconds)")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object on the last line")
    p.add_argument("--output", type=Path, help="also write the JSON results to this file (atomically)")
    p.add_argument("--repeats", type=int, help="samples per contender (default: 3 with --quick, else 11)")
    return p


def progress(message: str) -> None:
    """A progress line on stderr, so that stdout stays the table (and the JSON last line)."""
    if sys.stderr.isatty():
        print(f"\r\033[K{message}", end="", file=sys.stderr, flush=True)


def progress_done() -> None:
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr, flush=True)


def write_json_atomic(path: Path, payload: Mapping[str, Any]) -> None:
    """Write ``payload`` as JSON to ``path`` atomically (hyperion-tensor's writer: temporary file, fsync, rename)."""
    write_text_atomic(path, json.dumps(payload, indent=2) + "\n")


def emit(args: argparse.Namespace, text: str, payload: Mapping[str, Any]) -> None:
    """Print the readable report; with ``--json`` the payload is the last line of stdout."""
    print(text)
    if args.output is not None:
        write_json_atomic(args.output, payload)
    if args.json:
        print(json.dumps(payload, separators=(",", ":")), flush=True)
