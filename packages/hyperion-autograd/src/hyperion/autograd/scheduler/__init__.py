"""Memory-aware execution order for graphs of ops: Kahn's algorithm, live intervals, greedy.

Pure Python + NumPy; it does not import the rest of :mod:`hyperion.autograd`, so it works on
any graph described as op nodes over sized tensors (built in code, generated at random, or
loaded from a ``hyperion-graph`` JSON trace).

Example:
    >>> from hyperion.autograd.scheduler import random_dag, kahn_order, greedy_order, peak_memory
    >>> g = random_dag(200, seed=0)
    >>> order = greedy_order(g)
    >>> sorted(order) == sorted(kahn_order(g)) == list(range(200))
    True
    >>> 0 < peak_memory(g, order) <= int(g.tensor_bytes.sum())
    True
"""

from .compare import compare_orders, format_bytes, order_rng
from .exhaustive import optimal_order
from .generate import random_dag
from .graph import Graph, GraphError, Node, TensorInfo, chain, nodes_by_id
from .memory import live_intervals, memory_profile, peak_memory
from .order import check_order, greedy_order, is_topological_order, kahn_order, random_order
from .trace import (
    TRACE_FORMAT,
    TRACE_VERSION,
    dump_trace,
    dumps_trace,
    graph_from_dict,
    graph_to_dict,
    load_trace,
    loads_trace,
)

__all__ = [
    "TRACE_FORMAT",
    "TRACE_VERSION",
    "Graph",
    "GraphError",
    "Node",
    "TensorInfo",
    "chain",
    "check_order",
    "compare_orders",
    "dump_trace",
    "dumps_trace",
    "format_bytes",
    "graph_from_dict",
    "graph_to_dict",
    "greedy_order",
    "is_topological_order",
    "kahn_order",
    "live_intervals",
    "load_trace",
    "loads_trace",
    "memory_profile",
    "nodes_by_id",
    "optimal_order",
    "order_rng",
    "peak_memory",
    "random_dag",
    "random_order",
]
