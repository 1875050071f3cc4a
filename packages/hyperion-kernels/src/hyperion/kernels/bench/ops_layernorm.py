"""Benchmark: LayerNorm forward + backward — fused kernels vs composed NumPy vs PyTorch autograd.

Bytes moved per forward+backward: forward reads ``x`` and writes ``y``; backward
reads ``gy`` and ``x`` and writes ``gx`` (``5·rows·n·itemsize``; the per-row
statistics and the ``n``-sized parameters are negligible).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hyperion.kernels.bench._common import cpu_kernels, three_way
from hyperion.kernels.bench.context import BenchContext

SHAPES = [(8192, 1024), (2048, 4096)]
QUICK_SHAPES = [(256, 512)]
EPS = 1e-5


def naive_layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, gy: np.ndarray) -> tuple[np.ndarray, ...]:
    """Composed forward then backward (the formulas of hyperion-nn's reference, on arrays)."""
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    rstd = 1.0 / np.sqrt((centered * centered).mean(axis=-1, keepdims=True) + EPS)
    xhat = centered * rstd
    y = xhat * w + b
    g = gy * w
    gx = rstd * (g - g.mean(axis=-1, keepdims=True) - xhat * (g * xhat).mean(axis=-1, keepdims=True))
    return y, gx, (gy * xhat).sum(axis=0), gy.sum(axis=0)


def _case(ctx: BenchContext, shape: Any) -> list[dict[str, Any]]:
    """The rows of one size."""
    table = cpu_kernels()
    fwd, bwd = table.get(("nn.layer_norm_forward", "cpu")), table.get(("nn.layer_norm_backward", "cpu"))
    torch = ctx.torch
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    gy = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal(shape[1]).astype(np.float32)
    b = rng.standard_normal(shape[1]).astype(np.float32)

    def kernel() -> Any:
        y, mean, rstd = fwd(x, w, b, EPS)
        return y, bwd(gy, x, mean, rstd, w)

    torch_step = None
    if torch is not None:
        tx = torch.from_numpy(x).requires_grad_(True)
        tw, tb, tgy = torch.from_numpy(w).requires_grad_(True), torch.from_numpy(b).requires_grad_(True), torch.from_numpy(gy)

        def torch_step() -> Any:
            y = torch.nn.functional.layer_norm(tx, (shape[1],), tw, tb, EPS)
            return torch.autograd.grad(y, (tx, tw, tb), tgy)

    return three_way(
        ctx, "layernorm", shape, "float32",
        kernel=kernel if fwd and bwd else None,
        naive=lambda: naive_layer_norm(x, w, b, gy),
        torch=torch_step,
        bytes_moved=5 * x.nbytes,
    )  # fmt: skip


def run(ctx: BenchContext) -> list[dict[str, Any]]:
    """Time LayerNorm forward+backward at each shape in float32."""
    return [row for shape in (QUICK_SHAPES if ctx.quick else SHAPES) for row in _case(ctx, shape)]
