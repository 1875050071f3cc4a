"""Worker: train a small MLP data-parallel and save this rank's final parameters.

Run as ``mpiexec -n P python train_mlp.py OUT_DIR [options]``; for every run in
``--runs`` (``optimizer:micro-batches``, e.g. ``sgd:1,adamw:1,sgd:2``) each rank writes
``OUT_DIR/<optimizer>-<micro>-rank<r>.npz``. The model, data, optimizer and order are those of
:func:`reference`, which the tests also run in one process with batch ``P·B``.
Rank ``r`` initialises its model with seed ``seed + r`` on purpose: only the
broadcast from rank 0 makes the ranks start equal.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np

from hyperion.nn.containers import Sequential
from hyperion.nn.data import DataLoader, TensorDataset
from hyperion.nn.functional.loss import cross_entropy
from hyperion.nn.layers.activation import Tanh
from hyperion.nn.layers.linear import Linear
from hyperion.nn.module import Module
from hyperion.nn.optim import SGD, AdamW, Optimizer

FEATURES, CLASSES = 6, 3


def make_data(samples: int, seed: int = 1) -> TensorDataset:
    """A fixed random classification problem in float64."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, FEATURES))
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(np.int64) + (x[:, 3] > 1).astype(np.int64)
    return TensorDataset(x, y)


def make_model(seed: int, hidden: int = 16) -> Module:
    """A two-layer float64 MLP."""
    return Sequential(Linear(FEATURES, hidden, seed=seed), Tanh(), Linear(hidden, CLASSES, seed=seed + 100)).double()


def make_optimizer(name: str, model: Module) -> Optimizer:
    if name == "adamw":
        return AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
    return SGD(model.parameters(), lr=0.1, momentum=0.9)


def loader_steps(loader: DataLoader, steps: int):
    """``steps`` batches, starting a new epoch whenever the loader runs out."""
    done = 0
    while True:
        for batch in loader:
            yield batch
            done += 1
            if done == steps:
                return


# --8<-- [start:loop]
def train(model: Module, optimizer: Optimizer, loader: DataLoader, steps: int, micro: int, sync=None, no_sync=None) -> None:
    """SGD steps; each batch is split into ``micro`` micro-batches whose mean losses are averaged."""
    for inputs, labels in loader_steps(loader, steps):
        optimizer.zero_grad()
        n = labels.shape[0]
        bounds = np.linspace(0, n, micro + 1).astype(int)
        for k in range(micro):
            x, y = inputs[bounds[k] : bounds[k + 1]], labels[bounds[k] : bounds[k + 1]]
            loss = cross_entropy(model(x), y) * (1.0 / micro)
            if k < micro - 1 and no_sync is not None:
                with no_sync():
                    loss.backward()
            else:
                loss.backward()
        if sync is not None:
            sync()
        optimizer.step()
# --8<-- [end:loop]


def reference(steps: int, batch: int, samples: int, optimizer: str, micro: int = 1, seed: int = 0) -> dict[str, np.ndarray]:
    """One process, global batch ``batch``: the parameters after ``steps`` steps."""
    model = make_model(seed)
    opt = make_optimizer(optimizer, model)
    loader = DataLoader(make_data(samples), batch_size=batch, shuffle=True, seed=seed)
    train(model, opt, loader, steps, micro)
    return {name: p.detach().numpy().copy() for name, p in model.named_parameters()}


def main() -> None:
    from hyperion.nn.parallel import (
        DistributedDataLoader,
        DistributedDataParallel,
        DistributedSampler,
        abort_on_exception,
        get_comm,
    )

    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch", type=int, default=8, help="per rank")
    parser.add_argument("--samples", type=int, default=96)
    parser.add_argument("--runs", default="sgd:1", help="comma-separated optimizer:micro-batches")
    parser.add_argument("--bucket-mb", type=float, default=0.0005)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    comm = get_comm()
    abort_on_exception(comm)
    rank = comm.Get_rank()
    for run in args.runs.split(","):
        optimizer, micro = run.split(":")
        model = DistributedDataParallel(make_model(args.seed + rank), comm=comm, bucket_cap_mb=args.bucket_mb)
        opt = make_optimizer(optimizer, model)
        data = make_data(args.samples)
        sampler = DistributedSampler(len(data), comm=comm, seed=args.seed)
        loader = DistributedDataLoader(data, args.batch, sampler)
        train(model, opt, loader, args.steps, int(micro), sync=model.sync_gradients, no_sync=model.no_sync)

        arrays = {name: p.detach().numpy() for name, p in model.module.named_parameters()}
        arrays["__buckets__"] = np.array([len(model.buckets)])
        arrays["__syncs__"] = np.array([model.sync_count])
        fd, tmp = tempfile.mkstemp(dir=args.out, suffix=".npz")
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(tmp, args.out / f"{optimizer}-{micro}-rank{rank}.npz")


if __name__ == "__main__":
    main()
