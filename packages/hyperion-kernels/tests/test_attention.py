"""The flash attention kernels against a float64 reference: masks, causal, partial tiles, dtypes."""

from __future__ import annotations

import importlib.util
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("numba")

from hyperion.kernels.cpu.attention import KERNELS, attention_backward, attention_forward  # noqa: E402
from hyperion.kernels.cpu.attention_tiles import block_sizes  # noqa: E402
from hyperion.tensor.errors import DTypeError, ShapeError  # noqa: E402

_spec = importlib.util.spec_from_file_location(
    "attention_reference", Path(__file__).with_name("attention_reference.py")
)
_ref_module = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _ref_module
_spec.loader.exec_module(_ref_module)
reference = _ref_module.reference

TOL = {np.float32: 1e-5, np.float64: 1e-10}


def relative_error(got: np.ndarray, want: np.ndarray) -> float:
    """Largest error relative to the largest magnitude of the reference (0 for two zero arrays)."""
    scale = float(np.abs(want).max(initial=0.0))
    err = float(np.abs(got.astype(np.float64) - want).max(initial=0.0))
    return err / scale if scale > 0 else err


def run_case(rng, dtype, b, length, source, e, ev, causal, mask=None, blocks=(16, 16)):  # noqa: ANN001, ANN201
    q = rng.standard_normal((b, length, e)).astype(dtype)
    k = rng.standard_normal((b, source, e)).astype(dtype)
    v = rng.standard_normal((b, source, ev)).astype(dtype)
    go = rng.standard_normal((b, length, ev)).astype(dtype)
    scale = 1.0 / np.sqrt(e)
    kw = {"block_rows": blocks[0], "block_cols": blocks[1]}
    o, lse = attention_forward(q, k, v, mask, causal, scale, **kw)
    grads = attention_backward(q, k, v, mask, causal, scale, o, lse, go, **kw)
    want = reference(q, k, v, mask, causal, scale, go)
    assert o.dtype == dtype and lse.dtype == np.float64 and all(g.dtype == dtype for g in grads)
    tol = TOL[dtype]
    for name, got, ref in zip(("o", "gq", "gk", "gv"), (o, *grads), (want[0], *want[2:]), strict=True):
        assert got.shape == ref.shape, name
        assert relative_error(got, ref) <= tol, (name, relative_error(got, ref))
    np.testing.assert_array_equal(np.isneginf(lse), np.isneginf(want[1]))
    finite = np.isfinite(want[1])
    np.testing.assert_allclose(lse[finite], want[1][finite], rtol=tol, atol=tol)
    return o, lse, grads


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("causal", [False, True])
def test_partial_tiles_and_unequal_lengths(dtype, causal):  # noqa: ANN001, ANN201
    rng = np.random.default_rng(1)
    run_case(rng, dtype, 2, 37, 53, 7, 5, causal)  # L != S, nothing divides 16
    run_case(rng, dtype, 1, 53, 20, 9, 11, causal)  # L > S


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_padding_mask_with_fully_masked_rows(dtype):  # noqa: ANN001, ANN201
    rng = np.random.default_rng(2)
    mask = rng.random((2, 29, 35)) < 0.6
    mask[0, 3, :] = False  # a fully masked row: o = 0, lse = -inf, zero gradients
    mask[1, :, 16:32] = False  # a whole key tile masked for every row
    o, lse, (gq, _, _) = run_case(rng, dtype, 2, 29, 35, 6, 4, False, mask)
    assert np.all(o[0, 3] == 0) and lse[0, 3] == -np.inf and np.all(gq[0, 3] == 0)


def test_broadcast_mask_with_zero_strides():  # noqa: ANN201
    rng = np.random.default_rng(3)
    keys = rng.random(40) < 0.7
    keys[:3] = True
    mask = np.broadcast_to(keys, (3, 21, 40))  # key padding mask, never materialised
    assert mask.strides[:2] == (0, 0)
    run_case(rng, np.float64, 3, 21, 40, 8, 8, False, mask)


