"""Figure of the post "Graph scheduling in VRAM".

Left: live memory at every step of one random DAG (100 nodes, seed 0) executed in a random
order, in Kahn's FIFO order and in the greedy order, with each order's peak dashed. Right:
over 100 seeds at N=100 and N=1000, the distribution of the greedy order's peak reduction
against the random order, ``100 * (1 - peak_greedy / peak_random)``, computed with
``compare_orders``, the function behind ``hyperion-autograd schedule --random N --seed S``.

Run ``python blog/figures/graph_scheduling.py`` to write ``graph_scheduling.png`` next to
this file and print the numbers the post quotes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from hyperion.autograd.scheduler import (
    compare_orders,
    greedy_order,
    kahn_order,
    memory_profile,
    order_rng,
    random_dag,
    random_order,
)
from hyperion.tensor.files import atomic_path

PROFILE_NODES, PROFILE_SEED = 100, 0
SWEEP_SIZES = (100, 1000)
SWEEP_SEEDS = 100
COLORS = {"random": "#999999", "kahn": "#1f77b4", "greedy": "#d62728"}
MIB = 2.0**20


def profiles(n: int = PROFILE_NODES, seed: int = PROFILE_SEED) -> dict[str, np.ndarray]:
    """Live bytes per step of the three orders of ``random_dag(n, seed)``."""
    graph = random_dag(n, seed)
    orders = {
        "random": random_order(graph, order_rng(seed)),
        "kahn": kahn_order(graph),
        "greedy": greedy_order(graph),
    }
    return {name: memory_profile(graph, order) for name, order in orders.items()}


def reductions(n: int, seeds: int = SWEEP_SEEDS) -> np.ndarray:
    """Greedy's peak reduction vs the random order, in percent, for seeds ``0 .. seeds-1``."""
    values = []
    for seed in range(seeds):
        result = compare_orders(random_dag(n, seed), seed)
        values.append(100.0 * (1.0 - result["peak_greedy"] / result["peak_random"]))
    return np.array(values)


def build() -> Figure:
    """Draw both panels (deterministic: every graph and order comes from a fixed seed)."""
    fig = Figure(figsize=(10.0, 4.0), layout="constrained")
    left, right = fig.subplots(1, 2)

    for name, profile in profiles().items():
        steps = np.arange(len(profile))
        left.step(
            steps,
            profile / MIB,
            where="mid",
            color=COLORS[name],
            lw=1.3,
            label=f"{name}: peak {profile.max() / MIB:.1f} MiB",
        )
        left.axhline(profile.max() / MIB, color=COLORS[name], ls="--", lw=0.8)
    left.set_xlabel("step (node executed)")
    left.set_ylabel("live memory (MiB)")
    left.set_title(f"one random DAG, N={PROFILE_NODES}, seed {PROFILE_SEED}")
    left.legend(loc="upper left", fontsize=8)

    bins = np.arange(-60, 65, 5)
    for n, color in zip(SWEEP_SIZES, ("#2ca02c", "#9467bd")):
        r = reductions(n)
        right.hist(
            r,
            bins=bins,
            alpha=0.55,
            color=color,
            label=f"N={n}: mean {r.mean():.1f}%, greedy lower in {np.sum(r > 0)}/{len(r)}",
        )
    right.axvline(0.0, color="black", lw=0.8)
    right.yaxis.set_major_locator(MaxNLocator(integer=True))
    right.set_xlabel("peak reduction of greedy vs random order (%)")
    right.set_ylabel(f"graphs (of {SWEEP_SEEDS} seeds)")
    right.set_title("greedy vs random over seeds")
    right.legend(loc="upper left", fontsize=8)
    return fig


def _save(fig: Figure, path: Path) -> None:
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=150)


if __name__ == "__main__":
    for name, profile in profiles().items():
        print(
            f"N={PROFILE_NODES} seed {PROFILE_SEED} {name:<7}"
            f"peak {profile.max() / MIB:6.1f} MiB  mean {profile.mean() / MIB:6.1f} MiB"
        )
    _save(build(), Path(__file__).with_name("graph_scheduling.png"))
