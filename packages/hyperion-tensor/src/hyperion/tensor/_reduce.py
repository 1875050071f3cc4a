"""Reductions: ``sum mean var std max min argmax argmin prod logsumexp all any``.

Each takes the dimensions as NumPy's ``axis`` or PyTorch's ``dim`` (an int, a
tuple, or ``None`` for all) and ``keepdims`` (PyTorch's ``keepdim`` too).
Variance and standard deviation use PyTorch's default, Bessel's correction
(``correction=1``); pass ``correction=0`` (or NumPy's ``ddof=0``) for the
population value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from hyperion.tensor._math import xp_of
from hyperion.tensor.errors import ShapeError
from hyperion.tensor.layout import normalize_dim, normalize_dims
from hyperion.tensor.registry import lookup, register_reference

if TYPE_CHECKING:
    from hyperion.tensor.tensor import Tensor

Axis = int | tuple[int, ...] | list[int] | None


def _resolve_axis(axis: Axis, dim: Axis) -> Axis:
    if axis is not None and dim is not None:
        raise TypeError(f"pass either axis or dim, not both (got axis={axis}, dim={dim})")
    return dim if axis is None else axis


def _logsumexp(x: Any, axis: tuple[int, ...] | None = None, keepdims: bool = False) -> Any:
    xp = xp_of(x)
    if x.dtype.kind != "f":
        x = x.astype(xp.float64 if x.dtype.itemsize > 4 else xp.float32)
    if x.size == 0:  # the log of an empty sum: -inf (max() would have no identity), as in PyTorch
        return xp.full_like(xp.sum(x, axis=axis, keepdims=keepdims), -xp.inf)
    peak = xp.max(x, axis=axis, keepdims=True)
    # An all -inf slice has peak -inf; shifting by it would give nan.
    peak = xp.where(xp.isfinite(peak), peak, 0)
    total = xp.sum(xp.exp(x - peak), axis=axis, keepdims=True)
    with np.errstate(divide="ignore"):  # log(0) = -inf is the right answer for an all -inf slice
        out = xp.log(total) + peak
    return out if keepdims else xp.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def _var(x: Any, axis: Any = None, keepdims: bool = False, correction: float = 1) -> Any:
    return xp_of(x).var(x, axis=axis, keepdims=keepdims, ddof=correction)


def _std(x: Any, axis: Any = None, keepdims: bool = False, correction: float = 1) -> Any:
    return xp_of(x).std(x, axis=axis, keepdims=keepdims, ddof=correction)


def _named(name: str) -> Any:
    # The array method (x.sum(...)) skips NumPy's Python-level dispatch wrapper; CuPy has the same methods.
    def reference(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return getattr(x, name)(axis=axis, keepdims=keepdims)

    reference.__name__ = reference.__qualname__ = f"reference_{name}"
    return reference


for _name in ("sum", "mean", "prod", "max", "min", "all", "any", "argmax", "argmin"):
    register_reference(_name, _named(_name))
register_reference("var", _var)
register_reference("std", _std)
register_reference("logsumexp", _logsumexp)


class ReduceMixin:
    """Reduction methods of :class:`~hyperion.tensor.Tensor`."""

    __slots__ = ()

    def _reduce(self, name: str, axis: Axis, dim: Axis, keepdims: bool, keepdim: bool | None, **kwargs: Any) -> Tensor:
        chosen = _resolve_axis(axis, dim)
        axes = None if chosen is None or not self._shape else normalize_dims(chosen, len(self._shape))
        keep = keepdims if keepdim is None else keepdim
        if name in ("max", "min") and 0 in self._shape:
            reduced = self._shape if axes is None else [self._shape[a] for a in axes]
            if 0 in reduced:
                raise ShapeError(f"{name}() of an empty slice of a tensor of shape {self.shape} has no identity")
        return self._from_array(lookup(name, self.device)(self._arr(), axis=axes, keepdims=keep, **kwargs))

    def sum(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None) -> Tensor:
        """Sum over ``axis``/``dim`` (all by default)."""
        return self._reduce("sum", axis, dim, keepdims, keepdim)

    def mean(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None) -> Tensor:
        """Arithmetic mean (integers give float64, as in NumPy)."""
        return self._reduce("mean", axis, dim, keepdims, keepdim)

    def prod(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None) -> Tensor:
        """Product over ``axis``/``dim``."""
        return self._reduce("prod", axis, dim, keepdims, keepdim)

    def max(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None) -> Tensor:
        """Largest value (values only, as NumPy's ``max``; use :meth:`argmax` for indices)."""
        return self._reduce("max", axis, dim, keepdims, keepdim)

    def min(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None) -> Tensor:
        """Smallest value."""
        return self._reduce("min", axis, dim, keepdims, keepdim)

    def all(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None) -> Tensor:
        """Whether every element is true."""
        return self._reduce("all", axis, dim, keepdims, keepdim)

    def any(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None) -> Tensor:
        """Whether some element is true."""
        return self._reduce("any", axis, dim, keepdims, keepdim)

    def logsumexp(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None) -> Tensor:
        """``log(sum(exp(x)))`` computed without overflow (shifted by the maximum)."""
        return self._reduce("logsumexp", axis, dim, keepdims, keepdim)

    def var(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
        correction: float | None = None,
        ddof: float | None = None,
    ) -> Tensor:
        """Variance with ``correction`` (alias ``ddof``; default 1, Bessel's correction, as PyTorch)."""
        return self._reduce("var", axis, dim, keepdims, keepdim, correction=_correction(correction, ddof))

    def std(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
        correction: float | None = None,
        ddof: float | None = None,
    ) -> Tensor:
        """Standard deviation with ``correction`` (alias ``ddof``; default 1)."""
        return self._reduce("std", axis, dim, keepdims, keepdim, correction=_correction(correction, ddof))

    def _arg_reduce(self, name: str, axis: int | None, dim: int | None, keepdims: bool, keepdim: bool | None) -> Tensor:
        chosen = _resolve_axis(axis, dim)
        if isinstance(chosen, tuple | list):
            raise TypeError(f"{name} takes a single dimension, got {chosen}")
        axis_ = normalize_dim(chosen, self.ndim) if chosen is not None and self.ndim else None
        if self._shape[axis_] == 0 if axis_ is not None else self.numel() == 0:  # an empty slice has no index
            raise ShapeError(f"{name}() of an empty tensor of shape {self.shape}")
        keep = keepdims if keepdim is None else keepdim
        return self._from_array(lookup(name, self.device)(self._arr(), axis=axis_, keepdims=keep))

    def argmax(self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None, keepdim: bool | None = None) -> Tensor:
        """Index of the largest value (the first one on ties; over the flattened tensor if no axis)."""
        return self._arg_reduce("argmax", axis, dim, keepdims, keepdim)

    def argmin(self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None, keepdim: bool | None = None) -> Tensor:
        """Index of the smallest value (the first one on ties)."""
        return self._arg_reduce("argmin", axis, dim, keepdims, keepdim)


def _correction(correction: float | None, ddof: float | None) -> float:
    if correction is not None and ddof is not None:
        raise TypeError("pass either correction or ddof, not both")
    return 1 if correction is None and ddof is None else (correction if correction is not None else ddof)  # type: ignore[return-value]
