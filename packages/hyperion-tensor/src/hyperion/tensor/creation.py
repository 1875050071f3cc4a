"""Creating tensors: from data, filled, ranges, and random from an explicit generator.

Defaults follow PyTorch: Python floats give float32, Python ints int64, and
every function takes ``dtype=`` and ``device=``. Random functions draw from a
``numpy.random.Generator`` you pass (``generator=``) or seed (``seed=``), so
runs are reproducible; values are drawn on the CPU and then moved, so a seed
gives the same numbers on every device.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from hyperion.tensor._views import _shape_arg
from hyperion.tensor.device import array_module, device_of_array, to_device
from hyperion.tensor.dtypes import DEFAULT_FLOAT, infer_dtype, int64, to_dtype
from hyperion.tensor.errors import DTypeError, ShapeError
from hyperion.tensor.tensor import Tensor, wrap_strided


def _shape(shape: tuple[Any, ...]) -> tuple[int, ...]:
    out = _shape_arg(shape)
    if any(s < 0 for s in out):
        raise ShapeError(f"negative dimension in shape {out}")
    return out


def _place(array: np.ndarray, device: Any) -> Tensor:
    device = to_device(device)
    return Tensor._from_array(array if device == "cpu" else array_module("cuda").asarray(array))


def tensor(data: Any, dtype: Any = None, device: Any = "cpu") -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, scalars, arrays or a Tensor).

    Example:
        >>> tensor([[1, 2], [3, 4]]).dtype
        dtype('int64')
        >>> tensor([1.0, 2.0]).dtype
        dtype('float32')
    """
    if isinstance(data, Tensor):
        out = data.clone()
        return out.to(device=device, dtype=dtype) if dtype is not None else out.to(device=device)
    if device_of_array(data) == "cuda" and hasattr(data, "__cuda_array_interface__"):
        array = data.get()
    else:
        try:
            array = np.array(data)
        except ValueError as exc:
            raise ShapeError(f"cannot build a tensor from ragged or malformed data: {exc}") from None
    if array.dtype == object:
        raise DTypeError(f"cannot build a tensor from data of mixed or non-numeric types ({type(data).__name__})")
    resolved = to_dtype(dtype) if dtype is not None else infer_dtype(data)
    return _place(np.asarray(array, dtype=resolved, order="C"), device)  # ascontiguousarray would make 0-d 1-d


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like :func:`tensor`, but returns ``data`` itself when it already is a matching Tensor."""
    if isinstance(data, Tensor) and (dtype is None or to_dtype(dtype) == data.dtype) and (
        device is None or to_device(device) == data.device
    ):
        return data
    return tensor(data, dtype=dtype, device=device or "cpu")


def from_numpy(array: np.ndarray) -> Tensor:
    """A CPU tensor sharing memory with a NumPy array, whatever its strides (zero-copy).

    Raises:
        ShapeError: if a stride is not a whole number of elements.
        DTypeError: for unsupported dtypes.
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    dtype = to_dtype(array.dtype)
    if array.size == 0:
        return Tensor(np.empty(0, dtype), array.shape)
    return wrap_strided(array)


def from_dlpack(obj: Any) -> Tensor:
    """Zero-copy import of any DLPack producer (NumPy, CuPy, PyTorch, JAX...).

    Raises:
        TypeError: if ``obj`` does not implement the DLPack protocol (``__dlpack__``).
    """
    if not hasattr(obj, "__dlpack__"):
        raise TypeError(f"from_dlpack expects an object with __dlpack__ (a DLPack producer), got {type(obj).__name__}")
    if hasattr(obj, "__dlpack_device__") and obj.__dlpack_device__()[0] != 1:
        return Tensor._from_array(array_module("cuda").from_dlpack(obj))
    return from_numpy(np.from_dlpack(obj))


def full(shape: Sequence[int] | int, fill_value: Any, *, dtype: Any = None, device: Any = "cpu") -> Tensor:
    """A tensor of ``shape`` filled with ``fill_value`` (dtype inferred from it when not given)."""
    shape_ = _shape((shape,) if isinstance(shape, int) else (tuple(shape),))
    resolved = to_dtype(dtype) if dtype is not None else infer_dtype(fill_value)
    try:
        filled = np.full(shape_, fill_value, dtype=resolved)
    except (TypeError, ValueError) as exc:
        raise DTypeError(f"full: fill_value {fill_value!r} cannot be stored as {resolved}: {exc}") from None
    return _place(filled, device)


def zeros(*shape: Any, dtype: Any = None, device: Any = "cpu") -> Tensor:
    """Zeros (float32 unless ``dtype`` says otherwise)."""
    return _place(np.zeros(_shape(shape), dtype=to_dtype(dtype or DEFAULT_FLOAT)), device)


def ones(*shape: Any, dtype: Any = None, device: Any = "cpu") -> Tensor:
    """Ones (float32 unless ``dtype`` says otherwise)."""
    return _place(np.ones(_shape(shape), dtype=to_dtype(dtype or DEFAULT_FLOAT)), device)


def empty(*shape: Any, dtype: Any = None, device: Any = "cpu") -> Tensor:
    """Uninitialised memory (float32 unless ``dtype`` says otherwise)."""
    return _place(np.empty(_shape(shape), dtype=to_dtype(dtype or DEFAULT_FLOAT)), device)


def _check_like(name: str, x: Any) -> None:
    """``*_like`` functions copy shape, dtype and device from a tensor: refuse anything else by name."""
    if not all(hasattr(x, attr) for attr in ("shape", "dtype", "device")):
        raise TypeError(f"{name} expects a tensor (with shape, dtype and device), got {type(x).__name__}")


