"""2-D differentiable FDTD: time of forward + adjoint backward vs the forward alone.

A float64 TMz run with a 10-cell CPML (the problem of the gradient check, larger),
timed three ways, interleaved: the forward with no graph, forward+backward keeping
the Ez field of every step (``checkpoint_every=None``), and forward+backward with √N
checkpointing (one extra forward, less its last segment). Goal: both at most 3x the
forward. Each run also reports ``adjoint_step_vs_forward_step``: the backward's time
less the forward's, per step, against a forward step.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Contender, emit, format_table, measure, median, paired_ratio, parser  # noqa: E402


def _setup(n: int, steps: int) -> dict[str, object]:
    import hyperion.autograd as ag
    from hyperion.physics.adjoint import dft_amplitudes, simulate
    from hyperion.physics.validation.gradient import make_problem

    problem = make_problem(steps, shape=(n, n), pml_cells=10)
    eps0 = np.random.default_rng(0).uniform(1, 3, (n, n))

    def run(backward: bool, every: int | None) -> None:
        eps = ag.from_numpy(eps0.copy(), requires_grad=backward)
        amp = ag.from_numpy(np.array([1.0]), requires_grad=backward)
        if not backward:
            with ag.no_grad():
                acc = dft_amplitudes(problem, simulate(problem, eps, amp, every))
                (acc * acc).sum()
            return
        acc = dft_amplitudes(problem, simulate(problem, eps, amp, every))
        (acc * acc).sum().backward()

    return {"run": run}


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    n, steps = (40, 100) if args.quick else (80, 400)
    repeats = args.repeats or (3 if args.quick else 7)
    ns = _setup(n, steps)
    contenders = [
        Contender("forward", "run(False, 0)", ns),
        Contender("forward+adjoint", "run(True, None)", ns),
        Contender("forward+adjoint_checkpointed", "run(True, 0)", ns),
    ]
    samples = measure(contenders, repeats, 0.5 if args.quick else 2.0)
    rows, results = [], {}
    for c in contenders:
        ratio = paired_ratio(samples[c.name], samples["forward"])
        results[c.name] = {"seconds": median(samples[c.name]), "ratio_vs_forward": ratio}
        rows.append([c.name, f"{median(samples[c.name]) * 1e3:.1f} ms", f"{ratio:.2f}x"])
    # With the history kept, the backward is the adjoint steps alone: its share is what one adjoint step costs.
    adjoint_step = results["forward+adjoint"]["ratio_vs_forward"] - 1.0
    text = (
        f"2-D TMz {n}x{n}, {steps} steps, CPML 10 cells, float64\n"
        + format_table(["run", "time", "vs forward"], rows)
        + f"\nadjoint step ~ {adjoint_step:.2f}x a forward step (goal: both runs <= 3x the forward)"
    )
    emit(
        args,
        text,
        {
            "bench": "fdtd_grad",
            "n": n,
            "steps": steps,
            "results": results,
            "adjoint_step_vs_forward_step": adjoint_step,
            "goal_ratio": 3.0,
        },
    )


if __name__ == "__main__":
    main()
