"""Figure for the post "Broadcasting in the backward pass": which gradient elements get summed.

``y = a + b`` with ``a`` of shape (3, 1) and ``b`` of shape (4,) broadcasts both operands to
(3, 4). The loss is ``(y * g).sum()`` for a fixed upstream gradient ``g = 0, 1, ..., 11``, so the
gradient reaching ``y`` is exactly ``g``. The top row colours each cell of ``g`` by the element
of ``a`` that the cell read in the forward pass; the engine sums each colour into one element
of ``a.grad`` (the row sums). The bottom row does the same for ``b`` (the column sums).

The gradients drawn are the ones ``hyperion.autograd`` computes; the figure checks them
against the sums of ``g`` before drawing. No randomness, no clock: every build is identical.

    python blog/figures/broadcasting_backward.py    # writes broadcasting_backward.png beside this file
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

import hyperion.autograd as ag

ROWS, COLS = 3, 4
PALETTE = ["#8dd3c7", "#fdb462", "#bebada", "#fb8072", "#80b1d3", "#b3de69"]


def gradients() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The upstream gradient ``g`` and the gradients of ``a`` (3, 1) and ``b`` (4,), from the engine."""
    g = np.arange(ROWS * COLS, dtype=np.float64).reshape(ROWS, COLS)
    a = ag.tensor(np.zeros((ROWS, 1)), requires_grad=True)
    b = ag.tensor(np.zeros(COLS), requires_grad=True)
    ((a + b) * ag.tensor(g)).sum().backward()
    a_grad, b_grad = a.grad.numpy(), b.grad.numpy()
    assert np.array_equal(a_grad, g.sum(axis=1, keepdims=True)) and np.array_equal(b_grad, g.sum(axis=0))
    return g, a_grad, b_grad


def cells(ax: Axes, values: np.ndarray, colors: np.ndarray, x0: float, y0: float) -> None:
    """Draw ``values`` as unit cells with top-left corner at (x0, y0), cell (i, j) in colour ``colors[i, j]``."""
    for (i, j), v in np.ndenumerate(values):
        ax.add_patch(Rectangle((x0 + j, y0 + i), 1, 1, facecolor=PALETTE[colors[i, j]], edgecolor="white", linewidth=2))
        ax.text(x0 + j + 0.5, y0 + i + 0.5, f"{v:.0f}", ha="center", va="center", fontsize=11)


def arrow(ax: Axes, x0: float, x1: float, y: float, label: str) -> None:
    ax.annotate("", xy=(x1, y), xytext=(x0, y), arrowprops={"arrowstyle": "-|>", "color": "0.3", "lw": 1.5})
    ax.text((x0 + x1) / 2, y - 0.25, label, ha="center", va="bottom", fontsize=9, color="0.3")


def build() -> Figure:
    """Two rows: the cells of ``g`` grouped by the element of ``a`` (top) and of ``b`` (bottom) they came from."""
    g, a_grad, b_grad = gradients()
    fig = Figure(figsize=(9.0, 5.4), layout="constrained")
    top, bottom = fig.subplots(2, 1)
    by_row = np.repeat(np.arange(ROWS)[:, None], COLS, axis=1)
    by_col = np.repeat(np.arange(COLS)[None, :], ROWS, axis=0)

    cells(top, g, by_row, 0, 0)
    arrow(top, COLS + 0.3, COLS + 2.2, ROWS / 2, "sum over axis 1\n(stretched from 1 to 4)")
    cells(top, a_grad, np.arange(ROWS)[:, None], COLS + 2.5, 0)
    top.text(COLS + 3.7, ROWS / 2, "a.grad, shape (3, 1)", va="center", fontsize=10)
    top.set_title("y = a + b with a of shape (3, 1): cells of g coloured by the element of a they read", fontsize=10)

    cells(bottom, g, by_col, 0, 0)
    arrow(bottom, COLS + 0.3, COLS + 2.2, ROWS / 2, "sum over axis 0\n(added in front)")
    cells(bottom, b_grad[None, :], np.arange(COLS)[None, :], COLS + 2.5, 1)
    bottom.text(COLS + 2.5, 2.6, "b.grad, shape (4,)", va="center", fontsize=10)
    bottom.set_title("the same g, coloured by the element of b (shape (4,)) each cell read", fontsize=10)

    for ax in (top, bottom):
        ax.set_xlim(-0.8, 2 * COLS + 3.2)
        ax.set_ylim(ROWS + 0.2, -0.2)  # row 0 on top, as a matrix is printed
        ax.set_aspect("equal")
        ax.set_axis_off()
        ax.text(-0.2, ROWS / 2, "g", ha="right", va="center", fontsize=12, style="italic")
    return fig


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.family": "DejaVu Sans"})
    g, a_grad, b_grad = gradients()
    print("g =", g.tolist())
    print("a.grad =", a_grad.ravel().tolist(), " b.grad =", b_grad.tolist())
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
