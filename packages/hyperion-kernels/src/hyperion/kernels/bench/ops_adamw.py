"""Benchmark: one AdamW step — the fused kernel vs the composed NumPy update vs ``torch.optim.AdamW`` (foreach).

Bytes moved: parameter, gradient and both moments read, and parameter and
moments written (``7·n·itemsize``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hyperion.kernels.bench._common import cpu_kernels, three_way
from hyperion.kernels.bench.context import BenchContext

SIZES = [1 << 24]
QUICK_SIZES = [1 << 16]
LR, BETAS, EPS, DECAY = 1e-3, (0.9, 0.999), 1e-8, 0.01


def naive_adamw(p: np.ndarray, g: np.ndarray, m: np.ndarray, v: np.ndarray, step: int) -> None:
    """The composed update of hyperion-nn's reference (in place, one NumPy call per operation)."""
    beta1, beta2 = BETAS
    p *= 1.0 - LR * DECAY
    tmp = g - m
    tmp *= 1.0 - beta1
    m += tmp
    np.multiply(g, 1.0 - beta2, out=tmp)
    tmp *= g
    v *= beta2
    v += tmp
    denom = np.sqrt(v)
    denom /= (1.0 - beta2**step) ** 0.5
    denom += EPS
    np.multiply(m, -LR / (1.0 - beta1**step), out=tmp)
    tmp /= denom
    p += tmp


def _case(ctx: BenchContext, size: Any) -> list[dict[str, Any]]:
    """The rows of one size."""
    kernel = cpu_kernels().get(("nn.adamw_step", "cpu"))
    torch = ctx.torch
    rng = np.random.default_rng(0)
    g = rng.standard_normal(size).astype(np.float32) * 1e-3
    state = {name: (rng.standard_normal(size).astype(np.float32) if name == "p" else np.zeros(size, np.float32))
             for name in ("p", "m", "v", "p2", "m2", "v2")}  # fmt: skip
    torch_step = None
    if torch is not None:
        tp = torch.nn.Parameter(torch.from_numpy(state["p"].copy()))
        tp.grad = torch.from_numpy(g)
        opt = torch.optim.AdamW([tp], lr=LR, betas=BETAS, eps=EPS, weight_decay=DECAY, foreach=True)
        torch_step = opt.step
    return three_way(
        ctx, "adamw", (size,), "float32",
        kernel=(lambda: kernel(state["p"], g, state["m"], state["v"], None, 10, LR, *BETAS, EPS, DECAY, False, False))
        if kernel else None,
        naive=lambda: naive_adamw(state["p2"], g, state["m2"], state["v2"], 10),
        torch=torch_step,
        bytes_moved=7 * g.nbytes,
    )  # fmt: skip


def run(ctx: BenchContext) -> list[dict[str, Any]]:
    """Time an AdamW step over one parameter of each size in float32."""
    return [row for size in (QUICK_SIZES if ctx.quick else SIZES) for row in _case(ctx, size)]
