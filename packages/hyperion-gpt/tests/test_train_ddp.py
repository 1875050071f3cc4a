"""``mpiexec -n 2 hyperion-gpt train --ddp``: two ranks train like one process on the same global batches."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

TEXT = "to be or not to be, that is the question; whether tis nobler in the mind to suffer.\n" * 40
ARGS = [
    "--n-layer", "1", "--n-embd", "16", "--n-head", "2", "--block-size", "16", "--batch-size", "8",
    "--max-iters", "12", "--warmup-iters", "2", "--eval-interval", "6", "--eval-iters", "2",
    "--sample-tokens", "0", "--no-progress", "--json",
]  # fmt: skip


def _mpiexec() -> str:
    if importlib.util.find_spec("mpi4py") is None:
        pytest.skip("mpi4py is not installed (pip install 'hyperion-gpt[distributed]')")
    local = Path(sys.executable).parent / "mpiexec"
    found = str(local) if local.exists() else shutil.which("mpiexec")
    if found is None:
        pytest.skip("no mpiexec next to the interpreter or on PATH (pip install mpich)")
    return found


def _train(command: list[str], out: Path, data: Path) -> dict:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPIR_CVAR_ENABLE_HEAVY_YIELD": "1"}
    done = subprocess.run(
        [*command, sys.executable, "-m", "hyperion.gpt", "train", "--data", str(data), "--out", str(out), *ARGS],
        capture_output=True, text=True, env=env, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, f"only rank 0 prints its result: {done.stdout!r}"
    return json.loads(lines[0])


def test_two_ranks_match_one_process(tmp_path: Path) -> None:
    mpiexec = _mpiexec()
    data = tmp_path / "text.txt"
    data.write_text(TEXT, encoding="utf-8")
    single = _train([], tmp_path / "one", data)
    double = _train([mpiexec, "-n", "2"], tmp_path / "two", data)
    assert double["ranks"] == 2 and "ranks" not in single
    one = json.loads((tmp_path / "one" / "history.json").read_text())["loss"]
    two = json.loads((tmp_path / "two" / "history.json").read_text())["loss"]
    # Same global batches, gradients averaged over the two halves: the same curve up to float32 rounding.
    np.testing.assert_allclose(two, one, rtol=1e-5, atol=1e-6)
    assert double["val_loss"] == pytest.approx(single["val_loss"], rel=1e-5)


def test_batch_must_split_evenly_over_ranks(tmp_path: Path) -> None:
    mpiexec = _mpiexec()
    data = tmp_path / "text.txt"
    data.write_text(TEXT, encoding="utf-8")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPIR_CVAR_ENABLE_HEAVY_YIELD": "1"}
    args = [a if a != "8" else "7" for a in ARGS]
    done = subprocess.run(
        [mpiexec, "-n", "2", sys.executable, "-m", "hyperion.gpt", "train", "--ddp", "--data", str(data),
         "--out", str(tmp_path / "run"), *args],
        capture_output=True, text=True, env=env, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode != 0
    assert "--batch-size 7 must be a multiple of the number of ranks (2)" in done.stderr
