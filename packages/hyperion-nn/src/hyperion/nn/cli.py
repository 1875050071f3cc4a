"""``hyperion-nn``: train an MLP or a LeNet-style CNN on MNIST or Fashion-MNIST.

``hyperion-nn mnist`` alone trains the MLP on MNIST with defaults tuned to
finish in about a minute on a laptop. Progress goes to stderr (a bar on a
terminal, plain lines otherwise); the result goes to stdout, and with
``--json`` its last line is one JSON object::

    {"model": "mlp", "dataset": "mnist", "epochs": 15, "train_images": 5000,
     "test_accuracy": 0.9431, "seconds": 41.2, ...}

The run folder (``--out``) receives the checkpoint (``model.safetensors``), the
per-epoch history (``metrics.json``) and the learning curves (``curves.png``,
when matplotlib is installed: ``pip install hyperion-nn[plot]``), each written
atomically.

Data-parallel training over MPI (``pip install 'hyperion-nn[distributed]'``)::

    mpiexec -n 2 hyperion-nn mnist --ddp

runs one process per rank; ``--batch-size`` stays the *global* batch, split evenly
over the ranks, so the run trains the same model as a single process would. Only
rank 0 prints progress and writes the run folder. A launch by ``mpiexec`` with more
than one rank turns ``--ddp`` on by itself.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from hyperion.nn import checkpoint
from hyperion.nn.data.dataloader import DataLoader
from hyperion.nn.data.dataset import TensorDataset
from hyperion.nn.data.datasets import DatasetNotFoundError, load_image_classification, source_by_name
from hyperion.nn.data.idx import IdxFormatError
from hyperion.nn.models import build_model
from hyperion.nn.module import Module
from hyperion.nn.optim import SGD, AdamW, Optimizer
from hyperion.nn.optim.lr_scheduler import WarmupCosineLR
from hyperion.nn.parallel import (
    DistributedDataLoader,
    DistributedSampler,
    MPIUnavailableError,
    ParameterMismatchError,
    get_comm,
    launch_world_size,
    setup_data_parallel,
)
from hyperion.nn.train import NONFINITE_POLICIES, EpochMetrics, StepInfo, fit
from hyperion.tensor.cli import ArgumentParser, UserError, nonnegative_int, positive_float, positive_int
from hyperion.tensor.files import atomic_path, write_text_atomic

__all__ = ["main", "prepare_images"]

#: (dataset, model) → default epochs, batch size and AdamW learning rate (and CNN widths).
DEFAULTS: dict[tuple[str, str], dict[str, Any]] = {
    ("mnist", "mlp"): {"epochs": 15, "batch_size": 64, "lr": 2e-3},
    ("mnist", "cnn"): {"epochs": 8, "batch_size": 64, "lr": 2e-3, "channels": (6, 16), "hidden": (120, 84)},
    ("fashion-mnist", "mlp"): {"epochs": 8, "batch_size": 128, "lr": 2e-3},
    ("fashion-mnist", "cnn"): {"epochs": 4, "batch_size": 128, "lr": 3e-3, "channels": (16, 32), "hidden": (128, 84)},
}
_SGD_LR_SCALE = 25.0  # SGD with momentum wants a rate ~25x Adam's here
_EVAL_BATCH = 1000


def build_parser() -> argparse.ArgumentParser:
    """The command line: ``hyperion-nn mnist [options]``."""
    parser = ArgumentParser(prog="hyperion-nn", description="Train neural networks built on hyperion.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=ArgumentParser)
    run = commands.add_parser(
        "mnist",
        help="train an MLP or a CNN on MNIST or Fashion-MNIST",
        description="Train an MLP or a LeNet-style CNN on MNIST or Fashion-MNIST, evaluating on the "
        "test set after every epoch; save a checkpoint, the metrics and a learning-curve plot.",
    )
    run.add_argument(
        "--model",
        choices=("mlp", "cnn"),
        default="mlp",
        help="mlp: 784-256-128-10; cnn: LeNet-5 (6/16 channels on mnist, 16/32 on fashion-mnist)",
    )
    run.add_argument("--dataset", choices=("mnist", "fashion-mnist"), default="mnist", help="default: mnist")
    run.add_argument("--epochs", type=positive_int, help="default per dataset/model (mnist mlp: 15)")
    run.add_argument("--batch-size", type=positive_int, help="default per dataset/model (64 or 128)")
    run.add_argument("--lr", type=positive_float, help="peak learning rate (warmup then cosine decay)")
    run.add_argument("--optimizer", choices=("adamw", "sgd"), default="adamw", help="sgd: momentum 0.9, Nesterov")
    run.add_argument("--weight-decay", type=float, default=0.01, help="default: 0.01")
    run.add_argument("--seed", type=nonnegative_int, default=0, help="seeds initialisation, shuffling and subsetting")
    run.add_argument("--data-dir", type=Path, help="folder holding <dataset>/ (searched before $HYPERION_DATA_DIR)")
    run.add_argument("--no-download", action="store_true", help="fail instead of downloading missing files")
    run.add_argument("--out", type=Path, help="run folder (default: runs/<dataset>-<model>)")
    run.add_argument("--limit-train", type=positive_int, help="train on a random subset of this many images")
    run.add_argument("--limit-test", type=positive_int, help="evaluate on the first N test images")
    run.add_argument("--no-plot", action="store_true", help="do not draw the learning curves")
    run.add_argument(
        "--on-nonfinite",
        choices=NONFINITE_POLICIES,
        default="raise",
        help="a batch whose loss is NaN/inf: raise (stop with an error, the default) or skip it "
        "(no update; the count is reported); not with several --ddp ranks",
    )
    run.add_argument("--json", action="store_true", help="print the final metrics as one JSON object, last on stdout")
    run.add_argument(
        "--ddp",
        action="store_true",
        help="data-parallel over MPI ranks (launch with mpiexec -n N; on by itself under mpiexec with N > 1); "
        "--batch-size is the global batch, split evenly over the ranks",
    )
    return parser


# -- data -----------------------------------------------------------------------------------------


def prepare_images(images: np.ndarray) -> np.ndarray:
    """uint8 ``(N, 28, 28)`` → float32 ``(N, 1, 28, 28)`` scaled to ``[-1, 1]``."""
    return (images.astype(np.float32) * np.float32(2 / 255) - np.float32(1))[:, None, :, :]


def _load_split(args: argparse.Namespace, split: str, log: Any) -> tuple[np.ndarray, np.ndarray]:
    source = source_by_name(args.dataset)
    try:
        return load_image_classification(source, split, args.data_dir, download=not args.no_download, log=log)
    except (DatasetNotFoundError, IdxFormatError) as error:
        raise UserError(str(error)) from None


def _loaders(args: argparse.Namespace, log: Any, ranks: tuple[int, int] = (0, 1)) -> tuple[DataLoader, DataLoader]:
    train_x, train_y = _load_split(args, "train", log)
    test_x, test_y = _load_split(args, "test", log)
    if args.limit_train is not None and args.limit_train < len(train_x):
        # A random subset: the files may be sorted by class.
        keep = np.sort(np.random.default_rng(args.seed).permutation(len(train_x))[: args.limit_train])
        train_x, train_y = train_x[keep], train_y[keep]
    if args.limit_test is not None:
        test_x, test_y = test_x[: args.limit_test], test_y[: args.limit_test]
    train = TensorDataset(prepare_images(train_x), train_y.astype(np.int64))
    test = TensorDataset(prepare_images(test_x), test_y.astype(np.int64))
    rank, size = ranks
    if size == 1:
        train_loader = DataLoader(train, batch_size=args.batch_size, shuffle=True, seed=args.seed)
    else:
        # Every rank draws the permutation a single process would and keeps its share of each batch.
        sampler = DistributedSampler(len(train), num_replicas=size, rank=rank, shuffle=True, seed=args.seed)
        train_loader = DistributedDataLoader(train, args.batch_size // size, sampler)
    test_loader = DataLoader(test, batch_size=_EVAL_BATCH)
    return train_loader, test_loader


# -- progress ---------------------------------------------------------------------------------------


class Progress:
    """A progress bar on a terminal; a plain line per quarter epoch otherwise.

    Args:
        epochs: total epochs (for the ``epoch i/n`` label).
        stream: where to write (stderr).
    """

    def __init__(self, epochs: int, stream: TextIO) -> None:
        self.epochs = epochs
        self.stream = stream
        self.tty = stream.isatty()
        self._last = 0.0
        self._quarter = 0

    def step(self, info: StepInfo) -> None:
        """Show the running loss/accuracy after a training step."""
        text = (
            f"epoch {info.epoch}/{self.epochs} {info.step}/{info.steps} "
            f"loss {info.loss:.4f} acc {100 * info.accuracy:.2f}% lr {info.lr:.2e}"
        )
        if self.tty:
            now = time.monotonic()
            if now - self._last < 0.1 and info.step != info.steps:
                return
            self._last = now
            width = 24
            filled = int(width * info.step / max(info.steps, 1))
            bar = "#" * filled + "." * (width - filled)
            self.stream.write(f"\r\033[K[{bar}] {text}")
            self.stream.flush()
            return
        quarter = 4 * info.step // max(info.steps, 1)
        if info.step == 1:
            self._quarter = 0
        if quarter > self._quarter and info.step != info.steps:
            self._quarter = quarter
            self.stream.write(text + "\n")
            self.stream.flush()

    def epoch(self, metrics: EpochMetrics) -> None:
        """One summary line per epoch, with the test metrics."""
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(
            f"epoch {metrics.epoch}/{self.epochs}: train loss {metrics.train_loss:.4f} "
            f"acc {100 * metrics.train_accuracy:.2f}% | test loss {metrics.test_loss:.4f} "
            f"acc {100 * metrics.test_accuracy:.2f}% | {metrics.seconds:.1f}s"
            + (f" | skipped {metrics.skipped} non-finite batches" if metrics.skipped else "")
            + "\n"
        )
        self.stream.flush()


# -- outputs ----------------------------------------------------------------------------------------


def save_plot(path: Path, history: Sequence[EpochMetrics], title: str) -> bool:
    """Draw loss and accuracy per epoch into a PNG (atomically).

    Returns:
        ``False`` (drawing nothing) when matplotlib is not installed.
    """
    try:
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        return False
    epochs = [m.epoch for m in history]
    figure = Figure(figsize=(9, 3.6), layout="constrained")
    loss_axes, accuracy_axes = figure.subplots(1, 2)
    loss_axes.plot(epochs, [m.train_loss for m in history], "o-", label="train")
    loss_axes.plot(epochs, [m.test_loss for m in history], "s-", label="test")
    loss_axes.set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    accuracy_axes.plot(epochs, [100 * m.train_accuracy for m in history], "o-", label="train")
    accuracy_axes.plot(epochs, [100 * m.test_accuracy for m in history], "s-", label="test")
    accuracy_axes.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    for axes in (loss_axes, accuracy_axes):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend()
        axes.grid(alpha=0.3)
    figure.suptitle(title)
    with atomic_path(path, suffix=".png") as tmp:
        figure.savefig(tmp, format="png", dpi=110)
    return True


def save_checkpoint(path: Path, model: Module, optimizer: Optimizer, scheduler: Any, extra: dict[str, Any]) -> Path:
    """Save model, optimizer and scheduler state (safetensors, checksummed, atomic); ``extra`` as JSON metadata."""
    checkpoint.save(path, model=model, optimizer=optimizer, scheduler=scheduler, extra=extra)
    return path


# -- the command ----------------------------------------------------------------------------------------


def _check_writable(folder: Path) -> None:
    """Create ``folder`` if needed and check a file can be written in it, before any training.

    Raises:
        UserError: naming the folder and the system's reason.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()  # removed on close: nothing is left behind
    except OSError as error:
        raise UserError(f"cannot write the run folder {folder}: {error}") from None


