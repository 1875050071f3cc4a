"""A float64 NumPy reference for attention forward and backward (the oracle of the kernel tests)."""

from __future__ import annotations

import numpy as np


def reference(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    mask: np.ndarray | None,
    causal: bool,
    scale: float,
    go: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(o, lse, gq, gk, gv)`` in float64 with the kernel ABI's conventions.

    A row with no allowed key has ``o = 0``, ``lse = -inf`` and zero gradients.
    """
    q, k, v, go = (np.asarray(x, dtype=np.float64) for x in (q, k, v, go))
    s = scale * np.einsum("ble,bse->bls", q, k)
    allowed = np.ones(s.shape, dtype=bool)
    if causal:
        allowed &= np.tril(np.ones(s.shape[1:], dtype=bool))
    if mask is not None:
        allowed &= mask
    s = np.where(allowed, s, -np.inf)
    any_allowed = allowed.any(axis=-1, keepdims=True)
    m = np.where(any_allowed, s.max(axis=-1, keepdims=True, initial=-np.inf), 0.0)
    p = np.where(allowed, np.exp(s - m), 0.0)
    total = p.sum(axis=-1, keepdims=True)
    p = np.where(any_allowed, p / np.where(any_allowed, total, 1.0), 0.0)
    o = p @ v
    with np.errstate(divide="ignore"):
        lse = np.where(
            any_allowed[..., 0], m[..., 0] + np.log(np.where(any_allowed[..., 0], total[..., 0], 1.0)), -np.inf
        )
    gp = go @ v.transpose(0, 2, 1)
    gs = p * (gp - (gp * p).sum(axis=-1, keepdims=True))
    gq = scale * gs @ k
    gk = scale * gs.transpose(0, 2, 1) @ q
    gv = p.transpose(0, 2, 1) @ go
    return o, lse, gq, gk, gv
