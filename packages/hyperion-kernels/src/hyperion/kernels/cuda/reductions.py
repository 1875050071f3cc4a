"""Warp and block reductions shared by the row kernels (softmax, LayerNorm).

A row kernel gives each row to one thread block. Every thread first folds a
strided slice of the row into a private partial (thread ``t`` reads columns
``t, t + blockDim, t + 2*blockDim, ...``, so the 32 lanes of a warp read 32
consecutive addresses: one coalesced transaction per step). The partials are
then combined in two stages:

1. inside each warp with ``shfl_down_sync``: lane ``l`` adds the value of lane
   ``l + offset`` for offsets 16, 8, 4, 2, 1, so after five steps lane 0 holds
   the warp's total. No shared memory and no barrier: the 32 lanes exchange
   registers directly.
2. across warps through a small shared array: lane 0 of each warp writes its
   total, one ``syncthreads`` later every thread reads the (at most 32) warp
   totals and adds them in the same order, so all threads end with the same
   bit-identical result.

Numba's CUDA simulator runs each thread as a Python thread and has no warp
shuffles. :func:`shfl_down` therefore has two bodies, picked once when this
module is imported: the real instruction on a GPU, and under the simulator an
exchange through shared memory that returns exactly what the instruction
would (a lane whose source ``lane + offset`` lies past the warp keeps its own
value). The kernels call only :func:`shfl_down`, so the kernel code that runs
under the simulator is the code compiled to PTX. The emulation needs every
thread of the block to call it, which the reductions below guarantee (no
shuffle sits inside a data-dependent branch).
"""

from __future__ import annotations

import math

from numba import cuda, float64

from hyperion.kernels.cuda.device import simulator_enabled

WARP_SIZE = 32
FULL_MASK = 0xFFFFFFFF
MAX_WARPS = 32  # 1024 threads per block at most
MAX_THREADS = WARP_SIZE * MAX_WARPS
NEG_INF = -math.inf


# --8<-- [start:shfl]
if simulator_enabled():

    @cuda.jit(device=True)
    def shfl_down(value, offset):
        """Simulator stand-in for ``cuda.shfl_down_sync(FULL_MASK, value, offset)``."""
        scratch = cuda.shared.array(MAX_THREADS, float64)
        tid = cuda.threadIdx.x
        scratch[tid] = value
        cuda.syncthreads()
        result = value
        if tid % WARP_SIZE + offset < WARP_SIZE and tid + offset < cuda.blockDim.x:
            result = scratch[tid + offset]
        cuda.syncthreads()
        return result

else:

    @cuda.jit(device=True)
    def shfl_down(value, offset):
        """Lane ``l`` receives ``value`` from lane ``l + offset`` of its warp."""
        return cuda.shfl_down_sync(FULL_MASK, value, offset)
# --8<-- [end:shfl]


# --8<-- [start:warp_sum]
@cuda.jit(device=True)
def warp_sum(value):
    """Sum over the 32 lanes of a warp; the total is valid in lane 0."""
    offset = WARP_SIZE // 2
    while offset > 0:
        value += shfl_down(value, offset)
        offset //= 2
    return value


# --8<-- [end:warp_sum]


@cuda.jit(device=True)
def warp_max(value):
    """Maximum over the 32 lanes of a warp; valid in lane 0."""
    offset = WARP_SIZE // 2
    while offset > 0:
        value = max(value, shfl_down(value, offset))
        offset //= 2
    return value


# --8<-- [start:block_sum]
@cuda.jit(device=True)
def block_sum(value):
    """Sum ``value`` (float64) over the block; every thread gets the total.

    The block size must be a multiple of 32 (the launch wrappers ensure it).
    """
    partial = cuda.shared.array(MAX_WARPS, float64)
    lane = cuda.threadIdx.x % WARP_SIZE
    warp = cuda.threadIdx.x // WARP_SIZE
    value = warp_sum(value)
    if lane == 0:
        partial[warp] = value
    cuda.syncthreads()
    total = 0.0
    for w in range(cuda.blockDim.x // WARP_SIZE):
        total += partial[w]  # same address for all lanes: a broadcast, no bank conflict
    cuda.syncthreads()  # nobody may overwrite `partial` before everyone has read it
    return total


# --8<-- [end:block_sum]


@cuda.jit(device=True)
def block_max(value):
    """Maximum of ``value`` (float64) over the block; every thread gets it."""
    partial = cuda.shared.array(MAX_WARPS, float64)
    lane = cuda.threadIdx.x % WARP_SIZE
    warp = cuda.threadIdx.x // WARP_SIZE
    value = warp_max(value)
    if lane == 0:
        partial[warp] = value
    cuda.syncthreads()
    result = NEG_INF
    for w in range(cuda.blockDim.x // WARP_SIZE):
        result = max(result, partial[w])
    cuda.syncthreads()
    return result


@cuda.jit(device=True)
def welford_merge(count, mean, m2, count_b, mean_b, m2_b):
    """Chan et al.'s merge of two (count, mean, sum of squared deviations) triples."""
    if count_b == 0.0:
        return count, mean, m2
    total = count + count_b
    delta = mean_b - mean
    mean = mean + delta * (count_b / total)
    m2 = m2 + m2_b + delta * delta * (count * count_b / total)
    return total, mean, m2


@cuda.jit(device=True)
def block_welford(count, mean, m2):
    """Merge every thread's Welford triple; every thread gets the row's triple.

    Each shuffle step moves three registers; the merge itself sits after the
    shuffles, so lanes that skip it (an empty partner) never miss a shuffle.
    """
    offset = WARP_SIZE // 2
    while offset > 0:
        count_b = shfl_down(count, offset)
        mean_b = shfl_down(mean, offset)
        m2_b = shfl_down(m2, offset)
        count, mean, m2 = welford_merge(count, mean, m2, count_b, mean_b, m2_b)
        offset //= 2
    counts = cuda.shared.array(MAX_WARPS, float64)
    means = cuda.shared.array(MAX_WARPS, float64)
    m2s = cuda.shared.array(MAX_WARPS, float64)
    lane = cuda.threadIdx.x % WARP_SIZE
    warp = cuda.threadIdx.x // WARP_SIZE
    if lane == 0:
        counts[warp] = count
        means[warp] = mean
        m2s[warp] = m2
    cuda.syncthreads()
    count, mean, m2 = 0.0, 0.0, 0.0
    for w in range(cuda.blockDim.x // WARP_SIZE):
        count, mean, m2 = welford_merge(count, mean, m2, counts[w], means[w], m2s[w])
    cuda.syncthreads()
    return count, mean, m2
