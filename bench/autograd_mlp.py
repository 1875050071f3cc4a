"""Graph build + backward of an MLP training step in hyperion.autograd, next to PyTorch (CPU).

The model is a 784-512-512-10 perceptron with a ReLU (``maximum(h, 0)``) after the first
layer, a tanh after the second, and a softmax cross-entropy written with ``logsumexp``::

    h1 = (x @ w1 + b1).maximum(0)
    h2 = (h1 @ w2 + b2).tanh()
    z = h2 @ w3 + b3
    loss = (z.logsumexp(dim=1) - (z * onehot).sum(dim=1)).mean()

One step is: reset the six parameters' ``.grad`` to ``None``, run the forward (which records
the graph) and ``loss.backward()``. No optimizer update: this measures the autograd, not SGD.
The contenders, interleaved in one process (see ``_common``):

- ``hyperion``: the program above;
- ``torch``: the same program, op for op, in PyTorch: the like-for-like reference, and the
  denominator of the ratio;
- ``torch fused``: what a PyTorch user would write (``F.linear``, ``F.relu``, ``torch.tanh``,
  ``F.cross_entropy``), for scale;
- ``numpy by hand``: the same forward and a backward derived by hand, in plain NumPy, with no
  graph at all. hyperion computes with NumPy too, so this is the floor it could reach: the gap
  between the two is the cost of automatic differentiation, and the gap between this and
  PyTorch is the arithmetic (mostly NumPy's matrix products against PyTorch's).

Two batch sizes: 128, where the matrix products dominate, and 8, where the fixed cost per op
(Python, graph bookkeeping) is a larger share. Before timing, the script checks that hyperion
and PyTorch compute the same loss and gradients. It also reports the size of the recorded graph
at the end of the forward: the number of nodes, and the activation bytes it holds (tensors saved
for backward that are not leaves -- parameters and inputs live on anyway -- each storage once).

    python bench/autograd_mlp.py            # full run (under a minute)
    python bench/autograd_mlp.py --quick    # smoke run (seconds)
    python bench/autograd_mlp.py --json     # ... and one JSON object as the last line

The matrix products use NumPy's and PyTorch's thread pools. On a machine shared with other
work, threads that wait for a busy core make every contender slow and erratic; pin both
libraries to one thread for comparable numbers (the settings are printed with the results)::

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 python bench/autograd_mlp.py
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from _common import (
    Contender,
    emit,
    format_machine,
    format_table,
    machine_description,
    measure,
    median,
    optional_torch,
    paired_ratio,
    parser,
    progress,
    progress_done,
)

import hyperion.autograd as ag
from hyperion.autograd import __version__ as autograd_version
from hyperion.autograd.engine import topological_order

SIZES = (784, 512, 512, 10)
BATCHES = (128, 8)
PARAMS = ("w1", "b1", "w2", "b2", "w3", "b3")


def hyperion_loss(x: Any, onehot: Any, w1: Any, b1: Any, w2: Any, b2: Any, w3: Any, b3: Any) -> Any:
    h1 = (x @ w1 + b1).maximum(0.0)
    h2 = (h1 @ w2 + b2).tanh()
    z = h2 @ w3 + b3
    return (z.logsumexp(dim=1) - (z * onehot).sum(dim=1)).mean()


def torch_loss(x: Any, onehot: Any, w1: Any, b1: Any, w2: Any, b2: Any, w3: Any, b3: Any) -> Any:
    h1 = (x @ w1 + b1).clamp_min(0.0)  # torch.maximum needs a tensor; clamp_min is the same op
    h2 = (h1 @ w2 + b2).tanh()
    z = h2 @ w3 + b3
    return (z.logsumexp(dim=1) - (z * onehot).sum(dim=1)).mean()


def torch_fused_loss(x: Any, labels: Any, w1: Any, b1: Any, w2: Any, b2: Any, w3: Any, b3: Any) -> Any:
    import torch.nn.functional as F  # noqa: N812 - the usual spelling

    h1 = F.relu(F.linear(x, w1.T, b1))
    h2 = F.linear(h1, w2.T, b2).tanh()
    return F.cross_entropy(F.linear(h2, w3.T, b3), labels)


def numpy_step(
    x: np.ndarray,
    onehot: np.ndarray,
    w1: np.ndarray,
    b1: np.ndarray,
    w2: np.ndarray,
    b2: np.ndarray,
    w3: np.ndarray,
    b3: np.ndarray,
) -> dict[str, np.ndarray]:
    """The loss's forward and a hand-derived backward in NumPy; returns the six gradients."""
    a1 = x @ w1 + b1
    h1 = np.maximum(a1, 0.0)
    h2 = np.tanh(h1 @ w2 + b2)
    z = h2 @ w3 + b3
    e = np.exp(z - z.max(axis=1, keepdims=True))
    dz = (e / e.sum(axis=1, keepdims=True) - onehot) / len(x)  # d mean(lse - z[y]) / dz
    da2 = (dz @ w3.T) * (1.0 - h2 * h2)
    da1 = (da2 @ w2.T) * ((a1 > 0) + 0.5 * (a1 == 0))  # maximum's tie rule: half the gradient at 0
    return {
        "w3": h2.T @ dz,
        "b3": dz.sum(axis=0),
        "w2": h1.T @ da2,
        "b2": da2.sum(axis=0),
        "w1": x.T @ da1,
        "b1": da1.sum(axis=0),
    }


