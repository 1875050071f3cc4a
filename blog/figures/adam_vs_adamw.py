"""Figure for the post "Adam vs AdamW": L2 weight decay against decoupled weight decay.

A 784-256-256-10 ReLU MLP is trained on the first 5,000 MNIST training images for 5 epochs
(batch 64, learning rate 1e-3, the same seed for every run), once with ``Adam`` and its L2 penalty
and once with ``AdamW`` and its decoupled decay, for each weight decay in ``DECAYS``. Only the
weight matrices are decayed (``weight_decay_groups``). After training, each run records the
accuracy on the 10,000 test images, the final training loss and the L2 norm of all the weight
matrices together.

Left: test accuracy against the weight decay. Right: the weight norm against the weight decay.

The figure is drawn from the results committed in ``data/adam_vs_adamw.json``, so the docs build
never trains. Re-run the training (about a minute and a half on two cores; it rewrites the JSON
and prints the numbers the post quotes), then rebuild::

    python blog/figures/adam_vs_adamw.py --measure

It reads MNIST from wherever ``hyperion.nn.data.mnist`` finds it, without downloading.
"""

from __future__ import annotations

import sys
from pathlib import Path

import _results
import numpy as np
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "adam_vs_adamw.json"
DECAYS = (0.0, 1e-3, 1e-2, 1e-1, 1.0, 10.0)
EPOCHS = 5
BATCH = 64
LR = 1e-3
SEED = 0


def _images(images: np.ndarray) -> np.ndarray:
    """uint8 ``(N, 28, 28)`` → float32 ``(N, 784)``, standardised with MNIST's mean and std."""
    return ((images.reshape(len(images), -1).astype(np.float32) / 255 - 0.1307) / 0.3081).astype(np.float32)


def train_one(optimizer_name: str, weight_decay: float, data: tuple[np.ndarray, ...]) -> dict[str, float]:
    """Train the MLP once; return test accuracy, final training loss and the weight-matrix norm."""
    import hyperion.autograd as ag
    import hyperion.nn as nn
    from hyperion.nn import functional as F
    from hyperion.nn.optim import Adam, AdamW, weight_decay_groups

    train_x, train_y, test_x, test_y = data
    nn.init.manual_seed(SEED)
    model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    kind = Adam if optimizer_name == "Adam" else AdamW
    optimizer = kind(weight_decay_groups(model.parameters(), weight_decay), lr=LR)
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
            losses.append(loss.item())
    with ag.no_grad():
        predicted = model(ag.tensor(test_x)).numpy().argmax(axis=1)
    matrices = [p.detach().numpy() for p in model.parameters() if p.ndim >= 2]
    return {
        "test_accuracy": float((predicted == test_y).mean()),
        "train_loss": float(np.mean(losses[-len(train_x) // BATCH :])),  # mean over the last epoch
        "weight_norm": float(np.sqrt(sum(float((m.astype(np.float64) ** 2).sum()) for m in matrices))),
    }


def measure() -> dict[str, object]:
    """Every (optimizer, weight decay) run."""
    from hyperion.nn.data import mnist

    train_images, train_labels = mnist("train", download=False)
    test_images, test_labels = mnist("test", download=False)
    data = (
        _images(train_images[:5000]),
        train_labels[:5000].astype(np.int64),
        _images(test_images),
        test_labels.astype(np.int64),
    )
    out: dict[str, object] = {"decays": list(DECAYS), "epochs": EPOCHS, "lr": LR, "train_images": len(data[0])}
    for name in ("Adam", "AdamW"):
        runs = [train_one(name, decay, data) for decay in DECAYS]
        out[name] = {key: [run[key] for run in runs] for key in runs[0]}
    return out


def draw(fig: Figure, data: dict) -> None:
    """Accuracy and weight norm against the weight decay, one line per optimizer."""
    left, right = fig.subplots(1, 2)
    decays = data["decays"]
    # A log axis cannot show 0: the run without decay is drawn at a tenth of the smallest non-zero value.
    positions = [d if d > 0 else min(x for x in decays if x > 0) / 10 for d in decays]
    labels = ["0" if d == 0 else f"{d:g}" for d in decays]
    styles = {"Adam": ("o-", "Adam + L2 penalty"), "AdamW": ("s-", "AdamW (decoupled)")}
    for name, (style, label) in styles.items():
        left.semilogx(positions, [100 * a for a in data[name]["test_accuracy"]], style, label=label)
        right.semilogx(positions, data[name]["weight_norm"], style, label=label)
    for axes in (left, right):
        axes.set_xticks(positions, labels)
        axes.minorticks_off()
        axes.set_xlabel("weight decay λ")
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize="small")
    left.set_ylabel("test accuracy (%)")
    left.set_title(f"MNIST, {data['train_images']} images, {data['epochs']} epochs")
    right.set_ylabel("‖weight matrices‖₂")
    right.set_title("Size of the weights after training")


def build() -> Figure:
    """Draw the figure from the committed results."""
    fig = Figure(figsize=(10, 4), layout="constrained")
    draw(fig, _results.load(DATA))
    return fig


def summary(data: dict) -> str:
    """The results as a table (the post quotes them)."""
    lines = ["optimizer  decay     test acc   train loss   weight norm"]
    for name in ("Adam", "AdamW"):
        runs = data[name]
        for k, decay in enumerate(data["decays"]):
            lines.append(
                f"{name:<9}  {decay:<8g}  {100 * runs['test_accuracy'][k]:7.2f}%   "
                f"{runs['train_loss'][k]:10.4f}   {runs['weight_norm'][k]:11.2f}"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.family": "DejaVu Sans"})
    if "--measure" in sys.argv[1:]:
        _results.save(DATA, measure())
    results = _results.load(DATA)
    figure = Figure(figsize=(10, 4), layout="constrained")
    draw(figure, results)
    figure.savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    print(summary(results))
