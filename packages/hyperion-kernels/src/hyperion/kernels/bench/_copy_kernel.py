"""A parallel copy loop for the roofline (imported only where Numba is installed)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(parallel=True, cache=True)
def parallel_copy(src: np.ndarray, dst: np.ndarray) -> None:
    """``dst[:] = src`` for 1-D arrays, split across Numba's threads."""
    for i in prange(src.shape[0]):
        dst[i] = src[i]
