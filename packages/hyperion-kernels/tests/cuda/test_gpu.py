"""On a real GPU: the registered kernels on CuPy arrays, through the registry."""

from __future__ import annotations

import numpy as np
import pytest

from hyperion.kernels.cuda import find_unavailable_reason

REASON = find_unavailable_reason()
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(REASON is not None, reason=f"no GPU run: {REASON}")]


def test_registry_resolves_cuda_ops_to_this_provider() -> None:
    from hyperion.tensor import registry

    ops = ("nn.softmax_forward", "nn.layer_norm_forward", "nn.attention_forward", "nn.attention_backward")
    for op in (*ops, "physics.fdtd3d_step"):
        assert registry.which(op, "cuda") == "cuda"


def test_kernels_on_cupy_match_numpy() -> None:
    import cupy

    from hyperion.kernels.cuda.attention import attention_forward
    from hyperion.kernels.cuda.layernorm import layer_norm_forward
    from hyperion.kernels.cuda.matmul import matmul
    from hyperion.kernels.cuda.softmax import softmax_forward

    rng = np.random.default_rng(0)
    x = rng.standard_normal((300, 1000)).astype(np.float32)
    e = np.exp(x - x.max(1, keepdims=True))
    y = softmax_forward(cupy.asarray(x))
    assert isinstance(y, cupy.ndarray)
    np.testing.assert_allclose(y.get(), e / e.sum(1, keepdims=True), rtol=1e-5, atol=1e-7)
    yl, _, _ = layer_norm_forward(cupy.asarray(x), None, None, 1e-5)
    ref = (x - x.mean(1, keepdims=True)) / np.sqrt(x.var(1, keepdims=True) + 1e-5)
    np.testing.assert_allclose(yl.get(), ref, rtol=1e-4, atol=1e-4)
    a, b = rng.standard_normal((130, 70)).astype(np.float32), rng.standard_normal((70, 90)).astype(np.float32)
    np.testing.assert_allclose(matmul(cupy.asarray(a), cupy.asarray(b)).get(), a @ b, rtol=1e-4, atol=1e-4)
    q = rng.standard_normal((2, 100, 64)).astype(np.float32)
    o, _ = attention_forward(*(cupy.asarray(q),) * 3, None, True, 0.125)
    s = np.where(np.tril(np.ones((100, 100), bool)), q @ q.transpose(0, 2, 1) * 0.125, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    np.testing.assert_allclose(o.get(), (p / p.sum(-1, keepdims=True)) @ q, rtol=1e-4, atol=1e-5)
