"""Anomaly mode names the first op that produces NaN/Inf, with the stack where it was called."""

from __future__ import annotations

from typing import Any

import pytest

import hyperion.autograd as ag

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def test_forward_nan_names_the_op_and_the_calling_line() -> None:
    x = ag.tensor([1.0, -1.0], dtype="float64", requires_grad=True)
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError) as info:
        x.log()  # the culprit
    message = str(info.value)
    assert message.startswith("Log produced a non-finite forward output")
    assert "test_anomaly.py" in message and "x.log()  # the culprit" in message


def test_backward_inf_names_the_op_and_where_it_was_created() -> None:
    x = ag.tensor([0.0, 4.0], dtype="float64", requires_grad=True)
    with ag.detect_anomaly():
        y = x.sqrt()  # created here
        loss = (y * 2).sum()
        with pytest.raises(ag.AnomalyError) as info:
            loss.backward()
    message = str(info.value)
    assert message.startswith("SqrtBackward")
    assert "y = x.sqrt()  # created here" in message


def test_custom_backward_returning_nan() -> None:
    class Broken(ag.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x * 1

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return ag.tensor([float("nan")], dtype="float64")

    x = ag.tensor([1.0], dtype="float64", requires_grad=True)
    with ag.detect_anomaly():
        y = Broken.apply(x)
        with pytest.raises(
            ag.AnomalyError, match=r"BrokenBackward returned a non-finite gradient for its input 0.*1 nan"
        ):
            y.sum().backward()


def test_nan_made_by_an_op_inside_a_backward_blames_that_backward() -> None:
    class Broken(ag.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x * 1

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g * float("nan")

    x = ag.tensor([1.0], dtype="float64", requires_grad=True)
    with ag.detect_anomaly():
        y = Broken.apply(x)
        with pytest.raises(ag.AnomalyError, match=r"BrokenBackward produced a non-finite value .*Mul"):
            y.sum().backward()


def test_off_by_default_and_nothing_is_captured() -> None:
    x = ag.tensor([0.0], dtype="float64", requires_grad=True)
    assert not ag.is_anomaly_enabled()
    y = x.sqrt()
    assert y.grad_fn._stack is None
    y.sum().backward()  # inf gradient, but no error outside anomaly mode
    assert x.grad.tolist() == [float("inf")]
    with ag.detect_anomaly():
        assert ag.is_anomaly_enabled()
        assert x.exp().grad_fn._stack is not None
    assert not ag.is_anomaly_enabled()
