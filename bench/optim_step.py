"""Time of one optimizer step in hyperion.nn.optim next to torch.optim (CPU, float32).

Two parameter sets of six tensors each, the shapes of an MLP's weights and biases:

* ``mlp``: 784-512-512-10 (about 670k elements): the update arithmetic dominates;
* ``tiny``: the same six tensors with one element each: what is left is the per-step
  bookkeeping (looping over groups and parameters, state lookup, dispatch).

Gradients are set once and reused, so only ``step()`` is timed. Each case is the median
of several repeats of many steps, hyperion and PyTorch interleaved in one process.

    python bench/optim_step.py            # full run (about half a minute)
    python bench/optim_step.py --quick    # smoke run
    python bench/optim_step.py --json     # ... and one JSON object as the last line
    python bench/optim_step.py --output results.json   # also write it to a file (atomically)
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _common import parser as common_parser
from _common import write_json_atomic

import hyperion.autograd as ag
from hyperion.nn import Parameter, optim

SHAPES = {
    "mlp": [(784, 512), (512,), (512, 512), (512,), (512, 10), (10,)],
    "tiny": [(1, 1), (1,), (1, 1), (1,), (1, 1), (1,)],
}
OPTIMIZERS: dict[str, tuple[Callable[..., Any], str, dict[str, Any]]] = {
    "SGD+momentum": (optim.SGD, "SGD", {"lr": 1e-3, "momentum": 0.9}),
    "Adam": (optim.Adam, "Adam", {"lr": 1e-3}),
    "AdamW": (optim.AdamW, "AdamW", {"lr": 1e-3, "weight_decay": 0.01}),
    "RMSprop": (optim.RMSprop, "RMSprop", {"lr": 1e-3}),
}


def time_steps(step: Callable[[], Any], steps: int, repeats: int) -> float:
    """Median microseconds per call over ``repeats`` runs of ``steps`` calls."""
    step()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(steps):
            step()
        samples.append((time.perf_counter() - start) / steps * 1e6)
    return statistics.median(samples)


def main() -> None:
    args = common_parser(__doc__.splitlines()[0]).parse_args()
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    rng = np.random.default_rng(0)
    results = []
    for size, shapes in SHAPES.items():
        values = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        steps = (5 if args.quick else 50) if size == "mlp" else (50 if args.quick else 2000)
        repeats = args.repeats or (3 if args.quick else 7)
        for name, (ours_cls, torch_name, options) in OPTIMIZERS.items():
            params = [Parameter(ag.tensor(v.copy())) for v in values]
            for p, g in zip(params, grads):
                p.grad = ag.tensor(g)
            ours = time_steps(ours_cls(params, **options).step, steps, repeats)
            row = {"params": size, "optimizer": name, "hyperion_us": round(ours, 2)}
            if torch is not None:
                tparams = [torch.nn.Parameter(torch.tensor(v.copy())) for v in values]
                for p, g in zip(tparams, grads):
                    p.grad = torch.tensor(g)
                theirs = time_steps(getattr(torch.optim, torch_name)(tparams, **options).step, steps, repeats)
                row.update(torch_us=round(theirs, 2), ratio=round(ours / theirs, 2))
            results.append(row)
            print(
                f"{size:5s} {name:13s} hyperion {ours:9.1f} us"
                + (f"   torch {row['torch_us']:9.1f} us   ratio {row['ratio']:.2f}" if "torch_us" in row else "")
            )
    report = {"benchmark": "optim_step", "results": results}
    if args.output is not None:
        write_json_atomic(args.output, report)
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
