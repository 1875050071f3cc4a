"""Greedy vs random vs Kahn execution orders over many random DAGs.

For every size N and every seed, the graph is ``random_dag(N, seed)`` and the three orders
are the ones ``hyperion-autograd schedule --random N --seed seed`` reports (the random order
draws from ``order_rng(seed)``). For each baseline (random order, Kahn FIFO) it reports the
reduction of the peak live memory achieved by the greedy order,
``100 * (1 - peak_greedy / peak_baseline)``, as mean and median over seeds, how often the
greedy peak is lower (win), equal (tie) or higher (loss), and the same mean reduction for the
*average* live memory over the steps. It also times the greedy scheduler, and on small
graphs (``--exact-size``, default 14 nodes) compares every order with the optimal peak found
by exhaustive search.

Usage:
    python bench/scheduler_sweep.py                   # 100 seeds at N=100 and N=1000
    python bench/scheduler_sweep.py --seeds 20 --sizes 100 1000 10000 --json
    python bench/scheduler_sweep.py --quick             # 5 seeds at N=100: a smoke run
    python bench/scheduler_sweep.py --output results.json   # also write the JSON atomically
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import parser as common_parser
from _common import write_json_atomic

from hyperion.autograd.scheduler import (
    greedy_order,
    kahn_order,
    memory_profile,
    optimal_order,
    order_rng,
    peak_memory,
    random_dag,
    random_order,
)

ORDERS = ("random", "kahn", "greedy")


def measure(n: int, seed: int) -> dict[str, Any]:
    """Peak and mean live bytes of the three orders of ``random_dag(n, seed)``."""
    graph = random_dag(n, seed)
    started = time.perf_counter()
    greedy = greedy_order(graph)
    greedy_s = time.perf_counter() - started
    orders = {
        "random": random_order(graph, order_rng(seed)),
        "kahn": kahn_order(graph),
        "greedy": greedy,
    }
    row: dict[str, Any] = {"greedy_s": greedy_s}
    for name, order in orders.items():
        profile = memory_profile(graph, order)
        row[f"peak_{name}"] = int(profile.max())
        row[f"mean_{name}"] = float(profile.mean())
    return row


def versus(rows: list[dict[str, Any]], baseline: str) -> dict[str, Any]:
    """How the greedy order compares with ``baseline`` over ``rows`` (one row per seed)."""
    greedy = np.array([r["peak_greedy"] for r in rows], dtype=float)
    base = np.array([r[f"peak_{baseline}"] for r in rows], dtype=float)
    reduction = 100.0 * (1.0 - greedy / base)
    mean_reduction = 100.0 * (1.0 - np.array([r["mean_greedy"] / r[f"mean_{baseline}"] for r in rows]))
    return {
        "mean_reduction_pct": round(float(reduction.mean()), 2),
        "median_reduction_pct": round(float(np.median(reduction)), 2),
        "min_reduction_pct": round(float(reduction.min()), 2),
        "max_reduction_pct": round(float(reduction.max()), 2),
        "wins": int(np.sum(greedy < base)),
        "ties": int(np.sum(greedy == base)),
        "losses": int(np.sum(greedy > base)),
        "mean_live_reduction_pct": round(float(mean_reduction.mean()), 2),
        "mean_live_wins": int(np.sum(mean_reduction > 0)),
    }


def versus_optimal(n: int, seeds: int) -> dict[str, Any]:
    """Gap of each order's peak above the exact minimum, over ``seeds`` graphs of ``n`` nodes."""
    gaps: dict[str, list[float]] = {name: [] for name in ORDERS}
    for seed in range(seeds):
        graph = random_dag(n, seed)
        best, _ = optimal_order(graph, max_nodes=n)
        orders = {
            "random": random_order(graph, order_rng(seed)),
            "kahn": kahn_order(graph),
            "greedy": greedy_order(graph),
        }
        for name, order in orders.items():
            gaps[name].append(100.0 * (peak_memory(graph, order) / best - 1.0))
    return {
        name: {
            "mean_gap_pct": round(float(np.mean(g)), 2),
            "optimal_count": int(np.sum(np.isclose(g, 0.0))),
        }
        for name, g in gaps.items()
    }


