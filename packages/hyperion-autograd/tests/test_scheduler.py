"""Tests of hyperion.autograd.scheduler: orders, live intervals, peaks, traces, random DAGs.

Every order is checked for validity and every peak recomputed by the helpers below, which
work on the node and tensor *ids* of the graph and share no code with the scheduler.
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperion.autograd.scheduler import (
    Graph,
    GraphError,
    Node,
    TensorInfo,
    chain,
    check_order,
    compare_orders,
    dump_trace,
    dumps_trace,
    graph_to_dict,
    greedy_order,
    is_topological_order,
    kahn_order,
    live_intervals,
    load_trace,
    loads_trace,
    memory_profile,
    nodes_by_id,
    optimal_order,
    order_rng,
    peak_memory,
    random_dag,
    random_order,
)

# --------------------------------------------------------------------------- oracles


def assert_valid_order(graph: Graph, order: list[int]) -> None:
    """Each node once, and each input already produced (or a graph input) when its node runs."""
    ids = nodes_by_id(graph, order)
    assert sorted(ids) == sorted(n.id for n in graph.nodes)
    produced_by = {t: n.id for n in graph.nodes for t in n.outputs}
    ran: set[str] = set()
    for node_id in ids:
        node = next(n for n in graph.nodes if n.id == node_id)
        for t in node.inputs:
            assert t not in produced_by or produced_by[t] in ran, (node_id, t)
        ran.add(node_id)


def simulate(graph: Graph, order: list[int]) -> list[int]:
    """Live bytes at every step, by stepping through the order with a set of live tensor ids."""
    nodes = {n.id: n for n in graph.nodes}
    size = {t.id: t.nbytes for t in graph.tensors}
    produced = {t for n in graph.nodes for t in n.outputs}
    users = {t.id: {n.id for n in graph.nodes if t.id in n.inputs} for t in graph.tensors}
    keep = set(graph.outputs)
    live = {t for t in size if t not in produced}
    done: set[str] = set()
    profile = []
    for node_id in nodes_by_id(graph, order):
        node = nodes[node_id]
        live |= set(node.outputs)
        profile.append(sum(size[t] for t in live))
        done.add(node_id)
        for t in set(node.inputs) | set(node.outputs):
            if t not in keep and users[t] and users[t] <= done:
                live.discard(t)  # its last consumer just ran
            elif t in node.outputs and t not in keep and not users[t]:
                live.discard(t)  # nothing will ever read it
    return profile


def simulated_peak(graph: Graph, order: list[int]) -> int:
    profile = simulate(graph, order)
    return max(profile) if profile else sum(t.nbytes for t in graph.tensors)


def naive_greedy(graph: Graph) -> list[int]:
    """The greedy rule recomputed from scratch at every step (O(N^2), no heap, by ids)."""
    size = {t.id: t.nbytes for t in graph.tensors}
    produced_by = {t: n.id for n in graph.nodes for t in n.outputs}
    readers = {t: {n.id for n in graph.nodes if t in n.inputs} for t in size}
    keep = set(graph.outputs)
    ran: set[str] = set()
    order: list[int] = []
    while len(order) < graph.num_nodes:
        best = None
        for index, node in enumerate(graph.nodes):
            if node.id in ran or any(t in produced_by and produced_by[t] not in ran for t in node.inputs):
                continue
            freed = sum(size[t] for t in set(node.inputs) if t not in keep and readers[t] <= ran | {node.id}) + sum(
                size[t] for t in node.outputs if t not in keep and not readers[t]
            )
            allocated = sum(size[t] for t in node.outputs)
            key = (allocated - freed, -freed, index)
            best = key if best is None else min(best, key)
        assert best is not None
        ran.add(graph.nodes[best[2]].id)
        order.append(best[2])
    return order


def all_orders(graph: Graph) -> list[list[int]]:
    """Every topological order of a tiny graph, by filtering permutations."""
    return [list(p) for p in itertools.permutations(range(graph.num_nodes)) if is_topological_order(graph, list(p))]


# --------------------------------------------------------------------------- strategies


@st.composite
def graphs(draw: st.DrawFn, max_nodes: int = 12) -> Graph:
    """Small DAGs: nodes read earlier tensors (often shared, sometimes twice), sizes include 0,
    some tensors are graph outputs, and the nodes are listed in a shuffled order."""
    n_inputs = draw(st.integers(0, 3))
    sizes = [draw(st.integers(0, 1000)) for _ in range(n_inputs)]
    names = [f"in{i}" for i in range(n_inputs)]
    nodes = []
    for i in range(draw(st.integers(0, max_nodes))):
        reads = draw(st.lists(st.sampled_from(names), max_size=3)) if names else []
        writes = [f"v{i}_{k}" for k in range(draw(st.integers(0, 2)))]
        sizes += [draw(st.integers(0, 1000)) for _ in writes]
        names += writes
        nodes.append(Node(f"node{i}", "op", tuple(reads), tuple(writes)))
    outputs = draw(st.lists(st.sampled_from(names), unique=True)) if names else []
    tensors = [TensorInfo(name, size) for name, size in zip(names, sizes)]
    return Graph(draw(st.permutations(nodes)), draw(st.permutations(tensors)), outputs)


# --------------------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(graph=graphs(), seed=st.integers(0, 2**32 - 1))
def test_every_order_is_topological_and_peaks_match_simulation(graph: Graph, seed: int) -> None:
    orders = {
        "kahn": kahn_order(graph),
        "random": random_order(graph, np.random.default_rng(seed)),
        "greedy": greedy_order(graph),
    }
    for order in orders.values():
        assert_valid_order(graph, order)
        assert memory_profile(graph, order).tolist() == simulate(graph, order)
        assert peak_memory(graph, order) == simulated_peak(graph, order)


@settings(max_examples=200, deadline=None)
@given(graph=graphs())
def test_greedy_heap_matches_naive_rule(graph: Graph) -> None:
    assert greedy_order(graph) == naive_greedy(graph)


@settings(max_examples=100, deadline=None)
@given(graph=graphs(max_nodes=6))
def test_optimal_order_matches_brute_force_over_all_orders(graph: Graph) -> None:
    best = min(simulated_peak(graph, order) for order in all_orders(graph))
    peak, order = optimal_order(graph)
    assert_valid_order(graph, order)
    assert peak == best == simulated_peak(graph, order)
    assert peak <= peak_memory(graph, greedy_order(graph))
    assert peak <= peak_memory(graph, kahn_order(graph))


@settings(max_examples=50, deadline=None)
@given(n=st.integers(1, 60), seed=st.integers(0, 2**16))
def test_random_dag_orders_are_valid_and_peaks_independent(n: int, seed: int) -> None:
    graph = random_dag(n, seed)
    for order in (kahn_order(graph), greedy_order(graph), random_order(graph, order_rng(seed))):
        assert_valid_order(graph, order)
        assert peak_memory(graph, order) == simulated_peak(graph, order)
    assert greedy_order(graph) == naive_greedy(graph)


# --------------------------------------------------------------------------- hand-built graphs


def fan_out(k: int, big: int = 100, small: int = 1) -> Graph:
    """x feeds k branches; branch i expands x to a big tensor e_i then reduces it to s_i; a
    final node joins the s_i. Running each reduction right after its expansion keeps one big
    tensor live; running all expansions first (what FIFO does) keeps k of them."""
    nodes, tensors = [], [TensorInfo("x", small)]
    for i in range(k):
        nodes.append(Node(f"expand{i}", "expand", ("x",), (f"e{i}",)))
        tensors += [TensorInfo(f"e{i}", big), TensorInfo(f"s{i}", small)]
    for i in range(k):
        nodes.append(Node(f"reduce{i}", "sum", (f"e{i}",), (f"s{i}",)))
    nodes.append(Node("join", "add", tuple(f"s{i}" for i in range(k)), ("y",)))
    tensors.append(TensorInfo("y", small))
    return Graph(nodes, tensors, ["y"])


def test_fifo_is_bad_and_greedy_optimal_on_fan_out() -> None:
    graph = fan_out(4)
    kahn, greedy = kahn_order(graph), greedy_order(graph)
    assert nodes_by_id(graph, kahn)[:4] == ["expand0", "expand1", "expand2", "expand3"]
    assert peak_memory(graph, kahn) == 1 + 4 * 100  # x and every e_i
    assert nodes_by_id(graph, greedy)[:4] == ["expand0", "reduce0", "expand1", "reduce1"]
    assert peak_memory(graph, greedy) == 1 + 100 + 3  # x, e3 and s0..s2
    assert peak_memory(graph, greedy) == optimal_order(graph)[0]
    small = fan_out(3)  # small enough to enumerate every order
    best = min(simulated_peak(small, o) for o in all_orders(small))
    assert peak_memory(small, greedy_order(small)) == best == 1 + 100 + 2
    assert peak_memory(small, kahn_order(small)) == 1 + 3 * 100


def myopic() -> Graph:
    """Greedy runs q (+50) before p (+60), but p unlocks r, which frees the 100-byte input.
    Optimal: p, r, q (peak 161); greedy: q, p, r (peak 211)."""
    tensors = [TensorInfo("big", 100), TensorInfo("a", 60), TensorInfo("b", 1), TensorInfo("c", 50)]
    nodes = [
        Node("p", "make", (), ("a",)),
        Node("r", "use", ("big", "a"), ("b",)),
        Node("q", "make", (), ("c",)),
    ]
    return Graph(nodes, tensors, ["b", "c"])


def test_greedy_is_a_heuristic_not_optimal() -> None:
    graph = myopic()
    greedy = greedy_order(graph)
    assert nodes_by_id(graph, greedy) == ["q", "p", "r"]
    assert peak_memory(graph, greedy) == 211
    assert optimal_order(graph) == (161, [0, 1, 2])


def test_greedy_tie_break_prefers_more_freed_then_lower_index() -> None:
    # 'free' allocates 8 and frees its 8-byte input; 'idle' allocates and frees nothing. Both
    # grow memory by 0; the one that frees more runs first although it is listed second.
    tensors = [TensorInfo("x", 8), TensorInfo("u", 8), TensorInfo("v", 0)]
    graph = Graph([Node("idle", "op", (), ("v",)), Node("free", "op", ("x",), ("u",))], tensors, ["u", "v"])
    assert nodes_by_id(graph, greedy_order(graph)) == ["free", "idle"]
    # Identical keys: the node listed first runs first.
    tensors = [TensorInfo("u", 1), TensorInfo("v", 1)]
    for names in (["c0", "c1"], ["c1", "c0"]):
        nodes = [Node(names[0], "op", (), ("u",)), Node(names[1], "op", (), ("v",))]
        graph = Graph(nodes, tensors, ["u", "v"])
        assert nodes_by_id(graph, greedy_order(graph)) == names


def test_live_intervals_and_profile_by_hand() -> None:
    # x -> f -> h -> g -> y, and x is also read by g: x is live from 0 to g's step.
    tensors = [TensorInfo("x", 4), TensorInfo("h", 10), TensorInfo("y", 2), TensorInfo("w", 7)]
    graph = Graph(
        [Node("g", "add", ("h", "x"), ("y",)), Node("f", "relu", ("x",), ("h",))],
        tensors,
        ["y"],
    )
    order = kahn_order(graph)
    assert nodes_by_id(graph, order) == ["f", "g"]
    start, end = live_intervals(graph, order)
    assert dict(zip("xhyw", zip(start.tolist(), end.tolist()))) == {
        "x": (0, 1),
        "h": (0, 1),
        "y": (1, 1),
        "w": (0, 1),  # w: unread input, resident
    }
    assert memory_profile(graph, order).tolist() == [4 + 10 + 7, 4 + 10 + 2 + 7]


def test_duplicate_input_is_one_dependency() -> None:
    graph = Graph([Node("sq", "mul", ("x", "x"), ("y",))], [TensorInfo("x", 3), TensorInfo("y", 5)], ["y"])
    assert graph.consumers[graph.tensor_index("x")] == (0,)
    assert peak_memory(graph, greedy_order(graph)) == 8


def test_dead_output_released_after_its_producer() -> None:
    tensors = [TensorInfo("x", 1), TensorInfo("junk", 50), TensorInfo("y", 1), TensorInfo("z", 1)]
    graph = Graph([Node("a", "op", ("x",), ("junk", "y")), Node("b", "op", ("y",), ("z",))], tensors, ["z"])
    assert memory_profile(graph, [0, 1]).tolist() == [52, 2]


def test_graph_without_nodes() -> None:
    graph = Graph([], [TensorInfo("x", 5)], ["x"])
    assert kahn_order(graph) == greedy_order(graph) == []
    assert peak_memory(graph, []) == 5 and optimal_order(graph) == (5, [])


def test_random_order_is_reproducible_and_varies_with_seed() -> None:
    graph = fan_out(6)
    first = random_order(graph, np.random.default_rng(7))
    assert first == random_order(graph, np.random.default_rng(7))
    others = {tuple(random_order(graph, np.random.default_rng(s))) for s in range(20)}
    assert len(others) > 1


def test_check_order_rejects_bad_orders() -> None:
    graph = myopic()
    with pytest.raises(ValueError, match="all 3 nodes"):
        check_order(graph, [0, 1])
    with pytest.raises(ValueError, match="'p' appears twice"):
        check_order(graph, [0, 0, 2])
    with pytest.raises(ValueError, match="not a node index"):
        check_order(graph, [0, 1, 3])
    with pytest.raises(ValueError, match="'r' runs before 'p'"):
        check_order(graph, [1, 0, 2])
    with pytest.raises(ValueError):
        peak_memory(graph, [1, 0, 2])


# --------------------------------------------------------------------------- scale, no recursion


def test_chain_of_100k_nodes() -> None:
    graph = chain(100_000, nbytes=4)
    expected = list(range(100_000))
    assert kahn_order(graph) == expected
    assert greedy_order(graph) == expected
    assert random_order(graph, np.random.default_rng(0)) == expected
    assert peak_memory(graph, expected) == 8  # a link's input and output
    assert loads_trace(dumps_trace(graph)).num_nodes == 100_000


def test_cycle_of_100k_nodes_is_reported_without_recursion() -> None:
    n = 100_000
    nodes = [Node(f"n{i}", "op", (f"t{(i - 1) % n}",), (f"t{i}",)) for i in range(n)]
    message = r"graph has a cycle of 100000 nodes: n0 -> n1 -> n2 -> .* -> n9 -> \.\.\. -> n99999 -> n0$"
    with pytest.raises(GraphError, match=message):
        Graph(nodes, [TensorInfo(f"t{i}", 1) for i in range(n)])


def test_wide_graph_of_100k_nodes() -> None:
    k = 100_000
    nodes = [Node(f"n{i}", "op", ("x",), (f"t{i}",)) for i in range(k)]
    nodes.append(Node("join", "cat", tuple(f"t{i}" for i in range(k)), ("y",)))
    tensors = [TensorInfo("x", 1), TensorInfo("y", 1)] + [TensorInfo(f"t{i}", 2) for i in range(k)]
    graph = Graph(nodes, tensors, ["y"])
    order = greedy_order(graph)
    assert order[-1] == k and sorted(order) == list(range(k + 1))
    assert peak_memory(graph, order) == 2 * k + 1  # every t_i, with x or with y


# --------------------------------------------------------------------------- random DAGs


def test_random_dag_reproducible_and_well_formed() -> None:
    graph = random_dag(500, seed=3)
    assert dumps_trace(graph) == dumps_trace(random_dag(500, seed=3))
    assert dumps_trace(graph) != dumps_trace(random_dag(500, seed=4))
    assert graph.num_nodes == 500
    assert any(len(users) > 1 for users in graph.consumers)  # shared tensors exist
    sizes = graph.tensor_bytes
    assert sizes.min() >= 1 << 10 and sizes.max() <= 1 << 24
    produced = graph.producer >= 0
    unread = np.array([not users for users in graph.consumers])
    assert np.array_equal(graph.is_output, produced & unread)
    assert graph.is_output.sum() >= 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "n must be a positive integer"),
        ({"n": -1}, "n must be a positive integer"),
        ({"n": 5, "window": 0}, "window must be a positive integer"),
        ({"n": 5, "min_bytes": 10, "max_bytes": 5}, "min_bytes <= max_bytes"),
        ({"n": 5, "two_output_prob": 1.5}, "two_output_prob"),
    ],
)
def test_random_dag_rejects_bad_parameters(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        random_dag(seed=0, **kwargs)


def test_compare_orders_keys_and_values() -> None:
    graph = random_dag(80, seed=5)
    result = compare_orders(graph, seed=5)
    assert list(result)[:4] == ["nodes", "peak_random", "peak_kahn", "peak_greedy"]
    assert result["peak_greedy"] == simulated_peak(graph, greedy_order(graph))
    assert result["peak_kahn"] == simulated_peak(graph, kahn_order(graph))
    assert result["peak_random"] == simulated_peak(graph, random_order(graph, order_rng(5)))


# --------------------------------------------------------------------------- traces


@settings(max_examples=50, deadline=None)
@given(graph=graphs())
def test_trace_round_trip(graph: Graph) -> None:
    again = loads_trace(dumps_trace(graph))
    assert graph_to_dict(again) == graph_to_dict(graph)
    assert kahn_order(again) == kahn_order(graph)


def test_trace_file_round_trip_keeps_shape_and_dtype(tmp_path) -> None:
    graph = random_dag(30, seed=1)
    path = tmp_path / "graph.json"
    dump_trace(graph, path)
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    loaded = load_trace(path)
    assert loaded.tensors == graph.tensors and loaded.nodes == graph.nodes
    assert json.loads(path.read_text())["format"] == "hyperion-graph"


def trace(**changes: object) -> str:
    base: dict = {
        "format": "hyperion-graph",
        "version": 1,
        "nodes": [
            {"id": "f", "op": "relu", "inputs": ["x"], "outputs": ["h"]},
            {"id": "g", "op": "neg", "inputs": ["h"], "outputs": ["y"]},
        ],
        "tensors": [{"id": "x", "bytes": 4}, {"id": "h", "bytes": 4}, {"id": "y", "bytes": 4}],
        "outputs": ["y"],
    }
    base.update(changes)
    return json.dumps(base)


def node(ident: str, inputs: list[str], outputs: list[str]) -> dict:
    return {"id": ident, "op": "op", "inputs": inputs, "outputs": outputs}


TENSORS_XHY = [{"id": t, "bytes": 4} for t in "xhy"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid JSON"),
        ("", "not valid JSON"),
        ('{"bytes": NaN}', "NaN is not a JSON number"),
        ("[1, 2]", "must be a JSON object, got an array"),
        (trace(format="onnx"), "format must be 'hyperion-graph'"),
        (trace(version=2), "unsupported trace version 2"),
        (trace(nodes={"id": "f"}), "trace.nodes: expected an array, got an object"),
        (trace(outputs=["zz"]), "unknown tensor id 'zz' in the graph outputs"),
        (trace(nodes=[node("f", ["x", "q"], ["h"])]), "unknown tensor id 'q' in the inputs of node 'f'"),
        (trace(nodes=[node("f", ["x"], ["h"]), node("f", ["h"], ["y"])]), "duplicate node id 'f'"),
        (
            trace(nodes=[node("f", ["x"], ["h"]), node("g", ["x"], ["h"])]),
            "tensor 'h' is produced twice: by node 'f' and by node 'g'",
        ),
        (
            trace(nodes=[node("f", ["y"], ["h"]), node("g", ["h"], ["y"])]),
            "graph has a cycle: f -> g -> f",
        ),
        (trace(nodes=[node("f", ["h"], ["h"])]), "graph has a cycle: f -> f"),
        (trace(tensors=[{"id": "x", "bytes": -4}]), "tensor 'x' has negative bytes: -4"),
        (trace(tensors=[{"id": "x", "bytes": 1.5}]), r"tensors\[0\].bytes: expected an integer"),
        (trace(tensors=[{"id": "x", "bytes": True}]), "expected an integer, got a boolean"),
        (trace(tensors=[{"id": "x"}]), r"tensors\[0\]: missing key 'bytes'"),
        (trace(tensors=[*TENSORS_XHY, {"id": "x", "bytes": 1}]), "duplicate tensor id 'x'"),
        (trace(tensors=[{"id": "x", "bytes": 4, "shape": [2, -1]}]), r"tensors\[0\].shape"),
        (trace(nodes=[{"id": "f", "op": "relu", "inputs": [3], "outputs": []}]), r"nodes\[0\].inputs\[0\]"),
    ],
)
def test_malformed_traces_are_rejected(text: str, message: str) -> None:
    with pytest.raises(GraphError, match=message):
        loads_trace(text)


def test_trace_ignores_unknown_keys_and_reads_bytes() -> None:
    text = json.loads(trace())
    text["meta"] = {"model": "mlp"}
    graph = loads_trace(json.dumps(text).encode())
    assert nodes_by_id(graph, kahn_order(graph)) == ["f", "g"]
    with pytest.raises(GraphError, match="not UTF-8"):
        loads_trace(b"\xff\xfe")
