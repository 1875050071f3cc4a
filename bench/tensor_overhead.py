"""Per-call overhead of hyperion.tensor on tiny inputs, next to NumPy and PyTorch (CPU).

On a 3-element array the arithmetic is free: what is timed is everything around it (argument
checks, dispatch, wrapping the result). Each case runs the same operation in the three
libraries, interleaved in one process (see ``_common``), and reports microseconds per call and
the ratios hyperion/NumPy and hyperion/PyTorch (the median of the per-repeat ratios).

    python bench/tensor_overhead.py            # full run (about a minute)
    python bench/tensor_overhead.py --quick    # smoke run (seconds)
    python bench/tensor_overhead.py --json     # ... and one JSON object as the last line

PyTorch is optional: without it, its column is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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

import hyperion.tensor as ht

LIBRARIES = ("hyperion", "numpy", "torch")


@dataclass
class Case:
    """One operation: the inputs (as NumPy arrays) and the statement each library runs."""

    group: str
    label: str
    stmt: str
    inputs: Mapping[str, np.ndarray]
    overrides: Mapping[str, str] = field(default_factory=dict)

    def contenders(self, torch: Any) -> list[Contender]:
        out = []
        for library in LIBRARIES:
            if library == "torch" and torch is None:
                continue
            namespace: dict[str, Any] = {"np": np}
            for name, array in self.inputs.items():
                copy = array.copy()  # each library owns its inputs
                if library == "hyperion":
                    namespace[name] = ht.from_numpy(copy)
                elif library == "torch":
                    namespace[name] = torch.from_numpy(copy)
                else:
                    namespace[name] = copy
            out.append(Contender(library, self.overrides.get(library, self.stmt), namespace))
        return out


def cases() -> list[Case]:
    rng = np.random.default_rng(0)

    def uniform(*shape: int) -> np.ndarray:
        # In [0.5, 1): exp stays finite and nothing divides by zero.
        return (0.5 + 0.5 * rng.random(shape, dtype=np.float32)).astype(np.float32)

    out: list[Case] = []
    for n in (3, 100):
        pair = {"a": uniform(n), "b": uniform(n)}
        out += [
            Case("elementwise", f"add a+b      n={n}", "a + b", pair),
            Case("elementwise", f"mul a*b      n={n}", "a * b", pair),
            Case("elementwise", f"exp(a)       n={n}", "a.exp()", pair, {"numpy": "np.exp(a)"}),
            Case("elementwise", f"add a+2.5    n={n}", "a + 2.5", pair),
        ]
    out += [
        Case("reduction", "sum()        n=3", "a.sum()", {"a": uniform(3)}),
        Case("reduction", "sum()        n=100", "a.sum()", {"a": uniform(100)}),
        Case("reduction", "sum(axis=1)  10x10", "a.sum(axis=1)", {"a": uniform(10, 10)}, {"torch": "a.sum(dim=1)"}),
        Case("matmul", "a@b          4x4", "a @ b", {"a": uniform(4, 4), "b": uniform(4, 4)}),
        Case("matmul", "a@b          16x16", "a @ b", {"a": uniform(16, 16), "b": uniform(16, 16)}),
    ]
    cube = {"a": uniform(4, 8, 16), "c": uniform(4, 1, 16)}
    out += [
        Case("view", "reshape(32,16)", "a.reshape(32, 16)", cube),
        Case("view", "transpose(0,1)", "a.transpose(0, 1)", cube, {"numpy": "a.swapaxes(0, 1)"}),
        Case("view", "permute(2,0,1)", "a.permute(2, 0, 1)", cube, {"numpy": "a.transpose(2, 0, 1)"}),
        Case("view", "a[:, ::2, 1::3]", "a[:, ::2, 1::3]", cube),
        Case("view", "expand(4,8,16)", "c.expand(4, 8, 16)", cube, {"numpy": "np.broadcast_to(c, (4, 8, 16))"}),
        Case("view", "unsqueeze(1)", "a.unsqueeze(1)", cube, {"numpy": "a[:, None]"}),
        Case("view+op", "a.mT * 2.0", "a.mT * 2.0", cube),
        Case("view+op", "a.mT.contiguous()", "a.mT.contiguous()", cube, {"numpy": "np.ascontiguousarray(a.mT)"}),
    ]
    return out


def run(quick: bool, repeats: int) -> dict[str, Any]:
    torch = optional_torch()
    target_s = 0.002 if quick else 0.02
    results = []
    all_cases = cases()
    for k, case in enumerate(all_cases, start=1):
        progress(f"[{k}/{len(all_cases)}] {case.label}")
        samples = measure(case.contenders(torch), repeats, target_s)
        results.append(
            {
                "group": case.group,
                "case": case.label,
                "us": {name: median(values) * 1e6 for name, values in samples.items()},
                "ratio": {
                    name: paired_ratio(samples["hyperion"], samples[name]) for name in samples if name != "hyperion"
                },
            }
        )
    progress_done()
    summary: dict[str, dict[str, float]] = {}
    for group in dict.fromkeys(r["group"] for r in results):
        rows = [r for r in results if r["group"] == group]
        summary[group] = {name: median([r["ratio"][name] for r in rows]) for name in rows[0]["ratio"]}
    return {
        "benchmark": "tensor_overhead",
        "quick": quick,
        "repeats": repeats,
        "unit": "us per call",
        "machine": machine_description(),
        "cases": results,
        "summary_median_ratio": summary,
    }


def report(payload: Mapping[str, Any]) -> str:
    has_torch = "torch" in payload["machine"]
    headers = ["case", "hyperion us", "numpy us"] + (["torch us"] if has_torch else []) + ["hyp/np"]
    headers += ["hyp/torch"] if has_torch else []
    rows = []
    for r in payload["cases"]:
        us, ratio = r["us"], r["ratio"]
        row = [f"{r['group']:<11} {r['case']}", f"{us['hyperion']:.2f}", f"{us['numpy']:.2f}"]
        row += [f"{us['torch']:.2f}"] if has_torch else []
        row += [f"{ratio['numpy']:.2f}x"] + ([f"{ratio['torch']:.2f}x"] if has_torch else [])
        rows.append(row)
    summary = format_table(
        ["median ratio by group", "hyp/np"] + (["hyp/torch"] if has_torch else []),
        [
            [group] + [f"{ratios[name]:.2f}x" for name in ("numpy", "torch") if name in ratios]
            for group, ratios in payload["summary_median_ratio"].items()
        ],
    )
    title = f"hyperion.tensor per-call overhead, float32, median of {payload['repeats']} interleaved repeats" + (
        " (quick)" if payload["quick"] else ""
    )
    return "\n\n".join([title, format_machine(payload["machine"]), format_table(headers, rows), summary])


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    repeats = args.repeats or (3 if args.quick else 11)
    payload = run(args.quick, repeats)
    emit(args, report(payload), payload)


if __name__ == "__main__":
    main()
