"""Per-op overhead of hyperion.autograd on tiny tensors, forward + backward, next to PyTorch (CPU).

On 3 or 100 float32 elements the arithmetic costs almost nothing; what is timed is the
machinery of reverse mode: wrapping the result, recording a node per op, sorting the graph,
calling each node's backward, accumulating into ``.grad``. Every case is one small program of
one or two differentiable ops ending in a scalar, run in full -- forward, then ``backward()`` --
by hyperion.autograd and by PyTorch, interleaved in one process (see ``_common``). Before each
call the leaves' ``.grad`` is reset to ``None`` in both libraries, as a training step's
``zero_grad`` would, so every call takes the same path.

It reports microseconds per call of each library, the ratio hyperion/PyTorch per case (the
median of the per-repeat ratios) and the median of those ratios over all cases. The goal
(issue 3) is a median ratio of at most 3. With ``--forward`` the forward alone (graph
construction, no backward) is timed too, which splits each cost into its two halves.

    python bench/autograd_overhead.py            # full run (about two minutes)
    python bench/autograd_overhead.py --quick    # smoke run (seconds)
    python bench/autograd_overhead.py --json     # ... and one JSON object as the last line

PyTorch is the reference: without it only hyperion's times are printed.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from _common import (
    Contender,
    emit,
    format_machine,
    format_table,
    machine_description,
    measure,
    median,
    optional_torch,
    paired_ratio,
    parser,
    progress,
    progress_done,
)

import hyperion.autograd as ag
from hyperion.autograd import __version__ as autograd_version

GOAL = 3.0  # hyperion / PyTorch, median over the cases


@dataclass
class Case:
    """One program: its leaves (NumPy arrays, all requiring grad) and the expression of the loss."""

    label: str
    loss: str
    leaves: Mapping[str, np.ndarray]

    def namespace(self, library: str, torch: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, array in self.leaves.items():
            copy = array.copy()  # each library owns its inputs
            if library == "hyperion":
                out[name] = ag.tensor(copy, requires_grad=True)
            else:
                out[name] = torch.tensor(copy, requires_grad=True)
        return out

    def statement(self, forward_only: bool) -> str:
        reset = "; ".join(f"{name}.grad = None" for name in self.leaves)
        return f"{self.loss}" if forward_only else f"{reset}; ({self.loss}).backward()"


def cases() -> list[Case]:
    rng = np.random.default_rng(0)

    def uniform(*shape: int) -> np.ndarray:
        # In [0.5, 1): exp and tanh stay in their comfortable range.
        return (0.5 + 0.5 * rng.random(shape, dtype=np.float32)).astype(np.float32)

    out: list[Case] = []
    # 3 elements, then 100; the matrix cases use 4x4 and 10x10 (16 and 100 elements).
    for n, side, rows, cols in ((3, 4, 1, 3), (100, 10, 10, 10)):
        x, y = uniform(n), uniform(n)
        programs = [
            ("(x * y).sum()", f"n={n}", {"x": x, "y": y}),
            ("x.exp().sum()", f"n={n}", {"x": x}),
            ("x.tanh().mean()", f"n={n}", {"x": x}),
            ("(x + 2.5).sum()", f"n={n}", {"x": x}),
            ("(a @ w).sum()", f"{side}x{side}", {"a": uniform(side, side), "w": uniform(side, side)}),
            (f"x.reshape({rows}, {cols}).sum()", f"n={n}", {"x": x}),
            ("m.transpose(0, 1).sum()", f"{rows}x{cols}", {"m": uniform(rows, cols)}),
            ("x[1:].sum()", f"n={n}", {"x": x}),
        ]
        out += [Case(f"{loss:<26} {size}", loss, leaves) for loss, size, leaves in programs]
    return out


def check_same_gradients(case: Case, torch: Any) -> None:
    """Both libraries must compute the same gradients, or the timings compare different things."""
    mine, theirs = case.namespace("hyperion", torch), case.namespace("torch", torch)
    exec(case.statement(False), {}, mine)
    exec(case.statement(False), {}, theirs)
    for name in case.leaves:
        np.testing.assert_allclose(mine[name].grad.numpy(), theirs[name].grad.numpy(), rtol=1e-5, atol=1e-6)


def run(quick: bool, repeats: int, forward: bool) -> dict[str, Any]:
    torch = optional_torch()
    target_s = 0.002 if quick else 0.02
    libraries = ("hyperion", "torch") if torch is not None else ("hyperion",)
    results = []
    all_cases = cases()
    for k, case in enumerate(all_cases, start=1):
        progress(f"[{k}/{len(all_cases)}] {case.label}")
        if torch is not None:
            check_same_gradients(case, torch)
        contenders = [Contender(lib, case.statement(False), case.namespace(lib, torch)) for lib in libraries]
        if forward:
            contenders += [
                Contender(f"{lib} forward", case.statement(True), case.namespace(lib, torch)) for lib in libraries
            ]
        samples = measure(contenders, repeats, target_s)
        row: dict[str, Any] = {"case": case.label, "us": {name: median(v) * 1e6 for name, v in samples.items()}}
        if torch is not None:
            row["ratio"] = paired_ratio(samples["hyperion"], samples["torch"])
            if forward:
                row["ratio_forward"] = paired_ratio(samples["hyperion forward"], samples["torch forward"])
        results.append(row)
    progress_done()
    payload: dict[str, Any] = {
        "benchmark": "autograd_overhead",
        "quick": quick,
        "repeats": repeats,
        "unit": "us per call (forward + backward)",
        "machine": {**machine_description(), "hyperion_autograd": autograd_version},
        "cases": results,
    }
    if torch is not None:
        ratios = [r["ratio"] for r in results]
        payload["median_ratio"] = statistics.median(ratios)
        payload["max_ratio"] = max(ratios)
        payload["goal"] = GOAL
        payload["goal_met"] = payload["median_ratio"] <= GOAL
        if forward:
            payload["median_ratio_forward"] = statistics.median(r["ratio_forward"] for r in results)
    return payload


def report(payload: Mapping[str, Any]) -> str:
    has_torch = "median_ratio" in payload
    forward = has_torch and "median_ratio_forward" in payload
    headers = ["case (forward + backward)", "hyperion us"] + (["torch us", "hyp/torch"] if has_torch else [])
    if forward:
        headers += ["fwd: hyperion us", "torch us", "hyp/torch"]
    rows = []
    for r in payload["cases"]:
        us = r["us"]
        row = [r["case"], f"{us['hyperion']:.1f}"]
        if has_torch:
            row += [f"{us['torch']:.1f}", f"{r['ratio']:.2f}x"]
        if forward:
            row += [f"{us['hyperion forward']:.1f}", f"{us['torch forward']:.1f}", f"{r['ratio_forward']:.2f}x"]
        rows.append(row)
    title = (
        f"hyperion.autograd per-op overhead, float32, forward + backward, median of {payload['repeats']} "
        "interleaved repeats" + (" (quick)" if payload["quick"] else "")
    )
    parts = [title, format_machine(payload["machine"]), format_table(headers, rows)]
    if has_torch:
        verdict = "met" if payload["goal_met"] else "NOT met"
        line = (
            f"median hyperion/torch over {len(rows)} cases: {payload['median_ratio']:.2f}x "
            f"(worst {payload['max_ratio']:.2f}x); goal <= {payload['goal']:.0f}x: {verdict}"
        )
        if forward:
            line += f"\nforward alone: median {payload['median_ratio_forward']:.2f}x"
        parts.append(line)
    return "\n\n".join(parts)


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--forward", action="store_true", help="also time the forward alone (graph construction)")
    args = p.parse_args()
    repeats = args.repeats or (3 if args.quick else 11)
    payload = run(args.quick, repeats, args.forward)
    emit(args, report(payload), payload)


if __name__ == "__main__":
    main()
