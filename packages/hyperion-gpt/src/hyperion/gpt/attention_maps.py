"""Attention maps as a figure: one heat map per (layer, head), tokens on both axes.

Drawn on a :class:`matplotlib.figure.Figure` with the Agg canvas (no pyplot, no global state);
matplotlib is the optional ``plot`` extra.

Examples:
    >>> import numpy as np
    >>> weights = np.tril(np.ones((1, 2, 3, 3))) / np.arange(1, 4)[:, None]
    >>> fig = attention_figure(weights, ["a", "b", "c"])  # doctest: +SKIP
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from hyperion.tensor.files import write_bytes_atomic

__all__ = ["attention_figure", "save_figure"]


def _matplotlib() -> Any:
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("drawing attention maps needs matplotlib: pip install 'hyperion-gpt[plot]'") from None
    return Figure


def _label(token: str) -> str:
    return {"\n": "\\n", " ": "␣", "\t": "\\t"}.get(token, token)


def attention_figure(
    weights: np.ndarray, tokens: Sequence[str], *, layer: int | None = None, head: int | None = None
) -> Any:
    """Heat maps of ``weights`` ``(n_layer, n_head, T, T)`` (rows: queries, columns: keys).

    Args:
        weights: from :meth:`hyperion.gpt.GPT.attention_weights` for one sequence.
        tokens: the ``T`` token strings (axis labels; newlines and spaces are made visible).
        layer: draw only this layer.
        head: draw only this head.

    Returns:
        A ``matplotlib.figure.Figure``.

    Raises:
        ValueError: for a layer/head out of range or labels that do not match.
    """
    figure_class = _matplotlib()
    weights = np.asarray(weights)
    if weights.ndim != 4 or weights.shape[-1] != weights.shape[-2]:
        raise ValueError(f"attention_figure: weights must be (n_layer, n_head, T, T), got {weights.shape}")
    n_layer, n_head, length, _ = weights.shape
    if len(tokens) != length:
        raise ValueError(f"attention_figure: {len(tokens)} labels for {length} tokens")
    layers = range(n_layer) if layer is None else [layer]
    heads = range(n_head) if head is None else [head]
    for name, value, limit in (("layer", layer, n_layer), ("head", head, n_head)):
        if value is not None and not 0 <= value < limit:
            raise ValueError(f"attention_figure: {name} {value} out of range [0, {limit})")
    rows, cols = len(layers), len(heads)
    size = max(2.5, 0.22 * length)
    fig = figure_class(figsize=(size * cols, size * rows), layout="constrained")
    axes = np.atleast_2d(np.array(fig.subplots(rows, cols, squeeze=False)))
    labels = [_label(t) for t in tokens]
    for r, li in enumerate(layers):
        for c, hi in enumerate(heads):
            ax = axes[r, c]
            ax.imshow(weights[li, hi], cmap="viridis", vmin=0.0, vmax=1.0)
            ax.set_title(f"layer {li}, head {hi}", fontsize=9)
            if length <= 48:
                ax.set_xticks(range(length), labels, fontsize=6)
                ax.set_yticks(range(length), labels, fontsize=6)
            ax.set_xlabel("key", fontsize=8)
            ax.set_ylabel("query", fontsize=8)
    return fig


def save_figure(figure: Any, path: str | os.PathLike[str], dpi: int = 100) -> None:
    """Write the figure as a PNG, atomically (no software/date metadata, so the bytes are reproducible)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    write_bytes_atomic(path, buffer.getvalue())
