"""nanoGPT's CPU recipe trained natively in PyTorch over several seeds: where its final validation loss falls.

``gpt_train.py --full`` trains the PyTorch twin from hyperion's initial weights on hyperion's
batches, so the two final losses compare the implementations — and they agree to four digits.
That comparison cannot see a fault the two share: an initialisation drawn with the wrong
spread, or batches that miss part of the training split. Here the twin runs the recipe as
nanoGPT runs it, on PyTorch's own random numbers: ``torch.manual_seed(seed)``, the GPT-2
initialisation drawn with ``torch.nn.init`` (weights N(0, 0.02), the residual projections
``c_proj`` N(0, 0.02/√(2·n_layer)), biases 0, LayerNorm gains 1), batches from ``torch.randint``
over the training split, and at the end nanoGPT's estimate (20 training batches, then 20
validation batches, from the same generator). Each run also reports the 200-batch estimate
that ``hyperion-gpt eval --eval-iters 200`` computes (the same batches), so the spread can be
set beside hyperion's (``gpt_train.py --full --seeds …``). ``--no-bias`` drops the biases of
the linear layers and LayerNorms, as nanoGPT's own default does.

    HYPERION_DATA_DIR=../shared/data OPENBLAS_NUM_THREADS=1 python bench/gpt_torch_seeds.py --seeds 1337 1 2 3 4 5
    HYPERION_DATA_DIR=../shared/data python bench/gpt_torch_seeds.py --quick    # smoke run (20 iterations)
"""

from __future__ import annotations

import dataclasses
import math
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
from _common import (
    emit,
    format_machine,
    format_table,
    machine_description,
    optional_torch,
    parser,
    progress,
    progress_done,
)
from gpt_train import LOSS_GOAL, RECIPE, torch_adamw, torch_estimate, torch_step

from hyperion.gpt import GPTConfig
from hyperion.gpt.data import load_text, prepare_tokens
from hyperion.gpt.tokenizers import CharTokenizer
from hyperion.gpt.torch_reference import torch_gpt

NANOGPT_LOSS = 1.886
"""nanoGPT's reported final validation loss for this recipe (its 20-batch estimate)."""


def nanogpt_init(torch: Any, twin: Any, n_layer: int) -> None:
    """GPT-2's initialisation, drawn from PyTorch's global generator (the tied ``wte``/``lm_head`` once)."""
    with torch.no_grad():
        for name, param in twin.named_parameters():
            if name.endswith("c_proj.weight"):
                torch.nn.init.normal_(param, 0.0, 0.02 / math.sqrt(2 * n_layer))
            elif param.dim() >= 2:
                torch.nn.init.normal_(param, 0.0, 0.02)
            elif ".ln_" in name and name.endswith(".weight"):
                torch.nn.init.ones_(param)
            else:
                torch.nn.init.zeros_(param)


def _batch(torch: Any, data: Any, batch_size: int, block_size: int) -> tuple[Any, Any]:
    starts = torch.randint(len(data) - block_size, (batch_size,))
    x = torch.stack([data[i : i + block_size] for i in starts])
    y = torch.stack([data[i + 1 : i + 1 + block_size] for i in starts])
    return x, y


