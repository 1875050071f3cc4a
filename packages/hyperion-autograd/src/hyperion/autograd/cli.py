"""The ``hyperion-autograd`` command line.

Each subcommand is registered by one ``_add_<name>(subparsers)`` function that sets its
arguments and its handler (``args.handler``, called with the parsed arguments, returning the
exit status). User errors raise :class:`UserError`; :func:`main` turns them, and argparse's
own complaints, into one line on stderr and a non-zero exit status, without a traceback.

Subcommands:
    schedule: Peak live memory of a random, Kahn FIFO and greedy execution order of a random
        DAG (``--random N --seed S``) or of a ``hyperion-graph`` trace (``--trace FILE``).

Example:
    $ hyperion-autograd schedule --random 1000 --seed 0 --json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from hyperion.autograd.scheduler import (
    GraphError,
    compare_orders,
    dump_trace,
    format_bytes,
    load_trace,
    random_dag,
)
from hyperion.tensor.cli import ArgumentParser, UserError

__all__ = ["UserError", "build_parser", "main"]

PROG = "hyperion-autograd"
MAX_RANDOM_NODES = 1_000_000  # beyond this a random DAG takes minutes and gigabytes


def _positive_nodes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"N must be a positive integer, got {text!r}") from None
    if not 1 <= value <= MAX_RANDOM_NODES:
        raise argparse.ArgumentTypeError(f"N must be between 1 and {MAX_RANDOM_NODES:,}, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seed must be an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"seed must be an integer >= 0, got {value}")
    return value


def _add_schedule(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "schedule",
        help="peak memory of random, Kahn and greedy execution orders of a graph",
        description=(
            "Order the ops of a graph three ways (a random valid order, Kahn's algorithm "
            "with a FIFO queue, and the memory-aware greedy order) and print the peak live "
            "memory of each. Graph inputs count towards the peak; a node's inputs and "
            "outputs are live together while it runs."
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--random", type=_positive_nodes, metavar="N", help="generate a random DAG of N nodes")
    source.add_argument("--trace", metavar="FILE", help="read a graph from a hyperion-graph JSON trace")
    parser.add_argument(
        "--seed",
        type=_seed,
        default=0,
        metavar="S",
        help="seed of the random DAG and of the random order (default: 0)",
    )
    parser.add_argument(
        "--save-trace",
        metavar="FILE",
        help="also write the graph (e.g. the random DAG) to FILE as a JSON trace",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the results as one JSON object on the last line of stdout",
    )
    parser.set_defaults(handler=_run_schedule)


def _run_schedule(args: argparse.Namespace) -> int:
    if args.trace is not None:
        try:
            graph = load_trace(args.trace)
        except OSError as err:
            raise UserError(f"cannot read trace {args.trace!r}: {err.strerror or err}") from None
        except GraphError as err:
            raise UserError(f"invalid trace {args.trace!r}: {err}") from None
        source = f"trace {args.trace}"
    else:
        _stage(f"generating a random DAG of {args.random:,} nodes")
        graph = random_dag(args.random, args.seed)
        source = f"random DAG (seed {args.seed})"
    if args.save_trace is not None:
        try:
            dump_trace(graph, args.save_trace)
        except OSError as err:
            raise UserError(f"cannot write {args.save_trace!r}: {err.strerror or err}") from None

    _stage(f"ordering {graph.num_nodes:,} nodes three ways")
    result = compare_orders(graph, args.seed)
    _stage("")
    print(
        f"{source}: {result['nodes']} nodes, {result['tensors']} tensors, "
        f"{format_bytes(result['total_bytes'])} in all, "
        f"{format_bytes(result['input_bytes'])} of graph inputs"
    )
    print(f"{'order':<8}{'peak memory':>14}{'vs random':>12}")
    for name in ("random", "kahn", "greedy"):
        peak = result[f"peak_{name}"]
        change = _relative(peak, result["peak_random"]) if name != "random" else "-"
        print(f"{name:<8}{format_bytes(peak):>14}{change:>12}")
    if args.json:
        print(json.dumps({**result, "seed": args.seed, "source": source}))
    return 0


def _stage(message: str) -> None:
    """Say what long work is under way, on an interactive stderr only (never in pipes or logs)."""
    if sys.stderr.isatty():
        print(f"\r\033[K{message}", end="" if message else "\r", file=sys.stderr, flush=True)


def _relative(value: int, reference: int) -> str:
    if reference == 0:
        return "-"
    return f"{100.0 * (value - reference) / reference:+.1f}%"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``hyperion-autograd`` with every subcommand registered."""
    parser = ArgumentParser(
        prog=PROG,
        description="Tools of hyperion-autograd, the define-by-run reverse-mode engine.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=ArgumentParser)
    _add_schedule(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 2 on a usage or input error, 130 on Ctrl-C.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, or a usage error already printed on one line
        return stop.code if isinstance(stop.code, int) else 2
    try:
        return args.handler(args)
    except UserError as err:
        print(f"{PROG} {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed early (`| head`): not an error of ours to report
        sys.stdout = open(os.devnull, "w")  # so the interpreter does not complain again at exit
        return 1


if __name__ == "__main__":
    sys.exit(main())
