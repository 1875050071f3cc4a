"""Softmax, log-softmax, LayerNorm and RMSNorm kernels vs the composed formulas (float64 references)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

SHAPES = [(1, 1), (3, 7), (17, 255), (5, 257), (64, 1000), (2, 4099)]


@pytest.mark.parametrize("shape", SHAPES)
def test_softmax_forward_backward(kernels, ref, rng, dtype, tol, shape) -> None:
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    y = kernels["nn.softmax_forward", "cpu"](x)
    assert y.dtype == dtype and y.shape == shape
    np.testing.assert_allclose(y, ref.softmax(x.astype(np.float64)), **tol)
    gy = rng.standard_normal(shape).astype(dtype)
    gx = kernels["nn.softmax_backward", "cpu"](y, gy)
    y64 = y.astype(np.float64)
    expected = y64 * (gy - (gy * y64).sum(-1, keepdims=True))
    np.testing.assert_allclose(gx, expected, **tol)


@pytest.mark.parametrize("shape", SHAPES)
def test_log_softmax_forward_backward(kernels, ref, rng, dtype, tol, shape) -> None:
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    y = kernels["nn.log_softmax_forward", "cpu"](x)
    np.testing.assert_allclose(y, ref.log_softmax(x.astype(np.float64)), **tol)
    gy = rng.standard_normal(shape).astype(dtype)
    gx = kernels["nn.log_softmax_backward", "cpu"](y, gy)
    expected = gy - np.exp(y.astype(np.float64)) * gy.sum(-1, keepdims=True, dtype=np.float64)
    np.testing.assert_allclose(gx, expected, **tol)


def test_softmax_extreme_and_masked_rows(kernels, dtype) -> None:
    x = np.array(
        [[1e4, 0.0, -1e4], [-np.inf, 0.0, 1.0], [-np.inf, -np.inf, -np.inf], [np.nan, 0.0, 1.0], [-90.0, 0.0, -700.0]],
        dtype=dtype,
    )
    with np.errstate(invalid="ignore"):
        y = kernels["nn.softmax_forward", "cpu"](x)
        e = np.exp(x - x.max(-1, keepdims=True))
        expected = e / e.sum(-1, keepdims=True)
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-30, equal_nan=True)
    assert y[1, 0] == 0.0  # a masked (-inf) entry gets exactly 0
    assert np.isnan(y[2]).all() and np.isnan(y[3]).all()  # as the composed version: NaN rows stay NaN
    assert np.isfinite(kernels["nn.log_softmax_forward", "cpu"](x[:2])).sum() == 5


def test_kernels_return_new_arrays_and_accept_strided_input(kernels, rng) -> None:
    base = rng.standard_normal((6, 10))
    x = base[:, ::2]  # not contiguous
    y = kernels["nn.softmax_forward", "cpu"](x)
    assert not np.shares_memory(y, base)
    np.testing.assert_allclose(y, kernels["nn.softmax_forward", "cpu"](np.ascontiguousarray(x)), rtol=0, atol=0)


def test_row_kernels_reject_non_2d(kernels) -> None:
    with pytest.raises(ValueError, match=r"2-D \(rows, n\) array, got shape \(4,\)"):
        kernels["nn.softmax_forward", "cpu"](np.zeros(4))


@pytest.mark.parametrize("shape", [(1, 1), (3, 7), (9, 255), (4, 257), (33, 1031)])
@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm(kernels, ref, rng, dtype, tol, shape, affine) -> None:
    x = (rng.standard_normal(shape) * 3 + 50).astype(dtype)  # a large mean: no E[x²]-E[x]² cancellation allowed
    n = shape[1]
    w = rng.standard_normal(n).astype(dtype) if affine else None
    b = rng.standard_normal(n).astype(dtype) if affine else None
    y, mean, rstd = kernels["nn.layer_norm_forward", "cpu"](x, w, b, 1e-5)
    w64 = np.ones(n) if w is None else w.astype(np.float64)
    b64 = np.zeros(n) if b is None else b.astype(np.float64)
    ey, emean, erstd = ref.layer_norm(x.astype(np.float64), w64, b64, 1e-5)
    scale = {"rtol": tol["rtol"], "atol": tol["atol"] * 100}  # normalised values of a mean-50 row lose ~2 digits in f32
    np.testing.assert_allclose(y, ey, **scale)
    np.testing.assert_allclose(mean, emean, **tol)
    np.testing.assert_allclose(rstd, erstd, rtol=tol["rtol"] * 10)
    gy = rng.standard_normal(shape).astype(dtype)
    gx, gw, gb = kernels["nn.layer_norm_backward", "cpu"](gy, x, mean, rstd, w)
    egx, egw, egb = ref.layer_norm_backward(gy.astype(np.float64), x.astype(np.float64), w64, 1e-5)
    np.testing.assert_allclose(gx, egx, rtol=tol["rtol"] * 10, atol=tol["atol"] * 100)
    if affine:
        np.testing.assert_allclose(gw, egw, rtol=tol["rtol"] * 10, atol=tol["atol"] * 100)
        np.testing.assert_allclose(gb, egb, **scale)
    else:
        assert gw is None and gb is None


@pytest.mark.parametrize("shape", [(1, 1), (5, 33), (17, 256), (3, 1025)])
@pytest.mark.parametrize("affine", [True, False])
def test_rms_norm(kernels, ref, rng, dtype, tol, shape, affine) -> None:
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(shape[1]).astype(dtype) if affine else None
    y, rstd = kernels["nn.rms_norm_forward", "cpu"](x, w, 1e-6)
    w64 = np.ones(shape[1]) if w is None else w.astype(np.float64)
    ey, erstd = ref.rms_norm(x.astype(np.float64), w64, 1e-6)
    np.testing.assert_allclose(y, ey, **tol)
    np.testing.assert_allclose(rstd, erstd, **tol)
    gy = rng.standard_normal(shape).astype(dtype)
    gx, gw = kernels["nn.rms_norm_backward", "cpu"](gy, x, rstd, w)
    egx, egw = ref.rms_norm_backward(gy.astype(np.float64), x.astype(np.float64), w64, 1e-6)
    np.testing.assert_allclose(gx, egx, rtol=tol["rtol"] * 10, atol=tol["atol"] * 10)
    if affine:
        np.testing.assert_allclose(gw, egw, rtol=tol["rtol"] * 10, atol=tol["atol"] * 10)
    else:
        assert gw is None


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(1, 40), n=st.integers(1, 600), seed=st.integers(0, 2**16))
def test_row_kernels_on_random_shapes(kernels, ref, rows, n, seed) -> None:
    x = np.random.default_rng(seed).standard_normal((rows, n)) * 5
    np.testing.assert_allclose(kernels["nn.softmax_forward", "cpu"](x), ref.softmax(x), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(kernels["nn.log_softmax_forward", "cpu"](x), ref.log_softmax(x), rtol=1e-10, atol=1e-12)
    y, _, _ = kernels["nn.layer_norm_forward", "cpu"](x, None, None, 1e-5)
    expected, _, _ = ref.layer_norm(x, np.ones(n), np.zeros(n), 1e-5)
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("n", [1, 15, 16, 17, 1000])
def test_exp_shifted_mixed_shift_dtype_and_in_place(dtype, n) -> None:
    """The shared row exponential (also used by the attention kernel) with a float64 shift, in place."""
    numba = pytest.importorskip("numba")
    from hyperion.kernels.cpu._rowmath import FASTMATH, exp_shifted, row_max

    @numba.njit(fastmath=FASTMATH)
    def run(x, shift):  # noqa: ANN001, ANN202 - jitted
        out = x.copy()
        total = exp_shifted(out, shift, out)
        return out, total, row_max(x)

    x = (np.random.default_rng(n).standard_normal(n) * 10).astype(dtype)
    x[0] = -np.inf if n > 1 else x[0]  # a masked entry (the shift itself must stay finite)
    out, total, peak = run(x, float(x.max()))
    expected = np.exp(x.astype(np.float64) - float(x.max()))
    rtol = 5e-6 if dtype == np.float32 else 1e-14  # float32: x - shift itself is rounded (|x - shift| ~ 50)
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=1e-30)
    np.testing.assert_allclose(total, expected.sum(), rtol=rtol)
    assert (out[0] == 0.0 or n == 1) and peak == x.max()
