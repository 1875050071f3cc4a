"""Malformed tokenizer JSON is rejected with a ``ValueError`` naming the file, without absurd memory.

Each file is read by :func:`hyperion.gpt.tokenizers.load` under ``tracemalloc``: the peak of Python
allocations while rejecting it must stay under 16 MiB, so a small hand-crafted file cannot make the
loader build a huge vocabulary. (Checkpoints are hyperion-nn's format, whose corrupt-file suite
covers them; ``test_cli_errors`` checks the GPT commands report them in one line.)
"""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from hyperion.gpt.tokenizers import BPETokenizer, CharTokenizer, load, save

PEAK_LIMIT = 16 * 2**20


def _bomb(merges: int) -> dict[str, Any]:
    """Merges that double a token's length each time: ``merges`` entries describe a 2**merges-byte token."""
    return {"kind": "bpe", "version": 1, "merges": [[97, 97]] + [[256 + n, 256 + n] for n in range(merges - 1)]}


MALFORMED: list[tuple[str, bytes | str | dict[str, Any] | list[Any], tuple[str, ...]]] = [
    ("empty file", b"", ()),
    ("not JSON", b"kind: char", ()),
    ("truncated", '{"kind": "char", "chars": "abc', ()),
    ("not UTF-8", b'{"kind": "char", "chars": "\xff\xfe"}', ()),
    ("a list", [1, 2, 3], ("None",)),
    ("unknown kind", {"kind": "wordpiece"}, ("'wordpiece'",)),
    ("kind missing", {"chars": "abc"}, ("None",)),
    ("kind not a string", {"kind": ["char"]}, ("['char']",)),
    ("chars missing", {"kind": "char"}, ("chars",)),
    ("chars a number", {"kind": "char", "chars": 12}, ()),
    ("chars repeated", {"kind": "char", "chars": "abca"}, ("repeated",)),
    ("chars as a list of words", {"kind": "char", "chars": ["ab", "c"]}, ("single character",)),
    ("merges missing", {"kind": "bpe"}, ("merges",)),
    ("merges a string", {"kind": "bpe", "merges": "97 98"}, ()),
    ("merge of three ids", {"kind": "bpe", "merges": [[97, 98, 99]]}, ()),
    ("merge of strings", {"kind": "bpe", "merges": [["a", "b"]]}, ()),
    ("merge of an undefined id", {"kind": "bpe", "merges": [[97, 400]]}, ("merge 0", "(97, 400)")),
    ("merge of a negative id", {"kind": "bpe", "merges": [[-1, 97]]}, ("merge 0",)),
    ("merge of a huge id", {"kind": "bpe", "merges": [[10**30, 97]]}, ("merge 0",)),
    ("pattern not a regex", {"kind": "bpe", "merges": [], "pattern": "(unclosed"}, ()),
    ("pattern not a string", {"kind": "bpe", "merges": [], "pattern": 42}, ()),
    ("deep nesting", "[" * 200_000 + "]" * 200_000, ()),
    ("doubling merges", _bomb(24), ("merge",)),
]

KNOWN: dict[str, str] = {}  # label -> the fix, for a case that documents a known defect (strict xfail)


def _write(path: Path, content: bytes | str | dict[str, Any] | list[Any]) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_text(json.dumps(content), encoding="utf-8")
    return path


def _params() -> list[Any]:
    return [
        pytest.param(
            content,
            named,
            id=label,
            marks=[pytest.mark.xfail(strict=True, reason=KNOWN[label])] if label in KNOWN else [],
        )
        for label, content, named in MALFORMED
    ]


@pytest.mark.parametrize(("content", "named"), _params())
def test_malformed_tokenizer_json_is_rejected_naming_the_file(
    tmp_path: Path, content: bytes | str | dict[str, Any] | list[Any], named: tuple[str, ...]
) -> None:
    path = _write(tmp_path / "tokenizer.json", content)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as caught:
            load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = str(caught.value)
    assert str(path) in message and "not a valid tokenizer file" in message, message
    assert all(name in message for name in named), f"{message!r} does not name {named}"
    assert peak < PEAK_LIMIT, f"rejecting a {path.stat().st_size}-byte file took {peak / 2**20:.1f} MiB"


def test_a_missing_tokenizer_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nothing.json"):
        load(tmp_path / "nothing.json")


@pytest.mark.parametrize("tokenizer", [CharTokenizer.train("hello, world"), BPETokenizer.train("abab abab ab", 260)])
def test_a_saved_tokenizer_survives_the_round_trip_and_leaves_no_temporary_file(tmp_path: Path, tokenizer: Any) -> None:
    path = tmp_path / "tok.json"
    save(tokenizer, path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tok.json"]
    again = load(path)
    assert again.to_dict() == tokenizer.to_dict()
    assert again.decode(again.encode("hello, world")) == "hello, world"
