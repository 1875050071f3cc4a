"""The differentiable ``Tensor``: a ``hyperion.tensor.Tensor`` plus its place in the graph.

A ``hyperion.autograd.Tensor`` *wraps* (does not subclass) a raw
:class:`hyperion.tensor.Tensor`, kept in :attr:`Tensor.data`, and adds:

* ``requires_grad`` -- whether gradients should flow to it;
* ``grad_fn`` -- the node (a :class:`~hyperion.autograd.Function` instance) of
  the op that produced it, ``None`` for a leaf;
* ``grad`` -- the accumulated gradient of a leaf (an autograd ``Tensor`` of
  the leaf's shape and dtype, or ``None``);
* a version counter, shared with every view of the same data, bumped by
  in-place writes so that backward can detect a modified saved tensor.

The math, view, reduction and indexing methods come from mixins defined next
to their ops in :mod:`hyperion.autograd.ops`; every one of them goes through a
``Function`` and is differentiable where a derivative exists.

Example:
    >>> import hyperion.autograd as ag
    >>> x = ag.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> y = (x * x).sum()
    >>> y
    tensor(14., dtype=float32, grad_fn=<SumBackward>)
    >>> y.backward()
    >>> x.grad
    tensor([2., 4., 6.], dtype=float32)
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

import hyperion.tensor as ht
from hyperion.autograd import engine
from hyperion.autograd.function import version_counter
from hyperion.autograd.ops.convert import ConvertMethods
from hyperion.autograd.ops.elementwise import ElementwiseMethods
from hyperion.autograd.ops.indexing import IndexingMethods
from hyperion.autograd.ops.linalg import LinalgMethods
from hyperion.autograd.ops.reduce import ReduceMethods
from hyperion.autograd.ops.views import ViewMethods
from hyperion.tensor import DTypeError, ShapeError
from hyperion.tensor.device import array_module

__all__ = ["RemovableHandle", "Tensor", "as_raw"]

_new = object.__new__
_handle_ids = itertools.count()


def as_raw(value: Any) -> ht.Tensor:
    """A raw ``hyperion.tensor.Tensor`` from an autograd tensor, a raw tensor, an array or nested lists."""
    if isinstance(value, Tensor):
        return value.data
    if isinstance(value, ht.Tensor):
        return value
    return ht.as_tensor(value)


def _check_can_require_grad(dtype: np.dtype) -> None:
    if dtype.kind != "f":
        raise DTypeError(
            f"only floating point tensors can require gradients, got dtype {dtype} "
            "(convert with .astype('float32') or .astype('float64') first)"
        )


class RemovableHandle:
    """Returned by :meth:`Tensor.register_hook`; :meth:`remove` unregisters the hook."""

    __slots__ = ("_hooks", "_id")

    def __init__(self, hooks: dict[int, Any], hook_id: int) -> None:
        self._hooks = hooks
        self._id = hook_id

    def remove(self) -> None:
        """Unregister the hook (a no-op if it is already gone)."""
        self._hooks.pop(self._id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class Tensor(ElementwiseMethods, ReduceMethods, ViewMethods, IndexingMethods, LinalgMethods, ConvertMethods):
    """A tensor that records the ops applied to it, for reverse-mode differentiation.

    Build one with :func:`hyperion.autograd.tensor` (copies data) or wrap an
    existing raw tensor with ``Tensor(raw, requires_grad=...)`` (no copy).

    Args:
        data: a ``hyperion.tensor.Tensor`` (wrapped as is), or anything
            :func:`hyperion.tensor.as_tensor` accepts.
        requires_grad: whether to record ops on it and accumulate its ``.grad``.

    Raises:
        DTypeError: if ``requires_grad`` is asked of a non-floating tensor.
    """

    __slots__ = ("data", "_rg", "_grad", "_grad_fn", "_base", "_vc", "_hooks", "__weakref__")
    # NumPy operators (np.float64(2) * t) defer to this class's reflected methods.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False) -> None:
        if isinstance(data, Tensor):
            raise TypeError("Tensor(...) wraps raw data; use t.detach() or hyperion.autograd.tensor(t) to copy")
        raw = data if isinstance(data, ht.Tensor) else ht.as_tensor(data)
        if requires_grad:
            _check_can_require_grad(raw.dtype)
        self.data = raw
        self._rg = bool(requires_grad)
        self._grad = None
        self._grad_fn = None
        self._base = None
        self._vc = None
        self._hooks = None

    @staticmethod
    def _make(raw: ht.Tensor, grad_fn: Any) -> Tensor:
        """Fast internal constructor: ``raw`` as an op's output (requiring grad iff ``grad_fn``)."""
        out = _new(Tensor)
        out.data = raw
        out._rg = grad_fn is not None
        out._grad = None
        out._grad_fn = grad_fn
        out._base = None
        out._vc = None
        out._hooks = None
        return out

    # -- layout (read through to the data) ---------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """Sizes of the dimensions."""
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        """Element type (a ``numpy.dtype``)."""
        return self.data.dtype

    @property
    def device(self) -> str:
        """``"cpu"`` or ``"cuda"``."""
        return self.data.device

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self.data.shape)

    @property
    def strides(self) -> tuple[int, ...]:
        """Element strides of the data's layout."""
        return self.data.strides

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self.data.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes spanned by the elements."""
        return self.data.nbytes

    def dim(self) -> int:
        """PyTorch spelling of :attr:`ndim`."""
        return len(self.data.shape)

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """PyTorch spelling of :attr:`shape`; with ``dim``, that dimension's size."""
        return self.data.size(dim)

    def stride(self, dim: int | None = None) -> tuple[int, ...] | int:
        """PyTorch spelling of :attr:`strides`; with ``dim``, that dimension's stride."""
        return self.data.stride(dim)

    def numel(self) -> int:
        """Number of elements."""
        return self.data.numel()

    def is_contiguous(self) -> bool:
        """Whether the data is laid out densely in row-major order."""
        return self.data.is_contiguous()

    # -- autograd state ------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        """Whether gradients flow to this tensor (settable on leaves)."""
        return self._rg

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set :attr:`requires_grad` in place and return ``self``.

        Raises:
            DTypeError: for non-floating tensors.
            RuntimeError: when turning it off on a non-leaf (detach() it instead).
        """
        if requires_grad:
            _check_can_require_grad(self.data.dtype)
        elif self._grad_fn is not None:
            raise RuntimeError(
                f"requires_grad can only be turned off on leaf tensors; this one was produced by "
                f"{self._grad_fn.name()} (use .detach() for a tensor outside the graph)"
            )
        self._rg = bool(requires_grad)
        return self

    @property
    def grad(self) -> Tensor | None:
        """The gradient accumulated by backward (a leaf's, or a non-leaf's after :meth:`retain_grad`)."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f".grad must be a hyperion.autograd.Tensor or None, got {type(value).__name__}")
            if value.shape != self.shape:
                raise ShapeError(f"assigned grad has shape {value.shape}, but the tensor has shape {self.shape}")
            if value.dtype != self.dtype:
                raise DTypeError(f"assigned grad has dtype {value.dtype}, but the tensor has dtype {self.dtype}")
        self._grad = value

    @property
    def grad_fn(self) -> Any:
        """The node of the op that produced this tensor (``None`` for leaves)."""
        return self._grad_fn

    @property
    def is_leaf(self) -> bool:
        """True for tensors created by the user (or under ``no_grad``) rather than by a recorded op."""
        return self._grad_fn is None

    @property
    def retains_grad(self) -> bool:
        """Whether :meth:`retain_grad` was called on this non-leaf tensor."""
        node = self._grad_fn
        return node is not None and node._retained is not None and node._retained() is self

    @property
    def _version(self) -> int:
        """How many in-place writes this tensor's data (or any view of it) has seen."""
        return 0 if self._vc is None else self._vc.value

    def backward(
        self,
        grad: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Accumulate the gradient of this tensor into the ``.grad`` of the leaves it depends on.

        Args:
            grad: gradient with respect to this tensor; may be omitted when it has one element.
            retain_graph: keep the graph for another backward (default: ``create_graph``).
            create_graph: record the backward pass so gradients can be differentiated again.
            inputs: accumulate only into these tensors' ``.grad``.

        Raises:
            RuntimeError: if this tensor does not require grad, if ``grad`` is omitted
                for a tensor of more than one element, or if the graph was freed by an
                earlier backward (see ``retain_graph``).
        """
        engine.backward(self, grad, retain_graph=retain_graph, create_graph=create_graph, inputs=inputs)

    def detach(self) -> Tensor:
        """A tensor sharing this one's data (and version counter) but outside the graph."""
        out = Tensor._make(self.data, None)
        out._vc = version_counter(self)
        return out

    def detach_(self) -> Tensor:
        """Make this tensor a leaf that does not require grad, in place."""
        self._grad_fn = None
        self._rg = False
        return self

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in :attr:`grad` during backward (a no-op on leaves)."""
        if self._grad_fn is None:
            if not self._rg:
                raise RuntimeError("retain_grad() on a tensor that does not require grad")
            return
        self._grad_fn._retained = weakref.ref(self)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it.

        Returns:
            A handle whose ``remove()`` unregisters the hook.

        Example:
            >>> import hyperion.autograd as ag
            >>> x = ag.ones(2, requires_grad=True)
            >>> handle = x.register_hook(lambda g: g * 10)
            >>> (x * 3).sum().backward()
            >>> x.grad.tolist()
            [30.0, 30.0]
        """
        if not self._rg:
            raise RuntimeError("cannot register a hook on a tensor that does not require grad")
        owner = self._grad_fn if self._grad_fn is not None else self
        if owner._hooks is None:
            owner._hooks = {}
        hook_id = next(_handle_ids)
        owner._hooks[hook_id] = hook
        return RemovableHandle(owner._hooks, hook_id)

    # -- helpers the engine uses to make new tensors like this one -----------------------
    def _ones_like(self) -> Tensor:
        data = self.data
        return Tensor._make(ht.Tensor._from_array(array_module(data.device).ones(data.shape, data.dtype)), None)

    def _zeros_like(self) -> Tensor:
        data = self.data
        return Tensor._make(ht.Tensor._from_array(array_module(data.device).zeros(data.shape, data.dtype)), None)

    def _fresh_copy(self) -> Tensor:
        """A contiguous copy with its own storage, outside the graph (what ``.grad`` holds)."""
        return Tensor._make(self.data.clone(), None)

    # -- conversion -------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (sharing memory on the CPU).

        Raises:
            RuntimeError: if the tensor requires grad (use ``t.detach().numpy()``):
                writes through the array would bypass the graph.
        """
        if self._rg:
            raise RuntimeError("can't call numpy() on a tensor that requires grad; use tensor.detach().numpy()")
        return self.data.numpy()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        array = self.numpy()
        if dtype is not None:
            array = array.astype(dtype, copy=False)
        return array.copy() if copy else array

    def item(self) -> bool | int | float:
        """The value of a one-element tensor as a Python scalar."""
        return self.data.item()

    def tolist(self) -> Any:
        """The values as nested Python lists (a scalar for 0-d)."""
        return self.data.tolist()

    def __repr__(self) -> str:
        text = repr(self.data)
        if self._grad_fn is not None:
            extra = f"grad_fn={self._grad_fn!r}"
        elif self._rg:
            extra = "requires_grad=True"
        else:
            return text
        return f"{text[:-1]}, {extra})"

    # -- Python protocols -------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        if not self.shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self) -> bool:
        return bool(self.data)

    def __float__(self) -> float:
        return float(self.data)

    def __int__(self) -> int:
        return int(self.data)

    def __index__(self) -> int:
        return self.data.__index__()

    __hash__ = object.__hash__  # identity-hashed: ``==`` is elementwise
