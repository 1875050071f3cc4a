"""Losses: ``cross_entropy`` (fused, through the registry), ``nll_loss``, ``mse_loss``, ``binary_cross_entropy``
and ``binary_cross_entropy_with_logits``.

``cross_entropy`` with class-index targets and no label smoothing is one
``Function`` on the logits flattened to ``(N, C)``, whose forward and backward
run the array-level kernels ``nn.cross_entropy_forward``/``_backward`` from the
registry (per-row losses and row log-sum-exps; the probabilities are never
kept). Class weights and the reduction are applied on top, with autograd ops.
Probability targets and label smoothing use the composed path
(:func:`log_softmax` and a gather).

Every loss works on log-probabilities or logits in a numerically stable way:
``cross_entropy`` is ``log_softmax`` (log-sum-exp) followed by picking the
target's log-probability, and the logits form of binary cross-entropy uses
``max(-x, 0) + log1p(exp(-|x|))`` instead of ``log(1 + exp(-x))``.

Class weights (``weight=``) are treated as constants: no gradient flows to them.

Examples:
    >>> import hyperion.autograd as ag
    >>> from hyperion.nn import functional as F
    >>> logits = ag.tensor([[1e4, 0.0], [0.0, 1e4]])
    >>> F.cross_entropy(logits, ag.tensor([0, 1])).item()
    0.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hyperion.autograd import Function, Tensor, is_grad_enabled
from hyperion.autograd.function import RawTensor
from hyperion.nn.functional._common import arr, as_input, check_same_device, constant, raw_from, xp_of
from hyperion.nn.functional.activation import relu
from hyperion.nn.functional.softmax import kernel_for, log_softmax, softmax, xp_of_array
from hyperion.tensor import ShapeError, registry

__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "mse_loss", "nll_loss"]

_REDUCTIONS = ("none", "mean", "sum")


def _check_reduction(reduction: str, op: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


class PickRows(Function):
    """``x[i, index[i]]`` for a 2-D ``x``: one element per row (the gradient is a one-hot scatter)."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, index: Any) -> RawTensor:
        xp = xp_of(x)
        ctx.index = index
        ctx.shape = x.shape
        return raw_from(arr(x)[xp.arange(x.shape[0]), index])

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        return ScatterRows.apply(grad_out, ctx.index, ctx.shape), None


class ScatterRows(Function):
    """Zeros of ``shape`` with ``g[i]`` at ``(i, index[i])``: the adjoint of :class:`PickRows`."""

    @staticmethod
    def forward(ctx: Any, g: RawTensor, index: Any, shape: tuple[int, int]) -> RawTensor:
        xp = xp_of(g)
        ctx.index = index
        out = xp.zeros(shape, dtype=g.dtype)
        out[xp.arange(shape[0]), index] = arr(g)
        return raw_from(out)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        return PickRows.apply(grad_out, ctx.index), None, None


def _class_last(x: Tensor) -> Tensor:
    """``(N, C, d1, ...)`` → ``(N·d1·…, C)``; ``(C,)`` → ``(1, C)``; ``(N, C)`` unchanged."""
    if x.ndim == 1:
        return x.reshape(1, x.shape[0])
    if x.ndim == 2:
        return x
    order = (0, *range(2, x.ndim), 1)
    return x.permute(*order).reshape(-1, x.shape[1])


def _target_array(target: Any, input_shape: tuple[int, ...], op: str) -> Any:
    t = as_input(target, "target")
    expected = (input_shape[0], *input_shape[2:]) if len(input_shape) >= 2 else ()
    if t.dtype.kind not in "iu":
        raise TypeError(f"{op}: class-index targets must be integers, got dtype {t.dtype}")
    if tuple(t.shape) != expected:
        raise ShapeError(f"{op}: input of shape {input_shape} needs a target of shape {expected}, got {t.shape}")
    return arr(t.data).reshape(-1)


def _weights_array(weight: Any, num_classes: int, op: str) -> Any:
    if weight is None:
        return None
    w = arr(as_input(weight, "weight").data)
    if w.shape != (num_classes,):
        raise ShapeError(f"{op}: weight must have shape ({num_classes},) (one per class), got {w.shape}")
    return w


