"""im2col and col2im for 2-D convolution (Numba, parallel over (sample, channel) planes).

``im2col`` copies every receptive field of ``x`` ``(N, C, H, W)`` into one column of
``cols`` ``(N, C·kh·kw, OH·OW)``: row ``c·kh·kw + i·kw + j`` of sample ``n`` holds tap
``(i, j)`` of channel ``c`` for every output position, i.e. the input shifted by
``(i·dil_h - pad_h, j·dil_w - pad_w)`` and subsampled by the stride, zero outside.
``col2im`` is its adjoint: it adds every column entry back onto the input
position it was read from (overlapping windows sum).

Each (sample, channel) plane is independent in both directions, so planes run
in parallel and col2im needs no atomics. Rows of the output are written (and,
in col2im, rows of the input plane accumulated) contiguously.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit, prange

from hyperion.kernels.cpu._rowmath import run

__all__ = ["KERNELS", "col2im", "im2col"]


@njit(cache=True)
def _valid_columns(offset, stride, width, out_width):
    """The output columns ``[start, stop)`` whose input column ``ox·stride + offset`` is inside ``[0, width)``."""
    start = 0 if offset >= 0 else (-offset + stride - 1) // stride
    stop = 0 if width - offset <= 0 else (width - 1 - offset) // stride + 1
    return min(start, out_width), max(min(stop, out_width), min(start, out_width))


@njit(cache=True)
def _im2col_part(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, cols, lo, hi):
    n, c, h, w = x.shape
    for plane in range(lo, n * c if hi < 0 else hi):
        b, ch = plane // c, plane % c
        xp = x[b, ch]
        for i in range(kh):
            for j in range(kw):
                row = cols[b, (ch * kh + i) * kw + j]
                for oy in range(oh):
                    y = oy * sh - ph + i * dh
                    base = oy * ow
                    if y < 0 or y >= h:
                        for ox in range(ow):
                            row[base + ox] = 0
                        continue
                    start, stop = _valid_columns(j * dw - pw, sw, w, ow)
                    for ox in range(start):
                        row[base + ox] = 0
                    offset = j * dw - pw
                    for ox in range(start, stop):  # no bounds test: a plain (strided) copy that vectorises
                        row[base + ox] = xp[y, ox * sw + offset]
                    for ox in range(stop, ow):
                        row[base + ox] = 0


@njit(cache=True, parallel=True)
def _im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, cols):
    n, c, h, w = x.shape
    for plane in prange(n * c):
        _im2col_part(x, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, cols, plane, plane + 1)


@njit(cache=True)
def _col2im_part(cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, out, lo, hi):
    n, c, h, w = out.shape
    for plane in range(lo, n * c if hi < 0 else hi):
        b, ch = plane // c, plane % c
        op = out[b, ch]
        for i in range(kh):
            for j in range(kw):
                row = cols[b, (ch * kh + i) * kw + j]
                for oy in range(oh):
                    y = oy * sh - ph + i * dh
                    if y < 0 or y >= h:
                        continue
                    base = oy * ow
                    offset = j * dw - pw
                    start, stop = _valid_columns(offset, sw, w, ow)
                    for ox in range(start, stop):
                        op[y, ox * sw + offset] += row[base + ox]


@njit(cache=True, parallel=True)
def _col2im(cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, out):
    n, c, h, w = out.shape
    for plane in prange(n * c):
        _col2im_part(cols, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, out, plane, plane + 1)


def _out_size(size: int, k: int, stride: int, pad: int, dil: int, axis: str) -> int:
    extent = dil * (k - 1) + 1
    if min(k, stride, dil) < 1 or pad < 0:
        raise ValueError(f"im2col: kernel {k}, stride {stride}, dilation {dil} must be >= 1 and padding {pad} >= 0")
    if extent > size + 2 * pad:
        raise ValueError(f"im2col: kernel extent {extent} along {axis} exceeds the padded size {size + 2 * pad}")
    return (size + 2 * pad - extent) // stride + 1


def im2col(
    x: np.ndarray, kh: int, kw: int, stride_h: int, stride_w: int, pad_h: int, pad_w: int, dil_h: int, dil_w: int
) -> np.ndarray:
    """Columns ``(N, C·kh·kw, OH·OW)`` of the receptive fields of ``x`` ``(N, C, H, W)`` (``nn.im2col``).

    Examples:
        >>> im2col(np.arange(4.0).reshape(1, 1, 2, 2), 2, 2, 1, 1, 0, 0, 1, 1)[0].ravel().tolist()
        [0.0, 1.0, 2.0, 3.0]
    """
    if x.ndim != 4:
        raise ValueError(f"im2col: x must be 4-D (N, C, H, W), got shape {x.shape}")
    a = np.ascontiguousarray(x)
    n, c, h, w = a.shape
    oh = _out_size(h, kh, stride_h, pad_h, dil_h, "H")
    ow = _out_size(w, kw, stride_w, pad_w, dil_w, "W")
    cols = np.empty((n, c * kh * kw, oh * ow), dtype=a.dtype)
    if cols.size:
        run(cols.size, _im2col, _im2col_part, a, kh, kw, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, oh, ow, cols)
    return cols


def col2im(
    cols: np.ndarray,
    x_shape: tuple[int, int, int, int],
    kh: int,
    kw: int,
    stride_h: int,
    stride_w: int,
    pad_h: int,
    pad_w: int,
    dil_h: int,
    dil_w: int,
) -> np.ndarray:
    """Sum the columns back onto an ``x_shape`` array, the adjoint of :func:`im2col` (``nn.col2im``)."""
    n, c, h, w = (int(s) for s in x_shape)
    oh = _out_size(h, kh, stride_h, pad_h, dil_h, "H")
    ow = _out_size(w, kw, stride_w, pad_w, dil_w, "W")
    if cols.shape != (n, c * kh * kw, oh * ow):
        raise ValueError(
            f"col2im: cols of shape {cols.shape} do not fit x_shape {tuple(x_shape)}: expected {(n, c * kh * kw, oh * ow)}"
        )
    a = np.ascontiguousarray(cols)
    out = np.zeros((n, c, h, w), dtype=a.dtype)
    if a.size:
        run(a.size, _col2im, _col2im_part, a, kh, kw, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, oh, ow, out)
    return out


KERNELS: dict[tuple[str, str], Callable[..., object]] = {
    ("nn.im2col", "cpu"): im2col,
    ("nn.col2im", "cpu"): col2im,
}
