"""GELU, cross-entropy, im2col/col2im and AdamW kernels vs the composed formulas."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("shape", [(1,), (7, 3), (2, 3, 4, 5), (40001,)])
def test_gelu(kernels, ref, rng, dtype, tol, approximate, shape) -> None:
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    y = kernels["nn.gelu_forward", "cpu"](x, approximate)
    assert y.shape == shape and y.dtype == dtype
    x64 = x.astype(np.float64)
    np.testing.assert_allclose(y, ref.gelu(x64, approximate), **tol)
    gy = rng.standard_normal(shape).astype(dtype)
    gx = kernels["nn.gelu_backward", "cpu"](x, gy, approximate)
    np.testing.assert_allclose(gx, gy * ref.gelu_grad(x64, approximate), **tol)


def test_gelu_derivative_matches_finite_differences(kernels, rng) -> None:
    x = rng.standard_normal(50) * 3
    for approximate in ("none", "tanh"):
        h = 1e-6
        fd = (kernels["nn.gelu_forward", "cpu"](x + h, approximate) - kernels["nn.gelu_forward", "cpu"](x - h, approximate)) / (2 * h)
        np.testing.assert_allclose(kernels["nn.gelu_backward", "cpu"](x, np.ones_like(x), approximate), fd, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_gelu_tanh_at_extremes_matches_the_composed_formula(kernels, ref, dt) -> None:
    """Through ``x·σ(2u)``: inf/NaN as the composed formula gives them; where ``e^{-2u}`` overflows, 0."""
    big = 10.0 if dt == np.float32 else 24.0  # around where -2u crosses the exponential's largest argument
    x = np.concatenate([[np.inf, -np.inf, np.nan, 0.0, -0.0, 1e30, -1e30], np.linspace(-big - 2, -big + 2, 401)]).astype(dt)
    gy = np.ones_like(x)
    with np.errstate(all="ignore"):
        expected = ref.gelu(x.astype(np.float64), "tanh")
        expected_grad = ref.gelu_grad(x.astype(np.float64), "tanh")
    y = kernels["nn.gelu_forward", "cpu"](x, "tanh")
    gx = kernels["nn.gelu_backward", "cpu"](x, gy, "tanh")
    np.testing.assert_array_equal(np.isnan(y), np.isnan(expected))
    np.testing.assert_array_equal(np.isnan(gx), np.isnan(expected_grad))
    # Far left the composed tanh rounds to -1 (y = -0) while x·σ(2u) keeps the tiny true value:
    # compare y on the scale of x (|y| <= |x|) and the slope on its own scale (1).
    finite = np.isfinite(x) & np.isfinite(expected)
    err = np.abs(y[finite] - expected[finite])
    assert np.all(err <= 1e-6 * np.abs(expected[finite]) + 1e-7 * np.abs(x[finite])), err.max()
    np.testing.assert_array_equal(y[~finite], expected[~finite].astype(dt))
    np.testing.assert_allclose(gx, expected_grad.astype(dt), rtol=1e-6, atol=1e-7)


def test_gelu_exact_float32_tail_is_within_its_stated_error(kernels) -> None:
    """float32 exact GELU goes through erfc(z) ≈ t·exp(-z² + P(t)): relative error < 1.2e-7, plus rounding."""
    import math

    x = np.concatenate([np.linspace(-40, 40, 400_001), [np.inf, -np.inf, np.nan, 0.0, -0.0, 1e30, -1e30]]).astype(np.float32)
    x64 = x.astype(np.float64)
    with np.errstate(all="ignore"):
        phi = np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) if not math.isnan(v) else math.nan for v in x64])
        expected = x64 * phi
        expected_grad = phi + x64 * np.exp(-0.5 * x64 * x64) / math.sqrt(2.0 * math.pi)
        y = kernels["nn.gelu_forward", "cpu"](x, "none")
        gx = kernels["nn.gelu_backward", "cpu"](x, np.ones_like(x), "none")
    np.testing.assert_array_equal(np.isnan(y), np.isnan(expected))
    np.testing.assert_array_equal(np.isnan(gx), np.isnan(expected_grad))
    finite = np.isfinite(expected)
    err = np.abs(y[finite] - expected[finite])
    assert np.all(err <= 2e-7 * np.abs(expected[finite]) + 1e-44), err.max()  # 1e-44: float32 subnormals
    np.testing.assert_array_equal(y[~finite & ~np.isnan(expected)], expected[~finite & ~np.isnan(expected)])
    np.testing.assert_allclose(gx, expected_grad.astype(np.float32), rtol=2e-7, atol=1e-7)


def test_gelu_rejects_unknown_mode(kernels) -> None:
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh', got 'fast'"):
        kernels["nn.gelu_forward", "cpu"](np.zeros(3), "fast")


@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (33, 1000), (7, 4097)])
def test_cross_entropy(kernels, ref, rng, dtype, tol, shape) -> None:
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    target = rng.integers(0, shape[1], shape[0])
    target[::3] = -100
    loss, lse = kernels["nn.cross_entropy_forward", "cpu"](x, target, -100)
    eloss, else_ = ref.cross_entropy(x.astype(np.float64), target, -100)
    np.testing.assert_allclose(loss, eloss, **tol)
    np.testing.assert_allclose(lse, else_, **tol)
    assert np.all(loss[::3] == 0)
    grow = rng.standard_normal(shape[0])
    g = kernels["nn.cross_entropy_backward", "cpu"](x, target, lse, grow, -100)
    np.testing.assert_allclose(g, ref.cross_entropy_backward(x.astype(np.float64), target, grow, -100), **tol)
    assert np.all(g[::3] == 0)


def test_cross_entropy_checks_targets(kernels) -> None:
    with pytest.raises(IndexError, match="target 5 is out of bounds for 3 classes"):
        kernels["nn.cross_entropy_forward", "cpu"](np.zeros((2, 3)), np.array([0, 5]), -100)


CONV_CASES = [
    # (N, C, H, W), kh, kw, sh, sw, ph, pw, dh, dw
    ((1, 1, 4, 4), 3, 3, 1, 1, 0, 0, 1, 1),
    ((2, 3, 7, 6), 3, 2, 2, 1, 1, 0, 1, 2),
    ((2, 2, 9, 11), 2, 3, 3, 2, 2, 1, 2, 1),
    ((3, 4, 5, 5), 1, 1, 1, 1, 0, 0, 1, 1),
    ((1, 2, 8, 8), 5, 5, 1, 1, 2, 2, 1, 1),
]


@pytest.mark.parametrize("case", CONV_CASES)
def test_im2col_and_col2im(kernels, ref, rng, dtype, case) -> None:
    shape, *args = case
    x = rng.standard_normal(shape).astype(dtype)
    cols = kernels["nn.im2col", "cpu"](x, *args)
    np.testing.assert_array_equal(cols, ref.im2col(x, *args))  # a copy: bit-exact
    r = rng.standard_normal(cols.shape)
    back = kernels["nn.col2im", "cpu"](r, shape, *args)
    # col2im is the adjoint of im2col: <im2col(x), r> = <x, col2im(r)>.
    np.testing.assert_allclose((ref.im2col(x.astype(np.float64), *args) * r).sum(), (x * back).sum(), rtol=1e-10)


def test_col2im_shape_error(kernels) -> None:
    with pytest.raises(ValueError, match=r"do not fit x_shape \(1, 1, 4, 4\)"):
        kernels["nn.col2im", "cpu"](np.zeros((1, 9, 5)), (1, 1, 4, 4), 3, 3, 1, 1, 0, 0, 1, 1)


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("maximize", [False, True])
def test_adamw_matches_the_algorithm(kernels, ref, rng, amsgrad, maximize) -> None:
    shape = (37, 5)
    p, m, v = rng.standard_normal(shape), np.zeros(shape), np.zeros(shape)
    vmax = np.zeros(shape) if amsgrad else None
    expected = (p.copy(), m.copy(), v.copy(), np.zeros(shape))
    for step in range(1, 4):
        g = rng.standard_normal(shape)
        kernels["nn.adamw_step", "cpu"](p, g, m, v, vmax, step, 0.01, 0.9, 0.999, 1e-8, 0.1, amsgrad, maximize)
        expected = ref.adamw(expected[0], g, expected[1], expected[2], expected[3], step, 0.01, 0.9, 0.999, 1e-8, 0.1, amsgrad, maximize)
    np.testing.assert_allclose(p, expected[0], rtol=1e-12)
    np.testing.assert_allclose(m, expected[1], rtol=1e-12)
    np.testing.assert_allclose(v, expected[2], rtol=1e-12)


def test_adamw_updates_strided_arrays_in_place(kernels, rng) -> None:
    base = rng.standard_normal((4, 6))
    p = base[:, ::2]
    before = p.copy()
    m, v = np.zeros_like(before), np.zeros_like(before)
    kernels["nn.adamw_step", "cpu"](p, np.ones_like(before), m, v, None, 1, 0.1, 0.9, 0.999, 1e-8, 0.0, False, False)
    np.testing.assert_allclose(base[:, ::2], before - 0.1, rtol=1e-6)


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(1, 3), c=st.integers(1, 3), h=st.integers(3, 9), w=st.integers(3, 9),
    k=st.integers(1, 3), s=st.integers(1, 3), p=st.integers(0, 1), d=st.integers(1, 2),
)  # fmt: skip
def test_im2col_random_geometry(kernels, ref, n, c, h, w, k, s, p, d) -> None:
    if d * (k - 1) + 1 > min(h, w) + 2 * p:
        return
    x = np.random.default_rng(n * 100 + h).standard_normal((n, c, h, w))
    np.testing.assert_array_equal(kernels["nn.im2col", "cpu"](x, k, k, s, s, p, p, d, d), ref.im2col(x, k, k, s, s, p, p, d, d))
