"""Live intervals of tensors and the peak live memory of an order.

Steps are numbered ``0 .. N-1``: step ``s`` runs node ``order[s]``. Tensor ``t`` is live on
the closed interval of steps ``[start(t), end(t)]``:

* ``start(t)`` is the step of its producer, or ``0`` for a graph input (inputs are resident
  from the start and **count towards the peak**).
* ``end(t)`` is ``N - 1`` if ``t`` is a graph output, or a graph input that nothing consumes
  (nothing ever releases it); otherwise the step of its last consumer; and for a produced
  tensor that nothing consumes, ``start(t)`` itself (it is released right after its producer).

The live memory at step ``s`` is the sum of the bytes of the tensors live at ``s``. A node's
inputs and outputs are therefore **both** counted at its own step: it needs them at the same
time. An input whose last consumer runs at ``s`` is released only after step ``s``. The
**peak** of an order is the maximum over its steps; a graph without nodes has no steps and
its peak is defined as the bytes of its (resident) graph inputs.

In symbols, with ``b[t]`` the bytes of tensor ``t``::

    M(s) = sum of b[t] over the tensors t with start(t) <= s <= end(t)
    peak = max over s of M(s)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .graph import Graph
from .order import check_order

__all__ = ["live_intervals", "memory_profile", "peak_memory"]


def live_intervals(graph: Graph, order: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """The live interval ``[start[t], end[t]]`` (steps, inclusive) of every tensor.

    Args:
        graph: The graph.
        order: A topological order of its nodes (checked).

    Returns:
        Two ``intp`` arrays indexed by tensor: ``start`` and ``end``.

    Raises:
        ValueError: If ``order`` is not a topological order of ``graph``.
    """
    check_order(graph, order)
    n = graph.num_nodes
    position = np.empty(n, dtype=np.intp)
    position[np.asarray(order, dtype=np.intp)] = np.arange(n, dtype=np.intp)

    produced = graph.producer >= 0
    start = np.zeros(graph.num_tensors, dtype=np.intp)
    start[produced] = position[graph.producer[produced]]

    # One (tensor, consumer) pair per edge; the last use is the maximum consumer position.
    counts = np.fromiter((len(c) for c in graph.consumers), dtype=np.intp, count=graph.num_tensors)
    pair_tensor = np.repeat(np.arange(graph.num_tensors, dtype=np.intp), counts)
    pair_node = np.fromiter((c for users in graph.consumers for c in users), dtype=np.intp, count=int(counts.sum()))
    end = start.copy()
    np.maximum.at(end, pair_tensor, position[pair_node])

    never_released = graph.is_output | (~produced & (counts == 0))
    end[never_released] = max(n - 1, 0)
    return start, end


def memory_profile(graph: Graph, order: Sequence[int]) -> np.ndarray:
    """Live bytes at every step of ``order``.

    Args:
        graph: The graph.
        order: A topological order of its nodes (checked).

    Returns:
        An ``int64`` array of length ``N``; entry ``s`` is the live memory while ``order[s]``
        runs, its inputs and outputs included.
    """
    start, end = live_intervals(graph, order)
    n = graph.num_nodes
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    change = np.zeros(n + 1, dtype=np.int64)  # +bytes where an interval opens, - after it closes
    np.add.at(change, start, graph.tensor_bytes)
    np.add.at(change, end + 1, -graph.tensor_bytes)
    return np.cumsum(change[:n])


def peak_memory(graph: Graph, order: Sequence[int]) -> int:
    """Peak live memory of ``order`` in bytes (see the module docstring for the definition)."""
    if graph.num_nodes == 0:
        return int(graph.tensor_bytes[graph.producer < 0].sum())
    return int(memory_profile(graph, order).max())
