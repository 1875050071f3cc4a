"""Figure for "Reproducing FlashAttention on a CPU": peak extra memory vs sequence length (claim 2).

Forward (and backward, up to 8k) of one head, d = 64, float32: the flash kernel of
``hyperion.kernels.cpu.attention`` against naive NumPy (the score matrix in memory). Peak
extra memory is what ``tracemalloc`` sees allocated during one call, inputs excluded.
Drawn from ``data/flash_memory.json``; re-measure with::

    NUMBA_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 python blog/figures/flash_memory.py --measure
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import _results
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "flash_memory.json"
SIZES = (256, 512, 1024, 2048, 4096, 8192, 16384)
BACKWARD_SIZES = (256, 512, 1024, 2048, 4096, 8192)


def measure() -> dict[str, Any]:
    """Run the measurement (minutes: the naive version at 16k allocates gigabytes)."""
    from hyperion.kernels.bench.flash_repro import memory

    return memory(SIZES, BACKWARD_SIZES)


def build() -> Figure:
    """Peak extra MiB vs N, log-log, forward and backward."""
    data = _results.load(DATA)
    fig = Figure(figsize=(9, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    rows = data["rows"]
    n = [r["n"] for r in rows]
    for key, style in (("naive_forward", "o-C3"), ("flash_forward", "s-C0")):
        left.loglog(n, [r[key] / 2**20 for r in rows], style[:-2], color=style[-2:], label=key.replace("_", " "))
    back = [r for r in rows if "naive_backward" in r]
    for key, style in (("naive_backward", "o--C3"), ("flash_backward", "s--C0")):
        left.loglog([r["n"] for r in back], [r[key] / 2**20 for r in back], style[:-2], color=style[-2:],
                    label=key.replace("_", " "))  # fmt: skip
    left.set_xlabel("sequence length N (d = 64)")
    left.set_ylabel("peak extra memory (MiB)")
    left.set_title("Quadratic (naive) vs linear (flash)")
    left.grid(True, which="major", alpha=0.3)
    left.legend(fontsize="small")
    right.semilogx(n, [r["naive_forward"] / r["flash_forward"] for r in rows], "o-", color="C2", label="forward")
    right.semilogx([r["n"] for r in back], [r["naive_backward"] / r["flash_backward"] for r in back], "o--",
                   color="C4", label="backward")  # fmt: skip
    right.set_xlabel("sequence length N")
    right.set_ylabel("naive / flash peak memory")
    right.set_title("Memory saving")
    right.grid(True, which="major", alpha=0.3)
    right.legend(fontsize="small")
    return fig


def summary(data: dict[str, Any]) -> str:
    """The numbers the post quotes."""
    lines = ["N        naive fwd MiB  flash fwd MiB  ratio   naive bwd MiB  flash bwd MiB  ratio"]
    for r in data["rows"]:
        line = f"{r['n']:<8} {r['naive_forward'] / 2**20:>13.1f} {r['flash_forward'] / 2**20:>14.2f} {r['naive_forward'] / r['flash_forward']:>6.1f}"
        if "naive_backward" in r:
            line += f" {r['naive_backward'] / 2**20:>15.1f} {r['flash_backward'] / 2**20:>14.2f} {r['naive_backward'] / r['flash_backward']:>6.1f}"
        lines.append(line)
    return "\n".join(lines)


if __name__ == "__main__":
    if "--measure" in sys.argv[1:]:
        _results.save(DATA, measure())
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    print(summary(_results.load(DATA)))
