"""The short-sequence attention path agrees with the flash kernels, and the provider picks by size."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("numba")
pytest.importorskip("scipy")

from hyperion.kernels.cpu import attention as flash  # noqa: E402
from hyperion.kernels.cpu import attention_dense  # noqa: E402

TOL = {np.float32: 2e-5, np.float64: 1e-11}


def _inputs(rng, dtype, b, length, source, e, ev, masked):  # noqa: ANN001, ANN202
    q = rng.standard_normal((b, length, e)).astype(dtype)
    k = rng.standard_normal((b, source, e)).astype(dtype)
    v = rng.standard_normal((b, source, ev)).astype(dtype)
    go = rng.standard_normal((b, length, ev)).astype(dtype)
    mask = None
    if masked:
        mask = rng.random((b, length, source)) < 0.7
        mask[:, 0, :] = False  # one fully masked query row per batch entry
    return q, k, v, go, mask


def _close(got: np.ndarray, want: np.ndarray, dtype: type) -> None:
    # Relative to the largest magnitude, with a floor of 1: the inputs are standard normal, so an
    # exactly cancelling gradient (0 one way, 1e-11 the other) must not count as a relative error.
    scale = max(float(np.abs(want).max(initial=0.0)), 1.0)
    assert float(np.abs(got.astype(np.float64) - want.astype(np.float64)).max(initial=0.0)) / scale <= TOL[dtype]


@settings(max_examples=25, deadline=None)
@given(
    dtype=st.sampled_from([np.float32, np.float64]),
    b=st.integers(1, 3),
    length=st.integers(1, 40),
    source=st.integers(1, 40),
    e=st.integers(1, 9),
    ev=st.integers(1, 9),
    causal=st.booleans(),
    masked=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_dense_matches_flash(dtype, b, length, source, e, ev, causal, masked, seed) -> None:  # noqa: ANN001
    if causal and masked:
        masked = False  # the ABI takes one or the other
    q, k, v, go, mask = _inputs(np.random.default_rng(seed), dtype, b, length, source, e, ev, masked)
    o_d, lse_d = attention_dense.dense_forward(q, k, v, mask, causal, 0.37)
    o_f, lse_f = flash.attention_forward(q, k, v, mask, causal, 0.37)
    _close(o_d, o_f, dtype)
    assert lse_d.dtype == np.float64
    assert np.array_equal(np.isinf(lse_d), np.isinf(lse_f))
    finite = np.isfinite(lse_f)
    np.testing.assert_allclose(lse_d[finite], lse_f[finite], rtol=TOL[dtype] * 10, atol=TOL[dtype] * 10)
    grads_d = attention_dense.dense_backward(q, k, v, mask, causal, 0.37, o_f, lse_f, go)
    grads_f = flash.attention_backward(q, k, v, mask, causal, 0.37, o_f, lse_f, go)
    for got, want in zip(grads_d, grads_f, strict=True):
        _close(got, want, dtype)


def test_fully_masked_rows_are_zero() -> None:
    q, k, v, go, mask = _inputs(np.random.default_rng(0), np.float64, 2, 5, 6, 4, 3, True)
    o, lse = attention_dense.dense_forward(q, k, v, mask, False, 0.5)
    assert np.all(o[:, 0] == 0.0) and np.all(np.isneginf(lse[:, 0]))
    gq, gk, gv = attention_dense.dense_backward(q, k, v, mask, False, 0.5, o, lse, go)
    assert np.all(gq[:, 0] == 0.0) and np.isfinite(gk).all() and np.isfinite(gv).all()


def test_registered_pair_dispatches_by_size(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(attention_dense, "dense_forward", lambda *a: calls.append("dense") or ("o", "lse"))
    monkeypatch.setattr(flash, "attention_forward", lambda *a: calls.append("flash") or ("o", "lse"))
    small = np.zeros((1, 64, 8), np.float32)
    side = int(np.sqrt(attention_dense.DENSE_MAX_SCORES)) + 1
    large = np.zeros((1, side, 8), np.float32)
    attention_dense.attention_forward(small, small, small, None, True, 1.0)
    attention_dense.attention_forward(large, large, large, None, True, 1.0)
    assert calls == ["dense", "flash"]
    assert set(attention_dense.KERNELS) == {("nn.attention_forward", "cpu"), ("nn.attention_backward", "cpu")}


@pytest.mark.parametrize("length", [8, 200])  # the whole-matrix path and the flash path
@pytest.mark.parametrize("where", ["q", "k", "v", "go"])
def test_non_finite_inputs_follow_the_reference(where, length) -> None:
    """A NaN (or inf) anywhere goes to the registered reference, which propagates it like PyTorch."""
    import hyperion.nn  # noqa: F401 - registers the references
    from hyperion.tensor import registry

    rng = np.random.default_rng(7)
    q, k, v, go, mask = _inputs(rng, np.float32, 2, length, length, 8, 8, masked=False)
    arrays = {"q": q, "k": k, "v": v, "go": go}
    arrays[where][1, length // 2, 3] = np.nan
    arrays[where][0, 1, 0] = np.inf
    with registry.use_kernels("reference"):
        ref_f = registry.lookup("nn.attention_forward", "cpu")
        ref_b = registry.lookup("nn.attention_backward", "cpu")
    with np.errstate(all="ignore"):
        o, lse = attention_dense.attention_forward(q, k, v, None, True, 0.3)
        eo, else_ = ref_f(q, k, v, None, True, 0.3)
        grads = attention_dense.attention_backward(q, k, v, None, True, 0.3, eo, else_, go)
        expected = ref_b(q, k, v, None, True, 0.3, eo, else_, go)
    # Same NaN/inf positions; the finite values agree to float32 rounding (equal where the
    # reference itself ran, i.e. wherever a non-finite input was involved).
    np.testing.assert_allclose(o, eo, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(lse, else_, rtol=2e-5, atol=1e-6)
    assert np.isnan(o).any() or where == "go"
    for got, want in zip(grads, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)
        assert np.isnan(got).any() == np.isnan(want).any()
