"""The FlashAttention reproduction's claims that CI can check at small sizes.

Claim 1 (exactness, float16): the tiled algorithm's error against float64 is at most twice
the naive float16 computation's, forward and backward, causal and not. Claim 5: gradients
recomputed from the saved statistics equal the naive gradients, without an N×N allocation.
Claim 3's simulator: counts follow the closed forms of Algorithms 0 and 1.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from hyperion.kernels.cpu.attention_fp16 import attention_float64, flash_float16, naive_float16
from hyperion.kernels.cpu.io_model import (
    FastMemoryOverflow,
    TwoLevelMemory,
    flash_attention,
    flash_blocks,
    standard_attention,
)


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("n", [64, 200])
def test_claim1_float16_error_at_most_twice_naive(n, causal):  # noqa: ANN001, ANN201
    rng = np.random.default_rng(n + causal)
    q, k, v, go = (rng.standard_normal((n, 32)).astype(np.float16) for _ in range(4))
    ref = attention_float64(q, k, v, go, causal)
    naive = naive_float16(q, k, v, go, causal)
    flash = flash_float16(q, k, v, go, causal, block=32)
    for name, f, nv, r in zip(("o", "dq", "dk", "dv"), flash, naive, ref, strict=True):
        assert f.dtype == np.float16 and f.shape == r.shape
        flash_err = np.abs(f.astype(np.float64) - r).max()
        naive_err = np.abs(nv.astype(np.float64) - r).max()
        assert 0 < naive_err and flash_err <= 2 * naive_err, (name, flash_err, naive_err)


def test_claim1_float16_simulation_really_rounds():  # noqa: ANN201
    rng = np.random.default_rng(0)
    q, k, v, go = (rng.standard_normal((48, 16)).astype(np.float16) for _ in range(4))
    ref = attention_float64(q, k, v, go, False)
    flash = flash_float16(q, k, v, go, False, block=16)
    err = np.abs(flash[0].astype(np.float64) - ref[0]).max()
    assert 1e-6 < err < 5e-3  # float16 rounding, not float64 and not garbage


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_claim5_backward_from_saved_statistics(dtype):  # noqa: ANN001, ANN201
    pytest.importorskip("numba")
    from hyperion.kernels.cpu.attention import attention_backward, attention_forward

    rng = np.random.default_rng(5)
    n, d = 96, 16
    q, k, v, go = (rng.standard_normal((1, n, d)).astype(dtype) for _ in range(4))
    scale = 1 / math.sqrt(d)
    o, lse = attention_forward(q, k, v, None, True, scale, block_rows=16, block_cols=32)
    # Only q, k, v, o, lse and go reach the backward: nothing of size N×N was kept.
    gq, gk, gv = attention_backward(q, k, v, None, True, scale, o, lse, go, block_rows=16, block_cols=32)
    _, rq, rk, rv = attention_float64(q[0], k[0], v[0], go[0], True)
    tol = 1e-5 if dtype == np.float32 else 1e-10
    for got, want in ((gq, rq), (gk, rk), (gv, rv)):
        assert np.abs(got[0] - want).max() <= tol * np.abs(want).max()


def test_claim5_backward_allocates_no_n_by_n_matrix():  # noqa: ANN201
    pytest.importorskip("numba")
    from hyperion.kernels.cpu.attention import attention_backward, attention_forward

    rng = np.random.default_rng(6)
    n, d = 2048, 8
    q, k, v, go = (rng.standard_normal((1, n, d)).astype(np.float32) for _ in range(4))
    blocks = {"block_rows": 32, "block_cols": 64}
    o, lse = attention_forward(q, k, v, None, False, 0.3, **blocks)
    attention_backward(q, k, v, None, False, 0.3, o, lse, go, **blocks)
    tracemalloc.start()
    try:
        attention_backward(q, k, v, None, False, 0.3, o, lse, go, **blocks)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < n * n * 4 / 16, peak  # a sixteenth of one float32 N×N matrix


def test_simulator_counts_match_the_closed_forms():  # noqa: ANN201
    rng = np.random.default_rng(7)
    n, d, m = 128, 8, 512
    q, k, v = (rng.standard_normal((n, d)) for _ in range(3))
    o, counts = flash_attention(q, k, v, m)
    br, bc = flash_blocks(m, n, d)
    tc, tr = math.ceil(n / bc), math.ceil(n / br)
    # K_j, V_j once; per (j, i): Q_i, O_i, l_i, m_i read and O_i, l_i, m_i written (partial blocks summed exactly).
    assert counts.reads == 2 * n * d + tc * (2 * n * d + 2 * n)
    assert counts.writes == tc * (n * d + 2 * n)
    assert counts.peak_fast <= m and tr >= 1
    s = q @ k.T / math.sqrt(d)
    p = np.exp(s - s.max(1, keepdims=True))
    np.testing.assert_allclose(o, (p / p.sum(1, keepdims=True)) @ v, rtol=1e-12, atol=1e-12)
    o_std, std = standard_attention(q, k, v, m)
    np.testing.assert_allclose(o_std, o, rtol=1e-12, atol=1e-12)
    assert std.writes >= 2 * n * n and std.reads >= 2 * n * n  # S and P each go to slow memory and back
    assert counts.accesses < std.accesses


def test_simulator_scaling_with_memory():  # noqa: ANN201
    rng = np.random.default_rng(8)
    q, k, v = (rng.standard_normal((256, 16)) for _ in range(3))
    small = flash_attention(q, k, v, 1024)[1].accesses
    large = flash_attention(q, k, v, 4096)[1].accesses
    assert 2.5 < small / large < 6  # Θ(1/M): four times the memory, about a quarter of the traffic


def test_simulator_refuses_overflow():  # noqa: ANN201
    mem = TwoLevelMemory(10)
    mem.load("a", np.zeros(6))
    with pytest.raises(FastMemoryOverflow, match="M = 10"):
        mem.load("b", np.zeros(5))
    mem.free("a")
    mem.load("b", np.zeros(5))
    assert mem.counts.reads == 11 and mem.counts.peak_fast == 6
    with pytest.raises(ValueError, match="cannot hold"):
        flash_blocks(10, 64, 8)
