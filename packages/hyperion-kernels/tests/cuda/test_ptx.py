"""Every CUDA kernel compiles to PTX for sm_80 and sm_90 (no GPU needed).

The compiler is unavailable in a process whose numba.cuda is the simulator
(see conftest.py), so the report runs in a subprocess with the simulator off.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest

if importlib.util.find_spec("numba_cuda") is None:
    pytest.skip("numba-cuda is not installed: cannot compile to PTX", allow_module_level=True)

from hyperion.kernels.cuda.ptx import ARCH_LIMITS, catalog  # noqa: E402


def run_report(*args: str) -> tuple[int, dict]:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    done = subprocess.run(
        [sys.executable, "-m", "hyperion.kernels.cuda.ptx_report", "--json", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    assert lines, f"no output; stderr:\n{done.stderr}"
    return done.returncode, json.loads(lines[-1])


def test_every_kernel_compiles_for_sm80_and_sm90() -> None:
    status, report = run_report("--dtype", "float32")
    failed = [f"{r['kernel']} {r['arch']}: {r['error']}" for r in report["kernels"] if not r["compiled"]]
    assert not failed, "\n".join(failed)
    assert status == 0
    compiled = {(r["kernel"], r["arch"]) for r in report["kernels"]}
    assert compiled == {(spec.name, arch) for spec in catalog() for arch in ARCH_LIMITS}
    for row in report["kernels"]:
        assert row["ptx_version"] and row["ptx_lines"] > 10
        if row.get("registers") is not None:  # an assembler matching the PTX version was found
            assert 0 < row["registers"] <= 255 and 0 < row["occupancy"] <= 1
            if row["kernel"].startswith(("matmul", "attention")):
                assert row["smem_bytes"] > 0  # the shared tiles are really there


@pytest.mark.slow
def test_every_kernel_compiles_in_float64() -> None:
    status, report = run_report("--dtype", "float64")
    assert status == 0, [r["error"] for r in report["kernels"] if not r["compiled"]]
