"""Benchmark: im2col — the kernel vs the strided-slice NumPy version vs ``torch.nn.functional.unfold``.

Bytes moved: the input read once and the columns written once.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hyperion.kernels.bench._common import cpu_kernels, three_way
from hyperion.kernels.bench.context import BenchContext

CASES = [((16, 64, 32, 32), 3, 1, 1), ((8, 32, 64, 64), 5, 2, 2)]  # (N, C, H, W), kernel, stride, padding
QUICK_CASES = [((2, 8, 16, 16), 3, 1, 1)]


def naive_im2col(x: np.ndarray, k: int, stride: int, pad: int) -> np.ndarray:
    """Pad, then copy one strided slice per kernel tap (what hyperion-nn's reference does)."""
    n, c, h, w = x.shape
    oh, ow = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    padded = np.zeros((n, c, h + 2 * pad, w + 2 * pad), x.dtype)
    padded[:, :, pad : pad + h, pad : pad + w] = x
    cols = np.empty((n, c, k, k, oh, ow), x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = padded[:, :, i : i + stride * (oh - 1) + 1 : stride, j : j + stride * (ow - 1) + 1 : stride]
    return cols.reshape(n, c * k * k, oh * ow)


def _case(ctx: BenchContext, case: Any) -> list[dict[str, Any]]:
    """The rows of one size."""
    shape, k, stride, pad = case
    kernel = cpu_kernels().get(("nn.im2col", "cpu"))
    torch = ctx.torch
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    cols_bytes = naive_im2col(x, k, stride, pad).nbytes
    tx = torch.from_numpy(x) if torch is not None else None
    return three_way(
        ctx, "im2col", shape, "float32",
        kernel=(lambda: kernel(x, k, k, stride, stride, pad, pad, 1, 1)) if kernel else None,
        naive=lambda: naive_im2col(x, k, stride, pad),
        torch=(lambda: torch.nn.functional.unfold(tx, k, padding=pad, stride=stride)) if tx is not None else None,
        bytes_moved=x.nbytes + cols_bytes,
    )  # fmt: skip


def run(ctx: BenchContext) -> list[dict[str, Any]]:
    """Time im2col for each case in float32."""
    return [row for case in (QUICK_CASES if ctx.quick else CASES) for row in _case(ctx, case)]
