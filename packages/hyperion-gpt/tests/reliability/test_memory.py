"""Memory: 250 steps of training a tiny GPT (with generation in between) hold flat memory after warm-up.

Each step builds a graph of a few hundred nodes; keeping one graph per step (holding ``loss``
rather than ``loss.item()``, a cache that keeps tensors, attention weights kept on the module)
would grow memory by tens of KiB a step — several MiB over the window — far above the bounds here.
"""

from __future__ import annotations

import gc
import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from hyperion.gpt import GPT, GPTConfig, generate
from hyperion.gpt.data import get_batch
from hyperion.nn.optim import AdamW, clip_grad_norm_

STATM = Path("/proc/self/statm")
WARMUP, STEPS, WINDOW = 50, 100, 50


def _resident_bytes() -> int:
    return int(STATM.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not STATM.exists(), reason="needs /proc/self/statm (Linux)")
def test_training_steps_keep_memory_flat() -> None:
    rng = np.random.default_rng(0)
    data = rng.integers(0, 13, 4096).astype(np.uint16)
    model = GPT(GPTConfig(vocab_size=13, block_size=16, n_layer=1, n_head=2, n_embd=16, dropout=0.1), seed=0)
    optimizer = AdamW(model.parameters(), lr=3e-3)
    losses: list[float] = []

    def step() -> None:
        x, y = get_batch(data, 4, 16, rng)
        _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())

    for _ in range(WARMUP):
        step()
    generate(model, np.zeros((1, 1), np.int64), 20)  # generation (KV cache) in between must not leak either
    gc.collect()
    rss_after_warmup = _resident_bytes()
    for _ in range(STEPS):
        step()
    tracemalloc.start()
    try:
        for _ in range(WINDOW):
            step()
        gc.collect()
        traced_start, _ = tracemalloc.get_traced_memory()
        for _ in range(WINDOW):
            step()
        generate(model, np.zeros((1, 1), np.int64), 20)
        gc.collect()
        traced_end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    gc.collect()
    rss_growth = _resident_bytes() - rss_after_warmup

    assert len(losses) == WARMUP + STEPS + 2 * WINDOW and np.isfinite(losses).all()
    assert np.mean(losses[-30:]) < np.mean(losses[:30]), "the loop did not train"
    assert traced_end - traced_start < 256 * 1024, (
        f"{traced_end - traced_start} bytes of Python allocations kept over {WINDOW} steps"
    )
    assert rss_growth < 8 * 1024 * 1024, f"resident memory grew by {rss_growth / 2**20:.1f} MiB after warm-up"
