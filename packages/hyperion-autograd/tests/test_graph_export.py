"""``export_graph``: the hyperion-graph trace of a recorded graph, valid for the scheduler."""

from __future__ import annotations

import json

import numpy as np

import hyperion.autograd as ag
from hyperion.autograd.scheduler import graph_from_dict, kahn_order, peak_memory


def mlp_loss() -> tuple[ag.Tensor, ag.Tensor, ag.Tensor, ag.Tensor]:
    x = ag.randn(16, 8, seed=0)  # data: no grad
    w1 = ag.randn(8, 32, seed=1, requires_grad=True)
    w2 = ag.randn(32, 4, seed=2, requires_grad=True)
    loss = ((x @ w1).tanh() @ w2).logsumexp(-1).mean()
    return loss, x, w1, w2


def test_trace_is_well_formed_and_ids_are_consistent() -> None:
    loss, x, w1, w2 = mlp_loss()
    trace = ag.export_graph(loss)
    assert trace["format"] == "hyperion-graph" and trace["version"] == 1
    json.dumps(trace)  # JSON-ready
    tensors = {t["id"]: t for t in trace["tensors"]}
    assert len(tensors) == len(trace["tensors"])
    node_ids = [n["id"] for n in trace["nodes"]]
    assert len(set(node_ids)) == len(node_ids)
    produced: set[str] = set()
    for node in trace["nodes"]:
        for tensor_id in node["inputs"]:
            assert tensor_id in tensors
        for tensor_id in node["outputs"]:
            assert tensor_id in tensors and tensor_id not in produced
            produced.add(tensor_id)
    # listed in an order they can run: every input was produced earlier or is a graph input
    seen: set[str] = set()
    for node in trace["nodes"]:
        assert all(t in seen or t not in produced for t in node["inputs"])
        seen.update(node["outputs"])
    assert [n["op"] for n in trace["nodes"]] == ["matmul", "tanh", "matmul", "log_sum_exp", "mean"]
    inputs = [t for t in tensors if t not in produced]
    assert sorted(tensors[t]["shape"] for t in inputs) == sorted([[16, 8], [8, 32], [32, 4]])
    assert trace["outputs"] == trace["nodes"][-1]["outputs"]
    for tensor in trace["tensors"]:
        assert tensor["bytes"] == int(np.prod(tensor["shape"], dtype=np.int64)) * np.dtype(tensor["dtype"]).itemsize


def test_the_scheduler_loads_and_orders_it() -> None:
    loss, *_ = mlp_loss()
    graph = graph_from_dict(ag.export_graph(loss))
    order = kahn_order(graph)
    assert len(order) == 5
    assert peak_memory(graph, order) > 0


def test_shared_inputs_get_one_id() -> None:
    w = ag.ones(3, requires_grad=True)
    trace = ag.export_graph((w * w + w).sum())
    mul = trace["nodes"][0]
    assert mul["op"] == "mul" and mul["inputs"][0] == mul["inputs"][1]
    add = trace["nodes"][1]
    assert add["inputs"][1] == mul["inputs"][0]


def test_a_leaf_output_has_no_nodes() -> None:
    w = ag.ones(2, 2, requires_grad=True)
    trace = ag.export_graph(w)
    assert trace["nodes"] == [] and trace["outputs"] == [trace["tensors"][0]["id"]]
