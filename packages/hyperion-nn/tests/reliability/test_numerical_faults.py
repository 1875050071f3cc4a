"""Numerical faults: extreme logits stay finite, float16 is handled (each op decided and asserted),
and a loss that turns NaN stops training with a clear message without touching the last good
checkpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hyperion.autograd as ag
from hyperion.nn import Linear, Sequential, Tanh, checkpoint
from hyperion.nn import functional as F
from hyperion.nn.data import DataLoader, TensorDataset
from hyperion.nn.optim import SGD
from hyperion.nn.train import EpochMetrics, fit

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

EXTREME = [[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]]
TARGET = [1, 2, 0]


def _reference_log_softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_softmax_log_softmax_and_cross_entropy_are_finite_at_logits_of_1e4(dtype: str) -> None:
    x = ag.tensor(EXTREME, dtype=dtype, requires_grad=True)
    expected = _reference_log_softmax(np.array(EXTREME))
    log_p = F.log_softmax(x, dim=-1)
    p = F.softmax(x, dim=-1)
    loss = F.cross_entropy(x, ag.tensor(TARGET))
    for name, value in (("log_softmax", log_p), ("softmax", p), ("cross_entropy", loss)):
        assert value.dtype == np.dtype(dtype), f"{name} gave {value.dtype} for {dtype} logits"
        assert np.all(np.isfinite(value.detach().numpy())), f"{name} is not finite at logits of ±1e4 ({dtype})"
    np.testing.assert_allclose(log_p.detach().numpy(), expected, rtol=1e-3)
    np.testing.assert_allclose(p.detach().numpy(), np.exp(expected), atol=1e-3 if dtype == "float16" else 1e-6)
    per_row = F.cross_entropy(x, ag.tensor(TARGET), reduction="none").detach().numpy()
    np.testing.assert_allclose(per_row, -expected[np.arange(3), TARGET], rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(loss.item(), -expected[np.arange(3), TARGET].mean(), rtol=1e-3)
    loss.backward()
    grad = x.grad.numpy()
    assert grad.dtype == np.dtype(dtype) and np.all(np.isfinite(grad))
    onehot = np.eye(3)[TARGET]
    np.testing.assert_allclose(grad, (np.exp(expected) - onehot) / 3, atol=2e-3)


# float16, op by op: "handled" means it returns float16 (or promotes to the float32 of its weights,
# as NumPy would) with values close to a float64 reference; nothing here refuses float16.
FLOAT16_OPS: dict[str, Any] = {
    "softmax": lambda x: F.softmax(x, dim=-1),
    "log_softmax": lambda x: F.log_softmax(x, dim=-1),
    "layer_norm": lambda x: F.layer_norm(x, (x.shape[-1],)),
    "rms_norm": lambda x: F.rms_norm(x, (x.shape[-1],)),
    "gelu": F.gelu,
    "silu": F.silu,
    "sigmoid": F.sigmoid,
    "tanh": F.tanh,
    "relu": F.relu,
    "linear (float16 weight)": lambda x: F.linear(x, x.detach().transpose(0, 1)),
    "mse_loss": lambda x: F.mse_loss(x, x.detach() * 0.5),
    "cross_entropy": lambda x: F.cross_entropy(x, ag.tensor([0, 1, 2, 3])),
}


@pytest.mark.parametrize("name", sorted(FLOAT16_OPS))
def test_float16_inputs_are_handled_in_float16(name: str) -> None:
    values = np.random.default_rng(0).standard_normal((4, 4))
    op = FLOAT16_OPS[name]
    half = op(ag.tensor(values, dtype="float16", requires_grad=True))
    full = op(ag.tensor(values, dtype="float64", requires_grad=True))
    assert half.dtype == np.float16, f"{name}: float16 in, {half.dtype} out"
    np.testing.assert_allclose(half.detach().numpy().astype(np.float64), full.detach().numpy(), rtol=2e-2, atol=2e-2)


def test_float16_input_to_a_float32_layer_promotes_like_numpy() -> None:
    layer = Linear(4, 2, seed=0)
    out = layer(ag.ones(3, 4, dtype="float16"))
    assert out.dtype == np.float32


# -- a loss that becomes NaN ------------------------------------------------------------------------


class _PoisonedAfter(TensorDataset):
    """A data set whose samples turn to NaN once ``poison`` samples have been read."""

    def __init__(self, x: np.ndarray, y: np.ndarray, poison: int) -> None:
        super().__init__(x, y)
        self.reads = 0
        self.poison = poison

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        x, y = super().get_batch(indices)
        self.reads += len(indices)
        return (x * np.nan if self.reads > self.poison else x), y


def test_a_nan_loss_stops_training_with_a_clear_message_and_keeps_the_last_good_checkpoint(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4))
    y = (x[:, 0] > 0).astype(np.int64)
    # 64 training samples per epoch (evaluation reads another data set): poisoned from epoch 3, step 3.
    train = _PoisonedAfter(x, y, poison=2 * 64 + 32)
    model = Sequential(Linear(4, 8, dtype="float64", seed=0), Tanh(), Linear(8, 2, dtype="float64", seed=1))
    optimizer = SGD(model.parameters(), lr=0.1)
    path = tmp_path / "last.safetensors"

    def save(metrics: EpochMetrics) -> None:
        checkpoint.save(path, model=model, optimizer=optimizer, extra={"epoch": metrics.epoch})

    loader = DataLoader(train, batch_size=16)
    evaluation = DataLoader(TensorDataset(x, y), batch_size=64)
    with pytest.raises(FloatingPointError, match=r"training diverged: loss is nan at epoch 3, step 3"):
        fit(model, optimizer, loader, evaluation, epochs=5, on_epoch=save)
    good = checkpoint.load(path, model=Sequential(Linear(4, 8, dtype="float64"), Tanh(), Linear(8, 2, dtype="float64")))
    assert good.extra == {"epoch": 2}
    # The step that saw NaN was not applied: the weights in memory are still finite.
    assert all(np.all(np.isfinite(p.detach().numpy())) for p in model.parameters())


class _PoisonedBatches(TensorDataset):
    """A data set whose samples listed in ``poisoned`` read as NaN."""

    def __init__(self, x: np.ndarray, y: np.ndarray, poisoned: set[int]) -> None:
        super().__init__(x, y)
        self.poisoned = poisoned

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        x, y = super().get_batch(indices)
        bad = np.isin(indices, list(self.poisoned))
        return np.where(bad[:, None], np.nan, x), y


def test_skip_leaves_out_nonfinite_batches_and_counts_them() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4))
    y = (x[:, 0] > 0).astype(np.int64)
    # Unshuffled batches of 16: samples 20 and 50 poison the second and the fourth batch.
    train = _PoisonedBatches(x, y, poisoned={20, 50})
    model = Sequential(Linear(4, 8, dtype="float64", seed=0), Tanh(), Linear(8, 2, dtype="float64", seed=1))
    reference = Sequential(Linear(4, 8, dtype="float64", seed=0), Tanh(), Linear(8, 2, dtype="float64", seed=1))
    history = fit(
        model,
        SGD(model.parameters(), lr=0.1),
        DataLoader(train, batch_size=16),
        DataLoader(TensorDataset(x, y), batch_size=64),
        epochs=3,
        on_nonfinite="skip",
    )
    assert [m.skipped for m in history] == [2, 2, 2]
    assert all(np.isfinite(m.train_loss) and np.isfinite(m.test_loss) for m in history)
    # The same run on the two clean batches alone gives the same weights: skipped batches changed nothing.
    clean = np.r_[0:16, 32:48]
    fit(
        reference,
        SGD(reference.parameters(), lr=0.1),
        DataLoader(TensorDataset(x[clean], y[clean]), batch_size=16),
        DataLoader(TensorDataset(x, y), batch_size=64),
        epochs=3,
    )
    for got, expected in zip(model.parameters(), reference.parameters(), strict=True):
        np.testing.assert_array_equal(got.detach().numpy(), expected.detach().numpy())


def test_an_unknown_nonfinite_policy_is_refused() -> None:
    model = Linear(4, 2, seed=0)
    loader = DataLoader(TensorDataset(np.zeros((4, 4), np.float32), np.zeros(4, np.int64)), batch_size=2)
    with pytest.raises(ValueError, match=r"on_nonfinite must be one of \('raise', 'skip'\), got 'ignore'"):
        fit(model, SGD(model.parameters(), lr=0.1), loader, loader, epochs=1, on_nonfinite="ignore")
