"""Execution orders: Kahn's FIFO order, a seeded random order, and a memory-aware greedy order.

An *order* is a list of node indices (positions in ``graph.nodes``) in which every node
appears once and every node comes after the producers of its inputs. All three schedulers
below are the same loop, "take a ready node, run it, release the nodes it was blocking",
and differ only in which ready node they take:

* :func:`kahn_order` takes the oldest (a FIFO queue), the textbook algorithm.
* :func:`random_order` takes one uniformly at random, a baseline for what an order picked
  without thought costs.
* :func:`greedy_order` takes the one whose execution grows live memory the least.

All three run in ``O(N + E)`` (``O((N + E) log N)`` for the greedy one) without recursion.
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Sequence

import numpy as np

from .graph import Graph

__all__ = ["check_order", "greedy_order", "is_topological_order", "kahn_order", "random_order"]


def kahn_order(graph: Graph) -> list[int]:
    """Kahn's algorithm with a FIFO queue.

    The queue starts with the nodes that have no produced inputs, in the order they are
    listed; when a node runs, the consumers of each of its outputs (outputs in listed order,
    consumers by ascending index) whose last dependency it was join the back of the queue.
    The result is deterministic for a given graph.

    Args:
        graph: The graph to order.

    Returns:
        A topological order of node indices.
    """
    pending = graph.dependency_counts()
    queue = deque(i for i, d in enumerate(pending) if d == 0)
    order: list[int] = []
    while queue:
        node = queue.popleft()
        order.append(node)
        for t in graph.node_outputs[node]:
            for c in graph.consumers[t]:
                pending[c] -= 1
                if pending[c] == 0:
                    queue.append(c)
    return order


def random_order(graph: Graph, rng: np.random.Generator) -> list[int]:
    """A random topological order: at each step, a uniformly chosen ready node runs.

    This is not uniform over all topological orders (counting those is #P-hard); it is the
    order a scheduler that ignores memory might plausibly produce.

    Args:
        graph: The graph to order.
        rng: Source of randomness; the order is a function of the graph and the rng's state.

    Returns:
        A topological order of node indices.
    """
    pending = graph.dependency_counts()
    ready = [i for i, d in enumerate(pending) if d == 0]
    draws = rng.random(graph.num_nodes)  # drawn up front: one vectorised call, not N scalar ones
    order: list[int] = []
    for step in range(graph.num_nodes):
        pick = int(draws[step] * len(ready))
        ready[pick], ready[-1] = ready[-1], ready[pick]
        node = ready.pop()
        order.append(node)
        for t in graph.node_outputs[node]:
            for c in graph.consumers[t]:
                pending[c] -= 1
                if pending[c] == 0:
                    ready.append(c)
    return order


def greedy_order(graph: Graph) -> list[int]:
    """Memory-aware greedy order: run the ready node that grows live memory the least.

    Running node ``v`` changes the live bytes by ``delta(v) = allocated(v) - freed(v)``, where
    ``allocated(v)`` is the size of its outputs and ``freed(v)`` is the size of

    * its inputs for which ``v`` is the last consumer still to run (graph outputs excepted), and
    * its outputs that nothing consumes and that are not graph outputs (dead on arrival).

    Among the ready nodes the one with the smallest ``delta`` runs; ties go to the node that
    frees more bytes, then to the lower node index. ``freed(v)`` only grows as other consumers
    of ``v``'s inputs run, so a ready node's key only ever decreases; the ready set is a heap
    with lazy deletion (a node's entry is pushed again when its key drops, and stale entries
    are skipped when popped). That is ``O((N + E) log N)`` for ``N`` nodes and ``E`` edges.

    The rule is myopic: it can run a node that looks cheap now and leave a large tensor live
    for longer than the optimum would. It is a heuristic, not an optimal scheduler (the
    problem is NP-hard in general).

    Args:
        graph: The graph to order.

    Returns:
        A topological order of node indices.
    """
    nbytes = graph.tensor_bytes.tolist()
    releasable = [not out for out in graph.is_output.tolist()]
    remaining = [len(c) for c in graph.consumers]  # consumers of each tensor not yet run
    allocated = [sum(nbytes[t] for t in outs) for outs in graph.node_outputs]
    freed = [sum(nbytes[t] for t in outs if releasable[t] and remaining[t] == 0) for outs in graph.node_outputs]
    for t, users in enumerate(graph.consumers):
        if len(users) == 1 and releasable[t]:
            freed[users[0]] += nbytes[t]

    pending = graph.dependency_counts()
    scheduled = [False] * graph.num_nodes
    heap = [(allocated[i] - freed[i], -freed[i], i) for i, d in enumerate(pending) if d == 0]
    heapq.heapify(heap)
    order: list[int] = []
    while heap:
        delta, neg_freed, node = heapq.heappop(heap)
        if scheduled[node] or neg_freed != -freed[node]:
            continue  # already run, or a stale entry superseded by a lower key
        scheduled[node] = True
        order.append(node)
        for t in graph.node_inputs[node]:
            remaining[t] -= 1
            if remaining[t] == 1 and releasable[t]:
                # The one consumer left will be the one that releases t.
                last = next(c for c in graph.consumers[t] if not scheduled[c])
                freed[last] += nbytes[t]
                if pending[last] == 0:
                    heapq.heappush(heap, (allocated[last] - freed[last], -freed[last], last))
        for t in graph.node_outputs[node]:
            for c in graph.consumers[t]:
                pending[c] -= 1
                if pending[c] == 0:
                    heapq.heappush(heap, (allocated[c] - freed[c], -freed[c], c))
    return order


def check_order(graph: Graph, order: Sequence[int]) -> None:
    """Raise ``ValueError`` unless ``order`` is a topological order of all of ``graph``.

    Args:
        graph: The graph.
        order: Node indices.

    Raises:
        ValueError: Naming the first problem found: wrong length, an index out of range, a
            repeated node, or a node placed before the producer of one of its inputs.
    """
    n = graph.num_nodes
    if len(order) != n:
        raise ValueError(f"an order must list all {n} nodes once, got {len(order)} entries")
    position = [-1] * n
    for step, node in enumerate(order):
        if not 0 <= node < n:
            raise ValueError(f"order[{step}] = {node} is not a node index (0..{n - 1})")
        if position[node] >= 0:
            raise ValueError(f"node {graph.nodes[node].id!r} appears twice in the order")
        position[node] = step
    for node in range(n):
        for t in graph.node_inputs[node]:
            p = int(graph.producer[t])
            if p >= 0 and position[p] > position[node]:
                raise ValueError(
                    f"node {graph.nodes[node].id!r} runs before {graph.nodes[p].id!r}, "
                    f"which produces its input {graph.tensors[t].id!r}"
                )


def is_topological_order(graph: Graph, order: Sequence[int]) -> bool:
    """Whether ``order`` lists every node of ``graph`` once, after all its producers."""
    try:
        check_order(graph, order)
    except (ValueError, TypeError):
        return False
    return True
