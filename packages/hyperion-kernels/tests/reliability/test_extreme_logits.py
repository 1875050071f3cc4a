"""With the CPU kernels enabled, softmax, log-softmax and cross-entropy stay finite and correct at
logits of ±1e4 in float32 (checked against a float64 log-sum-exp, not only against the reference),
forward and backward, including inside a GPT-sized row (vocabulary 50,257).
"""

from __future__ import annotations

import numpy as np
import pytest

from hyperion.tensor import registry

pytest.importorskip("numba")
ag = pytest.importorskip("hyperion.autograd")
F = pytest.importorskip("hyperion.nn.functional")

EXTREME = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4]], np.float32)
TARGET = np.array([1, 2, 0])


def _log_softmax64(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _wide_rows() -> np.ndarray:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 50_257)).astype(np.float32)
    x[0, 17] = 1e4
    x[1, :] = -1e4
    x[2, ::2] = 1e4
    return x


@pytest.mark.parametrize("logits", [EXTREME, _wide_rows()], ids=["3x3", "vocab-50257"])
@pytest.mark.parametrize("spec", ["cpu", "-cpu,-cuda"], ids=["kernels", "reference"])
def test_softmax_family_is_finite_and_right_at_1e4(logits: np.ndarray, spec: str) -> None:
    for op in ("nn.softmax_forward", "nn.log_softmax_forward", "nn.cross_entropy_forward"):
        if spec == "cpu" and registry.which(op, "cpu") != "cpu":
            pytest.skip(f"no CPU kernel for {op}")
    expected = _log_softmax64(logits)
    target = TARGET[: len(logits)]
    with registry.use_kernels(spec):
        x = ag.tensor(logits, requires_grad=True)
        log_p, p = F.log_softmax(x, dim=-1), F.softmax(x, dim=-1)
        loss = F.cross_entropy(x, ag.tensor(target))
        loss.backward()
    for name, value in (("log_softmax", log_p), ("softmax", p), ("cross_entropy", loss), ("gradient", x.grad)):
        array = value.detach().numpy() if hasattr(value, "detach") else value.numpy()
        assert array.dtype == np.float32, f"{name}: {array.dtype}"
        assert np.isfinite(array).all(), f"{name} is not finite at logits of ±1e4 ({spec})"
    np.testing.assert_allclose(log_p.detach().numpy(), expected, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(p.detach().numpy(), np.exp(expected), atol=1e-6)
    np.testing.assert_allclose(loss.item(), -expected[np.arange(len(target)), target].mean(), rtol=1e-5)
    # The gradient is exp(x - lse) with lse ~ 1e4 held in float32, whose spacing there is ~1e-3:
    # probabilities are right to ~1e-3 relative, so ~1e-4 absolute after the 1/3 of the mean.
    onehot = np.zeros(logits.shape)
    onehot[np.arange(len(target)), target] = 1.0
    np.testing.assert_allclose(x.grad.numpy(), (np.exp(expected) - onehot) / len(target), atol=2e-4)
