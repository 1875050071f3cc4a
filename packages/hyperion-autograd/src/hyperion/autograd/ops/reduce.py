"""Reductions: sum, mean, prod, max, min, var, std, logsumexp (differentiable); all, any, argmax, argmin.

Every reduction takes the dimensions as NumPy's ``axis`` or PyTorch's ``dim``
(an int, a sequence, or ``None`` for all) and ``keepdims``/``keepdim``.

A reduction's gradient has the *input's* shape: ``backward`` first puts the
reduced dimensions back as size 1 (a reshape), then spreads the gradient
over them with ``expand`` -- whose own backward is the engine's
un-broadcast, so the sum over the expanded dimensions happens in the one
place it always does.

Conventions (documented choices):

* ``max``/``min`` are values-only reductions (NumPy's ``max``, PyTorch's
  ``amax``). When several elements tie for the extreme, **the gradient is
  split evenly among them**, as ``torch.amax`` does.
* ``var``/``std`` use ``correction=1`` (Bessel's correction, PyTorch's
  default) unless told otherwise (``correction=0`` or NumPy's ``ddof=0`` for
  the population value).
* ``prod`` handles zeros exactly: with one zero in a slice only that element
  gets a gradient (the product of the others); with two or more, none does.
"""

from __future__ import annotations

from typing import Any

from hyperion.autograd.function import Function, RawTensor, wrap
from hyperion.autograd.ops.views import Expand
from hyperion.tensor import layout

Axis = int | tuple[int, ...] | list[int] | None


def _resolve(x: RawTensor, axis: Axis, dim: Axis) -> tuple[int, ...] | None:
    """The reduced dimensions as a tuple of non-negative ints, or ``None`` for all of them."""
    if axis is not None and dim is not None:
        raise TypeError(f"pass either axis or dim, not both (got axis={axis}, dim={dim})")
    chosen = dim if axis is None else axis
    return None if chosen is None or not x.ndim else layout.normalize_dims(chosen, x.ndim)


def _keep(keepdims: bool, keepdim: bool | None) -> bool:
    return keepdims if keepdim is None else bool(keepdim)


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """``shape`` with the reduced dimensions set to 1 (what ``keepdims=True`` gives)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if k in axes else s for k, s in enumerate(shape))


def _count(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> int:
    """How many elements each output element reduces over."""
    return layout.numel(shape) if axes is None else layout.numel([shape[a] for a in axes])


class _Reduction(Function):
    """Shared bookkeeping: ``forward(ctx, x, axes, keepdims)`` records shapes; helpers for backward."""

    @staticmethod
    def _setup(ctx: Any, x: RawTensor, axes: tuple[int, ...] | None) -> None:
        ctx.in_shape = x.shape
        ctx.kept = _kept_shape(x.shape, axes)
        ctx.axes = axes

    @staticmethod
    def _kept_grad(ctx: Any, grad: Any) -> Any:
        """The gradient (or a saved output) with the reduced dimensions back as size 1.

        A 0-d gradient (a full reduction) broadcasts as it is.
        """
        shape = grad.shape
        return grad if shape == ctx.kept or not shape else grad.reshape(ctx.kept)


class Sum(_Reduction):
    """Sum; the gradient is copied to every summed element."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, axes: tuple[int, ...] | None, keepdims: bool) -> RawTensor:
        _Reduction._setup(ctx, x, axes)
        return x.sum(axes, keepdims)

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        return Expand.apply(_Reduction._kept_grad(ctx, grad_out), ctx.in_shape), None, None


class Mean(_Reduction):
    """Arithmetic mean; the gradient is spread evenly."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, axes: tuple[int, ...] | None, keepdims: bool) -> RawTensor:
        _Reduction._setup(ctx, x, axes)
        ctx.count = _count(x.shape, axes)
        return x.mean(axes, keepdims)

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        return Expand.apply(_Reduction._kept_grad(ctx, grad_out) / ctx.count, ctx.in_shape), None, None


class Prod(_Reduction):
    """Product; exact at zeros (see the module docstring)."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, axes: tuple[int, ...] | None, keepdims: bool) -> RawTensor:
        _Reduction._setup(ctx, x, axes)
        out = x.prod(axes, keepdims)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        x, out = ctx.saved_tensors
        g = _Reduction._kept_grad(ctx, grad_out)
        out = _Reduction._kept_grad(ctx, out)
        is_zero = x == 0
        zeros = is_zero.sum(ctx.axes, keepdims=True)
        # Product of the other elements: out / x away from zeros; at the single zero of a
        # slice, the product of the non-zero elements; nothing when a slice has two zeros.
        others_nonzero = x.where(~is_zero, 1.0).prod(ctx.axes, keepdims=True)
        at_zero = others_nonzero.where(zeros == 1, 0.0)
        safe_x = x.where(~is_zero, 1.0)
        away = (out / safe_x).where(zeros == 0, 0.0)
        return g * away.where(~is_zero, at_zero), None, None


class Max(_Reduction):
    """Largest value; ties share the gradient evenly (``torch.amax``'s rule)."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, axes: tuple[int, ...] | None, keepdims: bool) -> RawTensor:
        _Reduction._setup(ctx, x, axes)
        out = x.max(axes, keepdims)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        return _extreme_grad(ctx, grad_out), None, None


class Min(_Reduction):
    """Smallest value; ties share the gradient evenly."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, axes: tuple[int, ...] | None, keepdims: bool) -> RawTensor:
        _Reduction._setup(ctx, x, axes)
        out = x.min(axes, keepdims)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        return _extreme_grad(ctx, grad_out), None, None


