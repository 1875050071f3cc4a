"""Crash safety: a process killed with SIGKILL while saving never leaves a corrupt or partial checkpoint."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from hyperion.nn import checkpoint

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")

# The child saves checkpoint after checkpoint of a ~4 MB model whose every weight equals the
# iteration number, which is also stored in ``extra``: a file mixing two saves would show it.
CHILD = r"""
import sys
import numpy as np
import hyperion.autograd as ag
from hyperion.nn import Module, Parameter, checkpoint, optim

class Model(Module):
    def __init__(self):
        super().__init__()
        self.weight = Parameter(ag.tensor(np.zeros((512, 512))))
        self.bias = Parameter(ag.tensor(np.zeros(512)))

model = Model()
opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
path = sys.argv[1]
iteration = 0
while True:
    iteration += 1
    for p in model.parameters():
        p.data[...] = float(iteration)
        p.grad = ag.tensor(np.zeros(p.shape))
    opt.step()
    checkpoint.save(path, model=model, optimizer=opt, extra={"iteration": iteration})
    if iteration == 1:
        print("ready", flush=True)
"""


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sigkill_while_saving_leaves_the_last_complete_checkpoint(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "ckpt.safetensors"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(float(np.random.default_rng(seed).uniform(0.05, 0.4)))
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        if child.stdout is not None:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL

    restored = checkpoint.load(path)
    iteration = restored.extra["iteration"]
    assert iteration >= 1
    for name in ("weight", "bias"):
        assert np.all(restored.tensors[name] == iteration), name
    # Only temporary files of an interrupted save may remain beside it, never under the real name.
    leftovers = [p.name for p in tmp_path.iterdir() if p != path]
    assert all(name.startswith(".ckpt.safetensors.") and name.endswith(".tmp") for name in leftovers), leftovers
