"""Compile every CUDA kernel to PTX and report registers, shared memory, occupancy.

Usage::

    python -m hyperion.kernels.cuda.ptx_report [--json] [--arch sm_80 sm_90] [--dtype float32 float64]

Needs numba-cuda (with its CUDA 13 extra, which ships NVVM and nvJitLink) but
no GPU. Exits with status 1 if any kernel fails to compile, so it doubles as a
check. With ``--json`` the last stdout line is one JSON object
``{"assemblers": {...}, "limits": {...}, "kernels": [{"kernel", "dtype", "arch",
"ptx_version", "ptx_lines", "threads_per_block", "compiled", "error",
"assembler", "registers", "smem_bytes", "spill_bytes", "stack_bytes",
"blocks_per_sm", "occupancy", "limiter"}, ...]}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hyperion.kernels.cuda.ptx import (
    ARCH_LIMITS,
    assembler_versions,
    catalog,
    compile_kernel,
    occupancy,
    ptx_version,
    resource_usage,
)


def build_report(archs: list[str], dtypes: list[str]) -> dict[str, Any]:
    """Compile the catalogue for every ``(dtype, arch)``; see the module docstring."""
    rows = []
    for spec in catalog():
        for dtype in dtypes:
            for arch in archs:
                row: dict[str, Any] = {
                    "kernel": spec.name,
                    "dtype": dtype,
                    "arch": arch,
                    "threads_per_block": spec.threads_per_block,
                }
                try:
                    ptx = compile_kernel(spec, dtype, arch)
                except Exception as exc:  # report every failure, not just the first
                    row.update(compiled=False, error=f"{type(exc).__name__}: {exc}")
                    rows.append(row)
                    continue
                row.update(compiled=True, error=None, ptx_version=ptx_version(ptx), ptx_lines=ptx.count("\n"))
                usage = resource_usage(ptx, arch)
                row.update(usage)
                if usage.get("registers") is not None:
                    row.update(occupancy(usage["registers"], usage["smem_bytes"], spec.threads_per_block, arch))
                rows.append(row)
    return {"assemblers": assembler_versions(), "limits": ARCH_LIMITS, "kernels": rows}


def format_table(report: dict[str, Any]) -> str:
    """A plain-text table of the report."""
    header = (
        f"{'kernel':24} {'dtype':8} {'arch':6} {'regs':>5} {'smem B':>7} {'spill':>6} {'thr':>4} {'occ':>5}  limiter"
    )
    lines = [header, "-" * len(header)]
    for row in report["kernels"]:
        if not row["compiled"]:
            lines.append(f"{row['kernel']:24} {row['dtype']:8} {row['arch']:6} FAILED: {row['error']}")
        elif row.get("registers") is None:
            lines.append(f"{row['kernel']:24} {row['dtype']:8} {row['arch']:6} compiled; no assembler: {row['error']}")
        else:
            lines.append(
                f"{row['kernel']:24} {row['dtype']:8} {row['arch']:6} {row['registers']:5d} {row['smem_bytes']:7d} "
                f"{row['spill_bytes']:6d} {row['threads_per_block']:4d} {row['occupancy']:5.0%}  {row['limiter']}"
            )
    versions = ", ".join(f"{k} {v}" for k, v in report["assemblers"].items() if v)
    lines.append(f"assemblers: {versions or 'none'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m hyperion.kernels.cuda.ptx_report", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    parser.add_argument("--arch", nargs="+", default=list(ARCH_LIMITS), choices=list(ARCH_LIMITS))
    parser.add_argument("--dtype", nargs="+", default=["float32", "float64"], choices=["float32", "float64"])
    args = parser.parse_args(argv)
    try:
        import numba.cuda  # noqa: F401 - fail early with a clear message
    except ImportError as exc:
        print(f"numba-cuda is not installed ({exc}); pip install 'hyperion-kernels[cuda]'", file=sys.stderr)
        return 2
    report = build_report(args.arch, args.dtype)
    print(json.dumps(report) if args.json else format_table(report))
    return 0 if all(row["compiled"] for row in report["kernels"]) else 1


if __name__ == "__main__":
    sys.exit(main())
