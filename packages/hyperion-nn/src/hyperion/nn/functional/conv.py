"""2-D convolution as im2col on strided views (:mod:`.im2col`) and one matrix product.

:func:`~hyperion.nn.functional.im2col.im2col` turns every receptive field of the (padded) input
into one column, ``(groups, C/groups·kh·kw, N·OH·OW)``; the convolution is then one (batched
over groups) matrix product with the weight, ``(g, O/g, K) @ (g, K, M)``.

Gradients (``Conv2d`` backward, built from differentiable ops):

* weight: ``gy`` (as ``(g, O/g, M)``) ``@ im2col(x)ᵀ`` — a matmul;
* input: ``col2im(Wᵀ @ gy)``, ``col2im`` being im2col's adjoint (and its backward, so double
  backward works);
* bias: ``gy`` summed over batch and positions.

Ungrouped convolutions (``groups == 1``) get their columns from the registry
instead: the array-level ops ``nn.im2col`` (``(N, C, H, W)`` → ``(N, C·kh·kw,
OH·OW)``) and ``nn.col2im`` (its adjoint), whose references copy or add one
strided slice per kernel tap, and which a provider may replace. The output is
then one matmul per sample, ``(O, K) @ (N, K, P)``, already in ``(N, O, OH, OW)``
order. A backward that is itself differentiated (``create_graph=True``) uses the
differentiable ``Im2col``/``Col2im`` pair.

Examples:
    >>> import hyperion.autograd as ag
    >>> from hyperion.nn import functional as F
    >>> x = ag.ones(1, 1, 4, 4)
    >>> F.conv2d(x, ag.ones(1, 1, 3, 3)).tolist()
    [[[[9.0, 9.0], [9.0, 9.0]]]]
"""

from __future__ import annotations

from typing import Any

from hyperion.autograd import Function, Tensor, cat, is_grad_enabled, zeros
from hyperion.autograd.function import RawTensor
from hyperion.nn.functional._common import arr, as_input, check_same_device, constant, pair, raw_from, xp_of
from hyperion.nn.functional.im2col import (
    Col2im,
    ConvGeometry,
    Im2col,
    col2im_reference,
    conv_geometry,
    im2col_array,
    im2col_reference,
    window_args,
)
from hyperion.nn.functional.softmax import kernel_for
from hyperion.tensor import ShapeError

__all__ = ["conv2d"]


def _uses_registry_columns(geo: ConvGeometry) -> bool:
    return geo.groups == 1 and geo.extra == (0, 0)


# BLAS runs the thin products of im2col (few filters, very many positions) well below its
# peak when the position axis is long; cache-sized slices of it run several times faster.
_CHUNK = 4096


def _group_matmul(a: Any, b: Any) -> Any:
    """``a @ b`` over a leading group dimension, as one 2-D product when there is a single group.

    Indexing the single group (``a[0]``) is a view whatever the layout, so a
    transposed operand reaches BLAS as a transposed matrix instead of being copied.
    """
    if a.shape[0] == 1:
        return (a[0] @ b[0]).reshape(1, a.shape[1], b.shape[2])
    return a @ b


def _weights_times_columns(w: Any, cols: Any, xp: Any) -> Any:
    """``w @ cols`` for ``(g, O/g, K) @ (g, K, M)``; a single group is done in slices of the M axis."""
    g, rows, positions = w.shape[0], w.shape[1], cols.shape[2]
    if g != 1 or positions <= 2 * _CHUNK:
        return _group_matmul(w, cols)
    out = xp.empty((1, rows, positions), dtype=xp.result_type(w, cols))
    for start in range(0, positions, _CHUNK):
        xp.matmul(w[0], cols[0, :, start : start + _CHUNK], out=out[0, :, start : start + _CHUNK])
    return out


class ContractPositions(Function):
    """``a @ bᵀ`` for ``a`` ``(P, M)``, ``b`` ``(Q, M)`` with a long ``M``, summed over slices of ``M``.

    The weight gradient of a convolution (``gy @ colsᵀ``); the backward is the
    two ordinary products ``g @ b`` and ``gᵀ @ a``.
    """

    @staticmethod
    def forward(ctx: Any, a: RawTensor, b: RawTensor) -> RawTensor:
        xa, xb = arr(a), arr(b)
        out = xa[:, :_CHUNK] @ xb[:, :_CHUNK].T
        for start in range(_CHUNK, xa.shape[1], _CHUNK):
            out += xa[:, start : start + _CHUNK] @ xb[:, start : start + _CHUNK].T
        ctx.save_for_backward(a, b)
        return raw_from(out)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        return (grad_out.matmul(b) if need_a else None), (grad_out.transpose(0, 1).matmul(a) if need_b else None)

