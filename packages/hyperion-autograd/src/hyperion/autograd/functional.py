"""Higher-level derivatives of Python functions: ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``, ``vhp``.

Signatures and return conventions mirror ``torch.autograd.functional``:
``inputs`` is a tensor or a tuple of tensors, ``func`` returns a tensor or a
tuple of tensors, and results come back with the same tuple-ness. The
functions do not touch ``.grad`` and, unless ``create_graph=True``, return
tensors outside the graph.

All are built on :func:`hyperion.autograd.grad`. ``jvp`` uses the double-vjp
trick: ``u ↦ Jᵀu`` is linear, so differentiating ``⟨Jᵀu, v⟩`` with respect
to ``u`` gives ``Jv`` -- which needs every op's backward to be
differentiable, as it is here. ``jacobian`` takes one backward pass per
output element (reverse mode).

Example:
    >>> import hyperion.autograd as ag
    >>> from hyperion.autograd.functional import hessian
    >>> def rosenbrock(p):
    ...     x, y = p[0], p[1]
    ...     return (1 - x) ** 2 + 100 * (y - x * x) ** 2
    >>> hessian(rosenbrock, ag.tensor([1.0, 1.0], dtype="float64")).tolist()
    [[802.0, -400.0], [-400.0, 200.0]]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hyperion.autograd.creation import zeros
from hyperion.autograd.engine import grad
from hyperion.autograd.grad_mode import enable_grad
from hyperion.autograd.ops.join import stack
from hyperion.autograd.tensor import Tensor

__all__ = ["hessian", "hvp", "jacobian", "jvp", "vhp", "vjp"]


def _as_tuple(value: Any, what: str, fn_name: str) -> tuple[bool, tuple[Tensor, ...]]:
    """``(was_tuple, tensors)``, checking that every element is a Tensor."""
    is_tuple = isinstance(value, tuple | list)
    items = tuple(value) if is_tuple else (value,)
    for k, item in enumerate(items):
        if not isinstance(item, Tensor):
            where = f"{what}[{k}]" if is_tuple else what
            raise TypeError(f"{fn_name}: {where} must be a hyperion.autograd.Tensor, got {type(item).__name__}")
    return is_tuple, items


def _restore(was_tuple: bool, items: tuple[Any, ...]) -> Any:
    return items if was_tuple else items[0]


def _prepare_inputs(inputs: tuple[Tensor, ...], create_graph: bool) -> tuple[Tensor, ...]:
    """Fresh differentiable stand-ins for the inputs.

    With ``create_graph`` an input that already requires grad is aliased
    (``view_as``), so derivatives can flow on to whatever it was computed from;
    otherwise it is detached, so this function's graph is self-contained.
    """
    out = []
    for x in inputs:
        if x.dtype.kind != "f":
            raise TypeError(f"inputs must be floating point to be differentiated, got {x.dtype}")
        out.append(x.view_as(x) if create_graph and x.requires_grad else x.detach().requires_grad_(True))
    return tuple(out)


def _finish(tensors: tuple[Any, ...], create_graph: bool) -> tuple[Any, ...]:
    return tuple(t if create_graph or t is None else t.detach() for t in tensors)


def _fill_unused(grads: tuple[Any, ...], like: tuple[Tensor, ...], strict: bool, fn_name: str) -> tuple[Tensor, ...]:
    out = []
    for k, (g, x) in enumerate(zip(grads, like, strict=True)):
        if g is None:
            if strict:
                raise RuntimeError(f"{fn_name}: the output does not depend on input {k} (strict=True)")
            g = x.detach()._zeros_like()
        out.append(g)
    return tuple(out)


def _stack_rows(rows: list[Tensor], like: Tensor, dtype: Any) -> Tensor:
    """The Jacobian rows of one output/input pair stacked (an empty tensor for an empty output)."""
    if rows:
        return stack(rows)
    return zeros((0,) + like.shape, dtype=dtype, device=like.device)


def _vector(v: Any, like: tuple[Tensor, ...], what: str, fn_name: str) -> tuple[Tensor, ...]:
    if v is None:
        if any(t.numel() != 1 for t in like):
            shapes = [t.shape for t in like]
            raise RuntimeError(f"{fn_name}: v can be omitted only when every {what} has one element, got {shapes}")
        return tuple(t.detach()._ones_like() for t in like)
    _, vs = _as_tuple(v, "v", fn_name)
    if len(vs) != len(like):
        raise RuntimeError(f"{fn_name}: v has {len(vs)} tensor(s) but there are {len(like)} {what}(s)")
    for k, (a, b) in enumerate(zip(vs, like, strict=True)):
        if a.shape != b.shape:
            raise RuntimeError(f"{fn_name}: v[{k}] has shape {a.shape} but {what} {k} has shape {b.shape}")
    return vs


def vjp(
    func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple[Any, Any]:
    """Vector-Jacobian product ``vᵀ J`` of ``func`` at ``inputs``.

    Args:
        func: takes the inputs (as positional arguments), returns a tensor or tuple.
        inputs: a tensor or tuple of tensors.
        v: one tensor per output, shaped like it (omit for one-element outputs).
        create_graph: make the result differentiable.
        strict: raise if an output does not depend on some input (else zeros).

    Returns:
        ``(func(inputs), vjp)`` with ``vjp`` shaped like ``inputs``.
    """
    with enable_grad():
        was_tuple, xs = _as_tuple(inputs, "inputs", "vjp")
        xs = _prepare_inputs(xs, create_graph)
        out_tuple, outs = _as_tuple(func(*xs), "output of func", "vjp")
        vs = _vector(v, outs, "output", "vjp")
        used = [(o, w) for o, w in zip(outs, vs, strict=True) if o.requires_grad]
        if used:
            grads = grad([o for o, _ in used], xs, [w for _, w in used], create_graph=create_graph, allow_unused=True)
        else:
            grads = (None,) * len(xs)
        grads = _fill_unused(grads, xs, strict, "vjp")
    return _restore(out_tuple, _finish(outs, create_graph)), _restore(was_tuple, _finish(grads, create_graph))


def jvp(
    func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple[Any, Any]:
    """Jacobian-vector product ``J v`` of ``func`` at ``inputs`` (by the double-vjp trick).

    Returns:
        ``(func(inputs), jvp)`` with ``jvp`` shaped like the outputs.
    """
    with enable_grad():
        was_tuple, xs = _as_tuple(inputs, "inputs", "jvp")
        xs = _prepare_inputs(xs, create_graph)
        vs = _vector(v, xs, "input", "jvp")
        out_tuple, outs = _as_tuple(func(*xs), "output of func", "jvp")
        dummies = tuple(o.detach()._zeros_like().requires_grad_(True) for o in outs)
        used = [(o, u) for o, u in zip(outs, dummies, strict=True) if o.requires_grad]
        if used:
            # g(u) = Jᵀ u, linear in u; ⟨g(u), v⟩ differentiated in u is J v.
            grads_u = grad([o for o, _ in used], xs, [u for _, u in used], create_graph=True, allow_unused=True)
            pairs = [(g, w) for g, w in zip(grads_u, vs, strict=True) if g is not None and g.requires_grad]
            if pairs:
                result = grad(
                    [g for g, _ in pairs], dummies, [w for _, w in pairs], create_graph=create_graph, allow_unused=True
                )
            else:
                result = (None,) * len(outs)
        else:
            result = (None,) * len(outs)
        result = _fill_unused(result, outs, strict, "jvp")
    return _restore(out_tuple, _finish(outs, create_graph)), _restore(out_tuple, _finish(result, create_graph))


def jacobian(
    func: Callable[..., Any],
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
) -> Any:
    """The Jacobian of ``func`` at ``inputs``: ``J[i][j]`` has shape ``outputs[i].shape + inputs[j].shape``.

    Returns:
        A tensor when both ``inputs`` and the output are single tensors; a
        tuple over inputs (or outputs) when one of them is a tuple; a tuple of
        tuples (outputs × inputs) when both are.

    It is computed in reverse mode, one vector-Jacobian product per output element.
    """
    with enable_grad():
        was_tuple, xs = _as_tuple(inputs, "inputs", "jacobian")
        xs = _prepare_inputs(xs, create_graph)
        out_tuple, outs = _as_tuple(func(*xs), "output of func", "jacobian")
        table = []
        for k, out in enumerate(outs):
            rows: list[list[Any]] = [[] for _ in xs]
            flat = out.reshape(-1)
            for j in range(flat.numel()):
                if out.requires_grad:
                    row = grad(flat[j], xs, retain_graph=True, create_graph=create_graph, allow_unused=True)
                else:
                    row = (None,) * len(xs)
                for i, (g, x) in enumerate(zip(row, xs, strict=True)):
                    if g is None:
                        if strict:
                            raise RuntimeError(f"jacobian: output {k} does not depend on input {i} (strict=True)")
                        g = x.detach()._zeros_like()
                    rows[i].append(g)
            table.append(
                tuple(_stack_rows(r, x, out.dtype).reshape(out.shape + x.shape) for r, x in zip(rows, xs, strict=True))
            )
    table = [_finish(row, create_graph) for row in table]
    if out_tuple:
        return tuple(_restore(was_tuple, row) for row in table)
    return _restore(was_tuple, table[0])


def hessian(
    func: Callable[..., Any],
    inputs: Any,
    create_graph: bool = False,
    strict: bool = False,
) -> Any:
    """The Hessian of a scalar function: ``H[i][j]`` has shape ``inputs[i].shape + inputs[j].shape``.

    Returns:
        A tensor for a single input, a tuple of tuples for a tuple of inputs.

    Raises:
        RuntimeError: if ``func`` does not return a single one-element tensor.
    """
    was_tuple, xs = _as_tuple(inputs, "inputs", "hessian")

    def gradient(*args: Tensor) -> tuple[Tensor, ...]:
        out = func(*args)
        if not isinstance(out, Tensor) or out.numel() != 1:
            shape = getattr(out, "shape", type(out).__name__)
            raise RuntimeError(f"hessian: func must return a single tensor with one element, got {shape}")
        grads = grad(out, args, create_graph=True, allow_unused=True) if out.requires_grad else (None,) * len(args)
        return _fill_unused(grads, args, strict, "hessian")

    result = jacobian(gradient, xs, create_graph=create_graph, strict=strict)
    return result if was_tuple else result[0][0]


def vhp(
    func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple[Any, Any]:
    """Vector-Hessian product ``vᵀ H`` of a scalar function.

    Returns:
        ``(func(inputs), vhp)`` with ``vhp`` shaped like ``inputs``.
    """
    with enable_grad():
        was_tuple, xs = _as_tuple(inputs, "inputs", "vhp")
        xs = _prepare_inputs(xs, create_graph)
        vs = _vector(v, xs, "input", "vhp")
        out = func(*xs)
        if not isinstance(out, Tensor) or out.numel() != 1:
            raise RuntimeError("vhp: func must return a single tensor with one element")
        grads = grad(out, xs, create_graph=True, allow_unused=True) if out.requires_grad else (None,) * len(xs)
        pairs = [(g, w) for g, w in zip(grads, vs, strict=True) if g is not None and g.requires_grad]
        if pairs:
            result = grad(
                [g for g, _ in pairs], xs, [w for _, w in pairs], create_graph=create_graph, allow_unused=True
            )
        else:
            result = (None,) * len(xs)
        result = _fill_unused(result, xs, strict, "vhp")
    return _finish((out,), create_graph)[0], _restore(was_tuple, _finish(result, create_graph))


def hvp(
    func: Callable[..., Any], inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False
) -> tuple[Any, Any]:
    """Hessian-vector product ``H v`` of a scalar function (equal to ``vᵀ H``: the Hessian is symmetric).

    Returns:
        ``(func(inputs), hvp)`` with ``hvp`` shaped like ``inputs``.
    """
    return vhp(func, inputs, v, create_graph=create_graph, strict=strict)
