"""The figure of a kernels-benchmark post: bandwidth against the copy roofline, and speedups.

A helper for figure scripts (not a figure itself). A :class:`KernelBenchFigure` names the ops of
``hyperion-kernels bench`` it shows and how to label them; it measures them (``--measure``:
the roofline first, then kernel, composed NumPy and PyTorch, interleaved in one process),
keeps the results in ``data/<name>.json``, draws the two panels from that file, and prints the
table a post quotes.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _results
from matplotlib.figure import Figure

IMPLS = ("naive", "cpu", "torch")
COLORS = {"naive": "tab:gray", "cpu": "tab:blue", "torch": "tab:orange"}


def plain_shape(row: dict[str, Any]) -> str:
    """``rows×length`` of a result row."""
    return "×".join(map(str, row["shape"]))


@dataclass(frozen=True)
class KernelBenchFigure:
    """One kernels-benchmark figure.

    Attributes:
        data: The JSON file of the measurements.
        ops: The benchmark's op names to run and show.
        labels: Legend label per implementation (``naive``, ``cpu``, ``torch``).
        xlabel: What a bar group is.
        ylabel: How the bandwidth counts bytes.
        shape: A bar group's label from a result row.
        shape_header: That label's column heading in the printed table.
        shape_width: Its column width there.
    """

    data: Path
    ops: tuple[str, ...]
    labels: dict[str, str]
    xlabel: str
    ylabel: str
    shape: Callable[[dict[str, Any]], str] = plain_shape
    shape_header: str = "shape"
    shape_width: int = 13

    def measure(self) -> dict[str, Any]:
        """Run the benchmark framework for the ops; its report (machine + results)."""
        from hyperion.kernels.bench import run_bench

        report = run_bench(list(self.ops), progress=lambda message: print(message, file=sys.stderr, flush=True))
        return {"machine": report["machine"], "results": report["results"]}

    def draw(self, fig: Figure, data: dict[str, Any]) -> None:
        """Bandwidth per shape and implementation (with the roofline), and the speedup over NumPy."""
        left, right = fig.subplots(1, 2)
        rows = [r for r in data["results"] if r["op"] in self.ops]
        shapes = list(dict.fromkeys(self.shape(r) for r in rows))
        width = 0.8 / len(IMPLS)
        for k, impl in enumerate(IMPLS):
            by_shape = {self.shape(r): r for r in rows if r["impl"] == impl}
            xs = [i + k * width for i, s in enumerate(shapes) if s in by_shape]
            style = {"label": self.labels[impl], "color": COLORS[impl]}
            left.bar(xs, [by_shape[s]["gbps"] for s in shapes if s in by_shape], width, **style)
            if impl != "naive":
                right.bar(xs, [by_shape[s]["speedup_vs_naive"] for s in shapes if s in by_shape], width, **style)
        left.axhline(data["machine"]["copy_gbps"], color="black", linestyle="--", linewidth=1, label="copy roofline")
        right.axhline(1.0, color="gray", linewidth=1)
        for axes in (left, right):
            axes.set_xticks([i + width for i in range(len(shapes))], shapes)
            axes.set_xlabel(self.xlabel)
            axes.legend(fontsize="small")
            axes.grid(True, axis="y", alpha=0.3)
        left.set_ylabel(self.ylabel)
        left.set_title("Effective bandwidth")
        right.set_ylabel("speedup over composed NumPy")
        right.set_title("Same process, interleaved, medians")

    def build(self) -> Figure:
        """Draw the figure from the committed results."""
        fig = Figure(figsize=(10, 4), layout="constrained")
        self.draw(fig, _results.load(self.data))
        return fig

    def summary(self, data: dict[str, Any]) -> str:
        """The results as a table (the post quotes them)."""
        m = data["machine"]
        lines = [
            f"copy roofline {m['copy_gbps']:.2f} GB/s, BLAS {m['blas_gflops']:.1f} GFLOP/s",
            f"{self.shape_header:<{self.shape_width}} impl    ms        GB/s   %roof  vs naive  vs torch",
        ]
        for r in data["results"]:
            if r["op"] not in self.ops:
                continue
            lines.append(
                f"{self.shape(r):<{self.shape_width}} {r['impl']:<6} {r['seconds'] * 1e3:8.1f} {r['gbps']:8.3f}"
                f" {100 * r['roofline_fraction']:6.1f}  {r['speedup_vs_naive'] or 0:8.2f}  {r['ratio_vs_torch'] or 0:8.2f}"
            )
        return "\n".join(lines)

    def main(self, argv: Sequence[str], png: Path) -> None:
        """Run by hand: ``--measure`` re-measures first; then save ``png`` and print the table."""
        import matplotlib

        matplotlib.use("Agg")
        matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.family": "DejaVu Sans"})
        if "--measure" in argv:
            _results.save(self.data, self.measure())
        self.build().savefig(png, metadata={"Software": None})
        print(self.summary(_results.load(self.data)))
