"""``mpiexec -n 2 hyperion-nn mnist --ddp``: one result, one run folder, the single-process model."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from hyperion.nn import checkpoint
from hyperion.nn.data import write_idx
from hyperion.nn.models import build_model


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A tiny learnable MNIST in tmp_path/data/mnist."""
    folder = tmp_path / "data" / "mnist"
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 128), ("t10k", 64)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            images[i, 2 * label : 2 * label + 6, :] = 255
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return tmp_path / "data"


def _cli(data_dir: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "hyperion.nn.cli", "mnist", "--data-dir", str(data_dir), "--no-download",
            "--out", str(out), "--epochs", "1", "--batch-size", "32", "--no-plot", "--json", "--optimizer", "sgd", *extra]


def _load(path: Path) -> dict[str, np.ndarray]:
    model = build_model("mlp", seed=1)
    checkpoint.load(path, model=model)
    return {name: p.detach().numpy().copy() for name, p in model.named_parameters()}


def test_ddp_cli_matches_the_single_process_run(run_mpi, data_dir: Path, tmp_path: Path) -> None:
    proc = run_mpi(_cli(data_dir, tmp_path / "ddp", "--ddp"), timeout=180)
    assert proc.returncode == 0, proc.stderr
    results = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(results) == 1, f"only rank 0 prints a result:\n{proc.stdout}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["ranks"] == 2 and result["batch_size"] == 32
    assert proc.stderr.count("training mlp on mnist") == 1, "only rank 0 prints progress"
    assert "(2 ranks x 16)" in proc.stderr
    single = run_mpi(_cli(data_dir, tmp_path / "single"), ranks=1, timeout=180)
    assert single.returncode == 0, single.stderr
    assert json.loads(single.stdout.strip().splitlines()[-1])["ranks"] == 1
    distributed, alone = _load(tmp_path / "ddp" / "model.safetensors"), _load(tmp_path / "single" / "model.safetensors")
    for name, expected in alone.items():  # float32: equal up to the order of the additions
        np.testing.assert_allclose(distributed[name], expected, rtol=0, atol=1e-5, err_msg=name)


def test_ddp_cli_rejects_a_batch_that_does_not_split(run_mpi, data_dir: Path, tmp_path: Path) -> None:
    command = _cli(data_dir, tmp_path / "odd", "--ddp")
    command[command.index("--batch-size") + 1] = "33"
    proc = run_mpi(command, timeout=120)
    assert proc.returncode != 0
    assert "--batch-size 33 does not split evenly over 2 ranks" in proc.stderr
