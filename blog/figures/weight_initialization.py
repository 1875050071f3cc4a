"""Figure for the post "Weight initialization": activation statistics through a deep MLP.

A batch of 500 inputs drawn from N(0, 1) goes through 20 layers of width 256, each
``x ← f(x @ Wᵀ)`` with no bias, for ``f = tanh`` and ``f = ReLU``. The weights come from
``hyperion.nn.init`` with four rules:

- ``N(0, 1)``: "just use random numbers" (``init.normal_`` with std 1);
- ``N(0, 0.01²)``: "small random numbers" (``init.normal_`` with std 0.01);
- Xavier (Glorot) normal, gain 1: ``std = √(2 / (fan_in + fan_out))``;
- Kaiming (He) normal, fan_in, with the gain of the nonlinearity (5/3 for tanh, √2 for ReLU).

Top: the standard deviation of the activations after each layer (log scale).
Bottom: histograms of the activations after the last layer (for ReLU, of the log10 of the
positive ones).

Every number is computed here, in float64, from seeded generators (about a second). Run by hand
it saves the PNG and prints the stds the post quotes::

    python blog/figures/weight_initialization.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import hyperion.autograd as ag
from hyperion.nn import init

DEPTH = 20
WIDTH = 256
BATCH = 500
ACTIVATIONS = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}
SCHEMES = ("N(0, 1)", "N(0, 0.01²)", "Xavier", "Kaiming")


def weight(scheme: str, nonlinearity: str, rng: np.random.Generator) -> np.ndarray:
    """One ``WIDTH × WIDTH`` weight drawn by ``hyperion.nn.init`` with ``scheme``."""
    w = ag.empty(WIDTH, WIDTH, dtype="float64")
    if scheme == "N(0, 1)":
        init.normal_(w, 0.0, 1.0, generator=rng)
    elif scheme == "N(0, 0.01²)":
        init.normal_(w, 0.0, 0.01, generator=rng)
    elif scheme == "Xavier":
        init.xavier_normal_(w, generator=rng)
    else:
        init.kaiming_normal_(w, mode="fan_in", nonlinearity=nonlinearity, generator=rng)
    return w.numpy()


def forward_stats(scheme: str, nonlinearity: str, seed: int = 0) -> tuple[list[float], np.ndarray]:
    """Std of the activations after each layer (index 0: the input), and the last activations."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((BATCH, WIDTH))
    f = ACTIVATIONS[nonlinearity]
    stds = [float(x.std())]
    for _ in range(DEPTH):
        x = f(x @ weight(scheme, nonlinearity, rng).T)
        stds.append(float(x.std()))
    return stds, x


def compute() -> dict[tuple[str, str], tuple[list[float], np.ndarray]]:
    return {(f, s): forward_stats(s, f) for f in ACTIVATIONS for s in SCHEMES}


def build() -> Figure:
    results = compute()
    fig = Figure(figsize=(11, 7.5), layout="constrained")
    axes = fig.subplots(2, 2)
    layers = np.arange(DEPTH + 1)
    for col, f in enumerate(ACTIVATIONS):
        ax = axes[0, col]
        for k, s in enumerate(SCHEMES):
            stds = np.maximum(results[(f, s)][0], 1e-300)
            ax.semilogy(layers, stds, "o-", markersize=3, color=f"C{k}", label=s)
        ax.set_ylim(*((1e-22, 1e23) if f == "relu" else (1e-18, 10)))
        ax.set_title(f"{'tanh' if f == 'tanh' else 'ReLU'}: std of the activations after each layer")
        ax.set_xlabel("layer")
        ax.set_ylabel("std (log scale)")
        ax.set_xticks(range(0, DEPTH + 1, 5))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small", loc="lower left")

        ax = axes[1, col]
        shown = ((0, "N(0, 1)"), (2, "Xavier"), (3, "Kaiming")) if f == "tanh" else ((2, "Xavier"), (3, "Kaiming"))
        for k, s in shown:
            last = results[(f, s)][1].ravel()
            if f == "relu":
                last = np.log10(last[last > 0])  # the exact zeros (about half) have no logarithm
            ax.hist(
                last,
                bins=80,
                histtype="step",
                color=f"C{k}",
                density=True,
                label=f"{s} (std {results[(f, s)][0][-1]:.3g})",
            )
        if f == "tanh":
            ax.set_title("tanh: activations after layer 20")
            ax.set_xlabel("activation")
        else:
            ax.set_title("ReLU: positive activations after layer 20")
            ax.set_xlabel("log10(activation)")
        ax.set_ylabel("density")
        ax.legend(fontsize="small", loc="upper center")
    return fig


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.family": "DejaVu Sans"})
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    stats = compute()
    print("activation std after layers 1, 5, 10, 20")
    for (f, s), (stds, last) in stats.items():
        zeros = f", zero fraction {np.mean(last == 0):.2f}" if f == "relu" else ""
        sat = f", |x| > 0.99: {np.mean(np.abs(last) > 0.99):.2f}" if f == "tanh" else ""
        print(f"{f:5} {s:12} " + "  ".join(f"{stds[i]:.3g}" for i in (1, 5, 10, 20)) + zeros + sat)
