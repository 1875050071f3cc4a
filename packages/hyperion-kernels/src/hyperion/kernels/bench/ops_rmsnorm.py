"""Benchmark: RMSNorm forward + backward — fused kernels vs composed NumPy vs PyTorch autograd (bytes as LayerNorm's)."""

from __future__ import annotations

from typing import Any

import numpy as np

from hyperion.kernels.bench._common import cpu_kernels, three_way
from hyperion.kernels.bench.context import BenchContext

SHAPES = [(8192, 1024)]
QUICK_SHAPES = [(256, 512)]
EPS = 1e-6


def naive_rms_norm(x: np.ndarray, w: np.ndarray, gy: np.ndarray) -> tuple[np.ndarray, ...]:
    """Composed forward then backward."""
    rstd = 1.0 / np.sqrt((x * x).mean(axis=-1, keepdims=True) + EPS)
    xhat = x * rstd
    y = xhat * w
    g = gy * w
    gx = rstd * (g - xhat * (g * xhat).mean(axis=-1, keepdims=True))
    return y, gx, (gy * xhat).sum(axis=0)


def _case(ctx: BenchContext, shape: Any) -> list[dict[str, Any]]:
    """The rows of one size."""
    table = cpu_kernels()
    fwd, bwd = table.get(("nn.rms_norm_forward", "cpu")), table.get(("nn.rms_norm_backward", "cpu"))
    torch = ctx.torch
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    gy = rng.standard_normal(shape).astype(np.float32)
    w = rng.standard_normal(shape[1]).astype(np.float32)

    def kernel() -> Any:
        y, rstd = fwd(x, w, EPS)
        return y, bwd(gy, x, rstd, w)

    torch_step = None
    if torch is not None and hasattr(torch.nn.functional, "rms_norm"):
        tx, tw, tgy = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(w).requires_grad_(True), torch.from_numpy(gy)

        def torch_step() -> Any:
            y = torch.nn.functional.rms_norm(tx, (shape[1],), tw, EPS)
            return torch.autograd.grad(y, (tx, tw), tgy)

    return three_way(
        ctx, "rmsnorm", shape, "float32",
        kernel=kernel if fwd and bwd else None,
        naive=lambda: naive_rms_norm(x, w, gy),
        torch=torch_step,
        bytes_moved=5 * x.nbytes,
    )  # fmt: skip


def run(ctx: BenchContext) -> list[dict[str, Any]]:
    """Time RMSNorm forward+backward at each shape in float32."""
    return [row for shape in (QUICK_SHAPES if ctx.quick else SHAPES) for row in _case(ctx, shape)]
