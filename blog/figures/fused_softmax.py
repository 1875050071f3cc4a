"""Figure for the post "The fused softmax kernel": GB/s of three softmaxes against the copy roofline.

The numbers come from the kernels' own benchmark (``hyperion-kernels bench --op softmax``): the
roofline first (copy bandwidth, STREAM-like), then row softmax in float32 at three shapes for the
composed NumPy version (``naive``), the fused Numba kernel (``cpu``) and ``torch.softmax``, timed
interleaved in one process (medians). Left: effective bandwidth (input read once, output written
once) with the copy roofline. Right: speedup over the composed NumPy version.

The figure is drawn from ``data/fused_softmax.json``, so the docs build never measures. Re-measure
(a few minutes; pin the threads for comparable numbers), then rebuild::

    NUMBA_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1 python blog/figures/fused_softmax.py --measure
"""

from __future__ import annotations

import sys
from pathlib import Path

from _kernel_bench import KernelBenchFigure
from matplotlib.figure import Figure

FIGURE = KernelBenchFigure(
    data=Path(__file__).parent / "data" / "fused_softmax.json",
    ops=("softmax",),
    labels={"naive": "composed NumPy", "cpu": "fused kernel (Numba)", "torch": "torch.softmax"},
    xlabel="rows × row length (float32)",
    ylabel="GB/s (one read + one write per element)",
)


def build() -> Figure:
    """Draw the figure from the committed results."""
    return FIGURE.build()


if __name__ == "__main__":
    FIGURE.main(sys.argv[1:], Path(__file__).with_suffix(".png"))
