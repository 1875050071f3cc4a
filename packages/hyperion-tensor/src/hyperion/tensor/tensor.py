"""The ``Tensor``: flat storage + shape + strides + offset.

A ``Tensor`` owns no memory of its own: it is a window onto a 1-D storage
array (NumPy on ``"cpu"``, CuPy on ``"cuda"``) described by ``shape``,
element ``strides`` and ``offset``. Views share the storage; math produces
new, contiguous tensors.

The methods are grouped by concept in mixins (``_views``, ``_indexing``,
``_math``, ``_reduce``); this module joins them and adds construction,
conversion and printing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hyperion.tensor import layout
from hyperion.tensor._indexing import IndexingMixin
from hyperion.tensor._math import MathMixin
from hyperion.tensor._reduce import ReduceMixin
from hyperion.tensor._repr import format_tensor
from hyperion.tensor._views import ViewMixin
from hyperion.tensor.device import array_module, device_of_array, to_device
from hyperion.tensor.dtypes import SUPPORTED, int64, to_dtype
from hyperion.tensor.errors import DTypeError, ShapeError

_SUPPORTED_SET = frozenset(SUPPORTED)
_CPU_SCALARS = (np.generic, bool, int, float)


class Tensor(ViewMixin, IndexingMixin, MathMixin, ReduceMixin):
    """An n-dimensional strided view onto a flat storage array.

    Build tensors with :func:`hyperion.tensor.tensor`, :func:`zeros`, ... The
    constructor takes the raw layout and is meant for code that knows what it
    is doing (views and kernels): it checks that every element it can address
    lies inside ``storage``.

    Args:
        storage: a 1-D NumPy or CuPy array.
        shape: sizes of the dimensions.
        strides: element strides, one per dimension (default: row-major).
        offset: position of element ``(0, ..., 0)`` in ``storage``.

    Example:
        >>> import numpy as np
        >>> t = Tensor(np.arange(6.0), (2, 3))
        >>> t.strides, t.T.strides
        ((3, 1), (1, 3))
    """

    __slots__ = ("_storage", "_shape", "_strides", "_offset", "_array", "__weakref__")
    # NumPy binary operators defer to ours (``np.float32(2) * t`` gives a Tensor).
    __array_priority__ = 1000

    def __init__(
        self,
        storage: Any,
        shape: tuple[int, ...] | list[int],
        strides: tuple[int, ...] | list[int] | None = None,
        offset: int = 0,
    ) -> None:
        if getattr(storage, "ndim", None) != 1:
            raise ShapeError(f"storage must be a 1-D array, got {type(storage).__name__} with shape {getattr(storage, 'shape', None)}")
        if storage.dtype not in SUPPORTED:
            raise DTypeError(f"unsupported storage dtype {storage.dtype}; supported: {', '.join(d.name for d in SUPPORTED)}")
        shape = tuple(int(s) for s in shape)
        strides = layout.contiguous_strides(shape) if strides is None else tuple(int(s) for s in strides)
        if len(strides) != len(shape) or any(s < 0 for s in shape):
            raise ShapeError(f"invalid layout: shape {shape} with strides {strides}")
        low, high = layout.memory_extent(shape, strides, offset)
        if layout.numel(shape) and (low < 0 or high >= storage.shape[0]):
            raise ShapeError(
                f"layout shape={shape} strides={strides} offset={offset} reaches storage positions "
                f"{low}..{high}, outside a storage of {storage.shape[0]} elements"
            )
        self._storage = storage
        self._shape = shape
        self._strides = strides
        self._offset = int(offset)
        self._array = None

    # -- internal constructors ------------------------------------------------
    def _view(self, shape: tuple[int, ...], strides: tuple[int, ...], offset: int) -> Tensor:
        """A tensor over the same storage; the layout is trusted (computed by ``layout``)."""
        out = Tensor.__new__(Tensor)
        out._storage = self._storage
        out._shape = shape
        out._strides = strides
        out._offset = offset
        out._array = None
        return out

    @staticmethod
    def _from_array(array: Any) -> Tensor:
        """Wrap the array an op produced (a NumPy/CuPy array or scalar), copying only if it is not C-contiguous."""
        if type(array) is not np.ndarray:
            xp = np if isinstance(array, _CPU_SCALARS) else array_module("cuda")
            array = xp.asarray(array)
        if array.dtype not in _SUPPORTED_SET:
            array = _coerce_result_dtype(array)
        if not array.flags.c_contiguous:
            if type(array) is np.ndarray and array.size:
                # Keep NumPy's layout (e.g. an F-ordered result of an op on transposed inputs):
                # copying it back to C order would cost more than the op itself.
                dense = _wrap_dense(array)
                return dense if dense is not None else wrap_strided(array)
            array = array_module(device_of_array(array)).ascontiguousarray(array)
        out = Tensor.__new__(Tensor)
        out._storage = array.reshape(-1)
        out._shape = array.shape
        out._strides = layout.contiguous_strides(array.shape)
        out._offset = 0
        out._array = array
        return out

    def _arr(self) -> Any:
        """The storage seen through this layout, as a NumPy/CuPy array (zero-copy, cached)."""
        array = self._array
        if array is None:
            storage = self._storage
            itemsize = storage.dtype.itemsize
            byte_strides = tuple(s * itemsize for s in self._strides)
            if isinstance(storage, np.ndarray):
                if layout.numel(self._shape) == 0:
                    array = np.empty(self._shape, storage.dtype)
                else:
                    array = np.ndarray(self._shape, storage.dtype, storage, self._offset * itemsize, byte_strides)
            else:
                xp = array_module("cuda")
                memptr = storage.data + self._offset * itemsize
                array = xp.ndarray(self._shape, storage.dtype, memptr, strides=byte_strides)
            self._array = array
        return array

    # -- layout ---------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        """Sizes of the dimensions."""
        return self._shape

    @property
    def strides(self) -> tuple[int, ...]:
        """Element strides (PyTorch's ``stride()``; NumPy's byte strides divided by the itemsize)."""
        return self._strides

    def stride(self, dim: int | None = None) -> tuple[int, ...] | int:
        """PyTorch spelling of :attr:`strides`; with ``dim``, that dimension's stride."""
        return self._strides if dim is None else self._strides[layout.normalize_dim(dim, self.ndim)]

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """PyTorch spelling of :attr:`shape`; with ``dim``, that dimension's size."""
        return self._shape if dim is None else self._shape[layout.normalize_dim(dim, self.ndim)]

    @property
    def offset(self) -> int:
        """Position of the first element in :attr:`storage`."""
        return self._offset

    @property
    def storage(self) -> Any:
        """The flat 1-D array this tensor is a view of."""
        return self._storage

    @property
    def dtype(self) -> np.dtype:
        """Element type (a ``numpy.dtype``)."""
        return self._storage.dtype

    @property
    def device(self) -> str:
        """``"cpu"`` or ``"cuda"``."""
        return "cpu" if isinstance(self._storage, np.ndarray) else "cuda"

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return len(self._shape)

    def dim(self) -> int:
        """PyTorch spelling of :attr:`ndim`."""
        return len(self._shape)

    def numel(self) -> int:
        """Number of elements."""
        return layout.numel(self._shape)

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return self._storage.dtype.itemsize

    @property
    def nbytes(self) -> int:
        """Bytes spanned by the elements (not the whole storage)."""
        return self.numel() * self.itemsize

    def is_contiguous(self) -> bool:
        """Whether the elements are laid out densely in row-major order."""
        return layout.is_contiguous(self._shape, self._strides)

    def shares_storage(self, other: Tensor) -> bool:
        """Whether two tensors are views of the same storage array."""
        return self._storage is other._storage or (
            self._storage.base is not None and self._storage.base is other._storage.base
        )

    # -- conversion -------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """A NumPy array sharing memory with this CPU tensor (copies from the GPU)."""
        if self.device == "cuda":
            return self._arr().get()
        return self._arr()

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        array = self.numpy()
        if dtype is not None:
            array = array.astype(dtype, copy=False)
        return array.copy() if copy else array

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self._arr().__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple[int, int]:
        return self._arr().__dlpack_device__()

    def tolist(self) -> Any:
        """Nested Python lists (a Python scalar for a 0-d tensor)."""
        return self.numpy().tolist()

    def item(self) -> bool | int | float:
        """The value of a one-element tensor as a Python scalar."""
        if self.numel() != 1:
            raise ShapeError(f"item() needs a tensor with one element, got shape {self._shape}")
        return self._arr().reshape(()).item()

    def astype(self, dtype: Any) -> Tensor:
        """A copy converted to ``dtype`` (no copy if the dtype already matches)."""
        dtype = to_dtype(dtype)
        if dtype == self.dtype:
            return self
        return Tensor._from_array(self._arr().astype(dtype))

    def to(self, target: Any = None, *, dtype: Any = None, device: Any = None) -> Tensor:
        """Move to a device and/or convert to a dtype: ``t.to("cuda")``, ``t.to("float64")``."""
        if target is not None:
            # A string names a dtype ("float64") or else a device ("cuda", or a typo reported as a device).
            if isinstance(target, str) and not _is_dtype_name(target):
                device = target
            else:
                dtype = target
        out = self
        if device is not None:
            device = to_device(device)
            if device != out.device:
                source = out.contiguous()._arr()
                out = Tensor._from_array(source.get() if device == "cpu" else array_module("cuda").asarray(source))
        return out.astype(dtype) if dtype is not None else out

    def cpu(self) -> Tensor:
        """This tensor on the CPU."""
        return self.to(device="cpu")

    def cuda(self) -> Tensor:
        """This tensor on the GPU (needs CuPy and a CUDA device)."""
        return self.to(device="cuda")

    def __repr__(self) -> str:
        return format_tensor(self.numpy() if self.device == "cpu" else self._arr().get(), self.dtype, self.device)

    # -- Python protocols -------------------------------------------------------
    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    def __iter__(self) -> Any:
        if not self._shape:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._shape[0]))

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise ValueError(
                f"the truth value of a tensor with {self.numel()} elements (shape {self._shape}) is ambiguous; "
                "use .any() or .all()"
            )
        return bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.kind not in "iu" or self.numel() != 1:
            raise TypeError(f"only one-element integer tensors can be used as an index, got {self.dtype} shape {self._shape}")
        return int(self.item())

    __hash__ = object.__hash__  # tensors are identity-hashed (``==`` is elementwise)


