"""Figure for "Reproducing FlashAttention on a CPU": IO complexity and block size (claims 3 and 4).

Left: slow-memory accesses counted by the two-level simulator
(``hyperion.kernels.cpu.io_model``) for standard attention (Algorithm 0) and FlashAttention
(Algorithm 1) as N grows (d = 64, M = 16k elements), with the fitted ``c·N²d²/M`` and
``c·(Nd + N²)``. Middle: the same against the fast-memory size M. Right: accesses (simulated,
N = 1024) and the Numba kernel's CPU time (N = 4096) against the key-block size B_c.
Drawn from ``data/flash_io.json``; re-measure with::

    NUMBA_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 python blog/figures/flash_io.py --measure
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import _results
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "flash_io.json"


def measure() -> dict[str, Any]:
    """Simulator sweeps (claim 3) and the block-size sweep (claim 4)."""
    from hyperion.kernels.bench.flash_repro import block_size, io_complexity

    return {"io": io_complexity(), "block_size": block_size(4096)}


def build() -> Figure:
    """Three panels: accesses vs N, accesses vs M, accesses and time vs block size."""
    data = _results.load(DATA)
    io, fits = data["io"]["sweeps"], data["io"]["fits"]
    c_flash, c_std = fits["flash_vs_N2d2_over_M"]["c"], fits["standard_vs_Nd_plus_N2"]["c"]
    fig = Figure(figsize=(12, 3.8), layout="constrained")
    by_n, by_m, by_block = fig.subplots(1, 3)
    for ax, axis, key in ((by_n, "N", "n"), (by_m, "M", "m")):
        rows = io[axis]
        x = [r[key] for r in rows]
        ax.loglog(x, [r["standard"] for r in rows], "o", color="C3", label="standard (simulated)")
        ax.loglog(x, [r["flash"] for r in rows], "s", color="C0", label="flash (simulated)")
        ax.loglog(x, [c_std * (r["n"] * r["d"] + r["n"] ** 2) for r in rows], "-", color="C3", alpha=0.6,
                  label=f"{c_std:.2f}·(Nd + N²)")  # fmt: skip
        ax.loglog(x, [c_flash * r["n"] ** 2 * r["d"] ** 2 / r["m"] for r in rows], "-", color="C0", alpha=0.6,
                  label=f"{c_flash:.1f}·N²d²/M")  # fmt: skip
        ax.set_xscale("log", base=2)
        ax.set_ylabel("slow-memory accesses (elements)")
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize="x-small")
    by_n.set_xlabel("N (d = 64, M = 16384)")
    by_n.set_title("Accesses vs sequence length")
    by_m.set_xlabel("fast memory M (elements; N = 1024, d = 64)")
    by_m.set_title("Accesses vs fast-memory size")
    blocks = data["block_size"]["rows"]
    bc = [r["block_cols"] for r in blocks]
    by_block.semilogx(bc, [r["accesses"] / 1e6 for r in blocks], "s-", color="C0", base=2)
    by_block.set_xlabel("key block size B_c (B_r = 64)")
    by_block.set_ylabel("simulated accesses (millions, N = 1024)", color="C0")
    twin = by_block.twinx()
    twin.semilogx(bc, [r["seconds"] * 1e3 for r in blocks], "o--", color="C1", base=2)
    twin.set_ylabel(f"CPU forward time (ms, N = {data['block_size']['n']})", color="C1")
    by_block.set_title("Block size: fewer accesses, then flat")
    by_block.grid(True, which="major", alpha=0.3)
    return fig


def summary(data: dict[str, Any]) -> str:
    """The numbers the post quotes."""
    lines = []
    for name, fit in data["io"]["fits"].items():
        lines.append(
            f"{name}: c = {fit['c']:.3f}, measured/formula in [{fit['ratio_min']:.3f}, {fit['ratio_max']:.3f}]"
        )
    for axis, rows in data["io"]["sweeps"].items():
        for r in rows:
            lines.append(f"sweep {axis}: N={r['n']} d={r['d']} M={r['m']} standard={r['standard']} flash={r['flash']} "
                         f"ratio={r['standard'] / r['flash']:.1f} blocks={r['flash_blocks']}")  # fmt: skip
    for r in data["block_size"]["rows"]:
        lines.append(f"B_c={r['block_cols']:<5} accesses={r['accesses']:>10} time={r['seconds'] * 1e3:.1f} ms")
    return "\n".join(lines)


if __name__ == "__main__":
    if "--measure" in sys.argv[1:]:
        _results.save(DATA, measure())
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    print(summary(_results.load(DATA)))
