"""Data types: NumPy's dtype objects, NumPy's promotion rules.

Hyperion uses ``numpy.dtype`` objects directly (CuPy shares them), so
``hyperion.tensor.float32 is numpy.dtype("float32")``. Promotion follows
NumPy (NEP 50): two tensors promote by ``numpy.result_type``; a Python scalar
is *weak* and does not widen a tensor (``float32 tensor + 2.0`` stays
float32). The default floating dtype is float32, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hyperion.tensor.errors import DTypeError

bool_ = np.dtype(np.bool_)
int8 = np.dtype(np.int8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
uint8 = np.dtype(np.uint8)
float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)

#: Every dtype a tensor may have.
SUPPORTED: tuple[np.dtype, ...] = (bool_, int8, int16, int32, int64, uint8, float16, float32, float64)
_SUPPORTED_SET = frozenset(SUPPORTED)
DEFAULT_FLOAT = float32
DEFAULT_INT = int64

_ALIASES = {"bool": bool_, "float": float32, "double": float64, "half": float16, "long": int64, "int": int64}

DTypeLike = np.dtype | str | type | None


def to_dtype(dtype: Any) -> np.dtype:
    """Resolve a dtype given as ``numpy.dtype``, a name (``"float32"``) or a type.

    Raises:
        DTypeError: naming the dtype and listing the supported ones.

    Example:
        >>> to_dtype("float64")
        dtype('float64')
    """
    if isinstance(dtype, np.dtype) and dtype in _SUPPORTED_SET:
        return dtype
    if isinstance(dtype, str) and dtype in _ALIASES:
        return _ALIASES[dtype]
    if dtype is float:
        return DEFAULT_FLOAT
    if dtype is int:
        return DEFAULT_INT
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved not in _SUPPORTED_SET:
        names = ", ".join(d.name for d in SUPPORTED)
        raise DTypeError(f"unsupported dtype {dtype!r}; supported dtypes are {names}")
    return resolved


def is_floating(dtype: np.dtype) -> bool:
    """True for float16/32/64."""
    return dtype.kind == "f"


def result_type(*operands: Any) -> np.dtype:
    """The dtype NumPy's promotion gives for tensors, dtypes and Python scalars.

    Tensors and dtypes are strong; Python ``bool``/``int``/``float`` are weak.
    """
    args = [getattr(op, "dtype", op) for op in operands]
    return to_dtype(np.result_type(*args))


def infer_dtype(value: Any) -> np.dtype:
    """The dtype ``tensor(value)`` gets when none is given: float32 for floats, int64 for ints."""
    if isinstance(value, np.ndarray | np.generic):  # before the float test: numpy.float64 is a float
        return to_dtype(value.dtype)
    if isinstance(value, bool):
        return bool_
    if isinstance(value, int):
        return DEFAULT_INT
    if isinstance(value, float):
        return DEFAULT_FLOAT
    kind = np.asarray(value).dtype
    if kind.kind == "f" and kind == float64 and not isinstance(value, np.ndarray | np.generic):
        return DEFAULT_FLOAT  # nested Python floats
    if kind.kind in "iu" and not isinstance(value, np.ndarray | np.generic):
        return DEFAULT_INT
    return to_dtype(kind)
