"""LayerNorm kernels vs NumPy (forward, backward, parameter gradients)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba_cuda", reason="numba-cuda is not installed")

from hyperion.kernels.cuda.layernorm import KERNELS, layer_norm_backward, layer_norm_forward  # noqa: E402

pytestmark = pytest.mark.usefixtures("cuda_kernels")
EPS = 1e-5


def reference(x: np.ndarray, w: np.ndarray | None, b: np.ndarray | None, gy: np.ndarray) -> dict[str, np.ndarray]:
    x64 = x.astype(np.float64)
    mean = x64.mean(axis=1)
    rstd = 1.0 / np.sqrt(x64.var(axis=1) + EPS)
    xhat = (x64 - mean[:, None]) * rstd[:, None]
    y = xhat * (1.0 if w is None else w) + (0.0 if b is None else b)
    g = gy * (1.0 if w is None else w)
    gx = rstd[:, None] * (g - g.mean(axis=1, keepdims=True) - xhat * (g * xhat).mean(axis=1, keepdims=True))
    return {"y": y, "mean": mean, "rstd": rstd, "gx": gx, "gw": (gy * xhat).sum(axis=0), "gb": gy.sum(axis=0)}


@pytest.mark.parametrize(
    ("shape", "dtype", "affine", "threads"),
    [
        ((2, 37), np.float32, True, None),
        ((1, 100), np.float32, True, 64),  # strided loop: several columns per thread
        ((2, 5), np.float64, True, None),
        ((2, 37), np.float32, False, None),
    ],
)
def test_forward_backward_match_numpy(shape: tuple[int, int], dtype: type, affine: bool, threads: int | None) -> None:
    rng = np.random.default_rng(shape[1])
    x = (rng.standard_normal(shape) * 3 + 2).astype(dtype)
    w = rng.standard_normal(shape[1]).astype(dtype) if affine else None
    b = rng.standard_normal(shape[1]).astype(dtype) if affine else None
    gy = rng.standard_normal(shape).astype(dtype)
    ref = reference(x, w, b, gy)
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-12}
    y, mean, rstd = layer_norm_forward(x, w, b, EPS, threads=threads)
    assert y.dtype == mean.dtype == rstd.dtype == dtype
    np.testing.assert_allclose(y, ref["y"], **tol)
    np.testing.assert_allclose(mean, ref["mean"], **tol)
    np.testing.assert_allclose(rstd, ref["rstd"], **tol)
    gx, gw, gb = layer_norm_backward(gy, x, mean, rstd, w, threads=threads)
    np.testing.assert_allclose(gx, ref["gx"], **tol)
    if affine:
        np.testing.assert_allclose(gw, ref["gw"], **tol)
        np.testing.assert_allclose(gb, ref["gb"], **tol)
    else:
        assert gw is None and gb is None


def test_backward_matches_finite_differences() -> None:
    rng = np.random.default_rng(3)
    x, gy, direction = (rng.standard_normal((1, 7)) for _ in range(3))
    w = rng.standard_normal(7)
    h = 1e-6
    plus = layer_norm_forward(x + h * direction, w, None, EPS)[0]
    minus = layer_norm_forward(x - h * direction, w, None, EPS)[0]
    numeric = ((plus - minus) * gy).sum() / (2 * h)
    _, mean, rstd = layer_norm_forward(x, w, None, EPS)
    analytic = (layer_norm_backward(gy, x, mean, rstd, w)[0] * direction).sum()
    assert abs(numeric - analytic) < 1e-7


def test_large_offset_keeps_variance_accurate() -> None:
    # Welford: a naive E[x^2] - E[x]^2 in float32 would lose the variance here.
    x = (1e4 + np.random.default_rng(4).standard_normal((1, 33))).astype(np.float32)
    _, mean, rstd = layer_norm_forward(x, None, None, EPS)
    np.testing.assert_allclose(rstd, reference(x, None, None, x)["rstd"], rtol=1e-4)


def test_weight_shape_is_checked() -> None:
    with pytest.raises(ValueError, match=r"weight has shape \(3,\), expected \(4,\)"):
        layer_norm_forward(np.zeros((2, 4), np.float32), np.ones(3, np.float32), None, EPS)


def test_kernel_table_names_abi_ops() -> None:
    assert set(KERNELS) == {("nn.layer_norm_forward", "cuda"), ("nn.layer_norm_backward", "cuda")}
