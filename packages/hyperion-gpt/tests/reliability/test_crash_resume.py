"""Crash safety of ``hyperion-gpt train``: SIGKILL at random moments never leaves a bad checkpoint.

The run evaluates and checkpoints after every iteration (``--eval-interval 1``), so a kill at a
random moment often lands inside a save. For each seed the command is killed 0-30 ms after it
reports a random iteration k >= 2 (inside save k or while computing iteration k + 1); then

1. the checkpoint in place loads, its checksum holds, and ``load_run`` rebuilds model and tokenizer;
   it holds at least the iteration saved before the one the kill interrupted;
   the only other files left are the temporary files of an interrupted atomic write;
2. the losses it holds are the uninterrupted run's, bit for bit, up to its iteration;
3. ``--resume`` from it finishes the run with exactly the uninterrupted run's loss curve.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

from hyperion.gpt import load_run
from hyperion.nn import checkpoint

from .conftest import TINY_FLAGS, cli_command, cli_env

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")

ITERS = 12
RUN_FLAGS = (*TINY_FLAGS, "--max-iters", str(ITERS), "--eval-interval", "1", "--seed", "7")
ALLOWED_FILES = {"ckpt.safetensors", "history.json", "config.json", "tokenizer.json", "tokens"}


def _train(text: Path, out: Path, *extra: str) -> list[str]:
    return [*cli_command(), "train", "--data", str(text), "--out", str(out), *RUN_FLAGS, *extra]


def _losses(run: Path) -> list[str]:
    """Per-iteration losses of the checkpoint in ``run``, as float.hex (exact comparison)."""
    history = checkpoint.load(run / "ckpt.safetensors").extra["history"]
    assert history["iter"] == list(range(1, len(history["iter"]) + 1))
    return [float(v).hex() for v in history["loss"]]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, text_file: Path) -> list[str]:
    out = tmp_path_factory.mktemp("reference")
    subprocess.run(_train(text_file, out), check=True, capture_output=True, timeout=300, env=cli_env())
    losses = _losses(out)
    assert len(losses) == ITERS
    return losses


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sigkill_then_resume_reproduces_the_uninterrupted_loss_curve(
    tmp_path: Path, text_file: Path, reference: list[str], seed: int
) -> None:
    rng = np.random.default_rng(seed)
    wait_saves = int(rng.integers(2, ITERS - 1))  # the save of iteration 1 is complete before "iter 2"
    out = tmp_path / "run"
    child = subprocess.Popen(_train(text_file, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=cli_env())
    try:
        # The run reports "iter k: ..." just before it saves iteration k: wait for a random k, then
        # kill at a random moment after it - inside that save or while computing the next iteration.
        assert child.stderr is not None
        seen: list[bytes] = []
        while not (seen and seen[-1].startswith(f"iter {wait_saves}:".encode())):
            line = child.stderr.readline()
            assert line, f"the run ended before iteration {wait_saves}: {seen}"
            seen.append(line)
        time.sleep(float(rng.uniform(0.0, 0.03)))
    finally:
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=60)
    if child.returncode == 0:
        pytest.skip("the run finished before the kill: nothing to check")
    assert child.returncode == -signal.SIGKILL

    leftovers = sorted(p.name for p in out.iterdir() if p.name not in ALLOWED_FILES)
    assert all(name.startswith(".") and name.endswith(".tmp") for name in leftovers), leftovers
    held = checkpoint.load(out / "ckpt.safetensors")  # validates structure and checksum
    model, tokenizer, extra = load_run(out)
    assert extra["iteration"] == held.extra["iteration"] >= wait_saves - 1
    assert tokenizer.decode(tokenizer.encode("to be")) == "to be"
    before = _losses(out)
    assert before == reference[: len(before)], "the losses up to the kill differ from the uninterrupted run"

    resumed = subprocess.run(
        _train(text_file, out, "--resume", "--json"), capture_output=True, text=True, timeout=300, env=cli_env()
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout.strip().splitlines()[-1])["iters"] == ITERS
    after = _losses(out)
    mismatched = [i + 1 for i, (a, b) in enumerate(zip(after, reference, strict=True)) if a != b]
    assert not mismatched, f"resumed from iteration {len(before)}: losses differ at iterations {mismatched}"
