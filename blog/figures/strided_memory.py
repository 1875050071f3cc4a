"""Figure for the post "Strided memory": what a view costs, and what memory order costs.

Left: time per call, for an n x n float32 tensor ``x`` of growing size, of
- a chain of four views of ``x`` (transpose, strided slice, new axis, broadcast): no data moves;
- ``x.clone()``: a copy that reads ``x`` in memory order;
- ``x.T.contiguous()``: a copy of the same bytes that reads ``x`` column by column, jumping
  ``n`` elements between consecutive reads.

Right: how much slower the transposed-order copy is than the memory-order copy, for the same
number of bytes. Memory arrives in 64-byte cache lines; reading in memory order uses every byte of
each line, reading down a column uses 4 bytes of each and must come back for the rest later, which
only works while the lines are still in a cache.

Timings depend on the machine; the messages (views are flat, copies grow, and access order
changes the cost of the same copy several times over) do not. The two copies are timed
interleaved and the ratio is the median of per-repeat ratios, so load from other processes
cancels out.

The figure is drawn from the measurements committed in ``data/strided_memory.json``, so every
docs build gives the same bytes. Re-measure on your machine (this rewrites the JSON and prints
the numbers the post quotes), then rebuild::

    python blog/figures/strided_memory.py --measure
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import _results
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

import hyperion.tensor as ht

SIDES = (16, 32, 64, 128, 256, 512, 1024, 2048)
REPEATS = 5
SAMPLE_S = 0.01  # a sample loops over a call for about this long
DATA = Path(__file__).parent / "data" / "strided_memory.json"


def interleaved_samples(fns: Sequence[Callable[[], object]]) -> list[list[float]]:
    """Seconds per call of each function, ``REPEATS`` samples each, taken in alternation."""
    numbers = []
    for fn in fns:
        fn()  # warm up: first-call costs (caches, page faults) are not what is measured
        start = time.perf_counter()
        fn()
        numbers.append(max(1, int(SAMPLE_S / max(time.perf_counter() - start, 1e-7))))
    samples: list[list[float]] = [[] for _ in fns]
    for _ in range(REPEATS):
        for k, (fn, number) in enumerate(zip(fns, numbers, strict=True)):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples[k].append((time.perf_counter() - start) / number)
    return samples


def view_chain(x: ht.Tensor) -> ht.Tensor:
    """Four views, no data touched: transpose, strided slice, new axis, broadcast."""
    return x.T[::2, 1:].unsqueeze(0).expand(3, -1, -1)


def measure() -> dict[str, list[float]]:
    """Median seconds per call of the three contenders, and the copy slowdown, for each side."""
    rng = np.random.default_rng(0)
    out: dict[str, list[float]] = {"elements": [], "views": [], "clone": [], "transposed": [], "slowdown": []}
    for side in SIDES:
        x = ht.from_numpy(rng.random((side, side), dtype=np.float32))
        views, clone, transposed = interleaved_samples(
            [lambda x=x: view_chain(x), lambda x=x: x.clone(), lambda x=x: x.T.contiguous()]
        )
        out["elements"].append(side * side)
        out["views"].append(statistics.median(views))
        out["clone"].append(statistics.median(clone))
        out["transposed"].append(statistics.median(transposed))
        out["slowdown"].append(statistics.median(t / c for t, c in zip(transposed, clone, strict=True)))
    return out


def draw(fig: Figure, data: dict[str, list[float]]) -> None:
    """Draw the two panels of measured ``data`` onto ``fig``."""
    left, right = fig.subplots(1, 2)
    elements = data["elements"]

    left.loglog(elements, [t * 1e6 for t in data["views"]], "o-", label="chain of 4 views")
    left.loglog(elements, [t * 1e6 for t in data["clone"]], "s-", label="x.clone() (memory order)")
    left.loglog(elements, [t * 1e6 for t in data["transposed"]], "^-", label="x.T.contiguous() (column order)")
    left.set_xlabel("elements in x (n × n float32)")
    left.set_ylabel("time per call (µs)")
    left.set_title("A view costs the same at any size; a copy does not")
    left.grid(True, which="major", alpha=0.3)
    left.legend(loc="upper left", fontsize="small")

    right.loglog(elements, data["slowdown"], "^-", color="C2")
    right.axhline(1.0, color="0.5", linestyle="--", linewidth=1)
    # A log scale with fixed ticks: a ratio of 2 and a ratio of 20 read equally well on any machine.
    top = max(2.0, max(data["slowdown"])) * 1.5
    right.set_ylim(0.8, top)
    ticks = [t for t in (1, 2, 5, 10, 20, 50, 100, 200) if t <= top]
    right.yaxis.set_minor_locator(NullLocator())
    right.set_yticks(ticks, [f"{t}×" for t in ticks])
    right.set_xlabel("elements in x (n × n float32)")
    right.set_ylabel("time of x.T.contiguous() / time of x.clone()")
    right.set_title("Same bytes copied, different read order")
    right.grid(True, which="major", alpha=0.3)
    right.annotate(
        f"{data['slowdown'][-1]:.0f}× slower",
        xy=(elements[-1], data["slowdown"][-1]),
        xytext=(-10, 0),
        textcoords="offset points",
        ha="right",
        va="center",
        fontsize="small",
    )


def build() -> Figure:
    """Draw the figure from the committed measurements."""
    fig = Figure(figsize=(10, 4), layout="constrained")
    draw(fig, _results.load(DATA))
    return fig


def summary(data: dict[str, list[float]]) -> str:
    """The measured numbers as a table (the post quotes them)."""
    lines = ["elements   4 views (us)   clone (us)   x.T.contiguous() (us)   slowdown"]
    lines += [
        f"{n:>8}   {v * 1e6:12.2f}   {c * 1e6:10.1f}   {t * 1e6:21.1f}   {s:7.1f}x"
        for n, v, c, t, s in zip(
            data["elements"], data["views"], data["clone"], data["transposed"], data["slowdown"], strict=True
        )
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.family": "DejaVu Sans"})
    if "--measure" in sys.argv[1:]:
        _results.save(DATA, measure())
    measured = _results.load(DATA)
    figure = Figure(figsize=(10, 4), layout="constrained")
    draw(figure, measured)
    figure.savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    print(summary(measured))
