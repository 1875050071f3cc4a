"""Memory: a 2,000-step training loop of a tiny MLP holds flat memory after warm-up.

A leak of one autograd graph per step (the classic: keeping ``loss`` instead of ``loss.item()``,
or a hook holding its tensors) costs ~50 KiB a step here — ~90 MiB over the run — so the bounds
below (4 MiB of resident memory, 256 KiB of traced Python allocations) would catch it many times over.
"""

from __future__ import annotations

import gc
import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import hyperion.autograd as ag
from hyperion.nn import Linear, ReLU, Sequential
from hyperion.nn.functional import cross_entropy
from hyperion.nn.optim import AdamW

STATM = Path("/proc/self/statm")
STEPS, WARMUP, WINDOW = 2000, 200, 300


def _resident_bytes() -> int:
    return int(STATM.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not STATM.exists(), reason="needs /proc/self/statm (Linux)")
def test_two_thousand_steps_of_training_keep_memory_flat() -> None:
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((512, 32)).astype(np.float32)
    labels = rng.integers(0, 10, 512)
    model = Sequential(Linear(32, 64, seed=0), ReLU(), Linear(64, 64, seed=1), ReLU(), Linear(64, 10, seed=2))
    optimizer = AdamW(model.parameters(), lr=1e-3)
    losses = []

    def step(k: int) -> None:
        index = slice((k * 64) % 512, (k * 64) % 512 + 64)
        loss = cross_entropy(model(ag.tensor(inputs[index])), ag.tensor(labels[index]))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    for k in range(WARMUP):
        step(k)
    gc.collect()
    rss_after_warmup = _resident_bytes()
    tracemalloc.start()
    try:
        for k in range(WARMUP, WARMUP + WINDOW):
            step(k)
        gc.collect()
        traced_start, _ = tracemalloc.get_traced_memory()
        for k in range(WARMUP + WINDOW, WARMUP + 2 * WINDOW):
            step(k)
        gc.collect()
        traced_end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    for k in range(WARMUP + 2 * WINDOW, STEPS):
        step(k)
    gc.collect()
    rss_growth = _resident_bytes() - rss_after_warmup

    assert len(losses) == STEPS and np.isfinite(losses).all()
    assert np.mean(losses[-100:]) < np.mean(losses[:100]), "the loop did not train"
    assert traced_end - traced_start < 256 * 1024, (
        f"{traced_end - traced_start} bytes of Python allocations kept over {WINDOW} steps"
    )
    assert rss_growth < 4 * 1024 * 1024, f"resident memory grew by {rss_growth / 2**20:.1f} MiB after warm-up"
