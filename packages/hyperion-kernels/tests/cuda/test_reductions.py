"""Warp-shuffle and block reductions, launched through a small test kernel."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba_cuda", reason="numba-cuda is not installed")

from numba import cuda  # noqa: E402

from hyperion.kernels.cuda.reductions import block_max, block_sum, block_welford, shfl_down  # noqa: E402

pytestmark = pytest.mark.usefixtures("cuda_kernels")


@cuda.jit
def _reduce_kernel(values, shuffled, out):
    t = cuda.threadIdx.x
    v = values[t] + 0.0
    shuffled[t] = shfl_down(v, 3)
    total = block_sum(v)
    largest = block_max(v)
    count, mean, m2 = block_welford(1.0, v, 0.0)
    out[t, 0] = total
    out[t, 1] = largest
    out[t, 2] = count
    out[t, 3] = mean
    out[t, 4] = m2


def test_every_thread_gets_the_block_results() -> None:
    threads = 96
    values = np.random.default_rng(0).standard_normal(threads)
    shuffled = np.zeros(threads)
    out = np.zeros((threads, 5))
    _reduce_kernel[1, threads](values, shuffled, out)
    expected = [values.sum(), values.max(), threads, values.mean(), ((values - values.mean()) ** 2).sum()]
    np.testing.assert_allclose(out, np.tile(expected, (threads, 1)), rtol=1e-12)
    # shfl_down within each warp: lanes 29..31 have no source and keep their own value.
    lanes = np.arange(threads) % 32
    np.testing.assert_array_equal(shuffled, np.where(lanes < 29, np.roll(values, -3), values))
