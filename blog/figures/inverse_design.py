"""Figure for the post "Inverse design with the adjoint": history, final design, field.

``hyperion.physics.design.run_design`` (Adam on θ, ε = 1 + 3·sigmoid(θ) in a 22×22-cell region
of a 56×56 TMz grid with a CPML, 260 steps per simulation) maximises the power of the DFT of
Ez at a target cell; 30 iterations. Left: the objective relative to the start. Middle: the
final ε. Right: |DFT(Ez)| at the design frequency with the final design.

Measured numbers are committed in ``data/inverse_design.json``; re-measure (about a minute) with::

    python blog/figures/inverse_design.py --measure
"""

from __future__ import annotations

import sys
from pathlib import Path

import _results
import numpy as np
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "inverse_design.json"
ITERS = 30


def measure() -> dict[str, object]:
    from hyperion.physics.design import run_design

    r = run_design(iters=ITERS)
    return {
        "history": r.history,
        "eps": np.round(r.eps, 3).tolist(),
        "field": np.round(r.field / r.field.max(), 4).tolist(),
        "source": list(r.source),
        "target": list(r.target),
        "improvement": r.improvement,
    }


def build() -> Figure:
    data = _results.load(DATA)
    fig = Figure(figsize=(12, 3.6), layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3)
    ax1.plot(range(len(data["history"])), data["history"], "o-", ms=3)
    ax1.set_xlabel("Adam iteration")
    ax1.set_ylabel("objective / initial")
    im = ax2.imshow(np.array(data["eps"]).T, origin="lower", cmap="viridis")
    fig.colorbar(im, ax=ax2, label="ε_r")
    ax2.set_title("final design")
    ax3.imshow(np.array(data["field"]).T, origin="lower", cmap="magma")
    ax3.set_title("|DFT Ez| (normalised)")
    for ax in (ax2, ax3):
        ax.plot(*data["source"], "c^", label="source")
        ax.plot(*data["target"], "wo", mfc="none", label="target")
    ax3.legend(loc="lower right", fontsize=7)
    return fig


if __name__ == "__main__":
    if "--measure" in sys.argv[1:]:
        _results.save(DATA, measure(), indent=None)
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
