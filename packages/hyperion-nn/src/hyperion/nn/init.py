"""Parameter initialisers (in place, like PyTorch's ``torch.nn.init``), drawn from explicit generators.

Every random initialiser takes ``generator=`` (a ``numpy.random.Generator``).
Without one it uses the module's default generator, :func:`default_generator`,
which starts seeded with ``0`` and is reseeded with :func:`manual_seed`; layers
and :func:`hyperion.nn.functional.dropout` use the same default, so
``manual_seed(s)`` before building a model makes it reproducible.

Fans follow PyTorch: for a weight of shape ``(out, in, *kernel)``,
``fan_in = in · prod(kernel)`` and ``fan_out = out · prod(kernel)``.

Examples:
    >>> import numpy as np
    >>> import hyperion.autograd as ag
    >>> from hyperion.nn import init
    >>> w = ag.empty(256, 128)
    >>> _ = init.kaiming_uniform_(w, a=5 ** 0.5, generator=np.random.default_rng(0))
    >>> bool(abs(w).max().item() <= 1 / 128 ** 0.5)
    True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import hyperion.tensor as ht
from hyperion.autograd import Tensor
from hyperion.tensor.device import array_module

__all__ = [
    "calculate_gain",
    "constant_",
    "default_generator",
    "kaiming_normal_",
    "kaiming_uniform_",
    "manual_seed",
    "normal_",
    "ones_",
    "uniform_",
    "xavier_normal_",
    "xavier_uniform_",
    "zeros_",
]


class _DefaultGenerator:
    """Holder of the default generator (one explicit, documented place; see the module docstring)."""

    generator: np.random.Generator = np.random.default_rng(0)


def default_generator() -> np.random.Generator:
    """The generator used when no ``generator=`` is given (initialisers, layers, dropout)."""
    return _DefaultGenerator.generator


def manual_seed(seed: int) -> np.random.Generator:
    """Replace the default generator by ``numpy.random.default_rng(seed)`` and return it."""
    _DefaultGenerator.generator = np.random.default_rng(seed)
    return _DefaultGenerator.generator


def _raw(tensor: Any) -> ht.Tensor:
    if isinstance(tensor, Tensor):
        return tensor.data
    if isinstance(tensor, ht.Tensor):
        return tensor
    raise TypeError(f"initialisers fill a hyperion tensor in place, got {type(tensor).__name__}")


def _fill(tensor: Any, values: Any) -> Any:
    """Write ``values`` (a NumPy array or scalar) into ``tensor``'s data in place; return ``tensor``."""
    raw = _raw(tensor)
    xp = array_module(raw.device)
    raw._arr()[...] = xp.asarray(values).astype(raw.dtype) if isinstance(values, np.ndarray) else values
    return tensor


def _rng(generator: np.random.Generator | None) -> np.random.Generator:
    return generator if generator is not None else default_generator()


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity (PyTorch's table).

    ``linear``/``conv*``/``sigmoid``: 1; ``tanh``: 5/3; ``relu``: √2;
    ``leaky_relu``: √(2 / (1 + slope²)) (slope ``param``, default 0.01); ``selu``: 3/4.

    Raises:
        ValueError: for an unknown nonlinearity or a bad ``param``.
    """
    linear = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
    if nonlinearity in linear or nonlinearity == "sigmoid":
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, bool) or not isinstance(param, int | float):
            raise ValueError(f"negative_slope {param!r} is not a valid number")
        else:
            slope = float(param)
        return math.sqrt(2.0 / (1.0 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4.0
    raise ValueError(f"unsupported nonlinearity {nonlinearity!r}")


def _calculate_fan_in_and_fan_out(tensor: Any) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight ``(out, in, *kernel)``.

    Raises:
        ValueError: for fewer than 2 dimensions.
    """
    shape = tuple(_raw(tensor).shape)
    if len(shape) < 2:
        raise ValueError(
            f"fan in and fan out can not be computed for a tensor with fewer than 2 dimensions (shape {shape})"
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _fan(tensor: Any, mode: str) -> int:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def uniform_(tensor: Any, a: float = 0.0, b: float = 1.0, generator: np.random.Generator | None = None) -> Any:
    """Fill with values drawn from ``U(a, b)``."""
    return _fill(tensor, _rng(generator).uniform(a, b, size=_raw(tensor).shape))


def normal_(tensor: Any, mean: float = 0.0, std: float = 1.0, generator: np.random.Generator | None = None) -> Any:
    """Fill with values drawn from ``N(mean, std²)``."""
    return _fill(tensor, _rng(generator).normal(mean, std, size=_raw(tensor).shape))


def constant_(tensor: Any, val: float) -> Any:
    """Fill with ``val``."""
    return _fill(tensor, val)


def ones_(tensor: Any) -> Any:
    """Fill with ones."""
    return _fill(tensor, 1)


def zeros_(tensor: Any) -> Any:
    """Fill with zeros."""
    return _fill(tensor, 0)


def xavier_uniform_(tensor: Any, gain: float = 1.0, generator: np.random.Generator | None = None) -> Any:
    """Glorot uniform: ``U(-a, a)`` with ``a = gain · √(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Any, gain: float = 1.0, generator: np.random.Generator | None = None) -> Any:
    """Glorot normal: ``N(0, std²)`` with ``std = gain · √(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), generator)


def kaiming_uniform_(
    tensor: Any,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Any:
    """He uniform: ``U(-b, b)`` with ``b = gain · √(3 / fan)``, ``gain = calculate_gain(nonlinearity, a)``.

    ``a = √5`` (PyTorch's default for Linear/Conv) gives ``b = 1/√fan_in``.
    """
    if 0 in _raw(tensor).shape:
        return tensor
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / _fan(tensor, mode))
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(
    tensor: Any,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "leaky_relu",
    generator: np.random.Generator | None = None,
) -> Any:
    """He normal: ``N(0, std²)`` with ``std = gain / √fan``."""
    if 0 in _raw(tensor).shape:
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)