def _is_dtype_name(name: str) -> bool:
    try:
        to_dtype(name)
    except DTypeError:
        return False
    return True


def _wrap_dense(array: np.ndarray) -> Tensor | None:
    """Wrap a dense array whose dims are a permutation of row-major order (what ufuncs allocate), or ``None``.

    Sorting the dims by stride gives a C-contiguous view, whose flat reshape is
    the storage: a few microseconds, where :func:`wrap_strided` is general but slower.
    """
    itemsize = array.itemsize
    order = sorted(range(array.ndim), key=lambda k: -array.strides[k])
    dense = array.transpose(order)
    if not dense.flags.c_contiguous or any(s <= 0 or s % itemsize for s in array.strides):
        return None
    out = Tensor.__new__(Tensor)
    out._storage = dense.reshape(-1)
    out._shape = array.shape
    out._strides = tuple(s // itemsize for s in array.strides)
    out._offset = 0
    out._array = array
    return out


def wrap_strided(array: np.ndarray) -> Tensor:
    """A tensor over the memory of a non-empty NumPy array of any strides, without copying.

    The storage is a 1-D window from the array's lowest-addressed element to
    its highest; the tensor's offset and (element) strides reproduce the array.

    Raises:
        ShapeError: if a stride is not a whole number of elements.
    """
    itemsize = array.dtype.itemsize
    if any(s % itemsize for s in array.strides):
        raise ShapeError(f"array strides {array.strides} are not multiples of the item size {itemsize}")
    if array.ndim == 0:
        return Tensor(array.reshape(1), (), (), 0)
    strides = tuple(s // itemsize for s in array.strides)
    low, high = layout.memory_extent(array.shape, strides, 0)
    # The element at the lowest address: index 0 along positive strides, the last along negative ones.
    corner = array[tuple(slice(n - 1, n) if s < 0 else slice(0, 1) for s, n in zip(strides, array.shape, strict=True))]
    storage = np.lib.stride_tricks.as_strided(
        corner, shape=(high - low + 1,), strides=(itemsize,), writeable=array.flags.writeable
    )
    out = Tensor(storage, array.shape, strides, -low)
    out._array = array
    return out


def _coerce_result_dtype(array: Any) -> Any:
    """NumPy can produce dtypes Hyperion does not carry (uint64 sums of uint8): widen them."""
    if array.dtype.kind == "u":
        return array.astype(int64)
    raise DTypeError(f"operation produced unsupported dtype {array.dtype}")


def as_tensor_like(value: Any, like: Tensor) -> Tensor:
    """Turn a list/array operand into a tensor on ``like``'s device (Tensors pass through)."""
    if isinstance(value, Tensor):
        return value
    xp = array_module(like.device)
    array = xp.asarray(value)
    if device_of_array(array) != like.device:
        raise ShapeError(f"cannot combine {type(value).__name__} with a tensor on {like.device}")
    return Tensor._from_array(array)
