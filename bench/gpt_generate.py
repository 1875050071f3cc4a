"""Generation with and without the KV cache, and the ~10M-parameter GPT's throughput.

Cases:

- ``kv-cache``: 256 new tokens, greedy, from a one-token prompt, with the KV cache (each step
  feeds one token) and without it (each step re-runs the whole context), on the ~10M
  architecture (n_layer=6, n_head=6, n_embd=384) with a context of 320 so that no window
  slides (``--quick``: nanoGPT's CPU-recipe architecture and 64 tokens). The two outputs must be
  identical; the goal is cached ≥ 5× faster. Its cached run gives the generation tokens/s.
- ``10M``: n_layer=6, n_head=6, n_embd=384, block_size=256 (10.8M parameters with a 65-token
  vocabulary): tokens/s of training steps (batch 4 × 256: forward, backward, AdamW), with the
  same training step in PyTorch alongside when installed.

Weights are random (initialised as GPT-2): speed does not depend on them. Timings are interleaved
in one process (see ``_common``).

    python bench/gpt_generate.py            # about a few minutes on a busy 2-core machine
    python bench/gpt_generate.py --quick    # fewer tokens and repeats
    python bench/gpt_generate.py --json
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
from _common import (
    Contender,
    emit,
    format_machine,
    format_table,
    machine_description,
    measure,
    median,
    optional_torch,
    paired_ratio,
    parser,
    progress,
    progress_done,
)

from hyperion.gpt import GPT, GPTConfig, generate
from hyperion.gpt.__about__ import __version__ as gpt_version
from hyperion.gpt.torch_reference import torch_gpt, torch_state_dict
from hyperion.nn.optim import AdamW, weight_decay_groups

CACHE_GOAL = 5.0
VOCAB = 65
RECIPE = GPTConfig(vocab_size=VOCAB, block_size=320, n_layer=4, n_head=4, n_embd=128)
TEN_M = GPTConfig(vocab_size=VOCAB, block_size=256, n_layer=6, n_head=6, n_embd=384)
TEN_M_LONG = GPTConfig(vocab_size=VOCAB, block_size=320, n_layer=6, n_head=6, n_embd=384)


def kv_cache_case(config: GPTConfig, new_tokens: int, repeats: int) -> dict[str, Any]:
    model = GPT(config, seed=0)
    prompt = np.zeros((1, 1), dtype=np.int64)
    cached = generate(model, prompt, new_tokens, greedy=True)
    uncached = generate(model, prompt, new_tokens, greedy=True, use_kv_cache=False)
    identical = bool(np.array_equal(cached, uncached))
    namespace = {"generate": generate, "model": model, "prompt": prompt, "n": new_tokens}
    contenders = [
        Contender("cache", "generate(model, prompt, n, greedy=True)", namespace),
        Contender("no-cache", "generate(model, prompt, n, greedy=True, use_kv_cache=False)", namespace),
    ]
    samples = measure(contenders, repeats, 0.0)
    speedup = paired_ratio(samples["no-cache"], samples["cache"])
    return {
        "case": "kv-cache",
        "new_tokens": new_tokens,
        "params": model.num_parameters(),
        "seconds": {name: median(values) for name, values in samples.items()},
        "tokens_per_second": {name: new_tokens / median(values) for name, values in samples.items()},
        "speedup": speedup,
        "identical_greedy_output": identical,
        "goal": CACHE_GOAL,
        "meets_goal": identical and speedup >= CACHE_GOAL,
    }


def ten_m_case(repeats: int, torch: Any) -> dict[str, Any]:
    model = GPT(TEN_M, seed=0)
    batch, length = 4, TEN_M.block_size
    rng = np.random.default_rng(0)
    x = rng.integers(0, VOCAB, (batch, length))
    y = rng.integers(0, VOCAB, (batch, length))
    optimizer = AdamW(weight_decay_groups(model.parameters(), 0.1), lr=1e-4)

    def hyperion_step() -> None:
        _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    spaces: dict[str, dict[str, Any]] = {"hyperion": {"step": hyperion_step}}
    if torch is not None:
        twin = torch_gpt(TEN_M)
        twin.load_state_dict(torch_state_dict(model))
        torch_opt = torch.optim.AdamW(twin.parameters(), lr=1e-4)
        tx, ty = torch.from_numpy(x), torch.from_numpy(y)

        def torch_step() -> None:
            _, loss = twin(tx, ty)
            torch_opt.zero_grad()
            loss.backward()
            torch_opt.step()

        spaces["torch"] = {"step": torch_step}
    train = measure([Contender(name, "step()", ns) for name, ns in spaces.items()], repeats, 0.0)
    row: dict[str, Any] = {
        "case": "10M",
        "params": model.num_parameters(),
        "train_tokens_per_second": {name: batch * length / median(values) for name, values in train.items()},
    }
    if torch is not None:
        row["train_ratio"] = paired_ratio(train["hyperion"], train["torch"])
    return row


def run(quick: bool, repeats: int) -> dict[str, Any]:
    torch = optional_torch()
    if torch is not None:
        torch.set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS", "1") or 1))
    progress("kv-cache")
    cache = kv_cache_case(RECIPE if quick else TEN_M_LONG, 64 if quick else 256, repeats)
    progress("10M model training steps")
    big = ten_m_case(repeats, torch)
    progress_done()
    return {
        "benchmark": "gpt_generate",
        "quick": quick,
        "repeats": repeats,
        "machine": {**machine_description(), "hyperion_gpt": gpt_version},
        "cases": [cache, big],
    }


def report(payload: Mapping[str, Any]) -> str:
    cache, big = payload["cases"]
    verdict = "met" if cache["meets_goal"] else "missed"
    rows = [[
        f"{cache['new_tokens']} tokens, {cache['params'] / 1e6:.2f}M params",
        f"{cache['seconds']['cache']:.2f}",
        f"{cache['seconds']['no-cache']:.2f}",
        f"{cache['speedup']:.1f}x",
        "yes" if cache["identical_greedy_output"] else "NO",
        f">= {cache['goal']}x ({verdict})",
    ]]
    text = format_machine(payload["machine"]) + "\n\n"
    text += format_table(["kv cache", "cache s", "no-cache s", "speedup", "same output", "goal"], rows)
    train = big["train_tokens_per_second"]
    text += (
        f"\n\ngeneration with the KV cache: {cache['tokens_per_second']['cache']:.1f} tokens/s"
        f"\n10M model ({big['params'] / 1e6:.1f}M params) training: {train['hyperion']:.0f} tokens/s"
    )
    if "torch" in train:
        text += f" (PyTorch {train['torch']:.0f} tokens/s, step time ratio {big['train_ratio']:.2f})"
    return text


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    repeats = args.repeats or (2 if args.quick else 3)
    payload = run(args.quick, repeats)
    emit(args, report(payload), payload)


if __name__ == "__main__":
    main()
