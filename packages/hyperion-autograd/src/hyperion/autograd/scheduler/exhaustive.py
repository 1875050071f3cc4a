"""The exact minimum peak of a small graph, by dynamic programming over executed sets.

What is live just before a step depends only on *which* nodes have already run, not on the
order they ran in: a tensor is live when it exists (an input, or its producer ran) and is
still needed (it is a graph output, an unconsumed input, or one of its consumers has not
run). So the best peak reachable with the set ``S`` executed satisfies::

    best(S | {v}) = min over the last node v of  max(best(S), live(S) + outbytes(v))

where ``v`` must be ready after ``S``. Only *downsets* (sets closed under predecessors) are
visited; there are at most ``2^N`` of them, far fewer than the ``N!`` orders, but still
exponential, hence the size limit. This is the ground truth the heuristics are measured
against on small graphs; it is not a scheduler for real models.
"""

from __future__ import annotations

from .graph import Graph

__all__ = ["optimal_order"]


def optimal_order(graph: Graph, max_nodes: int = 20) -> tuple[int, list[int]]:
    """An order with the minimum possible peak, and that peak.

    Args:
        graph: A graph with at most ``max_nodes`` nodes.
        max_nodes: Refuse larger graphs (the search is exponential).

    Returns:
        ``(peak, order)``. Among optimal orders the one returned is deterministic.

    Raises:
        ValueError: If the graph has more than ``max_nodes`` nodes.
    """
    n = graph.num_nodes
    if n > max_nodes:
        raise ValueError(f"exhaustive search is limited to {max_nodes} nodes, got {n}")
    nbytes = graph.tensor_bytes.tolist()
    pred_mask = [sum(1 << p for p in graph.predecessors(v)) for v in range(n)]
    user_mask = [sum(1 << c for c in users) for users in graph.consumers]
    out_bytes = [sum(nbytes[t] for t in outs) for outs in graph.node_outputs]
    is_output = graph.is_output.tolist()

    inputs = [t for t in range(graph.num_tensors) if graph.producer[t] < 0]
    start_live = sum(nbytes[t] for t in inputs)
    if n == 0:
        return start_live, []

    # layer: executed set -> (best peak so far, live bytes after it, previous set, last node)
    layer: dict[int, tuple[int, int, int, int]] = {0: (0, start_live, -1, -1)}
    history: list[dict[int, tuple[int, int, int, int]]] = [layer]
    for _ in range(n):
        following: dict[int, tuple[int, int, int, int]] = {}
        for done, (peak, live, _, _) in layer.items():
            for v in range(n):
                if done >> v & 1 or pred_mask[v] & ~done:
                    continue
                after = done | 1 << v
                step_peak = max(peak, live + out_bytes[v])
                freed = sum(nbytes[t] for t in graph.node_inputs[v] if not is_output[t] and not user_mask[t] & ~after)
                freed += sum(nbytes[t] for t in graph.node_outputs[v] if not is_output[t] and not user_mask[t])
                best = following.get(after)
                if best is None or step_peak < best[0]:
                    following[after] = (step_peak, live + out_bytes[v] - freed, done, v)
        layer = following
        history.append(layer)

    full = (1 << n) - 1
    peak = layer[full][0]
    order: list[int] = []
    state = full
    for level in range(n, 0, -1):
        _, _, previous, last = history[level][state]
        order.append(last)
        state = previous
    return peak, order[::-1]
