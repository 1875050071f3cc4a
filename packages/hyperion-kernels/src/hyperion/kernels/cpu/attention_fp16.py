"""Half-precision attention, simulated in NumPy: the naive way and the FlashAttention way.

The FlashAttention paper claims exactness: same result as ``softmax(q kᵀ/√d) v`` up to
rounding, with an error in float16 no worse than the standard implementation's. Its
reference tests check ``max|flash - ref| <= 2 · max|naive16 - ref|``, where ``ref`` is a
higher-precision computation on the same (float16) inputs. Without a GPU we simulate the
two float16 computations, rounding exactly where the GPU kernels round:

* **naive** (a framework's standard attention in float16): every matmul has float16 inputs,
  accumulates in float32 (as tensor cores do) and writes a float16 result; the scores ``S``,
  the probabilities ``P`` and every gradient matrix are float16 tensors in memory; softmax
  (and its backward) computes in float32 internally and writes float16.
* **flash** (Algorithm 1 / FlashAttention-2's backward): float16 inputs; score tiles
  accumulate in float32 and *stay* float32; ``m``, ``ℓ``, the output accumulator and the
  gradient accumulators are float32; only the operands of the tile matmuls (``P̃`` for
  ``P̃ V``, ``dS`` for ``dS K``) are rounded to float16, as they are fed to tensor cores; the
  final ``O``, ``dQ``, ``dK``, ``dV`` are written as float16.

:func:`attention_float64` is the reference (float64 on the float16-rounded inputs).

Examples:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> q, k, v, go = (rng.standard_normal((32, 16)).astype(np.float16) for _ in range(4))
    >>> ref = attention_float64(q, k, v, go, causal=False)
    >>> naive = naive_float16(q, k, v, go, causal=False)
    >>> flash = flash_float16(q, k, v, go, causal=False, block=8)
    >>> bool(np.abs(flash[0] - ref[0]).max() <= 2 * np.abs(naive[0] - ref[0]).max())
    True
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["attention_float64", "flash_float16", "naive_float16"]

Grads = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
F16, F32 = np.float16, np.float32


def _mm16(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A tensor-core matmul: float16 operands, float32 accumulation, float32 result."""
    return a.astype(F16).astype(F32) @ b.astype(F16).astype(F32)


def _allowed(n: int, s: int, causal: bool) -> np.ndarray:
    return np.tril(np.ones((n, s), dtype=bool)) if causal else np.ones((n, s), dtype=bool)


def attention_float64(q: np.ndarray, k: np.ndarray, v: np.ndarray, go: np.ndarray, causal: bool) -> Grads:
    """``(o, dq, dk, dv)`` in float64 for 2-D ``(N, d)`` inputs and output gradient ``go``."""
    q, k, v, go = (x.astype(np.float64) for x in (q, k, v, go))
    scale = 1.0 / math.sqrt(q.shape[1])
    s = np.where(_allowed(q.shape[0], k.shape[0], causal), scale * (q @ k.T), -np.inf)
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    o = p @ v
    dp = go @ v.T
    ds = p * (dp - (dp * p).sum(axis=1, keepdims=True))
    return o, scale * ds @ k, scale * ds.T @ q, p.T @ go


def naive_float16(q: np.ndarray, k: np.ndarray, v: np.ndarray, go: np.ndarray, causal: bool) -> Grads:
    """Standard attention with float16 tensors in memory (see the module docstring)."""
    scale = F32(1.0 / math.sqrt(q.shape[1]))
    q16 = (q.astype(F32) * scale).astype(F16)  # q / √d, a float16 tensor as in the framework code
    s = _mm16(q16, k.T).astype(F16).astype(F32)
    s = np.where(_allowed(q.shape[0], k.shape[0], causal), s, -np.inf)
    p = np.exp(s - s.max(axis=1, keepdims=True))
    p = (p / p.sum(axis=1, keepdims=True)).astype(F16)
    o = _mm16(p, v).astype(F16)
    dv = _mm16(p.T, go).astype(F16)
    dp = _mm16(go, v.T).astype(F16).astype(F32)
    p32 = p.astype(F32)
    ds = (p32 * (dp - (dp * p32).sum(axis=1, keepdims=True))).astype(F16)
    dq = (_mm16(ds, k) * scale).astype(F16)
    dk = (_mm16(ds.T, q16)).astype(F16)  # d(q/√d · kᵀ)/dk uses the scaled q16
    return o, dq, dk, dv


def flash_float16(q: np.ndarray, k: np.ndarray, v: np.ndarray, go: np.ndarray, causal: bool, block: int = 64) -> Grads:
    """Tiled forward (online softmax) and backward by recomputation, float16 tiles / float32 state."""
    n, s_len = q.shape[0], k.shape[0]
    scale = F32(1.0 / math.sqrt(q.shape[1]))
    allowed = _allowed(n, s_len, causal)
    m = np.full(n, -np.inf, F32)
    ell = np.zeros(n, F32)
    acc = np.zeros((n, v.shape[1]), F32)
    for j0 in range(0, s_len, block):
        cols = slice(j0, j0 + block)
        for i0 in range(0, n, block):
            rows = slice(i0, i0 + block)
            s = _mm16(q[rows], k[cols].T) * scale
            s = np.where(allowed[rows, cols], s, -np.inf)
            m_tile = s.max(axis=1)
            m_new = np.maximum(m[rows], m_tile)
            safe = np.where(np.isfinite(m_new), m_new, 0.0).astype(F32)
            p = np.exp(s - safe[:, None])
            alpha = np.exp(m[rows] - safe)
            ell[rows] = alpha * ell[rows] + p.sum(axis=1)
            acc[rows] = alpha[:, None] * acc[rows] + _mm16(p, v[cols])
            m[rows] = m_new
    o32 = acc / ell[:, None]
    o = o32.astype(F16)
    lse = m + np.log(ell)
    dsum = (go.astype(F32) * o.astype(F32)).sum(axis=1)
    dq = np.zeros(q.shape, F32)
    dk = np.zeros(k.shape, F32)
    dv = np.zeros(v.shape, F32)
    for j0 in range(0, s_len, block):
        cols = slice(j0, j0 + block)
        for i0 in range(0, n, block):
            rows = slice(i0, i0 + block)
            s = _mm16(q[rows], k[cols].T) * scale
            p = np.where(allowed[rows, cols], np.exp(s - lse[rows, None]), 0.0).astype(F32)
            dv[cols] += _mm16(p.T, go[rows])
            dp = _mm16(go[rows], v[cols].T)
            ds = p * (dp - dsum[rows, None])
            dq[rows] += _mm16(ds, k[cols]) * scale
            dk[cols] += _mm16(ds.T, q[rows]) * scale
    return o, dq.astype(F16), dk.astype(F16), dv.astype(F16)
