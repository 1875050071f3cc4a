import json

import numpy as np
import pytest

from hyperion.physics.cli import main


def test_help_and_bad_flags(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    assert "validate" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main(["design", "--iters", "many"])
    assert info.value.code != 0
    assert main(["design", "--iters", "0"]) == 2
    assert "--iters must be in" in capsys.readouterr().err


def test_design_improves_the_objective(tmp_path, capsys):
    assert main(["design", "--iters", "5", "--size", "44", "--steps", "160", "--out", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["improvement"] > 1.5
    with np.load(tmp_path / "design.npz", allow_pickle=False) as data:
        assert data["eps"].min() >= 1.0 and data["history"].size == 6


def test_python_dash_m_runs_the_same_cli():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "hyperion.physics", "run", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "scenario" in done.stdout
    done = subprocess.run([sys.executable, "-m", "hyperion.physics", "frobnicate"], capture_output=True, text=True)
    assert done.returncode != 0 and "invalid choice" in done.stderr


@pytest.mark.slow
def test_validate_prints_every_number(capsys):
    assert main(["validate", "--quick", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(summary) == {
        "pml_reflection_db",
        "fresnel_rel_err",
        "cavity_rel_err",
        "dispersion_rel_err",
        "grad_rel_err",
        "energy_rel_drift",
    }
    assert summary["pml_reflection_db"] <= -60 and summary["fresnel_rel_err"] <= 0.01
    assert summary["cavity_rel_err"] <= 5e-3 and summary["dispersion_rel_err"] <= 0.1
    assert summary["grad_rel_err"] <= 1e-6 and summary["energy_rel_drift"] <= 1e-6