def make_data(batch: int) -> dict[str, np.ndarray]:
    """Inputs, labels and parameters (scaled like PyTorch's default init), all seeded."""
    rng = np.random.default_rng(batch)
    data = {"x": rng.standard_normal((batch, SIZES[0]), dtype=np.float32)}
    data["labels"] = rng.integers(0, SIZES[-1], size=batch)
    data["onehot"] = np.eye(SIZES[-1], dtype=np.float32)[data["labels"]]
    for k, (fan_in, fan_out) in enumerate(zip(SIZES[:-1], SIZES[1:], strict=True), start=1):
        bound = 1.0 / np.sqrt(fan_in)
        data[f"w{k}"] = rng.uniform(-bound, bound, (fan_in, fan_out)).astype(np.float32)
        data[f"b{k}"] = rng.uniform(-bound, bound, fan_out).astype(np.float32)
    return data


def namespace(library: str, data: Mapping[str, np.ndarray], torch: Any) -> dict[str, Any]:
    ns: dict[str, Any] = {}
    for name, array in data.items():
        copy = array.copy()
        wants_grad = name in PARAMS
        if library == "hyperion":
            ns[name] = ag.tensor(copy, requires_grad=wants_grad) if name != "labels" else copy
        elif library == "numpy by hand":
            ns[name] = copy
        else:
            ns[name] = torch.tensor(copy, requires_grad=wants_grad)
    if library == "numpy by hand":
        ns["numpy_step"] = numpy_step
    else:
        ns["loss_fn"] = {"hyperion": hyperion_loss, "torch": torch_loss, "torch fused": torch_fused_loss}[library]
    return ns


def step_statement(library: str) -> str:
    if library == "numpy by hand":
        return f"grads = numpy_step(x, onehot, {', '.join(PARAMS)})"
    reset = "; ".join(f"{p}.grad = None" for p in PARAMS)
    target = "labels" if library == "torch fused" else "onehot"
    return f"{reset}; loss_fn(x, {target}, {', '.join(PARAMS)}).backward()"


def hyperion_graph(ns: Mapping[str, Any]) -> dict[str, int]:
    """Nodes of the recorded graph and the activations it saves, right after the forward."""
    loss = hyperion_loss(ns["x"], ns["onehot"], *(ns[p] for p in PARAMS))
    nodes = topological_order([loss.grad_fn])
    storages: dict[int, int] = {}
    for node in nodes:
        for saved in node.saved_tensors:
            if isinstance(saved, ag.Tensor) and not saved.is_leaf:
                storage = saved.data.storage
                storages[id(storage)] = storage.nbytes
    return {"nodes": len(nodes), "activation_bytes": sum(storages.values())}


