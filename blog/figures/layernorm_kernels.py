"""Figure for the post "LayerNorm kernels": forward+backward of LayerNorm and RMSNorm, fused vs composed.

The numbers come from the kernels' own benchmark (``hyperion-kernels bench --op layernorm --op rmsnorm``): the
roofline first (copy bandwidth, STREAM-like), then one forward *and* backward pass of LayerNorm
(two shapes) and RMSNorm (one) in float32 for the composed NumPy version (``naive``), the fused
Numba kernels (``cpu``) and PyTorch (forward + ``autograd.grad``), timed interleaved in one
process (medians). Left: effective bandwidth (forward reads x and writes y; backward reads gy
and x and writes gx: five array passes) with the copy roofline. Right: speedup over NumPy.

The figure is drawn from ``data/layernorm_kernels.json``, so the docs build never measures. Re-measure
(a few minutes; pin the threads for comparable numbers), then rebuild::

    NUMBA_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 python blog/figures/layernorm_kernels.py --measure
"""

from __future__ import annotations

import sys
from pathlib import Path

import _results
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "layernorm_kernels.json"
OPS = ("layernorm", "rmsnorm")
IMPLS = ("naive", "cpu", "torch")
COLORS = {"naive": "tab:gray", "cpu": "tab:blue", "torch": "tab:orange"}
LABELS = {"naive": "composed NumPy", "cpu": "fused kernel (Numba)", "torch": "PyTorch autograd"}


def measure() -> dict:
    """Run the benchmark framework for the LayerNorm and RMSNorm ops; returns its report (machine + results)."""
    from hyperion.kernels.bench import run_bench

    report = run_bench(list(OPS), progress=lambda message: print(message, file=sys.stderr, flush=True))
    return {"machine": report["machine"], "results": report["results"]}


def _shape(row: dict) -> str:
    return ("RMS " if row["op"] == "rmsnorm" else "LN ") + "×".join(map(str, row["shape"]))


def draw(fig: Figure, data: dict) -> None:
    """Bandwidth per shape and implementation (with the roofline), and the speedup over NumPy."""
    left, right = fig.subplots(1, 2)
    rows = [r for r in data["results"] if r["op"] in OPS]
    shapes = list(dict.fromkeys(_shape(r) for r in rows))
    width = 0.8 / len(IMPLS)
    for k, impl in enumerate(IMPLS):
        by_shape = {_shape(r): r for r in rows if r["impl"] == impl}
        xs = [i + k * width for i, s in enumerate(shapes) if s in by_shape]
        left.bar(xs, [by_shape[s]["gbps"] for s in shapes if s in by_shape], width, label=LABELS[impl], color=COLORS[impl])
        if impl != "naive":
            right.bar(xs, [by_shape[s]["speedup_vs_naive"] for s in shapes if s in by_shape], width, label=LABELS[impl], color=COLORS[impl])
    left.axhline(data["machine"]["copy_gbps"], color="black", linestyle="--", linewidth=1, label="copy roofline")
    right.axhline(1.0, color="gray", linewidth=1)
    for axes in (left, right):
        axes.set_xticks([i + width for i in range(len(shapes))], shapes)
        axes.set_xlabel("op, rows × features (float32)")
        axes.legend(fontsize="small")
        axes.grid(True, axis="y", alpha=0.3)
    left.set_ylabel("GB/s (5 array passes: fwd + bwd)")
    left.set_title("Effective bandwidth")
    right.set_ylabel("speedup over composed NumPy")
    right.set_title("Same process, interleaved, medians")


def build() -> Figure:
    """Draw the figure from the committed results."""
    fig = Figure(figsize=(10, 4), layout="constrained")
    draw(fig, _results.load(DATA))
    return fig


def summary(data: dict) -> str:
    """The results as a table (the post quotes them)."""
    m = data["machine"]
    lines = [f"copy roofline {m['copy_gbps']:.2f} GB/s, BLAS {m['blas_gflops']:.1f} GFLOP/s",
             "op shape         impl    ms        GB/s   %roof  vs naive  vs torch"]  # fmt: skip
    for r in data["results"]:
        if r["op"] not in OPS:
            continue
        lines.append(
            f"{_shape(r):<16} {r['impl']:<6} {r['seconds'] * 1e3:8.1f} {r['gbps']:8.3f} {100 * r['roofline_fraction']:6.1f}"
            f"  {r['speedup_vs_naive'] or 0:8.2f}  {r['ratio_vs_torch'] or 0:8.2f}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.family": "DejaVu Sans"})
    if "--measure" in sys.argv[1:]:
        _results.save(DATA, measure())
    results = _results.load(DATA)
    figure = build()
    figure.savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    print(summary(results))
