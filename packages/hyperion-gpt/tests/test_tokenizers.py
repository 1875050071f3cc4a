"""Tokenizers: round trips on arbitrary Unicode, unknown characters, BPE determinism, JSON files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperion.gpt.tokenizers import BPETokenizer, CharTokenizer, UnknownCharacterError, load, save, train_tokenizer

SMALL_BPE = BPETokenizer.train("the theme of the thesis: then, there, these. 123 4567 " * 30, vocab_size=300)


@settings(max_examples=100, deadline=None)
@given(st.text())
def test_char_round_trip_on_its_own_text(text: str) -> None:
    tok = CharTokenizer.train(text)
    assert tok.decode(tok.encode(text)) == text
    assert tok.encode_array(text).tolist() == tok.encode(text)


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_bpe_round_trips_any_unicode(text: str) -> None:
    assert SMALL_BPE.decode(SMALL_BPE.encode(text)) == text


@settings(max_examples=20, deadline=None)
@given(st.text(min_size=1, max_size=200))
def test_bpe_trained_on_arbitrary_text_round_trips_it(text: str) -> None:
    tok = BPETokenizer.train(text, vocab_size=280)
    assert tok.decode(tok.encode(text)) == text


def test_unknown_characters_are_an_error_naming_them() -> None:
    tok = CharTokenizer.train("abc")
    with pytest.raises(UnknownCharacterError, match=r"\['x', 'é'\]"):
        tok.encode("abxé")
    with pytest.raises(UnknownCharacterError):
        tok.encode_array("zz")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tok.decode([3])


def test_bpe_merges_reproduce_on_retraining(text: str) -> None:
    first = BPETokenizer.train(text, vocab_size=320)
    second = BPETokenizer.train(text, vocab_size=320)
    assert first.merges == second.merges
    assert len(first.merges) == 64
    ids = first.encode(text)
    assert len(ids) < 0.6 * len(text.encode("utf-8"))  # merges compress the text they were learned on


def test_bpe_learns_the_most_frequent_pair_first() -> None:
    tok = BPETokenizer.train("aaab aaab aaab", vocab_size=257)
    assert tok.merges == [(ord("a"), ord("a"))]
    assert tok.vocab[256] == b"aa"


def test_bpe_splits_multibyte_characters_into_bytes() -> None:
    tok = BPETokenizer([])
    assert tok.encode("é") == [0xC3, 0xA9]
    assert tok.decode([0xC3]) == "\ufffd"  # half a character decodes as the replacement character


def test_save_and_load(tmp_path: Path) -> None:
    for tok in (CharTokenizer.train("hello world"), SMALL_BPE):
        path = tmp_path / f"{tok.kind}.json"
        save(tok, path)
        again = load(path)
        assert type(again) is type(tok)
        assert again.encode("hello world") == tok.encode("hello world")
    (tmp_path / "bad.json").write_text(json.dumps({"kind": "wordpiece"}))
    with pytest.raises(ValueError, match="bad.json"):
        load(tmp_path / "bad.json")


def test_train_tokenizer_validates() -> None:
    assert train_tokenizer("char", "ab").vocab_size == 2
    with pytest.raises(ValueError, match="unknown tokenizer"):
        train_tokenizer("word", "ab")
    with pytest.raises(ValueError, match="at least 256"):
        BPETokenizer.train("ab", vocab_size=100)
    with pytest.raises(ValueError, match="not defined before"):
        BPETokenizer([(300, 1)])