def torch_graph(ns: Mapping[str, Any], torch: Any) -> dict[str, int]:
    """The same for PyTorch (``AccumulateGrad`` nodes, which stand for the leaves, not counted)."""
    storages: dict[int, int] = {}

    def pack(t: Any) -> Any:
        if not t.is_leaf:
            storage = t.untyped_storage()
            storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = torch_loss(ns["x"], ns["onehot"], *(ns[p] for p in PARAMS))
    seen, stack = set(), [loss.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(edge for edge, _ in node.next_functions)
    nodes = sum(1 for n in seen if type(n).__name__ != "AccumulateGrad")
    return {"nodes": nodes, "activation_bytes": sum(storages.values())}


def check_same_gradients(data: Mapping[str, np.ndarray], torch: Any) -> float:
    """Run one step in each library; the loss and every gradient must agree. Returns the loss."""
    mine, by_hand = namespace("hyperion", data, torch), namespace("numpy by hand", data, torch)
    exec(step_statement("hyperion"), {}, mine)
    exec(step_statement("numpy by hand"), {}, by_hand)
    for p in PARAMS:
        np.testing.assert_allclose(mine[p].grad.numpy(), by_hand["grads"][p], rtol=1e-4, atol=1e-6)
    if torch is None:
        return hyperion_loss(mine["x"], mine["onehot"], *(mine[p] for p in PARAMS)).item()
    theirs = namespace("torch", data, torch)
    exec(step_statement("torch"), {}, theirs)
    mine_loss = hyperion_loss(mine["x"], mine["onehot"], *(mine[p] for p in PARAMS)).item()
    theirs_loss = torch_loss(theirs["x"], theirs["onehot"], *(theirs[p] for p in PARAMS)).item()
    np.testing.assert_allclose(mine_loss, theirs_loss, rtol=1e-5)
    for p in PARAMS:
        np.testing.assert_allclose(mine[p].grad.numpy(), theirs[p].grad.numpy(), rtol=1e-4, atol=1e-6)
    return mine_loss


def run(quick: bool, repeats: int) -> dict[str, Any]:
    torch = optional_torch()
    libraries = ["hyperion", "numpy by hand"] + (["torch", "torch fused"] if torch is not None else [])
    results = []
    for k, batch in enumerate(BATCHES, start=1):
        progress(f"[{k}/{len(BATCHES)}] batch {batch}")
        data = make_data(batch)
        row: dict[str, Any] = {"batch": batch}
        row["graph"] = {"hyperion": hyperion_graph(namespace("hyperion", data, torch))}
        row["loss"] = check_same_gradients(data, torch)
        if torch is not None:
            row["graph"]["torch"] = torch_graph(namespace("torch", data, torch), torch)
        contenders = [Contender(lib, step_statement(lib), namespace(lib, data, torch)) for lib in libraries]
        samples = measure(contenders, repeats, 0.02 if quick else 0.2)
        row["ms"] = {name: median(values) * 1e3 for name, values in samples.items()}
        row["ratio"] = {
            name: paired_ratio(samples["hyperion"], samples[name]) for name in samples if name != "hyperion"
        }
        if torch is not None:
            row["numpy_vs_torch"] = paired_ratio(samples["numpy by hand"], samples["torch"])
        results.append(row)
    progress_done()
    return {
        "benchmark": "autograd_mlp",
        "quick": quick,
        "repeats": repeats,
        "model": "-".join(map(str, SIZES)) + " MLP, relu/tanh, logsumexp cross-entropy, float32",
        "unit": "ms per step (forward + backward)",
        "machine": {**machine_description(), "hyperion_autograd": autograd_version},
        "cases": results,
    }


def report(payload: Mapping[str, Any]) -> str:
    has_torch = "torch" in payload["machine"]
    headers = ["batch", "hyperion ms", "numpy by hand ms"]
    if has_torch:
        headers += ["torch ms", "torch fused ms"]
    headers += ["hyp/numpy"] + (["hyp/torch", "hyp/fused", "numpy/torch"] if has_torch else [])
    headers += ["nodes (hyp/torch)" if has_torch else "nodes", "saved KiB (hyp/torch)" if has_torch else "saved KiB"]
    rows = []
    for r in payload["cases"]:
        ms, ratio, graph = r["ms"], r["ratio"], r["graph"]
        row = [str(r["batch"]), f"{ms['hyperion']:.2f}", f"{ms['numpy by hand']:.2f}"]
        if has_torch:
            row += [f"{ms['torch']:.2f}", f"{ms['torch fused']:.2f}"]
        row += [f"{ratio['numpy by hand']:.2f}x"]
        if has_torch:
            row += [f"{ratio['torch']:.2f}x", f"{ratio['torch fused']:.2f}x", f"{r['numpy_vs_torch']:.2f}x"]
        libs = ("hyperion", "torch") if has_torch else ("hyperion",)
        row += ["/".join(str(graph[lib]["nodes"]) for lib in libs)]
        row += ["/".join(f"{graph[lib]['activation_bytes'] / 2**10:.0f}" for lib in libs)]
        rows.append(row)
    title = (
        f"hyperion.autograd training step ({payload['model']}), forward + backward, "
        f"median of {payload['repeats']} interleaved repeats" + (" (quick)" if payload["quick"] else "")
    )
    return "\n\n".join([title, format_machine(payload["machine"]), format_table(headers, rows)])


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    repeats = args.repeats or (3 if args.quick else 11)
    payload = run(args.quick, repeats)
    emit(args, report(payload), payload)


if __name__ == "__main__":
    main()
