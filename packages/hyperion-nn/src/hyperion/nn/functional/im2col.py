"""im2col: every receptive field of an image as one column of a matrix, and its adjoint col2im.

A convolution (and a pooling window) reads the input through windows fixed by a
:class:`ConvGeometry`: kernel size, stride, padding, dilation, groups. ``im2col`` turns every
window of a (padded) input into one column without a Python loop over output pixels: a single
strided view of shape ``(N, C, OH, OW, kh, kw)`` (two ``unfold`` s of the tensor, whose strides
step by ``stride`` between windows and by ``dilation`` inside one), reordered (one copy) into
columns ``(groups, C/groups·kh·kw, N·OH·OW)``. ``col2im`` is its adjoint: it scatters each
column back onto the positions it was read from (a loop over the ``kh·kw`` kernel offsets, each
one strided slice-add). :class:`Im2col` and :class:`Col2im` are each other's backward, so
double backward works.

The array-level registry ops ``nn.im2col`` (``(N, C, H, W)`` → ``(N, C·kh·kw, OH·OW)``) and
``nn.col2im`` (its adjoint) have their references here; a provider may replace them.

Examples:
    >>> import hyperion.autograd as ag
    >>> geo = conv_geometry((1, 1, 3, 3), (2, 2), stride=(1, 1), padding=(0, 0), dilation=(1, 1), groups=1)
    >>> im2col(ag.arange(9.0).reshape(1, 1, 3, 3), geo).shape
    (1, 4, 4)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hyperion.autograd import Function, Tensor
from hyperion.autograd.function import RawTensor
from hyperion.nn.functional._common import arr, raw_from, xp_of
from hyperion.nn.functional.softmax import xp_of_array
from hyperion.tensor import ShapeError, registry

__all__ = [
    "Col2im",
    "ConvGeometry",
    "Im2col",
    "col2im",
    "col2im_reference",
    "conv_geometry",
    "im2col",
    "im2col_array",
    "im2col_reference",
    "window_args",
    "windows",
]

@dataclass(frozen=True)
class ConvGeometry:
    """Everything that fixes how windows are cut from an input of one shape.

    Attributes:
        in_shape: ``(N, C, H, W)`` of the unpadded input.
        kernel: ``(kh, kw)``.
        stride, padding, dilation: pairs ``(h, w)``.
        groups: channel groups; each has its own im2col matrix.
        out_hw: ``(OH, OW)``.
        extra: additional padding at the bottom/right (pooling's ``ceil_mode``), ``(0, 0)`` otherwise.
    """

    in_shape: tuple[int, int, int, int]
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int
    out_hw: tuple[int, int]
    extra: tuple[int, int] = (0, 0)

    @property
    def positions(self) -> int:
        """``M = N·OH·OW``: one column of the im2col matrix per output position."""
        n = self.in_shape[0]
        return n * self.out_hw[0] * self.out_hw[1]

    @property
    def taps(self) -> int:
        """``K = C/groups·kh·kw``: one row of the im2col matrix per weight of a filter."""
        return self.in_shape[1] // self.groups * self.kernel[0] * self.kernel[1]


def conv_geometry(
    in_shape: tuple[int, ...],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
    groups: int,
    op: str = "conv2d",
    ceil_mode: bool = False,
) -> ConvGeometry:
    """Validate a window configuration and compute the output size.

    With ``ceil_mode`` (pooling) a last, partial window is kept when it starts
    inside the input or the left padding; the rows/columns it reaches beyond
    the padded input are recorded as ``extra`` padding.

    Raises:
        ValueError: for non-positive stride/dilation/kernel or negative padding.
        ShapeError: if the (dilated) kernel is larger than the padded input.
    """
    if min(stride) < 1 or min(dilation) < 1 or min(kernel) < 1 or min(padding) < 0:
        raise ValueError(
            f"{op}: kernel_size {kernel}, stride {stride} and dilation {dilation} must be positive "
            f"and padding {padding} non-negative"
        )
    n, c, h, w = in_shape
    extent = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel, strict=True))
    padded = (h + 2 * padding[0], w + 2 * padding[1])
    if extent[0] > padded[0] or extent[1] > padded[1]:
        raise ShapeError(
            f"{op}: kernel of size {kernel} (dilated extent {extent}) is larger than the padded input "
            f"{padded} (input {(h, w)}, padding {padding})"
        )
    sizes, extra = [], []
    for size, full, ext, step, pad in zip((h, w), padded, extent, stride, padding, strict=True):
        if ceil_mode:
            out = -(-(full - ext) // step) + 1
            if (out - 1) * step >= size + pad:
                out -= 1
        else:
            out = (full - ext) // step + 1
        sizes.append(out)
        extra.append(max(0, (out - 1) * step + ext - full))
    return ConvGeometry(
        (n, c, h, w), kernel, stride, padding, dilation, groups, (sizes[0], sizes[1]), (extra[0], extra[1])
    )


def _padded(x: RawTensor, geo: ConvGeometry, fill: float = 0.0) -> RawTensor:
    """``x`` with ``padding`` (and any ``extra``) filled with ``fill`` around its last two dims."""
    (ph, pw), (eh, ew) = geo.padding, geo.extra
    if ph == pw == eh == ew == 0:
        return x
    xp = xp_of(x)
    n, c, h, w = x.shape
    out = xp.full((n, c, h + 2 * ph + eh, w + 2 * pw + ew), fill, dtype=x.dtype)
    out[:, :, ph : ph + h, pw : pw + w] = arr(x)
    return raw_from(out)


def windows(x: RawTensor, geo: ConvGeometry, fill: float = 0.0) -> Any:
    """Every receptive field of ``x`` (padded with ``fill``) as one strided view ``(N, C, OH, OW, kh, kw)``.

    Two ``unfold`` s cut the (dilated) windows every ``stride`` along H and W;
    a step slice keeps every ``dilation``-th tap. Nothing is copied but the padding.
    """
    (sh, sw), (dh, dw) = geo.stride, geo.dilation
    (kh, kw) = geo.kernel
    view = _padded(x, geo, fill).unfold(2, dh * (kh - 1) + 1, sh).unfold(3, dw * (kw - 1) + 1, sw)
    if (dh, dw) != (1, 1):
        view = view[..., ::dh, ::dw]
    return arr(view)


def im2col_array(x: RawTensor, geo: ConvGeometry) -> Any:
    n, c = geo.in_shape[:2]
    g = geo.groups
    oh, ow = geo.out_hw
    kh, kw = geo.kernel
    win = windows(x, geo).reshape(n, g, c // g, oh, ow, kh, kw)
    # (g, C/g, kh, kw, N, OH, OW): the one copy, made by reshape; output positions innermost,
    # so the copy reads the input along its rows.
    return win.transpose(1, 2, 5, 6, 0, 3, 4).reshape(g, geo.taps, geo.positions)


def _col2im_array(cols: Any, xp: Any, geo: ConvGeometry) -> Any:
    n, c, h, w = geo.in_shape
    oh, ow = geo.out_hw
    kh, kw = geo.kernel
    (sh, sw), (dh, dw), (ph, pw) = geo.stride, geo.dilation, geo.padding
    hp, wp = h + 2 * ph + geo.extra[0], w + 2 * pw + geo.extra[1]
    blocks = cols.reshape(c, kh, kw, n, oh, ow)
    if (sh, sw) == (1, 1):
        # Unit stride: a kernel offset (i, j) is a shift by i·dh·Wp + j·dw in the flattened padded
        # plane. Widening each block's rows to Wp with zeros turns every slice-add into one long
        # contiguous run (what lands past a row's end is those zeros).
        wide = xp.empty((c, kh, kw, n, oh, wp), dtype=cols.dtype)
        wide[..., :ow] = blocks
        wide[..., ow:] = 0
        wide = wide.reshape(c, kh, kw, n, oh * wp)
        flat = xp.empty((c, n, (hp + 1) * wp), dtype=cols.dtype)
        flat[:, :, : oh * wp] = wide[:, 0, 0]  # the (0, 0) offset starts the sum
        flat[:, :, oh * wp :] = 0
        for i in range(kh):
            for j in range(kw):
                if i == j == 0:
                    continue
                start = i * dh * wp + j * dw
                flat[:, :, start : start + oh * wp] += wide[:, i, j]
        out = flat[:, :, : hp * wp].reshape(c, n, hp, wp)
    else:
        # Accumulate channel-major, matching the columns' layout; one strided slice-add per kernel offset.
        out = xp.zeros((c, n, hp, wp), dtype=cols.dtype)
        for i in range(kh):
            for j in range(kw):
                top, left = i * dh, j * dw
                out[:, :, top : top + sh * (oh - 1) + 1 : sh, left : left + sw * (ow - 1) + 1 : sw] += blocks[:, i, j]
    return out[:, :, ph : ph + h, pw : pw + w].transpose(1, 0, 2, 3)


def _tap_slices(i: int, j: int, oh: int, ow: int, sh: int, sw: int, dh: int, dw: int) -> tuple[slice, slice]:
    """The rows and columns of the padded input that kernel tap ``(i, j)`` reads, one per output position."""
    return slice(i * dh, i * dh + sh * (oh - 1) + 1, sh), slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)


def _out_hw(h: int, w: int, kh: int, kw: int, sh: int, sw: int, ph: int, pw: int, dh: int, dw: int) -> tuple[int, int]:
    return (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1


def im2col_reference(
    x: Any, kh: int, kw: int, stride_h: int, stride_w: int, pad_h: int, pad_w: int, dil_h: int, dil_w: int
) -> Any:
    """Reference ``nn.im2col``: ``(N, C, H, W)`` → ``(N, C·kh·kw, OH·OW)``, one strided slice copied per tap."""
    xp = xp_of_array(x)
    n, c, h, w = x.shape
    oh, ow = _out_hw(h, w, kh, kw, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w)
    if pad_h or pad_w:
        padded = xp.zeros((n, c, h + 2 * pad_h, w + 2 * pad_w), dtype=x.dtype)
        padded[:, :, pad_h : pad_h + h, pad_w : pad_w + w] = x
    else:
        padded = x
    cols = xp.empty((n, c, kh, kw, oh, ow), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            rows, columns = _tap_slices(i, j, oh, ow, stride_h, stride_w, dil_h, dil_w)
            cols[:, :, i, j] = padded[:, :, rows, columns]
    return cols.reshape(n, c * kh * kw, oh * ow)


def col2im_reference(
    cols: Any,
    x_shape: tuple[int, int, int, int],
    kh: int,
    kw: int,
    stride_h: int,
    stride_w: int,
    pad_h: int,
    pad_w: int,
    dil_h: int,
    dil_w: int,
) -> Any:
    """Reference ``nn.col2im``: the adjoint of :func:`im2col_reference`, one strided slice-add per tap."""
    xp = xp_of_array(cols)
    n, c, h, w = (int(s) for s in x_shape)
    oh, ow = _out_hw(h, w, kh, kw, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w)
    blocks = cols.reshape(n, c, kh, kw, oh, ow)
    out = xp.zeros((n, c, h + 2 * pad_h, w + 2 * pad_w), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            rows, columns = _tap_slices(i, j, oh, ow, stride_h, stride_w, dil_h, dil_w)
            out[:, :, rows, columns] += blocks[:, :, i, j]
    return out[:, :, pad_h : pad_h + h, pad_w : pad_w + w] if (pad_h or pad_w) else out


registry.register_reference("nn.im2col", im2col_reference)
registry.register_reference("nn.col2im", col2im_reference)


def window_args(geo: ConvGeometry) -> tuple[int, ...]:
    """``kh, kw, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w`` of ``geo``, as the registry ops take them."""
    return (*geo.kernel, *geo.stride, *geo.padding, *geo.dilation)


class Im2col(Function):
    """``(N, C, H, W)`` → columns ``(groups, C/groups·kh·kw, N·OH·OW)``; backward is :class:`Col2im`."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor, geo: ConvGeometry) -> RawTensor:
        ctx.geo = geo
        return raw_from(im2col_array(x, geo))

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        return Col2im.apply(grad_out, ctx.geo), None


class Col2im(Function):
    """Columns ``(groups, C/groups·kh·kw, N·OH·OW)`` summed back onto ``(N, C, H, W)``; backward is :class:`Im2col`."""

    @staticmethod
    def forward(ctx: Any, cols: RawTensor, geo: ConvGeometry) -> RawTensor:
        ctx.geo = geo
        return raw_from(_col2im_array(arr(cols), xp_of(cols), geo))

    @staticmethod
    def backward(ctx: Any, grad_out: Tensor) -> Any:
        return Im2col.apply(grad_out, ctx.geo), None


def im2col(x: Tensor, geo: ConvGeometry) -> Tensor:
    """Differentiable im2col (see :class:`Im2col`)."""
    return Im2col.apply(x, geo)


def col2im(cols: Tensor, geo: ConvGeometry) -> Tensor:
    """Differentiable col2im (see :class:`Col2im`)."""
    return Col2im.apply(cols, geo)
