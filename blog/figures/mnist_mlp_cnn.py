"""Figure for the post "MLP and CNN on MNIST": learning curves, confusion matrix, mistakes.

Top: the training loss and the test accuracy after each epoch, for the three-layer MLP and the
LeNet-style CNN, both trained by ``hyperion-nn mnist`` with its default recipe (AdamW, linear
warmup then cosine decay, batch 64) on the 5,000 training images and evaluated on the 10,000
test images.

Bottom left: the CNN's confusion matrix on the test set (row: true digit, column: predicted
digit); off-diagonal cells are coloured by their count, the diagonal is shown in grey.
Bottom right: the test digits the CNN got wrong with the highest confidence, with the true
label, the predicted label and the probability the CNN gave to its prediction.

The figure is drawn from ``data/mnist_mlp_cnn.json`` only, so it needs no data set and every
docs build gives the same bytes. ``--measure`` retrains both models through the CLI's own code
(the run folder goes to a temporary directory), reloads each saved checkpoint, classifies the
test set, rewrites the JSON and prints the numbers the post quotes. It needs MNIST (found as
``hyperion-nn mnist`` finds it: ``--data-dir`` or ``$HYPERION_DATA_DIR``)::

    python blog/figures/mnist_mlp_cnn.py --measure [--data-dir DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import _results
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

DATA = Path(__file__).parent / "data" / "mnist_mlp_cnn.json"
MODELS = ("mlp", "cnn")
LABELS = {"mlp": "MLP 784-256-128-10", "cnn": "CNN (LeNet-5)"}
SHOWN = 12  # misclassified digits kept in the JSON and drawn


# -- measuring ------------------------------------------------------------------------------------


def train_with_cli(model: str, out: Path, data_dir: Path | None) -> tuple[dict[str, Any], Any]:
    """Run ``hyperion-nn mnist --model MODEL`` with its defaults; return its metrics and the trained model."""
    from hyperion.nn import checkpoint
    from hyperion.nn.cli import DEFAULTS, build_parser, run_mnist
    from hyperion.nn.models import build_model

    argv = ["mnist", "--model", model, "--out", str(out), "--no-plot", "--no-download"]
    if data_dir is not None:
        argv += ["--data-dir", str(data_dir)]
    args = build_parser().parse_args(argv)
    run_mnist(args, io.StringIO(), sys.stderr)
    metrics = json.loads((out / "metrics.json").read_text())
    widths = {key: value for key, value in DEFAULTS[("mnist", model)].items() if key in ("channels", "hidden")}
    network = build_model(model, seed=args.seed, **widths)
    checkpoint.load(out / "model.safetensors", model=network)
    return metrics, network


def classify(network: Any, images: np.ndarray) -> np.ndarray:
    """Softmax probabilities ``(N, 10)`` of uint8 images ``(N, 28, 28)``, in eval mode without a graph."""
    import hyperion.autograd as ag
    from hyperion.nn.cli import prepare_images
    from hyperion.nn.functional import softmax

    network.eval()
    x = prepare_images(images)
    chunks = []
    with ag.no_grad():
        for start in range(0, len(x), 1000):
            chunks.append(softmax(network(ag.tensor(x[start : start + 1000])), dim=1).numpy())
    return np.concatenate(chunks)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, classes: int = 10) -> np.ndarray:
    """``counts[t, p]``: how many images of true class ``t`` were predicted as ``p``."""
    counts = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(counts, (labels, predicted), 1)
    return counts


def measure(data_dir: Path | None) -> dict[str, Any]:
    """Train both models, classify the test set, keep curves, confusion matrices and the worst mistakes."""
    from hyperion.nn.data.datasets import mnist

    images, labels = mnist("test", data_dir, download=False)
    labels = labels.astype(np.int64)
    data: dict[str, Any] = {"models": {}, "misclassified": []}
    probabilities: dict[str, np.ndarray] = {}
    for model in MODELS:
        with tempfile.TemporaryDirectory() as folder:
            metrics, network = train_with_cli(model, Path(folder), data_dir)
        probabilities[model] = classify(network, images)
        predicted = probabilities[model].argmax(axis=1)
        accuracy = float((predicted == labels).mean())
        # The reloaded checkpoint must reproduce the CLI's own last evaluation.
        if abs(accuracy - metrics["history"][-1]["test_accuracy"]) > 1e-9:
            print(f"warning: {model} reloaded accuracy {accuracy} != {metrics['history'][-1]}", file=sys.stderr)
        data["models"][model] = {
            key: metrics[key]
            for key in ("epochs", "batch_size", "lr", "optimizer", "seed", "train_images", "test_images", "parameters")
        } | {
            "seconds": metrics["seconds"],
            "test_accuracy": accuracy,
            "history": [
                {
                    key: round(epoch[key], 6)
                    for key in ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy")
                }
                for epoch in metrics["history"]
            ],
            "confusion": confusion_matrix(labels, predicted).tolist(),
        }
    cnn, mlp = probabilities["cnn"], probabilities["mlp"]
    wrong = np.flatnonzero(cnn.argmax(axis=1) != labels)
    data["both_wrong"] = int(np.sum(mlp[wrong].argmax(axis=1) != labels[wrong]))
    confidence = cnn[wrong].max(axis=1)
    order = wrong[np.lexsort((wrong, -confidence))][:SHOWN]  # most confident mistakes first
    for index in order:
        data["misclassified"].append(
            {
                "index": int(index),
                "label": int(labels[index]),
                "predicted": int(cnn[index].argmax()),
                "probability": round(float(cnn[index].max()), 4),
                "mlp_predicted": int(mlp[index].argmax()),
                "pixels": images[index].astype(int).tolist(),
            }
        )
    return data


def save(data: dict[str, Any]) -> None:
    """Write the measurements atomically; lists of numbers stay on one line each."""
    text = json.dumps(data, indent=1)
    text = re.sub(  # an innermost list of numbers: one line
        r"\[([-0-9.e,\s]+)\]", lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]", text
    )
    json.loads(text)  # still valid
    _results.write_text_atomic(DATA, text + "\n")


# -- drawing --------------------------------------------------------------------------------------


def draw_curves(loss_axes: Any, accuracy_axes: Any, data: dict[str, Any]) -> None:
    """Loss (training and test) and test accuracy per epoch, for both models."""
    for model, marker in zip(MODELS, ("o", "s"), strict=True):
        history = data["models"][model]["history"]
        epochs = [h["epoch"] for h in history]
        color = "C0" if model == "mlp" else "C1"
        loss_axes.plot(
            epochs, [h["train_loss"] for h in history], marker + "-", color=color, label=f"{LABELS[model]}, train"
        )
        loss_axes.plot(
            epochs,
            [h["test_loss"] for h in history],
            marker + "--",
            color=color,
            mfc="white",
            label=f"{LABELS[model]}, test",
        )
        accuracy_axes.plot(
            epochs, [100 * h["test_accuracy"] for h in history], marker + "-", color=color, label=LABELS[model]
        )
        final = 100 * history[-1]["test_accuracy"]
        accuracy_axes.annotate(
            f"{final:.2f} %",
            xy=(epochs[-1], final),
            xytext=(0, 8),
            textcoords="offset points",
            ha="center",
            fontsize="small",
        )
    loss_axes.set_yscale("log")
    loss_axes.set(xlabel="epoch", ylabel="cross-entropy (log scale)", title="Loss: training (running mean) and test")
    accuracy_axes.set(xlabel="epoch", ylabel="test accuracy (%)", title="Accuracy on the 10,000 test images")
    accuracy_axes.set_ylim(85, 100)
    for axes in (loss_axes, accuracy_axes):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(alpha=0.3)
        axes.legend(loc="best", fontsize="small")


def draw_confusion(axes: Any, counts: np.ndarray) -> None:
    """The confusion matrix, annotated: the diagonal in grey, the mistakes coloured by count."""
    off = np.ma.masked_array(counts, mask=np.eye(10, dtype=bool) | (counts == 0))
    axes.imshow(np.eye(10), cmap="Greys", vmin=0, vmax=4)  # the diagonal in light grey
    axes.imshow(off, cmap="Reds", vmin=0, vmax=max(1, int(off.max())))
    for t in range(10):
        for p in range(10):
            if counts[t, p]:
                dark = t != p and counts[t, p] > 0.6 * off.max()
                axes.text(
                    p, t, str(counts[t, p]), ha="center", va="center", fontsize=7, color="white" if dark else "black"
                )
    axes.set_xticks(range(10))
    axes.set_yticks(range(10))
    axes.set(xlabel="predicted digit", ylabel="true digit")
    errors = int(counts.sum() - np.trace(counts))
    axes.set_title(f"CNN confusion matrix ({errors} errors in {int(counts.sum()):,})")


def draw_mistakes(subfigure: Any, mistakes: list[dict[str, Any]]) -> None:
    """A grid of misclassified digits, each titled with its true and predicted labels."""
    grid = subfigure.subplots(3, 4)
    for axes, item in zip(grid.flat, mistakes, strict=False):
        axes.imshow(np.array(item["pixels"], dtype=np.uint8), cmap="gray_r", vmin=0, vmax=255)
        axes.set_title(f"true {item['label']} → {item['predicted']}\np = {item['probability']:.3f}", fontsize=8)
        axes.set_xticks([])
        axes.set_yticks([])
    for axes in grid.flat[len(mistakes) :]:
        axes.axis("off")
    subfigure.suptitle("The CNN's most confident mistakes", fontsize="medium")


def draw(fig: Figure, data: dict[str, Any]) -> None:
    """Draw the four panels of ``data`` onto ``fig``."""
    top, bottom = fig.subfigures(2, 1, height_ratios=(1, 1.25))
    loss_axes, accuracy_axes = top.subplots(1, 2)
    draw_curves(loss_axes, accuracy_axes, data)
    left, right = bottom.subfigures(1, 2, width_ratios=(1, 1.1))
    draw_confusion(left.subplots(), np.array(data["models"]["cnn"]["confusion"]))
    draw_mistakes(right, data["misclassified"])


def build() -> Figure:
    """Draw the figure from the committed measurements."""
    fig = Figure(figsize=(11, 9.5), layout="constrained")
    draw(fig, _results.load(DATA))
    return fig


def summary(data: dict[str, Any]) -> str:
    """The measured numbers the post quotes."""
    lines = []
    for model in MODELS:
        m = data["models"][model]
        counts = np.array(m["confusion"])
        lines.append(
            f"{model}: {m['parameters']} parameters, {m['epochs']} epochs x batch {m['batch_size']}, lr {m['lr']:g}, "
            f"{m['train_images']} train / {m['test_images']} test images: test accuracy "
            f"{100 * m['test_accuracy']:.2f}% ({int(counts.sum() - np.trace(counts))} errors), {m['seconds']:.1f} s"
        )
        lines.append("  epoch  train loss  train acc  test loss  test acc")
        lines += [
            f"  {h['epoch']:5d}  {h['train_loss']:10.4f}  {100 * h['train_accuracy']:8.2f}%  {h['test_loss']:9.4f}  "
            f"{100 * h['test_accuracy']:7.2f}%"
            for h in m["history"]
        ]
        errors = counts - np.diag(np.diag(counts))
        t, p = np.unravel_index(errors.argmax(), errors.shape)
        recall = np.diag(counts) / counts.sum(axis=1)
        lines.append(
            f"  most frequent confusion: true {t} -> predicted {p} ({errors[t, p]}); "
            f"worst recall: digit {recall.argmin()} ({100 * recall.min():.2f}%); best: digit {recall.argmax()} "
            f"({100 * recall.max():.2f}%)"
        )
    lines.append(f"test images misclassified by both models: {data['both_wrong']}")
    lines.append("misclassified by the CNN (most confident first): index true->pred p (mlp's prediction)")
    lines += [
        f"  {d['index']:5d}  {d['label']} -> {d['predicted']}  {d['probability']:.3f}  (mlp: {d['mlp_predicted']})"
        for d in data["misclassified"]
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.family": "DejaVu Sans"})
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true", help="retrain both models and rewrite the JSON")
    parser.add_argument("--data-dir", type=Path, help="folder holding mnist/ (else $HYPERION_DATA_DIR)")
    options = parser.parse_args()
    if options.measure:
        start = time.perf_counter()
        measured = measure(options.data_dir)
        measured["measure_seconds"] = round(time.perf_counter() - start, 1)
        save(measured)
    measured = _results.load(DATA)
    figure = Figure(figsize=(11, 9.5), layout="constrained")
    draw(figure, measured)
    figure.savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    print(summary(measured))
