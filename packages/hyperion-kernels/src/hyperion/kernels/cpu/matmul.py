"""A matmul ladder for teaching: five Numba versions of ``C = A @ B``, each one idea faster.

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
4. ``packed`` — copy a ``KC × NC`` panel of ``B`` into a contiguous buffer (sized to half of
   L2), and eight rows of ``A`` into a ``KC × 8`` buffer; the micro-kernel updates an
   ``8 × NR`` block of ``C`` (sized to L1) with all eight rows at once, so each element of
   ``B`` loaded into a vector register feeds eight fused multiply-adds instead of one.
5. ``parallel`` — rung 4 with the row blocks of ``C`` shared among threads (``prange``);
   ``B``'s panel is packed once and read by all of them.

Every rung is compiled with ``fastmath={"contract"}``: multiply-adds may fuse into FMA
instructions (as in BLAS), but sums are never reordered, so every rung adds the ``k``
products of an element in the same order.

Examples:
    >>> import numpy as np
    >>> a = np.arange(6.0).reshape(2, 3); b = np.ones((3, 2))
    >>> [fn(a, b).tolist() == (a @ b).tolist() for fn in LADDER.values()]
    [True, True, True, True, True]
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from hyperion.kernels.cpu.cache_info import cache_sizes
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
    "tile_side",
    "tiled",
]

KERNELS: dict[tuple[str, str], Callable[..., object]] = {}
"""No registry kernels: NumPy's BLAS stays the ``matmul`` everyone uses."""

MR = 4
"""Rows of the block of ``C`` that the micro-kernel computes (rows of packed ``A`` it reads)."""

NR = 4
"""Columns of that block (rows of packed ``Bᵀ``): ``MR × NR = 16`` accumulators in registers."""

