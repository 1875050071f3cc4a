"""Benchmark: attention, one head — the flash kernel vs naive NumPy vs PyTorch's SDPA.

Per size, three contenders timed interleaved (forward only, float32, no mask): the cpu
provider's ``nn.attention_forward`` (tiled, online softmax), the composed NumPy version
(``softmax(q kᵀ·s) v`` with the ``N × N`` score matrix in memory) and
``torch.nn.functional.scaled_dot_product_attention``. FLOPs: ``4 N² d`` (two matmuls).

Each kernel row also carries the *peak extra memory* of one call, measured with
``tracemalloc`` (NumPy reports its allocations to it, and arrays allocated inside Numba
functions show up too — an 80 MB ``np.ones`` in an ``@njit`` function reads 80 MB), the
inputs and the output excluded:
``peak_extra_bytes`` and, on the flash row, ``memory_fraction_of_naive`` (the issue asks
for at most 0.05 at N = 4096) and ``max_abs_error_vs_naive``.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np

from hyperion.kernels.bench._common import cpu_kernels, three_way
from hyperion.kernels.bench.context import BenchContext

SIZES = [(1024, 64), (4096, 64)]
QUICK_SIZES = [(512, 64)]


def naive_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, scale: float) -> np.ndarray:
    """The composed version: the full score matrix, a row softmax, a second matmul."""
    s = (q @ k.transpose(0, 2, 1)) * q.dtype.type(scale)
    s = np.exp(s - s.max(axis=-1, keepdims=True))
    s /= s.sum(axis=-1, keepdims=True)
    return s @ v


def peak_extra_bytes(fn: Callable[[], Any]) -> int:
    """Peak bytes allocated during one call of ``fn`` beyond what it returns (tracemalloc)."""
    fn()  # compiled and warm outside the measurement
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    kept = sum(a.nbytes for a in (result if isinstance(result, tuple) else (result,)) if isinstance(a, np.ndarray))
    return max(0, peak - kept)


def _case(ctx: BenchContext, n: int, d: int) -> list[dict[str, Any]]:
    forward = cpu_kernels().get(("nn.attention_forward", "cpu"))
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal((1, n, d), dtype=np.float32) for _ in range(3))
    scale = 1.0 / np.sqrt(d)
    kernel = (lambda: forward(q, k, v, None, False, scale)) if forward else None
    tq, tk, tv = (ctx.torch.from_numpy(a) for a in (q, k, v)) if ctx.torch is not None else (None, None, None)
    sdpa = (lambda: ctx.torch.nn.functional.scaled_dot_product_attention(tq, tk, tv)) if tq is not None else None
    rows = three_way(
        ctx, "attention", (1, n, d), "float32",
        kernel=kernel, naive=lambda: naive_attention(q, k, v, scale), torch=sdpa, flops=4.0 * n * n * d,
    )  # fmt: skip
    naive_bytes = peak_extra_bytes(lambda: naive_attention(q, k, v, scale))
    for row in rows:
        if row["impl"] == "naive":
            row["peak_extra_bytes"] = naive_bytes
        elif row["impl"] == "cpu" and kernel is not None:
            row["peak_extra_bytes"] = peak_extra_bytes(kernel)
            row["memory_fraction_of_naive"] = row["peak_extra_bytes"] / naive_bytes
            row["max_abs_error_vs_naive"] = float(np.abs(kernel()[0] - naive_attention(q, k, v, scale)).max())
    return rows


def run(ctx: BenchContext) -> list[dict[str, Any]]:
    """Time attention forward at each size (float32, one head, no mask)."""
    return [row for n, d in (QUICK_SIZES if ctx.quick else SIZES) for row in _case(ctx, n, d)]
