"""Finite-difference gradient checks (float64, first and second order) and non-contiguous inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperion.autograd as ag
from hyperion.nn import functional as F


def _t(rng: np.random.Generator, *shape: int) -> ag.Tensor:
    return ag.tensor(rng.standard_normal(shape), requires_grad=True)


CASES = {
    "conv2d": (
        lambda r: (_t(r, 1, 4, 5, 5), _t(r, 2, 2, 3, 2)),
        lambda x, w: F.conv2d(x, w, stride=(2, 1), padding=1, groups=2),
    ),
    "max_pool2d": (lambda r: (_t(r, 1, 2, 5, 5),), lambda x: F.max_pool2d(x, 3, 2, 1)),
    "avg_pool2d": (lambda r: (_t(r, 1, 2, 5, 5),), lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)),
    "adaptive_avg_pool2d": (lambda r: (_t(r, 1, 2, 5, 7),), lambda x: F.adaptive_avg_pool2d(x, (2, 3))),
    "linear": (lambda r: (_t(r, 3, 4), _t(r, 2, 4), _t(r, 2)), F.linear),
    "layer_norm": (lambda r: (_t(r, 3, 4), _t(r, 4), _t(r, 4)), lambda x, w, b: F.layer_norm(x, (4,), w, b)),
    "group_norm": (lambda r: (_t(r, 2, 4, 3),), lambda x: F.group_norm(x, 2)),
    "softmax": (lambda r: (_t(r, 3, 4),), lambda x: F.softmax(x, 0)),
    "cross_entropy": (
        lambda r: (_t(r, 5, 4),),
        lambda x: F.cross_entropy(x, ag.tensor([0, 3, 1, 1, 2]), label_smoothing=0.1, ignore_index=2),
    ),
    "gelu": (lambda r: (_t(r, 6),), F.gelu),
    "attention": (
        lambda r: (_t(r, 2, 3, 4), _t(r, 2, 5, 4), _t(r, 2, 5, 2)),
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v),
    ),
    "embedding": (lambda r: (_t(r, 5, 3),), lambda w: F.embedding(ag.tensor([[1, 4], [1, 0]]), w)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_first_and_second_order(name: str) -> None:
    make, fn = CASES[name]
    inputs = make(np.random.default_rng(0))
    assert ag.gradcheck(fn, inputs, atol=1e-6, rtol=1e-4)
    assert ag.gradgradcheck(fn, inputs, atol=1e-5, rtol=1e-3, directional=True)


@settings(max_examples=15, deadline=None)
@given(perm=st.permutations([0, 1, 2, 3]), seed=st.integers(0, 1000))
def test_conv_and_pools_accept_permuted_strides(perm: list[int], seed: int) -> None:
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((2, 3, 6, 7))
    shape = tuple(base.shape[p] for p in perm)
    stored = np.ascontiguousarray(base.transpose(perm))  # memory order given by perm
    inverse = list(np.argsort(perm))
    x = ag.tensor(stored, requires_grad=True).permute(*inverse)  # a non-contiguous view of shape (2, 3, 6, 7)
    assert tuple(x.shape) == (2, 3, 6, 7) and shape == stored.shape
    tx = torch.tensor(stored, requires_grad=True).permute(*inverse)
    w = rng.standard_normal((4, 3, 3, 2))
    out = F.max_pool2d(F.conv2d(x, ag.tensor(w), padding=1), 2) + F.avg_pool2d(F.conv2d(x, ag.tensor(w), padding=1), 2)
    t_out = TF.max_pool2d(TF.conv2d(tx, torch.tensor(w), padding=1), 2) + TF.avg_pool2d(
        TF.conv2d(tx, torch.tensor(w), padding=1), 2
    )
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-9, atol=1e-10)
    out.sum().backward()
    t_out.sum().backward()
    assert x.grad is None  # the view is not a leaf; the leaf below it gets the gradient


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 1000), transpose=st.booleans())
def test_linear_softmax_cross_entropy_on_transposed_inputs(seed: int, transpose: bool) -> None:
    torch = pytest.importorskip("torch")
    TF = torch.nn.functional
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((5, 6))
    leaf = ag.tensor(a.T.copy() if transpose else a, requires_grad=True)
    x = leaf.transpose(0, 1) if transpose else leaf
    t_leaf = torch.tensor(a.T.copy() if transpose else a, requires_grad=True)
    tx = t_leaf.transpose(0, 1) if transpose else t_leaf
    w = rng.standard_normal((4, 6))
    target = rng.integers(0, 4, 5)
    loss = F.cross_entropy(F.linear(x, ag.tensor(w)), ag.tensor(target)) + F.softmax(x, 0).sum() * 0.5
    t_loss = TF.cross_entropy(TF.linear(tx, torch.tensor(w)), torch.tensor(target)) + TF.softmax(tx, 0).sum() * 0.5
    np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=1e-12)
    loss.backward()
    t_loss.backward()
    np.testing.assert_allclose(leaf.grad.numpy(), t_leaf.grad.numpy(), rtol=1e-9, atol=1e-12)
