"""``gradcheck``/``gradgradcheck``: they pass on correct gradients and catch wrong ones, naming where."""

from __future__ import annotations

from typing import Any

import pytest

import hyperion.autograd as ag


def leaf(*shape: int, seed: int = 0) -> ag.Tensor:
    return ag.randn(*shape, seed=seed, dtype="float64", requires_grad=True)


class WrongSquare(ag.Function):
    """x² with a backward that is off by 5% in one element."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        scale = ag.ones(x.shape, dtype="float64")
        scale[1, 0] = 1.05
        return g * x * 2 * scale


class DetachedBackward(ag.Function):
    """x³ whose backward is right to first order but not differentiable (it detaches)."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        ctx.save_for_backward(x)
        return x * x * x

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        (x,) = ctx.saved_tensors
        return g * (x * x * 3).detach()


def test_correct_gradients_pass_in_both_modes() -> None:
    a, b = leaf(3, 2, seed=1), leaf(2, 4, seed=2)
    assert ag.gradcheck(lambda x, y: (x @ y).tanh(), (a, b))
    assert ag.gradcheck(lambda x, y: (x @ y).tanh(), (a, b), directional=True, n_directions=5)
    assert ag.gradgradcheck(lambda x, y: (x @ y).tanh(), (a, b))


def test_a_wrong_gradient_is_reported_with_input_and_worst_element() -> None:
    x = leaf(3, 2)
    c = ag.tensor([1.0], dtype="float64", requires_grad=True)
    with pytest.raises(ag.GradcheckError, match=r"input 1: worst element is d output\(1, 0\) / d input\(1, 0\)"):
        ag.gradcheck(lambda k, t: WrongSquare.apply(t) * k, (c, x))


def test_directional_mode_catches_a_wrong_gradient() -> None:
    x = leaf(3, 2)
    with pytest.raises(ag.GradcheckError, match="directional.*input 0"):
        ag.gradcheck(WrongSquare.apply, (x,), directional=True)
    assert ag.gradcheck(WrongSquare.apply, (x,), raise_exception=False) is False


def test_gradgradcheck_catches_a_backward_that_is_not_differentiable() -> None:
    x = leaf(4)
    assert ag.gradcheck(DetachedBackward.apply, (x,))
    with pytest.raises(ag.GradcheckError):
        ag.gradgradcheck(DetachedBackward.apply, (x,))


def test_inputs_must_be_float64() -> None:
    with pytest.raises(TypeError, match="float64"):
        ag.gradcheck(lambda t: t * 2, (ag.ones(2, requires_grad=True),))
    with pytest.raises(ValueError, match="no input requires grad"):
        ag.gradcheck(lambda t: t * 2, (ag.ones(2, dtype="float64"),))


def test_several_outputs() -> None:
    x = leaf(2, 3)
    assert ag.gradcheck(lambda t: (t.exp(), t.sum(0), t.max()), (x,))
