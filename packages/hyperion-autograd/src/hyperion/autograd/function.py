"""``Function``: one differentiable op, and the node it leaves in the graph.

An op is a subclass of :class:`Function` with two static methods written side
by side:

* ``forward(ctx, *args)`` computes the result on raw
  :class:`hyperion.tensor.Tensor` data (every autograd ``Tensor`` argument is
  replaced by its ``.data``; other arguments -- scalars, dims, shapes, index
  keys -- pass through unchanged). It returns one raw tensor and saves what
  ``backward`` needs with ``ctx.save_for_backward(...)`` (tensors) or as plain
  attributes of ``ctx`` (shapes, dims).
* ``backward(ctx, grad_out)`` returns one gradient per argument of ``forward``
  (``None`` for arguments that need none), **built from differentiable ops**
  on autograd tensors, so that with ``create_graph=True`` the backward pass is
  itself recorded and can be differentiated again.

``Function.apply(*args)`` runs ``forward`` and, when grad mode is on and an
argument requires grad, records a node. The node *is* the ``ctx`` object, an
instance of the op's class: it keeps the edges to its inputs' nodes (or to the
leaf tensors themselves), the saved tensors with their versions, and the
output's shape and dtype (which the engine needs to reduce broadcast
gradients). It never references its own output tensor, so graphs hold no
reference cycles.

Saved tensors: each tensor given to ``save_for_backward`` is matched by
identity against the raw inputs and the raw output. An input is kept as the
autograd tensor (so its graph takes part in double backward); the output is
kept as raw data and re-wrapped with this node as its ``grad_fn`` on access;
any other tensor is a constant. The version of each saved tensor is recorded,
and reading ``ctx.saved_tensors`` after the tensor was modified in place
raises an error naming the op.

Example:
    >>> import hyperion.autograd as ag
    >>> class Cube(ag.Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x * x * x
    ...     @staticmethod
    ...     def backward(ctx, grad_out):
    ...         (x,) = ctx.saved_tensors
    ...         return grad_out * 3 * x * x
    >>> x = ag.tensor([2.0], requires_grad=True)
    >>> Cube.apply(x).sum().backward()
    >>> x.grad.tolist()
    [12.0]
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

import hyperion.tensor as ht

# The output type. ``tensor`` imports the ops, which import this module, so the
# module object (bound while ``tensor`` is still loading) is used and its
# ``Tensor`` attribute read when an op runs.
from hyperion.autograd import tensor as _tensor_module
from hyperion.autograd._mode import MODE
from hyperion.autograd.anomaly import AnomalyError, capture_stack, format_stack, nonfinite_summary

__all__ = ["Function", "GraphFreedError", "InplaceModificationError", "RawTensor", "is_tensor", "unwrap", "wrap"]

RawTensor = ht.Tensor
_new = object.__new__
_NO_GRAD_NEEDED = tuple((False,) * n for n in range(9))
_OUTPUT = object()  # marks the saved output in ``ctx._saved``


class GraphFreedError(RuntimeError):
    """Backward reached a node whose saved state was freed by an earlier backward."""


class InplaceModificationError(RuntimeError):
    """A tensor saved for backward was modified in place after it was saved."""


class Function:
    """Base class of differentiable ops; an instance is the op's node in the graph (its ``ctx``).

    Subclasses define ``forward(ctx, *args)`` and ``backward(ctx, grad_out)``
    as static methods and are called through :meth:`apply`. Set the class
    attribute ``is_view = True`` when ``forward`` returns a view of its first
    argument's storage: the output then shares the version counter of that
    argument, so in-place writes through either are seen by both.

    Attributes:
        needs_input_grad: one bool per ``forward`` argument: whether that argument
            is a tensor whose gradient is wanted.
    """

    __slots__ = (
        "needs_input_grad",
        "_next",
        "_constants",
        "_saved_raw",
        "_saved",
        "_versions",
        "_out_raw",
        "_shape",
        "_dtype",
        "_hooks",
        "_retained",
        "_released",
        "_stack",
        "__weakref__",
        "__dict__",
    )

    is_view: ClassVar[bool] = False

    # -- the op ---------------------------------------------------------------
    @staticmethod
    def forward(ctx: Any, *args: Any) -> RawTensor:
        """Compute the result on raw tensors; see the module docstring."""
        raise NotImplementedError("a Function subclass must define forward(ctx, *args)")

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        """Return one gradient per forward argument, built from differentiable ops."""
        raise NotImplementedError("a Function subclass must define backward(ctx, grad_out)")

    # -- what forward/backward use --------------------------------------------
    def save_for_backward(self, *tensors: Any) -> None:
        """Keep tensors (inputs, the output, or anything else) for :attr:`saved_tensors`."""
        self._saved_raw = tensors

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        """The tensors given to :meth:`save_for_backward`, as autograd tensors.

        Raises:
            GraphFreedError: if a backward already freed them (use ``retain_graph=True``).
            InplaceModificationError: if one was modified in place since it was saved.
        """
        if self._released:
            raise GraphFreedError(_freed_message(self))
        tensor_type = _tensor_module.Tensor
        out = []
        for k, (item, version) in enumerate(zip(self._saved, self._versions, strict=True)):
            if version is not None:
                _check_version(self, k, version)
            if item is _OUTPUT:
                out.append(tensor_type._make(self._out_raw, self))
            elif type(item) is RawTensor:
                out.append(tensor_type._make(item, None))
            else:
                out.append(item)
        return tuple(out)

    # -- graph introspection ----------------------------------------------------
    def name(self) -> str:
        """``"<Op>Backward"``, as shown in a tensor's ``grad_fn=<...>``."""
        return type(self).__name__ + "Backward"

    @property
    def next_functions(self) -> tuple[tuple[Any, int], ...]:
        """The nodes (or leaf tensors) this node sends gradients to, one per forward argument."""
        return tuple((edge, 0) for edge in self._next)

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    def _release(self) -> None:
        """Drop the saved tensors: backward through this node is no longer possible."""
        self._released = True
        self._saved = self._versions = ()
        self._out_raw = None
        self.__dict__.clear()  # attributes forward set (masks, index arrays) go too

    # -- running an op ------------------------------------------------------------
    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Run the op on ``args`` and, in grad mode, record it in the graph.

        Returns:
            An autograd :class:`~hyperion.autograd.Tensor`; it requires grad (and
            has this op as ``grad_fn``) when grad mode is on, some argument
            requires grad and the result is floating point.
        """
        mode = MODE.get()
        if mode.instrumented:
            return _apply_instrumented(cls, args, mode)
        return _apply(cls, args, mode.grad_enabled)


def _apply(cls: type[Function], args: tuple[Any, ...], grad_enabled: bool) -> Any:
    # The hot path of every op: one pass over the arguments; the node is filled in only when recording.
    tensor_type = _tensor_module.Tensor
    ctx = _new(cls)
    ctx._saved_raw = ()
    record = False
    raw = []
    if grad_enabled:
        needs = []
        edges = []
        for a in args:
            if isinstance(a, tensor_type):
                raw.append(a.data)
                if a._rg:
                    record = True
                    needs.append(True)
                    edges.append(a._grad_fn or a)
                    continue
            else:
                raw.append(a)
            needs.append(False)
            edges.append(None)
        ctx.needs_input_grad = tuple(needs) if record else _no_grad_needed(len(args))
    else:
        for a in args:
            raw.append(a.data if isinstance(a, tensor_type) else a)
        ctx.needs_input_grad = _no_grad_needed(len(args))
    out_raw = cls.forward(ctx, *raw)
    if type(out_raw) is not RawTensor:
        out_raw = _as_raw(cls, out_raw)
    out = _new(tensor_type)
    out.data = out_raw
    out._grad = out._base = out._hooks = out._vc = None
    if cls.is_view:
        _share_version(args, out, out_raw)
    if record and out_raw.dtype.kind == "f":
        out._rg = True
        out._grad_fn = ctx
        _record(ctx, args, raw, edges, out, out_raw)
    else:
        out._rg = False
        out._grad_fn = None
    return out


def _no_grad_needed(count: int) -> tuple[bool, ...]:
    return _NO_GRAD_NEEDED[count] if count < 9 else (False,) * count


def _record(
    ctx: Function, args: tuple[Any, ...], raw: list[Any], edges: list[Any], out: Any, out_raw: RawTensor
) -> None:
    """Fill in the node: edges to the inputs, saved tensors with their versions, output metadata."""
    ctx._next = tuple(edges)
    ctx._constants = None
    for k, (edge, r) in enumerate(zip(edges, raw)):
        if edge is None and type(r) is RawTensor:
            # Tensors outside the graph are remembered by identity, shape and dtype only
            # (for graph export), never kept alive.
            if ctx._constants is None:
                ctx._constants = []
            ctx._constants.append((k, id(r), r.shape, r.dtype))
    ctx._shape = out_raw.shape
    ctx._dtype = out_raw.dtype
    ctx._hooks = ctx._retained = ctx._stack = ctx._out_raw = None
    ctx._released = False
    saved_raw = ctx._saved_raw
    if not saved_raw:
        ctx._saved = ctx._versions = ()
        return
    saved = []
    versions = []
    for s in saved_raw:
        if s is out_raw:
            saved.append(_OUTPUT)
            ctx._out_raw = out_raw
            counter = version_counter(out)
            versions.append((counter, counter.value))
            continue
        for k, r in enumerate(raw):
            if r is s and isinstance(args[k], _tensor_module.Tensor):
                saved.append(args[k])
                counter = version_counter(args[k])
                versions.append((counter, counter.value))
                break
        else:
            saved.append(s)
            versions.append(None)
    ctx._saved = tuple(saved)
    ctx._versions = tuple(versions)
    del ctx._saved_raw


def _share_version(args: tuple[Any, ...], out: Any, out_raw: RawTensor) -> None:
    """A view shares its base's version counter and remembers the base (the root of the view chain)."""
    base = args[0]
    if isinstance(base, _tensor_module.Tensor) and out_raw.storage is base.data.storage:
        out._vc = version_counter(base)
        out._base = base._base if base._base is not None else base


