"""Pooling: ``max_pool2d`` (strided windows + argmax gather), ``avg_pool2d`` (im2col + mean) and
``adaptive_avg_pool2d`` (two averaging matrices).

``max_pool2d`` (:class:`MaxPool2dFunction`) takes the maximum of each window
(the windows are one strided view of the input padded with ``-inf``) and
records the position inside its ``(H, W)`` plane of each maximum — exactly
PyTorch's ``return_indices``. Its gradient is a scatter-add of the output
gradient to those positions (:class:`PlaneScatter`), whose gradient is the
gather at the same positions (:class:`PlaneGather`), whose gradient is the
scatter again: every order of derivative is available.

``adaptive_avg_pool2d`` averages the rows ``floor(i·H/OH) … ceil((i+1)·H/OH)``
of each output cell: that is ``Ph @ x @ Pwᵀ`` for two constant averaging
matrices, so it is differentiable through ``matmul`` alone.

Examples:
    >>> import hyperion.autograd as ag
    >>> from hyperion.nn import functional as F
    >>> x = ag.arange(16.0).reshape(1, 1, 4, 4)
    >>> F.max_pool2d(x, 2).tolist()
    [[[[5.0, 7.0], [13.0, 15.0]]]]
"""

from __future__ import annotations

import math
from typing import Any

from hyperion.autograd import Function, Tensor
from hyperion.autograd.function import RawTensor, wrap
from hyperion.nn.functional._common import arr, as_input, constant, pair, raw_from, xp_of
from hyperion.nn.functional.im2col import ConvGeometry, Im2col, conv_geometry, windows
from hyperion.tensor import ShapeError

__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "max_pool2d"]


class PlaneGather(Function):
    """``out[n, c, p] = x[n, c, positions[n, c, p]]`` over flattened ``(H, W)`` planes."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, positions: Any) -> RawTensor:
        xp = xp_of(x)
        n, c, h, w = x.shape
        ctx.positions = positions
        ctx.in_shape = x.shape
        planes = xp.ascontiguousarray(arr(x)).reshape(n, c, h * w)
        flat = positions.reshape(n, c, -1)
        return raw_from(xp.take_along_axis(planes, flat, axis=2).reshape(positions.shape))

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        return PlaneScatter.apply(grad_out, ctx.positions, ctx.in_shape), None


class PlaneScatter(Function):
    """Zeros of ``in_shape`` with each ``g[n, c, p]`` added at ``positions[n, c, p]``: the adjoint of the gather.

    ``unique`` promises that no position occurs twice in a plane (non-overlapping
    windows), so a plain indexed write replaces the scatter-add.
    """

    @staticmethod
    def forward(
        ctx: Any, g: RawTensor, positions: Any, in_shape: tuple[int, int, int, int], unique: bool = False
    ) -> RawTensor:
        xp = xp_of(g)
        n, c, h, w = in_shape
        ctx.positions = positions
        plane_start = (xp.arange(n * c) * (h * w)).reshape(n, c, *([1] * (positions.ndim - 2)))
        index = (positions + plane_start).reshape(-1)
        values = arr(g).reshape(-1)
        if unique:
            out = xp.zeros(n * c * h * w, dtype=g.dtype)
            out[index] = values
        else:
            out = xp.bincount(index, weights=values, minlength=n * c * h * w).astype(g.dtype)
        return raw_from(out.reshape(in_shape))

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        return PlaneGather.apply(grad_out, ctx.positions), None, None, None


def window_maxima(x: RawTensor, geo: ConvGeometry) -> tuple[Any, Any]:
    """Each window's maximum and its flat position in the ``(H, W)`` plane, both ``(N, C, OH, OW)``.

    A running maximum over the ``kh·kw`` kernel offsets, each one strided
    slice of the window view, so no per-window copy is made; the recorded
    position moves only when a later offset is strictly larger (ties keep the
    first, as ``argmax``). ``maximum`` propagates NaN into the value, as PyTorch.
    """
    w = geo.in_shape[3]
    oh, ow = geo.out_hw
    kh, kw = geo.kernel
    (sh, sw), (dh, dw), (ph, pw) = geo.stride, geo.dilation, geo.padding
    xp = xp_of(x)
    win = windows(x, geo, fill=-math.inf)
    best = win[..., 0, 0].copy()
    # Row and column offsets of the best tap, updated arithmetically (much faster than where/putmask).
    best_row = xp.zeros(best.shape, dtype=xp.int32)
    best_col = xp.zeros(best.shape, dtype=xp.int32)
    for k in range(1, kh * kw):
        i, j = divmod(k, kw)
        candidate = win[..., i, j]
        better = (candidate > best).astype(xp.int32)
        best_row += better * (i * dh - best_row)
        best_col += better * (j * dw - best_col)
        xp.maximum(best, candidate, out=best)
    base = (xp.arange(oh) * sh - ph).reshape(oh, 1) * w + (xp.arange(ow) * sw - pw)
    return best, base + best_row.astype(xp.int64) * w + best_col


class MaxPool2dFunction(Function):
    """Window maxima of ``(N, C, H, W)``; saves each maximum's plane position for the backward scatter."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, geo: ConvGeometry) -> RawTensor:
        values, ctx.positions = window_maxima(x, geo)
        ctx.in_shape = geo.in_shape
        kh, kw = geo.kernel
        extent = (geo.dilation[0] * (kh - 1) + 1, geo.dilation[1] * (kw - 1) + 1)
        ctx.unique = geo.stride[0] >= extent[0] and geo.stride[1] >= extent[1]
        return raw_from(values)

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        return PlaneScatter.apply(grad_out, ctx.positions, ctx.in_shape, ctx.unique), None


