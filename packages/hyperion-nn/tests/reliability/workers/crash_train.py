"""A tiny float64 training run that checkpoints after every step; the crash test SIGKILLs it.

Usage: ``python crash_train.py RUN_DIR TOTAL_STEPS``. If ``RUN_DIR/ckpt.safetensors`` exists the
run resumes from it (model, Adam state, the batch-sampling RNG and the step counter). Every step
prints ``step <k> <loss as float.hex>`` and, once its checkpoint is on disk, ``saved <k+1>``, so
the parent knows what exists and can compare losses bit for bit.

The model also carries a 2 MiB buffer of padding: it makes each save take long enough that a kill
at a random moment often lands in the middle of writing a checkpoint.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import hyperion.autograd as ag
from hyperion.nn import Linear, Sequential, Tanh, checkpoint
from hyperion.nn.functional import cross_entropy
from hyperion.nn.optim import Adam


def build() -> tuple[Sequential, Adam]:
    model = Sequential(Linear(4, 16, dtype="float64", seed=1), Tanh(), Linear(16, 3, dtype="float64", seed=2))
    model.register_buffer("padding", ag.zeros(256 * 1024, dtype="float64"))
    return model, Adam(model.parameters(), lr=0.05)


def main(run_dir: Path, total: int) -> None:
    data_rng = np.random.default_rng(0)
    inputs = data_rng.standard_normal((256, 4))
    labels = (inputs[:, 0] + inputs[:, 1] * inputs[:, 2] > 0).astype(np.int64) + (inputs[:, 3] > 1)
    model, optimizer = build()
    batches = np.random.default_rng(123)
    path = run_dir / "ckpt.safetensors"
    start = 0
    if path.exists():
        start = checkpoint.load(path, model=model, optimizer=optimizer, rng=batches).extra["step"]
    for step in range(start, total):
        index = batches.choice(len(inputs), size=32, replace=False)
        loss = cross_entropy(model(ag.tensor(inputs[index])), ag.tensor(labels[index]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        print(f"step {step} {loss.item().hex()}", flush=True)
        checkpoint.save(path, model=model, optimizer=optimizer, rng=batches, extra={"step": step + 1})
        print(f"saved {step + 1}", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
