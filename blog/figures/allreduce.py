"""Figure for the post "Data parallelism and the cost of all-reduce".

Left: time of a message between 2 ranks (one way) and of an all-reduce of that many bytes, on
log-log axes, against the α–β model fitted to the point-to-point times (``t = α + M/β``) and
the ring all-reduce cost it predicts, ``2(P−1)α + 2(P−1)/P·M/β + (P−1)/P·M·γ``. Filled
markers: MPICH's default busy-polling progress; hollow markers: ``MPIR_CVAR_ENABLE_HEAVY_YIELD=1``.

Right: one training step on 1 rank (whole batch) and on 2 ranks (half the batch each, then
the gradient all-reduce), split into computation and all-reduce, for an MLP and a small GPT;
the label on each 2-rank bar is the scaling efficiency ``T₁ / (2·T₂)``.

The figure is drawn from ``data/allreduce.json`` only. ``--measure`` runs
``bench/allreduce.py`` (which launches itself with ``mpiexec -n 2``), rewrites the JSON and
prints the numbers the post quotes::

    python blog/figures/allreduce.py --measure
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import _results
import numpy as np
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "allreduce.json"
BENCH = Path(__file__).resolve().parents[2] / "bench" / "allreduce.py"
RANKS = 2


def ring_model(nbytes: np.ndarray, mode: dict[str, Any]) -> np.ndarray:
    """The ring all-reduce cost the fitted α, β and γ predict for ``RANKS`` ranks."""
    alpha, beta, gamma = mode["alpha_s"], mode["beta_bytes_per_s"], mode["gamma_s_per_byte"]
    p = RANKS
    return 2 * (p - 1) * alpha + 2 * (p - 1) / p * nbytes / beta + (p - 1) / p * nbytes * gamma


def build() -> Figure:
    """Draw the figure from the committed data."""
    data = _results.load(DATA)
    figure = Figure(figsize=(11, 4.2), layout="constrained")
    curves, steps = figure.subplots(1, 2, width_ratios=(1.35, 1))
    spin, yielding = data["modes"]["spin"], data["modes"]["yield"]
    rows = spin["collectives"]
    sizes = np.array([r["bytes"] for r in rows], dtype=np.float64)
    dense = np.geomspace(sizes[0], sizes[-1], 200)
    colours = {"p2p": "tab:blue", "mpi": "tab:orange", "ring": "tab:green"}
    labels = {"p2p": "message (one way)", "mpi": "MPI_Allreduce", "ring": "ring all-reduce (ours)"}
    for key in ("p2p", "mpi", "ring"):
        curves.loglog(sizes, [r[key] * 1e6 for r in rows], "o", color=colours[key], label=labels[key], ms=5)
        curves.loglog(
            sizes, [r[key] * 1e6 for r in yielding["collectives"]], "o", color=colours[key], mfc="none", ms=5, alpha=0.7
        )
    alpha, beta = spin["alpha_s"], spin["beta_bytes_per_s"]
    curves.loglog(dense, (alpha + dense / beta) * 1e6, "-", color=colours["p2p"], lw=1,
                  label=f"α–β fit: α = {alpha * 1e6:.1f} µs, β = {beta / 1e9:.2f} GB/s")
    curves.loglog(dense, ring_model(dense, spin) * 1e6, "--", color=colours["ring"], lw=1.2, label="ring model")
    curves.set(xlabel="message size M (bytes)", ylabel="time (µs)",
               title="2 ranks on one machine (hollow: yielding MPICH)")
    curves.grid(alpha=0.3, which="both")
    curves.legend(fontsize=8, loc="upper left")

    scaling = spin["scaling"]
    names = [s["model"].upper() for s in scaling]
    x = np.arange(len(scaling))
    width = 0.36
    one = np.array([s["step_1_rank"] for s in scaling]) * 1e3
    two = np.array([s["step_2_ranks"] for s in scaling]) * 1e3
    sync = np.minimum(np.array([s["sync_2_ranks"] for s in scaling]) * 1e3, two)
    steps.bar(x - width / 2, one, width, color="tab:gray", label="1 rank: compute")
    steps.bar(x + width / 2, two - sync, width, color="tab:blue", label="2 ranks: compute")
    steps.bar(x + width / 2, sync, width, bottom=two - sync, color="tab:red", label="2 ranks: all-reduce")
    for k, s in enumerate(scaling):
        steps.annotate(f"{100 * s['efficiency']:.0f}%", (x[k] + width / 2, two[k]), ha="center", va="bottom", fontsize=9)
    steps.set_xticks(x, [f"{n}\n{s['parameters'] / 1e3:.0f}k params, batch {s['global_batch']}" for n, s in zip(names, scaling, strict=True)])
    steps.set(ylabel="ms per step (global batch)", title="one training step: 1 vs 2 ranks")
    steps.legend(fontsize=8)
    steps.grid(alpha=0.3, axis="y")
    return figure


def measure() -> dict[str, Any]:
    """Run the benchmark and rewrite the JSON (atomically)."""
    proc = subprocess.run([sys.executable, str(BENCH), "--json"], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"bench/allreduce.py failed:\n{proc.stderr}")
    payload = json.loads(proc.stdout.strip().splitlines()[-1])
    _results.save(DATA, payload)
    return payload


def summary(data: dict[str, Any]) -> str:
    """The numbers the post quotes."""
    lines = []
    for name, mode in data["modes"].items():
        lines.append(
            f"{name}: alpha {mode['alpha_s'] * 1e6:.1f} us, beta {mode['beta_bytes_per_s'] / 1e9:.2f} GB/s, "
            f"gamma {mode['gamma_s_per_byte'] * 1e9:.3f} ns/B"
        )
        big = mode["collectives"][-1]
        lines.append(
            f"  {big['bytes']:,} B: ring {big['ring'] * 1e3:.2f} ms vs model {ring_model(np.array(big['bytes']), mode) * 1e3:.2f} ms, "
            f"MPI {big['mpi'] * 1e3:.2f} ms"
        )
        for s in mode["scaling"]:
            lines.append(
                f"  {s['model']}: 1 rank {s['step_1_rank'] * 1e3:.1f} ms, 2 ranks {s['step_2_ranks'] * 1e3:.1f} ms "
                f"(all-reduce {s['sync_2_ranks'] * 1e3:.2f} ms, model {s['sync_predicted'] * 1e3:.2f} ms), "
                f"efficiency {100 * s['efficiency']:.0f}%"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--measure", action="store_true", help="run bench/allreduce.py and rewrite the data")
    options = cli.parse_args()
    print(summary(measure() if options.measure else _results.load(DATA)))
    build().savefig(Path(__file__).with_suffix(".png"))
