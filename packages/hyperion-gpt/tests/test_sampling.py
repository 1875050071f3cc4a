"""Sampling: top-k support, the top-p nucleus, temperature → 0 is greedy, frequencies match probabilities."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from hyperion.gpt import next_token_probs, sample_next
from hyperion.gpt.sampling import top_k_filter, top_p_filter

logit_rows = arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(2, 12)), elements=st.floats(-8, 8))


@settings(max_examples=40, deadline=None)
@given(logits=logit_rows, k=st.integers(1, 12), seed=st.integers(0, 1000))
def test_top_k_never_samples_outside_the_k_most_likely(logits: np.ndarray, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    probs = next_token_probs(logits, top_k=k)
    kth = np.sort(logits, axis=-1)[:, -min(k, logits.shape[1])]
    assert np.all(probs[logits < kth[:, None]] == 0)
    for _ in range(20):
        token = sample_next(logits, rng, top_k=k)
        assert np.all(logits[np.arange(len(token)), token] >= kth)


@settings(max_examples=60, deadline=None)
@given(logits=logit_rows, p=st.floats(0.05, 1.0))
def test_top_p_keeps_the_smallest_set_with_mass_at_least_p(logits: np.ndarray, p: float) -> None:
    full = next_token_probs(logits)
    kept = top_p_filter(full, p) > 0
    for row in range(full.shape[0]):
        probs, keep = full[row], kept[row]
        assert probs[keep].sum() >= p - 1e-12  # enough mass
        # every kept token is at least as likely as every dropped one
        if (~keep).any():
            assert probs[keep].min() >= probs[~keep].max()
        # and no smaller set reaches p: dropping the least likely kept token falls below p
        if keep.sum() > 1:
            assert probs[keep].sum() - probs[keep].min() < p + 1e-12
    renormalised = next_token_probs(logits, top_p=p)
    np.testing.assert_allclose(renormalised.sum(-1), 1.0)
    assert np.array_equal(renormalised > 0, kept)


def test_top_p_example() -> None:
    probs = np.array([[0.5, 0.3, 0.15, 0.05]])
    assert (top_p_filter(probs, 0.8) > 0).tolist() == [[True, True, False, False]]
    assert (top_p_filter(probs, 0.81) > 0).tolist() == [[True, True, True, False]]
    assert (top_p_filter(probs, 0.5) > 0).tolist() == [[True, False, False, False]]


def test_top_k_keeps_ties() -> None:
    out = top_k_filter(np.array([[1.0, 3.0, 3.0, 0.0]]), 1)
    assert np.isfinite(out).tolist() == [[False, True, True, False]]
    with pytest.raises(ValueError, match="top_k"):
        top_k_filter(np.zeros((1, 3)), 0)


@settings(max_examples=30, deadline=None)
@given(logits=logit_rows, seed=st.integers(0, 100))
def test_temperature_to_zero_is_greedy(logits: np.ndarray, seed: int) -> None:
    rng = np.random.default_rng(seed)
    top_two = np.sort(logits, axis=-1)[:, -2:]
    if np.any(top_two[:, 1] - top_two[:, 0] < 1e-3):
        return  # a near-tie: the limit is still greedy but needs a smaller temperature
    greedy = sample_next(logits, rng, greedy=True)
    assert np.array_equal(sample_next(logits, rng, temperature=1e-6), greedy)
    assert np.array_equal(sample_next(logits, rng, temperature=0.0), greedy)


def test_empirical_frequencies_match_probabilities_chi_square() -> None:
    logits = np.log(np.array([[0.4, 0.25, 0.2, 0.1, 0.05]]))
    rng = np.random.default_rng(1234)
    draws = 20_000
    counts = np.zeros(5)
    for _ in range(draws // 500):
        tokens = sample_next(np.repeat(logits, 500, axis=0), rng, temperature=1.0)
        counts += np.bincount(tokens, minlength=5)
    expected = draws * next_token_probs(logits)[0]
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 18.47  # the 0.999 quantile of chi-square with 4 degrees of freedom


def test_temperature_sharpens_and_flattens() -> None:
    logits = np.array([[2.0, 1.0, 0.0]])
    cold, warm = next_token_probs(logits, temperature=0.5), next_token_probs(logits, temperature=2.0)
    base = next_token_probs(logits)
    assert cold[0, 0] > base[0, 0] > warm[0, 0]
    with pytest.raises(ValueError, match="temperature"):
        next_token_probs(logits, temperature=0.0)
