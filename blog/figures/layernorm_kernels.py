"""Figure for the post "LayerNorm kernels": forward+backward of LayerNorm and RMSNorm, fused vs composed.

The numbers come from the kernels' own benchmark (``hyperion-kernels bench --op layernorm --op rmsnorm``): the
roofline first (copy bandwidth, STREAM-like), then one forward *and* backward pass of LayerNorm
(two shapes) and RMSNorm (one) in float32 for the composed NumPy version (``naive``), the fused
Numba kernels (``cpu``) and PyTorch (forward + ``autograd.grad``), timed interleaved in one
process (medians). Left: effective bandwidth (forward reads x and writes y; backward reads gy
and x and writes gx: five array passes) with the copy roofline. Right: speedup over NumPy.

The figure is drawn from ``data/layernorm_kernels.json``, so the docs build never measures. Re-measure
(a few minutes; pin the threads for comparable numbers), then rebuild::

    NUMBA_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 python blog/figures/layernorm_kernels.py --measure
"""

from __future__ import annotations

import sys
from pathlib import Path

from _kernel_bench import KernelBenchFigure, plain_shape
from matplotlib.figure import Figure

FIGURE = KernelBenchFigure(
    data=Path(__file__).parent / "data" / "layernorm_kernels.json",
    ops=("layernorm", "rmsnorm"),
    labels={"naive": "composed NumPy", "cpu": "fused kernel (Numba)", "torch": "PyTorch autograd"},
    xlabel="op, rows × features (float32)",
    ylabel="GB/s (5 array passes: fwd + bwd)",
    shape=lambda row: ("RMS " if row["op"] == "rmsnorm" else "LN ") + plain_shape(row),
    shape_header="op shape",
    shape_width=16,
)


def build() -> Figure:
    """Draw the figure from the committed results."""
    return FIGURE.build()


if __name__ == "__main__":
    FIGURE.main(sys.argv[1:], Path(__file__).with_suffix(".png"))
