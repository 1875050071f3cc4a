"""Benchmark: the matmul ladder, each rung's GFLOP/s and its share of NumPy's BLAS.

Every rung of :data:`hyperion.kernels.cpu.matmul.LADDER` and ``a @ b`` (NumPy's BLAS) are
timed interleaved at the same size, float32. ``roofline_fraction`` of a row is its GFLOP/s
over the machine's measured BLAS GFLOP/s; ``fraction_of_blas`` is the same against the
``a @ b`` timed side by side in this case (the number the issue's ≥ 50 % refers to).

Thread counts are part of every row (``threads``): the single-threaded rungs run on one
thread, the ``parallel`` rung on Numba's thread count, and BLAS on whatever
``OPENBLAS_NUM_THREADS`` says. For a fair ladder run with ``OPENBLAS_NUM_THREADS=1`` (the
rungs 1-5 against one BLAS thread); for the parallel rung, set ``OPENBLAS_NUM_THREADS`` and
``NUMBA_NUM_THREADS`` to the same count.

The full run uses 1024³; the naive rung takes half a minute a call there, so it is timed at
256³ next to a BLAS call of that size (its rows say so in ``shape``); ``--quick`` runs every
rung at 256³. Nothing is extrapolated.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from hyperion.kernels.bench.context import BenchContext

SIZE = 1024
QUICK_SIZE = 256


def _threads(impl: str) -> dict[str, Any]:
    blas = os.environ.get("OPENBLAS_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or "default"
    if impl == "blas":
        return {"blas": blas}
    if impl == "parallel":
        from numba import get_num_threads

        return {"numba": get_num_threads(), "blas_anchor": blas}
    return {"numba": 1, "blas_anchor": blas}


def _case(ctx: BenchContext, n: int, ladder: dict[str, Any]) -> list[dict[str, Any]]:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
    fns = {"blas": lambda: a @ b}
    fns.update({name: (lambda fn=fn: fn(a, b)) for name, fn in ladder.items()})
    ctx.progress(f"matmul {n}³ float32: {', '.join(fns)}")
    times = ctx.compare(fns, repeats=3 if not ctx.quick else None)
    rows = []
    for impl, seconds in times.items():
        row = ctx.result(op="matmul", impl=impl, shape=(n, n, n), dtype="float32", seconds=seconds, flops=2.0 * n**3,
                         naive_seconds=times.get("naive") if impl != "naive" else None)  # fmt: skip
        row["fraction_of_blas"] = times["blas"] / seconds
        row["threads"] = _threads(impl)
        rows.append(row)
    return rows


def run(ctx: BenchContext) -> list[dict[str, Any]]:
    """Time every rung and BLAS, float32, interleaved (the naive rung at 256³ in the full run)."""
    try:
        from hyperion.kernels.cpu.matmul import LADDER
    except ImportError:  # no Numba: only the BLAS row
        LADDER = {}
    if ctx.quick:
        return _case(ctx, QUICK_SIZE, LADDER)
    rest = {name: fn for name, fn in LADDER.items() if name != "naive"}
    rows = _case(ctx, SIZE, rest)
    if "naive" in LADDER:
        rows += [row for row in _case(ctx, QUICK_SIZE, {"naive": LADDER["naive"]}) if row["impl"] == "naive"]
    return rows
