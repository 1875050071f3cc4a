"""The CUDA benchmark module: no rows (and no error) without a GPU."""

from __future__ import annotations

import pytest

from hyperion.kernels.bench import ops_cuda
from hyperion.kernels.bench.context import BenchContext
from hyperion.kernels.cuda import find_unavailable_reason


def test_returns_no_rows_without_a_gpu() -> None:
    reason = find_unavailable_reason()
    if reason is None:
        pytest.skip("a GPU is present: the benchmark would run for real")
    messages: list[str] = []
    ctx = BenchContext(quick=True, machine={"copy_gbps": 1.0, "blas_gflops": 1.0}, progress=messages.append)
    assert ops_cuda.run(ctx) == []
    assert messages == [f"cuda: skipped ({reason})"]


@pytest.mark.gpu
def test_quick_run_fills_every_row() -> None:
    if find_unavailable_reason() is not None:
        pytest.skip(f"no GPU run: {find_unavailable_reason()}")
    ctx = BenchContext(quick=True, machine={"copy_gbps": 1.0, "blas_gflops": 1.0}, repeats=3)
    rows = ops_cuda.run(ctx)
    assert {row["op"] for row in rows} == {"cuda_softmax", "cuda_layernorm", "cuda_matmul", "cuda_attention"}
    assert all(row["seconds"] > 0 for row in rows)
