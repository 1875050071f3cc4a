"""Benchmark: the CUDA kernels on a GPU, against composed CuPy code and cuBLAS.

Runs only where the ``cuda`` provider can (CuPy, numba-cuda, a device);
elsewhere it returns no rows. Rows (op names prefixed ``cuda_``):

* ``cuda_softmax``, ``cuda_layernorm`` (forward), memory-bound: ``gbps`` from
  one read and one write of the array; ``roofline_fraction`` against the
  *device's* copy bandwidth, measured here with a device-to-device copy (the
  machine roofline of the report is the CPU's and does not apply);
  ``speedup_vs_naive`` against the composed CuPy expression;
* ``cuda_matmul`` (tiled kernel), compute-bound: ``roofline_fraction`` is the
  fraction of cuBLAS's GFLOP/s (``cupy.matmul``) on the same operands;
* ``cuda_attention`` (forward, causal): vs the composed CuPy version that
  materialises the ``L x S`` scores.

Every timed call ends with a device synchronisation, so the time is the
kernel's, not the launch's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hyperion.kernels.bench.context import BenchContext
from hyperion.kernels.cuda import find_unavailable_reason

ROW_SHAPES = [(4096, 4096), (16384, 1024)]
MATMUL_SIZES = [1024, 2048]
ATTENTION_SHAPES = [(8, 1024, 64), (1, 4096, 64)]  # (batch x heads, length, head dim)
QUICK = {"rows": [(1024, 1024)], "matmul": [512], "attention": [(4, 256, 64)]}


def _synced(cupy: Any, fn: Callable[[], Any]) -> Callable[[], Any]:
    def call() -> Any:
        out = fn()
        cupy.cuda.Device().synchronize()
        return out

    return call


def _memory_rows(ctx: BenchContext, cupy: Any, copy_gbps: float, shape: tuple[int, int]) -> list[dict[str, Any]]:
    from hyperion.kernels.cuda.layernorm import layer_norm_forward
    from hyperion.kernels.cuda.softmax import softmax_forward

    x = cupy.random.standard_normal(shape, dtype=cupy.float32)

    def naive_softmax() -> Any:
        e = cupy.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def naive_layernorm() -> Any:
        mean = x.mean(axis=1, keepdims=True)
        return (x - mean) / cupy.sqrt(((x - mean) ** 2).mean(axis=1, keepdims=True) + 1e-5)

    rows = []
    for op, kernel, naive in (
        ("cuda_softmax", lambda: softmax_forward(x), naive_softmax),
        ("cuda_layernorm", lambda: layer_norm_forward(x, None, None, 1e-5), naive_layernorm),
    ):
        t = ctx.compare({"kernel": _synced(cupy, kernel), "naive": _synced(cupy, naive)})
        row = ctx.result(
            op=op, impl="numba.cuda", shape=shape, dtype="float32", seconds=t["kernel"],
            bytes_moved=2 * x.nbytes, naive_seconds=t["naive"],
        )  # fmt: skip
        row["roofline_fraction"] = row["gbps"] / copy_gbps
        rows.append(row)
    return rows


def _matmul_row(ctx: BenchContext, cupy: Any, n: int) -> dict[str, Any]:
    from hyperion.kernels.cuda.matmul import matmul

    a = cupy.random.standard_normal((n, n), dtype=cupy.float32)
    b = cupy.random.standard_normal((n, n), dtype=cupy.float32)
    t = ctx.compare({"kernel": _synced(cupy, lambda: matmul(a, b)), "cublas": _synced(cupy, lambda: a @ b)})
    row = ctx.result(op="cuda_matmul", impl="numba.cuda tiled", shape=(n, n, n), dtype="float32",
                     seconds=t["kernel"], flops=2.0 * n**3)  # fmt: skip
    row["roofline_fraction"] = t["cublas"] / t["kernel"]
    return row


def _attention_row(ctx: BenchContext, cupy: Any, shape: tuple[int, int, int]) -> dict[str, Any]:
    from hyperion.kernels.cuda.attention import attention_forward

    batch, length, dim = shape
    q, k, v = (cupy.random.standard_normal(shape, dtype=cupy.float32) for _ in range(3))
    scale = dim**-0.5
    causal = cupy.tril(cupy.ones((length, length), dtype=bool))

    def naive() -> Any:
        s = cupy.where(causal, q @ k.transpose(0, 2, 1) * scale, -cupy.inf)
        p = cupy.exp(s - s.max(axis=-1, keepdims=True))
        return (p / p.sum(axis=-1, keepdims=True)) @ v

    t = ctx.compare(
        {"kernel": _synced(cupy, lambda: attention_forward(q, k, v, None, True, scale)), "naive": _synced(cupy, naive)}
    )
    row = ctx.result(
        op="cuda_attention", impl="numba.cuda flash", shape=shape, dtype="float32", seconds=t["kernel"],
        flops=2.0 * batch * length * length * dim, naive_seconds=t["naive"],  # causal: half of 4·B·L²·d
    )  # fmt: skip
    row["roofline_fraction"] = None  # the report's BLAS roofline is the CPU's
    return row


def run(ctx: BenchContext) -> list[dict[str, Any]]:
    """Time the CUDA kernels; no rows without a usable GPU."""
    reason = find_unavailable_reason()
    if reason is not None:
        ctx.progress(f"cuda: skipped ({reason})")
        return []
    import cupy

    big = cupy.empty(64 * 2**20, dtype=cupy.float32)
    dst = cupy.empty_like(big)
    copy_seconds = ctx.time(_synced(cupy, lambda: cupy.copyto(dst, big)))
    copy_gbps = 2 * big.nbytes / copy_seconds / 1e9
    ctx.progress(f"cuda: device copy bandwidth {copy_gbps:.0f} GB/s")
    shapes = QUICK if ctx.quick else {"rows": ROW_SHAPES, "matmul": MATMUL_SIZES, "attention": ATTENTION_SHAPES}
    results = [row for shape in shapes["rows"] for row in _memory_rows(ctx, cupy, copy_gbps, shape)]
    results += [_matmul_row(ctx, cupy, n) for n in shapes["matmul"]]
    results += [_attention_row(ctx, cupy, shape) for shape in shapes["attention"]]
    return results
