"""Hypothesis fuzzing of hyperion.autograd: random programs vs NumPy and finite differences.

Settings: ``max_examples=40`` for random programs (``deadline=None``: each example runs a
finite-difference sweep). Failing examples found while writing this are kept as ``@example``s or
plain tests below.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import hyperion.autograd as ag

from .programs import Program, finite_difference, programs, run_autograd, run_numpy


@settings(max_examples=40, deadline=None)
@given(programs(), st.integers(0, 2**32 - 1))
def test_random_programs_match_numpy_and_finite_differences(program: Program, seed: int) -> None:
    expected = run_numpy(program, program.inputs)
    if expected is None:
        return  # the drawn steps do not fit together (e.g. a reduction broke broadcasting)
    inputs = [ag.from_numpy(a).requires_grad_() for a in program.inputs]
    out = run_autograd(program, inputs)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-12, atol=1e-12)

    weights = np.random.default_rng(seed).standard_normal(np.shape(expected))
    (out * ag.tensor(weights)).sum().backward()
    numeric = finite_difference(program, weights)
    for k, (x, fd) in enumerate(zip(inputs, numeric, strict=True)):
        grad = np.zeros(x.shape) if x.grad is None else x.grad.detach().numpy()
        assert grad.shape == x.shape, f"input {k}: gradient shape {grad.shape} != input shape {x.shape}"
        np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-6, err_msg=f"input {k} of {program}")


@settings(max_examples=30, deadline=None)
@given(
    hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=0, max_side=3),
    st.sampled_from(["float16", "float32", "float64"]),
    st.sampled_from(["float16", "float32", "float64"]),
    st.sampled_from(["add", "mul", "sub", "maximum"]),
    st.integers(0, 2**32 - 1),
)
def test_mixed_dtypes_promote_like_numpy_and_gradients_keep_each_input_dtype(
    shapes: Any, da: str, db: str, op: str, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    a_np, b_np = (rng.standard_normal(s).astype(d) for s, d in zip(shapes.input_shapes, (da, db), strict=True))
    a, b = ag.tensor(a_np, requires_grad=True), ag.tensor(b_np, requires_grad=True)
    out = getattr(ag, op)(a, b)
    reference = getattr(np, {"sub": "subtract", "mul": "multiply"}.get(op, op))(a_np, b_np)
    assert out.dtype == reference.dtype and out.shape == reference.shape
    out.sum().backward()
    for x, x_np in ((a, a_np), (b, b_np)):
        assert x.grad.dtype == x_np.dtype, f"{op}: gradient dtype {x.grad.dtype} for a {x_np.dtype} input"
        assert x.grad.shape == x_np.shape
        assert np.all(np.isfinite(x.grad.numpy()))


def test_regression_gradient_of_an_input_used_twice_through_a_view() -> None:
    """``x * x.T`` on a square input sums two gradient paths through one transposed view."""
    a = np.arange(4.0).reshape(2, 2)
    x = ag.from_numpy(a.copy()).requires_grad_()
    (x * x.transpose(0, 1)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * a.T)


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 2, 1)])
def test_zero_size_inputs_get_zero_size_gradients(shape: tuple[int, ...]) -> None:
    x = ag.zeros(*shape, dtype="float64", requires_grad=True)
    y = ag.ones(1, dtype="float64", requires_grad=True)
    ((x * y).exp().sum() + y.sum()).backward()
    assert x.grad.shape == shape
    assert y.grad.tolist() == [1.0]
