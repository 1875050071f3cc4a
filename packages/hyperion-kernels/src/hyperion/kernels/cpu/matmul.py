"""A matmul ladder for teaching: six Numba versions of ``C = A @ B``, each one idea faster.

BLAS stays the default for ``matmul`` (``KERNELS`` is empty); :data:`LADDER` is what the
benchmark and the "tiling a matmul" post climb, rung by rung:

1. ``naive`` — the textbook ``(i, j, k)`` triple loop. The inner loop walks a *column* of
   ``B``: one element per 4 KiB row at n = 1024, a new cache line for every multiply-add.
2. ``reordered`` — the same arithmetic in ``(i, k, j)`` order: the inner loop now runs along
   a row of ``B`` and a row of ``C``, both contiguous, so it streams cache lines and LLVM
   vectorises it (8 or 16 lanes). Nothing else changed.
3. ``tiled`` — ``(i, k, j)`` over square tiles of side :func:`tile_side`, chosen so that one
   tile of ``B`` fills at most half of the L2 cache: each tile of ``B`` is read from memory
   once per tile-row of ``A`` instead of once per row of ``A``.
4. ``packed`` — register blocking. Up to rung 3 every multiply-add also loads and stores an
   element of ``C``. Here a ``KC × NC`` panel of ``B`` is copied transposed (``Bᵀ``, rows
   contiguous in ``k``, half of L2) and ``MR = 8`` rows of ``A`` into a contiguous sliver
   (L1); the micro-kernel computes an ``8 × 2`` block of ``C`` as 16 dot products over
   ``k`` held in 16 scalar locals — registers — and touches ``C`` once per ``KC``. Numba's
   LLVM vectorises *loops*, not straight-line code (its SLP vectoriser is off), so the
   vector lanes go to the ``k`` loop: with ``reassoc`` allowed on this one function, each
   accumulator becomes a vector of partial sums (``vfmadd231ps`` on 256-bit ``ymm``
   registers, the width LLVM prefers on this CPU).
5. ``simd`` — the micro-kernel BLAS uses, written out in LLVM IR (a Numba ``intrinsic``,
   :func:`~hyperion.kernels.cpu.matmul_ir.broadcast_block`): ``A`` packed into ``KC × 8``
   row panels and ``B`` into ``KC × 32`` column panels, both contiguous along each ``k``; an ``8 × 32`` block of ``C``
   lives in 16 512-bit registers (``zmm``, 16 float32 lanes) and each ``k`` is two vector
   loads of ``B``, eight broadcasts of ``A`` and 16 FMAs — no horizontal sums, no reordering.
   The ``B`` panel (``KC`` from L1) is re-read for every row panel of ``A``.
6. ``parallel`` — rung 5 with the row panels of ``C`` split into one band per thread
   (``prange``); ``B``'s panels are packed once per k-block, by all threads, and shared.

Rungs 1-3 are compiled with ``fastmath={"contract"}``: multiply-adds may fuse into FMA
instructions (as in BLAS), but sums are never reordered; rungs 5-6 use FMAs explicitly and
add the ``k`` terms in order too. Only the micro-kernel of rung 4 adds each dot product as
8 interleaved partial sums (``reassoc``), which changes the rounding, not the accuracy
class: the error bound of a ``k``-term sum stays ``k·ε·Σ|aᵢbᵢ|`` (it shrinks, the partial
sums being shorter), and the tests compare against a float64 product with exactly that kind
of tolerance. ``nnan``/``ninf`` are not allowed, so NaN and
infinity still propagate as in NumPy.

Examples:
    >>> import numpy as np
    >>> a = np.arange(6.0).reshape(2, 3); b = np.ones((3, 2))
    >>> [fn(a, b).tolist() == (a @ b).tolist() for fn in LADDER.values()]
    [True, True, True, True, True, True]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import get_num_threads, njit, prange

from hyperion.kernels.cpu.cache_info import cache_sizes
from hyperion.kernels.cpu.matmul_ir import MR, NVEC, VECTOR_BYTES, broadcast_block
from hyperion.tensor.errors import DTypeError, ShapeError

__all__ = [
    "KERNELS",
    "LADDER",
    "MR",
    "NR",
    "naive",
    "packed",
    "panel_sizes",
    "parallel",
    "reordered",
    "simd",
    "simd_sizes",
    "tile_side",
    "tiled",
]

KERNELS: dict[tuple[str, str], Callable[..., object]] = {}
"""No registry kernels: NumPy's BLAS stays the ``matmul`` everyone uses."""

