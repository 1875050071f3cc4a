"""Figure for the post "Learning-rate warmup and cosine decay".

Left: the rate that ``WarmupCosineLR`` gives at every step, for a few settings (computed here, in
closed form, from the scheduler itself).

Middle and right: a short training comparison. A 784-256-256-256-10 ReLU MLP is trained with
``AdamW`` (weight decay 0.01 on the matrices) on the first 5,000 MNIST training images for 5 epochs
(batch 64, 390 steps), under a cosine decay to a tenth of the peak rate, once with no warmup and
once with ``WARMUP`` steps of linear warmup, for each peak rate in ``PEAKS``. Every run starts from
the same initial weights and sees the same batches. Middle: the training loss (a running mean over
10 steps) of the runs at the largest peak rate. Right: test accuracy on the 10,000 test images
against the peak rate.

The training part is drawn from the results committed in ``data/warmup_cosine.json``, so the docs
build never trains. Re-run the training (about two minutes on two cores; it rewrites the JSON and
prints the numbers the post quotes), then rebuild::

    python blog/figures/warmup_cosine.py --measure

It reads MNIST from wherever ``hyperion.nn.data.mnist`` finds it, without downloading.
"""

from __future__ import annotations

import sys
from pathlib import Path

import _results
import numpy as np
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "warmup_cosine.json"
PEAKS = (1e-3, 3e-3, 1e-2, 3e-2)
WARMUP = 40
EPOCHS = 5
BATCH = 64
SEED = 0
SMOOTH = 10
SCHEDULES = (  # (warmup_iters, max_iters, min_lr as a fraction of the peak), for the left panel
    (0, 1000, 0.0),
    (100, 1000, 0.1),
    (300, 1000, 0.0),
    (100, 600, 0.1),
)


def rates(warmup_iters: int, max_iters: int, min_fraction: float, steps: int) -> list[float]:
    """The rate ``WarmupCosineLR`` gives at steps ``0 .. steps-1`` for a peak of 1."""
    import hyperion.autograd as ag
    from hyperion.nn.optim import SGD, WarmupCosineLR

    optimizer = SGD([ag.zeros(1, requires_grad=True)], lr=1.0)
    schedule = WarmupCosineLR(optimizer, warmup_iters=warmup_iters, max_iters=max_iters, min_lr=min_fraction)
    out = []
    for _ in range(steps):
        out.append(schedule.get_last_lr()[0])
        schedule.step()
    return out


def _images(images: np.ndarray) -> np.ndarray:
    """uint8 ``(N, 28, 28)`` → float32 ``(N, 784)``, standardised with MNIST's mean and std."""
    return ((images.reshape(len(images), -1).astype(np.float32) / 255 - 0.1307) / 0.3081).astype(np.float32)


