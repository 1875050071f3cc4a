"""Parity of activations, softmax/log_softmax, erf and linear with PyTorch (float64), incl. stability at ±1e4."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperion.autograd as ag
from hyperion.nn import functional as F
from hyperion.tensor import ShapeError, registry

torch = pytest.importorskip("torch")  # the reference; these parity tests skip without it
TF = torch.nn.functional


def _pair(a: np.ndarray) -> tuple[ag.Tensor, torch.Tensor]:
    return ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _close(h: ag.Tensor, t: torch.Tensor, rtol: float = 1e-9, atol: float = 1e-10) -> None:
    np.testing.assert_allclose(h.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=atol)


def _check(h_fn, t_fn, *arrays: np.ndarray, seed: int = 0, rtol: float = 1e-9) -> None:
    pairs = [_pair(a) for a in arrays]
    out = h_fn(*[p[0] for p in pairs])
    t_out = t_fn(*[p[1] for p in pairs])
    _close(out, t_out, rtol=rtol)
    g = np.random.default_rng(seed).standard_normal(tuple(t_out.shape))
    out.backward(ag.tensor(g))
    t_out.backward(torch.tensor(g))
    for h, t in pairs:
        _close(h.grad, t.grad, rtol=rtol)


ACTIVATIONS = {
    "relu": (F.relu, TF.relu),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "gelu": (F.gelu, TF.gelu),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh")),
    "silu": (F.silu, TF.silu),
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_torch(name: str) -> None:
    h_fn, t_fn = ACTIVATIONS[name]
    x = np.random.default_rng(1).standard_normal((4, 7)) * 3
    _check(h_fn, t_fn, x)


def test_erf_is_accurate_everywhere() -> None:
    xs = np.concatenate([np.linspace(-7, 7, 2001), [0.0, 1e-300, -1e-8, 0.4999999, 0.5, -0.5, 30.0, -30.0]])
    got = F.erf(ag.tensor(xs)).numpy()
    want = np.array([math.erf(v) for v in xs])
    np.testing.assert_allclose(got, want, rtol=2e-15, atol=2e-16)


def test_exact_gelu_reference_keeps_the_far_left_tail() -> None:
    """GELU(x) = x·Φ(x) with Φ from the fitted erfc, not 1 + erf: relative accuracy down to x = -37."""
    from hyperion.nn.functional.activation import gelu_backward_reference, gelu_forward_reference

    x = np.concatenate([np.linspace(-37, 8, 45_001), [np.inf, -np.inf, np.nan]])
    phi = np.array([0.5 * math.erfc(-v / math.sqrt(2.0)) if not math.isnan(v) else math.nan for v in x])
    with np.errstate(invalid="ignore", over="ignore"):
        want = x * phi
        want_grad = phi + x * np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)
        got = gelu_forward_reference(x, "none")
        got_grad = gelu_backward_reference(x, np.ones_like(x), "none")
    # The exponent -z² carries the rounding of z = |x|/√2 and of z²: 1.5e-13 relative at x = -37 (z = 26).
    np.testing.assert_allclose(got, want, rtol=2e-13, atol=0)
    np.testing.assert_allclose(got_grad, want_grad, rtol=2e-13, atol=1e-300)
    assert got.dtype == np.float64 and gelu_forward_reference(x[:9].astype(np.float32), "none").dtype == np.float32


def test_gelu_double_backward_matches_torch() -> None:
    a = np.random.default_rng(2).standard_normal(10) * 2
    x, tx = _pair(a)
    (g,) = ag.grad(F.gelu(x).sum(), [x], create_graph=True)
    (tg,) = torch.autograd.grad(TF.gelu(tx).sum(), [tx], create_graph=True)
    _close(g, tg)
    (g2,) = ag.grad(g.sum(), [x])
    (tg2,) = torch.autograd.grad(tg.sum(), [tx])
    _close(g2, tg2)


@settings(max_examples=25, deadline=None)
@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=4),
    dim_seed=st.integers(0, 100),
    scale=st.sampled_from([1.0, 30.0, 1e4]),
    log=st.booleans(),
)
def test_softmax_matches_torch(shape: list[int], dim_seed: int, scale: float, log: bool) -> None:
    dim = dim_seed % len(shape) - len(shape) * (dim_seed % 2)
    a = np.random.default_rng(dim_seed).standard_normal(shape) * scale
    h_fn, t_fn = (F.log_softmax, TF.log_softmax) if log else (F.softmax, TF.softmax)
    _check(lambda x: h_fn(x, dim=dim), lambda x: t_fn(x, dim=dim), a, rtol=1e-8)


def test_softmax_stable_at_extreme_logits() -> None:
    x = ag.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]], requires_grad=True)
    y = F.log_softmax(x, dim=1)
    assert np.isfinite(y.detach().numpy()).all()
    np.testing.assert_allclose(F.softmax(x, dim=1).detach().numpy()[0], [1.0, 0.0, 0.0])
    y.sum().backward()
    assert np.isfinite(x.grad.numpy()).all()


def test_softmax_double_backward() -> None:
    a = np.random.default_rng(3).standard_normal((3, 4))
    x, tx = _pair(a)
    w = np.random.default_rng(4).standard_normal((3, 4))
    (g,) = ag.grad((F.softmax(x, 1) * ag.tensor(w)).sum(), [x], create_graph=True)
    (tg,) = torch.autograd.grad((TF.softmax(tx, 1) * torch.tensor(w)).sum(), [tx], create_graph=True)
    (g2,) = ag.grad((g * g).sum(), [x])
    (tg2,) = torch.autograd.grad((tg * tg).sum(), [tx])
    _close(g2, tg2)


FUSED_OPS = (
    "nn.softmax_forward", "nn.softmax_backward", "nn.log_softmax_forward", "nn.log_softmax_backward",
    "nn.layer_norm_forward", "nn.layer_norm_backward", "nn.rms_norm_forward", "nn.rms_norm_backward",
    "nn.gelu_forward", "nn.gelu_backward", "nn.cross_entropy_forward", "nn.cross_entropy_backward",
    "nn.attention_forward", "nn.attention_backward", "nn.im2col", "nn.col2im", "nn.adamw_step",
)  # fmt: skip


def test_fused_ops_are_registered_with_reference() -> None:
    with registry.use_kernels("reference"):
        for op in FUSED_OPS:
            assert registry.which(op, "cpu") == "reference", op
            assert registry.which(op, "cuda") == "reference", op


def test_softmax_dispatches_through_the_registry() -> None:
    calls = []

    class Spy:
        name = "test-spy-softmax"

        def kernels(self):
            def forward(x2d):
                calls.append(("forward", x2d.shape, x2d.flags.c_contiguous))
                return np.full_like(x2d, 0.25)

            def backward(y2d, gy2d):
                calls.append(("backward", y2d.shape, gy2d.shape))
                return np.ones_like(y2d)

            return {("nn.softmax_forward", "cpu"): forward, ("nn.softmax_backward", "cpu"): backward}

    registry.register_provider(Spy())
    try:
        with registry.use_kernels("test-spy-softmax"):
            x = ag.ones(4, 2, 3, requires_grad=True)
            y = F.softmax(x.transpose(0, 2), dim=1)  # non-contiguous input, reduced dim in the middle
            assert y.shape == (3, 2, 4) and np.all(y.detach().numpy() == 0.25)
            y.sum().backward()
    finally:
        registry.unregister_provider("test-spy-softmax")
    assert calls == [("forward", (12, 2), True), ("backward", (12, 2), (12, 2))]
    assert np.all(x.grad.numpy() == 1.0)


@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(shape: tuple[int, ...], bias: bool) -> None:
    rng = np.random.default_rng(5)
    arrays = [rng.standard_normal(shape), rng.standard_normal((6, 3))] + ([rng.standard_normal(6)] if bias else [])
    _check(F.linear, TF.linear, *arrays)


def test_linear_shape_error() -> None:
    with pytest.raises(ShapeError, match=r"has 5 features, but weight of shape \(6, 3\) expects 3"):
        F.linear(ag.zeros(2, 5), ag.zeros(6, 3))


def test_swiglu_matches_composition() -> None:
    a = np.random.default_rng(6).standard_normal((3, 8))
    _check(F.swiglu, lambda x: TF.silu(x[:, :4]) * x[:, 4:], a)