def _extreme_grad(ctx: Any, grad_out: Any) -> Any:
    x, out = ctx.saved_tensors
    hit = x == _Reduction._kept_grad(ctx, out)
    share = hit.sum(ctx.axes, keepdims=True).astype(grad_out.dtype)
    return (_Reduction._kept_grad(ctx, grad_out) / share).where(hit, 0.0)


class Var(_Reduction):
    """Variance with ``correction``: derivative ``2 (x - mean) / (N - correction)``."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, axes: tuple[int, ...] | None, keepdims: bool, correction: float) -> RawTensor:
        _Reduction._setup(ctx, x, axes)
        ctx.divisor = _count(x.shape, axes) - correction
        ctx.save_for_backward(x)
        return x.var(axes, keepdims, correction=correction)

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        (x,) = ctx.saved_tensors
        centered = x - x.mean(ctx.axes, keepdims=True)
        return _Reduction._kept_grad(ctx, grad_out) * centered * (2.0 / ctx.divisor), None, None, None


class Std(_Reduction):
    """Standard deviation with ``correction``: derivative ``(x - mean) / ((N - correction) std)`` (0 where std is 0)."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, axes: tuple[int, ...] | None, keepdims: bool, correction: float) -> RawTensor:
        _Reduction._setup(ctx, x, axes)
        ctx.divisor = _count(x.shape, axes) - correction
        out = x.std(axes, keepdims, correction=correction)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        x, out = ctx.saved_tensors
        centered = x - x.mean(ctx.axes, keepdims=True)
        out = _Reduction._kept_grad(ctx, out)
        # A constant slice has std 0 and derivative 0/0; like PyTorch, give it 0.
        scale = (_Reduction._kept_grad(ctx, grad_out) / (out * ctx.divisor)).where(out != 0, 0.0)
        return scale * centered, None, None, None


class LogSumExp(_Reduction):
    """``log(sum(exp(x)))``; derivative ``exp(x - out)`` (the softmax)."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, axes: tuple[int, ...] | None, keepdims: bool) -> RawTensor:
        _Reduction._setup(ctx, x, axes)
        out = x.logsumexp(axes, keepdims)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        x, out = ctx.saved_tensors
        softmax = (x - _Reduction._kept_grad(ctx, out)).exp()
        return _Reduction._kept_grad(ctx, grad_out) * softmax, None, None


def _correction(correction: float | None, ddof: float | None) -> float:
    if correction is not None and ddof is not None:
        raise TypeError("pass either correction or ddof, not both")
    if correction is None and ddof is None:
        return 1
    return correction if correction is not None else ddof  # type: ignore[return-value]


class ReduceMethods:
    """Reduction methods of :class:`~hyperion.autograd.Tensor`."""

    __slots__ = ()

    def _reduction(self, op: type[Function], axis: Axis, dim: Axis, keepdims: bool, keepdim: bool | None) -> Any:
        return op.apply(self, _resolve(self.data, axis, dim), _keep(keepdims, keepdim))

    def sum(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None) -> Any:
        """Sum over ``axis``/``dim`` (all by default).

        Example:
            >>> import hyperion.autograd as ag
            >>> ag.ones(2, 3).sum(dim=1).tolist()
            [3.0, 3.0]
        """
        return self._reduction(Sum, axis, dim, keepdims, keepdim)

    def mean(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None) -> Any:
        """Arithmetic mean."""
        return self._reduction(Mean, axis, dim, keepdims, keepdim)

    def prod(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None) -> Any:
        """Product."""
        return self._reduction(Prod, axis, dim, keepdims, keepdim)

    def max(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None) -> Any:
        """Largest value (values only; ties share the gradient evenly)."""
        return self._reduction(Max, axis, dim, keepdims, keepdim)

    def min(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None) -> Any:
        """Smallest value (values only; ties share the gradient evenly)."""
        return self._reduction(Min, axis, dim, keepdims, keepdim)

    def logsumexp(
        self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None
    ) -> Any:
        """``log(sum(exp(x)))`` without overflow."""
        return self._reduction(LogSumExp, axis, dim, keepdims, keepdim)

    def var(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
        correction: float | None = None,
        ddof: float | None = None,
    ) -> Any:
        """Variance with ``correction`` (alias ``ddof``; default 1, Bessel's correction, as in PyTorch)."""
        axes = _resolve(self.data, axis, dim)
        return Var.apply(self, axes, _keep(keepdims, keepdim), _correction(correction, ddof))

    def std(
        self,
        axis: Axis = None,
        keepdims: bool = False,
        *,
        dim: Axis = None,
        keepdim: bool | None = None,
        correction: float | None = None,
        ddof: float | None = None,
    ) -> Any:
        """Standard deviation with ``correction`` (alias ``ddof``; default 1)."""
        axes = _resolve(self.data, axis, dim)
        return Std.apply(self, axes, _keep(keepdims, keepdim), _correction(correction, ddof))

    # -- not differentiable ------------------------------------------------------------
    def all(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None) -> Any:
        """Whether every element is true."""
        return wrap(self.data.all(axis, keepdims, dim=dim, keepdim=keepdim))

    def any(self, axis: Axis = None, keepdims: bool = False, *, dim: Axis = None, keepdim: bool | None = None) -> Any:
        """Whether some element is true."""
        return wrap(self.data.any(axis, keepdims, dim=dim, keepdim=keepdim))

    def argmax(
        self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None, keepdim: bool | None = None
    ) -> Any:
        """Index of the largest value (the first on ties)."""
        return wrap(self.data.argmax(axis, keepdims, dim=dim, keepdim=keepdim))

    def argmin(
        self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None, keepdim: bool | None = None
    ) -> Any:
        """Index of the smallest value (the first on ties)."""
        return wrap(self.data.argmin(axis, keepdims, dim=dim, keepdim=keepdim))
