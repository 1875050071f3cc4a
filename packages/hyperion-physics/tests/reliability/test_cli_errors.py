"""``hyperion-physics validate|run|design``: user errors exit non-zero with one readable line on
stderr and no traceback.

Most cases call ``cli.main`` in this process (an exception escaping it is what a traceback would
be, and is reported as one); :func:`test_end_to_end_in_a_subprocess` runs the console script for a
few of them, so the interpreter's exit status and stderr are checked too.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

from .test_scenario_files import GOOD


def run_main(*args: str) -> subprocess.CompletedProcess[str]:
    from hyperion.physics.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(list(args))
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
        except Exception:  # noqa: BLE001 - reported as the traceback a user would see
            err.write(traceback.format_exc())
            status = 1
    return subprocess.CompletedProcess(["hyperion-physics", *args], status, out.getvalue(), err.getvalue())


def _assert_one_line(result: subprocess.CompletedProcess[str], *named: str) -> None:
    assert result.returncode in (1, 2), (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("\r")]
    lines = [line.split("\r")[-1] for line in lines if line.split("\r")[-1].strip()]
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("hyperion-physics"), lines[0]
    assert all(name in lines[0] for name in named), f"{lines[0]!r} does not name {named}"


def _scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_bytes(text.encode("latin-1"))
    return path


FLAG_ERRORS = [
    (["design", "--iters", "0"], ("--iters", "0"), ""),
    (["design", "--iters", "20000"], ("20000",), ""),
    (["design", "--size", "10"], ("--size", "10"), ""),
    (["design", "--steps", "3"], ("--steps", "3"), ""),
    (["design", "--iters", "many"], ("'many'",), ""),
    (["validate", "--frobnicate"], ("--frobnicate",), ""),
    (["simulate"], ("'simulate'",), ""),
    ([], ("required",), ""),
]


@pytest.mark.parametrize(
    ("args", "named"),
    [pytest.param(a, n, id=" ".join(a) or "nothing", marks=[pytest.mark.xfail(strict=True, reason=b)] if b else [])
     for a, n, b in FLAG_ERRORS],
)  # fmt: skip
def test_bad_flags(args: list[str], named: tuple[str, ...]) -> None:
    _assert_one_line(run_main(*args), *named)


def test_run_unknown_scenario_name() -> None:
    _assert_one_line(run_main("run", "no_such_scenario"), "'no_such_scenario'", "dielectric_cylinder")


@pytest.mark.parametrize(
    ("label", "text", "named"),
    [
        ("invalid TOML", "steps = \n", ("invalid TOML",)),
        ("Courant", GOOD.replace("dx = 1e-3", "dx = 1e-3\ncourant = 0.9"), ("Courant number 0.9",)),
        ("waveform", GOOD.replace("position = [10, 15]", 'position = [10, 15]\nwaveform = "square"'), ("'square'",)),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 20 else "",
)
def test_run_bad_scenario(tmp_path: Path, label: str, text: str, named: tuple[str, ...]) -> None:
    _assert_one_line(
        run_main("run", str(_scenario(tmp_path, text)), "--out", str(tmp_path / "out"), "--no-gif"), *named
    )


def test_run_source_outside_the_grid(tmp_path: Path) -> None:
    text = GOOD.replace("position = [10, 15]", "position = [50, 15]")
    _assert_one_line(
        run_main("run", str(_scenario(tmp_path, text)), "--out", str(tmp_path / "out"), "--no-gif"),
        "sources[0]",
        "(50, 15)",
    )


def test_run_scenario_not_utf8(tmp_path: Path) -> None:
    path = _scenario(tmp_path, "steps = 10\n# \xff\n")
    _assert_one_line(run_main("run", str(path), "--out", str(tmp_path / "out"), "--no-gif"), str(path))


def test_run_output_folder_under_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_main("run", str(_scenario(tmp_path, GOOD)), "--out", str(blocker / "out"), "--no-gif")
    _assert_one_line(result, str(blocker / "out"))


END_TO_END = [["design", "--iters", "0"], ["run", "no_such_scenario"]]


def _command() -> list[str]:
    script = Path(sys.executable).with_name("hyperion-physics")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hyperion.physics"]


@pytest.mark.parametrize("args", END_TO_END, ids=[" ".join(a) for a in END_TO_END])
def test_end_to_end_in_a_subprocess(tmp_path: Path, args: list[str]) -> None:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "HYPERION_KERNELS": "reference"}
    outside = subprocess.run([*_command(), *args], capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    _assert_one_line(outside)
    inside = run_main(*args)
    assert outside.returncode == inside.returncode and outside.stderr == inside.stderr
