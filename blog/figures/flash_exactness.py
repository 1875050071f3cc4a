"""Figure for "Reproducing FlashAttention on a CPU": float16 error of flash vs naive (claims 1 and 5).

For N = 256 and 1024 (d = 64), causal and not, the max-abs error against float64 of the
output and the three gradients, for standard attention in float16 and for the tiled
algorithm (float16 tiles, float32 statistics and accumulators), both simulated in NumPy by
``hyperion.kernels.cpu.attention_fp16``; the paper's criterion is flash ≤ 2 × naive. The
data also holds the Numba kernel's float32/float64 errors and its backward's memory (claim 5).
Drawn from ``data/flash_exactness.json``; re-measure with::

    NUMBA_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 python blog/figures/flash_exactness.py --measure
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import _results
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "flash_exactness.json"


def measure() -> dict[str, Any]:
    """Claim 1 (float16 simulation) and claim 5 (backward from the saved statistics, N = 4096)."""
    from hyperion.kernels.bench.flash_repro import backward, exactness

    return {"exactness": exactness((256, 1024)), "backward": backward(4096)}


def build() -> Figure:
    """One panel per case: naive and flash float16 errors of o, dq, dk, dv."""
    data = _results.load(DATA)["exactness"]
    cases = data["cases"]
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    axes = fig.subplots(1, len(cases), sharey=True)
    names = data["outputs"]
    for ax, case in zip(axes, cases, strict=True):
        x = range(len(names))
        ax.bar([i - 0.2 for i in x], case["naive"], width=0.4, color="C3", label="naive float16")
        ax.bar([i + 0.2 for i in x], case["flash"], width=0.4, color="C0", label="flash (float16 tiles)")
        ax.set_xticks(list(x), names)
        ax.set_yscale("log")
        ax.set_title(
            f"N={case['n']}{', causal' if case['causal'] else ''}\nmax ratio {max(case['ratio']):.2f}", fontsize="small"
        )
        ax.grid(True, axis="y", alpha=0.3)
    axes[0].set_ylabel("max |error| vs float64")
    axes[0].legend(fontsize="x-small")
    return fig


def summary(data: dict[str, Any]) -> str:
    """The numbers the post quotes."""
    ex, bw = data["exactness"], data["backward"]
    lines = ["N     causal  naive err (o dq dk dv)                  flash/naive ratios"]
    for c in ex["cases"]:
        lines.append(f"{c['n']:<5} {c['causal']!s:<7} {' '.join(f'{e:.1e}' for e in c['naive'])}   "
                     f"{' '.join(f'{r:.2f}' for r in c['ratio'])}")  # fmt: skip
    for dtype, errs in ex["kernel_relative_error_n1024_causal"].items():
        lines.append(f"kernel {dtype} relative error (o dq dk dv): {' '.join(f'{e:.1e}' for e in errs)}")
    for dtype, errs in bw["relative_error"].items():
        lines.append(f"backward from (O, lse) {dtype}, N={min(bw['n'], 1024)}: {' '.join(f'{e:.1e}' for e in errs)}")
    lines.append(f"backward peak extra memory at N={bw['n']}: {bw['backward_peak_extra_bytes'] / 2**20:.2f} MiB "
                 f"(one N×N float32 matrix: {bw['n_by_n_float32_bytes'] / 2**20:.0f} MiB)")  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    if "--measure" in sys.argv[1:]:
        _results.save(DATA, measure())
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    print(summary(_results.load(DATA)))
