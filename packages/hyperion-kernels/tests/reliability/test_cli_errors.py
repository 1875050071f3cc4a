"""``hyperion-kernels list|bench``: user errors exit non-zero with one readable line on stderr and
no traceback; ``list`` works with or without the providers enabled.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest


def run_main(*args: str) -> subprocess.CompletedProcess[str]:
    from hyperion.kernels.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(list(args))
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
        except Exception:  # noqa: BLE001 - reported as the traceback a user would see
            err.write(traceback.format_exc())
            status = 1
    return subprocess.CompletedProcess(["hyperion-kernels", *args], status, out.getvalue(), err.getvalue())


def _assert_one_line(result: subprocess.CompletedProcess[str], *named: str) -> None:
    assert result.returncode in (1, 2), (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("hyperion-kernels"), lines[0]
    assert all(name in lines[0] for name in named), f"{lines[0]!r} does not name {named}"


def test_bench_unknown_op() -> None:
    _assert_one_line(run_main("bench", "--op", "convolution3d", "--quick"), "'convolution3d'", "softmax")


def test_bench_out_is_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _assert_one_line(run_main("bench", "--op", "softmax", "--quick", "--out", str(blocker)), str(blocker))


@pytest.mark.parametrize(
    "args",
    [pytest.param(["bench", "--frobnicate"], id="unknown-flag"), pytest.param(["profile"], id="unknown-command"),
     pytest.param([], id="no-command")],
)  # fmt: skip
def test_bad_command_lines(args: list[str]) -> None:
    _assert_one_line(run_main(*args))


@pytest.mark.parametrize("kernels", ["cpu", "-cpu,-cuda"])
def test_list_json_in_a_subprocess(tmp_path: Path, kernels: str) -> None:
    """``list`` is how a user finds out why kernels are off: it must work whatever is enabled."""
    script = Path(sys.executable).with_name("hyperion-kernels")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "hyperion.kernels"]
    env = {**os.environ, "HYPERION_KERNELS": kernels, "OPENBLAS_NUM_THREADS": "1"}
    result = subprocess.run(
        [*command, "list", "--json"], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env
    )
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    listing = json.loads(result.stdout.strip().splitlines()[-1])
    enabled = {p["name"]: p["enabled"] for p in listing["providers"]}
    assert enabled.get("cpu") is (kernels == "cpu"), enabled
