"""The engine: reverse-mode differentiation over the recorded graph.

``backward`` and ``grad`` both come down to :func:`run_backward`:

1. **Order.** The nodes reachable from the outputs are put in topological
   order (outputs first) by an iterative depth-first search with an explicit
   stack -- no recursion, so a chain of 10⁵ ops is fine -- in time linear in
   the number of nodes and edges.
2. **Sweep.** Each node, in that order, takes the sum of the gradients its
   consumers sent it (complete, because every consumer comes earlier), runs
   the tensor hooks registered on its output, calls its op's ``backward``
   and sends each input its gradient. Gradients for a leaf are summed the same
   way and, at the end, added to the leaf's ``.grad``.
3. **Un-broadcast.** A binary op whose operand was broadcast returns a
   gradient of the *output's* shape. The engine -- here, in
   :func:`sum_to_shape`, and nowhere else -- sums it back to the operand's
   shape, and casts it to the operand's dtype.

``backward`` runs under grad mode ``create_graph``: the ops inside every
``backward`` are recorded exactly when a differentiable graph of the gradient
is wanted. Unless ``retain_graph``, each node frees its saved tensors once it
has run, so a second backward through it raises :class:`GraphFreedError`.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from hyperion.autograd import tensor as _tensor_module
from hyperion.autograd._mode import MODE
from hyperion.autograd.anomaly import AnomalyError, format_stack, nonfinite_summary
from hyperion.autograd.function import Function, GraphFreedError, _freed_message
from hyperion.tensor import ShapeError

__all__ = ["backward", "grad", "run_backward", "sum_to_shape", "topological_order"]


def topological_order(roots: Iterable[Function]) -> list[Function]:
    """Every node reachable from ``roots``, each before all the nodes it sends gradients to.

    Reverse post-order of an iterative depth-first search.
    """
    order: list[Function] = []
    visited: set[Function] = set()
    for root in roots:
        if root in visited:
            continue
        visited.add(root)
        stack = [(root, iter(root._next))]
        while stack:
            node, edges = stack[-1]
            for edge in edges:
                if edge is not None and edge not in visited and isinstance(edge, Function):
                    visited.add(edge)
                    stack.append((edge, iter(edge._next)))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def sum_to_shape(grad_in: Any, shape: tuple[int, ...], where: str = "") -> Any:
    """Sum a gradient over the dimensions broadcasting added or stretched, giving ``shape``.

    This is the one place gradients are un-broadcast. It is built from
    differentiable ops, so it is recorded when ``create_graph=True``.

    Raises:
        ShapeError: if ``shape`` does not broadcast to the gradient's shape.

    Example:
        >>> import hyperion.autograd as ag
        >>> sum_to_shape(ag.ones(2, 3, 4), (3, 1)).tolist()
        [[8.0], [8.0], [8.0]]
    """
    have = grad_in.shape
    lead = len(have) - len(shape)
    if lead < 0 or any(s != 1 and have[lead + k] != s for k, s in enumerate(shape)):
        raise ShapeError(
            f"{where or 'a gradient'}: got a gradient of shape {have}, which does not reduce to the "
            f"input's shape {shape} (the input does not broadcast to it)"
        )
    axes = tuple(range(lead)) + tuple(lead + k for k, s in enumerate(shape) if s == 1 and have[lead + k] != 1)
    if axes:
        grad_in = grad_in.sum(axes, keepdims=True)
    return grad_in.reshape(shape) if grad_in.shape != shape else grad_in


def _conform(grad_in: Any, shape: tuple[int, ...], dtype: Any, node: Function, index: int) -> Any:
    """Check a gradient an op returned against the input it is for; un-broadcast and cast it."""
    if not isinstance(grad_in, _tensor_module.Tensor):
        grad_in = _tensor_module.Tensor._make(_tensor_module.as_raw(grad_in), None)
    data = grad_in.data
    if data.shape != shape:
        grad_in = sum_to_shape(grad_in, shape, f"{node.name()} (gradient for input {index})")
    if data.dtype != dtype:
        grad_in = grad_in.astype(dtype)
    return grad_in


def _run_hooks(hooks: dict[int, Any], grad_out: Any) -> Any:
    for hook in tuple(hooks.values()):
        result = hook(grad_out)
        if result is not None:
            if not isinstance(result, _tensor_module.Tensor) or result.shape != grad_out.shape:
                raise ValueError(
                    f"a tensor hook must return None or a Tensor of the gradient's shape {grad_out.shape}, "
                    f"got {type(result).__name__} {getattr(result, 'shape', '')}"
                )
            grad_out = result
    return grad_out


def _accumulate(tensor: Any, grad_in: Any, create_graph: bool, handed_out: set[int]) -> None:
    """Add a gradient to ``tensor.grad``, out of place; the first time, in storage ``.grad`` owns alone.

    A gradient that one backward pass computed is adopted as it is when it is
    dense and its storage has not already gone to another ``.grad`` in this
    pass; otherwise (``Add`` passes one gradient object to both inputs, a view
    op passes a strided window, the caller passed its own ``grad``) it is
    copied, because ``.grad`` may later be modified in place. ``handed_out``
    holds the ids of the storages given away so far. With ``create_graph`` the
    copy is a recorded ``clone``, so ``.grad`` stays differentiable.
    """
    if tensor._grad is not None:
        tensor._grad = tensor._grad + grad_in
    elif create_graph:
        tensor._grad = grad_in.clone()
    else:
        raw = grad_in.data
        storage = raw.storage
        if id(storage) in handed_out or raw.offset != 0 or raw.numel() != storage.shape[0] or not raw.is_contiguous():
            tensor._grad = grad_in._fresh_copy()
        else:
            tensor._grad = grad_in if grad_in._grad_fn is None else grad_in.detach()
            handed_out.add(id(storage))


def _call_backward(node: Function, grad_out: Any, mode: Any) -> Any:
    """Run one node's backward with the observer/anomaly checks of an instrumented mode."""
    start = time.perf_counter()
    try:
        grads = type(node).backward(node, grad_out)
    except AnomalyError as err:  # an op inside this backward produced NaN/Inf: blame this node
        raise AnomalyError(
            f"{node.name()} produced a non-finite value while computing its gradient "
            f"({str(err).splitlines()[0]}).\n"
            f"The forward op was called at:\n{format_stack(node._stack)}"
        ) from None
    seconds = time.perf_counter() - start
    if mode.observer is not None:
        as_tuple = grads if isinstance(grads, tuple) else (grads,)
        mode.observer.on_backward(type(node).__name__, (grad_out,), as_tuple, seconds)
    if mode.anomaly:
        for k, g in enumerate(grads if isinstance(grads, tuple) else (grads,)):
            problem = None if g is None else nonfinite_summary(_tensor_module.as_raw(g))
            if problem is not None:
                raise AnomalyError(
                    f"{node.name()} returned a non-finite gradient for its input {k} ({problem}).\n"
                    f"The forward op was called at:\n{format_stack(node._stack)}"
                )
    return grads


