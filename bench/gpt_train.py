"""nanoGPT's CPU recipe: a hyperion-gpt training step next to the same GPT in PyTorch, and (``--full``) the whole run.

The recipe: char-level Tiny Shakespeare, n_layer=4, n_head=4, n_embd=128, block_size=64,
batch_size=12, dropout=0, learned positions, AdamW (β₂=0.99, weight decay 0.1 on ≥2-D
weights), lr 1e-3 with 100 warmup steps and a cosine to 1e-4 at 2,000 iterations, clip 1.0.

One step is: draw a batch, forward + cross-entropy, backward, clip the gradient norm, AdamW
step, advance the schedule. Both models start from the same weights (hyperion's, copied into
``hyperion.gpt.torch_reference.torch_gpt``); their first losses are compared before timing.
The contenders are interleaved in one process (see ``_common``); the goal is hyperion/PyTorch
≤ 1.5. PyTorch uses as many threads as ``OPENBLAS_NUM_THREADS`` gives NumPy (default 1).

``--full`` then trains the recipe for 2,000 iterations with ``hyperion.gpt.train`` and reports the
final validation loss (goal ≤ 1.89; nanoGPT reaches 1.886 with its 20-batch estimate), and trains
the PyTorch twin from the same initial weights on the same batches with the same schedule, so the
two final losses compare the implementations rather than two random draws. Both are also
evaluated on the same 200 validation batches. ``--no-bias`` drops the biases (nanoGPT's default).
``--full --seeds S …`` trains hyperion's run once per seed (the twin for the first only) and reports
the spread: one run's final loss varies by a few hundredths from seed to seed, as much as the gap
to the goal.

    HYPERION_DATA_DIR=../shared/data python bench/gpt_train.py            # step timing (a minute)
    HYPERION_DATA_DIR=../shared/data python bench/gpt_train.py --quick    # smoke run
    HYPERION_DATA_DIR=../shared/data python bench/gpt_train.py --full     # + the 2,000-iteration run
    HYPERION_DATA_DIR=../shared/data python bench/gpt_train.py --full --seeds 1337 1 2 3 4 5   # + the spread
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
import time
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

from hyperion.gpt import GPT, TrainConfig, load_run, train
from hyperion.gpt.__about__ import __version__ as gpt_version
from hyperion.gpt.data import get_batch, load_text, prepare_tokens
from hyperion.gpt.tokenizers import CharTokenizer
from hyperion.gpt.torch_reference import torch_gpt, torch_state_dict
from hyperion.gpt.train import estimate_loss
from hyperion.nn.optim import AdamW, WarmupCosineLR, clip_grad_norm_, weight_decay_groups

RECIPE = TrainConfig(max_iters=2000, eval_interval=250, eval_iters=20, sample_tokens=0)
STEP_GOAL = 1.5
LOSS_GOAL = 1.89


def hyperion_namespace(model: GPT, data: np.ndarray) -> dict[str, Any]:
    cfg = RECIPE
    optimizer = AdamW(weight_decay_groups(model.parameters(), cfg.weight_decay), lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))
    scheduler = WarmupCosineLR(optimizer, cfg.warmup_iters, cfg.max_iters, min_lr=cfg.min_lr)

    def step() -> float:
        x, y = get_batch(data, cfg.batch_size, cfg.block_size, rng)
        _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        scheduler.step()
        return loss.item()

    rng = np.random.default_rng(0)
    return {"step": step}


def torch_namespace(torch: Any, model: GPT, data: np.ndarray) -> dict[str, Any]:
    cfg = RECIPE
    twin = torch_gpt(model.config)
    twin.load_state_dict(torch_state_dict(model))
    optimizer = torch_adamw(torch, twin)
    rng = np.random.default_rng(0)
    state = {"it": 0}

    def step() -> float:
        x, y = get_batch(data, cfg.batch_size, cfg.block_size, rng)
        loss = torch_step(torch, twin, optimizer, state["it"], torch.from_numpy(x), torch.from_numpy(y))
        state["it"] += 1
        return loss.item()

    return {"step": step}


def torch_adamw(torch: Any, twin: Any) -> Any:
    """The recipe's AdamW for the twin: decay on the ≥2-D weights only, as ``weight_decay_groups`` splits them."""
    cfg = RECIPE
    decay = [p for p in twin.parameters() if p.dim() >= 2]
    no_decay = [p for p in twin.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))


def nanogpt_lr(it: int) -> float:
    """nanoGPT's schedule (the same numbers as WarmupCosineLR)."""
    cfg = RECIPE
    if it < cfg.warmup_iters:
        return cfg.lr * (it + 1) / (cfg.warmup_iters + 1)
    if it > cfg.max_iters:
        return cfg.min_lr
    ratio = (it - cfg.warmup_iters) / (cfg.max_iters - cfg.warmup_iters)
    return cfg.min_lr + 0.5 * (1.0 + np.cos(np.pi * ratio)) * (cfg.lr - cfg.min_lr)


