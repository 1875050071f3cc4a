"""Figure for the post "The KV cache".

A GPT with nanoGPT's Shakespeare widths (n_layer=4, n_head=4, n_embd=128) and a 512-token
context, randomly initialised (speed does not depend on the weights), generates greedily from a
one-token prompt. Left: the time to produce the token at each position, with the KV cache (one
new token through the model, attending to the stored keys and values) and without it (the whole
context through the model again), timed side by side at the same positions. Right: the total
time to generate ``TOTALS`` tokens both ways.

Drawn from ``data/gpt_kv_cache.json``; re-measure (a few minutes on a busy two-core machine) with::

    OPENBLAS_NUM_THREADS=1 python blog/figures/gpt_kv_cache.py --measure
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import _results
import numpy as np
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "gpt_kv_cache.json"
CONFIG = {"vocab_size": 65, "block_size": 512, "n_layer": 4, "n_head": 4, "n_embd": 128}
STEPS = 480
EVERY = 16
REPEATS = 3
TOTALS = (64, 128, 256)


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def per_position(model: Any) -> dict[str, list[float]]:
    """Seconds per generated token at positions ``EVERY, 2·EVERY, …`` with and without the cache (medians)."""
    import hyperion.autograd as ag

    cached: dict[int, list[float]] = {}
    uncached: dict[int, list[float]] = {}
    for _ in range(REPEATS):
        ids = np.zeros((1, 1), dtype=np.int64)
        cache = model.new_kv_cache(1)
        with ag.no_grad():
            logits, _ = model(ids, kv_cache=cache, last_only=True)
            for step in range(1, STEPS + 1):
                ids = np.concatenate([ids, logits.numpy()[:, -1].argmax(-1)[:, None]], axis=1)
                seconds, (logits, _) = _timed(model, ids[:, -1:], kv_cache=cache, last_only=True)
                if step % EVERY == 0:
                    cached.setdefault(step, []).append(seconds)
                    seconds, (full, _) = _timed(model, ids, last_only=True)
                    uncached.setdefault(step, []).append(seconds)
                    assert np.allclose(full.numpy(), logits.numpy(), atol=1e-4)
    steps = sorted(cached)
    return {
        "positions": steps,
        "cached_ms": [round(1e3 * float(np.median(cached[s])), 4) for s in steps],
        "uncached_ms": [round(1e3 * float(np.median(uncached[s])), 4) for s in steps],
    }


def totals(model: Any) -> dict[str, Any]:
    """Seconds to generate ``n`` tokens from a one-token prompt with ``generate``, both ways (medians)."""
    from hyperion.gpt import generate

    out: dict[str, Any] = {"tokens": list(TOTALS), "cached_s": [], "uncached_s": []}
    prompt = np.zeros((1, 1), dtype=np.int64)
    for n in TOTALS:
        a, b = [], []
        for _ in range(REPEATS):
            t1, fast = _timed(generate, model, prompt, n, greedy=True)
            t2, slow = _timed(generate, model, prompt, n, greedy=True, use_kv_cache=False)
            assert (fast == slow).all()
            a.append(t1)
            b.append(t2)
        out["cached_s"].append(round(float(np.median(a)), 4))
        out["uncached_s"].append(round(float(np.median(b)), 4))
    return out


def measure() -> dict[str, Any]:
    """Both measurements on one model."""
    from hyperion.gpt import GPT, GPTConfig

    model = GPT(GPTConfig(**CONFIG), seed=0)
    model.eval()
    data = {"config": CONFIG, "repeats": REPEATS, "threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset")}
    data |= per_position(model)
    data["totals"] = totals(model)
    return data


def draw(fig: Figure, data: dict[str, Any]) -> None:
    """Per-token time against position, and totals."""
    left, right = fig.subplots(1, 2, width_ratios=(1.6, 1))
    left.plot(data["positions"], data["uncached_ms"], "o-", ms=3, label="no cache: the whole context again")
    left.plot(data["positions"], data["cached_ms"], "s-", ms=3, label="KV cache: one new token")
    left.set(xlabel="position of the generated token", ylabel="ms per token (median)",
             title="Cost of one generation step")
    left.set_ylim(bottom=0)
    left.legend(fontsize=8)
    t = data["totals"]
    x = np.arange(len(t["tokens"]))
    right.bar(x - 0.2, t["uncached_s"], 0.4, label="no cache")
    right.bar(x + 0.2, t["cached_s"], 0.4, label="KV cache")
    for i, (a, b) in enumerate(zip(t["uncached_s"], t["cached_s"], strict=True)):
        right.text(i, max(a, b), f"{a / b:.1f}×", ha="center", va="bottom", fontsize=9)
    right.set_xticks(x, [str(n) for n in t["tokens"]])
    right.set(xlabel="tokens generated", ylabel="seconds (median)", title="generate(), end to end")
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)


def build() -> Figure:
    """Draw the figure from the committed measurements."""
    fig = Figure(figsize=(11, 3.9), layout="constrained")
    draw(fig, _results.load(DATA))
    return fig


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true", help="time generation and rewrite the JSON")
    if parser.parse_args().measure:
        _results.save(DATA, measure())
    d = _results.load(DATA)
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    for p, a, b in zip(d["positions"], d["cached_ms"], d["uncached_ms"], strict=True):
        if p in (16, 64, 128, 256, 480):
            print(f"position {p}: cached {a:.2f} ms, uncached {b:.2f} ms, ratio {b / a:.1f}")
    print(d["totals"])
