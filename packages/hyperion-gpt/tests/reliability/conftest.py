"""Shared fixtures: a tiny trained run (a few iterations of a one-layer model) and a CLI runner."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import traceback
from pathlib import Path

import pytest

from hyperion.gpt import TrainConfig, train

TEXT = "to be, or not to be, that is the question: whether 'tis nobler in the mind to suffer.\n" * 30

#: The flags of a run small enough to train in about a second.
TINY_FLAGS = (
    "--n-layer", "1", "--n-head", "2", "--n-embd", "16", "--block-size", "16", "--batch-size", "4",
    "--warmup-iters", "1", "--eval-iters", "1", "--sample-tokens", "0", "--no-progress",
)  # fmt: skip


def cli_command() -> list[str]:
    """The installed console script when there is one beside the interpreter, else ``python -m``."""
    script = Path(sys.executable).with_name("hyperion-gpt")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hyperion.gpt"]


def cli_env() -> dict[str, str]:
    """One BLAS thread, the reference kernels only, and no data set to find."""
    return {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "HYPERION_KERNELS": "reference",
        "HYPERION_DATA_DIR": "/nonexistent-hyperion-data",
    }


def run_cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``hyperion-gpt ARGS`` in a subprocess."""
    return subprocess.run(
        [*cli_command(), *args], capture_output=True, text=True, timeout=timeout, cwd=cwd, env=cli_env()
    )


def run_main(*args: str) -> subprocess.CompletedProcess[str]:
    """``hyperion.gpt.cli.main(ARGS)`` in this process, shaped like a finished subprocess.

    An exception escaping ``main`` is what would print a traceback: it is caught and its traceback
    becomes the stderr, so the same assertions serve both ways of running.
    """
    from hyperion.gpt.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            status = main(list(args), stdout=out, stderr=err)
        except SystemExit as exc:  # --help / --version
            status = exc.code if isinstance(exc.code, int) else 1
        except Exception:  # noqa: BLE001 - reported as the traceback a user would see
            err.write(traceback.format_exc())
            status = 1
    return subprocess.CompletedProcess(["hyperion-gpt", *args], status, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def text_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("text") / "input.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run folder holding a checkpoint of 2 iterations of a tiny char model."""
    out = tmp_path_factory.mktemp("run")
    config = TrainConfig(
        data=TEXT, from_text=True, out_dir=str(out), n_layer=1, n_head=2, n_embd=16, block_size=16,
        batch_size=4, max_iters=2, warmup_iters=1, eval_interval=2, eval_iters=1, sample_tokens=0,
    )  # fmt: skip
    train(config, progress=False)
    return out
