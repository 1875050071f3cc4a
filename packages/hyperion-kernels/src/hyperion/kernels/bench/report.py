"""Writing the report: ``report.md`` (machine + table), ``report.json`` and one plot per op, atomically."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hyperion.tensor.files import write_bytes_atomic

__all__ = ["markdown", "write_report"]


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def markdown(report: Mapping[str, Any]) -> str:
    """The report as Markdown: the machine and its roofline, then one table row per result."""
    m = report["machine"]
    threads = ", ".join(f"{k}={v}" for k, v in m.get("threads", {}).items())
    lines = [
        "# hyperion-kernels performance report",
        "",
        f"- CPU: {m.get('cpu')} ({m.get('usable_cpus')}/{m.get('logical_cpus')} CPUs usable), threads: {threads}",
        f"- Python {m.get('python')}, NumPy {m.get('numpy')}, Numba {m.get('numba')}, PyTorch {m.get('torch', 'not installed')}",
        f"- Roofline: copy **{_fmt(m.get('copy_gbps'))} GB/s** ({m.get('copy_impl')} copy), "
        f"BLAS **{_fmt(m.get('blas_gflops'))} GFLOP/s** ({m.get('blas_size')}² float32 matmul)",
        "",
        "Times are medians of interleaved repeats. `speedup vs naive` = composed NumPy time / this time; "
        "`vs torch` = PyTorch time / this time (above 1: faster than PyTorch).",
        "",
        "| op | impl | shape | dtype | time (ms) | GB/s | GFLOP/s | % roofline | speedup vs naive | vs torch |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in report["results"]:
        roof = None if r["roofline_fraction"] is None else 100 * r["roofline_fraction"]
        lines.append(
            f"| {r['op']} | {r['impl']} | {'×'.join(map(str, r['shape']))} | {r['dtype']} | {r['seconds'] * 1e3:.3g} | "
            f"{_fmt(r['gbps'])} | {_fmt(r['gflops'])} | {_fmt(roof)} | {_fmt(r['speedup_vs_naive'])} | {_fmt(r['ratio_vs_torch'])} |"
        )
    for op, message in report.get("errors", {}).items():
        lines.append(f"\n**{op} failed:** {message}")
    return "\n".join(lines) + "\n"


def _plot(report: Mapping[str, Any], op: str) -> bytes | None:
    """A bar chart of GB/s (or GFLOP/s) per shape and implementation, with the roofline; PNG bytes."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        return None
    rows = [r for r in report["results"] if r["op"] == op]
    metric = "gbps" if any(r["gbps"] is not None for r in rows) else "gflops"
    roof = report["machine"].get("copy_gbps" if metric == "gbps" else "blas_gflops")
    shapes = list(dict.fromkeys("×".join(map(str, r["shape"])) for r in rows))
    impls = list(dict.fromkeys(r["impl"] for r in rows))
    fig = Figure(figsize=(6.4, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = 0.8 / max(len(impls), 1)
    for k, impl in enumerate(impls):
        values = [next((r[metric] or 0.0 for r in rows if r["impl"] == impl and "×".join(map(str, r["shape"])) == s), 0.0) for s in shapes]
        ax.bar([i + k * width for i in range(len(shapes))], values, width, label=impl)
    if roof:
        ax.axhline(roof, color="black", linestyle="--", linewidth=1, label="roofline")
    ax.set_xticks([i + width * (len(impls) - 1) / 2 for i in range(len(shapes))], shapes)
    ax.set_ylabel("GB/s" if metric == "gbps" else "GFLOP/s")
    ax.set_title(op)
    ax.legend(fontsize="small")
    fig.tight_layout()
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def write_report(report: Mapping[str, Any], out: Path) -> list[Path]:
    """Write ``report.md``, ``report.json`` and ``<op>.png`` per op into ``out`` (each file atomically).

    Returns:
        The paths written.
    """
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in (
        ("report.md", markdown(report).encode()),
        ("report.json", (json.dumps(report, indent=2) + "\n").encode()),
    ):
        write_bytes_atomic(out / name, data)
        written.append(out / name)
    for op in dict.fromkeys(r["op"] for r in report["results"]):
        png = _plot(report, op)
        if png is not None:
            write_bytes_atomic(out / f"{op}.png", png)
            written.append(out / f"{op}.png")
    return written
