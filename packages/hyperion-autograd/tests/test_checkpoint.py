"""Gradient checkpointing: identical gradients, inputs-only memory, recomputation in backward."""

from __future__ import annotations

from typing import Any

import numpy as np

import hyperion.autograd as ag


def params(seed: int) -> list[ag.Tensor]:
    return [ag.randn(8, 8, seed=seed + k, dtype="float64", requires_grad=True) for k in range(3)]


def block(x: Any, w1: Any, w2: Any, scale: float = 1.0) -> Any:
    h = (x @ w1).tanh()
    h = h * h.sigmoid() + x
    return ((h @ w2) * scale).logsumexp(-1)


def run(checkpointed: bool) -> list[np.ndarray]:
    w0, w1, w2 = params(0)
    x = ag.randn(4, 8, seed=9, dtype="float64", requires_grad=True)
    h = x @ w0
    out = ag.checkpoint(block, h, w1, w2, scale=0.5) if checkpointed else block(h, w1, w2, scale=0.5)
    (out * out).sum().backward()
    return [t.grad.numpy().copy() for t in (x, w0, w1, w2)]


def test_gradients_are_bitwise_identical() -> None:
    for plain, checkpointed in zip(run(False), run(True), strict=True):
        assert plain.dtype == np.float64
        assert np.array_equal(plain, checkpointed)


def test_only_the_inputs_are_kept() -> None:
    w0, w1, w2 = params(0)
    x = ag.randn(4, 8, seed=9, dtype="float64")
    out = ag.checkpoint(block, x, w1, w2)
    trace = ag.export_graph(out)
    assert [node["op"] for node in trace["nodes"]] == ["checkpoint"]
    plain = ag.export_graph(block(x, w1, w2))
    assert len(plain["nodes"]) > 5


def test_the_function_runs_again_during_backward() -> None:
    calls = []

    def counted(x: Any, w: Any) -> Any:
        calls.append(ag.is_grad_enabled())
        return (x @ w).tanh()

    w = ag.randn(3, 3, seed=1, dtype="float64", requires_grad=True)
    x = ag.randn(2, 3, seed=2, dtype="float64")
    out = ag.checkpoint(counted, x, w)
    assert calls == [False]
    out.sum().backward()
    assert calls == [False, True]


def test_double_backward_through_a_checkpoint() -> None:
    w = ag.randn(3, 3, seed=1, dtype="float64", requires_grad=True)
    x = ag.randn(2, 3, seed=2, dtype="float64")

    def f(x: Any, w: Any) -> Any:
        return ((x @ w).tanh() ** 2).sum()

    (g_plain,) = ag.grad(f(x, w), w, create_graph=True)
    (gg_plain,) = ag.grad((g_plain * g_plain).sum(), w)
    (g_ckpt,) = ag.grad(ag.checkpoint(f, x, w), w, create_graph=True)
    (gg_ckpt,) = ag.grad((g_ckpt * g_ckpt).sum(), w)
    np.testing.assert_allclose(g_ckpt.detach().numpy(), g_plain.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(gg_ckpt.numpy(), gg_plain.numpy(), rtol=1e-12)


def test_inputs_that_do_not_require_grad_get_none() -> None:
    w = ag.randn(3, 3, seed=1, dtype="float64", requires_grad=True)
    x = ag.randn(2, 3, seed=2, dtype="float64")
    ag.checkpoint(lambda a, b: a @ b, x, w).sum().backward()
    assert x.grad is None and w.grad is not None
