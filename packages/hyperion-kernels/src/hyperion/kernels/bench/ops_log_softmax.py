"""Benchmark: row log-softmax — fused kernel vs composed NumPy vs ``torch.log_softmax`` (bytes: one read, one write)."""

from __future__ import annotations

from typing import Any

import numpy as np

from hyperion.kernels.bench._common import cpu_kernels, three_way
from hyperion.kernels.bench.context import BenchContext

SHAPES = [(4096, 4096), (1024, 32768)]
QUICK_SHAPES = [(256, 1024)]


def naive_log_softmax(x: np.ndarray) -> np.ndarray:
    """The composed version: max, subtract, exp, sum, log, subtract."""
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _case(ctx: BenchContext, shape: Any) -> list[dict[str, Any]]:
    """The rows of one size."""
    kernel = cpu_kernels().get(("nn.log_softmax_forward", "cpu"))
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    tx = ctx.torch.from_numpy(x) if ctx.torch is not None else None
    return three_way(
        ctx, "log_softmax", shape, "float32",
        kernel=(lambda: kernel(x)) if kernel else None,
        naive=lambda: naive_log_softmax(x),
        torch=(lambda: ctx.torch.log_softmax(tx, -1)) if tx is not None else None,
        bytes_moved=2 * x.nbytes,
    )  # fmt: skip


def run(ctx: BenchContext) -> list[dict[str, Any]]:
    """Time log-softmax at each shape in float32."""
    return [row for shape in (QUICK_SHAPES if ctx.quick else SHAPES) for row in _case(ctx, shape)]
