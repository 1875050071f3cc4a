"""Measurements for reproducing the FlashAttention paper's claims on a CPU (one function per claim).

Used by ``bench/flash_attention_repro.py`` (all claims, a table and JSON) and by the blog's
figure scripts (``blog/figures/flash_*.py --measure``). Each function returns plain JSON data.

1. :func:`exactness` — float16 error of the tiled algorithm vs the naive one, both against
   float64 (simulated rounding, :mod:`hyperion.kernels.cpu.attention_fp16`), and the Numba
   kernel's float32/float64 error;
2. :func:`memory` — peak extra memory (tracemalloc) of the flash kernel and of naive NumPy vs N;
3. :func:`io_complexity` — slow-memory accesses from the two-level simulator
   (:mod:`hyperion.kernels.cpu.io_model`) over sweeps of N, d and M, with fitted constants;
4. :func:`block_size` — simulated accesses and the kernel's CPU time vs the key-block size;
5. :func:`backward` — gradients from the saved ``(O, lse)`` vs float64 naive gradients, and
   the backward's peak extra memory vs one N × N matrix;
6. :func:`speed` — wall-clock of the kernel, naive NumPy and PyTorch's SDPA across N.
"""

from __future__ import annotations

import math
import statistics
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from hyperion.kernels.cpu.attention import attention_backward, attention_forward
from hyperion.kernels.cpu.attention_fp16 import attention_float64, flash_float16, naive_float16
from hyperion.kernels.cpu.io_model import flash_attention, standard_attention

__all__ = ["backward", "block_size", "exactness", "io_complexity", "memory", "speed"]


def _qkv(n: int, d: int, dtype: Any = np.float32, seed: int = 0, count: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((1, n, d)).astype(dtype) for _ in range(count)]


def naive_forward(q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool = False) -> np.ndarray:
    """``softmax(q kᵀ/√d) v`` with the score matrix in memory (the composed NumPy version)."""
    s = (q @ k.transpose(0, 2, 1)) * q.dtype.type(1 / math.sqrt(q.shape[-1]))
    if causal:
        s = np.where(np.tril(np.ones(s.shape[-2:], dtype=bool)), s, -np.inf)
    s = np.exp(s - s.max(axis=-1, keepdims=True))
    s /= s.sum(axis=-1, keepdims=True)
    return s @ v


def naive_backward(q: np.ndarray, k: np.ndarray, v: np.ndarray, go: np.ndarray) -> tuple[np.ndarray, ...]:
    """Gradients the way autograd computes them: ``P`` kept from the forward, ``dP``, ``dS`` in memory."""
    scale = q.dtype.type(1 / math.sqrt(q.shape[-1]))
    s = (q @ k.transpose(0, 2, 1)) * scale
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    dp = go @ v.transpose(0, 2, 1)
    ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))
    return (ds @ k) * scale, (ds.transpose(0, 2, 1) @ q) * scale, p.transpose(0, 2, 1) @ go


