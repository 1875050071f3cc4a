"""``hyperion-kernels``: list the kernel providers and what each op resolves to; run the performance report.

    hyperion-kernels list [--json]
    hyperion-kernels bench [--op NAME ...] [--quick] [--json] [--out DIR]

Progress goes to stderr; with ``--json`` the last line of stdout is one JSON
object. User errors (an unknown op, an unusable ``--out``) print one line on
stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hyperion.kernels.__about__ import __version__
from hyperion.tensor.cli import ArgumentParser, UserError

__all__ = ["main"]


def _provider_details(name: str) -> dict[str, Any]:
    """What one of this package's providers says about itself once loaded (missing Numba, modules)."""
    module = sys.modules.get(f"hyperion.kernels.{name}")  # imported by the registry when it loaded it
    provider = getattr(module, "provider", None)
    details: dict[str, Any] = {}
    for attribute in ("unavailable", "missing", "errors"):
        value = getattr(provider, attribute, None)
        if value:
            details[attribute] = value
    return details


def list_kernels() -> dict[str, Any]:
    """Providers (with load status) and, per ``(op, device)`` a provider implements, what it resolves to."""
    from hyperion.tensor import registry

    rows = registry.ops()  # loads the enabled providers
    providers = []
    for p in registry.providers():
        entry = {
            "name": p.name, "source": p.source, "distribution": p.distribution, "value": p.value,
            "enabled": p.enabled, "loaded": p.loaded, "failed": p.failed, "error": p.error,
        }  # fmt: skip
        entry.update(_provider_details(p.name))
        providers.append(entry)
    kernel_ops = sorted(
        ({"op": r.op, "device": r.device, "resolves_to": r.providers[0] if r.providers else None, "providers": list(r.providers)}
         for r in rows if any(name != registry.REFERENCE for name in r.providers)),
        key=lambda row: (row["op"], row["device"]),
    )  # fmt: skip
    return {"providers": providers, "ops": kernel_ops}


def _print_list(listing: dict[str, Any]) -> None:
    print("providers:")
    for p in listing["providers"]:
        state = "failed" if p["failed"] else ("loaded" if p["loaded"] else "not loaded")
        where = f" ({p['distribution']}, {p['value']})" if p["value"] else ""
        print(f"  {p['name']:<10} {'enabled' if p['enabled'] else 'disabled':<8} {state}{where}")
        if p["error"]:
            print(f"             error: {p['error']}")
        if p.get("unavailable"):
            print(f"             no kernels: {p['unavailable']}")
        if p.get("missing"):
            print(f"             modules not installed: {', '.join(p['missing'])}")
        for module, error in p.get("errors", {}).items():
            print(f"             module {module} failed: {error}")
    print("ops (op, device -> implementation used; other implementations in priority order):")
    if not listing["ops"]:
        print("  none: no provider offers kernels")
    for row in listing["ops"]:
        others = ", ".join(row["providers"][1:])
        print(f"  {row['op']:<28} {row['device']:<5} -> {row['resolves_to'] or 'nothing enabled'}" + (f"   ({others})" if others else ""))


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _bench(args: argparse.Namespace) -> dict[str, Any]:
    from hyperion.kernels.bench import available_ops, run_bench

    known = available_ops()
    unknown = [op for op in args.op or [] if op not in known]
    if unknown:
        raise UserError(f"unknown op {unknown[0]!r} for --op; available: {', '.join(known)}")
    if args.out is not None and args.out.exists() and not args.out.is_dir():
        raise UserError(f"--out {str(args.out)!r} exists and is not a directory")
    report = run_bench(args.op, quick=args.quick, progress=_progress)
    if args.out is not None:
        from hyperion.kernels.bench.report import write_report

        for path in write_report(report, args.out):
            _progress(f"wrote {path}")
    return report


def _print_bench(report: dict[str, Any]) -> None:
    from hyperion.kernels.bench.report import markdown

    print(markdown(report), end="")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (subcommands ``list`` and ``bench``)."""
    parser = ArgumentParser(prog="hyperion-kernels", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"hyperion-kernels {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="{list,bench}", parser_class=ArgumentParser)
    p_list = sub.add_parser("list", help="providers, ops and the implementation each op resolves to",
                            description="Show the kernel providers (and load failures) and, for every op a provider "
                            "implements, which implementation it resolves to on each device.")  # fmt: skip
    p_list.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    p_bench = sub.add_parser("bench", help="measure the roofline, then each kernel against naive NumPy and PyTorch",
                             description="Measure copy bandwidth and BLAS throughput, then each op's kernel vs the "
                             "composed NumPy version and PyTorch; print a Markdown table.")  # fmt: skip
    p_bench.add_argument("--op", action="append", metavar="NAME", help="benchmark only this op (repeatable; default: all)")
    p_bench.add_argument("--quick", action="store_true", help="small sizes, few repeats (seconds)")
    p_bench.add_argument("--json", action="store_true", help="print the report as one JSON object as the last line")
    p_bench.add_argument("--out", type=Path, metavar="DIR", help="write report.md, report.json and plots into DIR")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "list":
            listing = list_kernels()
            if args.json:
                print(json.dumps(listing, separators=(",", ":")))
            else:
                _print_list(listing)
        else:
            report = _bench(args)
            _print_bench(report)
            if args.json:
                print(json.dumps({k: report[k] for k in ("machine", "results", "errors")}, separators=(",", ":")))
    except UserError as exc:
        print(f"hyperion-kernels: error: {exc}", file=sys.stderr)
        return 2
    return 0
