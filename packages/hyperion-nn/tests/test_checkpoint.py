"""Checkpoints: exact round trips (training resumes with bit-identical losses), atomic writes, RNG state."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hyperion.autograd as ag
from hyperion.nn import Module, Parameter, checkpoint, optim
from hyperion.nn.checkpoint import CheckpointError


class TinyMLP(Module):
    """4 → 8 → 1 with tanh, made of Parameters only (independent of the layer library)."""

    def __init__(self, rng: np.random.Generator) -> None:
        super().__init__()
        self.w1 = Parameter(ag.tensor(rng.standard_normal((4, 8)) * 0.5))
        self.b1 = Parameter(ag.tensor(np.zeros(8)))
        self.w2 = Parameter(ag.tensor(rng.standard_normal((8, 1)) * 0.5))
        self.b2 = Parameter(ag.tensor(np.zeros(1)))

    def forward(self, x: ag.Tensor) -> ag.Tensor:
        return (x @ self.w1 + self.b1).tanh() @ self.w2 + self.b2


DATA_RNG = np.random.default_rng(123)
X = DATA_RNG.standard_normal((64, 4))
Y = np.sin(X.sum(axis=1, keepdims=True))

OPTIMIZERS = {
    "adamw": lambda p: optim.AdamW(p, lr=3e-2, weight_decay=0.1, amsgrad=True),
    "sgd": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "rmsprop": lambda p: optim.RMSprop(p, lr=1e-2, momentum=0.5, centered=True),
}


def setup(kind: str, seed: int) -> tuple[TinyMLP, Any, Any, np.random.Generator]:
    model = TinyMLP(np.random.default_rng(seed))
    opt = OPTIMIZERS[kind](
        [{"params": [model.w1, model.w2]}, {"params": [model.b1, model.b2], "weight_decay": 0.0}]
        if kind != "sgd"
        else model.parameters()
    )
    sched = optim.lr_scheduler.WarmupCosineLR(opt, warmup_iters=3, max_iters=30, min_lr=1e-3)
    return model, opt, sched, np.random.default_rng(seed + 1000)


def train(model: TinyMLP, opt: Any, sched: Any, rng: np.random.Generator, steps: int) -> list[float]:
    losses = []
    for _ in range(steps):
        batch = rng.choice(len(X), size=16, replace=False)  # the RNG state matters for resuming
        pred = model(ag.tensor(X[batch]))
        loss = ((pred - ag.tensor(Y[batch])) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        optim.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_training_resumes_with_bit_identical_losses(tmp_path: Path, kind: str) -> None:
    model, opt, sched, rng = setup(kind, seed=0)
    train(model, opt, sched, rng, 8)
    path = tmp_path / "ckpt.safetensors"
    checkpoint.save(path, model=model, optimizer=opt, scheduler=sched, rng=rng, extra={"iteration": 8, "best": 0.25})
    expected = train(model, opt, sched, rng, 12)

    model2, opt2, sched2, rng2 = setup(kind, seed=99)  # different weights and RNG: all must come from the file
    restored = checkpoint.load(path, model=model2, optimizer=opt2, scheduler=sched2, rng=rng2)
    assert restored.extra == {"iteration": 8, "best": 0.25}
    assert train(model2, opt2, sched2, rng2, 12) == expected
    for (name, a), (_, b) in zip(model.named_parameters(), model2.named_parameters()):
        assert a.detach().numpy().tobytes() == b.detach().numpy().tobytes(), name


def test_load_without_rng_argument_returns_the_states(tmp_path: Path) -> None:
    generators = {"data": np.random.default_rng(1), "dropout": np.random.Generator(np.random.MT19937(2))}
    generators["data"].random(5)
    path = tmp_path / "rng.safetensors"
    checkpoint.save(path, rng=generators)
    states = checkpoint.load(path).rng_states
    assert states["data"]["bit_generator"] == "PCG64"
    fresh = {"data": np.random.default_rng(7), "dropout": np.random.Generator(np.random.MT19937(8))}
    checkpoint.load(path, rng=fresh)
    for key in generators:
        assert fresh[key].random() == generators[key].random()


@pytest.mark.parametrize("bit_generator", [np.random.PCG64, np.random.MT19937, np.random.SFC64, np.random.Philox])
def test_every_bit_generator_round_trips(tmp_path: Path, bit_generator: type) -> None:
    rng = np.random.Generator(bit_generator(5))
    rng.standard_normal(3)
    path = tmp_path / "g.safetensors"
    checkpoint.save(path, rng=[rng])
    other = [np.random.Generator(bit_generator(6))]
    checkpoint.load(path, rng=other)
    np.testing.assert_array_equal(other[0].random(4), rng.random(4))


def test_rng_mismatches_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "g.safetensors"
    checkpoint.save(path, rng=np.random.default_rng(0))
    with pytest.raises(CheckpointError, match=r"saved RNG state is for 'PCG64', but the generator given uses MT19937"):
        checkpoint.load(path, rng=np.random.Generator(np.random.MT19937(0)))
    with pytest.raises(CheckpointError, match="RNG state of kind 'single'"):
        checkpoint.load(path, rng=[np.random.default_rng(0)])


def test_model_mismatch_changes_nothing(tmp_path: Path) -> None:
    model, opt, sched, rng = setup("adamw", seed=0)
    train(model, opt, sched, rng, 2)
    path = tmp_path / "ckpt.safetensors"
    checkpoint.save(path, model=model, optimizer=opt, scheduler=sched)

    class Other(Module):
        def __init__(self) -> None:
            super().__init__()
            self.w1 = Parameter(ag.tensor(np.zeros((4, 9))))

    other = Other()
    with pytest.raises(CheckpointError, match=r"ckpt.safetensors: the weights do not match Other: missing keys \[\]"):
        checkpoint.load(path, model=other)
    with pytest.raises(CheckpointError, match=r"w1: file \(4, 8\) vs model \(4, 9\)"):
        checkpoint.load(path, model=other, strict=False)
    assert not other.w1.detach().numpy().any()

    model2, opt2, sched2, _ = setup("sgd", seed=1)
    before = model2.w1.detach().numpy().copy()
    with pytest.raises(CheckpointError, match="optimizer state is for 'AdamW', not SGD"):
        checkpoint.load(path, model=model2, optimizer=opt2)
    np.testing.assert_array_equal(model2.w1.detach().numpy(), before)


def test_missing_sections_are_reported(tmp_path: Path) -> None:
    model, opt, sched, _ = setup("adamw", seed=0)
    path = tmp_path / "weights.safetensors"
    checkpoint.save(path, model=model)
    with pytest.raises(CheckpointError, match="holds no optimizer state, but an optimizer was given"):
        checkpoint.load(path, optimizer=opt)
    with pytest.raises(CheckpointError, match="holds no scheduler state"):
        checkpoint.load(path, scheduler=sched)
    with pytest.raises(CheckpointError, match="holds no RNG state"):
        checkpoint.load(path, rng=np.random.default_rng())


def test_scheduler_failure_rolls_back_the_optimizer(tmp_path: Path) -> None:
    model, opt, sched, rng = setup("adamw", seed=0)
    train(model, opt, sched, rng, 3)
    path = tmp_path / "ckpt.safetensors"
    checkpoint.save(path, model=model, optimizer=opt, scheduler=sched)
    model2, opt2, _, rng2 = setup("adamw", seed=1)
    train(model2, opt2, optim.lr_scheduler.LambdaLR(opt2, lambda e: 1.0), rng2, 1)
    other_sched = optim.lr_scheduler.StepLR(opt2, 3)
    steps_before = [s["step"] for s in opt2.state.values()]
    with pytest.raises(CheckpointError, match="scheduler state is for 'WarmupCosineLR', not StepLR"):
        checkpoint.load(path, model=model2, optimizer=opt2, scheduler=other_sched)
    assert [s["step"] for s in opt2.state.values()] == steps_before


def test_unserialisable_extra_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / "x.safetensors"
    with pytest.raises(
        CheckpointError, match=r"x.safetensors: cannot store the extra as JSON: .*object is not JSON-serialisable"
    ):
        checkpoint.save(path, extra={"fn": object()})
    assert not path.exists()


def test_atomic_write_keeps_the_old_file_when_the_write_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model, opt, sched, rng = setup("adamw", seed=0)
    path = tmp_path / "ckpt.safetensors"
    checkpoint.save(path, model=model, extra={"version": "old"})
    old = path.read_bytes()
    train(model, opt, sched, rng, 1)

    def failing_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device (simulated)")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="simulated"):
        checkpoint.save(path, model=model, optimizer=opt, extra={"version": "new"})
    monkeypatch.undo()
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.safetensors"]
    assert checkpoint.load(path).extra == {"version": "old"}


def test_atomic_write_raising_mid_write_leaves_no_partial_file(tmp_path: Path) -> None:
    path = tmp_path / "new.safetensors"

    def write(handle: Any) -> None:
        handle.write(b"\x10" + b"\x00" * 7 + b'{"a":')
        raise KeyboardInterrupt  # even a non-Exception interruption cleans up

    with pytest.raises(KeyboardInterrupt):
        checkpoint.atomic_write(path, write)
    assert list(tmp_path.iterdir()) == []


def test_save_file_and_load_file_round_trip_every_dtype(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    tensors = {
        "f64": rng.standard_normal((3, 2)),
        "f32": rng.standard_normal(5).astype(np.float32),
        "f16": rng.standard_normal((2, 2)).astype(np.float16),
        "i64": np.arange(-3, 3, dtype=np.int64),
        "i32": np.arange(4, dtype=np.int32).reshape(2, 2),
        "i16": np.array([-7, 7], dtype=np.int16),
        "i8": np.array([-1, 1], dtype=np.int8),
        "u8": np.array([0, 255], dtype=np.uint8),
        "u16": np.array([65535], dtype=np.uint16),
        "u32": np.array([1, 2], dtype=np.uint32),
        "u64": np.array([2**64 - 1], dtype=np.uint64),
        "bool": np.array([True, False, True]),
        "scalar": np.array(3.5),
        "empty": np.zeros((0, 4), dtype=np.float32),
        "big_endian": np.arange(3, dtype=">f8"),
        "transposed": np.arange(6.0).reshape(2, 3).T,
    }
    path = tmp_path / "all.safetensors"
    checkpoint.save_file(tensors, path, metadata={"note": "ünïcode ok"})
    loaded, metadata = checkpoint.load_file_with_metadata(path)
    assert metadata == {"note": "ünïcode ok"}
    assert list(loaded) == list(tensors)
    for name, array in tensors.items():
        assert loaded[name].dtype == array.dtype.newbyteorder("="), name
        assert loaded[name].shape == array.shape, name
        np.testing.assert_array_equal(loaded[name], array)
    header_length = int.from_bytes(path.read_bytes()[:8], "little")
    assert header_length % 8 == 0


def test_save_file_refuses_what_it_cannot_store(tmp_path: Path) -> None:
    with pytest.raises(checkpoint.SafetensorsError, match="dtype complex128, which safetensors cannot store"):
        checkpoint.save_file({"c": np.zeros(2, dtype=complex)}, tmp_path / "c.safetensors")
    with pytest.raises(checkpoint.SafetensorsError, match="'__metadata__' is reserved"):
        checkpoint.save_file({"__metadata__": np.zeros(2)}, tmp_path / "c.safetensors")
    with pytest.raises(checkpoint.SafetensorsError, match="metadata must map strings to strings"):
        checkpoint.save_file({"a": np.zeros(2)}, tmp_path / "c.safetensors", metadata={"n": 3})  # type: ignore[dict-item]
    assert list(tmp_path.iterdir()) == []


def test_hyperion_tensors_save_directly(tmp_path: Path) -> None:
    model = TinyMLP(np.random.default_rng(0))
    path = tmp_path / "m.safetensors"
    checkpoint.save_file(model.state_dict(), path)
    loaded = checkpoint.load_file(path)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded[name], value.numpy())
