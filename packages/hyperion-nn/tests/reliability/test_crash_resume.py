"""Crash safety: SIGKILL at random moments of a training run never leaves a bad checkpoint.

For each seed the worker (``workers/crash_train.py``: a tiny float64 MLP with Adam, checkpointing
after every step) is killed at a random moment after its first save. Then:

1. the checkpoint in place loads and is valid (its checksum holds) — never partial; the only other
   files allowed are the temporary files of an interrupted save;
2. the step it holds is one the worker reported as saved (or the next, if the kill landed between
   ``os.replace`` and the print);
3. resuming from it reproduces, bit for bit (float64), the losses of an uninterrupted run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from hyperion.nn import checkpoint

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")

WORKER = Path(__file__).parent / "workers" / "crash_train.py"
TOTAL = 40


def _env() -> dict[str, str]:
    """One environment for every run: one BLAS thread (a reduction split over a varying number of
    threads may round differently) and the reference kernels only (a kernel provider half-installed
    in a development tree must not make one run differ from another)."""
    return {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "HYPERION_KERNELS": "reference"}


def _run(run_dir: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(WORKER), str(run_dir), str(TOTAL)]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=True, env=_env())


def _start(run_dir: Path) -> subprocess.Popen[str]:
    command = [sys.executable, str(WORKER), str(run_dir), str(TOTAL)]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=_env())


def _losses(lines: list[str]) -> dict[int, str]:
    return {int(parts[1]): parts[2] for parts in (line.split() for line in lines) if parts[0] == "step"}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[int, str]:
    """The losses of an uninterrupted run, step by step (as float.hex, so comparison is exact)."""
    run_dir = tmp_path_factory.mktemp("reference")
    result = _run(run_dir)
    losses = _losses(result.stdout.splitlines())
    assert sorted(losses) == list(range(TOTAL))
    return losses


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_sigkill_then_resume_reproduces_the_uninterrupted_loss_curve(
    tmp_path: Path, reference: dict[int, str], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    wait_saves = int(rng.integers(1, 12))
    child = _start(tmp_path)
    before: list[str] = []
    try:
        assert child.stdout is not None
        while True:
            line = child.stdout.readline()
            assert line, f"the worker ended before its save number {wait_saves}: {before}"
            before.append(line.strip())
            if line.startswith("saved ") and int(line.split()[1]) >= wait_saves:
                break
        time.sleep(float(rng.uniform(0.0, 0.03)))  # a random point: computing, or inside a save
    finally:
        child.send_signal(signal.SIGKILL)
        rest, _ = child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL
    before += [line.strip() for line in rest.splitlines()]

    path = tmp_path / "ckpt.safetensors"
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p != path)
    assert all(name.startswith(".ckpt.safetensors.") and name.endswith(".tmp") for name in leftovers), leftovers
    saved = max(int(line.split()[1]) for line in before if line.startswith("saved "))
    held = checkpoint.load(path).extra["step"]  # validates structure and checksum
    assert held in (saved, saved + 1), f"checkpoint holds step {held}, the worker last reported saving {saved}"

    for step, loss in _losses(before).items():  # the run was deterministic up to the kill
        assert loss == reference[step], f"step {step} differs before the kill"
    resumed = _run(tmp_path)
    after = _losses(resumed.stdout.splitlines())
    assert sorted(after) == list(range(held, TOTAL)), "the resumed run did not start at the checkpoint's step"
    mismatched = [step for step in after if after[step] != reference[step]]
    assert not mismatched, f"resumed losses differ from the uninterrupted run at steps {mismatched}"
