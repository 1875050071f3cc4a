"""A full training step (forward, cross-entropy, backward, Adam update) in hyperion.nn next to PyTorch (CPU).

Two models, built with the library's own layers and the same initial weights in both:

- ``mlp``: 784-512-512-10 perceptron with ReLUs, batch 128 — goal hyperion/PyTorch ≤ 1.3;
- ``lenet``: LeNet-5 with ReLU and max pooling (conv 6@5×5 pad 2, pool, conv 16@5×5, pool,
  120, 84, 10) on 1×28×28 images, batch 64 — goal ≤ 2.0.

One step is ``optimizer.zero_grad(); cross_entropy(model(x), y).backward(); optimizer.step()``.
Before timing, one step is run in both libraries from identical weights and the losses and
updated weights are compared. The contenders are interleaved in one process (see ``_common``).

    python bench/nn_train_step.py            # full run (about a minute)
    python bench/nn_train_step.py --quick    # smoke run (seconds)
    python bench/nn_train_step.py --json     # ... and one JSON object as the last line
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from _common import (
    Contender,
    emit,
    format_machine,
    format_table,
    machine_description,
    measure,
    median,
    optional_torch,
    paired_ratio,
    parser,
    progress,
    progress_done,
)

import hyperion.autograd as ag
from hyperion import nn
from hyperion.nn import functional as F  # noqa: N812 - the usual spelling
from hyperion.nn.__about__ import __version__ as nn_version
from hyperion.nn.models import MLP, LeNet
from hyperion.nn.optim import Adam

GOALS = {"mlp": 1.3, "lenet": 2.0}
BATCHES = {"mlp": 128, "lenet": 64}
LR = 1e-3


def hyperion_model(name: str) -> nn.Module:
    generator = np.random.default_rng(0)
    if name == "mlp":
        return MLP(hidden=(512, 512), generator=generator)
    return LeNet(channels=(6, 16), hidden=(120, 84), generator=generator)


def torch_model(name: str, torch: Any, weights: Mapping[str, np.ndarray]) -> Any:
    """The same architecture in PyTorch, with its parameters named as hyperion's and set to ``weights``."""
    tnn = torch.nn
    if name == "mlp":
        model = tnn.Module()
        model.net = tnn.Sequential(
            tnn.Flatten(), tnn.Linear(784, 512), tnn.ReLU(), tnn.Linear(512, 512), tnn.ReLU(), tnn.Linear(512, 10)
        )
        model.forward = model.net.forward
    else:
        model = tnn.Module()
        model.features = tnn.Sequential(
            tnn.Conv2d(1, 6, 5, padding=2),
            tnn.ReLU(),
            tnn.MaxPool2d(2),
            tnn.Conv2d(6, 16, 5),
            tnn.ReLU(),
            tnn.MaxPool2d(2),
        )
        model.classifier = tnn.Sequential(
            tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(), tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10)
        )
        model.forward = lambda x: model.classifier(model.features(x))
    state = {key: torch.from_numpy(np.array(value)) for key, value in weights.items()}
    model.load_state_dict(state, strict=True)
    return model


def make_batch(name: str) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    batch = BATCHES[name]
    return rng.standard_normal((batch, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, batch)


def namespaces(name: str, torch: Any) -> dict[str, dict[str, Any]]:
    x, y = make_batch(name)
    model = hyperion_model(name)
    spaces = {
        "hyperion": {
            "model": model,
            "opt": Adam(model.parameters(), lr=LR),
            "x": ag.from_numpy(x.copy()),
            "y": ag.from_numpy(y.copy()),
            "loss_fn": F.cross_entropy,
        }
    }
    if torch is not None:
        weights = {key: value.numpy() for key, value in model.state_dict().items()}
        twin = torch_model(name, torch, weights)
        spaces["torch"] = {
            "model": twin,
            "opt": torch.optim.Adam(twin.parameters(), lr=LR),
            "x": torch.from_numpy(x.copy()),
            "y": torch.from_numpy(y.copy()),
            "loss_fn": torch.nn.functional.cross_entropy,
        }
    return spaces


STEP = "opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()"


def check_same_step(name: str, torch: Any) -> float:
    """One step in both libraries from the same weights: same loss, gradients and updated weights.

    The updated weights get a tolerance of a few percent of the learning rate: where a gradient
    is near zero, Adam's ``m / (√v + ε)`` amplifies float32 rounding differences.
    """
    spaces = namespaces(name, torch)
    mine, theirs = spaces["hyperion"], spaces["torch"]
    losses = []
    for ns in (mine, theirs):
        ns["opt"].zero_grad()
        loss = ns["loss_fn"](ns["model"](ns["x"]), ns["y"])
        loss.backward()
        losses.append(float(loss.item()))
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
    ours = dict(mine["model"].named_parameters())
    for key, value in theirs["model"].named_parameters():
        np.testing.assert_allclose(ours[key].grad.numpy(), value.grad.numpy(), rtol=1e-3, atol=1e-6, err_msg=key)
    mine["opt"].step()
    theirs["opt"].step()
    for key, value in theirs["model"].named_parameters():
        np.testing.assert_allclose(ours[key].detach().numpy(), value.detach().numpy(), atol=0.05 * LR, err_msg=key)
    return losses[0]


def run(quick: bool, repeats: int) -> dict[str, Any]:
    torch = optional_torch()
    cases = []
    for k, name in enumerate(GOALS, start=1):
        progress(f"[{k}/{len(GOALS)}] {name}")
        row: dict[str, Any] = {"model": name, "batch": BATCHES[name], "goal": GOALS[name]}
        if torch is not None:
            row["loss"] = check_same_step(name, torch)
        contenders = [Contender(lib, STEP, ns) for lib, ns in namespaces(name, torch).items()]
        samples = measure(contenders, repeats, 0.05 if quick else 0.5)
        row["ms"] = {lib: median(values) * 1e3 for lib, values in samples.items()}
        if torch is not None:
            row["ratio"] = paired_ratio(samples["hyperion"], samples["torch"])
            row["meets_goal"] = row["ratio"] <= GOALS[name]
        cases.append(row)
    progress_done()
    return {
        "benchmark": "nn_train_step",
        "quick": quick,
        "repeats": repeats,
        "unit": "ms per training step (forward + cross-entropy + backward + Adam)",
        "machine": {**machine_description(), "hyperion_nn": nn_version},
        "cases": cases,
    }


def report(payload: Mapping[str, Any]) -> str:
    has_torch = "torch" in payload["machine"]
    headers = ["model", "batch", "hyperion ms"] + (["torch ms", "hyp/torch", "goal"] if has_torch else [])
    rows = []
    for case in payload["cases"]:
        row = [case["model"], str(case["batch"]), f"{case['ms']['hyperion']:.2f}"]
        if has_torch:
            verdict = "met" if case["meets_goal"] else "missed"
            row += [f"{case['ms']['torch']:.2f}", f"{case['ratio']:.2f}", f"<= {case['goal']} ({verdict})"]
        rows.append(row)
    return format_machine(payload["machine"]) + "\n\n" + format_table(headers, rows)


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    repeats = args.repeats or (3 if args.quick else 11)
    payload = run(args.quick, repeats)
    emit(args, report(payload), payload)


if __name__ == "__main__":
    main()