def torch_step(torch: Any, twin: Any, optimizer: Any, it: int, x: Any, y: Any) -> Any:
    """One recipe step of the twin at iteration ``it``: schedule, forward, backward, clip, AdamW; the loss."""
    for group in optimizer.param_groups:
        group["lr"] = nanogpt_lr(it)
    _, loss = twin(x, y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(twin.parameters(), RECIPE.grad_clip)
    optimizer.step()
    return loss


def torch_full_run(torch: Any, model: GPT, splits: Any, seed: int) -> dict[str, Any]:
    """The recipe in PyTorch from ``model``'s initial weights, with hyperion's batch and evaluation generators."""
    cfg = RECIPE
    twin = torch_gpt(model.config)
    twin.load_state_dict(torch_state_dict(model))
    optimizer = torch_adamw(torch, twin)
    rng = np.random.default_rng(seed)
    began = time.perf_counter()
    for it in range(cfg.max_iters):
        x, y = get_batch(splits.train, cfg.batch_size, cfg.block_size, rng)
        torch_step(torch, twin, optimizer, it, torch.from_numpy(x), torch.from_numpy(y))
    seconds = time.perf_counter() - began
    twin.eval()
    with torch.no_grad():
        val = torch_estimate(torch, twin, splits, cfg.eval_iters, np.random.default_rng((seed, cfg.max_iters)))
        val200 = torch_estimate(torch, twin, splits, 200, np.random.default_rng(0))
    return {"val_loss": val, "val_loss_200": val200, "seconds": seconds, "ms_per_iter": 1e3 * seconds / cfg.max_iters}


def torch_estimate(torch: Any, twin: Any, splits: Any, batches: int, rng: np.random.Generator) -> float:
    """The twin's validation loss on the batches ``estimate_loss`` would draw from ``rng`` (train's first, then val's)."""
    cfg = RECIPE
    for _ in range(batches):
        get_batch(splits.train, cfg.batch_size, cfg.block_size, rng)
    losses = []
    for _ in range(batches):
        x, y = get_batch(splits.val, cfg.batch_size, cfg.block_size, rng)
        losses.append(twin(torch.from_numpy(x), torch.from_numpy(y))[1].item())
    return float(np.mean(losses))


def run(quick: bool, repeats: int, full: bool, seeds: list[int]) -> dict[str, Any]:
    torch = optional_torch()
    if torch is not None:
        torch.set_num_threads(int(os.environ.get("OPENBLAS_NUM_THREADS", "1") or 1))
    text = load_text("tinyshakespeare")
    tokenizer = CharTokenizer.train(text)
    with tempfile.TemporaryDirectory() as folder:
        splits = prepare_tokens(text, tokenizer, folder)
        data = np.array(splits.train)
    model = GPT(RECIPE.model_config(tokenizer.vocab_size), seed=RECIPE.seed)
    row: dict[str, Any] = {"params": model.num_parameters(), "goal": STEP_GOAL}
    spaces = {"hyperion": hyperion_namespace(model, data)}
    if torch is not None:
        spaces["torch"] = torch_namespace(torch, model, data)
        first = {name: ns["step"]() for name, ns in spaces.items()}
        np.testing.assert_allclose(first["hyperion"], first["torch"], rtol=1e-4)
        row["first_loss"] = first
    progress("timing training steps")
    contenders = [Contender(name, "step()", ns) for name, ns in spaces.items()]
    samples = measure(contenders, repeats, 0.3 if quick else 1.5)
    row["ms"] = {name: median(values) * 1e3 for name, values in samples.items()}
    if torch is not None:
        row["ratio"] = paired_ratio(samples["hyperion"], samples["torch"])
        row["meets_goal"] = row["ratio"] <= STEP_GOAL
    progress_done()
    payload: dict[str, Any] = {
        "benchmark": "gpt_train",
        "quick": quick,
        "repeats": repeats,
        "unit": "ms per training step (batch, forward, backward, clip, AdamW, schedule)",
        "machine": {**machine_description(), "hyperion_gpt": gpt_version},
        "step": row,
    }
    if full:
        runs = [_train_recipe(text, tokenizer, seed) for seed in seeds]
        first, trained_splits = runs[0]
        payload["full"] = first
        if torch is not None:
            fresh = GPT(RECIPE.model_config(tokenizer.vocab_size), seed=seeds[0])
            payload["full"]["torch"] = torch_full_run(torch, fresh, trained_splits, seeds[0])
        if len(seeds) > 1:
            results = [result for result, _ in runs]
            payload["seeds"] = {
                "runs": [{k: r[k] for k in ("seed", "val_loss", "val_loss_200", "seconds")} for r in results],
                **{
                    f"{key}_{stat}": float(fn([r[key] for r in results]))
                    for key in ("val_loss", "val_loss_200")
                    for stat, fn in (("mean", np.mean), ("sd", lambda v: np.std(v, ddof=1)))
                },
            }
    return payload


def _train_recipe(text: str, tokenizer: CharTokenizer, seed: int) -> tuple[dict[str, Any], Any]:
    """Train the recipe with ``seed``; its result, with the recipe's estimate and one on 200 batches."""
    with tempfile.TemporaryDirectory() as out_dir:
        config = TrainConfig(**{**RECIPE.to_dict(), "out_dir": out_dir, "seed": seed})
        result = train(config, progress=True)
        trained, _, _ = load_run(out_dir)
        splits = prepare_tokens(text, tokenizer, os.path.join(out_dir, "tokens"))
        # The generator of `hyperion-gpt eval --eval-iters 200` (its default --seed 0): the same batches.
        val200 = estimate_loss(trained, splits, RECIPE.batch_size, 200, np.random.default_rng(0))["val"]
        summary = {
            **result.summary(),
            "seed": seed,
            "val_loss_200": val200,
            "goal": LOSS_GOAL,
            "meets_goal": result.val_loss <= LOSS_GOAL,
            "ms_per_iter": 1e3 * RECIPE.batch_size * RECIPE.block_size / result.tokens_per_second,
        }
        # In memory: the memmaps' folder goes with the temporary directory.
        return summary, dataclasses.replace(splits, train=np.array(splits.train), val=np.array(splits.val))


def report(payload: Mapping[str, Any]) -> str:
    row = payload["step"]
    headers = ["recipe step", "hyperion ms"] + (["torch ms", "hyp/torch", "goal"] if "torch" in row["ms"] else [])
    cells = ["n_layer=4 n_embd=128 T=64 B=12", f"{row['ms']['hyperion']:.1f}"]
    if "torch" in row["ms"]:
        verdict = "met" if row["meets_goal"] else "missed"
        cells += [f"{row['ms']['torch']:.1f}", f"{row['ratio']:.2f}", f"<= {row['goal']} ({verdict})"]
    text = format_machine(payload["machine"]) + "\n\n" + format_table(headers, [cells])
    if "full" in payload:
        full = payload["full"]
        verdict = "met" if full["meets_goal"] else "missed"
        text += (
            f"\n\nfull recipe: {full['iters']} iterations, val loss {full['val_loss']:.4f} (goal <= {full['goal']}, {verdict}; "
            f"{full['val_loss_200']:.4f} on 200 batches), {full['seconds']:.0f} s, {full['ms_per_iter']:.1f} ms/iteration"
        )
        if "torch" in full:
            twin = full["torch"]
            text += (
                f"\nPyTorch twin, same weights and batches: val loss {twin['val_loss']:.4f} "
                f"({twin['val_loss_200']:.4f} on 200 batches), {twin['ms_per_iter']:.1f} ms/iteration"
            )
    if "seeds" in payload:
        spread = payload["seeds"]
        rows = [[str(r["seed"]), f"{r['val_loss']:.4f}", f"{r['val_loss_200']:.4f}"] for r in spread["runs"]]
        rows.append(
            [
                "mean ± sd",
                f"{spread['val_loss_mean']:.4f} ± {spread['val_loss_sd']:.4f}",
                f"{spread['val_loss_200_mean']:.4f} ± {spread['val_loss_200_sd']:.4f}",
            ]
        )
        text += "\n\n" + format_table(["seed", f"val loss ({RECIPE.eval_iters} batches)", "val loss (200 batches)"], rows)
    return text


def main() -> None:
    global RECIPE
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--full", action="store_true", help="also train the recipe for 2,000 iterations (minutes)")
    p.add_argument("--no-bias", action="store_true", help="no biases in linear layers and LayerNorms (nanoGPT's default)")
    p.add_argument(
        "--seeds", type=int, nargs="+", help="with --full: train the recipe once per seed and report the spread (default: the recipe's seed)"
    )
    args = p.parse_args()
    if args.seeds and not args.full:
        p.error("--seeds needs --full")
    if args.no_bias:
        RECIPE = dataclasses.replace(RECIPE, bias=False)
    repeats = args.repeats or (3 if args.quick else 11)
    payload = run(args.quick, repeats, args.full, args.seeds or [RECIPE.seed])
    emit(args, report(payload), payload)


if __name__ == "__main__":
    main()
