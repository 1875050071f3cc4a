"""Benchmark: GELU forward — fused kernel vs composed NumPy vs ``torch.nn.functional.gelu``.

Two ops: ``gelu`` is the tanh form against its composed NumPy formula; ``gelu_exact`` is the
exact (erf) form, composed from NumPy and SciPy's ``erf`` ufunc (NumPy has none; SciPy comes
with the ``cpu`` extra), timed only where SciPy is installed. Bytes moved: one read, one write.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hyperion.kernels.bench._common import cpu_kernels, three_way
from hyperion.kernels.bench.context import BenchContext

SIZES = [1 << 24]
QUICK_SIZES = [1 << 16]


def naive_gelu_tanh(x: np.ndarray) -> np.ndarray:
    """The composed tanh form, one NumPy pass per operator."""
    return x * 0.5 * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


def composed_gelu_exact() -> Any:
    """``x/2 · (1 + erf(x/√2))`` composed from NumPy and SciPy's ``erf`` (None without SciPy)."""
    try:
        from scipy.special import erf
    except ImportError:
        return None
    return lambda x: x * 0.5 * (1.0 + erf(x * (1.0 / math.sqrt(2.0))))


def _case(ctx: BenchContext, size: Any) -> list[dict[str, Any]]:
    """The rows of one size: the tanh form, then the exact form."""
    kernel = cpu_kernels().get(("nn.gelu_forward", "cpu"))
    x = np.random.default_rng(0).standard_normal(size).astype(np.float32)
    tx = ctx.torch.from_numpy(x) if ctx.torch is not None else None
    rows = three_way(
        ctx, "gelu", (size,), "float32",
        kernel=(lambda: kernel(x, "tanh")) if kernel else None,
        naive=lambda: naive_gelu_tanh(x),
        torch=(lambda: ctx.torch.nn.functional.gelu(tx, approximate="tanh")) if tx is not None else None,
        bytes_moved=2 * x.nbytes,
    )  # fmt: skip
    if (composed := composed_gelu_exact()) is not None:
        rows += three_way(
            ctx, "gelu_exact", (size,), "float32",
            kernel=(lambda: kernel(x, "none")) if kernel else None,
            naive=lambda: composed(x),
            torch=(lambda: ctx.torch.nn.functional.gelu(tx)) if tx is not None else None,
            bytes_moved=2 * x.nbytes,
        )  # fmt: skip
    return rows


def run(ctx: BenchContext) -> list[dict[str, Any]]:
    """Time GELU forward (tanh, then exact) at each size in float32."""
    return [row for size in (QUICK_SIZES if ctx.quick else SIZES) for row in _case(ctx, size)]
