"""Malformed scenario TOML is rejected by ``load_scenario`` with a ``ScenarioError`` naming the entry.

Every file is small; none may make the loader allocate absurd memory: each is loaded under
``tracemalloc`` and must end in a ``ScenarioError`` (never another type) with a peak under 64 MiB.
The files that ask for a huge grid run in a subprocess whose address space is capped at 1 GiB, so
a loader that does allocate fails there with a ``MemoryError`` instead of swapping the machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from hyperion.physics.scenario import ScenarioError, load_scenario

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS and /proc are Linux")

WORKER = Path(__file__).parent / "workers" / "load_limited.py"
LIMIT = 2**30
PEAK = 64 * 2**20

GOOD = """
steps = 10
[grid]
shape = [40, 30]
dx = 1e-3
boundary = "pec"
[[sources]]
type = "point"
position = [10, 15]
[[monitors]]
type = "probe"
name = "p"
position = [30, 15]
"""


def _replace(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new)


MALFORMED: list[tuple[str, str, tuple[str, ...]]] = [
    ("invalid TOML", "steps = \n[grid", ("invalid TOML",)),
    ("truncated", GOOD[: GOOD.index("dx")] + 'boundary = "pe', ("invalid TOML",)),
    ("no grid", "steps = 3\n", ("missing key 'grid'",)),
    ("no steps", _replace("steps = 10", ""), ("missing key 'steps'",)),
    ("zero steps", _replace("steps = 10", "steps = 0"), ("steps must be >= 1, got 0",)),
    ("steps a word", _replace("steps = 10", 'steps = "ten"'), ("'ten'",)),
    ("unknown grid key", _replace("dx = 1e-3", "dx = 1e-3\nsize = 3"), ("unknown keys", "'size'")),
    ("grid shape empty", _replace("shape = [40, 30]", "shape = []"), ("grid shape", "()")),
    ("grid shape negative", _replace("shape = [40, 30]", "shape = [40, -30]"), ("(40, -30)",)),
    ("grid shape a string", _replace("shape = [40, 30]", 'shape = "40x30"'), ("'40x30'",)),
    ("dx zero", _replace("dx = 1e-3", "dx = 0.0"), ("dx must be positive, got 0.0",)),
    ("Courant violation", _replace("dx = 1e-3", "dx = 1e-3\ncourant = 0.9"), ("Courant number 0.9", "stability limit")),
    ("dtype", _replace("dx = 1e-3", 'dx = 1e-3\ndtype = "float16"'), ("'float16'",)),
    ("unknown boundary", _replace('boundary = "pec"', 'boundary = "open"'), ("'open'",)),
    ("pml too thick", _replace('boundary = "pec"', 'boundary = "pml"\npml_cells = 30'), ("30-cell",)),
    ("material shape", GOOD + '[[materials]]\nshape = "cone"\n', ("materials[0]", "'cone'")),
    (
        "sphere without radius",
        GOOD + '[[materials]]\nshape = "sphere"\ncentre = [0.01, 0.01]\n',
        ("materials[0]", "'radius'"),
    ),
    (
        "negative eps",
        GOOD + '[[materials]]\nshape = "box"\nlower = [0.0]\nupper = [0.01]\neps = -4.0\n',
        ("eps", "-4.0"),
    ),
    ("source type", _replace('type = "point"', 'type = "laser"'), ("sources[0]", "'laser'")),
    ("source without position", _replace("position = [10, 15]", ""), ("sources[0]", "'position'")),
    ("source component", _replace("position = [10, 15]", 'position = [10, 15]\ncomponent = "hz"'), ("'hz'",)),
    (
        "waveform",
        _replace("position = [10, 15]", 'position = [10, 15]\nwaveform = "square"'),
        ("sources[0]", "'square'"),
    ),
    (
        "cw without frequency",
        _replace("position = [10, 15]", 'position = [10, 15]\nwaveform = "cw"'),
        ("sources[0]", "'frequency'"),
    ),
    ("source outside the grid", _replace("position = [10, 15]", "position = [50, 15]"), ("sources[0]", "(50, 15)")),
    ("monitor type", _replace('type = "probe"', 'type = "camera"'), ("monitors[0]", "'camera'")),
    ("monitor without type", _replace('type = "probe"', ""), ("monitors[0]", "'type'")),
    ("probe outside the grid", _replace("position = [30, 15]", "position = [30, 99]"), ("monitors[0]", "(30, 99)")),
    (
        "dft region malformed",
        GOOD + '[[monitors]]\ntype = "dft"\nfrequencies = [1e9]\nregion = [[0, 1, 2]]\n',
        ("monitors[1]",),
    ),
    (
        "flux without axis",
        GOOD + '[[monitors]]\ntype = "flux"\nindex = 3\nfrequencies = [1e9]\n',
        ("monitors[1]", "'axis'"),
    ),
    ("grid of 27e9 cells", _replace("shape = [40, 30]", "shape = [3000, 3000, 3000]"), ("(3000, 3000, 3000)",)),
    ("not UTF-8", "steps = 10\n# \xff\n", ()),
]

KNOWN: dict[str, str] = {}  # label -> the fix, for a case that documents a known defect (strict xfail)


CAPPED = {"grid of 27e9 cells"}


def _params() -> list[object]:
    return [
        pytest.param(
            text,
            named,
            label in CAPPED,
            id=label,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN[label])] if label in KNOWN else [],
        )
        for label, text, named in MALFORMED
    ]


def _load_in_a_capped_process(path: Path) -> dict[str, object]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "HYPERION_KERNELS": "reference"}
    result = subprocess.run(
        [sys.executable, str(WORKER), str(path), str(LIMIT)], capture_output=True, text=True, timeout=120, env=env
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _load_here(path: Path) -> dict[str, object]:
    tracemalloc.start()
    outcome: dict[str, object] = {"error": None, "message": ""}
    try:
        load_scenario(path)
    except Exception as exc:  # noqa: BLE001 - the type is what the test checks
        outcome = {"error": type(exc).__name__, "message": str(exc)}
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return {**outcome, "peak": peak}


@pytest.mark.parametrize(("text", "named", "capped"), _params())
def test_a_malformed_scenario_is_rejected_naming_the_entry(
    tmp_path: Path, text: str, named: tuple[str, ...], capped: bool
) -> None:
    path = tmp_path / "scenario.toml"
    path.write_bytes(text.encode("latin-1"))
    outcome = _load_in_a_capped_process(path) if capped else _load_here(path)
    assert outcome["error"] == "ScenarioError", outcome
    message = str(outcome["message"])
    assert all(name in message for name in named), f"{message!r} does not name {named}"
    assert int(outcome["peak"]) < PEAK, f"loading took {int(outcome['peak']) / 2**20:.1f} MiB"


def test_the_good_scenario_loads(tmp_path: Path) -> None:
    path = tmp_path / "scenario.toml"
    path.write_text(GOOD)
    sim, steps, _ = load_scenario(path)
    assert steps == 10 and sim.grid.shape == (40, 30, 1)


def test_a_missing_scenario_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="nothing.toml: cannot read"):
        load_scenario(tmp_path / "nothing.toml")
