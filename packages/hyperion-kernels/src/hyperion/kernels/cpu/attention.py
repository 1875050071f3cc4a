"""FlashAttention-style attention on the CPU: tiled, online softmax, O(N·d) extra memory.

``o = softmax(scale · q kᵀ + mask) v`` without ever holding the ``L × S`` score matrix.

Forward (one task per batch entry × block of ``B_r`` query rows, run in parallel with
``prange``): for each block of ``B_c`` keys, compute the ``B_r × B_c`` score tile with one
BLAS call (``np.dot`` inside Numba, which calls SciPy's BLAS), mask it, and fold each row
into that row's running maximum ``m``, running sum ``ℓ = Σ exp(s - m)`` and running output
``acc = Σ exp(s - m) v`` (a second BLAS call per tile), rescaling the old ``ℓ`` and ``acc``
by ``exp(m_old - m_new)`` when the maximum grows (the online softmax). At the end
``o = acc / ℓ`` and ``lse = m + log ℓ`` — the only per-row statistic kept.

Backward (recomputation, FlashAttention-2 style): with ``D_i = Σ_d go_id · o_id`` and
``p_ij = exp(scale · q_i·k_j - lse_i)`` recomputed tile by tile,
``gv_j = Σ_i p_ij go_i``, ``gs_ij = p_ij (go_i·v_j - D_i)``, ``gk_j = scale Σ_i gs_ij q_i``,
``gq_i = scale Σ_j gs_ij k_j``. Key blocks own ``gk``/``gv`` (one parallel pass over key
blocks) and query blocks own ``gq`` (a second parallel pass over query blocks), so no two
threads ever write the same row and no atomics are needed; the price is computing the
scores twice. Extra memory: the scaled copy ``scale · q``, ``D`` and a few ``B_r × B_c``
tiles per thread — O(N·d), never ``L × S``.

Conventions (the kernel ABI): ``q (B, L, E)``, ``k (B, S, E)``, ``v (B, S, Ev)``, a boolean
``mask (B, L, S)`` (``True`` = may attend; zero strides allowed) or ``None``, ``is_causal``
keeps key ``j <= i`` (top-left aligned). A query row with no allowed key outputs 0, gets
``lse = -inf`` and zero gradients (PyTorch returns NaN there). ``lse`` is float64 for both
float32 and float64 inputs; row statistics (``m``, ``ℓ``, ``D``) are float64, tiles and
accumulators use the input dtype.

Examples:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> q, k, v = (rng.standard_normal((1, 5, 4)) for _ in range(3))
    >>> o, lse = attention_forward(q, k, v, None, True, 0.5)
    >>> s = 0.5 * q[0] @ k[0].T + np.triu(np.full((5, 5), -np.inf), 1)
    >>> p = np.exp(s - s.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
    >>> bool(np.allclose(o[0], p @ v[0]))
    True
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable

import numpy as np
from numba import njit, prange

from hyperion.kernels.cpu.attention_tiles import FASTMATH, block_sizes, exp_row, masked_scores
from hyperion.tensor.errors import DTypeError, ShapeError

__all__ = ["KERNELS", "attention_backward", "attention_forward"]

_NO_MASK = np.ones((1, 1, 1), dtype=np.bool_)


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def _forward(qs, k, v, mask, has_mask, causal, br, bc, o, lse):  # noqa: ANN001, ANN202 - jitted
    nb, length, _ = qs.shape
    source = k.shape[1]
    ev = v.shape[2]
    blocks = (length + br - 1) // br
    for task in prange(nb * blocks):
        b = task // blocks
        i0 = (task % blocks) * br
        i1 = min(length, i0 + br)
        rows = i1 - i0
        q_blk = qs[b, i0:i1]
        m = np.full(rows, -np.inf)
        ell = np.zeros(rows)
        acc = np.zeros((rows, ev), o.dtype)
        for j0 in range(0, source, bc):
            if causal and j0 > i1 - 1:
                break  # every later key is in the future of every row of this block
            j1 = min(source, j0 + bc)
            s = np.dot(q_blk, k[b, j0:j1].T)  # the (rows, j1 - j0) score tile: one BLAS call
            for r in range(rows):
                srow = s[r]
                if not masked_scores(mask, has_mask, causal, b, i0 + r, j0, j1, srow):
                    srow[:] = 0.0  # no allowed key in this tile: the row adds nothing
                    continue
                m_new = max(m[r], float(srow.max()))
                alpha = math.exp(m[r] - m_new)  # 0 on the row's first tile (m = -inf)
                ell[r] = ell[r] * alpha + exp_row(srow, m_new)
                m[r] = m_new
                if alpha != 1.0:
                    ar = acc[r]
                    for d in range(ev):
                        ar[d] *= alpha
            acc += np.dot(s, v[b, j0:j1])
        for r in range(rows):
            i = i0 + r
            if ell[r] > 0.0:
                inv = 1.0 / ell[r]
                for d in range(ev):
                    o[b, i, d] = acc[r, d] * inv
                lse[b, i] = m[r] + math.log(ell[r])
            else:
                o[b, i, :] = 0.0
                lse[b, i] = -np.inf


@njit(cache=True, fastmath=FASTMATH)
def _probabilities(s, mask, has_mask, causal, lse, b, i0, j0, j1):  # noqa: ANN001, ANN202 - jitted
    """Turn a score tile into ``p = exp(s - lse)`` in place, from the saved row statistics."""
    for r in range(s.shape[0]):
        srow = s[r]
        shift = lse[b, i0 + r]
        if shift == -np.inf or not masked_scores(mask, has_mask, causal, b, i0 + r, j0, j1, srow):
            srow[:] = 0.0
        else:
            exp_row(srow, shift)


@njit(cache=True, fastmath=FASTMATH)
def _score_gradient(p, dp, dsum, b, i0):  # noqa: ANN001, ANN202 - jitted
    """``dp ← p ⊙ (dp - D)``: the gradient of the (scaled) scores, in place."""
    for r in range(p.shape[0]):
        d = dsum[b, i0 + r]
        pr, dr = p[r], dp[r]
        for c in range(p.shape[1]):
            dr[c] = pr[c] * (dr[c] - d)


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def _backward_kv(qs, k, v, go, mask, has_mask, causal, lse, dsum, br, bc, gk, gv):  # noqa: ANN001, ANN202
    nb, length, _ = qs.shape
    source = k.shape[1]
    blocks = (source + bc - 1) // bc
    for task in prange(nb * blocks):
        b = task // blocks
        j0 = (task % blocks) * bc
        j1 = min(source, j0 + bc)
        k_blk, v_blk = k[b, j0:j1], v[b, j0:j1]
        dk = np.zeros(k_blk.shape, gk.dtype)
        dv = np.zeros(v_blk.shape, gv.dtype)
        first = (j0 // br) * br if causal else 0  # causal: earlier query blocks never see these keys
        for i0 in range(first, length, br):
            i1 = min(length, i0 + br)
            q_blk, go_blk = qs[b, i0:i1], go[b, i0:i1]
            p = np.dot(q_blk, k_blk.T)
            _probabilities(p, mask, has_mask, causal, lse, b, i0, j0, j1)
            dv += np.dot(p.T, go_blk)
            dp = np.dot(go_blk, v_blk.T)
            _score_gradient(p, dp, dsum, b, i0)
            dk += np.dot(dp.T, q_blk)  # q_blk is already scaled: gk = scale Σ gs q
        gk[b, j0:j1] = dk
        gv[b, j0:j1] = dv


@njit(cache=True, parallel=True, fastmath=FASTMATH)
def _backward_q(qs, k, v, go, mask, has_mask, causal, scale, lse, dsum, br, bc, gq):  # noqa: ANN001, ANN202
    nb, length, e = qs.shape
    source = k.shape[1]
    blocks = (length + br - 1) // br
    for task in prange(nb * blocks):
        b = task // blocks
        i0 = (task % blocks) * br
        i1 = min(length, i0 + br)
        q_blk, go_blk = qs[b, i0:i1], go[b, i0:i1]
        dq = np.zeros((i1 - i0, e), gq.dtype)
        for j0 in range(0, source, bc):
            if causal and j0 > i1 - 1:
                break
            j1 = min(source, j0 + bc)
            k_blk = k[b, j0:j1]
            p = np.dot(q_blk, k_blk.T)
            _probabilities(p, mask, has_mask, causal, lse, b, i0, j0, j1)
            dp = np.dot(go_blk, v[b, j0:j1].T)
            _score_gradient(p, dp, dsum, b, i0)
            dq += np.dot(dp, k_blk)
        gq[b, i0:i1] = dq * scale


def _prepare(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]:
    """Validate shapes and dtypes; return contiguous ``q, k, v``, the mask (or a dummy) and ``has_mask``."""
    arrays = {"q": q, "k": k, "v": v}
    for name, a in arrays.items():
        if not isinstance(a, np.ndarray) or a.ndim != 3:
            raise ShapeError(
                f"attention: {name} must be a 3-D NumPy array (B, rows, features), got {getattr(a, 'shape', a)!r}"
            )
    if not (q.dtype == k.dtype == v.dtype) or q.dtype not in (np.float32, np.float64):
        raise DTypeError(
            f"attention: q, k, v must share a float32 or float64 dtype, got {q.dtype}, {k.dtype}, {v.dtype}"
        )
    if q.shape[0] != k.shape[0] or k.shape[0] != v.shape[0]:
        raise ShapeError(f"attention: batch sizes differ: q {q.shape}, k {k.shape}, v {v.shape}")
    if q.shape[2] != k.shape[2]:
        raise ShapeError(f"attention: q {q.shape} and k {k.shape} have different feature sizes")
    if k.shape[1] != v.shape[1]:
        raise ShapeError(f"attention: k {k.shape} and v {v.shape} have different lengths")
    if mask is None:
        return np.ascontiguousarray(q), np.ascontiguousarray(k), np.ascontiguousarray(v), _NO_MASK, False
    want = (q.shape[0], q.shape[1], k.shape[1])
    if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_ or mask.shape != want:
        raise ShapeError(
            f"attention: mask must be a boolean array of shape {want}, got "
            f"{getattr(mask, 'dtype', type(mask).__name__)} {getattr(mask, 'shape', '')}"
        )
    return np.ascontiguousarray(q), np.ascontiguousarray(k), np.ascontiguousarray(v), mask, True


def _blocks(e: int, ev: int, itemsize: int, block_rows: int | None, block_cols: int | None) -> tuple[int, int]:
    br, bc = block_sizes(e, ev, itemsize)
    br, bc = block_rows or br, block_cols or bc
    if br < 1 or bc < 1:
        raise ValueError(f"attention: block sizes must be positive, got block_rows={br}, block_cols={bc}")
    return br, bc


def attention_forward(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    mask: np.ndarray | None,
    is_causal: bool,
    scale: float,
    *,
    block_rows: int | None = None,
    block_cols: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The ``nn.attention_forward`` kernel: ``(o (B, L, Ev), lse (B, L) float64)``.

    Args:
        q: ``(B, L, E)`` queries, float32 or float64.
        k: ``(B, S, E)`` keys, same dtype.
        v: ``(B, S, Ev)`` values, same dtype.
        mask: boolean ``(B, L, S)`` (``True`` = may attend), or ``None``.
        is_causal: keep only keys ``j <= i``.
        scale: factor on the scores.
        block_rows: query rows per tile (default from the cache sizes).
        block_cols: keys per tile (default from the cache sizes).

    Raises:
        ShapeError: for inconsistent shapes or a mask that is not boolean ``(B, L, S)``.
        DTypeError: unless q, k, v share a float32 or float64 dtype.
    """
    q, k, v, mask_, has_mask = _prepare(q, k, v, mask)
    br, bc = _blocks(q.shape[2], v.shape[2], q.itemsize, block_rows, block_cols)
    qs = q * q.dtype.type(scale)  # scores of the scaled queries: one O(N·d) pass instead of one per tile
    o = np.empty((q.shape[0], q.shape[1], v.shape[2]), q.dtype)
    lse = np.empty(q.shape[:2], np.float64)
    _forward(qs, k, v, mask_, has_mask, bool(is_causal), br, bc, o, lse)
    return o, lse