def _make_optimizer(args: argparse.Namespace, model: Module) -> Optimizer:
    if args.optimizer == "sgd":
        return SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=args.weight_decay / 10)
    return AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)


def run_mnist(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> dict[str, Any]:
    """Train and evaluate as ``args`` says; return the final metrics."""
    defaults = DEFAULTS[(args.dataset, args.model)]
    args.epochs = args.epochs or int(defaults["epochs"])
    args.batch_size = args.batch_size or int(defaults["batch_size"])
    if args.lr is None:
        args.lr = defaults["lr"] * (_SGD_LR_SCALE if args.optimizer == "sgd" else 1.0)
    if not math.isfinite(args.weight_decay):
        raise UserError(f"--weight-decay must be a finite number, got {args.weight_decay}")
    if args.weight_decay < 0:
        raise UserError(f"--weight-decay must be >= 0, got {args.weight_decay}")
    out = args.out if args.out is not None else Path("runs") / f"{args.dataset}-{args.model}"
    ranks = _ranks(args)
    main_rank = ranks[0] == 0
    if args.batch_size % ranks[1]:
        raise UserError(f"--batch-size {args.batch_size} does not split evenly over {ranks[1]} ranks")
    if args.on_nonfinite == "skip" and ranks[1] > 1:
        # A rank that skipped would not join the gradient all-reduce of the others.
        raise UserError(f"--on-nonfinite skip does not work with {ranks[1]} data-parallel ranks")
    if main_rank:
        _check_writable(out)

    def log(message: str) -> None:
        if main_rank:
            stderr.write(message + "\n")
            stderr.flush()

    start = time.perf_counter()
    train_loader, test_loader = _loaders(args, log, ranks)
    train_images, test_images = len(train_loader.dataset), len(test_loader.dataset)
    if len(train_loader) == 0:
        raise UserError("the training set is empty")
    widths = {key: defaults[key] for key in ("channels", "hidden") if key in defaults}
    model = build_model(args.model, seed=args.seed, **widths)
    try:
        parallel = setup_data_parallel(model, enabled=ranks[1] > 1)
    except ParameterMismatchError as error:
        raise UserError(str(error)) from None
    optimizer = _make_optimizer(args, model)
    total_steps = args.epochs * len(train_loader)
    scheduler = WarmupCosineLR(
        optimizer, warmup_iters=max(1, total_steps // 20), max_iters=max(2, total_steps), min_lr=args.lr / 100
    )
    split = f" ({ranks[1]} ranks x {args.batch_size // ranks[1]})" if ranks[1] > 1 else ""
    log(
        f"training {args.model} on {args.dataset}: {train_images} train / {test_images} test images, "
        f"{args.epochs} epochs x {len(train_loader)} steps of {args.batch_size}{split}, {args.optimizer} lr {args.lr:g}"
    )
    progress = Progress(args.epochs, stderr)
    # A diverging run overflows on its way to a NaN loss: fit() reports that in one line, so
    # NumPy's warnings about the same overflow would only be noise ahead of it.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        history = fit(
            parallel.model,
            optimizer,
            train_loader,
            test_loader,
            args.epochs,
            scheduler=scheduler,
            on_step=progress.step if main_rank else None,
            on_epoch=progress.epoch if main_rank else None,
            after_backward=parallel.sync_gradients if parallel.distributed else None,
            on_nonfinite=args.on_nonfinite,
        )
    seconds = time.perf_counter() - start
    final = history[-1]
    result: dict[str, Any] = {
        "model": args.model,
        "dataset": args.dataset,
        "epochs": args.epochs,
        "train_images": train_images,
        "test_accuracy": round(final.test_accuracy, 4),
        "seconds": round(seconds, 1),
        "test_images": test_images,
        "test_loss": round(final.test_loss, 4),
        # Each rank saw its own shard: the mean over the ranks is the whole training set's.
        "train_loss": round(parallel.average(final.train_loss), 4),
        "optimizer": args.optimizer,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
        "parameters": model.num_parameters(),
        "ranks": ranks[1],
        "skipped_batches": sum(m.skipped for m in history),
    }
    if not main_rank:  # rank 0 alone writes the run folder and the result
        return result
    try:
        out.mkdir(parents=True, exist_ok=True)
        checkpoint_path = save_checkpoint(out / "model.safetensors", model, optimizer, scheduler, dict(result))
        result["checkpoint"] = str(checkpoint_path)
        write_text_atomic(
            out / "metrics.json", json.dumps({**result, "history": [m.as_dict() for m in history]}, indent=2) + "\n"
        )
        if not args.no_plot:
            plot = out / "curves.png"
            title = f"{args.model} on {args.dataset} ({train_images} training images)"
            if save_plot(plot, history, title):
                result["plot"] = str(plot)
            else:
                log("matplotlib is not installed (pip install 'hyperion-nn[plot]'): skipping the plot")
    except OSError as error:
        raise UserError(f"cannot write the run folder {out}: {error}") from None
    if args.json:
        stdout.write(json.dumps(result) + "\n")
    else:
        stdout.write(
            f"{args.model} on {args.dataset}: test accuracy {100 * final.test_accuracy:.2f}% "
            f"after {args.epochs} epochs on {train_images} images in {seconds:.1f}s; saved to {out}\n"
        )
    return result


def _ranks(args: argparse.Namespace) -> tuple[int, int]:
    """``(rank, world size)``: MPI's with ``--ddp`` or under an ``mpiexec`` launch of several ranks, else ``(0, 1)``."""
    if not args.ddp and (launch_world_size() or 1) == 1:
        return 0, 1
    try:
        comm = get_comm()
    except MPIUnavailableError as error:
        raise UserError(str(error)) from None
    return int(comm.Get_rank()), int(comm.Get_size())


def _abort_other_ranks(status: int) -> int:
    """After an error on one rank of a multi-rank job, end every rank (the others would wait forever)."""
    if "mpi4py.MPI" in sys.modules:
        comm = sys.modules["mpi4py.MPI"].COMM_WORLD
        if comm.Get_size() > 1:
            sys.stderr.flush()
            comm.Abort(status)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``hyperion-nn`` console script.

    Returns:
        The exit status: 0 on success, 1 for a user error (one line on stderr),
        2 for bad command-line flags, 130 when interrupted.
    """
    args = build_parser().parse_args(argv)
    try:
        run_mnist(args, sys.stdout, sys.stderr)
    except UserError as error:
        sys.stderr.write(f"hyperion-nn: error: {error}\n")
        return _abort_other_ranks(1)
    except FloatingPointError as error:  # e.g. a learning rate far too large
        sys.stderr.write(f"\nhyperion-nn: error: {error} (try a smaller --lr)\n")
        return _abort_other_ranks(1)
    except KeyboardInterrupt:
        sys.stderr.write("\nhyperion-nn: interrupted\n")
        return _abort_other_ranks(130)
    return 0


if __name__ == "__main__":
    sys.exit(main())
