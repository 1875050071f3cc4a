"""Numerical faults in GPT training: a loss that turns NaN stops the run with a clear message and the
checkpoint in place stays the last good one; logits of ±1e4 give a finite loss and gradient.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hyperion.autograd as ag
from hyperion.gpt import GPT, GPTConfig, TrainConfig, load_run, train
from hyperion.gpt import model as model_module
from hyperion.nn import checkpoint

from .conftest import TEXT, TINY_FLAGS, run_main

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def _config(out: Path) -> TrainConfig:
    return TrainConfig(
        data=TEXT, from_text=True, out_dir=str(out), n_layer=1, n_head=2, n_embd=16, block_size=16,
        batch_size=4, max_iters=12, warmup_iters=1, eval_interval=2, eval_iters=1, sample_tokens=0,
    )  # fmt: skip


def test_a_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path: Path, monkeypatch: Any) -> None:
    """The loss is poisoned from the 7th training forward on: iteration 6's checkpoint must survive."""
    original = model_module.GPT.forward
    calls = {"train": 0}

    def poisoned(self: GPT, idx: Any, targets: Any = None, **options: Any) -> Any:
        logits, loss = original(self, idx, targets, **options)
        if loss is not None and self.training:
            calls["train"] += 1
            if calls["train"] >= 7:
                loss = loss * ag.tensor(np.float32(np.nan))
        return logits, loss

    monkeypatch.setattr(model_module.GPT, "forward", poisoned)
    with pytest.raises(FloatingPointError, match=r"nan.*iteration 7|iteration 7.*nan"):
        train(_config(tmp_path), progress=False)
    monkeypatch.undo()
    model, _, extra = load_run(tmp_path)
    assert extra["iteration"] == 6
    assert all(np.isfinite(p.detach().numpy()).all() for p in model.parameters())
    assert np.isfinite(extra["history"]["loss"]).all()


def test_the_cli_reports_a_diverging_run_in_one_line(tmp_path: Path, text_file: Path) -> None:
    out = tmp_path / "run"
    result = run_main(
        "train", "--data", str(text_file), "--out", str(out), *TINY_FLAGS, "--max-iters", "8", "--eval-interval", "1",
        "--lr", "1e30", "--min-lr", "1e29", "--grad-clip", "0",
    )  # fmt: skip
    assert result.returncode in (1, 2) and "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("iter ")]
    assert len(lines) == 1 and "nan" in lines[0].lower(), result.stderr
    held = checkpoint.load(out / "ckpt.safetensors").extra
    assert np.isfinite(held["history"]["loss"]).all()


@pytest.mark.parametrize("positional", ["learned", "rope"])
def test_logits_of_1e4_give_a_finite_loss_and_gradient(positional: str) -> None:
    """A model whose LM head is scaled so the logits reach ±1e4 in float32."""
    model = GPT(GPTConfig(vocab_size=7, block_size=8, n_layer=1, n_head=2, n_embd=8, positional=positional), seed=0)
    state = model.state_dict()
    head = np.asarray(state["lm_head.weight"].detach().numpy())
    model.load_state_dict({**state, "lm_head.weight": np.sign(head).astype(np.float32) * np.float32(1e4 / 8)})
    ids = np.random.default_rng(0).integers(0, 7, (2, 8))
    logits, loss = model(ids, ids)
    assert np.abs(logits.detach().numpy()).max() > 1e3
    assert np.isfinite(loss.item())
    loss.backward()
    assert all(np.isfinite(p.grad.numpy()).all() for p in model.parameters() if p.grad is not None)
