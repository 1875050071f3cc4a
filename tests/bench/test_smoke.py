"""Every script of ``bench/`` runs its ``--quick`` smoke version and ends with its JSON report.

The timings themselves belong to the full runs (``bench/README.md``); here each script must
finish, print one JSON object as the last line of stdout, and write the same object with
``--output``. Scripts that need a data set skip when ``$HYPERION_DATA_DIR`` does not hold it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCRIPTS = sorted(path.stem for path in BENCH.glob("*.py") if not path.stem.startswith("_"))
NEEDS_DATA = {"gpt_train": "tinyshakespeare"}


def test_every_script_is_listed_in_the_readme() -> None:
    readme = (BENCH / "README.md").read_text(encoding="utf-8")
    assert SCRIPTS and [name for name in SCRIPTS if f"`{name}.py`" not in readme] == []


@pytest.mark.parametrize("name", SCRIPTS)
def test_quick_run(name: str, tmp_path: Path) -> None:
    dataset = NEEDS_DATA.get(name)
    if dataset and not (Path(os.environ.get("HYPERION_DATA_DIR", "/nonexistent")) / dataset).exists():
        pytest.skip(f"{name} needs the {dataset} data set in $HYPERION_DATA_DIR")
    output = tmp_path / "report.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / f"{name}.py"), "--quick", "--json", "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0, f"{name} exited with {proc.returncode}:\n{proc.stderr[-4000:]}"
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert isinstance(report, dict) and report
    assert json.loads(output.read_text(encoding="utf-8")) == report
