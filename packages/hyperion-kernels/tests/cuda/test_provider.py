"""The cuda provider: imports anywhere, offers kernels only where they can run."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from hyperion.kernels.cuda import CudaProvider, find_unavailable_reason, provider
from hyperion.kernels.cuda.ptx import occupancy


def test_provider_follows_the_registry_protocol() -> None:
    from hyperion.tensor.registry import KernelProvider

    assert isinstance(provider, KernelProvider) and provider.name == "cuda"


def test_without_a_gpu_it_offers_nothing_and_says_why() -> None:
    if importlib.util.find_spec("cupy") is not None and find_unavailable_reason() is None:
        pytest.skip("CuPy and a GPU are present here")
    fresh = CudaProvider()
    assert fresh.kernels() == {}
    assert fresh.unavailable
    assert "CuPy" in fresh.unavailable or "device" in fresh.unavailable


def test_simulator_switch_disables_the_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NUMBA_ENABLE_CUDASIM", "1")
    fresh = CudaProvider()
    assert fresh.kernels() == {}
    assert "NUMBA_ENABLE_CUDASIM" in fresh.unavailable


def test_importing_the_provider_imports_no_gpu_library() -> None:
    code = (
        "import sys, hyperion.kernels.cuda; "
        "print(sorted(m for m in ('cupy', 'numba.cuda', 'numba_cuda') if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("registers", "smem", "threads", "arch", "expected", "limiter"),
    [
        (32, 0, 256, "sm_80", 1.0, "threads"),  # 8 blocks x 8 warps = 64 warps
        (64, 0, 256, "sm_80", 0.5, "registers"),  # 2048 regs/warp: 32 warps
        (40, 0, 128, "sm_80", 0.75, "registers"),  # 40 -> 1280 regs/warp: 51 warps -> 12 blocks of 4
        (16, 24704, 32, "sm_80", 6 / 64, "shared memory"),  # 164 KB / (24704 + 1 KB) = 6 blocks
        (16, 25728, 32, "sm_90", 9 / 64, "shared memory"),  # 228 KB / 25728 = 9 blocks
        (16, 0, 32, "sm_90", 0.5, "blocks"),  # 32 blocks of one warp
    ],
)
def test_occupancy_limits(registers: int, smem: int, threads: int, arch: str, expected: float, limiter: str) -> None:
    result = occupancy(registers, smem, threads, arch)
    assert result["occupancy"] == pytest.approx(expected)
    assert result["limiter"] == limiter
