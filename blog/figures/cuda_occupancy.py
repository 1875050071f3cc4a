"""Figure for the post "Writing CUDA kernels you can test without a GPU": PTX resources and occupancy.

Every CUDA kernel of hyperion-kernels is compiled to PTX for ``sm_80`` (A100) and ``sm_90``
(H100) by ``python -m hyperion.kernels.cuda.ptx_report``, assembled by nvJitLink from the same
CUDA release as the compiler, and its registers per thread and static shared memory per block
are turned into a theoretical occupancy (resident warps per SM out of 64) with the per-SM
limits of each architecture.

Left: occupancy per kernel (float32), both architectures, with the limiting resource named.
Right: registers per thread and shared memory per block (float32, ``sm_80``).

The figure is drawn from ``data/cuda_ptx.json`` (no compiler needed to draw it). Re-measure
(compiles every kernel: a minute or two; needs numba-cuda with its CUDA 13 extra, no GPU)::

    python blog/figures/cuda_occupancy.py --measure
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import _results
import numpy as np
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "cuda_ptx.json"
ARCHS = ("sm_80", "sm_90")


def measure() -> dict[str, Any]:
    """Compile every kernel (float32 and float64, sm_80 and sm_90) and read its resources."""
    from hyperion.kernels.cuda.ptx_report import build_report

    return build_report(list(ARCHS), ["float32", "float64"])


def rows(data: dict[str, Any], dtype: str, arch: str) -> list[dict[str, Any]]:
    """The report rows of one dtype and architecture, in catalogue order."""
    return [r for r in data["kernels"] if r["dtype"] == dtype and r["arch"] == arch]


def draw(fig: Figure, data: dict[str, Any]) -> None:
    """Draw both panels of ``data`` onto ``fig``."""
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    names = [r["kernel"] for r in rows(data, "float32", "sm_80")]
    y = np.arange(len(names))
    height = 0.38
    for offset, arch, color in ((-height / 2, "sm_80", "tab:blue"), (height / 2, "sm_90", "tab:orange")):
        occ = [r["occupancy"] for r in rows(data, "float32", arch)]
        bars = left.barh(y + offset, occ, height, color=color, label=arch)
        for bar, r in zip(bars, rows(data, "float32", arch)):
            left.text(bar.get_width() + 0.01, bar.get_y() + bar.get_height() / 2, r["limiter"],
                      va="center", fontsize=7)  # fmt: skip
    left.set_yticks(y, names, fontsize=8)
    left.invert_yaxis()
    left.set_xlim(0, 1.35)
    left.set_xlabel("theoretical occupancy (resident warps / 64)")
    left.set_title("float32, limiting resource named")
    left.legend(loc="lower right", fontsize=8)
    base = rows(data, "float32", "sm_80")
    regs = [r["registers"] for r in base]
    smem = [r["smem_bytes"] / 1024 for r in base]
    right.barh(y - height / 2, regs, height, color="tab:green", label="registers / thread")
    twin = right.twiny()
    twin.barh(y + height / 2, smem, height, color="tab:purple", label="shared memory / block (KB)")
    right.set_yticks(y, [""] * len(names))
    right.invert_yaxis()
    right.set_xlabel("registers per thread (sm_80, float32)", color="tab:green")
    twin.set_xlabel("static shared memory per block (KB)", color="tab:purple")
    fig.tight_layout()


def build() -> Figure:
    """Draw the figure from the committed measurements."""
    fig = Figure(figsize=(10, 4.2))
    draw(fig, _results.load(DATA))
    return fig


def summary(data: dict[str, Any]) -> str:
    """The numbers as a Markdown table (the post quotes them)."""
    lines = ["| kernel | dtype | regs sm_80 / sm_90 | smem B sm_80 / sm_90 | occupancy sm_80 / sm_90 | limiter |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    for dtype in ("float32", "float64"):
        for a, b in zip(rows(data, dtype, "sm_80"), rows(data, dtype, "sm_90")):
            lines.append(
                f"| {a['kernel']} | {dtype} | {a['registers']} / {b['registers']} | {a['smem_bytes']} / "
                f"{b['smem_bytes']} | {a['occupancy']:.0%} / {b['occupancy']:.0%} | {a['limiter']} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    if "--measure" in sys.argv[1:]:
        _results.save(DATA, measure())
    figure = build()
    figure.savefig(Path(__file__).with_suffix(".png"))
    print(summary(_results.load(DATA)))
