"""Figure for the post "Differentiable FDTD and the adjoint".

Left: the adjoint gradient of ``|DFT(Ez)(target)|²`` with respect to ε at 24 random cells of a
random ε map, after 500 float64 steps with a CPML, against central finite differences
(h = 1e-5); the largest difference relative to the largest gradient is quoted in the post
(cell by cell, cells whose gradient is ~10⁻⁶ of the largest are dominated by the finite
difference's own rounding error). Right: peak traced memory
of forward + backward against the number of steps, keeping the whole Ez history and with √N
checkpointing (tracemalloc, 40×40 grid).

Measured numbers are committed in ``data/fdtd_adjoint.json``; re-measure (about a minute) with::

    python blog/figures/fdtd_adjoint.py --measure
"""

from __future__ import annotations

import sys
from pathlib import Path

import _results
import numpy as np
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "fdtd_adjoint.json"
CELLS = 24
STEPS = 500


def measure() -> dict[str, object]:
    import hyperion.autograd as ag
    from hyperion.physics.adjoint import dft_amplitudes, simulate
    from hyperion.physics.validation.gradient import make_problem, peak_memory

    problem = make_problem(STEPS)
    rng = np.random.default_rng(1)
    eps0 = 1.0 + rng.uniform(0.0, 2.0, problem.grid.shape[:2])
    amp = ag.from_numpy(np.array([1.0]))

    def objective(eps: object) -> object:
        acc = dft_amplitudes(problem, simulate(problem, eps, amp, checkpoint_every=0))
        return (acc * acc).sum()

    eps = ag.from_numpy(eps0.copy(), requires_grad=True)
    objective(eps).backward()
    grad = eps.grad.numpy()
    nx, ny = eps0.shape
    adjoint, finite = [], []
    with ag.no_grad():
        for _ in range(CELLS):
            cell = (int(rng.integers(1, nx - 1)), int(rng.integers(1, ny - 1)))
            up, down = eps0.copy(), eps0.copy()
            up[cell] += 1e-5
            down[cell] -= 1e-5
            fd = (objective(ag.from_numpy(up)).item() - objective(ag.from_numpy(down)).item()) / 2e-5
            adjoint.append(float(grad[cell]))
            finite.append(float(fd))
    rel = [abs(a - f) / abs(f) for a, f in zip(adjoint, finite, strict=True)]
    return {
        "adjoint": adjoint,
        "finite": finite,
        "max_rel_err": max(rel),
        "memory": peak_memory((100, 200, 400, 800, 1600)),
    }


def build() -> Figure:
    data = _results.load(DATA)
    fig = Figure(figsize=(10, 4), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    a, f = np.array(data["adjoint"]), np.array(data["finite"])
    scale = np.max(np.abs(f))
    ax1.plot(f / scale, a / scale, "o", mfc="none")
    ax1.plot([-1, 1], [-1, 1], "k-", lw=0.5)
    ax1.set_xlabel("central finite difference (scaled)")
    ax1.set_ylabel("adjoint gradient (scaled)")
    normwise = float(np.max(np.abs(a - f)) / scale)
    ax1.set_title(f"max |adjoint − FD| / max |FD| = {normwise:.1e}")
    mem = data["memory"]
    steps = [m["steps"] for m in mem]
    ax2.loglog(steps, [m["all_steps_mb"] for m in mem], "o-", label="whole Ez history kept")
    ax2.loglog(steps, [m["checkpointed_mb"] for m in mem], "s-", label="√N checkpoints")
    ax2.set_xlabel("time steps")
    ax2.set_ylabel("peak memory (MB)")
    ax2.legend()
    return fig


if __name__ == "__main__":
    if "--measure" in sys.argv[1:]:
        _results.save(DATA, measure())
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
