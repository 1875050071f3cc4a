"""A training step with the fused CPU kernels (hyperion-kernels) against the same step without them.

The same model, data and optimizer state are stepped under two kernel selections, interleaved
in one process (see ``_common``): ``cpu`` (the Numba provider first) and ``-cpu`` (the provider
disabled: every op runs its composed reference). The models:

- ``mlp``: 784-512-512-10 perceptron with ReLUs, batch 128 (fused: cross-entropy, AdamW);
- ``mlp-ln-gelu``: 784 → (Linear 512 → LayerNorm → GELU) ×2 → 10, batch 128 (fused: LayerNorm,
  GELU, cross-entropy, AdamW);
- ``lenet``: LeNet-5 on 1×28×28 images, batch 64 (fused: im2col/col2im, cross-entropy, AdamW);
- ``gpt``: hyperion-gpt's default small GPT (4 layers, 4 heads, width 128, context 64, vocabulary
  65), batch 8, if hyperion-gpt is installed (fused: LayerNorm, attention, cross-entropy, AdamW).

One step is ``zero_grad(); loss.backward(); opt.step()`` with AdamW. Before timing, one step is
taken under each selection from the same weights and the losses and updated weights compared.
The ratio is the median over repeats of (time without kernels) / (time with kernels): above 1,
the kernels make the step faster.

    NUMBA_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 python bench/kernels_train_step.py
    python bench/kernels_train_step.py --quick --json
"""

from __future__ import annotations

import copy
from collections.abc import Callable
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
    paired_ratio,
    parser,
    progress,
    progress_done,
)

import hyperion.autograd as ag
from hyperion import nn
from hyperion.nn import functional as F  # noqa: N812 - the usual spelling
from hyperion.nn.models import MLP, LeNet
from hyperion.nn.optim import AdamW
from hyperion.tensor import registry

LR = 1e-3
SPECS = {"kernels": "cpu", "reference": "-cpu"}


class LayerNormGeluMLP(nn.Module):
    """784 → (Linear → LayerNorm → GELU) per hidden width → Linear."""

    def __init__(self, hidden: tuple[int, ...] = (512, 512), generator: np.random.Generator | None = None) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Flatten()]
        width = 784
        for size in hidden:
            layers += [nn.Linear(width, size, generator=generator), nn.LayerNorm(size), nn.GELU()]
            width = size
        layers.append(nn.Linear(width, 10, generator=generator))
        self.net = nn.Sequential(*layers)

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        """Logits ``(N, 10)``."""
        return self.net(x)


def _classifier(model: nn.Module, x: np.ndarray, y: np.ndarray) -> Callable[[], Any]:
    xs, ys = ag.from_numpy(x), ag.from_numpy(y)
    return lambda: F.cross_entropy(model(xs), ys)


def build(name: str) -> tuple[nn.Module, Callable[[nn.Module], Callable[[], Any]]]:
    """The model and a function giving its loss closure."""
    rng = np.random.default_rng(0)
    if name in ("mlp", "mlp-ln-gelu"):
        x = rng.standard_normal((128, 784)).astype(np.float32)
        y = rng.integers(0, 10, 128)
        model = MLP(hidden=(512, 512), generator=rng) if name == "mlp" else LayerNormGeluMLP(generator=rng)
        return model, lambda m: _classifier(m, x, y)
    if name == "lenet":
        x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
        y = rng.integers(0, 10, 64)
        return LeNet(generator=rng), lambda m: _classifier(m, x, y)
    from hyperion.gpt import GPT, GPTConfig

    config = GPTConfig()
    tokens = rng.integers(0, config.vocab_size, (8, config.block_size + 1))
    model = GPT(config, seed=0)
    return model, lambda m: (lambda: m(tokens[:, :-1], tokens[:, 1:])[1])


def models() -> list[str]:
    """The model names to run (``gpt`` only where hyperion-gpt is installed)."""
    names = ["mlp", "mlp-ln-gelu", "lenet"]
    try:
        import hyperion.gpt  # noqa: F401
    except ImportError:
        return names
    return [*names, "gpt"]


def step_namespace(model: nn.Module, loss_of: Callable[[nn.Module], Callable[[], Any]], spec: str) -> dict[str, Any]:
    """A namespace whose ``step()`` runs one training step under the kernel selection ``spec``."""
    opt = AdamW(model.parameters(), lr=LR)
    loss_fn = loss_of(model)

    def step() -> float:
        with registry.use_kernels(spec):
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            opt.step()
        return float(loss.item())

    return {"step": step, "model": model}


def namespaces(name: str) -> dict[str, dict[str, Any]]:
    """One independent copy of the model (same initial weights) per kernel selection."""
    model, loss_of = build(name)
    return {label: step_namespace(copy.deepcopy(model), loss_of, spec) for label, spec in SPECS.items()}


def check_same_step(name: str) -> float:
    """One step under each selection from the same weights: same loss and updated weights."""
    spaces = namespaces(name)
    losses = [spaces[label]["step"]() for label in SPECS]
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
    theirs = dict(spaces["reference"]["model"].named_parameters())
    for key, value in spaces["kernels"]["model"].named_parameters():
        np.testing.assert_allclose(value.detach().numpy(), theirs[key].detach().numpy(), atol=0.05 * LR, err_msg=key)
    return losses[0]


def run(quick: bool, repeats: int) -> dict[str, Any]:
    """Check, then time, every model."""
    if registry.which("nn.softmax_forward", "cpu") != "cpu":
        raise SystemExit("the cpu kernels are not available: install hyperion-kernels[cpu]")
    cases = []
    names = models()
    for k, name in enumerate(names, start=1):
        progress(f"[{k}/{len(names)}] {name}")
        row: dict[str, Any] = {"model": name, "loss": check_same_step(name)}
        contenders = [Contender(label, "step()", ns) for label, ns in namespaces(name).items()]
        samples = measure(contenders, repeats, 0.05 if quick else 0.5)
        row["ms"] = {label: median(values) * 1e3 for label, values in samples.items()}
        row["speedup"] = paired_ratio(samples["reference"], samples["kernels"])
        cases.append(row)
    progress_done()
    return {
        "benchmark": "kernels_train_step",
        "quick": quick,
        "repeats": repeats,
        "unit": "ms per training step (forward + cross-entropy + backward + AdamW)",
        "machine": machine_description(),
        "cases": cases,
    }


def report(payload: dict[str, Any]) -> str:
    """The results as a table."""
    headers = ["model", "with kernels ms", "without ms", "speedup"]
    rows = [
        [c["model"], f"{c['ms']['kernels']:.2f}", f"{c['ms']['reference']:.2f}", f"{c['speedup']:.2f}x"]
        for c in payload["cases"]
    ]
    return format_machine(payload["machine"]) + "\n\n" + format_table(headers, rows)


def main() -> None:
    """Parse the command line, run, print (and with ``--json`` emit the payload last)."""
    args = parser(__doc__.splitlines()[0]).parse_args()
    repeats = args.repeats or (3 if args.quick else 11)
    payload = run(args.quick, repeats)
    emit(args, report(payload), payload)


if __name__ == "__main__":
    main()
