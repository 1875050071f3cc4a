"""Through hyperion-nn: the same numbers with the cpu kernels enabled and disabled (``use_kernels("-cpu")``).

These tests need hyperion-nn (a test-only dependency: hyperion-kernels itself
never imports it) and Numba; they skip cleanly without either.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

pytest.importorskip("numba")
ag = pytest.importorskip("hyperion.autograd")
F = pytest.importorskip("hyperion.nn.functional")
from hyperion.tensor import registry  # noqa: E402

TOL = {np.float32: {"rtol": 1e-5, "atol": 1e-6}, np.float64: {"rtol": 1e-10, "atol": 1e-12}}


def _run(fn: Callable[..., object], arrays: list[np.ndarray], spec: str, grad: bool = True) -> list[np.ndarray]:
    """The output and the gradients of ``sum(out * probe)`` w.r.t. every array, under kernel selection ``spec``."""
    with registry.use_kernels(spec):
        inputs = [ag.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
        out = fn(*inputs)
        results = [out.detach().numpy().copy()]
        if grad:
            probe = np.random.default_rng(7).standard_normal(out.shape).astype(out.detach().numpy().dtype)
            (out * ag.tensor(probe)).sum().backward()
            results += [t.grad.numpy().copy() for t in inputs if t.requires_grad]
    return results


def _same(fn: Callable[..., object], arrays: list[np.ndarray], dtype: type, grad: bool = True) -> None:
    with_kernels = _run(fn, arrays, "cpu", grad)
    without = _run(fn, arrays, "-cpu", grad)
    assert len(with_kernels) == len(without)
    for a, b in zip(with_kernels, without, strict=True):
        np.testing.assert_allclose(a, b, **TOL[dtype])


@pytest.fixture(params=[np.float32, np.float64], ids=["f32", "f64"])
def dtype(request: pytest.FixtureRequest) -> type:
    return request.param


def test_the_kernels_are_selected() -> None:
    for op in ("nn.softmax_forward", "nn.layer_norm_backward", "nn.gelu_forward", "nn.cross_entropy_forward", "nn.im2col"):
        assert registry.which(op, "cpu") == "cpu"
        with registry.use_kernels("-cpu"):
            assert registry.which(op, "cpu") == "reference"


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax_non_contiguous(dtype, dim) -> None:
    base = np.random.default_rng(0).standard_normal((5, 7, 9)).astype(dtype) * 3
    x = base.transpose(2, 0, 1)  # not contiguous; the reduced dim anywhere
    _same(lambda t: F.softmax(t, dim=dim), [x], dtype)
    _same(lambda t: F.log_softmax(t, dim=dim), [x], dtype)


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_and_rms_norm(dtype, affine) -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 4, 6, 5)).astype(dtype).transpose(0, 2, 1, 3)  # (3, 6, 4, 5), strided
    arrays = [x] + ([rng.standard_normal((4, 5)).astype(dtype), rng.standard_normal((4, 5)).astype(dtype)] if affine else [])
    if affine:
        _same(lambda t, w, b: F.layer_norm(t, (4, 5), w, b), arrays, dtype)
        _same(lambda t, w: F.rms_norm(t, (4, 5), w, eps=1e-6), arrays[:2], dtype)
    else:
        _same(lambda t: F.layer_norm(t, (4, 5)), arrays, dtype)
        _same(lambda t: F.rms_norm(t, 5), arrays, dtype)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(dtype, approximate) -> None:
    x = (np.random.default_rng(2).standard_normal((6, 8)) * 3).astype(dtype)[:, ::2]
    _same(lambda t: F.gelu(t, approximate=approximate), [x], dtype)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_with_weights_and_ignore_index(dtype, reduction) -> None:
    rng = np.random.default_rng(3)
    logits = (rng.standard_normal((4, 6, 3)) * 3).astype(dtype)  # (N, C, d1): the class dim in the middle
    target = rng.integers(0, 6, (4, 3))
    target[0, 1] = -100
    weight = rng.random(6).astype(dtype) + 0.5
    _same(lambda x, t: F.cross_entropy(x, t, weight=ag.tensor(weight), reduction=reduction), [logits, target], dtype)


@pytest.mark.parametrize("stride,padding,dilation", [(1, 1, 1), (2, 0, 1), (1, 2, 2)])
def test_conv2d_goes_through_im2col_kernels(dtype, stride, padding, dilation) -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 9, 8)).astype(dtype)
    w = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    _same(lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation), [x, w, b], dtype)


@pytest.mark.parametrize("causal", [False, True])
def test_attention_with_and_without_kernels(dtype, causal) -> None:
    rng = np.random.default_rng(5)
    q, k, v = (rng.standard_normal((2, 3, 5, 4)).astype(dtype) for _ in range(3))
    _same(lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=causal), [q, k, v], dtype)


def test_double_backward_still_works_with_kernels() -> None:
    rng = np.random.default_rng(6)
    a = rng.standard_normal((3, 5))
    for fn in (lambda t: F.softmax(t, 1), lambda t: F.layer_norm(t, 5), lambda t: F.gelu(t), lambda t: F.rms_norm(t, 5)):
        results = []
        for spec in ("cpu", "-cpu"):
            with registry.use_kernels(spec):
                x = ag.tensor(a, requires_grad=True)
                (g,) = ag.grad((fn(x) * ag.tensor(a)).sum(), [x], create_graph=True)
                (g2,) = ag.grad((g * g).sum(), [x])
                results.append((g.detach().numpy().copy(), g2.detach().numpy().copy()))
        np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adamw_kernel_matches_the_nn_reference_bit_for_bit(dtype, amsgrad) -> None:
    from hyperion.nn.optim.adam import adamw_step_reference

    kernel = registry.lookup("nn.adamw_step", "cpu")
    rng = np.random.default_rng(8)
    p = rng.standard_normal(1001).astype(dtype)
    states = [[p.copy(), np.zeros_like(p), np.zeros_like(p), np.zeros_like(p) if amsgrad else None] for _ in range(2)]
    for step in range(1, 6):
        g = rng.standard_normal(1001).astype(dtype)
        for fn, (pp, m, v, vmax) in zip((kernel, adamw_step_reference), states, strict=True):
            fn(pp, g, m, v, vmax, step, 1e-2, 0.9, 0.999, 1e-8, 0.05, amsgrad, step % 2 == 0)
    for a, b in zip(states[0], states[1], strict=True):
        if a is not None:
            np.testing.assert_array_equal(a, b)