def peak_bytes(fn: Callable[[], Any]) -> int:
    """Peak bytes traced by tracemalloc during one call of ``fn`` (after a warm-up call)."""
    fn()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def interleaved(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median seconds per call of each function, samples taken in rotating order."""
    for fn in fns.values():
        fn()
    names = list(fns)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            fns[name]()
            samples[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in samples.items()}


def exactness(sizes: Sequence[int] = (256, 1024), d: int = 64) -> dict[str, Any]:
    """Claim 1: float16 errors (max abs vs float64) of flash and naive, forward and backward."""
    cases = []
    for n in sizes:
        for causal in (False, True):
            q, k, v, go = (a[0].astype(np.float16) for a in _qkv(n, d, np.float64, seed=n + causal, count=4))
            ref = attention_float64(q, k, v, go, causal)
            errs = {}
            for name, got in (
                ("naive", naive_float16(q, k, v, go, causal)),
                ("flash", flash_float16(q, k, v, go, causal)),
            ):
                errs[name] = [float(np.abs(g.astype(np.float64) - r).max()) for g, r in zip(got, ref, strict=True)]
            ratios = [f / nv for f, nv in zip(errs["flash"], errs["naive"], strict=True)]
            cases.append(
                {"n": n, "d": d, "causal": causal, "naive": errs["naive"], "flash": errs["flash"], "ratio": ratios}
            )
    kernel = {}
    for dtype in (np.float32, np.float64):
        q, k, v, go = _qkv(1024, d, dtype, seed=7, count=4)
        o, lse = attention_forward(q, k, v, None, True, 1 / math.sqrt(d))
        grads = attention_backward(q, k, v, None, True, 1 / math.sqrt(d), o, lse, go)
        ref = attention_float64(q[0], k[0], v[0], go[0], True)
        kernel[np.dtype(dtype).name] = [
            float(np.abs(g[0] - r).max() / np.abs(r).max()) for g, r in zip((o, *grads), ref, strict=True)
        ]
    return {"outputs": ["o", "dq", "dk", "dv"], "cases": cases, "kernel_relative_error_n1024_causal": kernel}


def _memory_row(n: int, d: int, with_backward: bool) -> dict[str, Any]:
    scale = 1 / math.sqrt(d)
    q, k, v, go = _qkv(n, d, count=4)
    row: dict[str, Any] = {"n": n}
    # What each call returns (o, and lse for flash) is not "extra": subtract it.
    row["flash_forward"] = peak_bytes(lambda: attention_forward(q, k, v, None, False, scale)) - q.nbytes - n * 8
    row["naive_forward"] = peak_bytes(lambda: naive_forward(q, k, v)) - q.nbytes
    if with_backward:
        o, lse = attention_forward(q, k, v, None, False, scale)
        row["flash_backward"] = (
            peak_bytes(lambda: attention_backward(q, k, v, None, False, scale, o, lse, go)) - 3 * q.nbytes
        )
        row["naive_backward"] = peak_bytes(lambda: naive_backward(q, k, v, go)) - 3 * q.nbytes
    return row


def memory(sizes: Sequence[int], backward_sizes: Sequence[int], d: int = 64) -> dict[str, Any]:
    """Claim 2: peak extra bytes of forward (and backward) for flash and naive, float32."""
    return {"d": d, "dtype": "float32", "rows": [_memory_row(n, d, n in backward_sizes) for n in sizes]}


def _fit(xs: Sequence[float], ys: Sequence[float]) -> dict[str, float]:
    """Least-squares ``y ≈ c x`` and the spread of ``y / x`` (max/min)."""
    x, y = np.asarray(xs, float), np.asarray(ys, float)
    ratio = y / x
    return {"c": float((x @ y) / (x @ x)), "ratio_min": float(ratio.min()), "ratio_max": float(ratio.max())}


def io_complexity(quick: bool = False) -> dict[str, Any]:
    """Claim 3: simulated accesses of Algorithms 0 and 1 over sweeps of N, d and M."""
    base_n, base_d, base_m = (256, 32, 4096) if quick else (1024, 64, 16384)
    ns = [base_n // 4, base_n // 2, base_n, base_n * 2]
    ds = [base_d // 4, base_d // 2, base_d, base_d * 2]
    ms = [base_m // 4, base_m // 2, base_m, base_m * 2, base_m * 4]
    sweeps: dict[str, list[dict[str, Any]]] = {"N": [], "d": [], "M": []}
    for axis, values in (("N", ns), ("d", ds), ("M", ms)):
        for value in values:
            n, d, m = (
                (value if axis == "N" else base_n),
                (value if axis == "d" else base_d),
                (value if axis == "M" else base_m),
            )
            q, k, v = (a[0].astype(np.float64) for a in _qkv(n, d, np.float64, seed=1))
            _, fla = flash_attention(q, k, v, m)
            _, std = standard_attention(q, k, v, m)
            sweeps[axis].append({"n": n, "d": d, "m": m, "flash": fla.accesses, "standard": std.accesses,
                                 "flash_blocks": fla.blocks, "flash_peak_fast": fla.peak_fast})  # fmt: skip
    every = [row for rows in sweeps.values() for row in rows]
    fits = {
        "flash_vs_N2d2_over_M": _fit([r["n"] ** 2 * r["d"] ** 2 / r["m"] for r in every], [r["flash"] for r in every]),
        "standard_vs_Nd_plus_N2": _fit([r["n"] * r["d"] + r["n"] ** 2 for r in every], [r["standard"] for r in every]),
    }
    return {"sweeps": sweeps, "fits": fits}


def block_size(
    n: int, d: int = 64, block_cols: Sequence[int] = (16, 32, 64, 128, 256, 512, 1024), repeats: int = 5
) -> dict[str, Any]:
    """Claim 4: simulated slow-memory accesses and the kernel's CPU time vs the key-block size."""
    q, k, v = _qkv(n, d)
    scale = 1 / math.sqrt(d)
    q64, k64, v64 = (a[0].astype(np.float64) for a in (q, k, v))
    memory_elems = 4 * 1024**2  # large enough for every block size below: only B_c varies
    fns = {
        bc: (lambda bc=bc: attention_forward(q, k, v, None, False, scale, block_rows=64, block_cols=bc))
        for bc in block_cols
    }
    times = interleaved({str(bc): fn for bc, fn in fns.items()}, repeats)
    rows = []
    for bc in block_cols:
        sim_n = min(n, 1024)
        _, counts = flash_attention(q64[:sim_n], k64[:sim_n], v64[:sim_n], memory_elems, blocks=(64, bc))
        rows.append({"block_cols": bc, "seconds": times[str(bc)], "accesses": counts.accesses, "sim_n": sim_n})
    return {"n": n, "d": d, "block_rows": 64, "rows": rows}


def backward(n: int, d: int = 64) -> dict[str, Any]:
    """Claim 5: gradients from ``(O, lse)`` vs float64 naive; backward peak memory vs one N×N."""
    errors = {}
    for dtype in (np.float32, np.float64):
        q, k, v, go = _qkv(min(n, 1024), d, dtype, seed=3, count=4)
        o, lse = attention_forward(q, k, v, None, False, 1 / math.sqrt(d))
        got = attention_backward(q, k, v, None, False, 1 / math.sqrt(d), o, lse, go)
        ref = naive_backward(*(a.astype(np.float64) for a in (q, k, v, go)))
        errors[np.dtype(dtype).name] = [
            float(np.abs(g - r).max() / np.abs(r).max()) for g, r in zip(got, ref, strict=True)
        ]
    q, k, v, go = _qkv(n, d, count=4)
    o, lse = attention_forward(q, k, v, None, False, 1 / math.sqrt(d))
    peak = peak_bytes(lambda: attention_backward(q, k, v, None, False, 1 / math.sqrt(d), o, lse, go)) - 3 * q.nbytes
    return {"n": n, "d": d, "relative_error": errors, "outputs": ["dq", "dk", "dv"],
            "backward_peak_extra_bytes": peak, "n_by_n_float32_bytes": n * n * 4}  # fmt: skip


def _speed_row(n: int, d: int, repeats: int, torch: Any) -> dict[str, Any]:
    q, k, v = _qkv(n, d)
    scale = 1 / math.sqrt(d)
    fns: dict[str, Callable[[], Any]] = {
        "flash": lambda: attention_forward(q, k, v, None, False, scale),
        "naive": lambda: naive_forward(q, k, v),
    }
    if torch is not None:
        tq, tk, tv = (torch.from_numpy(a) for a in (q, k, v))
        fns["torch_sdpa"] = lambda: torch.nn.functional.scaled_dot_product_attention(tq, tk, tv)
    return {"n": n, **interleaved(fns, repeats)}


def speed(sizes: Sequence[int], d: int = 64, repeats: int = 5, torch: Any = None) -> dict[str, Any]:
    """Claim 6: median forward seconds of flash, naive NumPy and (if given) torch SDPA, per N."""
    return {"d": d, "dtype": "float32", "rows": [_speed_row(n, d, repeats, torch) for n in sizes]}
