"""Gradient clipping against torch.nn.utils: same total norm, same clipped gradients."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import hyperion.autograd as ag
from hyperion.nn import Parameter, optim

try:
    import torch
except ImportError:  # PyTorch is the reference of the parity tests only
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the reference) is not installed")

SHAPES = [(3, 4), (7,), (2, 2, 2)]


def pair(scale: float, seed: int = 0) -> tuple[list[Parameter], list[Any]]:
    """The same parameters and gradients in hyperion and (if installed) PyTorch."""
    rng = np.random.default_rng(seed)
    ours, theirs = [], []
    for shape in SHAPES:
        value, grad = rng.standard_normal(shape), scale * rng.standard_normal(shape)
        p = Parameter(ag.tensor(value))
        p.grad = ag.tensor(grad)
        ours.append(p)
        if torch is not None:
            t = torch.nn.Parameter(torch.tensor(value))
            t.grad = torch.tensor(grad)
            theirs.append(t)
    return ours, theirs


@needs_torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
@pytest.mark.parametrize(("scale", "max_norm"), [(10.0, 1.0), (0.01, 1.0), (1.0, 0.0)])
def test_clip_grad_norm_matches_torch(norm_type: float | str, scale: float, max_norm: float) -> None:
    ours, theirs = pair(scale)
    total = optim.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(total, float)
    assert total == pytest.approx(expected.item(), rel=1e-12)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-15)


def test_clipped_norm_is_max_norm_and_parameters_without_grad_are_skipped() -> None:
    ours, _ = pair(10.0)
    extra = Parameter(ag.tensor(np.zeros(3)))
    before = optim.total_grad_norm(ours)
    assert optim.clip_grad_norm_([*ours, extra], max_norm=2.0) == pytest.approx(before)
    assert optim.total_grad_norm(ours) == pytest.approx(2.0, rel=1e-5)
    assert extra.grad is None
    assert optim.clip_grad_norm_([extra], 1.0) == 0.0


def test_clip_grad_norm_accepts_a_single_tensor() -> None:
    w = Parameter(ag.tensor(np.zeros(2)))
    w.grad = ag.tensor(np.array([3.0, 4.0]))
    assert optim.clip_grad_norm_(w, 10.0) == 5.0
    assert w.grad.tolist() == [3.0, 4.0]


def test_nonfinite_norm() -> None:
    ours, _ = pair(1.0)
    ours[1].grad.data[0] = float("nan")
    with pytest.raises(FloatingPointError, match="total 2.0-norm of the gradients is nan"):
        optim.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    assert math.isnan(optim.clip_grad_norm_(ours, 1.0))


def test_invalid_arguments() -> None:
    ours, _ = pair(1.0)
    with pytest.raises(ValueError, match="invalid max_norm -1"):
        optim.clip_grad_norm_(ours, -1)
    with pytest.raises(ValueError, match="invalid norm_type 'two'"):
        optim.clip_grad_norm_(ours, 1.0, norm_type="two")
    with pytest.raises(ValueError, match="invalid norm_type 0"):
        optim.clip_grad_norm_(ours, 1.0, norm_type=0)
    with pytest.raises(ValueError, match="invalid clip_value -0.5"):
        optim.clip_grad_value_(ours, -0.5)
    with pytest.raises(TypeError, match="item 0 of parameters is a ndarray"):
        optim.clip_grad_norm_([np.zeros(2)], 1.0)


@needs_torch
@pytest.mark.parametrize("clip_value", [0.0, 0.3, 5.0])
def test_clip_grad_value_matches_torch(clip_value: float) -> None:
    ours, theirs = pair(1.0)
    optim.clip_grad_value_(ours, clip_value)
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    for p, t in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), t.grad.numpy())
