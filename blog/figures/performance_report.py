"""The performance report: the kernels' benchmark and the ``bench/`` scripts, against their anchors.

``--measure`` runs, one after the other and with the threads pinned (``OPENBLAS_NUM_THREADS=1``,
``NUMBA_NUM_THREADS=2`` unless already set):

- ``hyperion-kernels bench --json --out <tmpdir>`` (full mode: the roofline, then every op's
  kernel next to the composed NumPy version and PyTorch),
- the ``bench/`` scripts listed in :data:`BENCH_SCRIPTS`, each with ``--json``,

records the machine's load average before and after, and writes ``data/performance_report.json``
and the Markdown tables ``data/performance_tables.md`` (which ``blog/performance.md`` includes),
so the docs build never measures and every number on the page comes from committed data::

    OPENBLAS_NUM_THREADS=1 NUMBA_NUM_THREADS=2 HYPERION_DATA_DIR=<data> \\
        python blog/figures/performance_report.py --measure

``--collect DIR`` assembles the same report from outputs already produced by the same commands
(``DIR/kernels/report.json``, ``DIR/<script>.out``, the stdout of each script, and optionally
``DIR/load_before``, the load average taken before them), and
``--tables`` only rewrites the Markdown tables from the committed JSON.

The figure: each kernel's share of the roofline per op and shape, its speedup over the composed
NumPy version, and its speed relative to PyTorch.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import _results
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
DATA = HERE / "data" / "performance_report.json"
TABLES = HERE / "data" / "performance_tables.md"
KERNELS_COMMAND = ("hyperion-kernels", "bench", "--json")
# (name, extra arguments): each runs as ``python bench/<name>.py --json <extra>``.
BENCH_SCRIPTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("gpt_train", ("--repeats", "7")),
    ("fdtd_3d", ("--repeats", "3")),
    ("fdtd_grad", ()),
    ("tensor_throughput", ("--quick",)),
    ("autograd_mlp", ("--quick",)),
)
PINNED = {"OPENBLAS_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "2"}


def _script_command(name: str, extra: Sequence[str]) -> list[str]:
    return ["python", f"bench/{name}.py", "--json", *extra]


def _last_json_line(text: str, what: str) -> dict[str, Any]:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError(f"{what}: no JSON object on the last lines of its output: {text[-300:]!r}")


def _kernels_entry(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "command": " ".join(KERNELS_COMMAND),
        "machine": report["machine"],
        "results": report["results"],
        "errors": report.get("errors", {}),
    }


def measure() -> dict[str, Any]:
    """Run the kernels' benchmark and the bench scripts; returns the report (nothing written)."""
    env = {**os.environ, **{k: os.environ.get(k, v) for k, v in PINNED.items()}}
    data: dict[str, Any] = {"load_before": list(os.getloadavg()), "env": {k: env[k] for k in PINNED}, "scripts": {}}
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        subprocess.run([*KERNELS_COMMAND, "--out", folder], env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        data["kernels"] = _kernels_entry(json.loads((Path(folder) / "report.json").read_text()))
        data["kernels"]["wall_s"] = time.perf_counter() - start
    for name, extra in BENCH_SCRIPTS:
        command = _script_command(name, extra)
        print(f"running {shlex.join(command)}", file=sys.stderr, flush=True)
        start = time.perf_counter()
        done = subprocess.run(command, env=env, check=True, cwd=ROOT, capture_output=True, text=True)
        data["scripts"][name] = {
            "command": shlex.join(command),
            "wall_s": time.perf_counter() - start,
            "result": _last_json_line(done.stdout, name),
        }
    data["load_after"] = list(os.getloadavg())
    return data


def collect(folder: Path) -> dict[str, Any]:
    """The report from outputs already produced by the same commands (see the module docstring)."""
    data: dict[str, Any] = {"env": {k: os.environ.get(k, "unset") for k in PINNED}, "scripts": {}}
    if (folder / "load_before").exists():  # ``cut -d' ' -f1-3 /proc/loadavg`` taken before the runs
        data["load_before"] = [float(v) for v in (folder / "load_before").read_text().split()[:3]]
    data["kernels"] = _kernels_entry(json.loads((folder / "kernels" / "report.json").read_text()))
    for name, extra in BENCH_SCRIPTS:
        out = folder / f"{name}.out"
        data["scripts"][name] = {
            "command": shlex.join(_script_command(name, extra)),
            "result": _last_json_line(out.read_text(), str(out)),
        }
    data["load_after"] = list(os.getloadavg())
    return data


# --- the targets, judged from the data -------------------------------------------------


def _rows(data: dict[str, Any], op: str, impl: str) -> list[dict[str, Any]]:
    return [r for r in data["kernels"]["results"] if r["op"] == op and r["impl"] == impl]


def _shape(row: dict[str, Any]) -> str:
    return "×".join(map(str, row["shape"]))


def _softmax(data: dict[str, Any]) -> tuple[float, str]:
    """The target is set at 4096×4096 float32; the worst of the other shapes is stated beside it."""
    rows = _rows(data, "softmax", "cpu")
    (square,) = [r for r in rows if r["shape"] == [4096, 4096]]
    worst = min(rows, key=lambda r: r["speedup_vs_naive"])
    return square["speedup_vs_naive"], (
        f"at 4096×4096, the target's shape; worst of {len(rows)} shapes {worst['speedup_vs_naive']:.2f} ({_shape(worst)})"
    )


def _layernorm(data: dict[str, Any]) -> tuple[float, str]:
    rows = _rows(data, "layernorm", "cpu")
    worst = min(rows, key=lambda r: r["speedup_vs_naive"])
    return worst["speedup_vs_naive"], f"worst of {len(rows)} shapes ({_shape(worst)})"


def _attention_largest(data: dict[str, Any]) -> dict[str, Any]:
    return max(_rows(data, "attention", "cpu"), key=lambda r: math.prod(r["shape"]))


def _attention_memory(data: dict[str, Any]) -> tuple[float, str]:
    row = _attention_largest(data)
    return row["memory_fraction_of_naive"], f"peak extra memory / naive's, {_shape(row)}"


def _attention_time(data: dict[str, Any]) -> tuple[float, str]:
    row = _attention_largest(data)
    return 1.0 / row["speedup_vs_naive"], f"flash time / naive time, {_shape(row)}"


def _matmul(data: dict[str, Any]) -> tuple[float, str]:
    rows = [r for r in data["kernels"]["results"] if r["op"] == "matmul" and r["impl"] != "blas" and r.get("fraction_of_blas") is not None]
    best = max(rows, key=lambda r: r["fraction_of_blas"])
    return best["fraction_of_blas"], f"best rung: {best['impl']} at {_shape(best)}, vs BLAS side by side"


def _script(data: dict[str, Any], name: str) -> dict[str, Any]:
    return data["scripts"][name]["result"]


def _gpt(data: dict[str, Any]) -> tuple[float, str]:
    step = _script(data, "gpt_train")["step"]
    return step["ratio"], f"hyperion {step['ms']['hyperion']:.0f} ms vs PyTorch {step['ms']['torch']:.0f} ms per step"


def _fdtd3d(data: dict[str, Any]) -> tuple[float, str]:
    result = _script(data, "fdtd_3d")
    row = result["results"]["hyperion_numba"]
    return row["ratio_vs_flaport"], f"Numba kernel, {result['n']}³ grid, {row['mcells_per_s']:.0f} Mcells/s"


def _fdtd_grad(data: dict[str, Any]) -> tuple[float, str]:
    result = _script(data, "fdtd_grad")
    ratio = max(r["ratio_vs_forward"] for r in result["results"].values())
    return ratio, f"worst of forward+adjoint (kept / checkpointed), {result['n']}² × {result['steps']} steps"


def _tensor(data: dict[str, Any]) -> tuple[float, str]:
    result = _script(data, "tensor_throughput")
    worst = max(s["max_ratio"] for s in result["summary"].values())
    return worst, f"worst case of {len(result['cases'])}, {'×'.join(map(str, result['shape']))} float32"


# (target, anchor, direction, goal, judge, reproducing command)
TargetJudge = Callable[[dict[str, Any]], tuple[float, str]]
TARGETS: tuple[tuple[str, str, str, float, TargetJudge, str], ...] = (
    ("fused softmax speedup", "composed NumPy", ">=", 3.0, _softmax, "hyperion-kernels bench --op softmax"),
    ("LayerNorm fwd+bwd speedup", "composed NumPy", ">=", 2.0, _layernorm, "hyperion-kernels bench --op layernorm"),
    ("flash attention memory", "naive attention", "<=", 0.05, _attention_memory, "hyperion-kernels bench --op attention"),
    ("flash attention time", "naive attention", "<=", 1.0, _attention_time, "hyperion-kernels bench --op attention"),
    ("matmul ladder", "NumPy BLAS", ">=", 0.5, _matmul, "hyperion-kernels bench --op matmul"),
    ("GPT training step time", "PyTorch", "<=", 1.5, _gpt, "python bench/gpt_train.py --repeats 7"),
    ("FDTD 3-D speedup", "flaport/fdtd", ">=", 5.0, _fdtd3d, "python bench/fdtd_3d.py --repeats 3"),
    ("FDTD gradient time", "forward run", "<=", 3.0, _fdtd_grad, "python bench/fdtd_grad.py"),
    ("tensor throughput time", "raw NumPy", "<=", 1.1, _tensor, "python bench/tensor_throughput.py --quick"),
)


def judge(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with its measured value and whether it is met (``None`` if not measured)."""
    out = []
    for name, anchor, direction, goal, fn, command in TARGETS:
        try:
            value, note = fn(data)
        except (KeyError, ValueError, ZeroDivisionError, TypeError) as exc:
            value, note, met = None, f"not measured ({type(exc).__name__}: {exc})", None
        else:
            met = value >= goal if direction == ">=" else value <= goal
        out.append(
            {"target": name, "anchor": anchor, "direction": direction, "goal": goal, "value": value,
             "met": met, "note": note, "command": command}
        )
    return out


# --- the Markdown tables ---------------------------------------------------------------------


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _load(values: Sequence[float] | None) -> str:
    return "not recorded" if not values else " / ".join(f"{v:.2f}" for v in values)


def _mark(edge: str, section: str) -> str:
    """A pymdownx.snippets section marker (the page includes ``performance_tables.md:<section>``)."""
    return f"\n<!-- --8<-- [{edge}:{section}] -->\n"


def tables(data: dict[str, Any]) -> str:
    """The page's tables (machine, roofline, targets, kernels, bench scripts) as Markdown."""
    m = data["kernels"]["machine"]
    threads = ", ".join(f"`{k}={v}`" for k, v in m.get("threads", {}).items())
    lines = [
        _mark("start", "machine"),
        "| | |",
        "|---|---|",
        f"| CPU | {m.get('cpu')} ({m.get('machine')}), {m.get('usable_cpus')} of {m.get('logical_cpus')} logical CPUs usable |",
        f"| Software | Python {m.get('python')}, NumPy {m.get('numpy')}, Numba {m.get('numba')} "
        f"({m.get('numba_threads')} threads), PyTorch {m.get('torch', 'not installed')} ({m.get('torch_threads')} threads) |",
        f"| Thread settings | {threads} |",
        f"| Load average (1/5/15 min) | before: {_load(data.get('load_before'))}; after: {_load(data.get('load_after'))} |",
        _mark("end", "machine"),
        _mark("start", "roofline"),
        "| ceiling | measured | how |",
        "|---|---:|---|",
        f"| copy bandwidth | {_fmt(m.get('copy_gbps'))} GB/s | STREAM-like copy ({m.get('copy_impl')}); "
        + ", ".join(f"{k} {_fmt(v)} GB/s" for k, v in m.get("copy_gbps_by_impl", {}).items())
        + " |",
        f"| BLAS matmul | {_fmt(m.get('blas_gflops'))} GFLOP/s | NumPy `a @ b`, {m.get('blas_size')}² float32 |",
        _mark("end", "roofline"),
        _mark("start", "targets"),
        "| target | anchor | goal | measured | met | what | reproduce |",
        "|---|---|---:|---:|:---:|---|---|",
    ]
    for t in judge(data):
        met = "–" if t["met"] is None else ("met" if t["met"] else "**missed**")
        lines.append(
            f"| {t['target']} | {t['anchor']} | {t['direction']} {_fmt(t['goal'])} | {_fmt(t['value'])} | {met} | "
            f"{t['note']} | `{t['command']}` |"
        )
    lines += [
        _mark("end", "targets"),
        _mark("start", "kernels"),
        "Times are medians of interleaved repeats. *vs naive* = composed NumPy time / this time; "
        "*vs torch* = PyTorch time / this time (above 1: faster than PyTorch). % roofline is against "
        "copy bandwidth for memory-bound ops and BLAS for FLOP-bound ones.",
        "",
        "| op | impl | shape | time (ms) | GB/s | GFLOP/s | % roofline | vs naive | vs torch |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in data["kernels"]["results"]:
        roof = None if r.get("roofline_fraction") is None else 100 * r["roofline_fraction"]
        lines.append(
            f"| {r['op']} | {r['impl']} | {_shape(r)} {r['dtype']} | {r['seconds'] * 1e3:.3g} | {_fmt(r.get('gbps'))} | "
            f"{_fmt(r.get('gflops'))} | {_fmt(roof)} | {_fmt(r.get('speedup_vs_naive'))} | {_fmt(r.get('ratio_vs_torch'))} |"
        )
    for op, message in data["kernels"].get("errors", {}).items():
        lines.append(f"\n**{op} failed:** {message}")
    lines += [_mark("end", "kernels"), _mark("start", "scripts"), "| script | headline vs anchor | command |", "|---|---|---|"]
    for name, entry in data["scripts"].items():
        lines.append(f"| `bench/{name}.py` | {_headline(name, entry['result'])} | `{entry['command']}` |")
    lines.append(_mark("end", "scripts"))
    return "\n".join(lines) + "\n"


def _headline(name: str, r: dict[str, Any]) -> str:
    if name == "gpt_train":
        s = r["step"]
        return f"step {s['ms']['hyperion']:.0f} ms vs PyTorch {s['ms']['torch']:.0f} ms: ratio {s['ratio']:.2f} (goal ≤ {s['goal']})"
    if name == "fdtd_3d":
        return "; ".join(f"{k} {v['mcells_per_s']:.0f} Mcells/s ({v['ratio_vs_flaport']:.2f}× flaport/fdtd)" for k, v in r["results"].items())
    if name == "fdtd_grad":
        return "; ".join(f"{k} {v['ratio_vs_forward']:.2f}× forward" for k, v in r["results"].items() if k != "forward")
    if name == "tensor_throughput":
        return "; ".join(f"{k}: median {v['median_ratio']:.2f}, max {v['max_ratio']:.2f}× NumPy" for k, v in r["summary"].items())
    if name == "autograd_mlp":
        return "; ".join(
            f"batch {c['batch']}: {c['ms']['hyperion']:.2f} ms = {c['ratio']['numpy by hand']:.2f}× NumPy by hand, "
            f"{c['ratio'].get('torch', float('nan')):.2f}× PyTorch's time"
            for c in r["cases"]
        )
    return json.dumps(r)[:200]


# --- the figure ------------------------------------------------------------------------------


def draw(fig: Figure, data: dict[str, Any]) -> None:
    """Per op and shape: the kernel's % of roofline, speedup over NumPy, ratio to PyTorch."""
    rows = [r for r in data["kernels"]["results"] if r["impl"] == "cpu" or (r["op"] == "matmul" and r["impl"] != "blas")]
    labels = [f"{r['op']} {r['impl']}\n{_shape(r)}" for r in rows]
    panels = fig.subplots(1, 3, sharey=True)
    series = (
        ("% of roofline", [100 * (r.get("roofline_fraction") or 0.0) for r in rows], None),
        ("speedup over composed NumPy", [r.get("speedup_vs_naive") or 0.0 for r in rows], 1.0),
        ("PyTorch time / kernel time", [r.get("ratio_vs_torch") or 0.0 for r in rows], 1.0),
    )
    ys = range(len(rows))
    for axes, (title, values, ref) in zip(panels, series, strict=True):
        colors = ["tab:blue" if ref is None or v >= ref else "tab:red" for v in values]
        axes.barh(list(ys), values, color=colors)
        if ref is not None:
            axes.axvline(ref, color="black", linestyle="--", linewidth=1)
            axes.set_xscale("log")
            axes.xaxis.set_major_locator(FixedLocator([0.1, 0.2, 0.5, 1, 2, 5, 10]))
            axes.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:g}×"))
            axes.xaxis.set_minor_formatter(NullFormatter())
        axes.set_title(title, fontsize="medium")
        axes.grid(True, axis="x", alpha=0.3)
    panels[0].set_yticks(list(ys), labels, fontsize="x-small")
    panels[0].invert_yaxis()
    fig.suptitle("hyperion-kernels on the CPU (same process, interleaved, medians; red: slower than the anchor; missing bars: no anchor)")


def build() -> Figure:
    """The report's figure from the committed data."""
    fig = Figure(figsize=(13, 9), layout="constrained")
    draw(fig, _results.load(DATA))
    return fig


def save(data: dict[str, Any]) -> None:
    """Write the JSON and the Markdown tables generated from it, each atomically."""
    _results.save(DATA, data)
    _results.write_text_atomic(TABLES, tables(data))


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``--measure``, ``--collect DIR`` or ``--tables``; with none, save the PNG."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--measure", action="store_true", help="run every benchmark (tens of minutes)")
    mode.add_argument("--collect", type=Path, metavar="DIR", help="assemble from outputs of the same commands in DIR")
    mode.add_argument("--tables", action="store_true", help="rewrite the Markdown tables from the committed JSON")
    args = p.parse_args(argv)
    if args.measure:
        save(measure())
    elif args.collect is not None:
        save(collect(args.collect))
    elif args.tables:
        _results.write_text_atomic(TABLES, tables(_results.load(DATA)))
    else:
        build().savefig(Path(__file__).with_suffix(".png"))


if __name__ == "__main__":
    main()
