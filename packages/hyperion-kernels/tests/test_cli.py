"""The ``hyperion-kernels`` command line: ``list`` and ``bench`` (quick smoke runs), errors and help."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from hyperion.kernels.cli import main


def _last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_list_json_shows_providers_and_resolutions(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("numba")
    assert main(["list", "--json"]) == 0
    listing = _last_json(capsys.readouterr().out)
    cpu = next(p for p in listing["providers"] if p["name"] == "cpu")
    assert cpu["loaded"] and not cpu["failed"]
    resolved = {(row["op"], row["device"]): row["resolves_to"] for row in listing["ops"]}
    assert resolved["nn.softmax_forward", "cpu"] == "cpu"
    assert resolved["nn.layer_norm_backward", "cpu"] == "cpu"


def test_list_human_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("providers:") and "ops (op, device" in out


def test_bench_quick_json_softmax(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    pytest.importorskip("numba")
    assert main(["bench", "--quick", "--json", "--op", "softmax", "--out", str(tmp_path / "report")]) == 0
    captured = capsys.readouterr()
    report = _last_json(captured.out)
    assert report["machine"]["copy_gbps"] > 0 and report["machine"]["blas_gflops"] > 0
    rows = {row["impl"]: row for row in report["results"]}
    assert {"naive", "cpu"} <= set(rows)
    for row in report["results"]:
        assert set(row) >= {"op", "impl", "shape", "dtype", "seconds", "gbps", "gflops", "roofline_fraction",
                            "speedup_vs_naive", "ratio_vs_torch"}  # fmt: skip
        assert row["op"] == "softmax" and row["seconds"] > 0 and row["gbps"] > 0 and row["gflops"] is None
    assert rows["cpu"]["speedup_vs_naive"] > 0 and rows["naive"]["speedup_vs_naive"] is None
    assert "[bench]" in captured.err  # progress goes to stderr
    assert (tmp_path / "report" / "report.md").read_text().count("| softmax |") == len(rows)
    assert json.loads((tmp_path / "report" / "report.json").read_text())["results"] == report["results"]


def test_bench_unknown_op_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "--op", "sofmax"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hyperion-kernels: error: unknown op 'sofmax'") and "softmax" in err
    assert len(err.splitlines()) == 1


def test_bench_out_must_be_a_directory(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["bench", "--quick", "--op", "softmax", "--out", str(target)]) == 2
    assert "is not a directory" in capsys.readouterr().err


@pytest.mark.parametrize("args", [["--help"], ["list", "--help"], ["bench", "--help"]])
def test_help(args: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", "hyperion.kernels", *args], capture_output=True, text=True)
    assert result.returncode == 0 and "usage: hyperion-kernels" in result.stdout


def test_bench_ops_are_discovered() -> None:
    from hyperion.kernels.bench import available_ops

    assert {"softmax", "log_softmax", "layernorm", "rmsnorm", "gelu", "cross_entropy", "adamw", "im2col"} <= set(
        available_ops()
    )


def test_list_says_why_without_numba() -> None:
    code = (
        "import sys; sys.modules['numba'] = None; "  # `import numba` now fails, as without the [cpu] extra
        "from hyperion.kernels.cli import main; sys.exit(main(['list', '--json']))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    listing = _last_json(result.stdout)
    cpu = next(p for p in listing["providers"] if p["name"] == "cpu")
    assert cpu["loaded"] and "Numba is not installed" in cpu["unavailable"]
    assert not any(row["resolves_to"] == "cpu" for row in listing["ops"])