def run_backward(
    roots: Sequence[Any],
    root_grads: Sequence[Any],
    *,
    retain_graph: bool,
    create_graph: bool,
    targets: Sequence[Any] | None = None,
    accumulate: bool = True,
) -> list[Any] | None:
    """Backpropagate ``root_grads`` from ``roots`` through the graph.

    Args:
        roots: output tensors (requiring grad).
        root_grads: their gradients, already of matching shapes and dtypes.
        retain_graph: keep saved tensors so the graph can be traversed again.
        create_graph: record the backward computation (for higher-order gradients).
        targets: if given, only gradients reaching these tensors are computed
            (the rest of the graph is pruned); they are returned in order.
        accumulate: add the gradients to ``.grad`` (of every leaf, or of the
            ``targets``); ``grad()`` passes ``False``.

    Returns:
        The gradients of ``targets`` (``None`` where no gradient arrived), or ``None``.
    """
    outer = MODE.get()
    token = MODE.set(outer.with_grad(create_graph)) if outer.grad_enabled != create_graph else None
    try:
        return _sweep(roots, root_grads, retain_graph, create_graph, targets, accumulate, outer)
    finally:
        if token is not None:
            MODE.reset(token)


def _sweep(
    roots: Sequence[Any],
    root_grads: Sequence[Any],
    retain_graph: bool,
    create_graph: bool,
    targets: Sequence[Any] | None,
    accumulate: bool,
    mode: Any,
) -> list[Any] | None:
    buffers: dict[Function, Any] = {}
    leaf_grads: dict[int, list[Any]] = {}
    # The caller's own gradients may be reused by the caller: never adopt their storage.
    handed_out = {id(g.data.storage) for g in root_grads}
    root_nodes = []
    for root, g in zip(roots, root_grads, strict=True):
        node = root._grad_fn
        if node is None:
            _add_leaf(leaf_grads, root, g)
        elif node in buffers:
            buffers[node] = buffers[node] + g
        else:
            buffers[node] = g
            root_nodes.append(node)
    order = topological_order(root_nodes)

    pruned = targets is not None
    if pruned:
        target_nodes = {t._grad_fn: t for t in targets if t._grad_fn is not None}
        target_leaves = {id(t) for t in targets if t._grad_fn is None}
        live = _nodes_leading_to(order, target_nodes, target_leaves)
        captured: dict[Any, Any] = {}
    instrumented = mode.instrumented

    for node in order:
        g = buffers.pop(node, None)
        if g is None:
            continue
        if node._hooks:
            g = _run_hooks(node._hooks, g)
        if node._retained is not None and accumulate and not pruned:
            retained = node._retained()
            if retained is not None:
                _accumulate(retained, g, create_graph, handed_out)
        if pruned:
            if node in target_nodes:
                captured[node] = g
            if node not in live:
                continue
        if node._released:
            raise GraphFreedError(_freed_message(node))
        grads = _call_backward(node, g, mode) if instrumented else type(node).backward(node, g)
        if not retain_graph:
            node._release()
        if type(grads) is not tuple:
            grads = tuple(grads) if isinstance(grads, list) else (grads,)
        edges = node._next
        if len(grads) != len(edges):
            raise TypeError(
                f"{type(node).__name__}.backward returned {len(grads)} gradient(s), but forward took "
                f"{len(edges)} argument(s): return one per argument (None where there is none)"
            )
        for k, (edge, gi) in enumerate(zip(edges, grads)):
            if edge is None or gi is None:
                continue
            if isinstance(edge, Function):
                if pruned and edge not in live and edge not in target_nodes:
                    continue
                gi = _conform(gi, edge._shape, edge._dtype, node, k)
                previous = buffers.get(edge)
                buffers[edge] = gi if previous is None else previous + gi
            else:
                if pruned and id(edge) not in target_leaves:
                    continue
                _add_leaf(leaf_grads, edge, _conform(gi, edge.data.shape, edge.data.dtype, node, k))

    for leaf, g in leaf_grads.values():
        if leaf._hooks:
            g = _run_hooks(leaf._hooks, g)
        if pruned:
            captured[id(leaf)] = g
        if accumulate:
            _accumulate(leaf, g, create_graph, handed_out)
    if not pruned:
        return None
    if accumulate:  # backward(inputs=...): non-leaf inputs accumulate too
        for node, tensor in target_nodes.items():
            if node in captured:
                _accumulate(tensor, captured[node], create_graph, handed_out)
    return [captured.get(t._grad_fn if t._grad_fn is not None else id(t)) for t in targets]


