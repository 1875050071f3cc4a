"""Parity of the losses with PyTorch (float64): values and gradients, for every reduction and option."""

from __future__ import annotations

import numpy as np
import pytest

import hyperion.autograd as ag
from hyperion.nn import functional as F
from hyperion.tensor import ShapeError

torch = pytest.importorskip("torch")  # the reference; these parity tests skip without it
TF = torch.nn.functional


def _close(h: ag.Tensor, t: torch.Tensor) -> None:
    np.testing.assert_allclose(h.detach().numpy(), t.detach().numpy(), rtol=1e-9, atol=1e-11)


def _run(h_fn, t_fn, x: np.ndarray, seed: int = 0) -> None:
    hx, tx = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, t_out = h_fn(hx), t_fn(tx)
    _close(out, t_out)
    g = np.random.default_rng(seed).standard_normal(tuple(t_out.shape))
    out.backward(ag.tensor(g))
    t_out.backward(torch.tensor(g))
    _close(hx.grad, tx.grad)


def _ce_cases() -> list[tuple]:
    cases = []
    for shape in [(6, 5), (3, 4, 2, 3), (5,)]:
        for reduction in ("mean", "sum", "none"):
            for smoothing in (0.0, 0.2):
                for weighted in (False, True):
                    for ignore in (False, True):
                        cases.append((shape, reduction, smoothing, weighted, ignore))
    return cases


@pytest.mark.parametrize(("shape", "reduction", "smoothing", "weighted", "ignore"), _ce_cases())
def test_cross_entropy_matches_torch(shape, reduction, smoothing, weighted, ignore) -> None:
    rng = np.random.default_rng(len(shape) * 7 + int(weighted) + 2 * int(ignore))
    classes = shape[1] if len(shape) > 1 else shape[0]
    x = rng.standard_normal(shape) * 3
    target_shape = (shape[0], *shape[2:]) if len(shape) > 1 else ()
    target = rng.integers(0, classes, size=target_shape)
    ignore_index = -100
    if ignore and target.ndim:
        ignore_index = 1
    weight = rng.uniform(0.5, 2.0, classes) if weighted else None
    kw = dict(ignore_index=ignore_index, reduction=reduction, label_smoothing=smoothing)
    _run(
        lambda h: F.cross_entropy(h, ag.tensor(target), None if weight is None else ag.tensor(weight), **kw),
        lambda t: TF.cross_entropy(t, torch.tensor(target), None if weight is None else torch.tensor(weight), **kw),
        x,
    )


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_probability_targets(smoothing: float, reduction: str) -> None:
    rng = np.random.default_rng(11)
    x = rng.standard_normal((4, 5, 3))
    p = rng.uniform(size=(4, 5, 3))
    p /= p.sum(axis=1, keepdims=True)
    w = rng.uniform(0.5, 2, 5)
    _run(
        lambda h: F.cross_entropy(h, ag.tensor(p), ag.tensor(w), reduction=reduction, label_smoothing=smoothing),
        lambda t: TF.cross_entropy(t, torch.tensor(p), torch.tensor(w), reduction=reduction, label_smoothing=smoothing),
        x,
    )


def test_cross_entropy_stable_at_extreme_logits() -> None:
    x = ag.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype="float64", requires_grad=True)
    t = torch.tensor([[1e4, -1e4, 0.0], [-1e4, 1e4, 1e4]], dtype=torch.float64, requires_grad=True)
    loss = F.cross_entropy(x, ag.tensor([1, 2]))
    t_loss = TF.cross_entropy(t, torch.tensor([1, 2]))
    _close(loss, t_loss)
    loss.backward()
    t_loss.backward()
    _close(x.grad, t.grad)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_matches_torch(reduction: str) -> None:
    rng = np.random.default_rng(12)
    x = rng.standard_normal((7, 4))
    target = rng.integers(0, 4, 7)
    target[2] = -1
    w = rng.uniform(0.5, 2, 4)
    kw = dict(ignore_index=-1, reduction=reduction)
    _run(
        lambda h: F.nll_loss(h, ag.tensor(target), ag.tensor(w), **kw),
        lambda t: TF.nll_loss(t, torch.tensor(target), torch.tensor(w), **kw),
        x,
    )


def test_cross_entropy_errors() -> None:
    x = ag.zeros(3, 4)
    with pytest.raises(IndexError, match="target 4 is out of bounds for 4 classes"):
        F.cross_entropy(x, ag.tensor([0, 4, 1]))
    with pytest.raises(ShapeError, match=r"needs a target of shape \(3,\)"):
        F.cross_entropy(x, ag.tensor([0, 1]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(x, ag.tensor([0, 1, 2]), reduction="avg")
    with pytest.raises(ShapeError, match=r"weight must have shape \(4,\)"):
        F.cross_entropy(x, ag.tensor([0, 1, 2]), weight=ag.ones(3))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_torch(reduction: str) -> None:
    rng = np.random.default_rng(13)
    x, y = rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    _run(
        lambda h: F.mse_loss(h, ag.tensor(y), reduction),
        lambda t: TF.mse_loss(t, torch.tensor(y), reduction=reduction),
        x,
    )


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_matches_torch(reduction: str, weighted: bool) -> None:
    rng = np.random.default_rng(14)
    p = rng.uniform(0.02, 0.98, (4, 3))
    y = rng.uniform(0, 1, (4, 3))
    w = rng.uniform(0.5, 2, (4, 3)) if weighted else None
    _run(
        lambda h: F.binary_cross_entropy(h, ag.tensor(y), None if w is None else ag.tensor(w), reduction),
        lambda t: TF.binary_cross_entropy(
            t, torch.tensor(y), None if w is None else torch.tensor(w), reduction=reduction
        ),
        p,
    )


def test_binary_cross_entropy_clamps_log_like_torch() -> None:
    p = np.array([0.0, 1.0, 0.5])
    y = np.array([1.0, 0.0, 1.0])
    _close(
        F.binary_cross_entropy(ag.tensor(p), ag.tensor(y)), TF.binary_cross_entropy(torch.tensor(p), torch.tensor(y))
    )
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        F.binary_cross_entropy(ag.tensor([1.5]), ag.tensor([1.0]))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("pos_weight", [False, True])
def test_bce_with_logits_matches_torch(reduction: str, pos_weight: bool) -> None:
    rng = np.random.default_rng(15)
    x = rng.standard_normal((5, 3)) * 4
    x[0, 0], x[1, 1] = 1e4, -1e4
    y = rng.uniform(0, 1, (5, 3))
    w = rng.uniform(0.5, 2, (5, 3))
    pw = rng.uniform(0.5, 3, 3) if pos_weight else None
    _run(
        lambda h: F.binary_cross_entropy_with_logits(
            h, ag.tensor(y), ag.tensor(w), reduction, None if pw is None else ag.tensor(pw)
        ),
        lambda t: TF.binary_cross_entropy_with_logits(
            t,
            torch.tensor(y),
            torch.tensor(w),
            reduction=reduction,
            pos_weight=None if pw is None else torch.tensor(pw),
        ),
        x,
    )