def _nll_parts(logp: Tensor, target: Any, weight: Any, ignore_index: int, op: str) -> tuple[Tensor, Any, Any, Tensor]:
    """The flattened per-element weighted losses, the per-element weights and validity, and the 2-D log-probs."""
    if logp.ndim < 1:
        raise ShapeError(f"{op}: input must have a class dimension, got a 0-d tensor")
    num_classes = logp.shape[1] if logp.ndim >= 2 else logp.shape[0]
    t = _target_array(target, logp.shape, op)
    w = _weights_array(weight, num_classes, op)
    lp2 = _class_last(logp)
    xp = xp_of(lp2)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= num_classes))
    if bool(bad.any()):
        raise IndexError(
            f"{op}: target {int(t[bad][0])} is out of bounds for {num_classes} classes (ignore_index={ignore_index})"
        )
    safe = xp.where(valid, t, 0)
    per_weight = (w[safe] if w is not None else xp.ones(t.shape, dtype=lp2.dtype)) * valid
    per_weight = per_weight.astype(lp2.dtype)
    picked = PickRows.apply(lp2, safe)
    return -picked * constant(per_weight), per_weight, valid, lp2


def _out_shape(input_shape: tuple[int, ...]) -> tuple[int, ...]:
    return (input_shape[0], *input_shape[2:]) if len(input_shape) >= 2 else ()


def nll_loss(
    input: Tensor,  # noqa: A002 - PyTorch name
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
) -> Tensor:
    """Negative log-likelihood of class-index targets given log-probabilities.

    Args:
        input: log-probabilities, ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``.
        target: class indices, ``()``, ``(N,)`` or ``(N, d1, ...)``.
        weight: optional per-class weights ``(C,)``.
        ignore_index: targets equal to it contribute nothing (and do not count in the mean).
        reduction: ``"mean"`` (weighted mean over non-ignored elements), ``"sum"`` or ``"none"``.

    Raises:
        ShapeError: if the target's shape does not match the input's.
        IndexError: for a target outside ``[0, C)`` that is not ``ignore_index``.
    """
    _check_reduction(reduction, "nll_loss")
    logp = as_input(input)
    losses, per_weight, _, _ = _nll_parts(logp, target, weight, ignore_index, "nll_loss")
    if reduction == "none":
        return losses.reshape(_out_shape(logp.shape))
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / constant(per_weight.sum())


def _accumulation_view(logits2d: Any) -> Any:
    """``logits2d`` in the dtype the log-sum-exp is accumulated in: float32 for float16 input, else itself.

    In float16, ``-1e4 + log(3)`` rounds back to ``-1e4`` (the spacing there is 8), so the row
    log-sum-exp and ``exp(x - lse)`` are computed in float32 and only the results are cast back.
    """
    return logits2d.astype("float32") if logits2d.dtype == "float16" else logits2d


def cross_entropy_forward_reference(logits2d: Any, target: Any, ignore_index: int) -> tuple[Any, Any]:
    """Reference ``nn.cross_entropy_forward``: per-row ``lse - x[target]`` (0 where ignored) and the row ``lse``.

    float16 logits are accumulated in float32: the ``lse`` returned is float32, the loss float16.
    """
    xp = xp_of_array(logits2d)
    x = _accumulation_view(logits2d)
    m = x.max(axis=-1)
    lse = m + xp.log(xp.exp(x - m[:, None]).sum(axis=-1))
    valid = target != ignore_index
    picked = x[xp.arange(x.shape[0]), xp.where(valid, target, 0)]
    return xp.where(valid, lse - picked, 0).astype(logits2d.dtype), lse


def cross_entropy_backward_reference(logits2d: Any, target: Any, lse: Any, grow: Any, ignore_index: int) -> Any:
    """Reference ``nn.cross_entropy_backward``: ``grow[:, None]·(softmax - onehot)``, 0 on ignored rows.

    An ignored row's gradient is 0 even where ``grow`` is not finite (the mean over no targets
    is 0/0; PyTorch and the CPU kernel also give 0 there). float16 logits are handled in float32.
    """
    xp = xp_of_array(logits2d)
    x = _accumulation_view(logits2d)
    valid = target != ignore_index
    g = xp.exp(x - lse.astype(x.dtype, copy=False)[:, None])
    rows = xp.arange(x.shape[0])
    g[rows, xp.where(valid, target, 0)] -= 1.0
    g *= xp.where(valid, grow, 0).astype(x.dtype)[:, None]
    return g.astype(logits2d.dtype, copy=False)


registry.register_reference("nn.cross_entropy_forward", cross_entropy_forward_reference)
registry.register_reference("nn.cross_entropy_backward", cross_entropy_backward_reference)