class VersionCounter:
    """How many in-place writes a tensor's data has seen; shared by every view (and detached alias) of it."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0


def version_counter(tensor: Any) -> VersionCounter:
    """The tensor's version counter, created on first need (most tensors never need one)."""
    counter = tensor._vc
    if counter is None:
        counter = tensor._vc = VersionCounter()
    return counter


def _as_raw(cls: type[Function], value: Any) -> RawTensor:
    if isinstance(value, _tensor_module.Tensor):
        raise TypeError(
            f"{cls.__name__}.forward returned an autograd Tensor; forward works on raw hyperion.tensor "
            "tensors (its arguments' .data) and must return one"
        )
    try:
        return ht.as_tensor(value)
    except Exception as exc:
        raise TypeError(
            f"{cls.__name__}.forward must return a hyperion.tensor.Tensor, got {type(value).__name__}"
        ) from exc


def _check_version(node: Function, index: int, version: tuple[VersionCounter, int]) -> None:
    counter, expected = version
    if counter.value == expected:
        return
    item = node._saved[index]
    what = "its output" if item is _OUTPUT else f"saved tensor {index}"
    shape = node._shape if item is _OUTPUT else item.shape
    raise InplaceModificationError(
        f"one of the tensors needed to compute gradients was modified by an in-place operation: "
        f"{what} of {node.name()} (shape {shape}) is at version {counter.value}; version {expected} was saved. "
        "Do not modify tensors in place while they are needed for backward (clone() them first)."
    )


