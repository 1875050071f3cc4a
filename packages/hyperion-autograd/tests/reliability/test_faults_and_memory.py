"""Numerical faults and memory: anomaly mode names the first culprit; graphs die after backward."""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np
import pytest

import hyperion.autograd as ag

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def test_anomaly_names_the_first_op_that_produced_nan_not_the_ones_after() -> None:
    x = ag.tensor([4.0, -1.0], dtype="float64", requires_grad=True)
    with ag.detect_anomaly(), pytest.raises(ag.AnomalyError) as info:
        y = x * 2  # finite
        z = y.sqrt()  # first NaN: sqrt(-2)
        (z + 1).exp()  # would propagate it
    message = str(info.value)
    assert message.startswith("Sqrt produced a non-finite forward output")
    assert "1 nan" in message and "shape (2,)" in message
    assert "z = y.sqrt()  # first NaN" in message


def test_anomaly_names_the_backward_that_produced_inf_and_where_its_op_was_created() -> None:
    x = ag.tensor([0.0, 1.0], dtype="float64", requires_grad=True)
    with ag.detect_anomaly():
        y = x.sqrt()  # finite forward, infinite derivative at 0
        loss = (y * 3).sum()
        with pytest.raises(ag.AnomalyError) as info:
            loss.backward()
    message = str(info.value)
    assert message.startswith("SqrtBackward")
    assert "y = x.sqrt()  # finite forward" in message


def test_without_anomaly_mode_nan_propagates_silently_like_numpy() -> None:
    x = ag.tensor([4.0, -1.0], dtype="float64", requires_grad=True)
    y = x.sqrt()
    y.sum().backward()
    assert np.isnan(y.detach().numpy()[1]) and np.isnan(x.grad.numpy()[1])
    assert x.grad.numpy()[0] == pytest.approx(0.25)


def test_backward_frees_the_graph_intermediate_nodes_die() -> None:
    x = ag.randn(64, 64, dtype="float64", seed=0, requires_grad=True)
    hidden = (x @ x).tanh()
    node = weakref.ref(hidden.grad_fn)
    loss = (hidden * hidden).sum()
    loss.backward()
    del hidden, loss
    gc.collect()
    assert node() is None, "an intermediate graph node outlived backward and its outputs"
    assert x.grad is not None


def test_retain_graph_keeps_it_until_the_outputs_go() -> None:
    x = ag.randn(8, dtype="float64", seed=1, requires_grad=True)
    y = x.exp()
    node = weakref.ref(y.grad_fn)
    y.sum().backward(retain_graph=True)
    assert node() is not None
    del y
    gc.collect()
    assert node() is None


def test_repeated_forward_backward_does_not_grow_memory() -> None:
    w = ag.randn(32, 32, dtype="float64", seed=2, requires_grad=True)
    x = ag.randn(16, 32, dtype="float64", seed=3)

    def step() -> None:
        loss = ((x @ w).tanh() @ w).sigmoid().mean()
        loss.backward()
        w.grad = None

    for _ in range(50):  # warm-up: caches (kernel lookups, layouts) fill here
        step()
    gc.collect()
    tracemalloc.start()
    try:
        for _ in range(50):
            step()
        gc.collect()
        before, _ = tracemalloc.get_traced_memory()
        for _ in range(300):
            step()
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # One retained graph would hold > 16 KiB (its activations); 300 would hold megabytes.
    assert after - before < 64 * 1024, f"traced memory grew by {after - before} bytes over 300 steps"


def test_deep_graph_backward_is_iterative() -> None:
    x = ag.tensor(1.0, dtype="float64", requires_grad=True)
    y = x
    for _ in range(20_000):  # far beyond Python's recursion limit
        y = y * 1.0
    y.backward()
    assert x.grad.item() == 1.0