def _add_leaf(leaf_grads: dict[int, list[Any]], leaf: Any, g: Any) -> None:
    entry = leaf_grads.get(id(leaf))
    if entry is None:
        leaf_grads[id(leaf)] = [leaf, g]
    else:
        entry[1] = entry[1] + g


def _nodes_leading_to(order: list[Function], target_nodes: Any, target_leaves: set[int]) -> set[Function]:
    """The nodes whose backward must run for gradients to reach a target (a strict path to one)."""
    live: set[Function] = set()
    for node in reversed(order):  # inputs side first: a node's successors are decided before it
        for edge in node._next:
            if edge is None:
                continue
            if isinstance(edge, Function):
                if edge in live or edge in target_nodes:
                    live.add(node)
                    break
            elif id(edge) in target_leaves:
                live.add(node)
                break
    return live


# -- the public entry points ---------------------------------------------------------


def _as_list(value: Any, what: str) -> list[Any]:
    if isinstance(value, _tensor_module.Tensor):
        return [value]
    if isinstance(value, list | tuple):
        return list(value)
    raise TypeError(f"{what} must be a Tensor or a sequence of Tensors, got {type(value).__name__}")


def _root_gradients(outputs: list[Any], grad_outputs: Any, what: str) -> list[Any]:
    """Check the outputs and build their gradients (ones for one-element outputs when not given)."""
    tensor_type = _tensor_module.Tensor
    if grad_outputs is None:
        grads: list[Any] = [None] * len(outputs)
    else:
        grads = (
            [grad_outputs]
            if isinstance(grad_outputs, tensor_type) or not isinstance(grad_outputs, list | tuple)
            else list(grad_outputs)
        )
        if len(grads) != len(outputs):
            raise ValueError(f"{what}: got {len(grads)} gradient(s) for {len(outputs)} output(s)")
    out = []
    for k, (t, g) in enumerate(zip(outputs, grads, strict=True)):
        if not isinstance(t, tensor_type):
            raise TypeError(f"{what}: output {k} is a {type(t).__name__}, not a hyperion.autograd.Tensor")
        if not t._rg:
            raise RuntimeError(
                f"{what}: output {k} (shape {t.shape}) does not require grad and has no grad_fn; "
                "nothing it was computed from requires grad (or it was computed under no_grad())"
            )
        if g is None:
            if t.numel() != 1:
                raise RuntimeError(
                    f"{what}: a gradient can be created implicitly only for a one-element output, but output {k} "
                    f"has shape {t.shape}; pass the gradient of the loss with respect to it explicitly"
                )
            g = t._ones_like()
        else:
            if not isinstance(g, tensor_type):
                g = tensor_type._make(_tensor_module.as_raw(g), None)
            if g.shape != t.shape:
                raise ShapeError(
                    f"{what}: the gradient for output {k} has shape {g.shape}, but the output has shape {t.shape}"
                )
            if g.dtype != t.dtype:
                g = g.astype(t.dtype)
        out.append(g)
    return out


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Accumulate into ``.grad`` the gradients of ``tensors`` with respect to the graph's leaves.

    Args:
        tensors: output tensor(s).
        grad_tensors: gradient(s) with respect to them; may be omitted for one-element outputs.
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: record the backward pass, for higher-order derivatives.
        inputs: if given, only these tensors' ``.grad`` are accumulated.
    """
    outputs = _as_list(tensors, "backward")
    grads = _root_gradients(outputs, grad_tensors, "backward")
    retain = create_graph if retain_graph is None else retain_graph
    targets = None if inputs is None else _as_list(inputs, "backward(inputs=...)")
    run_backward(outputs, grads, retain_graph=retain, create_graph=create_graph, targets=targets, accumulate=True)


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
    materialize_grads: bool = False,
) -> tuple[Any, ...]:
    """Gradients of ``outputs`` with respect to ``inputs``, returned (``.grad`` is not touched).

    Args:
        outputs: tensor(s) to differentiate.
        inputs: tensor(s) (leaves or not) to differentiate with respect to.
        grad_outputs: gradient(s) with respect to the outputs ("vector" of the
            vector-Jacobian product); may be omitted for one-element outputs.
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: record the computation, so the result can be differentiated again.
        allow_unused: return ``None`` for inputs the outputs do not depend on
            (otherwise that is an error).
        materialize_grads: return zeros instead of ``None`` for unused inputs.

    Returns:
        One gradient per input, shaped like it.

    Example:
        >>> import hyperion.autograd as ag
        >>> x = ag.tensor([1.0, 2.0], requires_grad=True)
        >>> (g,) = ag.grad((x ** 3).sum(), x, create_graph=True)
        >>> ag.grad(g.sum(), x)[0].tolist()  # d²/dx² x³ = 6x
        [6.0, 12.0]
    """
    outs = _as_list(outputs, "grad(outputs=...)")
    ins = _as_list(inputs, "grad(inputs=...)")
    tensor_type = _tensor_module.Tensor
    for k, t in enumerate(ins):
        if not isinstance(t, tensor_type):
            raise TypeError(f"grad: input {k} is a {type(t).__name__}, not a hyperion.autograd.Tensor")
        if not t._rg:
            raise RuntimeError(f"grad: input {k} (shape {t.shape}) does not require grad")
    grads = _root_gradients(outs, grad_outputs, "grad")
    retain = create_graph if retain_graph is None else retain_graph
    result = run_backward(outs, grads, retain_graph=retain, create_graph=create_graph, targets=ins, accumulate=False)
    assert result is not None
    for k, g in enumerate(result):
        if g is None:
            if materialize_grads:
                result[k] = ins[k]._zeros_like()
            elif not allow_unused:
                raise RuntimeError(
                    f"grad: input {k} (shape {ins[k].shape}) was not used to compute the outputs; "
                    "pass allow_unused=True to get None for it"
                )
    return tuple(result)
