"""Helpers shared by the CUDA launch wrappers: array module, checks, grid sizes.

The launch wrappers are written against ``xp`` (NumPy or CuPy, whichever the
inputs are), so the same wrapper launches a kernel on CuPy device arrays on a
GPU and on NumPy host arrays under Numba's CUDA simulator (which copies host
arrays in and out around each launch). On a real GPU Numba would also accept
NumPy arrays, but it would copy them to the device and back at every launch;
the registered kernels therefore always receive CuPy arrays.
"""

from __future__ import annotations

import types
from typing import Any

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def simulator_enabled() -> bool:
    """Whether ``numba.cuda`` in this process is Numba's CUDA simulator.

    The choice is made by ``NUMBA_ENABLE_CUDASIM`` when ``numba.cuda`` is first
    imported and holds for the life of the process; this asks the imported
    module which API it exported (the environment may have changed since).
    """
    from numba import cuda

    return cuda.jit.__module__.startswith("numba.cuda.simulator")


def array_module(*arrays: Any) -> types.ModuleType:
    """``cupy`` if any argument is a CuPy array, else ``numpy``."""
    for array in arrays:
        if type(array).__module__.split(".")[0] == "cupy":
            import cupy

            return cupy
    return np


def check_float(name: str, array: Any, dtype: np.dtype | None = None) -> np.dtype:
    """Check that ``array`` is float32/float64 (and of ``dtype`` if given); return its dtype.

    Raises:
        TypeError: naming the argument and the dtype it has.
    """
    got = np.dtype(array.dtype)
    if got not in FLOAT_DTYPES:
        raise TypeError(f"{name} must be float32 or float64 for the CUDA kernels, got {got}")
    if dtype is not None and got != dtype:
        raise TypeError(f"{name} has dtype {got} but the other inputs are {dtype}")
    return got


def check_ndim(name: str, array: Any, ndim: int) -> None:
    """Raise ValueError unless ``array`` has ``ndim`` dimensions."""
    if array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-D, got shape {tuple(array.shape)}")


def row_threads(n: int, threads: int | None = None) -> int:
    """Threads per block for a row kernel over rows of length ``n``.

    By default a multiple of 32 (whole warps: the reductions rely on it), at
    least one warp, at most 256: enough warps to hide memory latency on long
    rows without leaving most threads idle on short ones. ``threads`` overrides
    it (tuning, and tests that want the strided loop on short rows).

    Raises:
        ValueError: if ``threads`` is not a multiple of 32 between 32 and 1024.
    """
    if threads is not None:
        if threads % 32 or not 32 <= threads <= 1024:
            raise ValueError(f"threads must be a multiple of 32 between 32 and 1024, got {threads}")
        return threads
    warps = min(8, max(1, -(-n // 32)))
    return 32 * warps


def ceil_div(a: int, b: int) -> int:
    """``ceil(a / b)`` for non-negative integers."""
    return -(-a // b)


def placeholder(xp: types.ModuleType, dtype: np.dtype) -> Any:
    """A one-element array passed where an optional input (weight, mask) is absent.

    Kernels take a flag next to it and never read it; a real array keeps the
    kernel signature (and so its compiled PTX) the same with and without it.
    """
    return xp.zeros(1, dtype=dtype)