def _pool_geometry(
    x: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any, op: str, ceil_mode: bool
) -> ConvGeometry:
    kernel = pair(kernel_size, "kernel_size")
    stride_ = kernel if stride is None or (not isinstance(stride, int) and len(stride) == 0) else pair(stride, "stride")
    padding_ = pair(padding, "padding")
    if padding_[0] > kernel[0] // 2 or padding_[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding_} must be at most half the kernel size {kernel}")
    return conv_geometry(tuple(x.shape), kernel, stride_, padding_, pair(dilation, "dilation"), 1, op, ceil_mode)


def _batched(input: Any, op: str) -> tuple[Tensor, bool]:
    x = as_input(input)
    if x.ndim == 3:
        return x.unsqueeze(0), True
    if x.ndim != 4:
        raise ShapeError(f"{op} expects a 3-D (C, H, W) or 4-D (N, C, H, W) input, got shape {x.shape}")
    return x, False


def max_pool2d(
    input: Tensor,  # noqa: A002 - PyTorch name
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Tensor | tuple[Tensor, Tensor]:
    """Maximum over each window (padding counts as ``-inf``).

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``.
        kernel_size: window size.
        stride: step between windows (default: ``kernel_size``).
        padding: implicit ``-inf`` on each side, at most half the kernel.
        dilation: spacing inside a window.
        ceil_mode: round the output size up (keep a last partial window).
        return_indices: also return each maximum's flat position in its ``(H, W)`` plane.

    Raises:
        ShapeError: for a wrong rank or a window larger than the padded input.
        ValueError: for padding larger than half the kernel.
    """
    x, unbatched = _batched(input, "max_pool2d")
    geo = _pool_geometry(x, kernel_size, stride, padding, dilation, "max_pool2d", ceil_mode)
    out = MaxPool2dFunction.apply(x, geo)
    indices = None
    if return_indices:
        node = out.grad_fn
        positions = node.positions if node is not None else window_maxima(x.data, geo)[1]
        indices = wrap(raw_from(positions))
    if unbatched:
        out = out.squeeze(0)
        indices = indices.squeeze(0) if indices is not None else None
    return (out, indices) if return_indices else out


def avg_pool2d(
    input: Tensor,  # noqa: A002 - PyTorch name
    kernel_size: int | tuple[int, int],
    stride: int | tuple[int, int] | None = None,
    padding: int | tuple[int, int] = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """Mean over each window, with zero padding.

    The divisor is the window's size clipped to the padded input (so a
    ``ceil_mode`` window hanging over the edge is not divided by the full
    kernel), or only its real input elements with ``count_include_pad=False``,
    or ``divisor_override``.

    Raises:
        ShapeError: for a wrong rank or a window larger than the padded input.
        ValueError: for padding larger than half the kernel.
    """
    x, unbatched = _batched(input, "avg_pool2d")
    geo = _pool_geometry(x, kernel_size, stride, padding, 1, "avg_pool2d", ceil_mode)
    n, c, h, w = geo.in_shape
    plane_geo = ConvGeometry(
        (n * c, 1, h, w), geo.kernel, geo.stride, geo.padding, geo.dilation, 1, geo.out_hw, geo.extra
    )
    columns = Im2col.apply(x.reshape(n * c, 1, h, w), plane_geo)  # (1, kh·kw, N·C·OH·OW)
    total = columns.sum(dim=1).reshape(n, c, *geo.out_hw)
    if divisor_override is not None:
        out = total / float(divisor_override)
    else:
        xp = xp_of(x)
        counts = [
            _window_counts(size, out_size, k, s, p, count_include_pad, xp)
            for size, out_size, k, s, p in zip((h, w), geo.out_hw, geo.kernel, geo.stride, geo.padding, strict=True)
        ]
        divisor = (counts[0][:, None] * counts[1][None, :]).astype(x.dtype)
        out = total / constant(divisor)
    return out.squeeze(0) if unbatched else out


def _window_counts(size: int, out_size: int, kernel: int, stride: int, pad: int, include_pad: bool, xp: Any) -> Any:
    """How many positions each window covers along one axis (clipped to the padded, or the real, input)."""
    start = xp.arange(out_size) * stride - pad
    end = xp.minimum(start + kernel, size + pad)
    if not include_pad:
        start, end = xp.maximum(start, 0), xp.minimum(end, size)
    return end - start


def _averaging_matrix(size: int, out_size: int, xp: Any, dtype: Any) -> Any:
    """``(out_size, size)``: row ``i`` averages ``floor(i·size/out) … ceil((i+1)·size/out)``."""
    matrix = xp.zeros((out_size, size), dtype=dtype)
    for i in range(out_size):  # one row per output cell along one axis, not per pixel
        start = (i * size) // out_size
        end = -((-(i + 1) * size) // out_size)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


def adaptive_avg_pool2d(input: Tensor, output_size: int | tuple[int | None, int | None]) -> Tensor:  # noqa: A002
    """Average pooling to a fixed output size (``1`` is global average pooling).

    Args:
        input: ``(N, C, H, W)`` or ``(C, H, W)``.
        output_size: ``OH`` (= ``OW``) or ``(OH, OW)``; ``None`` keeps that input size.
    """
    x, unbatched = _batched(input, "adaptive_avg_pool2d")
    h, w = x.shape[2], x.shape[3]
    if isinstance(output_size, int):
        output_size = (output_size, output_size)
    oh = h if output_size[0] is None else int(output_size[0])
    ow = w if output_size[1] is None else int(output_size[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size}")
    xp = xp_of(x)
    out = x
    if oh != h:
        out = constant(_averaging_matrix(h, oh, xp, x.dtype)) @ out
    if ow != w:
        out = out @ constant(_averaging_matrix(w, ow, xp, x.dtype).T.copy())
    return out.squeeze(0) if unbatched else out
