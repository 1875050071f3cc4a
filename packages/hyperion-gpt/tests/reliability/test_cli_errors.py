"""``hyperion-gpt train|sample|eval|attention``: user errors exit non-zero with one readable line on
stderr and no traceback.

Most cases call ``cli.main`` in this process (an exception escaping it is what a traceback would
be, and is reported as one); the cases marked ``end_to_end`` run the console script in a subprocess,
so the whole path, interpreter start and exit status included, is checked too.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hyperion.nn import checkpoint

from .conftest import TINY_FLAGS, run_cli, run_main


def _assert_one_line(result, *named: str, status: tuple[int, ...] = (1, 2)) -> None:
    assert result.returncode in status, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    missing = [name for name in named if name not in lines[0]]
    assert not missing, f"{lines[0]!r} does not name {missing}"


TRAIN_FLAGS = [
    (["--n-layer", "0"], "expected a positive integer, got '0'"),
    (["--n-head", "x"], "--n-head"),
    (["--block-size", "-8"], "'-8'"),
    (["--dropout", "nan"], "'nan'"),
    (["--dropout", "1.5"], "dropout must be in [0, 1), got 1.5"),
    (["--lr", "-1"], "'-1'"),
    (["--lr", "0"], "lr=0.0"),
    (["--min-lr", "1"], "min_lr=1.0"),
    (["--tokenizer", "words"], "invalid choice: 'words'"),
    (["--positional", "alibi"], "invalid choice: 'alibi'"),
    (["--n-embd", "30", "--n-head", "4"], "n_embd (30) must be divisible by n_head (4)"),
    (["--n-kv-head", "3"], "n_head (4) must be divisible by n_kv_head (3)"),
    (["--warmup-iters", "700"], "warmup_iters (700)"),
    (["--seed", "-1"], "'-1'"),
    (["--weight-decay", "inf"], "inf"),
    (["--grad-clip", "inf"], "inf"),
    (["--bpe-vocab-size", "0"], "'0'"),
    (["--frobnicate"], "--frobnicate"),
]


@pytest.mark.parametrize(("args", "named"), TRAIN_FLAGS, ids=[" ".join(a) for a, _ in TRAIN_FLAGS])
def test_train_bad_flags(tmp_path: Path, args: list[str], named: str) -> None:
    _assert_one_line(run_main("train", "--out", str(tmp_path / "run"), *args), named)


def test_train_missing_text_file(tmp_path: Path) -> None:
    result = run_main("train", "--data", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "run"))
    _assert_one_line(result, str(tmp_path / "missing.txt"))


def test_train_tinyshakespeare_not_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing to find anywhere in the lookup order, and a download that cannot connect (port 9 on
    # the loopback: refused at once), whatever data sets the machine running the tests has.
    monkeypatch.setenv("HYPERION_DATA_DIR", str(tmp_path / "no-data-dir"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr("hyperion.gpt.data.SYSTEM_DATA_DIR", str(tmp_path / "no-system-dir"), raising=False)
    monkeypatch.setattr("hyperion.gpt.data.TINYSHAKESPEARE_URL", "http://127.0.0.1:9/input.txt")
    result = run_main(
        "train", "--data-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "run"), "--max-iters", "2",
        *TINY_FLAGS,
    )  # fmt: skip
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert "Tiny Shakespeare" in result.stderr or "tinyshakespeare" in result.stderr.lower(), result.stderr


def test_train_binary_file(tmp_path: Path) -> None:
    data = tmp_path / "blob.bin"
    data.write_bytes(bytes(range(256)) * 40)
    result = run_main("train", "--data", str(data), "--out", str(tmp_path / "run"), *TINY_FLAGS)
    _assert_one_line(result, str(data), "UTF-8")


def test_train_text_too_short_for_the_block(tmp_path: Path) -> None:
    data = tmp_path / "short.txt"
    data.write_text("abcdefghij" * 30)
    result = run_main("train", "--data", str(data), "--out", str(tmp_path / "run"), *TINY_FLAGS, "--block-size", "200")
    _assert_one_line(result, "block_size 200")


def test_train_resume_without_a_checkpoint(tmp_path: Path, text_file: Path) -> None:
    result = run_main("train", "--data", str(text_file), "--out", str(tmp_path / "empty"), "--resume")
    _assert_one_line(result, "--resume", "ckpt.safetensors")


def test_train_run_folder_is_a_file(tmp_path: Path, text_file: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run_main("train", "--data", str(text_file), "--out", str(blocker / "run"), *TINY_FLAGS)
    _assert_one_line(result, str(blocker / "run"))


SAMPLE_FLAGS = [
    (["--temperature", "-1"], "'-1'"),
    (["--top-k", "0"], "'0'"),
    (["--top-p", "1.5"], "'1.5'"),
    (["--top-p", "0"], "'0'"),
    (["--max-new-tokens", "-3"], "'-3'"),
]


@pytest.mark.parametrize(("args", "named"), SAMPLE_FLAGS, ids=[" ".join(a) for a, _ in SAMPLE_FLAGS])
def test_sample_bad_flags(tmp_path: Path, trained_run: Path, args: list[str], named: str) -> None:
    _assert_one_line(run_main("sample", "--ckpt", str(trained_run), *args), named)


def test_sample_missing_checkpoint(tmp_path: Path) -> None:
    _assert_one_line(run_main("sample", "--ckpt", str(tmp_path / "nothing")), str(tmp_path / "nothing"))


def test_sample_prompt_outside_the_vocabulary(tmp_path: Path, trained_run: Path) -> None:
    result = run_main("sample", "--ckpt", str(trained_run), "--prompt", "XYZ")
    _assert_one_line(result, "'X'", "'Y'", "'Z'")


def test_sample_empty_prompt(tmp_path: Path, trained_run: Path) -> None:
    _assert_one_line(run_main("sample", "--ckpt", str(trained_run), "--prompt", ""), "--prompt")


def test_sample_corrupt_checkpoint(tmp_path: Path, trained_run: Path) -> None:
    bad = tmp_path / "ckpt.safetensors"
    raw = bytearray((trained_run / "ckpt.safetensors").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    bad.write_bytes(bytes(raw))
    _assert_one_line(run_main("sample", "--ckpt", str(bad)), str(bad))


def test_sample_truncated_checkpoint(tmp_path: Path, trained_run: Path) -> None:
    bad = tmp_path / "ckpt.safetensors"
    bad.write_bytes((trained_run / "ckpt.safetensors").read_bytes()[:100])
    _assert_one_line(run_main("sample", "--ckpt", str(bad)), str(bad))


def test_eval_run_trained_on_in_memory_text(tmp_path: Path, trained_run: Path) -> None:
    _assert_one_line(run_main("eval", "--ckpt", str(trained_run)), "--data PATH")


def test_eval_bad_eval_iters(tmp_path: Path, trained_run: Path) -> None:
    _assert_one_line(run_main("eval", "--ckpt", str(trained_run), "--eval-iters", "0"), "'0'")


def test_eval_text_with_characters_the_model_never_saw(tmp_path: Path, trained_run: Path) -> None:
    data = tmp_path / "other.txt"
    data.write_text("QQQQ ZZZZ " * 100)
    _assert_one_line(run_main("eval", "--ckpt", str(trained_run), "--data", str(data)), "'Q'")


ATTENTION_ERRORS = [
    (["--text", ""], "--text"),
    (["--text", "to be or not to be, that is"], "--text must be 1..16 tokens, got 27"),
    (["--text", "to be", "--layer", "3"], "--layer 3"),
    (["--text", "to be", "--head", "2"], "--head 2"),
    (["--text", "XY"], "'X'"),
]


@pytest.mark.parametrize(("args", "named"), ATTENTION_ERRORS, ids=[" ".join(a) for a, _ in ATTENTION_ERRORS])
def test_attention_errors(tmp_path: Path, trained_run: Path, args: list[str], named: str) -> None:
    result = run_main("attention", "--ckpt", str(trained_run), "--out", str(tmp_path / "a.png"), *args)
    _assert_one_line(result, named)


def test_attention_output_folder_is_a_file(tmp_path: Path, trained_run: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_main("attention", "--ckpt", str(trained_run), "--text", "to be", "--out", str(blocker / "a.png"))
    _assert_one_line(result, str(blocker))


def test_missing_subcommand_and_unknown_subcommand(tmp_path: Path) -> None:
    _assert_one_line(run_main(), "required")
    _assert_one_line(run_main("fit"), "'fit'")


@pytest.mark.parametrize("drop", ["model_config", "tokenizer"])
def test_checkpoint_missing_its_metadata(tmp_path: Path, trained_run: Path, drop: str) -> None:
    """A checkpoint that is valid safetensors with a good checksum but lacks a piece of the run's metadata."""
    from hyperion.gpt import load_run

    model, _, extra = load_run(trained_run)
    extra = {k: v for k, v in extra.items() if k != drop}
    bad = tmp_path / "ckpt.safetensors"
    checkpoint.save(bad, model=model, extra=json.loads(json.dumps(extra)))
    result = run_main("sample", "--ckpt", str(bad), "--max-new-tokens", "2")
    _assert_one_line(result, drop)


END_TO_END = [
    ["train", "--n-layer", "0"],
    ["train", "--n-embd", "30", "--n-head", "4"],
    ["sample", "--ckpt", "/nonexistent/run"],
]


@pytest.mark.parametrize("args", END_TO_END, ids=[" ".join(a) for a in END_TO_END])
def test_end_to_end_in_a_subprocess(tmp_path: Path, args: list[str]) -> None:
    inside = run_main(*args)
    outside = run_cli(*args, cwd=tmp_path)
    _assert_one_line(outside)
    assert outside.returncode == inside.returncode and outside.stderr == inside.stderr
