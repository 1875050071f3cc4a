"""Row softmax on the GPU: one thread block per row, warp-shuffle reductions.

Forward: each thread keeps an *online* running maximum ``m`` and a running sum
``s`` of ``exp(x - m)`` over its strided slice of the row (when a larger value
arrives, the sum is rescaled by ``exp(m_old - m_new)``), so the statistics
need one read of the row. The block then agrees on the row maximum
(:func:`block_max`), rescales every thread's sum to it and adds them
(:func:`block_sum`). A second read writes ``exp(x - max) / sum``. Statistics
are accumulated in float64, the output is stored in the input dtype.

Backward: ``gx = y * (gy - sum(gy * y))``: one block sum, then one write.
"""

from __future__ import annotations

import math
from typing import Any

from numba import cuda

from hyperion.kernels.cuda.device import array_module, check_float, check_ndim, row_threads
from hyperion.kernels.cuda.reductions import NEG_INF, block_max, block_sum


# --8<-- [start:softmax_forward]
@cuda.jit
def softmax_forward_kernel(x, y):
    """``y[r] = softmax(x[r])`` for the row ``r = blockIdx.x``."""
    row = cuda.blockIdx.x
    tid = cuda.threadIdx.x
    n = x.shape[1]
    m = NEG_INF
    s = 0.0
    # Thread t reads columns t, t + blockDim, ...: neighbouring lanes read
    # neighbouring addresses, so each warp-wide load is one coalesced transaction.
    for j in range(tid, n, cuda.blockDim.x):
        v = x[row, j] + 0.0  # float64 accumulation
        if v > m:
            s = s * math.exp(m - v) + 1.0
            m = v
        elif m > NEG_INF:
            s += math.exp(v - m)
    row_max = block_max(m)
    # A thread that saw no finite value contributes nothing; the branch only
    # selects a value, both sides are cheap, so the warp diverges briefly.
    scaled = s * math.exp(m - row_max) if s > 0.0 else 0.0
    total = block_sum(scaled)
    inv = 1.0 / total
    for j in range(tid, n, cuda.blockDim.x):
        y[row, j] = math.exp(x[row, j] - row_max) * inv


# --8<-- [end:softmax_forward]


@cuda.jit
def softmax_backward_kernel(y, gy, gx):
    """``gx[r] = y[r] * (gy[r] - sum(gy[r] * y[r]))`` for ``r = blockIdx.x``."""
    row = cuda.blockIdx.x
    tid = cuda.threadIdx.x
    n = y.shape[1]
    dot = 0.0
    for j in range(tid, n, cuda.blockDim.x):
        dot += gy[row, j] * (y[row, j] + 0.0)
    dot = block_sum(dot)
    for j in range(tid, n, cuda.blockDim.x):
        gx[row, j] = y[row, j] * (gy[row, j] - dot)


# --8<-- [start:softmax_wrapper]
def softmax_forward(x2d: Any, *, threads: int | None = None) -> Any:
    """Softmax over the last axis of a 2-D float array (CuPy on a GPU).

    Args:
        x2d: ``(rows, n)`` float32/float64 array.
        threads: Threads per block (a multiple of 32); chosen from ``n`` if ``None``.

    Returns:
        A new array of the same shape and dtype.
    """
    check_ndim("x2d", x2d, 2)
    check_float("x2d", x2d)
    xp = array_module(x2d)
    x = xp.ascontiguousarray(x2d)
    y = xp.empty_like(x)
    rows, n = x.shape
    if rows and n:
        softmax_forward_kernel[rows, row_threads(n, threads)](x, y)
    return y


# --8<-- [end:softmax_wrapper]


def softmax_backward(y2d: Any, gy2d: Any, *, threads: int | None = None) -> Any:
    """Gradient of softmax given its output ``y2d`` and the upstream gradient ``gy2d``.

    ``threads`` is as in :func:`softmax_forward`.
    """
    check_ndim("y2d", y2d, 2)
    dtype = check_float("y2d", y2d)
    check_float("gy2d", gy2d, dtype)
    if gy2d.shape != y2d.shape:
        raise ValueError(f"gy2d has shape {tuple(gy2d.shape)}, expected {tuple(y2d.shape)} like y2d")
    xp = array_module(y2d, gy2d)
    y = xp.ascontiguousarray(y2d)
    gy = xp.ascontiguousarray(gy2d)
    gx = xp.empty_like(y)
    rows, n = y.shape
    if rows and n:
        softmax_backward_kernel[rows, row_threads(n, threads)](y, gy, gx)
    return gx


KERNELS = {
    ("nn.softmax_forward", "cuda"): softmax_forward,
    ("nn.softmax_backward", "cuda"): softmax_backward,
}
