"""Figure for the post "What the heads attend to".

The character-level GPT trained in the post "Training a GPT on Tiny Shakespeare" (4 layers × 4
heads) reads ``WINDOWS`` windows of 64 characters of the validation text. Every head gets three
scores, averaged over all windows and queries: the weight a query puts on the previous
character (offset −1), on the most recent newline before it, on the most recent space, and on
the first position of the window. Left: the first two scores as (layer × head) tables. Right: the attention maps of the
head with the highest previous-character score and of the head with the highest newline score,
on one window (cropped to ``CROP`` characters).

Drawn from ``data/gpt_attention_maps.json``, which stores the score tables and the two cropped
maps, so the figure builds without the checkpoint. Re-measure from a trained run folder with::

    python blog/figures/gpt_attention_maps.py --measure --run RUN_DIR
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import _results
import numpy as np
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "gpt_attention_maps.json"
WINDOWS = 64
LENGTH = 64
CROP = 40
EXAMPLE = 3


def _last_marker_scores(weights: np.ndarray, ids: np.ndarray, marker: int) -> tuple[np.ndarray, float]:
    """Mean weight ``(L, H)`` a query puts on the most recent ``marker`` token before it, and the uniform baseline."""
    _, batch, _, length, _ = weights.shape
    picked, uniform = [], []
    for b in range(batch):
        last = -1
        for i in range(length):
            if last >= 0:
                picked.append(weights[:, b, :, i, last])
                uniform.append(1.0 / (i + 1))
            if ids[b, i] == marker:
                last = i
    return np.mean(picked, axis=0), float(np.mean(uniform))


def head_scores(weights: np.ndarray, ids: np.ndarray, newline: int, space: int) -> dict[str, np.ndarray]:
    """Per-head mean weights ``(L, H)``: on offset −1, on the last newline / space before the query, on position 0.

    Also ``offsets_0_to_8`` ``(L, H, 9)``: the mean weight on offsets 0, −1, …, −8 (queries at 8 and after),
    and the means that uniform attention over the allowed keys would give for each score.
    """
    length = weights.shape[-1]
    rows = np.arange(1, length)
    late = np.arange(8, length)
    on_newline, newline_uniform = _last_marker_scores(weights, ids, newline)
    on_space, space_uniform = _last_marker_scores(weights, ids, space)
    return {
        "offsets_0_to_8": np.stack([weights[:, :, :, late, late - k].mean(axis=(1, 3)) for k in range(9)], axis=-1),
        "previous": weights[:, :, :, rows, rows - 1].mean(axis=(1, 3)),
        "newline": on_newline,
        "space": on_space,
        "first": weights[:, :, :, rows, 0].mean(axis=(1, 3)),
        "newline_uniform": np.array(newline_uniform),
        "space_uniform": np.array(space_uniform),
        "previous_uniform": np.array(float(np.mean(1.0 / (rows + 1)))),
    }


def measure(run: Path) -> dict[str, Any]:
    """Score every head on validation windows; keep the best heads' maps on one window."""
    from hyperion.gpt import load_run
    from hyperion.gpt.data import load_text

    model, tokenizer, _ = load_run(run)
    text = load_text("tinyshakespeare")
    val = text[int(0.9 * len(text)) :]
    starts = np.linspace(0, len(val) - LENGTH - 1, WINDOWS).astype(int)
    ids = np.array([tokenizer.encode(val[s : s + LENGTH]) for s in starts])
    weights = model.attention_weights(ids)                      # (L, B, H, T, T)
    scores = head_scores(weights, ids, tokenizer.encode("\n")[0], tokenizer.encode(" ")[0])
    best_prev = np.unravel_index(np.argmax(scores["previous"]), scores["previous"].shape)
    best_line = np.unravel_index(np.argmax(scores["newline"]), scores["newline"].shape)
    example = ids[EXAMPLE, :CROP]
    return {
        "windows": WINDOWS,
        "length": LENGTH,
        "scores": {k: np.round(np.asarray(v, dtype=np.float64), 4).tolist() for k, v in scores.items()},
        "best_previous": [int(best_prev[0]), int(best_prev[1])],
        "best_newline": [int(best_line[0]), int(best_line[1])],
        "example": [tokenizer.decode([int(i)]) for i in example],
        "map_previous": np.round(weights[best_prev[0], EXAMPLE, best_prev[1], :CROP, :CROP].astype(np.float64), 3).tolist(),
        "map_newline": np.round(weights[best_line[0], EXAMPLE, best_line[1], :CROP, :CROP].astype(np.float64), 3).tolist(),
    }


def _label(token: str) -> str:
    return {" ": "␣", "\n": "\\n"}.get(token, token)


def _table(ax: Any, values: np.ndarray, title: str) -> None:
    ax.imshow(values, cmap="magma", vmin=0, vmax=1)
    for (layer, head), v in np.ndenumerate(values):
        ax.text(head, layer, f"{v:.2f}", ha="center", va="center", fontsize=8, color="white" if v < 0.6 else "black")
    ax.set_xticks(range(values.shape[1]))
    ax.set_yticks(range(values.shape[0]))
    ax.set(xlabel="head", ylabel="layer", title=title)


def _map(ax: Any, values: np.ndarray, labels: list[str], title: str) -> None:
    ax.imshow(values, cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, fontsize=6, family="DejaVu Sans Mono")
    ax.set_yticks(range(len(labels)), labels, fontsize=6, family="DejaVu Sans Mono")
    ax.set(xlabel="key", ylabel="query", title=title)


def draw(fig: Figure, data: dict[str, Any]) -> None:
    """Two score tables, two attention maps."""
    axes = fig.subplots(1, 4, width_ratios=(0.7, 0.7, 1.3, 1.3))
    _table(axes[0], np.array(data["scores"]["previous"]), "weight on offset −1")
    _table(axes[1], np.array(data["scores"]["newline"]), "weight on the last newline")
    labels = [_label(t) for t in data["example"]]
    (lp, hp), (ln, hn) = data["best_previous"], data["best_newline"]
    _map(axes[2], np.array(data["map_previous"]), labels, f"layer {lp}, head {hp}")
    _map(axes[3], np.array(data["map_newline"]), labels, f"layer {ln}, head {hn}")


def build() -> Figure:
    """Draw the figure from the committed measurements."""
    fig = Figure(figsize=(15, 4.6), layout="constrained")
    draw(fig, _results.load(DATA))
    return fig


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true", help="recompute from a run folder and rewrite the JSON")
    parser.add_argument("--run", type=Path, help="the trained run folder (needed with --measure)")
    options = parser.parse_args()
    if options.measure:
        if options.run is None:
            parser.error("--measure needs --run RUN_DIR")
        _results.save(DATA, measure(options.run), compact=True)
    d = _results.load(DATA)
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    for key, value in d["scores"].items():
        if key != "offsets_0_to_8":
            print(key, value)
    for layer, heads in enumerate(d["scores"]["offsets_0_to_8"]):
        for head, profile in enumerate(heads):
            print(f"layer {layer} head {head} offsets 0..-8:", profile)
    print("best previous", d["best_previous"], "best newline", d["best_newline"])
    print("example", repr("".join(d["example"])))
