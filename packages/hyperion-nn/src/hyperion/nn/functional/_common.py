"""Small helpers shared by the functional ops: raw arrays in, raw tensors out, argument checks."""

from __future__ import annotations

from typing import Any

import hyperion.tensor as ht
from hyperion.autograd import Tensor, as_tensor
from hyperion.tensor import DeviceError, ShapeError
from hyperion.tensor.device import array_module

__all__ = ["arr", "as_input", "check_same_device", "constant", "pair", "raw_from", "xp_of"]


def arr(x: ht.Tensor) -> Any:
    """The NumPy/CuPy array seen through a raw tensor's layout (no copy)."""
    return x._arr()


def raw_from(array: Any) -> ht.Tensor:
    """A raw tensor wrapping an array an op produced."""
    return ht.Tensor._from_array(array)


def xp_of(x: ht.Tensor | Tensor) -> Any:
    """The array module (``numpy`` or ``cupy``) of a tensor's device."""
    return array_module(x.device)


def constant(array: Any) -> Tensor:
    """An autograd tensor outside the graph wrapping ``array`` (masks and index-derived factors)."""
    return Tensor(raw_from(array))


def as_input(x: Any, name: str = "input") -> Tensor:
    """``x`` as an autograd tensor (raw tensors and arrays are wrapped, not copied where possible).

    Raises:
        TypeError: if ``x`` cannot be turned into a tensor.
    """
    if isinstance(x, Tensor):
        return x
    try:
        return as_tensor(x)
    except Exception as exc:
        raise TypeError(f"{name} must be a tensor, got {type(x).__name__}") from exc


def check_same_device(x: Any, other: Any, op: str, name: str) -> None:
    """Raise a ``DeviceError`` naming ``op`` and both devices unless ``other`` is on ``x``'s device.

    Only the devices are compared, so no data of either tensor is read.
    """
    if str(other.device) != str(x.device):
        raise DeviceError(f"{op}: {name} is on {other.device} but the input is on {x.device}")


def pair(value: int | tuple[int, int] | list[int], name: str) -> tuple[int, int]:
    """``value`` as an ``(h, w)`` pair of ints (a single int is used for both).

    Raises:
        ValueError: if it is not one int or two.
    """
    if isinstance(value, int):
        return (value, value)
    items = tuple(int(v) for v in value)
    if len(items) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return items  # type: ignore[return-value]


def check_ndim(x: Tensor, allowed: tuple[int, ...], op: str, what: str) -> None:
    """Raise a ``ShapeError`` naming ``op`` unless ``x.ndim`` is one of ``allowed``."""
    if x.ndim not in allowed:
        wanted = " or ".join(f"{n}-D" for n in allowed)
        raise ShapeError(f"{op} expects a {wanted} input {what}, got shape {x.shape}")