def native_run(torch: Any, config: GPTConfig, splits: Any, seed: int, iters: int) -> dict[str, Any]:
    """One run of the recipe on PyTorch's random numbers; its estimates and time."""
    cfg = RECIPE
    torch.manual_seed(seed)
    twin = torch_gpt(config)
    nanogpt_init(torch, twin, config.n_layer)
    optimizer = torch_adamw(torch, twin)
    train = torch.from_numpy(np.asarray(splits.train, dtype=np.int64))
    val = torch.from_numpy(np.asarray(splits.val, dtype=np.int64))
    began = time.perf_counter()
    for it in range(iters):
        if it % 50 == 0:
            progress(f"seed {seed}: iteration {it}/{iters}")
        torch_step(torch, twin, optimizer, it, *_batch(torch, train, cfg.batch_size, cfg.block_size))
    seconds = time.perf_counter() - began
    twin.eval()
    with torch.no_grad():
        estimates = {}
        for name, data in (("train", train), ("val", val)):  # nanoGPT's estimate_loss, in its order
            losses = [twin(*_batch(torch, data, cfg.batch_size, cfg.block_size))[1].item() for _ in range(cfg.eval_iters)]
            estimates[name] = float(np.mean(losses))
        val200 = torch_estimate(torch, twin, splits, 200, np.random.default_rng(0))
    progress_done()
    return {
        "seed": seed,
        "iters": iters,
        "train_loss": estimates["train"],
        "val_loss": estimates["val"],
        "val_loss_200": val200,
        "seconds": seconds,
        "ms_per_iter": 1e3 * seconds / max(iters, 1),
    }


def run(quick: bool, seeds: list[int], bias: bool = True) -> dict[str, Any]:
    torch = optional_torch()
    if torch is None:
        sys.exit("gpt_torch_seeds.py needs PyTorch (pip install torch)")
    torch.set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS", "1") or 1))
    text = load_text("tinyshakespeare")
    tokenizer = CharTokenizer.train(text)
    with tempfile.TemporaryDirectory() as folder:
        splits = prepare_tokens(text, tokenizer, folder)
        splits = dataclasses.replace(splits, train=np.array(splits.train), val=np.array(splits.val))  # in memory
    config = dataclasses.replace(RECIPE.model_config(tokenizer.vocab_size), bias=bias)
    iters = 20 if quick else RECIPE.max_iters
    runs = [native_run(torch, config, splits, seed, iters) for seed in seeds]
    payload: dict[str, Any] = {
        "benchmark": "gpt_torch_seeds",
        "quick": quick,
        "machine": machine_description(),
        "recipe": {
            **{k: v for k, v in RECIPE.to_dict().items() if k not in ("data", "from_text", "data_dir", "out_dir")},
            "bias": bias,
        },
        "runs": runs,
        "goal": LOSS_GOAL,
        "nanogpt": NANOGPT_LOSS,
    }
    for key in ("val_loss", "val_loss_200"):
        values = [r[key] for r in runs]
        payload[f"{key}_mean"] = float(np.mean(values))
        payload[f"{key}_sd"] = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    payload["runs_meeting_goal"] = sum(r["val_loss"] <= LOSS_GOAL for r in runs)
    return payload


def report(payload: Mapping[str, Any]) -> str:
    rows = [[str(r["seed"]), f"{r['val_loss']:.4f}", f"{r['val_loss_200']:.4f}", f"{r['ms_per_iter']:.1f}"] for r in payload["runs"]]
    rows.append(
        [
            "mean ± sd",
            f"{payload['val_loss_mean']:.4f} ± {payload['val_loss_sd']:.4f}",
            f"{payload['val_loss_200_mean']:.4f} ± {payload['val_loss_200_sd']:.4f}",
            "",
        ]
    )
    headers = ["seed", f"val loss ({RECIPE.eval_iters} batches)", "val loss (200 batches)", "ms/iteration"]
    return (
        format_machine(payload["machine"])
        + "\n\n"
        + format_table(headers, rows)
        + f"\n\n{payload['runs_meeting_goal']} of {len(payload['runs'])} runs reach the goal (<= {payload['goal']}); "
        f"nanoGPT reports {payload['nanogpt']}."
    )


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[1337], help="one run per seed (default: 1337, nanoGPT's)")
    p.add_argument("--no-bias", action="store_true", help="no biases in linear layers and LayerNorms (nanoGPT's default)")
    args = p.parse_args()
    payload = run(args.quick, args.seeds, bias=not args.no_bias)
    emit(args, report(payload), payload)


if __name__ == "__main__":
    main()
