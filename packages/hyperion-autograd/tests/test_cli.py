"""Tests of the ``hyperion-autograd`` command line (the ``schedule`` subcommand)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hyperion.autograd.cli import main
from hyperion.autograd.scheduler import compare_orders, dump_trace, random_dag

KEYS = ["nodes", "peak_random", "peak_kahn", "peak_greedy"]


def last_json_line(stdout: str) -> dict:
    lines = stdout.rstrip("\n").split("\n")
    return json.loads(lines[-1])


def test_random_json_last_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", "--random", "60", "--seed", "4", "--json"]) == 0
    out = capsys.readouterr().out
    result = last_json_line(out)
    assert list(result)[:4] == KEYS
    expected = compare_orders(random_dag(60, 4), seed=4)
    assert {k: result[k] for k in expected} == expected
    assert "greedy" in out and "kahn" in out  # the human-readable table comes first


def test_table_without_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schedule", "--random", "30"]) == 0
    out = capsys.readouterr().out
    assert "{" not in out
    rows = {line.split()[0] for line in out.splitlines()}
    assert {"random", "kahn", "greedy"} <= rows


def test_trace_matches_random_and_save_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "g.json"
    assert main(["schedule", "--random", "40", "--seed", "2", "--save-trace", str(saved), "--json"]) == 0
    from_random = last_json_line(capsys.readouterr().out)
    assert main(["schedule", "--trace", str(saved), "--seed", "2", "--json"]) == 0
    from_trace = last_json_line(capsys.readouterr().out)
    assert {k: from_trace[k] for k in KEYS} == {k: from_random[k] for k in KEYS}


def test_trace_written_by_the_library(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    graph = random_dag(25, seed=9)
    path = tmp_path / "trace.json"
    dump_trace(graph, path)
    assert main(["schedule", "--trace", str(path), "--json"]) == 0
    assert last_json_line(capsys.readouterr().out)["nodes"] == 25


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["schedule", "--random", "0"], "N must be between 1 and"),
        (["schedule", "--random", "-1"], "N must be between 1 and"),
        (["schedule", "--random", "ten"], "N must be a positive integer, got 'ten'"),
        (["schedule", "--random", "5", "--seed", "-3"], "seed must be an integer >= 0"),
        (["schedule"], "one of the arguments --random --trace is required"),
        (["schedule", "--random", "5", "--trace", "x.json"], "not allowed with"),
        (["schedule", "--trace", "does-not-exist.json"], "cannot read trace 'does-not-exist.json'"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_user_errors_are_one_line(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert message in captured.err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        (
            '{"format": "hyperion-graph", "version": 1, "nodes": [], "tensors": [{"id": "x", "bytes": -1}], "outputs": []}',
            "negative bytes",
        ),
    ],
)
def test_bad_trace_file_is_one_line(
    tmp_path: Path, content: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    assert main(["schedule", "--trace", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and message in err and "invalid trace" in err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "schedule" in capsys.readouterr().out
    assert main(["schedule", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--random N" in out and "--trace FILE" in out and "--json" in out


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hyperion.autograd.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_subprocess_json_contract() -> None:
    done = run_cli("schedule", "--random", "100", "--seed", "1", "--json")
    assert done.returncode == 0, done.stderr
    result = last_json_line(done.stdout)
    assert list(result)[:4] == KEYS and result["nodes"] == 100
    assert all(isinstance(result[k], int) and result[k] > 0 for k in KEYS)


def test_subprocess_error_has_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[")
    for args in (("schedule", "--trace", str(bad)), ("schedule", "--random", "0")):
        done = run_cli(*args)
        assert done.returncode == 2
        assert "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
