"""FlashAttention backward on the GPU, by recomputation from the saved ``lse``.

With ``p_ij = exp(scale * q_i . k_j - lse_i)`` (the forward's probabilities,
rebuilt from one saved number per row), ``dp_ij = go_i . v_j`` and
``D_i = sum_j p_ij dp_ij = o_i . go_i``::

    ds_ij = p_ij * (dp_ij - D_i)
    gq_i  = scale * sum_j ds_ij k_j
    gk_j  = scale * sum_i ds_ij q_i
    gv_j  = sum_i p_ij go_i

Two kernels, each owning what it writes, so no atomics are needed and the
result is deterministic:

* :func:`attention_backward_q` partitions *queries* like the forward pass
  (thread = query row) and streams K/V tiles through shared memory;
* :func:`attention_backward_kv` partitions *keys* (thread = key row) and
  streams Q/dO tiles, with ``lse`` and ``D`` of the tile, through shared memory.
  With ``is_causal`` a key block starts at its first query that can see it.

The rows a thread owns are staged in tiles padded to ``HEAD_DIM_MAX + 1``
words, for the bank-conflict reason explained in :mod:`.attention`; the
streamed tiles are read by all lanes at the same address (broadcast).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from numba import cuda, float64

from hyperion.kernels.cuda.attention import (
    BLOCK_Q,
    HEAD_DIM_MAX,
    HEAD_DIM_PADDED,
    NUMBA_FLOAT_TYPES,
    TILE_K,
    check_attention_inputs,
    prepare_mask,
)
from hyperion.kernels.cuda.device import ceil_div

BLOCK_KV = 32
NEG_INF = -math.inf


def _backward_q_source(dtype, tile):
    def attention_backward_q_kernel(q, k, v, mask, has_mask, is_causal, scale, go, lse, delta, gq):
        q_tile = cuda.shared.array((BLOCK_Q, HEAD_DIM_PADDED), dtype)
        go_tile = cuda.shared.array((BLOCK_Q, HEAD_DIM_PADDED), dtype)
        k_tile = cuda.shared.array((tile, HEAD_DIM_MAX), dtype)
        v_tile = cuda.shared.array((tile, HEAD_DIM_MAX), dtype)
        acc = cuda.local.array(HEAD_DIM_MAX, float64)
        t = cuda.threadIdx.x
        b = cuda.blockIdx.y
        q0 = cuda.blockIdx.x * BLOCK_Q
        length_q = q.shape[1]
        length_k = k.shape[1]
        e = q.shape[2]
        ev = v.shape[2]
        row = q0 + t
        lse_row = NEG_INF
        delta_row = 0.0
        if row < length_q:
            lse_row = lse[b, row] + 0.0
            delta_row = delta[b, row] + 0.0
        for idx in range(t, BLOCK_Q * e, BLOCK_Q):
            r = idx // e
            d = idx - r * e
            q_tile[r, d] = q[b, q0 + r, d] if q0 + r < length_q else 0.0
        for idx in range(t, BLOCK_Q * ev, BLOCK_Q):
            r = idx // ev
            d = idx - r * ev
            go_tile[r, d] = go[b, q0 + r, d] if q0 + r < length_q else 0.0
        for d in range(e):
            acc[d] = 0.0
        k_end = length_k
        if is_causal:
            k_end = min(length_k, q0 + BLOCK_Q)
        for k0 in range(0, k_end, tile):
            cuda.syncthreads()
            for idx in range(t, tile * e, BLOCK_Q):
                r = idx // e
                d = idx - r * e
                k_tile[r, d] = k[b, k0 + r, d] if k0 + r < length_k else 0.0
            for idx in range(t, tile * ev, BLOCK_Q):
                r = idx // ev
                d = idx - r * ev
                v_tile[r, d] = v[b, k0 + r, d] if k0 + r < length_k else 0.0
            cuda.syncthreads()
            if lse_row > NEG_INF:  # invalid and fully masked rows get 0
                for j in range(min(tile, length_k - k0)):
                    col = k0 + j
                    if (is_causal and col > row) or (has_mask and not mask[b, row, col]):
                        continue
                    s = 0.0
                    dp = 0.0
                    for d in range(e):
                        s += q_tile[t, d] * k_tile[j, d]
                    for d in range(ev):
                        dp += go_tile[t, d] * v_tile[j, d]
                    p = math.exp(s * scale - lse_row)
                    ds = p * (dp - delta_row)
                    for d in range(e):
                        acc[d] += ds * k_tile[j, d]
        cuda.syncthreads()
        for d in range(e):
            q_tile[t, d] = acc[d] * scale
        cuda.syncthreads()
        for idx in range(t, BLOCK_Q * e, BLOCK_Q):
            r = idx // e
            d = idx - r * e
            if q0 + r < length_q:
                gq[b, q0 + r, d] = q_tile[r, d]

    return attention_backward_q_kernel


def _backward_kv_source(dtype, tile):
    def attention_backward_kv_kernel(q, k, v, mask, has_mask, is_causal, scale, go, lse, delta, gk, gv):
        k_tile = cuda.shared.array((BLOCK_KV, HEAD_DIM_PADDED), dtype)
        v_tile = cuda.shared.array((BLOCK_KV, HEAD_DIM_PADDED), dtype)
        q_tile = cuda.shared.array((tile, HEAD_DIM_MAX), dtype)
        go_tile = cuda.shared.array((tile, HEAD_DIM_MAX), dtype)
        lse_tile = cuda.shared.array(tile, dtype)
        delta_tile = cuda.shared.array(tile, dtype)
        gk_acc = cuda.local.array(HEAD_DIM_MAX, float64)
        gv_acc = cuda.local.array(HEAD_DIM_MAX, float64)
        t = cuda.threadIdx.x
        b = cuda.blockIdx.y
        k0 = cuda.blockIdx.x * BLOCK_KV
        length_q = q.shape[1]
        length_k = k.shape[1]
        e = q.shape[2]
        ev = v.shape[2]
        col = k0 + t
        for idx in range(t, BLOCK_KV * e, BLOCK_KV):
            r = idx // e
            d = idx - r * e
            k_tile[r, d] = k[b, k0 + r, d] if k0 + r < length_k else 0.0
        for idx in range(t, BLOCK_KV * ev, BLOCK_KV):
            r = idx // ev
            d = idx - r * ev
            v_tile[r, d] = v[b, k0 + r, d] if k0 + r < length_k else 0.0
        for d in range(e):
            gk_acc[d] = 0.0
        for d in range(ev):
            gv_acc[d] = 0.0
        q_start = 0
        if is_causal:
            q_start = min(k0, length_q)  # queries before k0 see none of these keys
        for qb in range(q_start, length_q, tile):
            cuda.syncthreads()
            for idx in range(t, tile * e, BLOCK_KV):
                r = idx // e
                d = idx - r * e
                q_tile[r, d] = q[b, qb + r, d] if qb + r < length_q else 0.0
            for idx in range(t, tile * ev, BLOCK_KV):
                r = idx // ev
                d = idx - r * ev
                go_tile[r, d] = go[b, qb + r, d] if qb + r < length_q else 0.0
            if t < tile:
                lse_tile[t] = lse[b, qb + t] if qb + t < length_q else NEG_INF
                delta_tile[t] = delta[b, qb + t] if qb + t < length_q else 0.0
            cuda.syncthreads()
            if col < length_k:
                for ii in range(min(tile, length_q - qb)):
                    i = qb + ii
                    lse_i = lse_tile[ii] + 0.0
                    if lse_i == NEG_INF or (is_causal and col > i) or (has_mask and not mask[b, i, col]):
                        continue
                    s = 0.0
                    dp = 0.0
                    for d in range(e):
                        s += q_tile[ii, d] * k_tile[t, d]
                    for d in range(ev):
                        dp += go_tile[ii, d] * v_tile[t, d]
                    p = math.exp(s * scale - lse_i)
                    ds = p * (dp - delta_tile[ii])
                    for d in range(ev):
                        gv_acc[d] += p * go_tile[ii, d]
                    for d in range(e):
                        gk_acc[d] += ds * q_tile[ii, d]
        cuda.syncthreads()
        for d in range(e):
            k_tile[t, d] = gk_acc[d] * scale
        for d in range(ev):
            v_tile[t, d] = gv_acc[d]
        cuda.syncthreads()
        for idx in range(t, BLOCK_KV * e, BLOCK_KV):
            r = idx // e
            d = idx - r * e
            if k0 + r < length_k:
                gk[b, k0 + r, d] = k_tile[r, d]
        for idx in range(t, BLOCK_KV * ev, BLOCK_KV):
            r = idx // ev
            d = idx - r * ev
            if k0 + r < length_k:
                gv[b, k0 + r, d] = v_tile[r, d]

    return attention_backward_kv_kernel


@functools.cache
def backward_q_kernel_source(dtype_name: str) -> Any:
    """Python source of the query-side backward kernel for one dtype."""
    return _backward_q_source(NUMBA_FLOAT_TYPES[dtype_name], TILE_K[dtype_name])


@functools.cache
def backward_kv_kernel_source(dtype_name: str) -> Any:
    """Python source of the key/value-side backward kernel for one dtype."""
    return _backward_kv_source(NUMBA_FLOAT_TYPES[dtype_name], TILE_K[dtype_name])


@functools.cache
def backward_q_kernel(dtype_name: str) -> Any:
    """The ``cuda.jit`` query-side backward kernel."""
    return cuda.jit(backward_q_kernel_source(dtype_name))


@functools.cache
def backward_kv_kernel(dtype_name: str) -> Any:
    """The ``cuda.jit`` key/value-side backward kernel."""
    return cuda.jit(backward_kv_kernel_source(dtype_name))


def attention_backward(
    q: Any, k: Any, v: Any, mask: Any | None, is_causal: bool, scale: float, o: Any, lse: Any, go: Any
) -> tuple[Any, Any, Any]:
    """Gradients of :func:`~hyperion.kernels.cuda.attention.attention_forward`.

    Args:
        q, k, v, mask, is_causal, scale: As given to the forward pass.
        o: The forward output ``(B, L, Ev)``.
        lse: The forward's row log-sum-exp ``(B, L)``.
        go: Gradient of the loss with respect to ``o``.

    Returns:
        ``(gq, gk, gv)`` shaped like ``q``, ``k``, ``v``; rows that attend to
        nothing contribute nothing.
    """
    xp, dtype = check_attention_inputs(q, k, v, mask)
    batch, length_q, _ = q.shape
    length_k = k.shape[1]
    expected_o = (batch, length_q, v.shape[2])
    if tuple(o.shape) != expected_o or tuple(go.shape) != expected_o:
        raise ValueError(f"o and go must have shape {expected_o}, got {tuple(o.shape)} and {tuple(go.shape)}")
    if tuple(lse.shape) != (batch, length_q):
        raise ValueError(f"lse must have shape {(batch, length_q)}, got {tuple(lse.shape)}")
    go = xp.ascontiguousarray(go, dtype=dtype)
    # D_i = o_i . go_i: one fused multiply-reduce of the array library.
    delta = xp.ascontiguousarray((o.astype(dtype) * go).sum(axis=-1))
    lse = xp.ascontiguousarray(lse, dtype=dtype)
    qc, kc, vc = xp.ascontiguousarray(q), xp.ascontiguousarray(k), xp.ascontiguousarray(v)
    mask_arg = prepare_mask(xp, mask)
    gq = xp.zeros_like(qc)
    gk = xp.zeros_like(kc)
    gv = xp.zeros_like(vc)
    name = np.dtype(dtype).name
    args = (qc, kc, vc, mask_arg, mask is not None, bool(is_causal), float(scale), go, lse, delta)
    if batch and length_q and length_k:
        backward_q_kernel(name)[(ceil_div(length_q, BLOCK_Q), batch), BLOCK_Q](*args, gq)
        backward_kv_kernel(name)[(ceil_div(length_k, BLOCK_KV), batch), BLOCK_KV](*args, gk, gv)
    return gq, gk, gv
