"""Figure for "Reproducing FlashAttention on a CPU": wall-clock vs N (claim 6).

Forward of one head, d = 64, float32, medians of interleaved runs: the Numba flash kernel,
naive NumPy and PyTorch's CPU ``scaled_dot_product_attention``. The paper's speedups are GPU
results (HBM vs SRAM); this measures a CPU. Drawn from ``data/flash_speed.json``; re-measure with::

    NUMBA_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 python blog/figures/flash_speed.py --measure
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import _results
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "flash_speed.json"
SIZES = (256, 512, 1024, 2048, 4096)


def measure() -> dict[str, Any]:
    """Interleaved medians per N (PyTorch skipped when not installed)."""
    from hyperion.kernels.bench.flash_repro import speed

    try:
        import torch
    except ImportError:
        torch = None
    data = speed(SIZES, repeats=7, torch=torch)
    data["threads"] = {var: os.environ.get(var, "unset") for var in ("NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
    data["torch_threads"] = torch.get_num_threads() if torch is not None else None
    return data


def build() -> Figure:
    """Time vs N (log-log) and time relative to naive."""
    data = _results.load(DATA)
    rows = data["rows"]
    n = [r["n"] for r in rows]
    impls = [k for k in ("naive", "flash", "torch_sdpa") if k in rows[0]]
    colors = {"naive": "C3", "flash": "C0", "torch_sdpa": "C2"}
    fig = Figure(figsize=(9, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    for impl in impls:
        left.loglog(n, [r[impl] * 1e3 for r in rows], "o-", color=colors[impl], label=impl)
        right.semilogx(n, [r[impl] / r["naive"] for r in rows], "o-", color=colors[impl], label=impl)
    left.set_xlabel("sequence length N (d = 64)")
    left.set_ylabel("forward time (ms)")
    left.set_title("CPU forward time")
    right.set_xlabel("sequence length N")
    right.set_ylabel("time / naive NumPy time")
    right.set_title("Relative to naive (below 1: faster)")
    for ax in (left, right):
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize="small")
    return fig


def summary(data: dict[str, Any]) -> str:
    """The numbers the post quotes."""
    lines = [f"threads: {data.get('threads')}, torch threads {data.get('torch_threads')}"]
    for r in data["rows"]:
        extra = (
            f"  torch {r['torch_sdpa'] * 1e3:8.2f} ms  flash/torch {r['flash'] / r['torch_sdpa']:.2f}"
            if "torch_sdpa" in r
            else ""
        )
        lines.append(f"N={r['n']:<5} naive {r['naive'] * 1e3:8.2f} ms  flash {r['flash'] * 1e3:8.2f} ms  "
                     f"flash/naive {r['flash'] / r['naive']:.2f}{extra}")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    if "--measure" in sys.argv[1:]:
        _results.save(DATA, measure())
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    print(summary(_results.load(DATA)))