NR = 2
"""Columns of rung 4's block of ``C`` (rows of packed ``Bᵀ``): ``MR × NR = 16`` accumulators in registers."""


_FLAGS = {"contract"}
_MICRO_FLAGS = {"contract", "reassoc"}


def tile_side(itemsize: int) -> int:
    """Tile side of rung 3: the largest multiple of 16 with ``side² · itemsize <= L2 / 2``.

    Half of L2 leaves room for the rows of ``A`` and ``C`` that stream past the ``B`` tile.
    With a 2 MiB L2 and float32 that is 512; with the 1 MiB fallback, 352.
    """
    side = int((cache_sizes().l2 // 2 // itemsize) ** 0.5)
    return max(16, min(512, side - side % 16))


def panel_sizes(itemsize: int) -> tuple[int, int]:
    """``(KC, NC)`` of rung 4: the depth of a k-block and the width of a ``B`` panel.

    ``KC`` so that the ``MR`` packed rows of ``A`` — the operand the micro-kernel re-reads for
    every pair of columns — fill at most three quarters of L1, the rest holding the two rows
    of ``Bᵀ`` streaming past (1024 for float32 with a 48 KiB L1d, capped at 1024; a longer
    ``k`` is cut into equal blocks of at most ``KC``). Each block ends in one horizontal sum per
    accumulator, so longer is better while it fits. ``NC`` columns so that the packed
    ``NC × KC`` panel of ``Bᵀ`` fills half of L2 (256 with 2 MiB). Both are multiples of 64.
    """
    sizes = cache_sizes()
    kc = max(64, min(1024, sizes.l1d * 3 // 4 // (MR * itemsize) // 64 * 64))
    nc = max(64, sizes.l2 // 2 // (kc * itemsize) // 64 * 64)
    return kc, nc


def _check(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ShapeError(f"matmul ladder: need (m, k) @ (k, n) matrices, got {a.shape} and {b.shape}")
    if a.dtype != b.dtype or a.dtype not in (np.float32, np.float64):
        raise DTypeError(f"matmul ladder: need two float32 or two float64 matrices, got {a.dtype} and {b.dtype}")
    return np.ascontiguousarray(a), np.ascontiguousarray(b)


@njit(cache=True, fastmath=_FLAGS)
def _naive(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:
    for i in range(a.shape[0]):
        for j in range(b.shape[1]):
            total = c.dtype.type(0)
            for k in range(a.shape[1]):
                total += a[i, k] * b[k, j]
            c[i, j] = total


@njit(cache=True, fastmath=_FLAGS)
def _reordered(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> None:
    for i in range(a.shape[0]):
        ci = c[i]
        for k in range(a.shape[1]):
            aik = a[i, k]
            bk = b[k]
            for j in range(b.shape[1]):
                ci[j] += aik * bk[j]


@njit(cache=True, fastmath=_FLAGS)
def _tiled(a: np.ndarray, b: np.ndarray, c: np.ndarray, t: int) -> None:
    m, kk = a.shape
    n = b.shape[1]
    for i0 in range(0, m, t):
        for k0 in range(0, kk, t):
            for j0 in range(0, n, t):
                j1 = min(j0 + t, n)
                for i in range(i0, min(i0 + t, m)):
                    ci = c[i, j0:j1]  # slices indexed from 0: no negative-index check blocks vectorising
                    for k in range(k0, min(k0 + t, kk)):
                        aik = a[i, k]
                        bk = b[k, j0:j1]
                        for j in range(ci.shape[0]):
                            ci[j] += aik * bk[j]


@njit(cache=True, boundscheck=False, error_model="numpy")
def _pack_bt(b: np.ndarray, k0: int, kc: int, j0: int, nc: int, bt: np.ndarray) -> None:
    """``bt[j, :kc] = b[k0 : k0+kc, j0+j]``: the panel of ``B`` transposed, rows zero-padded to ``NR``.

    Read in strips of 16 columns, so every cache line of ``B`` fetched is used in full while
    the 16 rows of ``bt`` being written stay in L1.
    """
    padded = (nc + NR - 1) // NR * NR
    for s in range(0, nc, 16):
        for k in range(kc):
            src = b[k0 + k]
            for j in range(s, min(s + 16, nc)):
                bt[j, k] = src[j0 + j]
    for j in range(nc, padded):
        bt[j, :kc] = 0


@njit(cache=True, fastmath=_MICRO_FLAGS, boundscheck=False, error_model="numpy")
def _micro(ap: np.ndarray, bt: np.ndarray, jj: int, kc: int, tile: np.ndarray) -> None:
    """``tile[r, q] = Σ_k ap[r, k] · bt[jj+q, k]``: an ``8 × 2`` block of ``C`` as 16 dot products.

    The 16 sums are scalar locals, so they live in registers; the loop over ``k`` reads eight
    contiguous rows of packed ``A`` (kept in L1 across calls) and two of packed ``Bᵀ``
    (streaming from L2). With ``reassoc`` LLVM's loop vectoriser splits each sum into one
    partial sum per vector lane: every accumulator becomes a vector register, and each pass
    of the loop does 10 vector loads and 16 vector FMAs (``vfmadd231ps`` on ``ymm`` registers
    for float32), the lanes being added at the end.
    """
    a0, a1, a2, a3, a4, a5, a6, a7 = ap[0], ap[1], ap[2], ap[3], ap[4], ap[5], ap[6], ap[7]
    b0, b1 = bt[jj], bt[jj + 1]
    c00 = c01 = c10 = c11 = c20 = c21 = c30 = c31 = tile.dtype.type(0)
    c40 = c41 = c50 = c51 = c60 = c61 = c70 = c71 = tile.dtype.type(0)
    for k in range(kc):
        y0, y1 = b0[k], b1[k]
        x = a0[k]
        c00 += x * y0
        c01 += x * y1
        x = a1[k]
        c10 += x * y0
        c11 += x * y1
        x = a2[k]
        c20 += x * y0
        c21 += x * y1
        x = a3[k]
        c30 += x * y0
        c31 += x * y1
        x = a4[k]
        c40 += x * y0
        c41 += x * y1
        x = a5[k]
        c50 += x * y0
        c51 += x * y1
        x = a6[k]
        c60 += x * y0
        c61 += x * y1
        x = a7[k]
        c70 += x * y0
        c71 += x * y1
    tile[0, 0], tile[0, 1], tile[1, 0], tile[1, 1] = c00, c01, c10, c11
    tile[2, 0], tile[2, 1], tile[3, 0], tile[3, 1] = c20, c21, c30, c31
    tile[4, 0], tile[4, 1], tile[5, 0], tile[5, 1] = c40, c41, c50, c51
    tile[6, 0], tile[6, 1], tile[7, 0], tile[7, 1] = c60, c61, c70, c71


@njit(cache=True, boundscheck=False, error_model="numpy")
def _sliver(
    a: np.ndarray,
    bt: np.ndarray,
    c: np.ndarray,
    ap: np.ndarray,
    tile: np.ndarray,
    i0: int,
    k0: int,
    kc: int,
    j0: int,
    nc: int,
) -> None:
    """Rows ``i0 .. i0+MR`` of ``C`` (fewer at the bottom edge) += that sliver of ``A`` times the panel."""
    rows = min(MR, a.shape[0] - i0)
    for r in range(MR):  # pack the sliver of A: MR contiguous rows of length kc, zero-padded
        dst = ap[r]
        if r < rows:
            src = a[i0 + r]
            for k in range(kc):
                dst[k] = src[k0 + k]
        else:
            dst[:kc] = 0
    for jj in range(0, nc, NR):
        _micro(ap, bt, jj, kc, tile)
        for r in range(rows):
            cr = c[i0 + r]
            for q in range(min(NR, nc - jj)):
                cr[j0 + jj + q] += tile[r, q]


@njit(cache=True, boundscheck=False, error_model="numpy")
def _k_step(kk: int, kc_max: int) -> int:
    """Depth of the k-blocks: ``kk`` split into equal blocks of at most ``kc_max`` (1537 → 2 × 769 with 1024)."""
    blocks = max(1, (kk + kc_max - 1) // kc_max)  # k = 0: one empty block
    return max(1, (kk + blocks - 1) // blocks)


@njit(cache=True, boundscheck=False, error_model="numpy")
def _packed(a: np.ndarray, b: np.ndarray, c: np.ndarray, kc_max: int, nc_max: int) -> None:
    m, kk = a.shape
    n = b.shape[1]
    kstep = _k_step(kk, kc_max)
    bt = np.empty((nc_max, kstep), a.dtype)
    ap = np.empty((MR, kstep), a.dtype)
    tile = np.empty((MR, NR), a.dtype)
    for j0 in range(0, n, nc_max):
        nc = min(nc_max, n - j0)
        for k0 in range(0, kk, kstep):
            kc = min(kstep, kk - k0)
            _pack_bt(b, k0, kc, j0, nc, bt)
            for i0 in range(0, m, MR):
                _sliver(a, bt, c, ap, tile, i0, k0, kc, j0, nc)


@njit(cache=True, boundscheck=False, error_model="numpy")
def _micro_simd(ap: np.ndarray, bp: np.ndarray, kc: int, tile: np.ndarray) -> None:
    """Rung 5's micro-kernel: ``tile[:, :] = ap[:kc]ᵀ · bp[:kc]`` (see :func:`~hyperion.kernels.cpu.matmul_ir.broadcast_block`)."""
    broadcast_block(ap, bp, kc, tile)


@njit(cache=True, boundscheck=False, error_model="numpy")
def _pack_b_panel(b: np.ndarray, k0: int, kc: int, j0: int, bp: np.ndarray) -> None:
    """``bp[k, :] = b[k0+k, j0 : j0+NR_SIMD]``, zero-padded past the last column."""
    cols = min(bp.shape[1], b.shape[1] - j0)
    for k in range(kc):
        src, dst = b[k0 + k], bp[k]
        for q in range(cols):
            dst[q] = src[j0 + q]
        dst[cols:] = 0


@njit(cache=True, boundscheck=False, error_model="numpy")
def _pack_a_panel(a: np.ndarray, i0: int, k0: int, kc: int, ap: np.ndarray) -> None:
    """``ap[k, r] = a[i0+r, k0+k]``, zero-padded past the last row."""
    rows = min(MR, a.shape[0] - i0)
    for r in range(MR):
        if r < rows:
            src = a[i0 + r]
            for k in range(kc):
                ap[k, r] = src[k0 + k]
        else:
            for k in range(kc):
                ap[k, r] = 0


@njit(cache=True, boundscheck=False, error_model="numpy")
def _simd_panels(
    a: np.ndarray, c: np.ndarray, ap: np.ndarray, bp: np.ndarray, kc: int, p0: int, p1: int, k0: int
) -> None:
    """``C`` += row panels ``p0 .. p1`` of ``A`` times every column panel of ``B`` (one k-block).

    The ``kc × NR_SIMD`` panel of ``B`` is the operand the inner loop re-reads, so it stays in
    L1; the ``kc × MR`` panels of ``A`` stream past it from L2.
    """
    m, n = c.shape
    nr = bp.shape[2]
    tile = np.empty((MR, nr), c.dtype)
    for jp in range(bp.shape[0]):
        j0 = jp * nr
        cols = min(nr, n - j0)
        for ip in range(p0, p1):
            _micro_simd(ap[ip], bp[jp], kc, tile)
            i0 = ip * MR
            for r in range(min(MR, m - i0)):
                cr, tr = c[i0 + r], tile[r]
                for q in range(cols):
                    cr[j0 + q] += tr[q]


@njit(cache=True, boundscheck=False, error_model="numpy")
def _simd(a: np.ndarray, b: np.ndarray, c: np.ndarray, kc_max: int, nr: int) -> None:
    m, kk = a.shape
    n = b.shape[1]
    kstep = _k_step(kk, kc_max)
    mpan, npan = (m + MR - 1) // MR, (n + nr - 1) // nr
    ap = np.empty((mpan, kstep, MR), a.dtype)  # all row panels of one k-block of A
    bp = np.empty((npan, kstep, nr), a.dtype)  # all column panels of one k-block of B
    for k0 in range(0, kk, kstep):
        kc = min(kstep, kk - k0)
        for jp in range(npan):
            _pack_b_panel(b, k0, kc, jp * nr, bp[jp])
        for ip in range(mpan):
            _pack_a_panel(a, ip * MR, k0, kc, ap[ip])
        _simd_panels(a, c, ap, bp, kc, 0, mpan, k0)


@njit(cache=True, parallel=True, boundscheck=False, error_model="numpy")
def _parallel(a: np.ndarray, b: np.ndarray, c: np.ndarray, kc_max: int, nr: int, threads: int) -> None:
    m, kk = a.shape
    n = b.shape[1]
    kstep = _k_step(kk, kc_max)
    mpan, npan = (m + MR - 1) // MR, (n + nr - 1) // nr
    ap = np.empty((mpan, kstep, MR), a.dtype)
    bp = np.empty((npan, kstep, nr), a.dtype)
    parts = max(1, min(mpan, threads))
    for k0 in range(0, kk, kstep):
        kc = min(kstep, kk - k0)
        for jp in prange(npan):  # packing is shared out too
            _pack_b_panel(b, k0, kc, jp * nr, bp[jp])
        for t in prange(parts):  # one band of rows of C per thread: no two threads write one element
            p0, p1 = t * mpan // parts, (t + 1) * mpan // parts
            for ip in range(p0, p1):  # each thread packs the panels of A it uses
                _pack_a_panel(a, ip * MR, k0, kc, ap[ip])
            _simd_panels(a, c, ap, bp, kc, p0, p1, k0)


def simd_sizes(itemsize: int) -> tuple[int, int]:
    """``(KC, NR_SIMD)`` of rungs 5 and 6.

    ``NR_SIMD`` is two 512-bit vectors of elements (32 float32, 16 float64); ``KC`` so that a
    ``KC × NR_SIMD`` panel of ``B`` — the operand the micro-kernel re-reads for every row panel
    of ``A`` — fills the L1 data cache (384 with 48 KiB; a multiple of 64, at least 64).
    """
    nr = NVEC * VECTOR_BYTES // itemsize
    return max(64, cache_sizes().l1d // (nr * itemsize) // 64 * 64), nr


def naive(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rung 1: ``(i, j, k)`` loops, a scalar sum per element of ``C``.

    Raises:
        ShapeError: unless ``a`` is ``(m, k)`` and ``b`` is ``(k, n)``.
        DTypeError: unless both are float32 or both float64.
    """
    a, b = _check(a, b)
    c = np.empty((a.shape[0], b.shape[1]), a.dtype)
    _naive(a, b, c)
    return c


def reordered(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rung 2: ``(i, k, j)`` loops, a contiguous, vectorised inner loop (errors as :func:`naive`)."""
    a, b = _check(a, b)
    c = np.zeros((a.shape[0], b.shape[1]), a.dtype)
    _reordered(a, b, c)
    return c


def tiled(a: np.ndarray, b: np.ndarray, side: int | None = None) -> np.ndarray:
    """Rung 3: ``(i, k, j)`` over square tiles of :func:`tile_side` (errors as :func:`naive`)."""
    a, b = _check(a, b)
    c = np.zeros((a.shape[0], b.shape[1]), a.dtype)
    _tiled(a, b, c, side or tile_side(a.itemsize))
    return c


def packed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rung 4: packed panels and a register-blocked ``8 × 2`` micro-kernel (errors as :func:`naive`)."""
    a, b = _check(a, b)
    c = np.zeros((a.shape[0], b.shape[1]), a.dtype)
    _packed(a, b, c, *panel_sizes(a.itemsize))
    return c


def simd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rung 5: packed panels and a hand-written 512-bit ``8 × 32`` micro-kernel (errors as :func:`naive`)."""
    a, b = _check(a, b)
    c = np.zeros((a.shape[0], b.shape[1]), a.dtype)
    _simd(a, b, c, *simd_sizes(a.itemsize))
    return c


def parallel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rung 6: rung 5 with bands of rows of ``C`` spread over Numba's threads (errors as :func:`naive`)."""
    a, b = _check(a, b)
    c = np.zeros((a.shape[0], b.shape[1]), a.dtype)
    _parallel(a, b, c, *simd_sizes(a.itemsize), get_num_threads())
    return c


LADDER: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "naive": naive,
    "reordered": reordered,
    "tiled": tiled,
    "packed": packed,
    "simd": simd,
    "parallel": parallel,
}
"""The rungs, slowest first: name → ``fn(a, b) -> a @ b``."""
