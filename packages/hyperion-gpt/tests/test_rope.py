"""RoPE: scores depend only on relative positions; norms kept; gradients by finite differences; GELU parity."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperion.autograd as ag
from hyperion.gpt import apply_rope, rope_angles
from hyperion.gpt.rope import rotate_pairs


@settings(max_examples=25, deadline=None)
@given(m=st.integers(0, 200), n=st.integers(0, 200), shift=st.integers(-100, 300), seed=st.integers(0, 2**16))
def test_scores_depend_only_on_relative_position(m: int, n: int, shift: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    q, k = rng.standard_normal((2, 8))
    if m + shift < 0 or n + shift < 0:
        shift = -min(m, n)

    def score(i: int, j: int) -> float:
        cos_i, sin_i = rope_angles(np.array([i]), 8, dtype=np.float64)
        cos_j, sin_j = rope_angles(np.array([j]), 8, dtype=np.float64)
        return float(rotate_pairs(q, cos_i[0], sin_i[0]) @ rotate_pairs(k, cos_j[0], sin_j[0]))

    assert score(m, n) == pytest.approx(score(m + shift, n + shift), abs=1e-9)
    cos_d, sin_d = rope_angles(np.array([n - m]), 8, dtype=np.float64)
    assert score(m, n) == pytest.approx(float(q @ rotate_pairs(k, cos_d[0], sin_d[0])), abs=1e-9)


def test_rotation_keeps_norms_and_position_zero_is_identity() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 6))
    cos, sin = rope_angles(np.arange(5), 6, dtype=np.float64)
    y = apply_rope(ag.tensor(x), cos, sin).numpy()
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), np.linalg.norm(x, axis=-1), rtol=1e-12)
    np.testing.assert_allclose(y[..., 0, :], x[..., 0, :], rtol=0, atol=0)


def test_rope_pairs_are_interleaved() -> None:
    cos, sin = rope_angles(np.array([1]), 2, base=10000.0, dtype=np.float64)
    y = rotate_pairs(np.array([[1.0, 0.0]]), cos, sin)
    np.testing.assert_allclose(y, [[np.cos(1.0), np.sin(1.0)]])


def test_rope_gradient_matches_finite_differences() -> None:
    rng = np.random.default_rng(1)
    x = ag.tensor(rng.standard_normal((1, 2, 4, 6)), requires_grad=True)
    cos, sin = rope_angles(np.arange(4), 6, dtype=np.float64)
    assert ag.gradcheck(lambda t: apply_rope(t, cos, sin), (x,))
    assert ag.gradgradcheck(lambda t: apply_rope(t, cos, sin), (x,))


def test_rope_rejects_angles_that_do_not_fit() -> None:
    cos, sin = rope_angles(np.arange(4), 6)
    with pytest.raises(Exception, match="apply_rope"):
        apply_rope(ag.ones(1, 1, 4, 8), cos, sin)
    with pytest.raises(ValueError, match="even"):
        rope_angles(np.arange(4), 5)
