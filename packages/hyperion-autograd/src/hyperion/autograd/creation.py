"""Creating autograd tensors: the creation functions of hyperion.tensor with ``requires_grad=``.

Each function builds the data with its hyperion.tensor namesake (same
arguments, same defaults: float32 for floats, int64 for ints, explicit
seeds/generators for random values) and returns a leaf
:class:`~hyperion.autograd.Tensor`.

Example:
    >>> import hyperion.autograd as ag
    >>> w = ag.randn(3, 2, seed=0, dtype="float64", requires_grad=True)
    >>> w.is_leaf, w.requires_grad, w.dtype
    (True, True, dtype('float64'))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import hyperion.tensor as ht
from hyperion.autograd.tensor import Tensor

__all__ = [
    "arange",
    "as_tensor",
    "empty",
    "empty_like",
    "eye",
    "from_numpy",
    "full",
    "full_like",
    "linspace",
    "normal",
    "ones",
    "ones_like",
    "rand",
    "randint",
    "randn",
    "tensor",
    "uniform",
    "zeros",
    "zeros_like",
]


def _leaf(raw: ht.Tensor, requires_grad: bool) -> Tensor:
    return Tensor(raw, requires_grad=requires_grad)


def _data(x: Any) -> ht.Tensor:
    return x.data if isinstance(x, Tensor) else x


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, device: Any = "cpu") -> Tensor:
    """A new leaf tensor holding a copy of ``data`` (lists, scalars, arrays, raw or autograd tensors).

    Raises:
        DTypeError: if ``requires_grad`` is asked of integer or bool data.

    Example:
        >>> import hyperion.autograd as ag
        >>> ag.tensor([1.0, 2.0], requires_grad=True)
        tensor([1., 2.], dtype=float32, requires_grad=True)
    """
    return _leaf(ht.tensor(_data(data), dtype=dtype, device=device), requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` itself if it is an autograd tensor of that dtype/device, else a tensor sharing or copying it."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (dtype is not None or device is not None) else data
    return _leaf(ht.as_tensor(data, dtype=dtype, device=device), False)


def from_numpy(array: np.ndarray, requires_grad: bool = False) -> Tensor:
    """A CPU tensor sharing memory with a NumPy array (whatever its strides)."""
    return _leaf(ht.from_numpy(array), requires_grad)


def zeros(*shape: Any, dtype: Any = None, device: Any = "cpu", requires_grad: bool = False) -> Tensor:
    """Zeros (float32 unless ``dtype`` says otherwise)."""
    return _leaf(ht.zeros(*shape, dtype=dtype, device=device), requires_grad)


def ones(*shape: Any, dtype: Any = None, device: Any = "cpu", requires_grad: bool = False) -> Tensor:
    """Ones (float32 unless ``dtype`` says otherwise)."""
    return _leaf(ht.ones(*shape, dtype=dtype, device=device), requires_grad)


def empty(*shape: Any, dtype: Any = None, device: Any = "cpu", requires_grad: bool = False) -> Tensor:
    """Uninitialised memory (float32 unless ``dtype`` says otherwise)."""
    return _leaf(ht.empty(*shape, dtype=dtype, device=device), requires_grad)


def full(
    shape: Sequence[int] | int, fill_value: Any, *, dtype: Any = None, device: Any = "cpu", requires_grad: bool = False
) -> Tensor:
    """``shape`` filled with ``fill_value``."""
    return _leaf(ht.full(shape, fill_value, dtype=dtype, device=device), requires_grad)


def zeros_like(x: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros with ``x``'s shape, dtype and device."""
    return _leaf(ht.zeros_like(_data(x), dtype=dtype, device=device), requires_grad)


def ones_like(x: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Ones with ``x``'s shape, dtype and device."""
    return _leaf(ht.ones_like(_data(x), dtype=dtype, device=device), requires_grad)


def empty_like(x: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uninitialised memory with ``x``'s shape, dtype and device."""
    return _leaf(ht.empty_like(_data(x), dtype=dtype, device=device), requires_grad)


def full_like(x: Any, fill_value: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``fill_value`` with ``x``'s shape, dtype and device."""
    return _leaf(ht.full_like(_data(x), fill_value, dtype=dtype, device=device), requires_grad)


def arange(
    start: float,
    end: float | None = None,
    step: float = 1,
    *,
    dtype: Any = None,
    device: Any = "cpu",
    requires_grad: bool = False,
) -> Tensor:
    """Evenly spaced values in ``[start, end)``."""
    return _leaf(ht.arange(start, end, step, dtype=dtype, device=device), requires_grad)


def linspace(
    start: float, end: float, steps: int, *, dtype: Any = None, device: Any = "cpu", requires_grad: bool = False
) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    return _leaf(ht.linspace(start, end, steps, dtype=dtype, device=device), requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = "cpu", requires_grad: bool = False) -> Tensor:
    """The ``n × m`` identity matrix."""
    return _leaf(ht.eye(n, m, dtype=dtype, device=device), requires_grad)


def rand(
    *shape: Any,
    generator: np.random.Generator | None = None,
    seed: int | None = None,
    dtype: Any = None,
    device: Any = "cpu",
    requires_grad: bool = False,
) -> Tensor:
    """Uniform samples in ``[0, 1)`` from an explicit generator or seed."""
    return _leaf(ht.rand(*shape, generator=generator, seed=seed, dtype=dtype, device=device), requires_grad)


def randn(
    *shape: Any,
    generator: np.random.Generator | None = None,
    seed: int | None = None,
    dtype: Any = None,
    device: Any = "cpu",
    requires_grad: bool = False,
) -> Tensor:
    """Standard normal samples from an explicit generator or seed."""
    return _leaf(ht.randn(*shape, generator=generator, seed=seed, dtype=dtype, device=device), requires_grad)


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
    """Integers uniform in ``[low, high)`` (never require grad)."""
    return _leaf(ht.randint(low, high, shape, generator=generator, seed=seed, dtype=dtype, device=device), False)


def normal(
    mean: float = 0.0,
    std: float = 1.0,
    shape: Sequence[int] = (),
    *,
    generator: np.random.Generator | None = None,
    seed: int | None = None,
    dtype: Any = None,
    device: Any = "cpu",
    requires_grad: bool = False,
) -> Tensor:
    """Normal samples with the given mean and standard deviation."""
    raw = ht.normal(mean, std, shape, generator=generator, seed=seed, dtype=dtype, device=device)
    return _leaf(raw, requires_grad)


def uniform(
    low: float = 0.0,
    high: float = 1.0,
    shape: Sequence[int] = (),
    *,
    generator: np.random.Generator | None = None,
    seed: int | None = None,
    dtype: Any = None,
    device: Any = "cpu",
    requires_grad: bool = False,
) -> Tensor:
    """Uniform samples in ``[low, high)``."""
    raw = ht.uniform(low, high, shape, generator=generator, seed=seed, dtype=dtype, device=device)
    return _leaf(raw, requires_grad)
