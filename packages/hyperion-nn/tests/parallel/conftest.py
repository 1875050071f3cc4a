"""Launching MPI jobs from tests: ``mpiexec -n 2 python <worker>``, with a timeout, skipped without MPI."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

WORKERS = Path(__file__).parent / "workers"

#: MPICH settings for a machine with fewer free cores than ranks: yield the CPU while
#: waiting in a collective instead of spinning on it (see the post on all-reduce).
MPICH_OVERSUBSCRIBED = {"MPIR_CVAR_ENABLE_HEAVY_YIELD": "1"}


def find_mpiexec() -> str | None:
    """``mpiexec`` next to this interpreter (a virtual environment's MPICH wheel) or on ``PATH``."""
    local = Path(sys.executable).parent / "mpiexec"
    if local.exists():
        return str(local)
    return shutil.which("mpiexec") or shutil.which("mpirun")


def mpi_skip_reason() -> str | None:
    """Why MPI jobs cannot run here, or ``None`` when they can."""
    if importlib.util.find_spec("mpi4py") is None:
        return "mpi4py is not installed (pip install 'hyperion-nn[distributed]')"
    if find_mpiexec() is None:
        return "no mpiexec found next to the interpreter or on PATH (pip install mpich)"
    return None


RunMPI = Callable[..., subprocess.CompletedProcess]


@pytest.fixture(scope="session")
def run_mpi() -> RunMPI:
    """Run ``args`` (a worker script name or a command) on ``ranks`` MPI ranks; returns the finished process."""
    reason = mpi_skip_reason()
    if reason is not None:
        pytest.skip(reason)
    mpiexec = find_mpiexec()
    assert mpiexec is not None

    def run(
        command: Sequence[str], *, ranks: int = 2, timeout: float = 120, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess:
        if command[0].endswith(".py"):
            command = [sys.executable, str(WORKERS / command[0]), *command[1:]]
        full_env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", **MPICH_OVERSUBSCRIBED}
        full_env.update(env or {})
        try:
            return subprocess.run(
                [mpiexec, "-n", str(ranks), *command],
                capture_output=True,
                text=True,
                env=full_env,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            pytest.fail(f"the {ranks}-rank job did not finish within {timeout}s (a hang): {' '.join(command)}\n{error.stderr}")

    return run
