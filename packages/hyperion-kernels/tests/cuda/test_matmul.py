"""Tiled shared-memory matmul vs NumPy, with partial tiles on every axis."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba_cuda", reason="numba-cuda is not installed")

from hyperion.kernels.cuda.matmul import TILE, matmul  # noqa: E402

pytestmark = pytest.mark.usefixtures("cuda_kernels")


@pytest.mark.parametrize(("m", "k", "n"), [(TILE + 3, TILE + 13, 5), (7, 3, TILE + 1)])
@pytest.mark.parametrize("trans_b", [False, True])
def test_matches_numpy_float32(m: int, k: int, n: int, trans_b: bool) -> None:
    rng = np.random.default_rng(m * k * n)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    c = matmul(a, np.ascontiguousarray(b.T) if trans_b else b, trans_b=trans_b)
    np.testing.assert_allclose(c, a.astype(np.float64) @ b, rtol=1e-5, atol=1e-5)


def test_matches_numpy_float64() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal((9, 40)), rng.standard_normal((40, 6))
    np.testing.assert_allclose(matmul(a, b), a @ b, rtol=1e-12, atol=1e-12)


def test_inner_size_mismatch_names_both_sizes() -> None:
    with pytest.raises(ValueError, match="inner sizes 3 and 4"):
        matmul(np.zeros((2, 3), np.float32), np.zeros((4, 5), np.float32))
