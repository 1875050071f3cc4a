"""The graph model: op nodes that consume and produce sized tensors.

A :class:`Graph` is a directed acyclic graph of :class:`Node` objects. Each node reads some
tensors (its *inputs*) and writes some tensors (its *outputs*); each tensor is described by a
:class:`TensorInfo` that carries its size in bytes. The edges of the DAG are implied: node
``u`` must run before node ``v`` when ``v`` reads a tensor that ``u`` writes.

Vocabulary used throughout the scheduler:

* A **graph input** is a tensor that no node produces (parameters, the input batch). It is
  resident from the start of execution.
* A **graph output** is a tensor listed in ``outputs``. It stays resident until the end.
* A tensor's **consumers** are the distinct nodes that read it; the **last consumer** in a given
  order is the one that may release it.

Construction validates everything once (unknown tensor ids, tensors produced twice, cycles,
negative sizes) and raises :class:`GraphError` with a message that names the offending ids.
After that the graph is immutable and carries integer-indexed adjacency (``node_inputs``,
``node_outputs``, ``producer``, ``consumers``, ``tensor_bytes``) that the ordering and memory
modules work on, so no algorithm ever looks a string up in its inner loop.

Example:
    >>> g = Graph(
    ...     nodes=[Node("mul", "mul", ("x", "w"), ("y",)), Node("relu", "relu", ("y",), ("z",))],
    ...     tensors=[TensorInfo("x", 64), TensorInfo("w", 64), TensorInfo("y", 64),
    ...              TensorInfo("z", 64)],
    ...     outputs=["z"],
    ... )
    >>> g.num_nodes, g.num_tensors, [g.tensors[t].id for t in g.graph_inputs]
    (2, 4, ['x', 'w'])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NoReturn

import numpy as np

__all__ = ["GraphError", "Graph", "Node", "TensorInfo", "chain", "nodes_by_id"]

# Sums of tensor sizes are kept in int64 arrays; refusing totals that would overflow them
# keeps every partial sum (and so every peak) exact.
_MAX_TOTAL_BYTES = 2**63 - 1


class GraphError(ValueError):
    """A graph (built in code or loaded from a trace) is malformed.

    The message names the offending node or tensor ids, e.g.
    ``unknown tensor id 'h2' in the inputs of node 'matmul_3'``.
    """


@dataclass(frozen=True)
class TensorInfo:
    """One tensor of the graph: an id and a size; shape and dtype are informative only.

    Attributes:
        id: Unique tensor id.
        nbytes: Size in bytes (a non-negative integer); the only field the scheduler uses.
        shape: Optional shape, kept for display and for round-tripping traces.
        dtype: Optional dtype name (e.g. ``"float32"``), kept for the same reasons.
    """

    id: str
    nbytes: int
    shape: tuple[int, ...] | None = None
    dtype: str | None = None


@dataclass(frozen=True)
class Node:
    """One op of the graph.

    Attributes:
        id: Unique node id.
        op: Op name (``"matmul"``, ``"relu"``, ...); informative only.
        inputs: Ids of the tensors the op reads. A tensor may appear more than once
            (``x * x``); it is still one dependency.
        outputs: Ids of the tensors the op writes. Each tensor is written by at most one node.
    """

    id: str
    op: str
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()


class Graph:
    """A validated, immutable DAG of ops over sized tensors, with integer-indexed adjacency.

    Nodes need not be listed in a topological order. Node ``i`` is ``nodes[i]`` and tensor
    ``t`` is ``tensors[t]``; every index array below uses those positions.

    Attributes:
        nodes: The nodes, in the order given.
        tensors: The tensors, in the order given.
        outputs: Ids of the graph outputs.
        tensor_bytes: ``int64`` array, size of tensor ``t`` in bytes.
        producer: ``intp`` array, index of the node producing tensor ``t``, or ``-1`` for a
            graph input.
        is_output: ``bool`` array, whether tensor ``t`` is a graph output.
        node_inputs: For node ``i``, the distinct tensor indices it reads (first-seen order).
        node_outputs: For node ``i``, the tensor indices it writes.
        consumers: For tensor ``t``, the distinct node indices that read it, ascending.
    """

    def __init__(
        self,
        nodes: Iterable[Node],
        tensors: Iterable[TensorInfo],
        outputs: Iterable[str] = (),
    ) -> None:
        """Validate and index a graph.

        Args:
            nodes: The op nodes.
            tensors: Every tensor that a node reads or writes (and possibly more: a declared
                tensor that nothing touches is a graph input that is never released).
            outputs: Ids of the tensors that must survive to the end of execution.

        Raises:
            GraphError: On duplicate ids, unknown tensor ids, a tensor produced twice,
                negative or non-integer sizes, or a cycle (the message lists the cycle).
        """
        self.nodes: tuple[Node, ...] = tuple(nodes)
        self.tensors: tuple[TensorInfo, ...] = tuple(tensors)
        self.outputs: tuple[str, ...] = tuple(outputs)
        self._tensor_index = _index_ids((t.id for t in self.tensors), "tensor")
        self._node_index = _index_ids((n.id for n in self.nodes), "node")

        sizes = [t.nbytes for t in self.tensors]
        for info, size in zip(self.tensors, sizes):
            if not isinstance(size, int) or isinstance(size, bool):
                raise GraphError(f"tensor {info.id!r} has non-integer bytes: {size!r}")
            if size < 0:
                raise GraphError(f"tensor {info.id!r} has negative bytes: {size}")
        total = sum(sizes)
        if total > _MAX_TOTAL_BYTES:
            raise GraphError(f"total tensor bytes {total} do not fit in 64 bits")
        self.tensor_bytes: np.ndarray = np.array(sizes, dtype=np.int64)

        index = self._tensor_index
        try:
            # dict.fromkeys drops repeated inputs (x * x) and keeps their first-seen order.
            self.node_inputs: tuple[tuple[int, ...], ...] = tuple(
                tuple(dict.fromkeys([index[t] for t in n.inputs])) for n in self.nodes
            )
            self.node_outputs: tuple[tuple[int, ...], ...] = tuple(
                tuple([index[t] for t in n.outputs]) for n in self.nodes
            )
            output_ids = [index[t] for t in self.outputs]
        except (KeyError, TypeError):
            self._raise_unknown_tensor()

        producer = [-1] * len(self.tensors)
        for i, outs in enumerate(self.node_outputs):
            for t in outs:
                if producer[t] >= 0:
                    first = self.nodes[producer[t]].id
                    raise GraphError(
                        f"tensor {self.tensors[t].id!r} is produced twice: "
                        f"by node {first!r} and by node {self.nodes[i].id!r}"
                    )
                producer[t] = i
        self.producer: np.ndarray = np.array(producer, dtype=np.intp)

        consumers: list[list[int]] = [[] for _ in self.tensors]
        for i, ins in enumerate(self.node_inputs):
            for t in ins:
                consumers[t].append(i)  # i ascends, so each list is sorted
        self.consumers: tuple[tuple[int, ...], ...] = tuple(tuple(c) for c in consumers)

        is_output = np.zeros(len(self.tensors), dtype=bool)
        is_output[output_ids] = True
        self.is_output: np.ndarray = is_output
        for array in (self.tensor_bytes, self.producer, self.is_output):
            array.flags.writeable = False  # the graph is immutable once validated
        self._check_acyclic()

    @property
    def num_nodes(self) -> int:
        """Number of op nodes."""
        return len(self.nodes)

    @property
    def num_tensors(self) -> int:
        """Number of tensors."""
        return len(self.tensors)

    @property
    def graph_inputs(self) -> np.ndarray:
        """Indices of the tensors that no node produces, ascending."""
        return np.flatnonzero(self.producer < 0)

    def node_index(self, node_id: str) -> int:
        """Position of the node with id ``node_id`` in :attr:`nodes`.

        Raises:
            KeyError: If there is no such node.
        """
        return self._node_index[node_id]

    def tensor_index(self, tensor_id: str) -> int:
        """Position of the tensor with id ``tensor_id`` in :attr:`tensors`.

        Raises:
            KeyError: If there is no such tensor.
        """
        return self._tensor_index[tensor_id]

    def dependency_counts(self) -> list[int]:
        """For each node, how many of its distinct inputs some node produces.

        This is the in-degree that Kahn-style algorithms count down: it drops by one each
        time the producer of one of those inputs runs, and the node is ready at zero.
        """
        producer = self.producer
        return [sum(1 for t in ins if producer[t] >= 0) for ins in self.node_inputs]

    def predecessors(self, node: int) -> list[int]:
        """Distinct nodes that must run before ``node`` (producers of its inputs), ascending."""
        return sorted({int(self.producer[t]) for t in self.node_inputs[node]} - {-1})

    def __repr__(self) -> str:
        total = int(self.tensor_bytes.sum())
        return f"Graph(nodes={self.num_nodes}, tensors={self.num_tensors}, bytes={total})"

    def _raise_unknown_tensor(self) -> NoReturn:
        places = [(f"the inputs of node {n.id!r}", n.inputs) for n in self.nodes]
        places += [(f"the outputs of node {n.id!r}", n.outputs) for n in self.nodes]
        places.append(("the graph outputs", self.outputs))
        for where, ids in places:
            for tensor_id in ids:
                if not isinstance(tensor_id, str) or tensor_id not in self._tensor_index:
                    raise GraphError(f"unknown tensor id {tensor_id!r} in {where}")
        raise AssertionError("no unknown tensor id found")  # pragma: no cover

    def _check_acyclic(self) -> None:
        """Raise :class:`GraphError` naming one cycle if the graph is not a DAG.

        Kahn's algorithm removes every node that is not on (or downstream of) a cycle. Each
        node left over still has an unfinished predecessor that is also left over, so walking
        predecessors from any leftover node must revisit a node: that walk contains a cycle.
        """
        indegree = self.dependency_counts()
        stack = [i for i, d in enumerate(indegree) if d == 0]
        done = 0
        while stack:
            u = stack.pop()
            done += 1
            for t in self.node_outputs[u]:
                for v in self.consumers[t]:
                    indegree[v] -= 1
                    if indegree[v] == 0:
                        stack.append(v)
        if done == self.num_nodes:
            return
        left = {i for i, d in enumerate(indegree) if d > 0}
        seen: dict[int, int] = {}
        walk: list[int] = []
        node = min(left)
        while node not in seen:
            seen[node] = len(walk)
            walk.append(node)
            node = next(p for p in self.predecessors(node) if p in left)
        cycle = walk[seen[node] :][::-1]  # the walk went backwards along edges
        first = cycle.index(min(cycle))
        cycle = cycle[first:] + cycle[:first]  # start from the earliest listed node
        names = [self.nodes[i].id for i in cycle]
        if len(names) > 12:  # name the ends of a long cycle, not all of it
            names = [*names[:10], "...", names[-1]]
        path = " -> ".join([*names, names[0]])
        size = "" if len(cycle) <= 12 else f" of {len(cycle)} nodes"
        raise GraphError(f"graph has a cycle{size}: {path}")


def _index_ids(ids: Iterable[str], kind: str) -> dict[str, int]:
    index: dict[str, int] = {}
    for i, ident in enumerate(ids):
        if not isinstance(ident, str) or not ident:
            raise GraphError(f"{kind} #{i} has an invalid id {ident!r} (need a non-empty string)")
        if ident in index:
            raise GraphError(f"duplicate {kind} id {ident!r}")
        index[ident] = i
    return index


def chain(n: int, nbytes: int = 4) -> Graph:
    """A chain of ``n`` unary ops ``x -> t0 -> t1 -> ... -> t{n-1}`` (the last is the output).

    Handy for deep-graph tests: it has exactly one valid order.

    Args:
        n: Number of nodes (``>= 1``).
        nbytes: Size of every tensor.
    """
    if n < 1:
        raise ValueError(f"a chain needs at least one node, got n={n}")
    tensors = [TensorInfo("x", nbytes)] + [TensorInfo(f"t{i}", nbytes) for i in range(n)]
    nodes = [Node(f"n{i}", "unary", ("x" if i == 0 else f"t{i - 1}",), (f"t{i}",)) for i in range(n)]
    return Graph(nodes, tensors, [f"t{n - 1}"])


def nodes_by_id(graph: Graph, order: Sequence[int]) -> list[str]:
    """Translate an order of node indices into node ids."""
    return [graph.nodes[i].id for i in order]