def zeros_like(x: Tensor, *, dtype: Any = None, device: Any = None) -> Tensor:
    """Zeros with ``x``'s shape, dtype and device."""
    _check_like("zeros_like", x)
    return zeros(x.shape, dtype=dtype or x.dtype, device=device or x.device)


def ones_like(x: Tensor, *, dtype: Any = None, device: Any = None) -> Tensor:
    """Ones with ``x``'s shape, dtype and device."""
    _check_like("ones_like", x)
    return ones(x.shape, dtype=dtype or x.dtype, device=device or x.device)


def empty_like(x: Tensor, *, dtype: Any = None, device: Any = None) -> Tensor:
    """Uninitialised memory with ``x``'s shape, dtype and device."""
    _check_like("empty_like", x)
    return empty(x.shape, dtype=dtype or x.dtype, device=device or x.device)


def full_like(x: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None) -> Tensor:
    """``fill_value`` with ``x``'s shape, dtype and device."""
    _check_like("full_like", x)
    return full(x.shape, fill_value, dtype=dtype or x.dtype, device=device or x.device)


def arange(start: float, end: float | None = None, step: float = 1, *, dtype: Any = None, device: Any = "cpu") -> Tensor:
    """Evenly spaced values in ``[start, end)``; int64 for integer arguments, else float32."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise ValueError("arange: step must be nonzero")
    for label, value in (("start", start), ("end", end), ("step", step)):
        if not isinstance(value, bool | int | float | np.number) or not np.isfinite(value):
            raise ValueError(f"arange: {label} must be a finite number, got {value!r}")
    integral = all(isinstance(v, int) for v in (start, end, step))
    resolved = to_dtype(dtype) if dtype is not None else (int64 if integral else DEFAULT_FLOAT)
    return _place(np.arange(start, end, step).astype(resolved), device)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, device: Any = "cpu") -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if steps < 0:
        raise ValueError(f"linspace: number of steps must be >= 0, got {steps}")
    return _place(np.linspace(start, end, steps).astype(to_dtype(dtype or DEFAULT_FLOAT)), device)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = "cpu") -> Tensor:
    """The ``n × m`` identity matrix."""
    if n < 0 or (m is not None and m < 0):
        raise ShapeError(f"eye: sizes must be >= 0, got n={n}, m={m}")
    return _place(np.eye(n, m, dtype=to_dtype(dtype or DEFAULT_FLOAT)), device)


# -- random ------------------------------------------------------------------------


def _generator(generator: np.random.Generator | None, seed: int | None) -> np.random.Generator:
    if generator is not None and seed is not None:
        raise TypeError("pass either generator or seed, not both")
    if generator is not None:
        if not isinstance(generator, np.random.Generator):
            raise TypeError(f"generator must be a numpy.random.Generator, got {type(generator).__name__}")
        return generator
    return np.random.default_rng(seed)


def _float_dtype(dtype: Any) -> np.dtype:
    resolved = to_dtype(dtype or DEFAULT_FLOAT)
    if resolved.kind != "f":
        raise DTypeError(f"random floats need a floating dtype, got {resolved}")
    return resolved


def rand(
    *shape: Any, generator: np.random.Generator | None = None, seed: int | None = None, dtype: Any = None, device: Any = "cpu"
) -> Tensor:
    """Uniform samples in ``[0, 1)``."""
    rng = _generator(generator, seed)
    return _place(rng.random(_shape(shape)).astype(_float_dtype(dtype)), device)


def randn(
    *shape: Any, generator: np.random.Generator | None = None, seed: int | None = None, dtype: Any = None, device: Any = "cpu"
) -> Tensor:
    """Standard normal samples."""
    rng = _generator(generator, seed)
    return _place(rng.standard_normal(_shape(shape)).astype(_float_dtype(dtype)), device)


def randint(
    low: int,
    high: int,
    shape: Sequence[int],
    *,
    generator: np.random.Generator | None = None,
    seed: int | None = None,
    dtype: Any = None,
    device: Any = "cpu",
) -> Tensor:
    """Integers uniform in ``[low, high)`` (int64 unless ``dtype`` says otherwise)."""
    if high <= low:
        raise ValueError(f"randint: high ({high}) must be greater than low ({low})")
    rng = _generator(generator, seed)
    return _place(rng.integers(low, high, size=_shape((tuple(shape),))).astype(to_dtype(dtype or int64)), device)


def normal(
    mean: float = 0.0,
    std: float = 1.0,
    shape: Sequence[int] = (),
    *,
    generator: np.random.Generator | None = None,
    seed: int | None = None,
    dtype: Any = None,
    device: Any = "cpu",
) -> Tensor:
    """Normal samples with the given mean and standard deviation."""
    if std < 0:
        raise ValueError(f"normal: std must be >= 0, got {std}")
    rng = _generator(generator, seed)
    return _place(rng.normal(mean, std, size=_shape((tuple(shape),))).astype(_float_dtype(dtype)), device)


def uniform(
    low: float = 0.0,
    high: float = 1.0,
    shape: Sequence[int] = (),
    *,
    generator: np.random.Generator | None = None,
    seed: int | None = None,
    dtype: Any = None,
    device: Any = "cpu",
) -> Tensor:
    """Uniform samples in ``[low, high)``."""
    if high < low:
        raise ValueError(f"uniform: high ({high}) must be >= low ({low})")
    rng = _generator(generator, seed)
    return _place(rng.uniform(low, high, size=_shape((tuple(shape),))).astype(_float_dtype(dtype)), device)