class CrossEntropyRows(Function):
    """Per-row ``-log softmax(x)[target]·weight`` of ``(N, C)`` logits: kernels ``nn.cross_entropy_forward``/``_backward``.

    ``row_weight`` (a constant array) scales each row's loss; ignored rows have weight 0.
    """

    @staticmethod
    def forward(ctx: Any, x: RawTensor, target: Any, row_weight: Any, ignore_index: int) -> RawTensor:
        xp = xp_of(x)
        logits = xp.ascontiguousarray(arr(x))
        impl = kernel_for("nn.cross_entropy_forward", x.device, logits.dtype, cross_entropy_forward_reference)
        loss, lse = impl(logits, target, ignore_index)
        ctx.target, ctx.row_weight, ctx.ignore_index, ctx.lse = target, row_weight, ignore_index, lse
        ctx.save_for_backward(x)
        return raw_from(loss * row_weight)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        (x,) = ctx.saved_tensors
        xp = xp_of(x)
        if is_grad_enabled():
            onehot = xp.zeros(x.shape, dtype=x.dtype)
            valid = ctx.target != ctx.ignore_index
            onehot[xp.arange(x.shape[0]), xp.where(valid, ctx.target, 0)] = 1.0
            grow = grad_out * constant(ctx.row_weight)
            return (softmax(x, dim=1) - constant(onehot)) * grow.reshape(-1, 1), None, None, None
        logits = xp.ascontiguousarray(arr(x.data))
        grow = arr(grad_out.data) * ctx.row_weight
        impl = kernel_for("nn.cross_entropy_backward", x.device, logits.dtype, cross_entropy_backward_reference)
        return constant(impl(logits, ctx.target, ctx.lse, grow, ctx.ignore_index)), None, None, None


def _fused_cross_entropy(x: Tensor, target: Tensor, weight: Any, ignore_index: int, reduction: str) -> Tensor:
    """Class-index cross-entropy through :class:`CrossEntropyRows`, then weights and the reduction."""
    if x.ndim < 1:
        raise ShapeError("cross_entropy: input must have a class dimension, got a 0-d tensor")
    num_classes = x.shape[1] if x.ndim >= 2 else x.shape[0]
    t = _target_array(target, x.shape, "cross_entropy")
    w = _weights_array(weight, num_classes, "cross_entropy")
    x2 = _class_last(x)
    xp = xp_of(x2)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= num_classes))
    if bool(bad.any()):
        raise IndexError(
            f"cross_entropy: target {int(t[bad][0])} is out of bounds for {num_classes} classes (ignore_index={ignore_index})"
        )
    safe = xp.where(valid, t, 0)
    per_weight = ((w[safe] if w is not None else xp.ones(t.shape, dtype=x2.dtype)) * valid).astype(x2.dtype)
    losses = CrossEntropyRows.apply(x2, xp.ascontiguousarray(t.astype(xp.int64)), per_weight, int(ignore_index))
    if reduction == "none":
        return losses.reshape(_out_shape(x.shape))
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / constant(per_weight.sum())


def _composed_cross_entropy(
    input: Tensor,  # noqa: A002 - PyTorch name
    target: Tensor,
    weight: Tensor | None,
    ignore_index: int,
    reduction: str,
    label_smoothing: float,
) -> Tensor:
    """Cross-entropy composed of ``log_softmax`` and a row gather (probability targets, label smoothing)."""
    class_dim = 0 if input.ndim == 1 else 1
    logp = log_softmax(input, dim=class_dim)
    num_classes = input.shape[class_dim]
    if target.dtype.kind == "f":
        return _soft_target_loss(logp, target, weight, reduction, label_smoothing, class_dim)
    losses, per_weight, valid, lp2 = _nll_parts(logp, target, weight, ignore_index, "cross_entropy")
    out_shape = _out_shape(input.shape)
    if reduction == "none":
        loss = losses.reshape(out_shape)
    elif reduction == "sum":
        loss = losses.sum()
    else:
        loss = losses.sum() / constant(per_weight.sum())
    if label_smoothing <= 0.0:
        return loss
    w = _weights_array(weight, num_classes, "cross_entropy")
    weighted = lp2 * constant(w) if w is not None else lp2
    smooth = -weighted.sum(dim=1) * constant(valid.astype(lp2.dtype))
    if reduction == "none":
        smooth = smooth.reshape(out_shape)
    elif reduction == "sum":
        smooth = smooth.sum()
    elif w is not None:
        smooth = smooth.sum() / constant(per_weight.sum())
    else:
        smooth = smooth.sum() / float(valid.sum())
    return loss * (1.0 - label_smoothing) + smooth * (label_smoothing / num_classes)


def _soft_target_loss(
    logp: Tensor, target: Tensor, weight: Any, reduction: str, label_smoothing: float, class_dim: int
) -> Tensor:
    if tuple(target.shape) != tuple(logp.shape):
        raise ShapeError(
            f"cross_entropy: probability targets must have the input's shape {logp.shape}, got {target.shape}"
        )
    num_classes = logp.shape[class_dim]
    if label_smoothing > 0.0:
        target = target * (1.0 - label_smoothing) + label_smoothing / num_classes
    product = logp * target
    w = _weights_array(weight, num_classes, "cross_entropy")
    if w is not None:
        shape = [1] * logp.ndim
        shape[class_dim] = num_classes
        product = product * constant(w.reshape(shape))
    losses = -product.sum(dim=class_dim)
    return _reduce(losses, reduction)


