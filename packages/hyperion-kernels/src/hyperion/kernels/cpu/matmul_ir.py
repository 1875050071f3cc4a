"""The micro-kernel of the matmul ladder's rungs 5-6, written out in LLVM IR.

Numba has no vector type, and its LLVM vectorises loops, not straight-line code, so the block
BLAS keeps in registers — ``MR`` rows by two 512-bit vectors of ``C`` — cannot be written in
Numba's Python. :func:`broadcast_block` is a Numba ``intrinsic`` that emits it directly: per
``k``, two vector loads of a packed row of ``B``, then for each row of ``A`` one broadcast and
two ``llvm.fma`` calls into that row's accumulators (``phi`` nodes that stay in registers until
the final store). :mod:`hyperion.kernels.cpu.matmul` packs the panels and calls it.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["MR", "NVEC", "VECTOR_BYTES", "broadcast_block"]

MR = 8
"""Rows of the block of ``C`` that the micro-kernel computes (rows of packed ``A`` it reads)."""

VECTOR_BYTES = 64
"""Width of the hand-written vectors of rungs 5-6: 512 bits, one AVX-512 ``zmm`` register."""

NVEC = 2
"""Vectors per row of rung 5's block of ``C``: ``MR × NVEC = 16`` vector accumulators."""


@intrinsic
def broadcast_block(typingctx, ap, bp, kc, tile):  # noqa: ANN001, ANN202, ARG001
    """``tile = Σ_{k < kc} outer(ap[k, :], bp[k, :])``: an ``MR × NR_SIMD`` block of ``C`` in vector registers.

    Written as LLVM IR because Numba has no vector type. ``ap`` is a ``(kc, MR)`` panel of
    ``A`` and ``bp`` a ``(kc, NR_SIMD)`` panel of ``B``, both contiguous along each ``k``;
    ``W = 64 bytes / itemsize`` lanes (16 float32, 8 float64) and ``NR_SIMD = 2·W``. Per
    ``k``: two vector loads of ``bp[k]``, then for each of the ``MR = 8`` rows one broadcast
    of ``ap[k, r]`` and two ``llvm.fma`` into that row's two accumulators — 16 accumulators
    (``phi`` nodes) that never leave the registers until the final store into ``tile``.
    No horizontal sums: each lane is its own element of ``C``.
    """
    arrays = (ap, bp, tile)
    if not all(isinstance(x, types.Array) and x.ndim == 2 and x.layout == "C" for x in arrays):
        return None
    if ap.dtype not in (types.float32, types.float64) or bp.dtype != ap.dtype or tile.dtype != ap.dtype:
        return None
    sig = types.void(ap, bp, kc, tile)

    def codegen(context, builder, sig, args):  # noqa: ANN001, ANN202
        dtype = sig.args[0].dtype
        lty = context.get_value_type(dtype)
        width = VECTOR_BYTES // (dtype.bitwidth // 8)
        nr = NVEC * width
        vty, vptr = ir.VectorType(lty, width), ir.VectorType(lty, width).as_pointer()
        i64, i32 = ir.IntType(64), ir.IntType(32)
        align = dtype.bitwidth // 8

        def data(index):  # noqa: ANN001, ANN202
            array = context.make_array(sig.args[index])(context, builder, args[index])
            return builder.bitcast(array.data, lty.as_pointer())

        a_ptr, b_ptr, t_ptr = data(0), data(1), data(3)
        fty = ir.FunctionType(vty, [vty, vty, vty])
        fma = cgutils.get_or_insert_function(builder.module, fty, f"llvm.fma.v{width}f{dtype.bitwidth}")
        zero = ir.Constant(vty, [ir.Constant(lty, 0.0)] * width)
        splat = ir.Constant(ir.VectorType(i32, width), [0] * width)
        pre = builder.block
        head, body, done = (builder.append_basic_block(f"bcast.{name}") for name in ("head", "body", "done"))
        builder.branch(head)
        builder.position_at_end(head)
        k = builder.phi(i64)
        k.add_incoming(ir.Constant(i64, 0), pre)
        accs = []
        for _ in range(MR * NVEC):
            acc = builder.phi(vty)
            acc.add_incoming(zero, pre)
            accs.append(acc)
        builder.cbranch(builder.icmp_signed("<", k, args[2]), body, done)
        builder.position_at_end(body)
        b_row = builder.gep(b_ptr, [builder.mul(k, ir.Constant(i64, nr))])
        bs = [builder.load(builder.bitcast(builder.gep(b_row, [ir.Constant(i64, v * width)]), vptr), align=align)
              for v in range(NVEC)]  # fmt: skip
        a_row = builder.gep(a_ptr, [builder.mul(k, ir.Constant(i64, MR))])
        new = []
        for r in range(MR):
            x = builder.load(builder.gep(a_row, [ir.Constant(i64, r)]))
            xs = builder.insert_element(ir.Constant(vty, ir.Undefined), x, ir.Constant(i32, 0))
            xs = builder.shuffle_vector(xs, ir.Constant(vty, ir.Undefined), splat)  # broadcast
            new += [builder.call(fma, [xs, bs[v], accs[r * NVEC + v]]) for v in range(NVEC)]
        end = builder.block
        k.add_incoming(builder.add(k, ir.Constant(i64, 1)), end)
        for acc, value in zip(accs, new, strict=True):
            acc.add_incoming(value, end)
        builder.branch(head)
        builder.position_at_end(done)
        for r in range(MR):
            for v in range(NVEC):
                target = builder.gep(t_ptr, [ir.Constant(i64, r * nr + v * width)])
                builder.store(accs[r * NVEC + v], builder.bitcast(target, vptr), align=align)
        return context.get_dummy_value()

    return sig, codegen
