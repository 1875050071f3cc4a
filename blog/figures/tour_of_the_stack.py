"""Figure for the post "A tour of the stack".

A one-layer GPT reads eight tokens; a linear layer turns its last logits into a permittivity map;
a 2D FDTD run (TMz, CPML) through that map measures the power at a target cell. Left: the map
the GPT produced. Right: the gradient of the log-power with respect to that map, from the
FDTD adjoint, with the source and the target marked.

The maps are committed in ``data/tour_of_the_stack.json``, so the docs build never simulates.
Re-measure (about ten seconds), which also prints the numbers the post quotes::

    python blog/figures/tour_of_the_stack.py --measure
"""

from __future__ import annotations

import sys
from pathlib import Path

import _results
import numpy as np
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "tour_of_the_stack.json"
TOKENS = [[3, 1, 4, 1, 5, 9, 2, 6]]
STEPS = 150


def build_objective():  # noqa: ANN201 - returns a closure over the stack's objects
    """The composed model: GPT logits -> Linear -> permittivity -> FDTD -> log power at the target."""
    import hyperion.autograd as ag
    from hyperion.gpt import GPT, GPTConfig
    from hyperion.nn import Linear
    from hyperion.physics.adjoint import dft_amplitudes, simulate
    from hyperion.physics.validation.gradient import make_problem

    problem = make_problem(steps=STEPS)
    nx, ny = problem.grid.shape[:2]
    gpt = GPT(GPTConfig(vocab_size=16, block_size=8, n_layer=1, n_head=2, n_embd=8), seed=0).double()
    head = Linear(16, nx * ny, generator=np.random.default_rng(1)).double()
    amplitude = ag.from_numpy(np.array([1.0]))

    def objective(keep: dict | None = None):  # noqa: ANN202
        logits, _ = gpt(np.array(TOKENS))
        eps = 1.0 + 1.5 * head(logits[0, -1]).reshape(nx, ny).sigmoid()
        if keep is not None:
            eps.retain_grad()
            keep["eps"] = eps
        acc = dft_amplitudes(problem, simulate(problem, eps, amplitude, checkpoint_every=0))
        return (acc * acc).sum().log()

    return objective, gpt, head, problem


def measure() -> dict:
    """Run the composed model forward and backward; check one GPT weight against finite differences."""
    import hyperion.autograd as ag

    objective, gpt, _, problem = build_objective()
    keep: dict = {}
    loss = objective(keep)
    loss.backward()
    weight = dict(gpt.named_parameters())["transformer.h.0.attn.c_attn.weight"]
    grad = weight.grad.numpy()
    at = np.unravel_index(int(np.abs(grad).argmax()), grad.shape)  # the most sensitive attention weight
    analytic = float(grad[at])
    values = weight.detach().numpy()
    h = 1e-4
    with ag.no_grad():
        values[at] += h
        up = objective().item()
        values[at] -= 2 * h
        down = objective().item()
        values[at] += h
    numeric = (up - down) / (2 * h)
    return {
        "steps": STEPS,
        "log_power": round(loss.item(), 6),
        "weight_index": [int(i) for i in at],
        "analytic": analytic,
        "numeric": numeric,
        "relative_error": abs(analytic - numeric) / abs(numeric),
        "source": list(problem.source),
        "target": list(problem.targets[0]),
        "eps": np.round(keep["eps"].detach().numpy(), 4).tolist(),
        "grad": [[float(f"{v:.4g}") for v in row] for row in keep["eps"].grad.numpy()],
    }


def build() -> Figure:
    """The permittivity map the GPT wrote, and the adjoint gradient of the objective on it."""
    data = _results.load(DATA)
    fig = Figure(figsize=(9.0, 3.8), layout="constrained")
    left, right = fig.subplots(1, 2)
    eps, grad = np.array(data["eps"]), np.array(data["grad"])
    image = left.imshow(eps.T, origin="lower", cmap="viridis")
    fig.colorbar(image, ax=left, label="relative permittivity ε")
    left.set_title("ε map written by the GPT")
    # The cells next to the source dominate the scale; clip at the 98th percentile to show the rest.
    bound = float(np.percentile(np.abs(grad), 98))
    image = right.imshow(grad.T, origin="lower", cmap="RdBu_r", vmin=-bound, vmax=bound)
    fig.colorbar(image, ax=right, label="∂ log P / ∂ε")
    right.set_title(f"adjoint gradient after {data['steps']} FDTD steps")
    for ax in (left, right):
        ax.plot(*data["source"], marker="*", color="white", markeredgecolor="black", markersize=12, linestyle="")
        ax.plot(*data["target"], marker="o", color="white", markeredgecolor="black", markersize=8, linestyle="")
        ax.set_xlabel("x (cells)")
        ax.set_ylabel("y (cells)")
    return fig


if __name__ == "__main__":
    if "--measure" in sys.argv[1:]:
        result = measure()
        _results.save(DATA, result)
        print({k: v for k, v in result.items() if k not in ("eps", "grad")})
    else:
        build().savefig(Path(__file__).with_suffix(".png"))
