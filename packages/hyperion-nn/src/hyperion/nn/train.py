"""A small supervised training loop for classifiers: train epochs, evaluate, keep the history.

The loop is plain Python over a :class:`~hyperion.nn.data.DataLoader`; what a
caller may want to watch (a progress bar, logging) comes in through callbacks,
so the loop itself prints nothing.

Examples:
    >>> import numpy as np
    >>> from hyperion.nn.data import DataLoader, TensorDataset
    >>> from hyperion.nn.layers.linear import Linear
    >>> from hyperion.nn.optim import SGD
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((64, 2)).astype(np.float32)
    >>> y = (x[:, 0] > 0).astype(np.int64)
    >>> model = Linear(2, 2, seed=0)
    >>> loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, seed=0)
    >>> history = fit(model, SGD(model.parameters(), lr=0.5), loader, loader, epochs=5)
    >>> history[-1].test_accuracy > 0.9
    True
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

import numpy as np

from hyperion.autograd import Tensor, no_grad
from hyperion.nn.data.dataloader import DataLoader
from hyperion.nn.functional.loss import cross_entropy
from hyperion.nn.module import Module
from hyperion.nn.optim.clip import clip_grad_norm_
from hyperion.nn.optim.optimizer import Optimizer

__all__ = ["NONFINITE_POLICIES", "EpochMetrics", "StepInfo", "TrainStats", "evaluate", "fit", "train_epoch"]

#: What :func:`train_epoch` does with a batch whose loss is NaN or infinite.
NONFINITE_POLICIES = ("raise", "skip")


@dataclass(frozen=True)
class StepInfo:
    """What a step callback sees: position in the epoch and running averages."""

    epoch: int
    step: int
    steps: int
    loss: float
    accuracy: float
    lr: float


@dataclass(frozen=True)
class EpochMetrics:
    """One epoch of the history: training averages, test metrics, seconds spent.

    ``skipped`` counts the training batches left out because their loss was not finite
    (only with ``on_nonfinite="skip"``); the training averages are over the other batches.
    """

    epoch: int
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    lr: float
    seconds: float
    skipped: int = 0

    def as_dict(self) -> dict[str, float]:
        """A JSON-ready dict."""
        return asdict(self)


class TrainStats(NamedTuple):
    """What :func:`train_epoch` returns: averages over the applied batches, and the skipped count."""

    loss: float
    accuracy: float
    skipped: int


def _check_policy(on_nonfinite: str) -> None:
    if on_nonfinite not in NONFINITE_POLICIES:
        raise ValueError(f"on_nonfinite must be one of {NONFINITE_POLICIES}, got {on_nonfinite!r}")


def _loss_and_hits(model: Module, inputs: Tensor, labels: Tensor) -> tuple[Tensor, int]:
    logits = model(inputs)
    loss = cross_entropy(logits, labels)
    hits = int((np.argmax(logits.detach().numpy(), axis=1) == labels.numpy()).sum())
    return loss, hits


def evaluate(model: Module, loader: DataLoader) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` over ``loader``, in eval mode without a graph.

    Returns:
        ``(loss, accuracy)``; ``(nan, nan)`` for an empty loader.
    """
    was_training = model.training
    model.eval()
    total_loss, hits, count = 0.0, 0, 0
    try:
        with no_grad():
            for inputs, labels in loader:
                loss, batch_hits = _loss_and_hits(model, inputs, labels)
                total_loss += loss.item() * labels.shape[0]
                hits += batch_hits
                count += labels.shape[0]
    finally:
        model.train(was_training)
    if count == 0:
        return float("nan"), float("nan")
    return total_loss / count, hits / count


