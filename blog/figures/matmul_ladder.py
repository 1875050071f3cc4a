"""Figure for "Tiling a matmul": each rung of the ladder as a share of NumPy's BLAS.

Every rung of ``hyperion.kernels.cpu.matmul.LADDER`` and ``a @ b`` timed interleaved
(medians of 5 samples; the naive rung once at 1024³, it takes half a minute) on float32 square
matrices of 256 and 1024, one thread on both sides (``OPENBLAS_NUM_THREADS=1``,
``NUMBA_NUM_THREADS=1``); then the parallel rung against BLAS with two threads on both sides (``OMP_WAIT_POLICY=PASSIVE``
so that Numba's idle OpenMP workers sleep instead of spinning against BLAS's threads in the
interleaved timing).
Left: GFLOP/s per rung; right: the share of BLAS. Drawn from ``data/matmul_ladder.json``;
re-measure with (the script sets the thread counts of its two measuring processes itself)::

    python blog/figures/matmul_ladder.py --measure
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import _results
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "matmul_ladder.json"
SIZES = (256, 1024)
REPEATS = 5
NAIVE_REPEATS_AT_1024 = 1  # ~30 s a call: one sample, marked as such in the data


def _time(fns: dict[str, Any], a: Any, b: Any, repeats: dict[str, int]) -> dict[str, float]:
    """Interleaved medians: every round calls each function once, in a rotated order."""
    for fn in fns.values():
        fn(a[:64, :64].copy(), b[:64, :64].copy())  # compile (the naive rung too) on a small case
    samples: dict[str, list[float]] = {name: [] for name in fns}
    names = list(fns)
    for r in range(max(repeats.values())):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            if len(samples[name]) < repeats[name]:
                start = time.perf_counter()
                fns[name](a, b)
                samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(s) for name, s in samples.items()}


def _child(threads: int) -> dict[str, Any]:
    """Measurements with ``threads`` BLAS and Numba threads (set by :func:`measure` in the environment)."""
    import numpy as np

    from hyperion.kernels.cpu.matmul import LADDER

    out: dict[str, Any] = {}
    for n in SIZES if threads == 1 else SIZES[-1:]:
        rng = np.random.default_rng(0)
        a, b = rng.standard_normal((n, n), dtype=np.float32), rng.standard_normal((n, n), dtype=np.float32)
        fns = {"blas": np.matmul, **LADDER} if threads == 1 else {"blas": np.matmul, "parallel": LADDER["parallel"]}
        repeats = {name: REPEATS for name in fns}
        if n >= 1024 and "naive" in fns:
            repeats["naive"] = NAIVE_REPEATS_AT_1024
        out[str(n)] = _time(fns, a, b, repeats)
    return out


def measure() -> dict[str, Any]:
    """Every rung and BLAS on one thread each; then the parallel rung and BLAS on two threads each.

    Each half runs in a fresh process, because OpenBLAS reads its thread count at start-up.
    """
    from hyperion.kernels.cpu.cache_info import cache_sizes
    from hyperion.kernels.cpu.matmul import LADDER, MR, NR, panel_sizes, simd_sizes, tile_side

    runs = {}
    for threads in (1, 2):
        env = {**os.environ, "OPENBLAS_NUM_THREADS": str(threads), "NUMBA_NUM_THREADS": str(threads),
               "OMP_WAIT_POLICY": "PASSIVE"}  # idle OpenMP workers sleep: no spinning against BLAS's threads  # fmt: skip
        proc = subprocess.run([sys.executable, __file__, "--child", str(threads)], env=env, check=True,
                              capture_output=True, text=True)  # fmt: skip
        runs[threads] = json.loads(proc.stdout.strip().splitlines()[-1])
    sizes = cache_sizes()
    kc, nc = panel_sizes(4)
    simd_kc, simd_nr = simd_sizes(4)
    return {
        "sizes": list(SIZES),
        "repeats": REPEATS,
        "naive_repeats_at_1024": NAIVE_REPEATS_AT_1024,
        "rungs": list(LADDER),
        "results": runs[1],
        "two_threads": runs[2],
        "machine": {"l1d": sizes.l1d, "l2": sizes.l2, "source": sizes.source, "tile_side": tile_side(4),
                    "kc": kc, "nc": nc, "mr": MR, "nr": NR, "simd_kc": simd_kc, "simd_nr": simd_nr,
                    "threads": {"results": 1, "two_threads": 2}, "omp_wait_policy": "PASSIVE"},
    }  # fmt: skip


def gflops(n: int, seconds: float) -> float:
    """GFLOP/s of an ``n³`` matmul (``2n³`` flops)."""
    return 2 * n**3 / seconds / 1e9


def share(data: dict[str, Any], n: int, rung: str) -> float:
    """Percent of BLAS: one thread against one, the parallel rung at 1024³ two against two."""
    two = data["two_threads"].get(str(n))
    res = two if rung == "parallel" and two else data["results"][str(n)]
    return 100 * res["blas"] / res[rung]


def build() -> Figure:
    """GFLOP/s per rung (log) and share of BLAS, for each size."""
    data = _results.load(DATA)
    rungs = data["rungs"]
    fig = Figure(figsize=(10, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    width = 0.8 / len(data["sizes"])
    for s, n in enumerate(data["sizes"]):
        res = data["results"][str(n)]
        x = [i + (s - (len(data["sizes"]) - 1) / 2) * width for i in range(len(rungs) + 1)]
        left.bar(x, [gflops(n, res[r]) for r in [*rungs, "blas"]], width=width, label=f"{n}³", color=f"C{s}")
        right.bar(x[:-1], [share(data, n, r) for r in rungs], width=width, label=f"{n}³", color=f"C{s}")
    left.set_xticks(range(len(rungs) + 1), [*rungs, "BLAS"], rotation=20)
    left.set_yscale("log")
    left.set_ylabel("GFLOP/s (float32, 1 thread)")
    left.set_title("The ladder")
    right.set_xticks(range(len(rungs)), [*rungs[:-1], f"{rungs[-1]}\n(2 vs 2 threads at 1024³)"], rotation=20)
    right.axhline(50, color="0.5", linestyle=":", linewidth=1)
    right.set_ylabel("% of NumPy's BLAS, same run, same threads")
    right.set_title("Share of BLAS")
    for ax in (left, right):
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize="small")
    return fig


def summary(data: dict[str, Any]) -> str:
    """The numbers the post quotes."""
    lines = [f"machine: {data['machine']}"]
    for n in data["sizes"]:
        res = data["results"][str(n)]
        for r in [*data["rungs"], "blas"]:
            lines.append(f"{n}³ 1 thread  {r:<10} {res[r] * 1e3:10.2f} ms {gflops(n, res[r]):8.2f} GFLOP/s "
                         f"{100 * res['blas'] / res[r]:6.1f} % of BLAS")  # fmt: skip
    for n, res in data["two_threads"].items():
        for r in ("parallel", "blas"):
            lines.append(f"{n}³ 2 threads {r:<10} {res[r] * 1e3:10.2f} ms {gflops(int(n), res[r]):8.2f} GFLOP/s "
                         f"{100 * res['blas'] / res[r]:6.1f} % of BLAS")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(_child(int(sys.argv[2]))))
        sys.exit(0)
    if "--measure" in sys.argv[1:]:
        _results.save(DATA, measure())
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    print(summary(_results.load(DATA)))
