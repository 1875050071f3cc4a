"""The ``hyperion-nn mnist`` command: the --json last-line contract, outputs, and one-line user errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hyperion.nn import checkpoint
from hyperion.nn.cli import build_parser, main
from hyperion.nn.data import write_idx
from hyperion.nn.models import build_model
from hyperion.tensor.files import default_file_mode

CONTRACT_KEYS = ["model", "dataset", "epochs", "train_images", "test_accuracy", "seconds"]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A tiny learnable MNIST in tmp_path/data/mnist; no other data and no cache reachable."""
    monkeypatch.delenv("HYPERION_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    folder = tmp_path / "data" / "mnist"
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 192), ("t10k", 64)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            images[i, 2 * label : 2 * label + 6, :] = 255  # the class is where the bright band is
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return tmp_path / "data"


def _args(data_dir: Path, out: Path, *extra: str) -> list[str]:
    return ["mnist", "--data-dir", str(data_dir), "--no-download", "--out", str(out), "--epochs", "2", *extra]


def test_json_last_line_contract_in_a_subprocess(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    env.pop("HYPERION_DATA_DIR", None)
    proc = subprocess.run(
        [sys.executable, "-m", "hyperion.nn.cli", *_args(data_dir, out, "--json", "--no-plot", "--batch-size", "32")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    result = json.loads(last)
    assert list(result)[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
    assert result["model"] == "mlp" and result["dataset"] == "mnist" and result["epochs"] == 2
    assert result["train_images"] == 192
    assert 0.0 <= result["test_accuracy"] <= 1.0 and result["seconds"] > 0
    # Progress went to stderr as plain lines (not a TTY), one summary line per epoch.
    assert "\r" not in proc.stderr
    assert proc.stderr.count("test loss") == 2


def test_outputs_checkpoint_metrics_and_plot(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "run"
    assert main(_args(data_dir, out, "--json", "--limit-train", "100", "--limit-test", "50", "--batch-size", "25")) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["train_images"] == 100 and result["test_images"] == 50
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    history = json.loads((out / "metrics.json").read_text())["history"]
    assert [h["epoch"] for h in history] == [1, 2]
    assert history[-1]["test_accuracy"] == pytest.approx(result["test_accuracy"], abs=1e-4)
    model = build_model("mlp")
    loaded = checkpoint.load(out / "model.safetensors", model=model)
    assert loaded.extra["test_accuracy"] == result["test_accuracy"]
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left
    for name in ("metrics.json", "curves.png"):  # ordinary permissions, not mkstemp's 0o600
        assert (out / name).stat().st_mode & 0o777 == default_file_mode()


def test_cnn_and_sgd_run(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = _args(data_dir, tmp_path / "run", "--model", "cnn", "--optimizer", "sgd", "--json", "--no-plot")
    argv[argv.index("--epochs") + 1] = "1"
    assert main([*argv, "--limit-train", "64", "--limit-test", "32", "--batch-size", "32"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["model"] == "cnn" and result["epochs"] == 1


def test_missing_matplotlib_skips_the_plot(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)  # makes the import fail
    out = tmp_path / "run"
    assert main(_args(data_dir, out, "--limit-train", "64", "--batch-size", "32")) == 0
    captured = capsys.readouterr()
    assert "matplotlib is not installed" in captured.err
    assert not (out / "curves.png").exists()
    assert "test accuracy" in captured.out


def test_missing_data_is_one_line_without_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = {**os.environ, "HOME": str(tmp_path / "home")}
    env.pop("HYPERION_DATA_DIR", None)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "hyperion.nn.cli",
            "mnist",
            "--data-dir",
            str(tmp_path / "nowhere"),
            "--no-download",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("hyperion-nn: error: MNIST train files")
    assert "downloading is disabled" in lines[0] and str(tmp_path / "nowhere") in lines[0]
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--epochs", "0"], "argument --epochs: expected a positive integer, got '0'"),
        (["--lr", "-1"], "argument --lr: expected a positive number, got '-1'"),
        (["--batch-size", "many"], "argument --batch-size: expected a positive integer, got 'many'"),
        (["--model", "resnet"], "argument --model: invalid choice: 'resnet'"),
    ],
)
def test_bad_flags_exit_2_with_one_line(flags: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        build_parser().parse_args(["mnist", *flags])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("hyperion-nn mnist: error:")


def test_corrupt_data_is_a_user_error(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (data_dir / "mnist" / "train-labels-idx1-ubyte.gz").write_bytes(b"\x00\x00\x08\x01garbage")
    assert main(_args(data_dir, tmp_path / "run")) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "train-labels-idx1-ubyte.gz" in err[0] and "truncated" in err[0]


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_divergence_is_a_user_error(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args(data_dir, tmp_path / "run", "--lr", "1e30", "--no-plot")) == 1
    err = capsys.readouterr().err
    assert "hyperion-nn: error: training diverged" in err and "smaller --lr" in err
    assert "Traceback" not in err


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["mnist", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in (
        "--model",
        "--dataset",
        "--epochs",
        "--batch-size",
        "--lr",
        "--optimizer",
        "--seed",
        "--data-dir",
        "--out",
        "--limit-train",
        "--json",
    ):
        assert option in text