def train_epoch(
    model: Module,
    optimizer: Optimizer,
    loader: DataLoader,
    *,
    scheduler: Any = None,
    max_grad_norm: float | None = None,
    epoch: int = 0,
    on_step: Callable[[StepInfo], None] | None = None,
    after_backward: Callable[[], Any] | None = None,
    on_nonfinite: str = "raise",
) -> TrainStats:
    """One pass over ``loader``: forward, cross-entropy, backward, (clip,) step, (schedule).

    Args:
        model: the classifier (put in training mode).
        optimizer: updates the parameters.
        loader: yields ``(inputs, integer labels)``.
        scheduler: stepped after every optimizer step (per-iteration schedules).
        max_grad_norm: clip the global gradient norm to this value.
        epoch: the epoch number reported to ``on_step``.
        on_step: called after every step.
        after_backward: called after every ``backward``, before clipping and the step
            (data-parallel training passes ``DistributedDataParallel.sync_gradients``).
        on_nonfinite: ``"raise"`` (stop with :class:`FloatingPointError`) or ``"skip"`` (leave
            the batch out: no backward, no optimizer or scheduler step, not counted in the
            averages) when a batch's loss is NaN or infinite. The parameters are never updated
            from such a batch either way.

    Returns:
        ``(mean loss, accuracy, skipped batches)`` over the epoch's training batches; the
        averages are NaN when no batch was applied.

    Raises:
        FloatingPointError: if the loss becomes NaN or infinite and ``on_nonfinite="raise"``.
        ValueError: if ``on_nonfinite`` is not one of :data:`NONFINITE_POLICIES`.
    """
    _check_policy(on_nonfinite)
    model.train()
    total_loss, hits, count, skipped = 0.0, 0, 0, 0
    steps = len(loader)
    for step, (inputs, labels) in enumerate(loader, start=1):
        loss, batch_hits = _loss_and_hits(model, inputs, labels)
        value = loss.item()
        if not np.isfinite(value):
            if on_nonfinite == "skip":
                skipped += 1
                continue
            raise FloatingPointError(f"training diverged: loss is {value} at epoch {epoch}, step {step}")
        optimizer.zero_grad()
        loss.backward()
        if after_backward is not None:
            after_backward()
        if max_grad_norm is not None:
            clip_grad_norm_(model.parameters(), max_grad_norm)
        optimizer.step()
        lr = optimizer.param_groups[0]["lr"]
        if scheduler is not None:
            scheduler.step()
        n = labels.shape[0]
        total_loss += value * n
        hits += batch_hits
        count += n
        if on_step is not None:
            on_step(StepInfo(epoch, step, steps, total_loss / count, hits / count, lr))
    if count == 0:
        return TrainStats(float("nan"), float("nan"), skipped)
    return TrainStats(total_loss / count, hits / count, skipped)


def fit(
    model: Module,
    optimizer: Optimizer,
    train_loader: DataLoader,
    test_loader: DataLoader,
    epochs: int,
    *,
    scheduler: Any = None,
    max_grad_norm: float | None = None,
    on_step: Callable[[StepInfo], None] | None = None,
    on_epoch: Callable[[EpochMetrics], None] | None = None,
    after_backward: Callable[[], Any] | None = None,
    on_nonfinite: str = "raise",
) -> list[EpochMetrics]:
    """Train for ``epochs`` epochs, evaluating on ``test_loader`` after each.

    Args:
        model: the classifier.
        optimizer: updates the parameters.
        train_loader: training batches (shuffled per epoch by the loader's seed).
        test_loader: evaluation batches.
        epochs: number of passes over the training data.
        scheduler: stepped once per optimizer step.
        max_grad_norm: global gradient-norm clipping.
        on_step: called after every step.
        on_epoch: called with each epoch's metrics.
        after_backward: called after every ``backward``, before clipping and the step.
        on_nonfinite: ``"raise"`` or ``"skip"`` a batch whose loss is not finite (see
            :func:`train_epoch`); the skipped count is each epoch's ``skipped``.

    Returns:
        The history: one :class:`EpochMetrics` per epoch.

    Raises:
        FloatingPointError: if a loss is not finite and ``on_nonfinite="raise"``.
        ValueError: if ``on_nonfinite`` is not one of :data:`NONFINITE_POLICIES`.
    """
    _check_policy(on_nonfinite)
    history: list[EpochMetrics] = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        lr = optimizer.param_groups[0]["lr"]
        train_loss, train_accuracy, skipped = train_epoch(
            model,
            optimizer,
            train_loader,
            scheduler=scheduler,
            max_grad_norm=max_grad_norm,
            epoch=epoch,
            on_step=on_step,
            after_backward=after_backward,
            on_nonfinite=on_nonfinite,
        )
        test_loss, test_accuracy = evaluate(model, test_loader)
        metrics = EpochMetrics(
            epoch, train_loss, train_accuracy, test_loss, test_accuracy, lr, time.perf_counter() - start, skipped
        )
        history.append(metrics)
        if on_epoch is not None:
            on_epoch(metrics)
    return history
