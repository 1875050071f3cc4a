"""The machine's roofline, measured first: copy bandwidth (STREAM-like) and BLAS throughput.

* **copy GB/s**: ``b[:] = a`` over arrays far larger than the caches, counted as
  ``2·nbytes`` (one read, one write — STREAM's convention, no write-allocate
  traffic counted). Two copies are timed, NumPy's ``copyto`` and a Numba
  ``prange`` loop using the same threads as the kernels, and the faster one is
  the roof: a memory-bound kernel can at best move data that fast.
* **BLAS GFLOP/s**: ``a @ b`` for square float32 matrices through NumPy's BLAS,
  ``2·n³`` flops per product.
"""

from __future__ import annotations

import os
import platform
from typing import Any

import numpy as np

from hyperion.kernels.bench.context import BenchContext

__all__ = ["describe_machine", "measure_roofline"]


def _numba_copy() -> Any:
    """The parallel copy loop, or ``None`` without Numba."""
    try:
        from hyperion.kernels.bench._copy_kernel import parallel_copy
    except ImportError:
        return None
    return parallel_copy


def measure_roofline(ctx: BenchContext) -> dict[str, Any]:
    """Measure ``copy_gbps`` and ``blas_gflops`` (and which copy won) into a dict."""
    n = (1 << 22) if ctx.quick else (1 << 25)  # 32 MiB or 256 MiB of float64 per array
    src = np.random.default_rng(0).standard_normal(n)
    dst = np.empty_like(src)
    contenders = {"numpy": lambda: np.copyto(dst, src)}
    numba_copy = _numba_copy()
    if numba_copy is not None:
        contenders["numba"] = lambda: numba_copy(src, dst)
    ctx.progress("roofline: copy bandwidth")
    times = ctx.compare(contenders)
    copies = {name: 2 * src.nbytes / seconds / 1e9 for name, seconds in times.items()}
    best = max(copies, key=copies.__getitem__)
    size = 512 if ctx.quick else 2048
    a = np.random.default_rng(1).standard_normal((size, size)).astype(np.float32)
    b = np.random.default_rng(2).standard_normal((size, size)).astype(np.float32)
    ctx.progress(f"roofline: BLAS {size}x{size} float32 matmul")
    blas_seconds = ctx.time(lambda: a @ b)
    return {
        "copy_gbps": copies[best],
        "copy_impl": best,
        "copy_gbps_by_impl": copies,
        "blas_gflops": 2 * size**3 / blas_seconds / 1e9,
        "blas_size": size,
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_machine(torch: Any) -> dict[str, Any]:
    """CPU, thread settings and library versions (what the numbers were measured on)."""
    info: dict[str, Any] = {
        "cpu": _cpu_model(),
        "machine": platform.machine(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "threads": {
            var: os.environ.get(var, "unset")
            for var in ("NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
        },
    }
    try:
        import numba

        info["numba"] = numba.__version__
        info["numba_threads"] = numba.get_num_threads()
    except ImportError:
        info["numba"] = None
    if torch is not None:
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    return info
