"""Peak memory of the three orders side by side: what the CLI, the benchmark and the blog report.

Everything is a function of the graph and one integer seed. The random order draws from a
child stream of that seed (``numpy.random.SeedSequence(seed).spawn(1)[0]``), so it is
independent of the stream :func:`~hyperion.autograd.scheduler.generate.random_dag` uses when
the same seed also built the graph.
"""

from __future__ import annotations

import numpy as np

from .graph import Graph
from .memory import peak_memory
from .order import greedy_order, kahn_order, random_order

__all__ = ["compare_orders", "format_bytes", "order_rng"]


def order_rng(seed: int) -> np.random.Generator:
    """The generator that :func:`compare_orders` draws its random order from."""
    return np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])


def compare_orders(graph: Graph, seed: int = 0) -> dict[str, int]:
    """Peak live memory, in bytes, of a random order, Kahn's FIFO order and the greedy order.

    Args:
        graph: The graph.
        seed: Seed of the random order (see :func:`order_rng`).

    Returns:
        A dict with, in this order, ``nodes``, ``peak_random``, ``peak_kahn``,
        ``peak_greedy``, ``tensors``, ``total_bytes`` (all tensors together, an upper bound
        on any peak) and ``input_bytes`` (graph inputs, resident from the start).

    Example:
        >>> from hyperion.autograd.scheduler import random_dag
        >>> r = compare_orders(random_dag(50, seed=1), seed=1)
        >>> r["peak_greedy"] <= r["total_bytes"] and r["nodes"] == 50
        True
    """
    return {
        "nodes": graph.num_nodes,
        "peak_random": peak_memory(graph, random_order(graph, order_rng(seed))),
        "peak_kahn": peak_memory(graph, kahn_order(graph)),
        "peak_greedy": peak_memory(graph, greedy_order(graph)),
        "tensors": graph.num_tensors,
        "total_bytes": int(graph.tensor_bytes.sum()),
        "input_bytes": int(graph.tensor_bytes[graph.graph_inputs].sum()),
    }


def format_bytes(nbytes: int) -> str:
    """A byte count for humans, in binary units: ``format_bytes(3 << 20) == '3.0 MiB'``."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")