def attention_backward(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    mask: np.ndarray | None,
    is_causal: bool,
    scale: float,
    o: np.ndarray,
    lse: np.ndarray,
    go: np.ndarray,
    *,
    block_rows: int | None = None,
    block_cols: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``nn.attention_backward`` kernel: ``(gq, gk, gv)`` from the saved ``o`` and ``lse``.

    Args:
        q: ``(B, L, E)`` queries, as given to :func:`attention_forward`.
        k: ``(B, S, E)`` keys, as given to the forward.
        v: ``(B, S, Ev)`` values, as given to the forward.
        mask: the forward's boolean mask, or ``None``.
        is_causal: as given to the forward.
        scale: as given to the forward.
        o: the forward output ``(B, L, Ev)``.
        lse: the forward's ``(B, L)`` log-sum-exp (any float dtype; ``-inf`` = fully masked row).
        go: the gradient of the output, ``(B, L, Ev)``.
        block_rows: query rows per tile (default from the cache sizes).
        block_cols: keys per tile (default from the cache sizes).

    Raises:
        ShapeError: for inconsistent shapes.
        DTypeError: unless q, k, v share a float32 or float64 dtype.
    """
    q, k, v, mask_, has_mask = _prepare(q, k, v, mask)
    out_shape = (q.shape[0], q.shape[1], v.shape[2])
    if o.shape != out_shape or go.shape != out_shape or lse.shape != q.shape[:2]:
        raise ShapeError(
            f"attention backward: expected o and go of shape {out_shape} and lse {q.shape[:2]}, "
            f"got o {o.shape}, go {go.shape}, lse {lse.shape}"
        )
    br, bc = _blocks(q.shape[2], v.shape[2], q.itemsize, block_rows, block_cols)
    go = np.ascontiguousarray(go, dtype=q.dtype)
    lse64 = np.ascontiguousarray(lse, dtype=np.float64)
    dsum = np.einsum("bld,bld->bl", go.astype(np.float64), np.asarray(o, dtype=np.float64))
    qs = q * q.dtype.type(scale)
    gq = np.empty_like(q)
    gk = np.empty_like(k)
    gv = np.empty_like(v)
    causal = bool(is_causal)
    _backward_kv(qs, k, v, go, mask_, has_mask, causal, lse64, dsum, br, bc, gk, gv)
    _backward_q(qs, k, v, go, mask_, has_mask, causal, float(scale), lse64, dsum, br, bc, gq)
    return gq, gk, gv


KERNELS: dict[tuple[str, str], Callable[..., object]] = (
    {("nn.attention_forward", "cpu"): attention_forward, ("nn.attention_backward", "cpu"): attention_backward}
    if importlib.util.find_spec("scipy") is not None
    else {}
)
"""The flash kernels, available only with SciPy (whose BLAS Numba's ``np.dot`` calls). The ``cpu``
provider registers :mod:`hyperion.kernels.cpu.attention_dense`'s size-dispatching pair, which
calls these for sequences longer than a few hundred tokens."""
