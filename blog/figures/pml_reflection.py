"""Figure for the post "Perfectly matched layers": CPML reflection (dB) vs thickness.

A 2-D point source (modulated Gaussian) sits in a 40×40-cell interior surrounded by a CPML of
``N`` cells; probes next to the layer are compared with a reference run on a domain large enough
that nothing returns within 400 steps. Plotted: the largest difference over time relative to the
largest reference value, in dB, for the default grading (m = 3, R₀ = 1e-8, CFS α) and with the
CFS term switched off (α = 0).

Measured numbers are committed in ``data/pml_reflection.json``; re-measure (about a minute) with::

    python blog/figures/pml_reflection.py --measure
"""

from __future__ import annotations

import sys
from pathlib import Path

import _results
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "pml_reflection.json"
CELLS = (4, 6, 8, 10, 12, 16, 20)


def measure() -> dict[str, object]:
    from hyperion.physics.validation import pml_reflection_db

    cfs = {n: pml_reflection_db(n, steps=400) for n in CELLS}
    plain = {n: pml_reflection_db(n, steps=400, alpha_max=0.0) for n in CELLS}
    return {"cells": list(CELLS), "cfs_db": [cfs[n] for n in CELLS], "plain_db": [plain[n] for n in CELLS]}


def build() -> Figure:
    data = _results.load(DATA)
    fig = Figure(figsize=(6.5, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot(data["cells"], data["cfs_db"], "o-", label="CPML with CFS α (default)")
    ax.plot(data["cells"], data["plain_db"], "s--", label="CPML, α = 0")
    ax.axhline(-60, color="k", lw=0.6, ls=":")
    ax.set_xlabel("CPML thickness (cells)")
    ax.set_ylabel("largest relative error vs reference (dB)")
    ax.legend()
    return fig


if __name__ == "__main__":
    if "--measure" in sys.argv[1:]:
        _results.save(DATA, measure())
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