def test_causal_with_padding_equals_combined_mask():  # noqa: ANN201
    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal((1, 24, 5)) for _ in range(3))
    mask = rng.random((1, 24, 24)) < 0.8
    both = mask & np.tril(np.ones((24, 24), dtype=bool))
    o1, l1 = attention_forward(q, k, v, both, False, 0.4, block_rows=16, block_cols=16)
    o2, l2 = attention_forward(q, k, v, mask, True, 0.4, block_rows=16, block_cols=16)
    np.testing.assert_allclose(o1, o2, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(l1, l2, rtol=1e-12)


def test_default_blocks_match_small_blocks():  # noqa: ANN201
    rng = np.random.default_rng(5)
    q, k, v = (rng.standard_normal((2, 300, 16)) for _ in range(3))
    small = attention_forward(q, k, v, None, True, 0.25, block_rows=16, block_cols=16)[0]
    default = attention_forward(q, k, v, None, True, 0.25)[0]
    np.testing.assert_allclose(small, default, rtol=1e-12, atol=1e-12)
    br, bc = block_sizes(16, 16, 8)
    assert 16 <= br <= 256 and 16 <= bc <= 1024


@settings(max_examples=12, deadline=None)
@given(
    b=st.integers(1, 3),
    length=st.integers(1, 40),
    source=st.integers(1, 40),
    e=st.integers(1, 12),
    ev=st.integers(1, 12),
    causal=st.booleans(),
    masked=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_random_shapes(b, length, source, e, ev, causal, masked, seed):  # noqa: ANN001, ANN201
    rng = np.random.default_rng(seed)
    mask = rng.random((b, length, source)) < 0.7 if masked else None
    run_case(rng, np.float64, b, length, source, e, ev, causal, mask)


def test_parity_with_torch():  # noqa: ANN201
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    q, k, v = (rng.standard_normal((2, 19, 8)) for _ in range(3))
    tq, tk, tv = (torch.tensor(x, requires_grad=True) for x in (q, k, v))
    out = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=True)
    go = rng.standard_normal(out.shape)
    out.backward(torch.from_numpy(go))
    o, lse = attention_forward(q, k, v, None, True, 1 / np.sqrt(8), block_rows=16, block_cols=16)
    grads = attention_backward(q, k, v, None, True, 1 / np.sqrt(8), o, lse, go, block_rows=16, block_cols=16)
    np.testing.assert_allclose(o, out.detach().numpy(), rtol=1e-10, atol=1e-12)
    for got, t in zip(grads, (tq, tk, tv), strict=True):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_gradient_matches_finite_differences():  # noqa: ANN201
    rng = np.random.default_rng(7)
    q, k, v = (rng.standard_normal((1, 6, 3)) for _ in range(3))
    go = rng.standard_normal((1, 6, 3))
    mask = rng.random((1, 6, 6)) < 0.8
    mask[:, :, 0] = True

    def loss(q_, k_, v_):  # noqa: ANN001, ANN202
        return float((attention_forward(q_, k_, v_, mask, False, 0.7)[0] * go).sum())

    o, lse = attention_forward(q, k, v, mask, False, 0.7)
    grads = attention_backward(q, k, v, mask, False, 0.7, o, lse, go)
    h = 1e-6
    for which, grad in enumerate(grads):
        direction = rng.standard_normal(grad.shape)
        args = [q, k, v]
        plus = [a + h * direction if n == which else a for n, a in enumerate(args)]
        minus = [a - h * direction if n == which else a for n, a in enumerate(args)]
        numeric = (loss(*plus) - loss(*minus)) / (2 * h)
        assert abs(numeric - float((grad * direction).sum())) < 1e-7 * max(1.0, abs(numeric))


def test_no_quadratic_allocation():  # noqa: ANN201
    rng = np.random.default_rng(8)
    n, d = 1024, 16
    blocks = {"block_rows": 32, "block_cols": 64}  # tiles of 8 KiB, so that O(N·d) shows at a small N
    q, k, v = (rng.standard_normal((1, n, d), dtype=np.float32) for _ in range(3))
    go = rng.standard_normal((1, n, d), dtype=np.float32)
    o, lse = attention_forward(q, k, v, None, False, 0.25, **blocks)  # compile outside the measurement
    attention_backward(q, k, v, None, False, 0.25, o, lse, go, **blocks)
    tracemalloc.start()
    try:
        o, lse = attention_forward(q, k, v, None, False, 0.25, **blocks)
        attention_backward(q, k, v, None, False, 0.25, o, lse, go, **blocks)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < n * n * 4 / 8, peak  # an eighth of one float32 N×N matrix (4 MiB)


def test_errors_name_the_problem():  # noqa: ANN201
    a = np.zeros((1, 4, 3))
    with pytest.raises(ShapeError, match="feature"):
        attention_forward(a, np.zeros((1, 4, 2)), a, None, False, 1.0)
    with pytest.raises(DTypeError, match="float32"):
        attention_forward(a.astype(np.float32), a, a, None, False, 1.0)
    with pytest.raises(ShapeError, match=r"\(1, 4, 4\)"):
        attention_forward(a, a, a, np.ones((1, 4, 3), dtype=bool), False, 1.0)
    with pytest.raises(ShapeError, match="lse"):
        attention_backward(a, a, a, None, False, 1.0, a, np.zeros((1, 5)), a)


def test_kernels_table():  # noqa: ANN201
    assert KERNELS[("nn.attention_forward", "cpu")] is attention_forward
    assert KERNELS[("nn.attention_backward", "cpu")] is attention_backward
