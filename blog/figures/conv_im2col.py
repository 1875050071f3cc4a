"""Figure for the post "Convolution as im2col on strided views": what the column matrix holds.

A 1-channel 5 × 5 input (its storage indices 0..24), a 3 × 3 kernel, stride 1, no padding:

- left: the input, with the window of output position (1, 2) outlined;
- middle: the im2col matrix, 9 rows (kernel taps) × 9 columns (output positions); each entry
  is the storage index it is read from. It is built from the strided view
  ``x.unfold(2, 3, 1).unfold(3, 3, 1)`` of ``hyperion.tensor``, which copies nothing;
- right: how many entries of the matrix read each input element (1 in the corners, 9 in the
  centre): the 81 numbers of the matrix come from 25, and this duplication is what the one
  copy of im2col costs.

Computed here, deterministic. Run by hand it saves the PNG and prints the view's shape and
strides and the read counts the post quotes::

    python blog/figures/conv_im2col.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

import hyperion.tensor as ht

SIDE, K = 5, 3
OUT = SIDE - K + 1
HIGHLIGHT = (1, 2)  # output position whose window is outlined


def columns() -> tuple[ht.Tensor, np.ndarray]:
    """The strided window view of the index image, and its im2col matrix ``(K·K, OUT·OUT)``."""
    x = ht.from_numpy(np.arange(SIDE * SIDE, dtype=np.float64).reshape(1, 1, SIDE, SIDE))
    view = x.unfold(2, K, 1).unfold(3, K, 1)  # (1, 1, OUT, OUT, K, K), no copy
    assert view.shares_storage(x)
    cols = view.numpy().transpose(0, 1, 4, 5, 2, 3).reshape(K * K, OUT * OUT)
    return view, cols.astype(int)


def build() -> Figure:
    _, cols = columns()
    counts = np.bincount(cols.ravel(), minlength=SIDE * SIDE).reshape(SIDE, SIDE)
    fig = Figure(figsize=(12, 4.2), layout="constrained")
    left, middle, right = fig.subplots(1, 3, width_ratios=[1, 1.3, 1])

    image = np.arange(SIDE * SIDE).reshape(SIDE, SIDE)
    left.imshow(image, cmap="Blues", alpha=0.5)
    for (i, j), v in np.ndenumerate(image):
        left.text(j, i, str(v), ha="center", va="center", fontsize=10)
    r, c = HIGHLIGHT
    left.add_patch(Rectangle((c - 0.5, r - 0.5), K, K, fill=False, edgecolor="C3", linewidth=2.5))
    left.set_title(f"input 5 × 5 (storage index)\nwindow of output {HIGHLIGHT}", fontsize=10)
    left.set_xticks([])
    left.set_yticks([])

    middle.imshow(cols, cmap="Blues", alpha=0.5, aspect="auto")
    for (i, j), v in np.ndenumerate(cols):
        middle.text(j, i, str(v), ha="center", va="center", fontsize=9)
    column = r * OUT + c
    middle.add_patch(Rectangle((column - 0.5, -0.5), 1, K * K, fill=False, edgecolor="C3", linewidth=2.5))
    middle.set_xticks(range(OUT * OUT), [f"{p // OUT},{p % OUT}" for p in range(OUT * OUT)], fontsize=8)
    middle.set_yticks(range(K * K), [f"{t // K},{t % K}" for t in range(K * K)], fontsize=8)
    middle.set_xlabel("output position (oh, ow)")
    middle.set_ylabel("kernel tap (i, j)")
    middle.set_title("im2col matrix: the storage index each entry reads", fontsize=10)

    right.imshow(counts, cmap="Oranges", vmin=0, vmax=K * K)
    for (i, j), v in np.ndenumerate(counts):
        right.text(j, i, str(v), ha="center", va="center", fontsize=10)
    right.set_title("times each input element is read", fontsize=10)
    right.set_xticks([])
    right.set_yticks([])
    return fig


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.family": "DejaVu Sans"})
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    view, cols = columns()
    counts = np.bincount(cols.ravel(), minlength=SIDE * SIDE)
    print(f"window view shape {tuple(view.shape)}, strides {tuple(view.stride())}")
    print(f"im2col matrix {cols.shape}: {cols.size} entries read from {SIDE * SIDE} elements")
    print("reads per input element:\n" + str(counts.reshape(SIDE, SIDE)))
