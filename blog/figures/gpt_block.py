"""Figure for the post "The GPT block: pre-norm, residuals and weight tying".

A 48-layer GPT (n_embd=128, 4 heads, 65-token vocabulary) at initialisation reads a batch of 8
random sequences of 64 tokens. Left: the root-mean-square of the residual stream after each block,
with GPT-2's scaled initialisation (the two residual projections of each block drawn with
std ``0.02/√(2·n_layer)``) and without it (std 0.02 everywhere). Middle: the gradient norm of
each block's parameters (loss: cross-entropy against random targets), for the pre-norm block the
model uses and for a post-norm block built from the same modules (``x = LN(x + f(x))``). Right:
where the parameters of nanoGPT's Shakespeare model (4 layers, n_embd=128) sit.

Drawn from ``data/gpt_block.json``; re-measure (about half a minute) with::

    python blog/figures/gpt_block.py --measure
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import _results
import numpy as np
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "gpt_block.json"
DEEP = {"vocab_size": 65, "block_size": 64, "n_layer": 48, "n_head": 4, "n_embd": 128}
BATCH, LENGTH, SEED = 8, 64, 0


def _model(scaled: bool) -> Any:
    from hyperion.gpt import GPT, GPTConfig
    from hyperion.nn import init

    model = GPT(GPTConfig(**DEEP), seed=SEED)
    if not scaled:
        rng = np.random.default_rng(SEED + 100)
        for name, param in model.named_parameters():
            if name.endswith("c_proj.weight"):
                init.normal_(param, 0.0, 0.02, generator=rng)
    return model


def residual_rms(model: Any, idx: np.ndarray) -> list[float]:
    """RMS of the residual stream after the embeddings and after each (pre-norm) block."""
    import hyperion.autograd as ag

    batch = idx.shape[0]
    positions = np.tile(np.arange(idx.shape[1]), batch)
    with ag.no_grad():
        x = model.transformer["wte"](ag.from_numpy(idx.reshape(-1))) + model.transformer["wpe"](ag.from_numpy(positions))
        out = [float(np.sqrt(np.mean(x.numpy() ** 2)))]
        for block in model.transformer["h"]:
            x = block(x, batch=batch)
            out.append(float(np.sqrt(np.mean(x.numpy() ** 2))))
    return out


def block_grad_norms(model: Any, idx: np.ndarray, targets: np.ndarray, post_norm: bool) -> list[float]:
    """The gradient norm of each block's parameters after one backward pass."""
    import hyperion.autograd as ag
    from hyperion.nn import functional as F

    batch = idx.shape[0]
    positions = np.tile(np.arange(idx.shape[1]), batch)
    x = model.transformer["wte"](ag.from_numpy(idx.reshape(-1))) + model.transformer["wpe"](ag.from_numpy(positions))
    for block in model.transformer["h"]:
        if post_norm:
            x = block.ln_1(x + block.attn(x, batch=batch))
            x = block.ln_2(x + block.mlp(x))
        else:
            x = block(x, batch=batch)
    logits = model.lm_head(model.transformer["ln_f"](x))
    loss = F.cross_entropy(logits, ag.from_numpy(targets.reshape(-1)))
    model.zero_grad()
    loss.backward()
    norms = []
    for block in model.transformer["h"]:
        total = sum(float(np.sum(p.grad.numpy().astype(np.float64) ** 2)) for p in block.parameters())
        norms.append(float(np.sqrt(total)))
    return norms


def parameter_groups() -> dict[str, int]:
    """Parameters of the recipe model by kind (the tied matrix counted once)."""
    from hyperion.gpt import GPT, GPTConfig

    model = GPT(GPTConfig(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128), seed=0)
    groups = {"token embedding (= LM head)": 0, "position embedding": 0, "attention": 0, "MLP": 0, "LayerNorm": 0}
    for name, param in model.named_parameters():
        key = ("token embedding (= LM head)" if "wte" in name else "position embedding" if "wpe" in name
               else "attention" if ".attn." in name else "MLP" if ".mlp." in name else "LayerNorm")
        groups[key] += param.numel()
    groups["total"] = model.num_parameters()
    return groups


def measure() -> dict[str, Any]:
    """Residual RMS per layer, gradient norms per block, parameter counts."""
    rng = np.random.default_rng(SEED)
    idx = rng.integers(0, DEEP["vocab_size"], (BATCH, LENGTH))
    targets = rng.integers(0, DEEP["vocab_size"], (BATCH, LENGTH))
    scaled, unscaled = _model(True), _model(False)
    return {
        "config": DEEP,
        "rms_scaled": np.round(residual_rms(scaled, idx), 5).tolist(),
        "rms_unscaled": np.round(residual_rms(unscaled, idx), 5).tolist(),
        "grad_pre_norm": np.round(block_grad_norms(scaled, idx, targets, post_norm=False), 6).tolist(),
        "grad_post_norm": np.round(block_grad_norms(scaled, idx, targets, post_norm=True), 6).tolist(),
        "parameters": parameter_groups(),
    }


def draw(fig: Figure, data: dict[str, Any]) -> None:
    """Residual RMS, gradient norms, parameter breakdown."""
    left, middle, right = fig.subplots(1, 3, width_ratios=(1, 1, 0.9))
    layers = range(len(data["rms_scaled"]))
    left.plot(layers, data["rms_unscaled"], "o-", ms=3, label="std 0.02 everywhere")
    left.plot(layers, data["rms_scaled"], "s-", ms=3, label="residual projections 0.02/√(2L)")
    left.set(xlabel="blocks applied", ylabel="RMS of the residual stream",
             title=f"At init, {data['config']['n_layer']} pre-norm blocks")
    left.legend(fontsize=8)
    blocks = range(len(data["grad_pre_norm"]))
    middle.semilogy(blocks, data["grad_pre_norm"], "s-", ms=3, label="pre-norm: x + f(LN(x))")
    middle.semilogy(blocks, data["grad_post_norm"], "o-", ms=3, label="post-norm: LN(x + f(x))")
    middle.set(xlabel="block", ylabel="‖∂loss/∂θ_block‖", title="Gradient norm per block at init")
    middle.legend(fontsize=8)
    groups = {k: v for k, v in data["parameters"].items() if k != "total"}
    right.barh(list(groups), list(groups.values()), color=[f"C{i}" for i in range(len(groups))])
    for i, value in enumerate(groups.values()):
        right.text(value, i, f" {value:,}", va="center", fontsize=8)
    right.invert_yaxis()
    right.set_xlim(0, max(groups.values()) * 1.35)
    right.set(xlabel="parameters", title=f"Recipe model: {data['parameters']['total']:,} parameters")
    for ax in (left, middle, right):
        ax.grid(alpha=0.3)


def build() -> Figure:
    """Draw the figure from the committed measurements."""
    fig = Figure(figsize=(13, 3.9), layout="constrained")
    draw(fig, _results.load(DATA))
    return fig


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true", help="recompute and rewrite the JSON")
    if parser.parse_args().measure:
        _results.save(DATA, measure())
    d = _results.load(DATA)
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    for key in ("rms_scaled", "rms_unscaled"):
        print(key, [d[key][i] for i in (0, 1, 6, 12, 24, 48)])
    for key in ("grad_pre_norm", "grad_post_norm"):
        print(key, [d[key][i] for i in (0, 1, 12, 24, 36, 47)])
    print(d["parameters"])
