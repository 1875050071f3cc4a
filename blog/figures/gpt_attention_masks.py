"""Figure for the post "Attention, causal and padding masks".

A batch of two prompts of different lengths, left-padded to one width, goes through a small
randomly initialised GPT. Panels: the causal mask, the padding (key) mask of the short prompt,
their combination as the model builds it (with the diagonal kept so that a padded query still
has a key), and the attention weights of one head for the short prompt: every row spreads its
weight over the allowed keys only, and the padded columns receive none.

Drawn from ``data/gpt_attention_masks.json``; re-measure (a second) with::

    python blog/figures/gpt_attention_masks.py --measure
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import _results
import numpy as np
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "gpt_attention_masks.json"
PROMPTS = ([5, 1, 7, 3, 2, 9, 4, 8], [6, 2, 9, 4, 1])
SEED = 0


def measure() -> dict[str, Any]:
    """Masks and one head's weights for a left-padded batch."""
    from hyperion.gpt import GPT, GPTConfig, left_pad
    from hyperion.gpt.attention import attention_mask

    model = GPT(GPTConfig(vocab_size=10, block_size=16, n_layer=2, n_head=2, n_embd=16), seed=SEED)
    ids, mask = left_pad(PROMPTS)
    combined = attention_mask(mask, ids.shape[1])  # (B, 1, T, T)
    weights = model.attention_weights(ids, attention_mask=mask)  # (L, B, H, T, T)
    length = ids.shape[1]
    return {
        "ids": ids.tolist(),
        "key_mask": mask.astype(int).tolist(),
        "causal": np.tril(np.ones((length, length), dtype=int)).tolist(),
        "combined_short": combined[1, 0].astype(int).tolist(),
        "weights_short": np.round(weights[0, 1, 0], 4).tolist(),
        "weights_long": np.round(weights[0, 0, 0], 4).tolist(),
    }


def draw(fig: Figure, data: dict[str, Any]) -> None:
    """Four heat maps: causal, padding, combined, weights."""
    axes = fig.subplots(1, 4)
    length = len(data["causal"])
    padding = np.tile(np.array(data["key_mask"][1])[None, :], (length, 1))
    panels = (
        ("causal: key ≤ query", np.array(data["causal"]), "Greys"),
        ("padding: key is a real token\n(short prompt)", padding, "Greys"),
        ("combined (+ diagonal)", np.array(data["combined_short"]), "Greys"),
        ("weights, layer 0 head 0\n(short prompt)", np.array(data["weights_short"]), "viridis"),
    )
    labels = [str(t) if m else "pad" for t, m in zip(data["ids"][1], data["key_mask"][1], strict=True)]
    for ax, (title, values, cmap) in zip(axes, panels, strict=True):
        ax.imshow(values, cmap=cmap, vmin=0, vmax=1)
        ax.set_title(title, fontsize=9)
        ax.set_xticks(range(length), labels, fontsize=7, rotation=90)
        ax.set_yticks(range(length), labels, fontsize=7)
        ax.set_xlabel("key")
    axes[0].set_ylabel("query")
    weights = np.array(data["weights_short"])
    for i in range(length):
        for j in range(length):
            if weights[i, j] > 0.005:
                axes[3].text(j, i, f"{weights[i, j]:.2f}".lstrip("0"), ha="center", va="center", fontsize=5, color="white")


def build() -> Figure:
    """Draw the figure from the committed measurements."""
    fig = Figure(figsize=(12, 3.6), layout="constrained")
    draw(fig, _results.load(DATA))
    return fig


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true", help="recompute the masks and rewrite the JSON")
    if parser.parse_args().measure:
        _results.save(DATA, measure(), compact=True)
    measured = _results.load(DATA)
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    print(np.array(measured["weights_short"]).round(3))
