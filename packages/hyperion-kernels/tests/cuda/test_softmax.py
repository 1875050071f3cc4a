"""Row softmax kernels vs NumPy, on shapes that leave partial warps."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba_cuda", reason="numba-cuda is not installed")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from hyperion.kernels.cuda.softmax import KERNELS, softmax_backward, softmax_forward  # noqa: E402

pytestmark = pytest.mark.usefixtures("cuda_kernels")
TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-10, "atol": 1e-12}}


def reference_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x.astype(np.float64) - x.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return (e / e.sum(axis=1, keepdims=True)).astype(x.dtype)


@pytest.mark.parametrize(
    ("shape", "dtype", "threads"),
    [
        ((2, 37), np.float32, None),  # two warps, the second one partly idle
        ((1, 100), np.float32, 64),  # each thread loops over two or more columns
        ((1, 37), np.float64, None),
        ((2, 1), np.float32, None),
    ],
)
def test_forward_and_backward_match_numpy(shape: tuple[int, int], dtype: type, threads: int | None) -> None:
    rng = np.random.default_rng(sum(shape))
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    y = softmax_forward(x, threads=threads)
    assert y.dtype == dtype and y is not x
    np.testing.assert_allclose(y, reference_softmax(x), **TOL[dtype])
    gy = rng.standard_normal(shape).astype(dtype)
    expected = y * (gy - (gy * y).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(softmax_backward(y, gy, threads=threads), expected, **TOL[dtype])


def test_minus_inf_entries_get_zero_probability() -> None:
    x = np.array([[-np.inf, 0.0, 1.0, -np.inf, 2.0]], dtype=np.float32)
    y = softmax_forward(x)
    assert y[0, 0] == 0.0 and y[0, 3] == 0.0
    np.testing.assert_allclose(y, reference_softmax(x), rtol=1e-6)


def test_non_contiguous_input_is_made_contiguous() -> None:
    x = np.random.default_rng(1).standard_normal((20, 2)).astype(np.float32).T  # (2, 20), F-order
    np.testing.assert_allclose(softmax_forward(x), reference_softmax(x), rtol=1e-5, atol=1e-7)


def test_backward_matches_finite_differences() -> None:
    rng = np.random.default_rng(2)
    x = rng.standard_normal((1, 9))
    gy = rng.standard_normal((1, 9))
    direction = rng.standard_normal((1, 9))
    h = 1e-6
    numeric = ((softmax_forward(x + h * direction) - softmax_forward(x - h * direction)) * gy).sum() / (2 * h)
    analytic = (softmax_backward(softmax_forward(x), gy) * direction).sum()
    assert abs(numeric - analytic) < 1e-7


@settings(max_examples=3, deadline=None)
@given(rows=st.integers(1, 2), n=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_random_shapes(rows: int, n: int, seed: int) -> None:
    x = np.random.default_rng(seed).standard_normal((rows, n)).astype(np.float32)
    np.testing.assert_allclose(softmax_forward(x), reference_softmax(x), rtol=1e-5, atol=1e-7)


def test_rejects_integer_input_naming_the_dtype() -> None:
    with pytest.raises(TypeError, match="int64"):
        softmax_forward(np.zeros((2, 3), dtype=np.int64))


def test_threads_must_be_whole_warps() -> None:
    with pytest.raises(ValueError, match="got 48"):
        softmax_forward(np.zeros((1, 4), np.float32), threads=48)


def test_kernel_table_names_abi_ops() -> None:
    assert set(KERNELS) == {("nn.softmax_forward", "cuda"), ("nn.softmax_backward", "cuda")}
