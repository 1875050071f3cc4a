"""The performance report: the roofline first, then every op benchmark (``ops_<name>.py``), into Markdown, JSON and plots.

Op benchmarks are found by name: every module ``ops_<name>.py`` in this
package is the benchmark of op ``<name>`` and exposes
``run(ctx: BenchContext) -> list[dict]`` (see :mod:`hyperion.kernels.bench.context`).

Examples:
    >>> "softmax" in available_ops()
    True
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Sequence
from typing import Any

from hyperion.kernels.bench.context import RESULT_FIELDS, BenchContext

__all__ = ["RESULT_FIELDS", "BenchContext", "available_ops", "run_bench"]


def available_ops() -> list[str]:
    """The op names with a benchmark module, sorted."""
    return sorted(m.name[len("ops_") :] for m in pkgutil.iter_modules(__path__) if m.name.startswith("ops_"))


def optional_torch() -> Any:
    """``torch`` with its CPU threads set to Numba's count (fair comparison), or ``None``."""
    try:
        import torch
    except ImportError:
        return None
    try:
        import numba

        torch.set_num_threads(numba.get_num_threads())
    except ImportError:
        pass
    return torch


def run_bench(
    ops: Sequence[str] | None = None,
    *,
    quick: bool = False,
    progress: Callable[[str], None] = lambda message: None,
    use_torch: bool = True,
) -> dict[str, Any]:
    """Measure the roofline, then run the benchmarks of ``ops`` (default: all).

    Returns:
        ``{"machine": {...}, "results": [row, ...], "errors": {op: message}}``.
        A benchmark that raises is reported under ``errors`` and the others still run.

    Raises:
        ValueError: for an op with no benchmark module, listing the available ones.
    """
    from hyperion.kernels.bench.roofline import describe_machine, measure_roofline

    known = available_ops()
    selected = list(known if not ops else ops)
    unknown = [op for op in selected if op not in known]
    if unknown:
        raise ValueError(f"no benchmark for op(s) {', '.join(map(repr, unknown))}; available: {', '.join(known)}")
    torch = optional_torch() if use_torch else None
    ctx = BenchContext(
        quick=quick, machine={}, torch=torch, repeats=3 if quick else 7, target_s=0.01 if quick else 0.05, progress=progress
    )
    ctx.machine.update(describe_machine(torch))
    ctx.machine.update(measure_roofline(ctx))
    results: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    for op in selected:
        progress(f"{op}: running")
        module = importlib.import_module(f"{__name__}.ops_{op}")
        try:
            rows = module.run(ctx)
        except Exception as exc:  # one failing benchmark must not lose the others' numbers
            errors[op] = f"{type(exc).__name__}: {exc}"
            continue
        for row in rows:
            missing = [f for f in RESULT_FIELDS if f not in row]
            if missing:
                errors[op] = f"result row without field(s) {', '.join(missing)}: {row}"
                break
        else:
            results += rows
    return {"machine": ctx.machine, "results": results, "errors": errors}
