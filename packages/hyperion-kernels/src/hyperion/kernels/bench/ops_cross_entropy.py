"""Benchmark: cross-entropy forward + backward — fused kernels vs composed NumPy vs PyTorch autograd.

Bytes moved: the logits read by the forward and again by the backward, and the
logit gradient written (``3·N·C·itemsize``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hyperion.kernels.bench._common import cpu_kernels, three_way
from hyperion.kernels.bench.context import BenchContext

SHAPES = [(2048, 8192), (512, 50304)]
QUICK_SHAPES = [(128, 1000)]


def naive_cross_entropy(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Composed: log-softmax, gather, mean; backward softmax minus one-hot, over N."""
    shifted = x - x.max(axis=-1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    rows = np.arange(x.shape[0])
    loss = -logp[rows, t].mean()
    g = np.exp(logp)
    g[rows, t] -= 1.0
    g /= x.shape[0]
    return loss, g


def _case(ctx: BenchContext, shape: Any) -> list[dict[str, Any]]:
    """The rows of one size."""
    table = cpu_kernels()
    fwd, bwd = table.get(("nn.cross_entropy_forward", "cpu")), table.get(("nn.cross_entropy_backward", "cpu"))
    torch = ctx.torch
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    t = rng.integers(0, shape[1], shape[0])
    grow = np.full(shape[0], 1.0 / shape[0])

    def kernel() -> Any:
        loss, lse = fwd(x, t, -100)
        return loss.mean(), bwd(x, t, lse, grow, -100)

    torch_step = None
    if torch is not None:
        tx, tt = torch.from_numpy(x).requires_grad_(True), torch.from_numpy(t)

        def torch_step() -> Any:
            return torch.autograd.grad(torch.nn.functional.cross_entropy(tx, tt), (tx,))

    return three_way(
        ctx, "cross_entropy", shape, "float32",
        kernel=kernel if fwd and bwd else None,
        naive=lambda: naive_cross_entropy(x, t),
        torch=torch_step,
        bytes_moved=3 * x.nbytes,
    )  # fmt: skip


def run(ctx: BenchContext) -> list[dict[str, Any]]:
    """Time mean cross-entropy forward+backward at each shape in float32."""
    return [row for shape in (QUICK_SHAPES if ctx.quick else SHAPES) for row in _case(ctx, shape)]