VECTOR_BYTES = 64
"""Width of the hand-written vectors of rung 5: 512 bits, one AVX-512 ``zmm`` register."""

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
    """``(KC, NC)`` of rungs 4 and 5: the depth of a k-block and the width of a ``B`` panel.

    ``KC`` so that the micro-kernel's working set — ``MR`` rows of packed ``A`` and ``NR`` rows
    of packed ``Bᵀ``, each ``KC`` long — fills half of L1 (768 for float32 with a 48 KiB L1d;
    a longer ``k`` is cut into equal blocks of at most ``KC``); ``NC`` columns so that the
    packed ``NC × KC`` panel of ``Bᵀ`` fills half of L2. Both are multiples of 64.
    """
    sizes = cache_sizes()
    kc = max(64, min(1024, sizes.l1d // 2 // ((MR + NR) * itemsize) // 64 * 64))
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
    """``tile[r, q] = Σ_k ap[r, k] · bt[jj+q, k]``: a 4 × 4 block of ``C`` as 16 dot products.

    The 16 sums are scalar locals, so they live in registers; the loop over ``k`` reads four
    contiguous rows of packed ``A`` and four of packed ``Bᵀ``. With ``reassoc`` LLVM's loop
    vectoriser splits each sum into one partial sum per vector lane: every accumulator becomes
    a vector register, and each pass of the loop does 8 vector loads and 16 vector FMAs
    (``vfmadd231ps`` on ``ymm`` registers for float32), the lanes being added at the end.
    """
    a0, a1, a2, a3 = ap[0], ap[1], ap[2], ap[3]
    b0, b1, b2, b3 = bt[jj], bt[jj + 1], bt[jj + 2], bt[jj + 3]
    c00 = c01 = c02 = c03 = c10 = c11 = c12 = c13 = tile.dtype.type(0)
    c20 = c21 = c22 = c23 = c30 = c31 = c32 = c33 = tile.dtype.type(0)
    for k in range(kc):
        x0, x1, x2, x3 = a0[k], a1[k], a2[k], a3[k]
        y0, y1, y2, y3 = b0[k], b1[k], b2[k], b3[k]
        c00 += x0 * y0
        c01 += x0 * y1
        c02 += x0 * y2
        c03 += x0 * y3
        c10 += x1 * y0
        c11 += x1 * y1
        c12 += x1 * y2
        c13 += x1 * y3
        c20 += x2 * y0
        c21 += x2 * y1
        c22 += x2 * y2
        c23 += x2 * y3
        c30 += x3 * y0
        c31 += x3 * y1
        c32 += x3 * y2
        c33 += x3 * y3
    tile[0, 0], tile[0, 1], tile[0, 2], tile[0, 3] = c00, c01, c02, c03
    tile[1, 0], tile[1, 1], tile[1, 2], tile[1, 3] = c10, c11, c12, c13
    tile[2, 0], tile[2, 1], tile[2, 2], tile[2, 3] = c20, c21, c22, c23
    tile[3, 0], tile[3, 1], tile[3, 2], tile[3, 3] = c30, c31, c32, c33


@intrinsic
def _dot_block(typingctx, ap, bt, jj, kc, tile):  # noqa: ANN001, ANN202, ARG001
    """``tile[r, q] = Σ_{k < kc - kc % W} ap[r, k] · bt[jj+q, k]`` with explicit ``<W x T>`` vectors.

    ``W = 64 bytes / itemsize`` (16 float32, 8 float64): one 512-bit register per accumulator.
    Written as LLVM IR because Numba has no vector type: a loop over ``k`` in steps of ``W``
    with 16 vector accumulators (``phi``), 8 unaligned vector loads and 16 ``llvm.fma`` calls
    per step, then a pairwise sum of each accumulator's lanes into ``tile``. ``ap``, ``bt`` and
    ``tile`` must be C-contiguous 2-D arrays of one float dtype (the packed buffers are).
    """
    arrays = (ap, bt, tile)
    if not all(isinstance(x, types.Array) and x.ndim == 2 and x.layout == "C" for x in arrays):
        return None
    if ap.dtype not in (types.float32, types.float64) or bt.dtype != ap.dtype or tile.dtype != ap.dtype:
        return None
    sig = types.void(ap, bt, jj, kc, tile)

    def codegen(context, builder, sig, args):  # noqa: ANN001, ANN202
        dtype = sig.args[0].dtype
        lty = context.get_value_type(dtype)
        width = VECTOR_BYTES // (dtype.bitwidth // 8)
        vty = ir.VectorType(lty, width)
        a_arr = context.make_array(sig.args[0])(context, builder, args[0])
        b_arr = context.make_array(sig.args[1])(context, builder, args[1])
        t_arr = context.make_array(sig.args[4])(context, builder, args[4])
        jj_v, kc_v = args[2], args[3]
        i64 = ir.IntType(64)
        a_stride = builder.extract_value(a_arr.strides, 0)
        b_stride = builder.extract_value(b_arr.strides, 0)
        i8p = ir.IntType(8).as_pointer()

        def row(arr, stride, idx):  # noqa: ANN001, ANN202
            base = builder.bitcast(arr.data, i8p)
            p = builder.gep(base, [builder.mul(stride, idx)])
            return builder.bitcast(p, lty.as_pointer())

        arows = [row(a_arr, a_stride, ir.Constant(i64, r)) for r in range(MR)]
        brows = [row(b_arr, b_stride, builder.add(jj_v, ir.Constant(i64, q))) for q in range(NR)]
        nvec = builder.sdiv(kc_v, ir.Constant(i64, width))
        zero = ir.Constant(vty, [ir.Constant(lty, 0.0)] * width)
        pre = builder.block
        loop = builder.append_basic_block("dot.loop")
        body = builder.append_basic_block("dot.body")
        done = builder.append_basic_block("dot.done")
        builder.branch(loop)
        builder.position_at_end(loop)
        kv = builder.phi(i64)
        kv.add_incoming(ir.Constant(i64, 0), pre)
        accs = []
        for _ in range(MR * NR):
            acc = builder.phi(vty)
            acc.add_incoming(zero, pre)
            accs.append(acc)
        builder.cbranch(builder.icmp_signed("<", kv, nvec), body, done)
        builder.position_at_end(body)
        off = builder.mul(kv, ir.Constant(i64, width))

        def vload(ptr):  # noqa: ANN001, ANN202
            vp = builder.bitcast(builder.gep(ptr, [off]), vty.as_pointer())
            return builder.load(vp, align=dtype.bitwidth // 8)

        xs = [vload(p) for p in arows]
        ys = [vload(p) for p in brows]
        suffix = f"v{width}f{dtype.bitwidth}"
        fma = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(vty, [vty, vty, vty]), f"llvm.fma.{suffix}"
        )
        new = [builder.call(fma, [xs[r], ys[q], accs[r * NR + q]]) for r in range(MR) for q in range(NR)]
        nxt = builder.add(kv, ir.Constant(i64, 1))
        bodyend = builder.block
        builder.branch(loop)
        kv.add_incoming(nxt, bodyend)
        for acc, v in zip(accs, new, strict=True):
            acc.add_incoming(v, bodyend)
        builder.position_at_end(done)
        t_stride0 = builder.extract_value(t_arr.strides, 0)
        for r in range(MR):
            trow = row(t_arr, t_stride0, ir.Constant(i64, r))
            for q in range(NR):
                acc = accs[r * NR + q]
                # pairwise lane sum: halve the vector until one lane is left
                w = width
                v = acc
                while w > 1:
                    h = w // 2
                    lo = builder.shuffle_vector(v, v, ir.Constant(ir.VectorType(ir.IntType(32), h), list(range(h))))
                    hi = builder.shuffle_vector(v, v, ir.Constant(ir.VectorType(ir.IntType(32), h), list(range(h, w))))
                    v = builder.fadd(lo, hi)
                    w = h
                builder.store(
                    builder.extract_element(v, ir.Constant(ir.IntType(32), 0)), builder.gep(trow, [ir.Constant(i64, q)])
                )
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=True, boundscheck=False, error_model="numpy")
def _micro_simd(ap: np.ndarray, bt: np.ndarray, jj: int, kc: int, tile: np.ndarray) -> None:
    """:func:`_micro` with 512-bit vectors written out: the vector part, then the last ``kc % W``."""
    _dot_block(ap, bt, jj, kc, tile)
    width = VECTOR_BYTES // ap.itemsize
    for k in range(kc - kc % width, kc):
        for r in range(MR):
            x = ap[r, k]
            for q in range(NR):
                tile[r, q] += x * bt[jj + q, k]


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
    simd: bool,
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
        if simd:
            _micro_simd(ap, bt, jj, kc, tile)
        else:
            _micro(ap, bt, jj, kc, tile)
        for r in range(rows):
            cr = c[i0 + r]
            for q in range(min(NR, nc - jj)):
                cr[j0 + jj + q] += tile[r, q]


@njit(cache=True, boundscheck=False, error_model="numpy")
def _k_step(kk: int, kc_max: int) -> int:
    """Depth of the k-blocks: ``kk`` split into equal blocks of at most ``kc_max`` (1024 → 2 × 512)."""
    blocks = (kk + kc_max - 1) // kc_max
    return (kk + blocks - 1) // blocks


@njit(cache=True, boundscheck=False, error_model="numpy")
def _packed(a: np.ndarray, b: np.ndarray, c: np.ndarray, kc_max: int, nc_max: int, simd: bool) -> None:
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
                _sliver(a, bt, c, ap, tile, i0, k0, kc, j0, nc, simd)


@njit(cache=True, parallel=True, boundscheck=False, error_model="numpy")
def _parallel(a: np.ndarray, b: np.ndarray, c: np.ndarray, kc_max: int, nc_max: int) -> None:
    m, kk = a.shape
    n = b.shape[1]
    kstep = _k_step(kk, kc_max)
    bt = np.empty((nc_max, kstep), a.dtype)
    slivers = (m + MR - 1) // MR
    for j0 in range(0, n, nc_max):
        nc = min(nc_max, n - j0)
        for k0 in range(0, kk, kstep):
            kc = min(kstep, kk - k0)
            _pack_bt(b, k0, kc, j0, nc, bt)
            for s in prange(slivers):  # slivers of C are disjoint rows: no two threads write one element
                ap = np.empty((MR, kstep), a.dtype)
                tile = np.empty((MR, NR), a.dtype)
                _sliver(a, bt, c, ap, tile, s * MR, k0, kc, j0, nc, True)


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
    """Rung 4: packed panels and a register-blocked ``4 × 4`` micro-kernel (errors as :func:`naive`)."""
    a, b = _check(a, b)
    c = np.zeros((a.shape[0], b.shape[1]), a.dtype)
    _packed(a, b, c, *panel_sizes(a.itemsize), False)
    return c


def simd(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rung 5: rung 4 with the micro-kernel's vectors written out, 512 bits wide (errors as :func:`naive`)."""
    a, b = _check(a, b)
    c = np.zeros((a.shape[0], b.shape[1]), a.dtype)
    _packed(a, b, c, *panel_sizes(a.itemsize), True)
    return c


def parallel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rung 5: rung 4 with row blocks of ``C`` spread over Numba's threads (errors as :func:`naive`)."""
    a, b = _check(a, b)
    c = np.zeros((a.shape[0], b.shape[1]), a.dtype)
    _parallel(a, b, c, *panel_sizes(a.itemsize))
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
