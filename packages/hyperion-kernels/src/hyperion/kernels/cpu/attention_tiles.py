"""Tile-level helpers of the CPU flash attention kernels: masks and block sizes.

Block sizes follow the paper's rule ``B_c = ⌈M / 4d⌉`` with the fast memory ``M`` taken to
be half of one core's L2: the key and value blocks of ``B_c`` rows (``2 d B_c`` elements)
fill half of ``M`` and the score tile the other half. The paper's ``B_r = min(B_c, d)`` is
for GPU shared memory, where the query block must also fit next to the tile; on a CPU each
tile is one BLAS call, and BLAS is faster on taller panels, so ``B_r = M / B_c`` (the score
tile ``B_r × B_c`` then fills ``M``), clamped to ``[16, 256]``; ``B_c`` is clamped to
``[16, 1024]``. With a 2 MiB L2 and d = 64: ``B_c = 1024, B_r = 256`` in float32 and
``B_c = 512, B_r = 256`` in float64.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numba.core import types
from numba.extending import overload

from hyperion.kernels.cpu.cache_info import cache_sizes

__all__ = ["FASTMATH", "block_sizes", "exp_row", "masked_scores"]

FASTMATH = {"reassoc", "contract"}
"""Numba ``fastmath`` flags of the attention kernels: reordered sums and FMAs; NaN/inf rules kept."""

_LOG2E = 1.4426950408889634
_LN2_HI_32, _LN2_LO_32 = 0.693145751953125, 1.428606765330187e-06  # k·HI exact for |k| < 2^10
_LN2_HI_64, _LN2_LO_64 = 0.6931471803691238, 1.9082149292705877e-10
_MIN_32 = -127.49 * 0.6931471805599453  # clamps to k = -127: biased exponent 0, the result is exactly 0
_MIN_64 = -1023.49 * 0.6931471805599453
_TAYLOR_64 = tuple(1.0 / math.factorial(i) for i in range(11, -1, -1))


def exp_row(row, shift):  # pragma: no cover - replaced by the overload inside jitted code
    """``row[j] = exp(row[j] - shift)`` in place for ``row <= shift``; returns the sum (float64).

    Without Intel's SVML, ``math.exp`` is one libm call per element, which LLVM cannot
    vectorise; this version uses only vectorisable arithmetic: ``t = k ln2 + r`` (Cody-Waite,
    ``ln 2`` in two parts), a Taylor polynomial for ``exp(r)`` (degree 7 in float32, 12 in
    float64) and ``2^k`` written into the exponent bits of an integer scratch row viewed as
    floats. ``-inf`` entries (masked scores) give exactly 0. Only callable from jitted code.
    """
    raise NotImplementedError("exp_row is only available inside @njit functions")


@overload(exp_row, jit_options={"fastmath": FASTMATH})
def _exp_row_impl(row, shift):
    if row.dtype == types.float32:

        def impl32(row, shift):
            n = row.shape[0]
            bits = np.empty(n, np.int32)
            for j in range(n):
                t = max(np.float32(row[j] - shift), np.float32(_MIN_32))
                k = np.float32(math.floor(t * np.float32(_LOG2E) + np.float32(0.5)))
                r = (t - k * np.float32(_LN2_HI_32)) - k * np.float32(_LN2_LO_32)
                p = np.float32(1 / 5040)
                p = p * r + np.float32(1 / 720)
                p = p * r + np.float32(1 / 120)
                p = p * r + np.float32(1 / 24)
                p = p * r + np.float32(1 / 6)
                p = p * r + np.float32(0.5)
                p = p * r + np.float32(1.0)
                row[j] = p * r + np.float32(1.0)
                bits[j] = (np.int32(k) + np.int32(127)) << np.int32(23)
            scale = bits.view(np.float32)
            total = 0.0
            for j in range(n):
                value = row[j] * scale[j]
                row[j] = value
                total += value
            return total

        return impl32

    def impl64(row, shift):
        n = row.shape[0]
        bits = np.empty(n, np.int64)
        for j in range(n):
            t = max(row[j] - shift, _MIN_64)
            k = math.floor(t * _LOG2E + 0.5)
            r = (t - k * _LN2_HI_64) - k * _LN2_LO_64
            p = 1 / 479001600
            for c in _TAYLOR_64:
                p = p * r + c
            row[j] = p
            bits[j] = (np.int64(k) + np.int64(1023)) << np.int64(52)
        scale = bits.view(np.float64)
        total = 0.0
        for j in range(n):
            value = row[j] * scale[j]
            row[j] = value
            total += value
        return total

    return impl64


def block_sizes(e: int, ev: int, itemsize: int) -> tuple[int, int]:
    """``(B_r, B_c)``: query rows and key columns per tile, from the L2 size.

    ``M`` = half of L2 in elements; ``B_c = ⌈M / (2(e + ev))⌉`` (the paper's ``M / 4d`` with
    separate key and value widths) and ``B_r = M / B_c``, clamped as the module says.

    Examples:
        >>> br, bc = block_sizes(64, 64, 4)
        >>> 16 <= br <= 256 and 16 <= bc <= 1024
        True
    """
    fast = cache_sizes().l2 // 2 // itemsize
    bc = math.ceil(fast / (2 * (e + ev)))
    bc = max(16, min(1024, bc - bc % 16 if bc > 16 else bc))
    br = max(16, min(256, fast // bc))
    return br, bc


@njit(cache=True, fastmath=FASTMATH)
def masked_scores(
    mask: np.ndarray, has_mask: bool, causal: bool, b: int, i: int, j0: int, j1: int, out: np.ndarray
) -> bool:
    """Set masked entries of a score row to ``-inf``; return whether any entry is left.

    ``causal`` keeps ``j <= i``; ``mask[b, i, j]`` (when ``has_mask``) keeps ``True`` entries.
    """
    w = j1 - j0
    if causal and j1 - 1 > i:
        for c in range(max(0, i + 1 - j0), w):
            out[c] = -np.inf
    if has_mask:
        row = mask[b, i, j0:j1]
        for c in range(w):
            if not row[c]:
                out[c] = -np.inf
    if causal and i < j0:
        return False
    if has_mask:
        for c in range(w):
            if out[c] != -np.inf:
                return True
        return False
    return True
