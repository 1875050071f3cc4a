"""Benchmark: the matmul ladder, each rung's GFLOP/s and its share of NumPy's BLAS.

Every rung of :data:`hyperion.kernels.cpu.matmul.LADDER` and ``a @ b`` (NumPy's BLAS) are
timed interleaved at the same size, float32. ``roofline_fraction`` of a row is its GFLOP/s
over the machine's measured BLAS GFLOP/s; ``fraction_of_blas`` is the same against the
``a @ b`` timed side by side in this case (the number the issue's ≥ 50 % refers to).

The full run uses 1024³ for every rung; the naive rung there takes seconds per call, so
``--quick`` runs every rung at 256³ instead (nothing is extrapolated: each row states the
size it was measured at).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hyperion.kernels.bench.context import BenchContext

SIZE = 1024
QUICK_SIZE = 256


def run(ctx: BenchContext) -> list[dict[str, Any]]:
    """Time every rung and BLAS at one size, float32, interleaved."""
    try:
        from hyperion.kernels.cpu.matmul import LADDER
    except ImportError:  # no Numba: only the BLAS row
        LADDER = {}
    n = QUICK_SIZE if ctx.quick else SIZE
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
    fns = {"blas": lambda: a @ b}
    fns.update({name: (lambda fn=fn: fn(a, b)) for name, fn in LADDER.items()})
    ctx.progress(f"matmul {n}³ float32: {', '.join(fns)}")
    times = ctx.compare(fns, repeats=3 if not ctx.quick else None)
    flops = 2.0 * n**3
    rows = []
    for impl, seconds in times.items():
        row = ctx.result(op="matmul", impl=impl, shape=(n, n, n), dtype="float32", seconds=seconds, flops=flops,
                         naive_seconds=times.get("naive") if impl != "naive" else None)  # fmt: skip
        row["fraction_of_blas"] = times["blas"] / seconds
        rows.append(row)
    return rows