def cross_entropy(
    input: Tensor,  # noqa: A002 - PyTorch name
    target: Tensor,
    weight: Tensor | None = None,
    ignore_index: int = -100,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """Cross-entropy between logits and targets: ``log_softmax`` + negative log-likelihood, stably.

    Args:
        input: unnormalised logits ``(C,)``, ``(N, C)`` or ``(N, C, d1, ...)``.
        target: class indices (integer, the input's shape without ``C``), or class
            probabilities (floating, the input's shape).
        weight: optional per-class weights ``(C,)``.
        ignore_index: class-index targets equal to it contribute nothing.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        label_smoothing: ``ε`` in ``[0, 1]``: the target becomes ``(1-ε)·onehot + ε/C``.

    Raises:
        ValueError: for an unknown reduction or ``label_smoothing`` outside ``[0, 1]``.
        ShapeError: if the target's shape does not fit the input's.
        IndexError: for a class index out of range.
        DeviceError: if the target is on another device than the input.
    """
    _check_reduction(reduction, "cross_entropy")
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing}")
    x = as_input(input)
    t = as_input(target, "target")
    check_same_device(x, t, "cross_entropy", "target")
    if t.dtype.kind in "iu" and x.dtype.kind == "f" and label_smoothing == 0.0:
        return _fused_cross_entropy(x, t, weight, ignore_index, reduction)
    return _composed_cross_entropy(x, t, weight, ignore_index, reduction, float(label_smoothing))


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:  # noqa: A002 - PyTorch name
    """Mean squared error ``(input - target)²``, reduced.

    Raises:
        ShapeError: if the shapes differ.
    """
    _check_reduction(reduction, "mse_loss")
    x, t = as_input(input), as_input(target, "target")
    if tuple(x.shape) != tuple(t.shape):
        raise ShapeError(f"mse_loss: input shape {x.shape} and target shape {t.shape} differ")
    diff = x - t
    return _reduce(diff * diff, reduction)


def binary_cross_entropy(
    input: Tensor,  # noqa: A002 - PyTorch name
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
) -> Tensor:
    """Binary cross-entropy between probabilities and targets; each log is clamped at -100 (as PyTorch).

    Raises:
        ShapeError: if the shapes differ.
        ValueError: if an input value lies outside ``[0, 1]``.
    """
    _check_reduction(reduction, "binary_cross_entropy")
    x, t = as_input(input), as_input(target, "target")
    if tuple(x.shape) != tuple(t.shape):
        raise ShapeError(f"binary_cross_entropy: input shape {x.shape} and target shape {t.shape} differ")
    a = arr(x.data)
    if bool(((a < 0) | (a > 1)).any()):
        raise ValueError(
            "binary_cross_entropy: input values must be probabilities in [0, 1], "
            f"got values in [{float(a.min())}, {float(a.max())}]"
        )
    with np.errstate(divide="ignore"):  # log(0) = -inf is expected here and clamped just below
        log_p = x.log().clip(min=-100.0)
        log_q = (1.0 - x).log().clip(min=-100.0)
    loss = -(t * log_p + (1.0 - t) * log_q)
    if weight is not None:
        loss = loss * as_input(weight, "weight")
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,  # noqa: A002 - PyTorch name
    target: Tensor,
    weight: Tensor | None = None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """Binary cross-entropy on logits: ``(1-t)·x + (1 + (p-1)·t)·(max(-x,0) + log1p(exp(-|x|)))``.

    Args:
        input: logits.
        target: targets in ``[0, 1]``, the input's shape.
        weight: optional weights broadcast over the elements.
        reduction: ``"mean"``, ``"sum"`` or ``"none"``.
        pos_weight: optional weight of positive examples, broadcast along the last dimension.

    Raises:
        ShapeError: if the shapes differ.
    """
    _check_reduction(reduction, "binary_cross_entropy_with_logits")
    x, t = as_input(input), as_input(target, "target")
    if tuple(x.shape) != tuple(t.shape):
        raise ShapeError(f"binary_cross_entropy_with_logits: input shape {x.shape} and target shape {t.shape} differ")
    softplus_neg = relu(-x) + (-x.abs()).exp().log1p()
    if pos_weight is not None:
        log_weight = 1.0 + (as_input(pos_weight, "pos_weight") - 1.0) * t
        loss = (1.0 - t) * x + log_weight * softplus_neg
    else:
        loss = (1.0 - t) * x + softplus_neg
    if weight is not None:
        loss = loss * as_input(weight, "weight")
    return _reduce(loss, reduction)
