"""``hyperion-autograd schedule``: every user error exits non-zero with one readable line, no traceback.

The command runs in a subprocess (the installed console script when there is one beside the
interpreter, else ``python -m hyperion.autograd.cli``), as a user would run it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def _command() -> list[str]:
    script = Path(sys.executable).with_name("hyperion-autograd")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hyperion.autograd.cli"]


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HYPERION_KERNELS": os.environ.get("HYPERION_KERNELS", "reference")}
    return subprocess.run([*_command(), *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env)


def _hostile_traces(tmp: Path) -> dict[str, Path]:
    good = {"format": "hyperion-graph", "version": 1, "nodes": [], "tensors": [], "outputs": []}
    files = {
        "not-json": b"{nodes: [",
        "binary": bytes(range(256)),
        "wrong-format": json.dumps({**good, "format": "other"}).encode(),
        "nan-size": b'{"format": "hyperion-graph", "version": 1, "nodes": [], "tensors": [{"id": "t0", "bytes": NaN}], "outputs": []}',
        "dangling": json.dumps({**good, "nodes": [{"id": "n0", "op": "x", "inputs": ["t9"], "outputs": []}]}).encode(),
        "list": b"[1, 2, 3]",
        "empty": b"",
    }
    paths = {}
    for name, content in files.items():
        paths[name] = tmp / f"{name}.json"
        paths[name].write_bytes(content)
    return paths


CASES = [
    (["schedule"], "one of the arguments --random --trace is required"),
    (["schedule", "--random", "0"], "N must be between 1"),
    (["schedule", "--random", "ten"], "'ten'"),
    (["schedule", "--random", "10", "--seed", "-1"], "seed must be an integer >= 0, got -1"),
    (["schedule", "--random", "10", "--trace", "x.json"], "not allowed with argument"),
    (["schedule", "--random", "10", "--bogus"], "unrecognized arguments: --bogus"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
    (["schedule", "--trace", "does/not/exist.json"], "does/not/exist.json"),
    (["schedule", "--random", "5", "--save-trace", "/dev/null/t.json"], "/dev/null"),  # missing folders are created
]


@pytest.mark.parametrize(("args", "named"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_usage_errors_are_one_line_without_traceback(tmp_path: Path, args: list[str], named: str) -> None:
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert "Traceback" not in result.stderr and named in lines[0]
    assert lines[0].startswith("hyperion-autograd")


@pytest.mark.parametrize("kind", ["not-json", "binary", "wrong-format", "nan-size", "dangling", "list", "empty"])
def test_malformed_trace_files_are_one_line_naming_the_file(tmp_path: Path, kind: str) -> None:
    path = _hostile_traces(tmp_path)[kind]
    result = run("schedule", "--trace", str(path))
    assert result.returncode == 2, result
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert f"invalid trace '{path}'" in lines[0]


def test_a_good_run_still_succeeds(tmp_path: Path) -> None:
    result = run("schedule", "--random", "20", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["nodes"] == 20
