"""Figure for the post "FDTD on a Yee grid": measured vs predicted numerical phase-velocity error.

A 1-D hyperion-physics run drives a long modulated pulse at a frequency with ``N`` cells per
(vacuum) wavelength; the wave number is measured from the phase difference between two DFT
probes, and the phase-velocity error ``ω/(c·k) − 1`` is compared with the Yee dispersion
relation ``sin(ω·dt/2)/(c·dt) = sin(k·dx/2)/dx``, for Courant numbers 0.5, 0.9 and 1.

Measured numbers are committed in ``data/fdtd_dispersion.json``; re-measure (about 20 s) with::

    python blog/figures/fdtd_dispersion.py --measure
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import _results
import numpy as np
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "fdtd_dispersion.json"
COURANTS = (0.5, 0.9, 1.0)
CELLS = (5, 6, 8, 10, 14, 20, 30)


def predicted(courant: float, cells: float) -> float:
    """Yee's phase-velocity error at a frequency with ``cells`` cells per vacuum wavelength."""
    w_dt = 2 * math.pi * courant / cells
    k_dx = 2 * math.asin(min(1.0, math.sin(w_dt / 2) / courant))
    return (2 * math.pi / cells) / k_dx - 1


def measure() -> dict[str, object]:
    from hyperion.physics.validation import phase_velocity_error

    rows = []
    for s in COURANTS:
        for n in CELLS:
            out = phase_velocity_error(courant=s, cells_per_wavelength=n)
            rows.append({"courant": s, "cells": n, "measured": out["measured"], "predicted": out["predicted"]})
    return {"rows": rows}


def build() -> Figure:
    rows = _results.load(DATA)["rows"]
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.subplots()
    fine = np.linspace(4.5, 32, 200)
    for s, colour in zip(COURANTS, ("C0", "C1", "C2"), strict=True):
        ax.plot(fine, [100 * predicted(s, n) for n in fine], color=colour, lw=1, label=f"Yee relation, S = {s}")
        pts = [r for r in rows if r["courant"] == s]
        ax.plot(
            [r["cells"] for r in pts],
            [100 * r["measured"] for r in pts],
            "o",
            color=colour,
            mfc="none",
            label=f"measured, S = {s}",
        )
    ax.set_xscale("log")
    ax.set_xlabel("cells per wavelength")
    ax.set_ylabel("phase-velocity error (%)")
    ax.axhline(0, color="k", lw=0.5)
    ax.legend(fontsize=8)
    return fig


if __name__ == "__main__":
    if "--measure" in sys.argv[1:]:
        _results.save(DATA, measure())
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
