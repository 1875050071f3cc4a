"""Export a recorded graph in the ``hyperion-graph`` JSON trace format (version 1).

The trace lists the forward ops of the graph behind some output tensors --
one node per recorded ``Function``, in an order they could have run -- and
every tensor they read or wrote, with its size in bytes, shape and dtype.
Tensors no node produces (leaves, and constants that do not require grad)
are the graph's inputs. This is the format the memory-aware scheduler
(:mod:`hyperion.autograd.scheduler`) loads, so a real model's graph can be
scheduled::

    {"format": "hyperion-graph", "version": 1,
     "nodes": [{"id": "n0", "op": "matmul", "inputs": ["t0", "t1"], "outputs": ["t2"]}, ...],
     "tensors": [{"id": "t0", "bytes": 4096, "shape": [32, 32], "dtype": "float32"}, ...],
     "outputs": ["t5"]}

Example:
    >>> import hyperion.autograd as ag
    >>> w = ag.ones(2, 2, requires_grad=True)
    >>> trace = ag.export_graph((w @ w).sum())
    >>> [node["op"] for node in trace["nodes"]]
    ['matmul', 'sum']
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from hyperion.autograd.engine import topological_order
from hyperion.autograd.function import Function
from hyperion.autograd.tensor import Tensor

__all__ = ["export_graph", "op_name"]

FORMAT = "hyperion-graph"
VERSION = 1


def op_name(node: Function) -> str:
    """The op's name in snake case: ``Matmul`` → ``matmul``, ``LogSumExp`` → ``log_sum_exp``."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(node).__name__).lower()


def _describe(tensor_id: str, shape: tuple[int, ...], dtype: np.dtype) -> dict[str, Any]:
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    return {"id": tensor_id, "bytes": count * dtype.itemsize, "shape": list(shape), "dtype": dtype.name}


def export_graph(outputs: Tensor | list[Tensor] | tuple[Tensor, ...]) -> dict[str, Any]:
    """The graph that produced ``outputs``, as a ``hyperion-graph`` trace (a JSON-ready dict).

    Args:
        outputs: one tensor or a sequence of tensors.

    Returns:
        ``{"format", "version", "nodes", "tensors", "outputs"}``; node ids are
        ``n0, n1, ...`` in a valid execution order, tensor ids ``t0, t1, ...``.
    """
    if not isinstance(outputs, Tensor | list | tuple):
        raise TypeError(f"export_graph: outputs must be a Tensor or a list/tuple of them, got {type(outputs).__name__}")
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    for k, t in enumerate(outs):
        if not isinstance(t, Tensor):
            raise TypeError(f"export_graph: output {k} is a {type(t).__name__}, not a hyperion.autograd.Tensor")
    roots = [t.grad_fn for t in outs if t.grad_fn is not None]
    forward_order = list(reversed(topological_order(roots)))

    tensors: list[dict[str, Any]] = []
    produced: dict[Function, str] = {}
    outside: dict[int, str] = {}  # leaves and constants, by identity (kept alive by the graph or the caller)

    def outside_id(key: int, shape: tuple[int, ...], dtype: np.dtype) -> str:
        if key not in outside:
            outside[key] = f"t{len(tensors)}"
            tensors.append(_describe(outside[key], shape, dtype))
        return outside[key]

    nodes = []
    for index, node in enumerate(forward_order):
        inputs: list[tuple[int, str]] = []
        for position, edge in enumerate(node._next):
            if edge is None:
                continue
            if isinstance(edge, Function):
                inputs.append((position, produced[edge]))
            else:
                inputs.append((position, outside_id(id(edge), edge.data.shape, edge.data.dtype)))
        for position, key, shape, dtype in node._constants or ():
            inputs.append((position, outside_id(key, shape, dtype)))
        produced[node] = f"t{len(tensors)}"
        tensors.append(_describe(produced[node], node._shape, node._dtype))
        nodes.append(
            {
                "id": f"n{index}",
                "op": op_name(node),
                "inputs": [tensor_id for _, tensor_id in sorted(inputs)],
                "outputs": [produced[node]],
            }
        )
    output_ids = [
        produced[t.grad_fn] if t.grad_fn is not None else outside_id(id(t), t.data.shape, t.data.dtype) for t in outs
    ]
    return {"format": FORMAT, "version": VERSION, "nodes": nodes, "tensors": tensors, "outputs": output_ids}
