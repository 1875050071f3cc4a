"""LayerNorm forward and backward on the GPU.

Forward (one block per row): every thread runs Welford's update over its
strided, coalesced slice of the row, the block merges the triples
(:func:`block_welford`, warp shuffles then shared memory), and a second pass
writes ``(x - mean) * rstd * weight + bias``. Biased variance, float64
statistics, output in the input dtype.

Backward, with ``g = gy * weight`` and ``xhat = (x - mean) * rstd``::

    gx = rstd * (g - mean(g) - xhat * mean(g * xhat))

needs two row sums (one block per row again). ``gweight = sum_rows(gy * xhat)``
and ``gbias = sum_rows(gy)`` reduce over rows instead; a second kernel gives
each *column* to one thread, which walks down the rows: at every step the 32
lanes of a warp read 32 neighbouring columns of one row, a coalesced load, and
no atomics are needed, so the result is deterministic.
"""

from __future__ import annotations

import math
from typing import Any

from numba import cuda

from hyperion.kernels.cuda.device import (
    array_module,
    ceil_div,
    check_float,
    check_ndim,
    placeholder,
    row_threads,
)
from hyperion.kernels.cuda.reductions import block_sum, block_welford

COLUMN_THREADS = 128


@cuda.jit
def layer_norm_forward_kernel(x, weight, bias, has_weight, has_bias, eps, y, mean, rstd):
    """Normalise row ``blockIdx.x`` of ``x`` into ``y``; store its mean and rstd."""
    row = cuda.blockIdx.x
    tid = cuda.threadIdx.x
    n = x.shape[1]
    count = 0.0
    mu = 0.0
    m2 = 0.0
    for j in range(tid, n, cuda.blockDim.x):
        v = x[row, j] + 0.0
        count += 1.0
        delta = v - mu
        mu += delta / count
        m2 += delta * (v - mu)
    count, mu, m2 = block_welford(count, mu, m2)
    r = 1.0 / math.sqrt(m2 / n + eps)
    if tid == 0:
        mean[row] = mu
        rstd[row] = r
    for j in range(tid, n, cuda.blockDim.x):
        out = (x[row, j] - mu) * r
        # has_weight/has_bias are the same for every thread: a uniform branch,
        # so no warp ever splits on it.
        if has_weight:
            out *= weight[j]
        if has_bias:
            out += bias[j]
        y[row, j] = out


@cuda.jit
def layer_norm_backward_kernel(gy, x, mean, rstd, weight, has_weight, gx):
    """Input gradient of row ``blockIdx.x``."""
    row = cuda.blockIdx.x
    tid = cuda.threadIdx.x
    n = x.shape[1]
    mu = mean[row] + 0.0
    r = rstd[row] + 0.0
    sum_g = 0.0
    sum_gxhat = 0.0
    for j in range(tid, n, cuda.blockDim.x):
        g = gy[row, j] + 0.0
        if has_weight:
            g *= weight[j]
        sum_g += g
        sum_gxhat += g * (x[row, j] - mu) * r
    mean_g = block_sum(sum_g) / n
    mean_gxhat = block_sum(sum_gxhat) / n
    for j in range(tid, n, cuda.blockDim.x):
        g = gy[row, j] + 0.0
        if has_weight:
            g *= weight[j]
        xhat = (x[row, j] - mu) * r
        gx[row, j] = r * (g - mean_g - xhat * mean_gxhat)


@cuda.jit
def layer_norm_param_grad_kernel(gy, x, mean, rstd, gweight, gbias):
    """Column sums ``gweight[j] = sum_i gy[i, j] * xhat[i, j]``, ``gbias[j] = sum_i gy[i, j]``."""
    j = cuda.grid(1)
    if j >= x.shape[1]:
        return
    acc_w = 0.0
    acc_b = 0.0
    for i in range(x.shape[0]):
        g = gy[i, j] + 0.0
        acc_w += g * (x[i, j] - mean[i]) * rstd[i]
        acc_b += g
    gweight[j] = acc_w
    gbias[j] = acc_b


