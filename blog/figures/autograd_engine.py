"""Figure for the post "The autograd engine": backward time grows linearly with the graph.

Two graph shapes, from 100 to 100,000 ops, built with ``hyperion.autograd``:

- a **chain**: ``y = x``, then ``y = y * 1.0`` n times, then ``y.sum()``: every node has one
  input, so the graph is n ops deep (a recursive traversal would need n stack frames);
- a **wide** graph: ``x * k`` for k = 0 .. n-1, joined by one ``cat`` and a ``sum``: every
  branch is one op deep, the leaf ``x`` receives n gradients and the ``cat`` node has n inputs.

For each graph it times the forward (which records the graph), the topological sort alone
(``hyperion.autograd.engine.topological_order``) and the full ``backward()`` (which sorts
again, runs every node's backward and frees the graph). Left: time against nodes, log-log,
with a line of slope 1 for reference. Right: the same times divided by the number of nodes;
flat lines mean linear time. Python's garbage collector is off while timing, as in ``timeit``;
the largest graphs are also timed with it on, and the summary prints both.

The figure is drawn from the measurements committed in ``data/autograd_engine.json``, so
every docs build gives the same bytes. Re-measure on your machine (this rewrites the JSON and
prints the numbers the post quotes), then rebuild::

    python blog/figures/autograd_engine.py --measure
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import _results
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

import hyperion.autograd as ag
from hyperion.autograd.engine import topological_order

SIZES = (100, 300, 1_000, 3_000, 10_000, 30_000, 100_000)
REPEATS = 5
NODES_PER_SAMPLE = 30_000
DATA = Path(__file__).parent / "data" / "autograd_engine.json"
SHAPES = ("chain", "wide")
PHASES = ("forward", "sort", "backward")


def chain(x: ag.Tensor, n: int) -> ag.Tensor:
    """n multiplications in a row, then a sum: n + 1 nodes, n + 1 deep."""
    y = x
    for _ in range(n):
        y = y * 1.0
    return y.sum()


def wide(x: ag.Tensor, n: int) -> ag.Tensor:
    """n products of the same leaf, one ``cat`` and a sum: n + 2 nodes, 3 deep."""
    return ag.cat([x * float(k) for k in range(n)]).sum()


def time_once(shape: str, n: int, collector: bool = False) -> dict[str, float]:
    """Seconds of the three phases for freshly built graphs of ``n`` ops (and their node count).

    Small graphs are built and differentiated several times in a row (about ``NODES_PER_SAMPLE``
    nodes in all) and the times averaged, so that every sample lasts long enough to time.
    Python's cyclic garbage collector is off while timing (as ``timeit`` does), unless
    ``collector``: its full collections walk every live object, graph nodes included, and add a
    cost that belongs to the runtime, not to the engine.
    """
    build = chain if shape == "chain" else wide
    expected = 1.0 if shape == "chain" else float(sum(range(n)))
    inner = max(1, NODES_PER_SAMPLE // n)
    totals = {phase: 0.0 for phase in PHASES}
    gc.collect()
    if not collector:
        gc.disable()
    try:
        for _ in range(inner):
            x = ag.tensor([1.0], dtype="float64", requires_grad=True)
            start = time.perf_counter()
            loss = build(x, n)
            built = time.perf_counter()
            nodes = len(topological_order([loss.grad_fn]))
            sorted_at = time.perf_counter()
            loss.backward()
            done = time.perf_counter()
            totals["forward"] += built - start
            totals["sort"] += sorted_at - built
            totals["backward"] += done - sorted_at
            assert x.grad.item() == expected, (shape, n, x.grad.item())  # a timing of a wrong answer is worthless
            del loss, x
    finally:
        gc.enable()
    return {"nodes": nodes, **{phase: t / inner for phase, t in totals.items()}}


def measure() -> dict[str, Any]:
    """Median seconds of each phase, per shape and size (shapes and sizes interleaved across repeats)."""
    samples: dict[str, dict[int, list[dict[str, float]]]] = {s: {n: [] for n in SIZES} for s in SHAPES}
    for _ in range(REPEATS):
        for n in SIZES:
            for shape in SHAPES:
                samples[shape][n].append(time_once(shape, n))
    out: dict[str, Any] = {"sizes": list(SIZES), "repeats": REPEATS}
    for shape in SHAPES:
        rows = [samples[shape][n] for n in SIZES]
        out[shape] = {"nodes": [int(r[0]["nodes"]) for r in rows]}
        for phase in PHASES:
            out[shape][phase] = [statistics.median(s[phase] for s in r) for r in rows]
        # The largest graph once more with the garbage collector on, for comparison.
        with_gc = [time_once(shape, SIZES[-1], collector=True) for _ in range(REPEATS)]
        out[shape]["with_gc"] = {phase: statistics.median(s[phase] for s in with_gc) for phase in PHASES}
    return out


def draw(fig: Figure, data: dict[str, Any]) -> None:
    """Draw both panels of the measured ``data`` onto ``fig``."""
    left, right = fig.subplots(1, 2)
    styles = {"chain": "-", "wide": "--"}
    markers = {"forward": "s", "sort": "^", "backward": "o"}
    colors = {"forward": "C0", "sort": "C2", "backward": "C3"}
    labels = {"forward": "forward (records the graph)", "sort": "topological sort alone", "backward": "backward()"}
    for shape in SHAPES:
        nodes = data[shape]["nodes"]
        for phase in PHASES:
            seconds = data[shape][phase]
            style = dict(linestyle=styles[shape], marker=markers[phase], color=colors[phase], markersize=4)
            left.loglog(nodes, [t * 1e3 for t in seconds], **style)
            right.semilogx(nodes, [t / n * 1e6 for t, n in zip(seconds, nodes, strict=True)], **style)
    # A line of slope 1 through the chain's first backward time: linear growth runs parallel to it.
    n0, t0 = data["chain"]["nodes"][0], data["chain"]["backward"][0] * 1e3
    n1 = data["chain"]["nodes"][-1]
    left.loglog([n0, n1], [t0 / 3, t0 / 3 * n1 / n0], color="0.5", linewidth=1, linestyle=":")
    left.set_xlabel("nodes in the graph")
    left.set_ylabel("time (ms)")
    left.set_title("Time per graph: parallel to slope 1")
    left.grid(True, which="major", alpha=0.3)
    handles = [Line2D([], [], color=colors[p], marker=markers[p], label=labels[p]) for p in PHASES]
    handles += [Line2D([], [], color="0.3", linestyle=styles[s], label=f"{s} graph") for s in SHAPES]
    handles += [Line2D([], [], color="0.5", linestyle=":", label="slope 1 (linear)")]
    left.legend(handles=handles, fontsize="x-small", loc="upper left")
    right.set_xlabel("nodes in the graph")
    right.set_ylabel("time per node (µs)")
    right.set_title("Time per node: flat (solid: chain, dashed: wide)")
    right.set_ylim(bottom=0)
    right.grid(True, which="major", alpha=0.3)


def build() -> Figure:
    """Draw the figure from the committed measurements."""
    fig = Figure(figsize=(10, 4.2), layout="constrained")
    draw(fig, _results.load(DATA))
    return fig


def summary(data: dict[str, Any]) -> str:
    """The measured numbers as a table (the post quotes them)."""
    lines = ["shape   nodes     forward ms    sort ms  backward ms   backward us/node"]
    for shape in SHAPES:
        d = data[shape]
        for k, n in enumerate(d["nodes"]):
            lines.append(
                f"{shape:<6} {n:>7} {d['forward'][k] * 1e3:>12.2f} {d['sort'][k] * 1e3:>10.2f} "
                f"{d['backward'][k] * 1e3:>12.2f} {d['backward'][k] / n * 1e6:>18.2f}"
            )
    for shape in SHAPES:
        d, n = data[shape]["with_gc"], data[shape]["nodes"][-1]
        lines.append(
            f"{shape:<6} {n:>7} {d['forward'] * 1e3:>12.2f} {d['sort'] * 1e3:>10.2f} "
            f"{d['backward'] * 1e3:>12.2f} {d['backward'] / n * 1e6:>18.2f}   (garbage collector on)"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.family": "DejaVu Sans"})
    if "--measure" in sys.argv[1:]:
        _results.save(DATA, measure())
    figure = Figure(figsize=(10, 4.2), layout="constrained")
    draw(figure, _results.load(DATA))
    figure.savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    print(summary(_results.load(DATA)))
