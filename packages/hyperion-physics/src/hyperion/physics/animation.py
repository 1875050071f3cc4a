"""An animated GIF of field frames (matplotlib + Pillow), written atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

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
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp.gif")
    os.close(fd)
    try:
        writer = PillowWriter(fps=fps)
        with writer.saving(fig, tmp, dpi=80):
            for f in frames:
                im.set_data(f.T)
                writer.grab_frame()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
