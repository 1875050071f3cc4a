"""The ``hyperion-gpt`` command line: --help, the --json last line, one-line errors, every subcommand."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from hyperion.gpt.cli import main

TRAIN_KEYS = ["iters", "train_loss", "val_loss", "seconds", "tokens_per_second", "params"]


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny run on a small text file (module-scoped: trained once)."""
    folder = tmp_path_factory.mktemp("cli")
    data = folder / "verse.txt"
    data.write_text("the quick brown fox jumps over the lazy dog.\n" * 80, encoding="utf-8")
    code, out, err = _run(
        "train", "--data", str(data), "--out", str(folder / "run"), "--n-layer", "1", "--n-head", "2", "--n-embd", "16",
        "--block-size", "16", "--batch-size", "4", "--max-iters", "8", "--warmup-iters", "2", "--eval-interval", "4",
        "--eval-iters", "2", "--sample-tokens", "10", "--json", "--no-progress",
    )
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert list(result) == TRAIN_KEYS and result["iters"] == 8
    return folder


def test_help_in_a_subprocess() -> None:
    proc = subprocess.run([sys.executable, "-m", "hyperion.gpt", "--help"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "usage: hyperion-gpt" in proc.stdout and "attention" in proc.stdout


@pytest.mark.parametrize("command", ["train", "sample", "eval", "attention"])
def test_subcommand_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main([command, "--help"])
    assert info.value.code == 0
    assert f"usage: hyperion-gpt {command}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["train", "--n-layer", "0"], "--n-layer"),
        (["train", "--max-iters", "many"], "--max-iters"),
        (["train", "--positional", "alibi"], "--positional"),
        (["train", "--n-embd", "30", "--n-head", "4"], "n_embd (30) must be divisible by n_head (4)"),
        (["train", "--data", "/nonexistent/file.txt", "--no-progress"], "no such text file"),
        (["sample"], "--ckpt"),
        (["sample", "--ckpt", "/nonexistent/run"], "no checkpoint"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv: list[str], needle: str, tmp_path: Path) -> None:
    if argv[0] == "train" and "--out" not in argv:
        argv = [*argv, "--out", str(tmp_path / "run")]
    code, out, err = _run(*argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and needle in err
    assert out == ""


def test_sample_is_seeded_and_cache_agnostic(trained: Path) -> None:
    run = str(trained / "run")
    code, out, _ = _run("sample", "--ckpt", run, "--prompt", "the ", "--max-new-tokens", "12", "--seed", "3", "--json")
    assert code == 0
    first = json.loads(out.strip().splitlines()[-1])
    assert first["text"].startswith("the ") and first["kv_cache"] is True
    _, out, _ = _run("sample", "--ckpt", run, "--prompt", "the ", "--max-new-tokens", "12", "--seed", "3", "--json", "--no-kv-cache")
    assert json.loads(out.strip().splitlines()[-1])["text"] == first["text"]
    code, out, _ = _run("sample", "--ckpt", run, "--prompt", "the ", "--max-new-tokens", "5", "--greedy", "--top-k", "3")
    assert code == 0 and out.startswith("the ")
    code, _, err = _run("sample", "--ckpt", run, "--prompt", "THE")
    assert code == 2 and "['E', 'H', 'T']" in err


def test_eval_reports_loss_and_perplexity(trained: Path) -> None:
    code, out, _ = _run("eval", "--ckpt", str(trained / "run"), "--json", "--eval-iters", "2")
    assert code == 0
    result = json.loads(out.strip().splitlines()[-1])
    assert result["val_perplexity"] == pytest.approx(2.718281828 ** result["val_loss"], rel=1e-6)
    assert result["iteration"] == 8


def test_attention_writes_a_png(trained: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "maps.png"
    code, out, err = _run("attention", "--ckpt", str(trained / "run"), "--text", "the lazy dog", "--out", str(png), "--layer", "0")
    assert code == 0, err
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, _, err = _run("attention", "--ckpt", str(trained / "run"), "--text", "the", "--out", str(png), "--head", "9")
    assert code == 2 and "--head 9 is out of range" in err


def test_resume_from_the_cli(trained: Path) -> None:
    code, out, err = _run("train", "--out", str(trained / "run"), "--data", str(trained / "verse.txt"), "--resume",
                          "--max-iters", "10", "--eval-interval", "5", "--sample-tokens", "0", "--json", "--no-progress")
    assert code == 0, err
    assert json.loads(out.strip().splitlines()[-1])["iters"] == 10