def train_one(peak: float, warmup: int, data: tuple[np.ndarray, ...]) -> dict[str, object]:
    """Train once; return the per-step losses and the test accuracy."""
    import hyperion.autograd as ag
    import hyperion.nn as nn
    from hyperion.nn import functional as F
    from hyperion.nn.optim import AdamW, WarmupCosineLR, weight_decay_groups

    train_x, train_y, test_x, test_y = data
    nn.init.manual_seed(SEED)
    model = nn.Sequential(
        nn.Linear(784, 256),
        nn.ReLU(),
        nn.Linear(256, 256),
        nn.ReLU(),
        nn.Linear(256, 256),
        nn.ReLU(),
        nn.Linear(256, 10),
    )
    optimizer = AdamW(weight_decay_groups(model.parameters(), 0.01), lr=peak)
    steps = EPOCHS * (len(train_x) // BATCH)
    schedule = WarmupCosineLR(optimizer, warmup_iters=warmup, max_iters=steps, min_lr=peak / 10)
    rng = np.random.default_rng(SEED)
    losses = []
    for _ in range(EPOCHS):
        order = rng.permutation(len(train_x))
        for start in range(0, len(order) - BATCH + 1, BATCH):
            rows = order[start : start + BATCH]
            loss = F.cross_entropy(model(ag.tensor(train_x[rows])), ag.tensor(train_y[rows]))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
    with ag.no_grad():
        predicted = model(ag.tensor(test_x)).numpy().argmax(axis=1)
    return {"losses": [round(v, 5) for v in losses], "test_accuracy": float((predicted == test_y).mean())}


def measure() -> dict[str, object]:
    """Every (peak rate, warmup) run."""
    from hyperion.nn.data import mnist

    train_images, train_labels = mnist("train", download=False)
    test_images, test_labels = mnist("test", download=False)
    data = (
        _images(train_images[:5000]),
        train_labels[:5000].astype(np.int64),
        _images(test_images),
        test_labels.astype(np.int64),
    )
    out: dict[str, object] = {"peaks": list(PEAKS), "warmup": WARMUP, "epochs": EPOCHS, "runs": {}}
    for warmup in (0, WARMUP):
        runs = [train_one(peak, warmup, data) for peak in PEAKS]
        out["runs"][str(warmup)] = {  # type: ignore[index]
            "test_accuracy": [run["test_accuracy"] for run in runs],
            "losses": [run["losses"] for run in runs],
        }
    return out


def _smooth(values: list[float]) -> np.ndarray:
    kernel = np.ones(SMOOTH) / SMOOTH
    return np.convolve(values, kernel, mode="valid")


def draw(fig: Figure, data: dict) -> None:
    """The schedules, the loss curves at the largest peak, and accuracy against the peak rate."""
    left, middle, right = fig.subplots(1, 3)
    for warmup_iters, max_iters, low in SCHEDULES:
        left.plot(
            rates(warmup_iters, max_iters, low, 1100),
            label=f"warmup {warmup_iters}, max {max_iters}, min {low:g}",
        )
    left.set_xlabel("step")
    left.set_ylabel("learning rate / peak")
    left.set_title("WarmupCosineLR")
    left.legend(fontsize="x-small")
    left.grid(True, alpha=0.3)

    warmup = data["warmup"]
    styles = {"0": ("C3", "no warmup"), str(warmup): ("C0", f"{warmup} warmup steps")}
    top = len(data["peaks"]) - 1
    for key, (color, label) in styles.items():
        curve = _smooth(data["runs"][key]["losses"][top])
        middle.semilogy(np.arange(len(curve)) + SMOOTH - 1, curve, color=color, label=label)
        right.semilogx(
            data["peaks"], [100 * a for a in data["runs"][key]["test_accuracy"]], "o-", color=color, label=label
        )
    middle.set_xlabel("step")
    middle.set_ylabel(f"training loss (mean of {SMOOTH} steps)")
    middle.set_title(f"Peak rate {data['peaks'][top]:g}")
    middle.legend(fontsize="small")
    middle.grid(True, alpha=0.3)
    right.set_xlabel("peak learning rate")
    right.set_ylabel("test accuracy (%)")
    right.set_title(f"MNIST, {data['epochs']} epochs, cosine decay")
    right.legend(fontsize="small")
    right.grid(True, alpha=0.3)


def build() -> Figure:
    """Draw the figure (the training part from the committed results)."""
    fig = Figure(figsize=(14, 4), layout="constrained")
    draw(fig, _results.load(DATA))
    return fig


def summary(data: dict) -> str:
    """The results as a table (the post quotes them)."""
    lines = ["peak lr   warmup   test acc   loss, first 50 steps (max of 10-step mean)   loss, last 10 steps"]
    for key in ("0", str(data["warmup"])):
        run = data["runs"][key]
        for k, peak in enumerate(data["peaks"]):
            losses = run["losses"][k]
            early = float(_smooth(losses[:50]).max())
            lines.append(
                f"{peak:<8g}  {key:>6}   {100 * run['test_accuracy'][k]:7.2f}%   {early:42.3f}   "
                f"{np.mean(losses[-10:]):19.4f}"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.family": "DejaVu Sans"})
    if "--measure" in sys.argv[1:]:
        _results.save(DATA, measure(), indent=None)
    results = _results.load(DATA)
    figure = Figure(figsize=(14, 4), layout="constrained")
    draw(figure, results)
    figure.savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    print(summary(results))
