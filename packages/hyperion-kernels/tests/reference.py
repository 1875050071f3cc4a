"""Composed NumPy formulas the kernels are checked against (computed in float64).

They restate the definitions independently of hyperion-nn (whose own references
are checked through the nn path in test_nn_path.py), so the kernel tests run
with hyperion-tensor and NumPy alone.
"""

from __future__ import annotations

import math

import numpy as np


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def log_softmax(x: np.ndarray) -> np.ndarray:
    s = x - x.max(-1, keepdims=True)
    return s - np.log(np.exp(s).sum(-1, keepdims=True))


def layer_norm(x, w, b, eps):
    mean = x.mean(-1)
    var = ((x - mean[:, None]) ** 2).mean(-1)
    rstd = 1 / np.sqrt(var + eps)
    return (x - mean[:, None]) * rstd[:, None] * w + b, mean, rstd


def layer_norm_backward(gy, x, w, eps):
    _, mean, rstd = layer_norm(x, w, np.zeros_like(w), eps)
    xhat = (x - mean[:, None]) * rstd[:, None]
    g = gy * w
    gx = rstd[:, None] * (g - g.mean(-1, keepdims=True) - xhat * (g * xhat).mean(-1, keepdims=True))
    return gx, (gy * xhat).sum(0), gy.sum(0)


def rms_norm(x, w, eps):
    rstd = 1 / np.sqrt((x * x).mean(-1) + eps)
    return x * rstd[:, None] * w, rstd


def rms_norm_backward(gy, x, w, eps):
    _, rstd = rms_norm(x, w, eps)
    xhat = x * rstd[:, None]
    g = gy * w
    return rstd[:, None] * (g - xhat * (g * xhat).mean(-1, keepdims=True)), (gy * xhat).sum(0)


_erf = np.vectorize(math.erf)


def gelu(x, approximate):
    if approximate == "none":
        return 0.5 * x * (1 + _erf(x / math.sqrt(2)))
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def gelu_grad(x, approximate):
    if approximate == "none":
        return 0.5 * (1 + _erf(x / math.sqrt(2))) + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
    k = math.sqrt(2 / math.pi)
    t = np.tanh(k * (x + 0.044715 * x**3))
    return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * 0.044715 * x * x)


def cross_entropy(x, target, ignore_index):
    lse = np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1)) + x.max(-1)
    valid = target != ignore_index
    picked = x[np.arange(len(x)), np.where(valid, target, 0)]
    return np.where(valid, lse - picked, 0.0), lse


def cross_entropy_backward(x, target, grow, ignore_index):
    g = softmax(x)
    valid = target != ignore_index
    g[np.arange(len(x)), np.where(valid, target, 0)] -= 1
    return g * (grow * valid)[:, None]


def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw):
    """One window at a time (slow and obviously right)."""
    n, c, h, w = x.shape
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    padded = np.zeros((n, c, h + 2 * ph, w + 2 * pw), x.dtype)
    padded[:, :, ph : ph + h, pw : pw + w] = x
    cols = np.zeros((n, c, kh, kw, oh, ow), x.dtype)
    for oy in range(oh):
        for ox in range(ow):
            for i in range(kh):
                for j in range(kw):
                    cols[:, :, i, j, oy, ox] = padded[:, :, oy * sh + i * dh, ox * sw + j * dw]
    return cols.reshape(n, c * kh * kw, oh * ow)


def adamw(p, g, m, v, vmax, step, lr, beta1, beta2, eps, wd, amsgrad, maximize):
    """PyTorch's documented AdamW algorithm, on float64 copies (returns new arrays)."""
    p, m, v = p.astype(np.float64), m.astype(np.float64), v.astype(np.float64)
    g = -g if maximize else g
    p = p * (1 - lr * wd)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    second = np.maximum(vmax, v) if amsgrad else v
    denom = np.sqrt(second) / math.sqrt(1 - beta2**step) + eps
    return p - lr / (1 - beta1**step) * m / denom, m, v, second
