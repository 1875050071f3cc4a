"""Helpers shared by the op benchmarks: the CPU kernels, and timing kernel vs naive vs PyTorch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hyperion.kernels.bench.context import BenchContext

__all__ = ["cpu_kernels", "three_way"]


def cpu_kernels() -> dict[tuple[str, str], Callable[..., Any]]:
    """The cpu provider's kernels (empty without Numba)."""
    from hyperion.kernels.cpu import provider

    return dict(provider.kernels())


def three_way(
    ctx: BenchContext,
    op: str,
    shape: Sequence[int],
    dtype: str,
    *,
    kernel: Callable[[], Any] | None,
    naive: Callable[[], Any],
    torch: Callable[[], Any] | None = None,
    bytes_moved: float | None = None,
    flops: float | None = None,
) -> list[dict[str, Any]]:
    """Time the kernel, the composed NumPy version and PyTorch interleaved; one result row each.

    The kernel's row carries ``speedup_vs_naive`` and ``ratio_vs_torch``; PyTorch's
    row carries its own ``speedup_vs_naive``.
    """
    fns = {"naive": naive}
    if kernel is not None:
        fns["cpu"] = kernel
    if torch is not None and ctx.torch is not None:
        fns["torch"] = torch
    ctx.progress(f"{op} {tuple(shape)} {dtype}: {', '.join(fns)}")
    times = ctx.compare(fns)
    naive_s, torch_s = times["naive"], times.get("torch")
    rows = []
    for impl, seconds in times.items():
        rows.append(
            ctx.result(
                op=op, impl=impl, shape=shape, dtype=dtype, seconds=seconds, bytes_moved=bytes_moved, flops=flops,
                naive_seconds=None if impl == "naive" else naive_s,
                torch_seconds=torch_s if impl == "cpu" else None,
            )  # fmt: skip
        )
    return rows
