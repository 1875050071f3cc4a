import json

import numpy as np
import pytest

from hyperion.physics.cli import main
from hyperion.physics.scenario import ScenarioError, load_scenario


def test_shipped_scenario_runs_and_writes_npz(tmp_path, capsys):
    assert main(["run", "slab_plane_wave", "--out", str(tmp_path), "--no-gif", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["steps"] == 420
    with np.load(tmp_path / "monitors.npz", allow_pickle=False) as data:
        # Power flows out of the source region on both sides; the lossy slab transmits less than it receives.
        assert np.all(data["transmitted.flux"] > 0) and np.all(data["reflected.flux"] < 0)
        assert data["after.values"].shape == (420,)


def test_gif_is_written(tmp_path):
    pytest.importorskip("matplotlib")
    pytest.importorskip("PIL")
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        'steps = 20\n[grid]\nshape = [40, 40]\nboundary = "pec"\n'
        "[[sources]]\nposition = [20, 20]\nwidth_steps = 4\n[output]\ngif_every = 5\n"
    )
    assert main(["run", str(scenario), "--out", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "field.gif").read_bytes()[:6] == b"GIF89a"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("steps = 3\n[grid]\nshape = [10", "invalid TOML"),
        ("steps = 3\n", "missing key 'grid'"),
        ('steps = 3\n[grid]\nshape = [30]\nboundary = "pec"\ncolour = 1\n', "unknown keys"),
        ('steps = 3\n[grid]\nshape = [30]\nboundary = "pec"\n[[materials]]\nshape = "cone"\n', "'cone'"),
        (
            'steps = 3\n[grid]\nshape = [30]\nboundary = "pec"\n[[sources]]\nposition = [3]\nwaveform = "cw"\n',
            "missing key 'frequency'",
        ),
        ('steps = 3\n[grid]\nshape = [30, 30]\ncourant = 0.9\nboundary = "pec"\n', "stability limit"),
    ],
)
def test_bad_scenarios_get_one_line_errors(tmp_path, text, message, capsys):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message):
        load_scenario(path)
    assert main(["run", str(path), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hyperion-physics: error:") and err.count("\n") == 1
