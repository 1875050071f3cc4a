"""Tiled shared-memory matmul: ``C = A @ B`` or ``C = A @ B.T``.

Each block computes one ``TILE x TILE`` (32 x 32) tile of ``C`` with
``TILE x ROWS_PER_STEP`` (32 x 8) threads; thread ``(tx, ty)`` owns the four
outputs in column ``tx`` and rows ``ty, ty + 8, ty + 16, ty + 24``. The K axis
is walked one ``TILE``-wide slab at a time: the block copies the slab of ``A``
and of ``B`` into shared memory once, synchronises, and every thread then
reads its operands from shared memory (about 30x lower latency than global
memory), so each element fetched from global memory is used ``TILE`` times.

Coalescing: a warp is 32 consecutive ``tx`` with one ``ty``. Every global
load below is arranged so that ``tx`` indexes the *contiguous* axis of the
array read (a column of ``A``, a column of ``B``, or for ``B.T`` the row
``B[n, k0 + tx]``), so a warp reads 32 neighbouring words: one 128-byte
transaction instead of 32. Stores to ``C`` use ``tx`` as the column, likewise.

Bank conflicts: shared memory has 32 banks, word ``w`` of an array lives in
bank ``w % 32``, and a warp's access is served in one step only if its 32
lanes hit 32 different banks (or the same word, a broadcast). In the inner
product, ``a_tile[ty + 8r, kk]`` is one word for the whole warp (broadcast) and
``b_tile[kk, tx]`` is 32 consecutive words (32 banks): conflict-free. The
transposed load is where it goes wrong: for ``C = A @ B.T`` lane ``tx`` reads
``B[n0 + ty + 8r, k0 + tx]`` (coalesced) and must store it *transposed*, at
``b_tile[tx, ty + 8r]``: 32 lanes write one *column*, addresses ``tx * 32 + c``
apart by 32 words, all in the same bank: a 32-way conflict, 32 serialised
steps. Padding every row of the tile to ``TILE + 1`` words makes the column
stride 33, so lane ``tx`` lands in bank ``(tx * 33 + c) % 32 = (tx + c) % 32``:
32 different banks, one step. The cost is 32 unused words per tile.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
from numba import cuda, float32, float64

from hyperion.kernels.cuda.device import array_module, ceil_div, check_float, check_ndim

TILE = 32
ROWS_PER_STEP = 8
ROWS_PER_THREAD = TILE // ROWS_PER_STEP
PAD = 1  # see the module docstring: column stride 33 words, no bank conflicts
TILE_PADDED = TILE + PAD  # a plain constant: numba needs literal shared-array shapes


def _matmul_kernel_source(dtype):  # a numba type in, a Python function out
    """The kernel as a Python function, with its shared tiles typed ``dtype``."""

    def matmul_kernel(a, b, c, trans_b):
        a_tile = cuda.shared.array((TILE, TILE_PADDED), dtype)
        b_tile = cuda.shared.array((TILE, TILE_PADDED), dtype)
        acc = cuda.local.array(ROWS_PER_THREAD, dtype)
        tx = cuda.threadIdx.x
        ty = cuda.threadIdx.y
        row0 = cuda.blockIdx.y * TILE
        col0 = cuda.blockIdx.x * TILE
        m = a.shape[0]
        k_total = a.shape[1]
        n = c.shape[1]
        for r in range(ROWS_PER_THREAD):
            acc[r] = 0.0
        for k0 in range(0, k_total, TILE):
            for r in range(ROWS_PER_THREAD):
                i = ty + r * ROWS_PER_STEP
                # A[row0 + i, k0 + tx]: lanes walk A's contiguous axis.
                if row0 + i < m and k0 + tx < k_total:
                    a_tile[i, tx] = a[row0 + i, k0 + tx]
                else:
                    a_tile[i, tx] = 0.0  # partial tile: zeros add nothing
                # trans_b is the same for the whole launch: no divergence.
                # --8<-- [start:transposed_load]
                if trans_b:
                    # B is (N, K): read B[col0 + i, k0 + tx] along its rows
                    # (coalesced), store transposed, down a column of b_tile.
                    if col0 + i < n and k0 + tx < k_total:
                        b_tile[tx, i] = b[col0 + i, k0 + tx]
                    else:
                        b_tile[tx, i] = 0.0
                else:
                    # B is (K, N): read B[k0 + i, col0 + tx] along its rows.
                    if k0 + i < k_total and col0 + tx < n:
                        b_tile[i, tx] = b[k0 + i, col0 + tx]
                    else:
                        b_tile[i, tx] = 0.0
            # --8<-- [end:transposed_load]
            # --8<-- [start:inner_product]
            cuda.syncthreads()  # the tiles are complete before anyone reads them
            for kk in range(TILE):
                b_val = b_tile[kk, tx]
                for r in range(ROWS_PER_THREAD):
                    acc[r] += a_tile[ty + r * ROWS_PER_STEP, kk] * b_val
            cuda.syncthreads()  # everyone is done reading before the next slab overwrites
        # --8<-- [end:inner_product]
        for r in range(ROWS_PER_THREAD):
            i = row0 + ty + r * ROWS_PER_STEP
            if i < m and col0 + tx < n:
                c[i, col0 + tx] = acc[r]

    return matmul_kernel


@functools.cache
def matmul_kernel_source(dtype_name: str) -> Any:
    """The Python source function of the matmul kernel for ``"float32"``/``"float64"``."""
    return _matmul_kernel_source({"float32": float32, "float64": float64}[dtype_name])


@functools.cache
def matmul_kernel(dtype_name: str) -> Any:
    """The ``cuda.jit`` matmul kernel for one dtype (compiled on first launch)."""
    return cuda.jit(matmul_kernel_source(dtype_name))


def matmul(a: Any, b: Any, *, trans_b: bool = False) -> Any:
    """``a @ b`` (or ``a @ b.T`` with ``trans_b``) for 2-D float arrays of one dtype.

    Args:
        a: ``(M, K)``.
        b: ``(K, N)``, or ``(N, K)`` when ``trans_b``.
        trans_b: Multiply by the transpose of ``b`` without materialising it.

    Returns:
        A new ``(M, N)`` array.
    """
    check_ndim("a", a, 2)
    check_ndim("b", b, 2)
    dtype = check_float("a", a)
    check_float("b", b, dtype)
    k_b = b.shape[1] if trans_b else b.shape[0]
    if a.shape[1] != k_b:
        raise ValueError(
            f"cannot multiply a of shape {tuple(a.shape)} by b{'.T' if trans_b else ''} of shape "
            f"{tuple(b.shape[::-1] if trans_b else b.shape)}: inner sizes {a.shape[1]} and {k_b} differ"
        )
    xp = array_module(a, b)
    m = a.shape[0]
    n = b.shape[0] if trans_b else b.shape[1]
    c = xp.empty((m, n), dtype=dtype)
    if m and n:
        grid = (ceil_div(n, TILE), ceil_div(m, TILE))
        matmul_kernel(np.dtype(dtype).name)[grid, (TILE, ROWS_PER_STEP)](
            xp.ascontiguousarray(a), xp.ascontiguousarray(b), c, bool(trans_b)
        )
    return c


# Matmul stays with the array library's BLAS (cuBLAS under CuPy); this kernel is
# for teaching and the benchmark, like the CPU matmul ladder.
KERNELS: dict = {}
