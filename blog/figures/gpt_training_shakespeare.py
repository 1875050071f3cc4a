"""Figure for the post "Training a GPT on Tiny Shakespeare".

nanoGPT's CPU recipe, trained by ``hyperion-gpt train``: a character-level GPT (n_layer=4,
n_head=4, n_embd=128, block_size=64, 0.81M parameters) on Tiny Shakespeare, batch 12, AdamW
(β₂=0.99, weight decay 0.1), learning rate 1e-3 with 100 warmup steps and a cosine to 1e-4 at
2,000 iterations, gradient clipping at 1.0. Left: the training loss of every iteration (light)
and its running mean, with the train/validation estimates every 250 iterations. Right: the
learning rate. The post quotes samples taken at several iterations and the speed of a training
step next to the same model in PyTorch (``bench/gpt_train.py``).

Drawn from ``data/gpt_training_shakespeare.json``. Re-measure with::

    python blog/figures/gpt_training_shakespeare.py --measure                  # trains (5-10 min on a quiet 2-core machine)
    python blog/figures/gpt_training_shakespeare.py --measure --run RUN_DIR \\
        [--samples-run DIR] [--bench BENCH_JSON]

``--run`` reads a finished run folder of ``hyperion-gpt train --max-iters 2000 --eval-interval 250``
instead of training; ``--samples-run`` a run of the same command with ``--sample-tokens-at-eval 200``
(its samples, whose evaluations must match the run's); ``--bench`` the last line of
``python bench/gpt_train.py --json`` (otherwise the benchmark is run here).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import _results
import numpy as np
from matplotlib.figure import Figure

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data" / "gpt_training_shakespeare.json"
RECIPE = ["--max-iters", "2000", "--eval-interval", "250", "--eval-iters", "20"]
SAMPLE_TOKENS = 200
STRIDE = 5
SMOOTH = 50


def _train(out: Path, extra: list[str]) -> None:
    cmd = [sys.executable, "-m", "hyperion.gpt", "train", *RECIPE, "--out", str(out), "--no-progress", "--json", *extra]
    subprocess.run(cmd, check=True)


def _bench() -> dict[str, Any]:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "gpt_train.py"), "--json"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(run: Path | None, samples_run: Path | None, bench: Path | None) -> dict[str, Any]:
    """Read (or produce) the run, its samples and the benchmark; keep what the post needs."""
    from hyperion.gpt import GPT, load_run, sample_text

    with tempfile.TemporaryDirectory() as folder:
        if run is None:
            run = Path(folder) / "run"
            _train(run, ["--sample-tokens-at-eval", str(SAMPLE_TOKENS)])
        model, tokenizer, extra = load_run(run)
        history = json.loads((run / "history.json").read_text())
        config = json.loads((run / "config.json").read_text())
        seed = config["train"]["seed"]
        samples = [{"iter": 0, "text": sample_text(GPT(model.config, seed=seed), tokenizer, "\n", SAMPLE_TOKENS, seed=seed)}]
        evals = {e["iter"]: e for e in history["evals"]}
        checks = []
        for source in ([history] + ([json.loads((samples_run / "history.json").read_text())] if samples_run else [])):
            for item in source.get("samples", []):
                other = {e["iter"]: e for e in source["evals"]}[item["iter"]]
                checks.append({"iter": item["iter"], "val_loss_difference": abs(other["val_loss"] - evals[item["iter"]]["val_loss"])})
                if item["iter"] not in {s["iter"] for s in samples}:
                    samples.append({"iter": item["iter"], "text": item["text"]})
        final_iter = history["iter"][-1]
        if final_iter not in {s["iter"] for s in samples}:
            samples.append({"iter": final_iter, "text": sample_text(model, tokenizer, "\n", SAMPLE_TOKENS, seed=seed)})
    bench_data = json.loads(bench.read_text().strip().splitlines()[-1]) if bench else _bench()
    losses = np.array(history["loss"])
    return {
        "config": config,
        "params": model.num_parameters(),
        "iters": final_iter,
        "stride": STRIDE,
        "loss": np.round(losses[STRIDE - 1 :: STRIDE], 4).tolist(),
        "loss_mean_last_100": round(float(losses[-100:].mean()), 4),
        "lr": [float(x) for x in history["lr"][STRIDE - 1 :: STRIDE]],
        "evals": [{k: round(v, 5) if isinstance(v, float) else v for k, v in e.items()} for e in history["evals"]],
        "train_seconds": round(history["train_seconds"], 1),
        "tokens_per_second": round(history["tokens_per_second"], 1),
        "samples": sorted(samples, key=lambda s: s["iter"]),
        "sample_checks": checks,
        "bench": {"step_ms": bench_data["step"]["ms"], "ratio": bench_data["step"].get("ratio"),
                  "first_loss": bench_data["step"].get("first_loss"), "machine": bench_data["machine"],
                  "repeats": bench_data["repeats"]},
    }


def draw(fig: Figure, data: dict[str, Any]) -> None:
    """Loss curves and the learning rate."""
    left, right = fig.subplots(1, 2, width_ratios=(2, 1))
    loss = np.array(data["loss"])
    iters = data["stride"] * (np.arange(len(loss)) + 1)
    window = SMOOTH // data["stride"]
    mean = np.convolve(loss, np.ones(window) / window, mode="valid")
    left.plot(iters, loss, color="C0", alpha=0.25, lw=0.8, label="training batch")
    left.plot(iters[window - 1 :], mean, color="C0", label=f"running mean ({SMOOTH} iterations)")
    e_iters = [e["iter"] for e in data["evals"]]
    left.plot(e_iters, [e["train_loss"] for e in data["evals"]], "s--", color="C2", label="train estimate")
    left.plot(e_iters, [e["val_loss"] for e in data["evals"]], "o-", color="C3", label="validation estimate")
    final = data["evals"][-1]["val_loss"]
    left.axhline(np.log(data["config"]["model"]["vocab_size"]), color="grey", ls=":", lw=1)
    left.annotate(f"val {final:.3f}", (e_iters[-1], final), xytext=(-10, 12), textcoords="offset points",
                  ha="right", color="C3")
    left.set_ylim(1.4, 4.4)
    left.set(xlabel="iteration", ylabel="cross-entropy (nats per character)",
             title=f"Char-level GPT, {data['params']:,} parameters, on Tiny Shakespeare")
    left.legend(fontsize=8)
    right.plot(iters, data["lr"], color="C1")
    right.set(xlabel="iteration", ylabel="learning rate", title="Warmup + cosine")
    for ax in (left, right):
        ax.grid(alpha=0.3)


def build() -> Figure:
    """Draw the figure from the committed measurements."""
    fig = Figure(figsize=(12, 4.2), layout="constrained")
    draw(fig, _results.load(DATA))
    return fig


def summary(data: dict[str, Any]) -> str:
    """The numbers the post quotes."""
    lines = [f"params {data['params']}, iters {data['iters']}, train {data['train_seconds']} s, "
             f"{data['tokens_per_second']} tokens/s, mean loss of the last 100 iterations {data['loss_mean_last_100']}"]
    lines += [f"  iter {e['iter']:4d}: train {e['train_loss']:.4f} val {e['val_loss']:.4f}" for e in data["evals"]]
    lines.append(f"bench: {data['bench']}")
    lines.append(f"sample checks: {data['sample_checks']}")
    for s in data["samples"]:
        lines.append(f"--- iter {s['iter']} ---\n{s['text']}")
    return "\n".join(lines)


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true", help="read or run the training and rewrite the JSON")
    parser.add_argument("--run", type=Path, help="a finished run folder (default: train one)")
    parser.add_argument("--samples-run", type=Path, help="a run of the same recipe with --sample-tokens-at-eval")
    parser.add_argument("--bench", type=Path, help="output of bench/gpt_train.py --json (default: run it)")
    options = parser.parse_args()
    if options.measure:
        _results.save(DATA, measure(options.run, options.samples_run, options.bench))
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    print(summary(_results.load(DATA)))
