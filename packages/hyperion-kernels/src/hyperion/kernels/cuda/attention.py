"""FlashAttention forward on the GPU: query blocks, K/V tiles in shared memory.

Block partitioning: the grid is ``(ceil(L / BLOCK_Q), B)``; block ``(qb, b)``
owns queries ``qb * BLOCK_Q ...`` of batch ``b`` and thread ``t`` owns one
query row. The block walks the keys one tile of ``tile_k`` rows at a time:
it stages ``K`` and ``V`` of the tile in shared memory (every key is then read
from global memory once per *block* rather than once per *query*), and each
thread folds the tile into its row with the online softmax: a running maximum
``m``, a running denominator ``l`` and an unnormalised output ``acc``, rescaled
by ``exp(m_old - m_new)`` whenever the maximum grows. No ``L x S`` score
matrix ever exists; the extra memory is the per-row ``lse = m + log(l)`` kept
for the backward pass.

Memory layout choices (32 banks of 4-byte words; a warp = 32 query rows):

* the query tile is staged as ``q_tile[BLOCK_Q, HEAD_DIM_MAX + 1]``. Thread
  ``t`` reads ``q_tile[t, d]``: the 32 lanes read one *column*; without the
  ``+ 1`` the stride would be 64 words and every lane would hit the same bank.
  With it, the stride is 65 words and the lanes spread over all banks;
* ``k_tile[j, d]`` and ``v_tile[j, d]`` are read at the same ``(j, d)`` by every
  lane: a broadcast, so they need no padding;
* global loads into the tiles are done cooperatively with a flat index
  ``idx = t, t + BLOCK_Q, ...`` decomposed as ``(row, col) = divmod(idx, E)``,
  so neighbouring lanes read neighbouring addresses (coalesced), although each
  thread will later use a whole row;
* the output is written through the same padded tile: each thread stores its
  row into ``q_tile[t, :]``, then the block copies the tile out with the flat,
  coalesced pattern instead of 32 lanes writing 32 far-apart rows.

Divergence: causal masking can end the key loop early for the whole block
(the test depends only on the block index: no divergence); per-key masking
inside a tile is a short branch around a dot product.

Head dimensions up to ``HEAD_DIM_MAX`` (64) are supported: the tiles are sized
at compile time and static shared memory is limited to 48 KB per block.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from numba import cuda, float32, float64

from hyperion.kernels.cuda.device import array_module, ceil_div, check_float, check_ndim

BLOCK_Q = 32
HEAD_DIM_MAX = 64
HEAD_DIM_PADDED = HEAD_DIM_MAX + 1  # literal for numba; +1 word: see bank conflicts above
TILE_K = {"float32": 32, "float64": 8}
"""Keys per shared tile: float64 tiles are twice the bytes; 8 keeps every
attention kernel (the backward ones stage four tiles) under 48 KB."""
NEG_INF = -math.inf


def _forward_source(dtype, tile_k):  # numba type and int in, Python function out
    def attention_forward_kernel(q, k, v, mask, has_mask, is_causal, scale, o, lse):
        q_tile = cuda.shared.array((BLOCK_Q, HEAD_DIM_PADDED), dtype)
        k_tile = cuda.shared.array((tile_k, HEAD_DIM_MAX), dtype)
        v_tile = cuda.shared.array((tile_k, HEAD_DIM_MAX), dtype)
        acc = cuda.local.array(HEAD_DIM_MAX, float64)
        # --8<-- [start:partition]
        t = cuda.threadIdx.x
        b = cuda.blockIdx.y
        q0 = cuda.blockIdx.x * BLOCK_Q
        length_q = q.shape[1]
        length_k = k.shape[1]
        e = q.shape[2]
        ev = v.shape[2]
        row = q0 + t
        row_valid = row < length_q
        for idx in range(t, BLOCK_Q * e, BLOCK_Q):
            r = idx // e
            d = idx - r * e
            q_tile[r, d] = q[b, q0 + r, d] if q0 + r < length_q else 0.0
        for d in range(ev):
            acc[d] = 0.0
        m = NEG_INF
        denom = 0.0
        k_end = length_k
        if is_causal:
            # the block's last query attends to keys <= q0 + BLOCK_Q - 1
            k_end = min(length_k, q0 + BLOCK_Q)
        # --8<-- [end:partition]
        for k0 in range(0, k_end, tile_k):
            cuda.syncthreads()  # the previous tile is no longer being read
            for idx in range(t, tile_k * e, BLOCK_Q):
                r = idx // e
                d = idx - r * e
                k_tile[r, d] = k[b, k0 + r, d] if k0 + r < length_k else 0.0
            for idx in range(t, tile_k * ev, BLOCK_Q):
                r = idx // ev
                d = idx - r * ev
                v_tile[r, d] = v[b, k0 + r, d] if k0 + r < length_k else 0.0
            cuda.syncthreads()
            if row_valid:
                tile_max = NEG_INF
                for j in range(min(tile_k, length_k - k0)):
                    col = k0 + j
                    if (is_causal and col > row) or (has_mask and not mask[b, row, col]):
                        continue
                    s = 0.0
                    for d in range(e):
                        s += q_tile[t, d] * k_tile[j, d]
                    tile_max = max(tile_max, s * scale)
                if tile_max > NEG_INF:
                    m_new = max(m, tile_max)
                    alpha = math.exp(m - m_new)  # 0 while m is still -inf
                    denom *= alpha
                    for d in range(ev):
                        acc[d] *= alpha
                    for j in range(min(tile_k, length_k - k0)):
                        col = k0 + j
                        if (is_causal and col > row) or (has_mask and not mask[b, row, col]):
                            continue
                        s = 0.0
                        for d in range(e):
                            s += q_tile[t, d] * k_tile[j, d]
                        p = math.exp(s * scale - m_new)
                        denom += p
                        for d in range(ev):
                            acc[d] += p * v_tile[j, d]
                    m = m_new
        cuda.syncthreads()
        # Stage the normalised row in the padded tile, then copy out coalesced.
        inv = 1.0 / denom if denom > 0.0 else 0.0  # a fully masked row outputs 0
        for d in range(ev):
            q_tile[t, d] = acc[d] * inv
        if row_valid:
            lse[b, row] = m + math.log(denom) if denom > 0.0 else NEG_INF
        cuda.syncthreads()
        for idx in range(t, BLOCK_Q * ev, BLOCK_Q):
            r = idx // ev
            d = idx - r * ev
            if q0 + r < length_q:
                o[b, q0 + r, d] = q_tile[r, d]

    return attention_forward_kernel


NUMBA_FLOAT_TYPES = {"float32": float32, "float64": float64}
"""dtype name -> the numba type the shared tiles are declared with."""


@functools.cache
def forward_kernel_source(dtype_name: str) -> Any:
    """The Python source of the forward kernel for ``"float32"``/``"float64"``."""
    return _forward_source(NUMBA_FLOAT_TYPES[dtype_name], TILE_K[dtype_name])


@functools.cache
def forward_kernel(dtype_name: str) -> Any:
    """The ``cuda.jit`` forward kernel for one dtype (compiled on first launch)."""
    return cuda.jit(forward_kernel_source(dtype_name))


def check_attention_inputs(q: Any, k: Any, v: Any, mask: Any | None) -> tuple[Any, np.dtype]:
    """Validate shapes and dtypes; return ``(xp, dtype)``.

    Raises:
        ValueError: for mismatched shapes or a head dimension above ``HEAD_DIM_MAX``.
        TypeError: for non-float inputs or mixed dtypes.
    """
    for name, array in (("q", q), ("k", k), ("v", v)):
        check_ndim(name, array, 3)
    dtype = check_float("q", q)
    check_float("k", k, dtype)
    check_float("v", v, dtype)
    batch, length_q, e = q.shape
    if k.shape[0] != batch or v.shape[0] != batch or k.shape[2] != e or v.shape[1] != k.shape[1]:
        raise ValueError(
            f"attention shapes do not fit: q {tuple(q.shape)}, k {tuple(k.shape)}, v {tuple(v.shape)} "
            "(need q (B,L,E), k (B,S,E), v (B,S,Ev))"
        )
    if e > HEAD_DIM_MAX or v.shape[2] > HEAD_DIM_MAX:
        raise ValueError(
            f"the CUDA attention kernel supports head dimensions up to {HEAD_DIM_MAX}, got E={e}, Ev={v.shape[2]}"
        )
    if mask is not None and tuple(mask.shape) != (batch, length_q, k.shape[1]):
        raise ValueError(f"mask has shape {tuple(mask.shape)}, expected {(batch, length_q, k.shape[1])}")
    return array_module(q, k, v, mask), dtype


def prepare_mask(xp: Any, mask: Any | None) -> Any:
    """A contiguous bool mask (broadcast views become real arrays), or a 1-element placeholder."""
    if mask is None:
        return xp.ones((1, 1, 1), dtype=bool)
    return xp.ascontiguousarray(mask, dtype=bool)


def attention_forward(q: Any, k: Any, v: Any, mask: Any | None, is_causal: bool, scale: float) -> tuple[Any, Any]:
    """Scaled dot-product attention without materialising the score matrix.

    Args:
        q: ``(B, L, E)`` queries.
        k: ``(B, S, E)`` keys.
        v: ``(B, S, Ev)`` values.
        mask: ``(B, L, S)`` bool, True where a query may attend, or ``None``.
        is_causal: Query ``i`` attends to keys ``j <= i`` only.
        scale: Multiplies the scores (usually ``1/sqrt(E)``).

    Returns:
        ``(o (B, L, Ev), lse (B, L))``; a fully masked row gives ``o = 0``, ``lse = -inf``.
    """
    xp, dtype = check_attention_inputs(q, k, v, mask)
    batch, length_q, _ = q.shape
    o = xp.empty((batch, length_q, v.shape[2]), dtype=dtype)
    lse = xp.empty((batch, length_q), dtype=dtype)
    if batch and length_q:
        grid = (ceil_div(length_q, BLOCK_Q), batch)
        forward_kernel(np.dtype(dtype).name)[grid, BLOCK_Q](
            xp.ascontiguousarray(q),
            xp.ascontiguousarray(k),
            xp.ascontiguousarray(v),
            prepare_mask(xp, mask),
            mask is not None,
            bool(is_causal),
            float(scale),
            o,
            lse,
        )
    return o, lse