def layer_norm_forward(
    x2d: Any, weight: Any | None, bias: Any | None, eps: float, *, threads: int | None = None
) -> tuple[Any, Any, Any]:
    """LayerNorm over the last axis of ``x2d``.

    Args:
        x2d: ``(rows, n)`` float32/float64 array.
        weight: ``(n,)`` scale or ``None``.
        bias: ``(n,)`` shift or ``None``.
        eps: Added to the variance.
        threads: Threads per block (a multiple of 32); chosen from ``n`` if ``None``.

    Returns:
        ``(y2d, mean, rstd)`` with ``mean``/``rstd`` of shape ``(rows,)`` in the input dtype.
    """
    check_ndim("x2d", x2d, 2)
    dtype = check_float("x2d", x2d)
    rows, n = x2d.shape
    for name, param in (("weight", weight), ("bias", bias)):
        if param is not None:
            check_float(name, param, dtype)
            if tuple(param.shape) != (n,):
                raise ValueError(f"{name} has shape {tuple(param.shape)}, expected ({n},)")
    xp = array_module(x2d, weight, bias)
    x = xp.ascontiguousarray(x2d)
    y = xp.empty_like(x)
    mean = xp.empty(rows, dtype=dtype)
    rstd = xp.empty(rows, dtype=dtype)
    w = placeholder(xp, dtype) if weight is None else xp.ascontiguousarray(weight)
    b = placeholder(xp, dtype) if bias is None else xp.ascontiguousarray(bias)
    if rows and n:
        layer_norm_forward_kernel[rows, row_threads(n, threads)](
            x, w, b, weight is not None, bias is not None, float(eps), y, mean, rstd
        )
    return y, mean, rstd


def layer_norm_backward(
    gy2d: Any, x2d: Any, mean: Any, rstd: Any, weight: Any | None, *, threads: int | None = None
) -> tuple[Any, Any | None, Any | None]:
    """Gradients of :func:`layer_norm_forward` (``threads`` as there).

    Returns:
        ``(gx2d, gweight, gbias)``; ``gweight``/``gbias`` are ``None`` when
        ``weight`` is ``None`` (the caller uses ``gbias`` only if it has a bias).
    """
    check_ndim("x2d", x2d, 2)
    dtype = check_float("x2d", x2d)
    check_float("gy2d", gy2d, dtype)
    if gy2d.shape != x2d.shape:
        raise ValueError(f"gy2d has shape {tuple(gy2d.shape)}, expected {tuple(x2d.shape)} like x2d")
    rows, n = x2d.shape
    if tuple(mean.shape) != (rows,) or tuple(rstd.shape) != (rows,):
        raise ValueError(f"mean and rstd must have shape ({rows},), got {tuple(mean.shape)} and {tuple(rstd.shape)}")
    if weight is not None:
        check_float("weight", weight, dtype)
        if tuple(weight.shape) != (n,):
            raise ValueError(f"weight has shape {tuple(weight.shape)}, expected ({n},)")
    xp = array_module(gy2d, x2d, mean, rstd, weight)
    gy = xp.ascontiguousarray(gy2d)
    x = xp.ascontiguousarray(x2d)
    mean = xp.ascontiguousarray(mean)
    rstd = xp.ascontiguousarray(rstd)
    gx = xp.empty_like(x)
    w = placeholder(xp, dtype) if weight is None else xp.ascontiguousarray(weight)
    if rows and n:
        layer_norm_backward_kernel[rows, row_threads(n, threads)](gy, x, mean, rstd, w, weight is not None, gx)
    if weight is None:
        return gx, None, None
    gweight = xp.zeros(n, dtype=dtype)
    gbias = xp.zeros(n, dtype=dtype)
    if rows and n:
        layer_norm_param_grad_kernel[ceil_div(n, COLUMN_THREADS), COLUMN_THREADS](gy, x, mean, rstd, gweight, gbias)
    return gx, gweight, gbias


KERNELS = {
    ("nn.layer_norm_forward", "cuda"): layer_norm_forward,
    ("nn.layer_norm_backward", "cuda"): layer_norm_backward,
}
