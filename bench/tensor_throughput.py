"""Throughput of hyperion.tensor on large float32 arrays, as a ratio to raw NumPy.

At 10^7 elements and more an op is bound by memory bandwidth, and a thin wrapper should cost
nothing: the goal is a ratio hyperion/NumPy of at most 1.1. Both libraries work on the **same
buffers** (the hyperion tensors wrap the NumPy arrays zero-copy), are timed interleaved in one
process (see ``_common``), and each case is run on contiguous inputs and on their transposed
views (NumPy then gets the same transposed views).

GB/s counts the bytes an op must move at least: every input element read once and every output
element written once (``a + b`` on n float32 moves 12n bytes; ``a.sum()`` moves 4n).

    python bench/tensor_throughput.py            # 4096 x 4096 (16.8 M elements), about a minute
    python bench/tensor_throughput.py --quick    # 1024 x 1024, a smoke run of seconds
    python bench/tensor_throughput.py --json     # ... and one JSON object as the last line
"""

from __future__ import annotations

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
    paired_ratio,
    parser,
    progress,
    progress_done,
)

import hyperion.tensor as ht

GOAL = 1.1


@dataclass(frozen=True)
class Op:
    label: str
    numpy: str
    hyperion: str
    arrays_read: int  # full-size inputs read
    arrays_written: int  # full-size outputs written (a reduction's small output is not counted)

    @property
    def kind(self) -> str:
        return "elementwise" if self.arrays_written else "reduction"


OPS = (
    Op("add  a+b", "a + b", "a + b", 2, 1),
    Op("mul  a*b", "a * b", "a * b", 2, 1),
    Op("exp(a)", "np.exp(a)", "a.exp()", 1, 1),
    Op("sum()", "a.sum()", "a.sum()", 1, 0),
    Op("sum(axis=0)", "a.sum(axis=0)", "a.sum(axis=0)", 1, 0),
    Op("sum(axis=1)", "a.sum(axis=1)", "a.sum(axis=1)", 1, 0),
    Op("max()", "a.max()", "a.max()", 1, 0),
)


def run(quick: bool, repeats: int) -> dict[str, Any]:
    side = 1024 if quick else 4096
    rng = np.random.default_rng(0)
    a = rng.random((side, side), dtype=np.float32)
    b = rng.random((side, side), dtype=np.float32)
    layouts = {
        "contiguous": ({"a": a, "b": b}, {"a": ht.from_numpy(a), "b": ht.from_numpy(b)}),
        "transposed": ({"a": a.T, "b": b.T}, {"a": ht.from_numpy(a).T, "b": ht.from_numpy(b).T}),
    }
    itemsize = a.itemsize
    results = []
    jobs = [(name, op) for name in layouts for op in OPS]
    for k, (layout_name, op) in enumerate(jobs, start=1):
        progress(f"[{k}/{len(jobs)}] {layout_name} {op.label}")
        np_inputs, ht_inputs = layouts[layout_name]
        contenders = [
            Contender("hyperion", op.hyperion, {"np": np, **ht_inputs}),
            Contender("numpy", op.numpy, {"np": np, **np_inputs}),
        ]
        samples = measure(contenders, repeats, target_s=0.01 if quick else 0.05)
        nbytes = (op.arrays_read + op.arrays_written) * a.size * itemsize
        seconds = {name: median(values) for name, values in samples.items()}
        results.append(
            {
                "layout": layout_name,
                "kind": op.kind,
                "op": op.label,
                "ms": {name: s * 1e3 for name, s in seconds.items()},
                "gb_per_s": {name: nbytes / s / 1e9 for name, s in seconds.items()},
                "ratio_to_numpy": paired_ratio(samples["hyperion"], samples["numpy"]),
            }
        )
    progress_done()
    ratios: dict[str, list[float]] = {}
    for r in results:
        ratios.setdefault(f"{r['layout']} {r['kind']}", []).append(r["ratio_to_numpy"])
    return {
        "benchmark": "tensor_throughput",
        "quick": quick,
        "repeats": repeats,
        "shape": [side, side],
        "elements": int(a.size),
        "dtype": "float32",
        "goal_ratio": GOAL,
        "machine": machine_description(),
        "cases": results,
        "summary": {
            name: {"median_ratio": median(values), "max_ratio": max(values), "within_goal": max(values) <= GOAL}
            for name, values in ratios.items()
        },
    }


def report(payload: Mapping[str, Any]) -> str:
    headers = ["layout / op", "hyperion ms", "numpy ms", "hyperion GB/s", "numpy GB/s", "hyp/np", "goal"]
    rows = [
        [
            f"{r['layout']:<10} {r['op']}",
            f"{r['ms']['hyperion']:.2f}",
            f"{r['ms']['numpy']:.2f}",
            f"{r['gb_per_s']['hyperion']:.1f}",
            f"{r['gb_per_s']['numpy']:.1f}",
            f"{r['ratio_to_numpy']:.2f}x",
            "ok" if r["ratio_to_numpy"] <= payload["goal_ratio"] else "OVER",
        ]
        for r in payload["cases"]
    ]
    summary = format_table(
        ["layout and kind", "median hyp/np", "max hyp/np", f"all <= {payload['goal_ratio']}"],
        [
            [name, f"{s['median_ratio']:.2f}x", f"{s['max_ratio']:.2f}x", "yes" if s["within_goal"] else "no"]
            for name, s in payload["summary"].items()
        ],
    )
    rows_, cols = payload["shape"]
    title = (
        f"hyperion.tensor throughput, float32 {rows_}x{cols} ({payload['elements'] / 1e6:.1f} M elements), "
        f"median of {payload['repeats']} interleaved repeats" + (" (quick)" if payload["quick"] else "")
    )
    return "\n\n".join([title, format_machine(payload["machine"]), format_table(headers, rows), summary])


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    repeats = args.repeats or (3 if args.quick else 11)
    payload = run(args.quick, repeats)
    emit(args, report(payload), payload)


if __name__ == "__main__":
    main()
