"""``hyperion-nn mnist``: user errors exit non-zero with one readable line on stderr, no traceback.

Each case runs the command in a subprocess (the installed console script when there is one
beside the interpreter, else ``python -m hyperion.nn``). Runs that get as far as training use a
tiny data set written into the test's folder, so nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hyperion.nn.data import idx


def _command() -> list[str]:
    script = Path(sys.executable).with_name("hyperion-nn")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hyperion.nn"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    # Reference kernels only: a half-installed provider would add its warnings to stderr.
    env = {**os.environ, "HYPERION_KERNELS": "reference", "HYPERION_DATA_DIR": str(cwd / "no-data")}
    return subprocess.run([*_command(), "mnist", *args], capture_output=True, text=True, timeout=180, cwd=cwd, env=env)


def _error_lines(stderr: str) -> list[str]:
    """The lines of stderr that are not progress reports (``training ...``, ``epoch ...``)."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith(("training ", "epoch "))]


def _tiny_mnist(folder: Path, *, corrupt: bool = False) -> Path:
    rng = np.random.default_rng(0)
    data = folder / "data" / "mnist"
    for split, n in (("train", 64), ("t10k", 32)):
        idx.write_idx(data / f"{split}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
        idx.write_idx(data / f"{split}-labels-idx1-ubyte.gz", rng.integers(0, 10, n, dtype=np.uint8))
    if corrupt:
        path = data / "train-labels-idx1-ubyte.gz"
        path.write_bytes(path.read_bytes()[:-7])
    return folder / "data"


FLAG_ERRORS = [
    (["--epochs", "0"], "--epochs: expected a positive integer, got '0'"),
    (["--epochs", "two"], "--epochs: expected a positive integer, got 'two'"),
    (["--batch-size", "-4"], "--batch-size: expected a positive integer, got '-4'"),
    (["--lr", "nan"], "--lr: expected a positive number, got 'nan'"),
    (["--lr", "inf"], "--lr: expected a positive number, got 'inf'"),
    (["--model", "rnn"], "invalid choice: 'rnn'"),
    (["--dataset", "cifar"], "invalid choice: 'cifar'"),
    (["--optimizer", "lbfgs"], "invalid choice: 'lbfgs'"),
    (["--limit-train", "0"], "--limit-train: expected a positive integer, got '0'"),
    (["--frobnicate"], "unrecognized arguments: --frobnicate"),
]


@pytest.mark.parametrize(("args", "named"), FLAG_ERRORS, ids=[" ".join(a) for a, _ in FLAG_ERRORS])
def test_bad_flags_exit_2_with_one_line(tmp_path: Path, args: list[str], named: str) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert named in lines[0] and lines[0].startswith(("hyperion-nn mnist: error:", "hyperion-nn: error:"))


def _assert_one_error_line(result: subprocess.CompletedProcess[str], *named: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = _error_lines(result.stderr)
    assert len(lines) == 1, f"expected one error line, got:\n{result.stderr}"
    assert lines[0].startswith("hyperion-nn: error:") and all(name in lines[0] for name in named), lines[0]


def test_missing_data_with_downloads_off(tmp_path: Path) -> None:
    result = run("--data-dir", str(tmp_path / "nowhere"), "--no-download", cwd=tmp_path)
    _assert_one_error_line(result, "not found", str(tmp_path / "nowhere"), "downloading is disabled")


def test_corrupt_data_file(tmp_path: Path) -> None:
    data = _tiny_mnist(tmp_path, corrupt=True)
    result = run("--data-dir", str(data), "--no-download", "--epochs", "1", cwd=tmp_path)
    _assert_one_error_line(result, "train-labels-idx1-ubyte.gz", "gzip")


def test_negative_weight_decay(tmp_path: Path) -> None:
    data = _tiny_mnist(tmp_path)
    result = run("--data-dir", str(data), "--weight-decay", "-1", "--epochs", "1", cwd=tmp_path)
    _assert_one_error_line(result, "--weight-decay must be >= 0, got -1")


def test_divergence_is_one_line(tmp_path: Path) -> None:
    data = _tiny_mnist(tmp_path)
    result = run(
        "--data-dir", str(data), "--lr", "1e30", "--optimizer", "sgd", "--epochs", "3", "--no-plot", cwd=tmp_path
    )
    _assert_one_error_line(result, "training diverged", "try a smaller --lr")


def test_negative_seed(tmp_path: Path) -> None:
    data = _tiny_mnist(tmp_path)
    result = run("--data-dir", str(data), "--seed", "-1", "--epochs", "1", "--no-plot", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    lines = _error_lines(result.stderr)
    assert len(lines) == 1 and "--seed: expected an integer >= 0, got '-1'" in lines[0], lines


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_non_finite_weight_decay(tmp_path: Path, value: str) -> None:
    data = _tiny_mnist(tmp_path)
    result = run("--data-dir", str(data), "--weight-decay", value, "--epochs", "1", "--no-plot", cwd=tmp_path)
    _assert_one_error_line(result, f"--weight-decay must be a finite number, got {value}")


def test_unwritable_run_folder_is_refused_before_training(tmp_path: Path) -> None:
    data = _tiny_mnist(tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run("--data-dir", str(data), "--epochs", "1", "--no-plot", "--out", str(blocker / "run"), cwd=tmp_path)
    _assert_one_error_line(result, "cannot write the run folder", str(blocker / "run"))
    assert "training " not in result.stderr and "epoch " not in result.stderr, result.stderr


def test_skip_nonfinite_is_refused_with_a_bad_value(tmp_path: Path) -> None:
    result = run("--on-nonfinite", "ignore", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "invalid choice: 'ignore'" in result.stderr.strip().splitlines()[0]


def test_diverging_run_can_skip_nonfinite_batches(tmp_path: Path) -> None:
    data = _tiny_mnist(tmp_path)
    result = run(
        "--data-dir", str(data), "--lr", "1e30", "--optimizer", "sgd", "--epochs", "2", "--no-plot",
        "--on-nonfinite", "skip", "--json", "--out", str(tmp_path / "run"), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "RuntimeWarning" not in result.stderr, result.stderr
    skipped = json.loads(result.stdout.strip().splitlines()[-1])["skipped_batches"]
    assert skipped > 0, result.stdout
    assert "non-finite batches" in result.stderr, result.stderr