def sweep(sizes: list[int], seeds: int, exact_size: int = 0) -> dict[str, Any]:
    """Run every (size, seed) pair and summarise per size."""
    results: dict[str, Any] = {}
    total, done = len(sizes) * seeds, 0
    for n in sizes:
        rows = []
        for seed in range(seeds):
            rows.append(measure(n, seed))
            done += 1
            if sys.stderr.isatty():
                print(f"\r{done}/{total} graphs", end="", file=sys.stderr, flush=True)
        results[str(n)] = {
            "vs_random": versus(rows, "random"),
            "vs_kahn": versus(rows, "kahn"),
            "greedy_ms_median": round(1e3 * float(np.median([r["greedy_s"] for r in rows])), 3),
        }
    if sys.stderr.isatty():
        print(file=sys.stderr)
    report = {"benchmark": "scheduler_sweep", "seeds": seeds, "sizes": sizes, "results": results}
    if exact_size:
        report["exact"] = {"nodes": exact_size, **versus_optimal(exact_size, seeds)}
    return report


def print_table(report: dict[str, Any]) -> None:
    """The human-readable summary."""
    print(f"greedy vs baseline over {report['seeds']} seeds (peak reduction = 1 - greedy/baseline)")
    header = (
        f"{'N':>6}  {'baseline':<8}{'mean':>8}{'median':>8}{'wins':>6}{'ties':>6}"
        f"{'losses':>8}{'avg-live':>10}{'greedy ms':>11}"
    )
    print(header)
    for n, result in report["results"].items():
        for baseline in ("random", "kahn"):
            s = result[f"vs_{baseline}"]
            print(
                f"{n:>6}  {baseline:<8}{s['mean_reduction_pct']:>7.1f}%"
                f"{s['median_reduction_pct']:>7.1f}%{s['wins']:>6}{s['ties']:>6}{s['losses']:>8}"
                f"{s['mean_live_reduction_pct']:>9.1f}%{result['greedy_ms_median']:>11.2f}"
            )
    if "exact" in report:
        exact = report["exact"]
        print(f"\npeak above the optimum (exhaustive search), N={exact['nodes']}:")
        for name in ORDERS:
            e = exact[name]
            print(
                f"  {name:<8}mean gap {e['mean_gap_pct']:5.1f}%, "
                f"optimal on {e['optimal_count']}/{report['seeds']} graphs"
            )


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = common_parser(__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, help="seeds per size (default: 100, 5 with --quick)")
    parser.add_argument("--sizes", type=int, nargs="+", help="graph sizes N (default: 100 1000, 100 with --quick)")
    parser.add_argument(
        "--exact-size",
        type=int,
        help="also compare with the exhaustive optimum on graphs of this many nodes (0: skip; default 14, 8 with --quick)",
    )
    parser.add_argument("--out", dest="output", type=Path, help="the same as --output")
    args = parser.parse_args(argv)
    args.seeds = args.seeds if args.seeds is not None else (5 if args.quick else 100)
    args.sizes = args.sizes if args.sizes is not None else ([100] if args.quick else [100, 1000])
    args.exact_size = args.exact_size if args.exact_size is not None else (8 if args.quick else 14)
    if args.seeds < 1 or any(n < 1 for n in args.sizes):
        parser.error("--seeds and every --sizes value must be positive")
    if not 0 <= args.exact_size <= 20:
        parser.error("--exact-size must be between 0 and 20 (the search is exponential)")
    report = sweep(args.sizes, args.seeds, args.exact_size)
    print_table(report)
    if args.output is not None:
        write_json_atomic(args.output, report)
    if args.json:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