class Conv2dFunction(Function):
    """``conv2d(x, weight, bias)`` in one forward pass: im2col + one (group-batched) matmul."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, weight: RawTensor, bias: RawTensor | None, geo: ConvGeometry) -> RawTensor:
        xp = xp_of(x)
        g = geo.groups
        n = geo.in_shape[0]
        oh, ow = geo.out_hw
        out_channels = weight.shape[0]
        ctx.geo = geo
        ctx.save_for_backward(x, weight)
        if _uses_registry_columns(geo):
            xa = xp.ascontiguousarray(arr(x))
            impl = kernel_for("nn.im2col", x.device, xa.dtype, im2col_reference)
            cols = impl(xa, *window_args(geo))  # (N, K, P)
            y = xp.matmul(xp.ascontiguousarray(arr(weight)).reshape(out_channels, geo.taps), cols)
            y = y.reshape(n, out_channels, oh, ow)
            if bias is not None:
                y += arr(bias).reshape(1, out_channels, 1, 1)
            ctx.cols, ctx.per_sample = cols, True
            return raw_from(y)
        ctx.per_sample = False
        cols = im2col_array(x, geo)  # (g, K, M)
        w_rows = xp.ascontiguousarray(arr(weight)).reshape(g, out_channels // g, geo.taps)
        y = _weights_times_columns(w_rows, cols, xp)  # (g, O/g, M)
        # (O, N, OH, OW) viewed as (N, O, OH, OW): no copy.
        y = y.reshape(out_channels, n, oh, ow).transpose(1, 0, 2, 3)
        if bias is not None:
            y += arr(bias).reshape(1, out_channels, 1, 1)
        # The columns are kept for the weight gradient of a plain backward (saves redoing im2col).
        ctx.cols = cols
        return raw_from(y)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b, _ = ctx.needs_input_grad
        geo = ctx.geo
        if ctx.per_sample and not is_grad_enabled():
            return _per_sample_backward(ctx, x, weight, grad_out)
        g, taps, positions = geo.groups, geo.taps, geo.positions
        out_channels = weight.shape[0]
        # gy as (g, O/g, M), matching the forward's (g, O/g, K) @ (g, K, M).
        gy_rows = grad_out.transpose(0, 1).reshape(g, out_channels // g, positions)
        w_rows = weight.reshape(g, out_channels // g, taps)
        gx = gw = gb = None
        if need_x:
            gx = Col2im.apply(_group_matmul(w_rows.transpose(1, 2), gy_rows), geo)
        if need_w:
            # With create_graph the columns must be a differentiable function of x; otherwise reuse them.
            cols = Im2col.apply(x, geo) if is_grad_enabled() else Tensor(raw_from(ctx.cols))
            if g == 1 and positions > 2 * _CHUNK:
                gw = ContractPositions.apply(gy_rows[0], cols[0])
            else:
                gw = _group_matmul(gy_rows, cols.transpose(1, 2))
            gw = gw.reshape(weight.shape)
        if need_b:
            gb = grad_out.sum(dim=(0, 2, 3))
        return gx, gw, gb, None


def _per_sample_backward(ctx: Any, x: Tensor, weight: Tensor, grad_out: Tensor) -> tuple[Any, Any, Any, None]:
    """The plain (not differentiable again) backward of an ungrouped convolution on registry columns."""
    need_x, need_w, need_b, _ = ctx.needs_input_grad
    geo = ctx.geo
    xp = xp_of(x)
    n, out_channels = geo.in_shape[0], weight.shape[0]
    gy = xp.ascontiguousarray(arr(grad_out.data)).reshape(n, out_channels, -1)  # (N, O, P)
    w_rows = xp.ascontiguousarray(arr(weight.data)).reshape(out_channels, geo.taps)
    gx = gw = gb = None
    if need_x:
        impl = kernel_for("nn.col2im", x.device, gy.dtype, col2im_reference)
        gx = constant(impl(xp.matmul(w_rows.T, gy), geo.in_shape, *window_args(geo)))
    if need_w:
        gw = constant(xp.matmul(gy, ctx.cols.transpose(0, 2, 1)).sum(axis=0).reshape(weight.shape))
    if need_b:
        gb = constant(gy.sum(axis=(0, 2)))
    return gx, gw, gb, None


def conv2d(
    input: Tensor,  # noqa: A002 - PyTorch name
    weight: Tensor,
    bias: Tensor | None = None,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] | str = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> Tensor:
    """2-D cross-correlation of ``input`` ``(N, C, H, W)`` (or ``(C, H, W)``) with ``weight`` ``(O, C/groups, kh, kw)``.

    Args:
        input: the images.
        weight: the filters.
        bias: optional ``(O,)``.
        stride: step between windows.
        padding: zeros added on each side; or ``"valid"`` (none) or ``"same"``
            (output as large as the input; stride 1 only).
        dilation: spacing between kernel taps.
        groups: split channels into independent groups (``groups == C`` is depthwise).

    Returns:
        ``(N, O, OH, OW)`` (or ``(O, OH, OW)`` for an unbatched input).

    Raises:
        ShapeError: for wrong ranks, channel counts that do not match the weight
            and groups, or a kernel larger than the padded input.
        ValueError: for a bad stride/padding/dilation/groups.
        DeviceError: if the weight or bias is on another device than the input.
    """
    x = as_input(input)
    w = as_input(weight, "weight")
    check_same_device(x, w, "conv2d", "weight")
    unbatched = x.ndim == 3
    if unbatched:
        x = x.unsqueeze(0)
    if x.ndim != 4:
        raise ShapeError(f"conv2d expects a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {x.shape}")
    if w.ndim != 4:
        raise ShapeError(f"conv2d expects a 4-D weight (out_channels, in_channels/groups, kh, kw), got shape {w.shape}")
    if groups < 1 or x.shape[1] % groups or w.shape[0] % groups:
        raise ValueError(
            f"conv2d: groups={groups} must divide both the input channels {x.shape[1]} and the output channels {w.shape[0]}"
        )
    if x.shape[1] != w.shape[1] * groups:
        raise ShapeError(
            f"conv2d: input has {x.shape[1]} channels (shape {x.shape}) but weight of shape {w.shape} with "
            f"groups={groups} expects {w.shape[1] * groups} channels"
        )
    kernel = (w.shape[2], w.shape[3])
    stride_ = pair(stride, "stride")
    dilation_ = pair(dilation, "dilation")
    padding_ = _resolve_padding(padding, kernel, stride_, dilation_)
    if bias is not None:
        bias = as_input(bias, "bias")
        check_same_device(x, bias, "conv2d", "bias")
        if tuple(bias.shape) != (w.shape[0],):
            raise ShapeError(f"conv2d: bias must have shape ({w.shape[0]},), got {bias.shape}")
    if isinstance(padding_, tuple) and len(padding_) == 4:
        top, bottom, left, right = padding_
        x = _pad_asymmetric(x, top, bottom, left, right)
        padding_ = (0, 0)
    geo = conv_geometry(tuple(x.shape), kernel, stride_, padding_, dilation_, groups)
    out = Conv2dFunction.apply(x, w, bias, geo)
    return out.squeeze(0) if unbatched else out


def _resolve_padding(
    padding: Any, kernel: tuple[int, int], stride: tuple[int, int], dilation: tuple[int, int]
) -> tuple[int, ...]:
    if padding == "valid":
        return (0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ValueError("conv2d: padding='same' is only supported with stride 1")
        totals = [d * (k - 1) for d, k in zip(dilation, kernel, strict=True)]
        if all(t % 2 == 0 for t in totals):
            return (totals[0] // 2, totals[1] // 2)
        return (totals[0] // 2, totals[0] - totals[0] // 2, totals[1] // 2, totals[1] - totals[1] // 2)
    if isinstance(padding, str):
        raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    return pair(padding, "padding")


def _pad_asymmetric(x: Tensor, top: int, bottom: int, left: int, right: int) -> Tensor:
    """Zero-pad the last two dims by different amounts on each side (for ``padding='same'``)."""
    n, c, h, w = x.shape
    parts = [zeros(n, c, top, w, dtype=x.dtype), x, zeros(n, c, bottom, w, dtype=x.dtype)]
    x = cat([p for p in parts if p.shape[2]], dim=2)
    h = x.shape[2]
    parts = [zeros(n, c, h, left, dtype=x.dtype), x, zeros(n, c, h, right, dtype=x.dtype)]
    return cat([p for p in parts if p.shape[3]], dim=3)
