"""Property-based fuzzing of the GPT's input handling.

Settings (every Hypothesis test of this suite): ``max_examples=40``, ``deadline=None`` (shared CI
machines), ``derandomize=True`` (the same examples on every run, so a failure reproduces) and
``suppress_health_check=[HealthCheck.too_slow]``.
"""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hyperion.gpt import BPETokenizer, CharTokenizer, GPTConfig

from .cases import model

FUZZ = settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
BPE = BPETokenizer.train("the cat sat on the mat; the cat ate the rat. " * 5, 300)


@FUZZ
@given(st.text(max_size=60))
def test_bpe_round_trips_any_text(text: str) -> None:
    ids = BPE.encode(text)
    assert all(0 <= i < BPE.vocab_size for i in ids)
    assert BPE.decode(ids) == text.encode("utf-8", errors="surrogatepass").decode("utf-8", errors="replace")


@FUZZ
@given(st.text(min_size=1, max_size=40), st.text(max_size=40))
def test_char_tokenizer_encodes_its_alphabet_and_names_what_it_cannot(train: str, text: str) -> None:
    tokenizer = CharTokenizer.train(train)
    unknown = sorted(set(text) - set(train))
    if unknown:
        try:
            tokenizer.encode(text)
        except ValueError as exc:
            assert all(repr(c) in str(exc) for c in unknown), str(exc)
        else:
            raise AssertionError(f"{text!r} encoded with characters {unknown} outside the vocabulary")
    else:
        assert tokenizer.decode(tokenizer.encode(text)) == text


@FUZZ
@given(
    st.integers(-2, 70), st.integers(-2, 40), st.integers(-1, 3), st.integers(-1, 9),
    st.one_of(st.none(), st.integers(-1, 9)), st.integers(-2, 40), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["learned", "rope", "alibi"]),
)  # fmt: skip
def test_gpt_config_either_builds_or_raises_value_error(
    vocab: int, block: int, layers: int, heads: int, kv: int | None, embd: int, dropout: float, positional: str
) -> None:
    try:
        config = GPTConfig(vocab, block, layers, heads, kv, embd, dropout, positional=positional)
    except ValueError as exc:
        assert str(exc).startswith("GPTConfig:"), str(exc)
        return
    assert config.n_embd % config.n_head == 0 and config.n_head % config.kv_heads == 0
    assert 0 <= config.dropout < 1


@FUZZ
@given(st.lists(st.lists(st.integers(-3, 14), min_size=0, max_size=10), min_size=1, max_size=3))
def test_model_input_either_runs_or_raises_value_error(rows: list[list[int]]) -> None:
    width = max(len(r) for r in rows)
    ids = np.array([r + [0] * (width - len(r)) for r in rows], dtype=np.int64)
    try:
        logits, _ = model()(ids)
    except ValueError as exc:
        assert "GPT:" in str(exc), str(exc)
        assert ids.size and (ids.min() < 0 or ids.max() >= 11 or width > 8), f"{ids.tolist()} refused: {exc}"
        return
    assert logits.shape == (*ids.shape, 11) and np.isfinite(logits.detach().numpy()).all()
