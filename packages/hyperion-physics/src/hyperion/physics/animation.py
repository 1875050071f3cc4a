"""An animated GIF of field frames (matplotlib + Pillow), written atomically."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from hyperion.tensor.files import atomic_path

__all__ = ["write_gif"]


def write_gif(frames: Sequence[np.ndarray], path: Path, fps: int = 15, title: str = "") -> Path:
    """Write ``frames`` (2-D arrays) as an animated GIF at ``path``; raises ImportError without matplotlib/Pillow."""
    from matplotlib.animation import PillowWriter
    from matplotlib.figure import Figure

    if not frames:
        raise ValueError("no frames to animate")
    # A high percentile rather than the maximum: the source cell would otherwise wash out the waves.
    lim = float(np.percentile(np.abs(np.stack(frames)), 99.5)) or max(float(np.max(np.abs(f))) for f in frames) or 1.0
    fig = Figure(figsize=(4.5, 4))
    ax = fig.subplots()
    im = ax.imshow(frames[0].T, origin="lower", cmap="RdBu_r", vmin=-lim, vmax=lim)
    ax.set_title(title)
    fig.colorbar(im, ax=ax)
    with atomic_path(path, suffix=".gif") as tmp:
        writer = PillowWriter(fps=fps)
        with writer.saving(fig, tmp, dpi=80):
            for f in frames:
                im.set_data(f.T)
                writer.grab_frame()
    return path