def _freed_message(node: Function) -> str:
    return (
        f"trying to backward through the graph a second time (at {node.name()}): its saved tensors were "
        "freed by the first backward. Pass retain_graph=True to the first backward() or grad() call to keep them."
    )


def _apply_instrumented(cls: type[Function], args: tuple[Any, ...], mode: Any) -> Any:
    """``apply`` with anomaly detection and/or an op observer (timing the forward)."""
    stack = capture_stack() if mode.anomaly else None
    observer = mode.observer
    if observer is None:
        out = _apply(cls, args, mode.grad_enabled)
    else:
        start = time.perf_counter()
        out = _apply(cls, args, mode.grad_enabled)
        seconds = time.perf_counter() - start
        inputs = tuple(a if isinstance(a, _tensor_module.Tensor | RawTensor) else None for a in args)
        observer.on_forward(cls.__name__, inputs, (out,), seconds)
    if mode.anomaly:
        node = out._grad_fn
        if node is not None:
            node._stack = stack
        problem = nonfinite_summary(out.data)
        if problem is not None:
            raise (
                AnomalyError(
                    f"{cls.__name__} produced a non-finite forward output ({problem}).\n"
                    f"The op was called at:\n{format_stack(stack)}"
                )
                if stack
                else AnomalyError(f"{cls.__name__} produced a non-finite output ({problem})")
            )
    return out


def is_tensor(value: Any) -> bool:
    """Whether ``value`` is an autograd :class:`~hyperion.autograd.Tensor`."""
    return isinstance(value, _tensor_module.Tensor)


def unwrap(value: Any) -> Any:
    """The raw data of an autograd tensor; anything else unchanged."""
    return value.data if isinstance(value, _tensor_module.Tensor) else value


def wrap(raw: RawTensor) -> Any:
    """A raw result as an autograd tensor that does not require grad (for non-differentiable ops)."""
    return _tensor_module.Tensor._make(raw, None)
