"""Figure for the post "Normalization layers": what BatchNorm, LayerNorm and RMSNorm compute.

Left: a batch of 64 samples with 32 features, where sample ``i`` is ``a_i + 0.5 · z`` with a
shift ``a_i`` from -3 to 3 and ``z ~ N(0, 1)``. For each sample, the mean of its output features
after ``BatchNorm1d`` (training mode), ``LayerNorm`` and ``RMSNorm`` (all from ``hyperion.nn``,
no affine parameters). LayerNorm removes every sample's shift; RMSNorm keeps its sign and
squashes it; BatchNorm, which normalizes each feature over the batch, keeps the differences
between samples.

Right: the running statistics of a ``BatchNorm1d`` (momentum 0.1) over 60 training steps on
batches of 32 drawn from N(3, 2²) per feature, against the values eval mode should use.

Computed here from seeded generators (under a second). Run by hand it saves the PNG and prints
the numbers the post quotes::

    python blog/figures/normalization_layers.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import hyperion.autograd as ag
import hyperion.nn as nn

SAMPLES, FEATURES = 64, 32
STEPS, BATCH, MEAN, STD = 60, 32, 3.0, 2.0


def per_sample_means() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Shifts ``a_i`` and, per layer, the mean of each sample's normalized features."""
    rng = np.random.default_rng(0)
    shifts = np.linspace(-3, 3, SAMPLES)
    x = ag.tensor(shifts[:, None] + 0.5 * rng.standard_normal((SAMPLES, FEATURES)))
    layers = {
        "BatchNorm1d": nn.BatchNorm1d(FEATURES, affine=False, dtype="float64"),
        "LayerNorm": nn.LayerNorm(FEATURES, elementwise_affine=False, dtype="float64"),
        "RMSNorm": nn.RMSNorm(FEATURES, elementwise_affine=False, dtype="float64"),
    }
    return shifts, {name: layer(x).numpy().mean(axis=1) for name, layer in layers.items()}


def running_stats() -> dict[str, list[float]]:
    """Feature-averaged running mean/var of a BatchNorm1d after each training step."""
    rng = np.random.default_rng(1)
    bn = nn.BatchNorm1d(8, dtype="float64")
    out: dict[str, list[float]] = {"mean": [float(bn.running_mean.numpy().mean())], "var": [1.0]}
    for _ in range(STEPS):
        bn(ag.tensor(MEAN + STD * rng.standard_normal((BATCH, 8))))
        out["mean"].append(float(bn.running_mean.numpy().mean()))
        out["var"].append(float(bn.running_var.numpy().mean()))
    return out


def build() -> Figure:
    fig = Figure(figsize=(11, 4), layout="constrained")
    left, right = fig.subplots(1, 2)
    shifts, means = per_sample_means()
    for k, (name, m) in enumerate(means.items()):
        left.plot(shifts, m, "o", markersize=3, color=f"C{k}", label=name)
    left.set_xlabel("shift $a_i$ of sample $i$ (its features are $a_i + 0.5 z$)")
    left.set_ylabel("mean of the sample's output features")
    left.set_title("Per-sample output mean: who removes the shift?")
    left.grid(True, alpha=0.3)
    left.legend(fontsize="small")

    stats = running_stats()
    steps = np.arange(STEPS + 1)
    right.plot(steps, stats["mean"], "-", color="C0", label="running_mean")
    right.plot(steps, stats["var"], "-", color="C1", label="running_var")
    right.axhline(MEAN, color="C0", linestyle="--", linewidth=1, label=f"true mean {MEAN:g}")
    right.axhline(STD**2, color="C1", linestyle="--", linewidth=1, label=f"true variance {STD**2:g}")
    right.set_xlabel("training step (batches of 32)")
    right.set_ylabel("value (averaged over 8 features)")
    right.set_title("BatchNorm1d running statistics, momentum 0.1")
    right.grid(True, alpha=0.3)
    right.legend(fontsize="small", loc="lower right")
    return fig


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.family": "DejaVu Sans"})
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    shifts, means = per_sample_means()
    for name, m in means.items():
        print(
            f"{name:12} output mean of the samples with shift -3, 0 (nearest), +3: "
            f"{m[0]:+.3f} {m[np.argmin(abs(shifts))]:+.3f} {m[-1]:+.3f}; max |mean| {abs(m).max():.3g}"
        )
    stats = running_stats()
    for step in (1, 10, 30, 60):
        print(f"step {step:2}: running_mean {stats['mean'][step]:.3f}  running_var {stats['var'][step]:.3f}")
