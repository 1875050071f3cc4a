"""Tokenizers: character-level (:class:`CharTokenizer`) and byte-level BPE (:class:`BPETokenizer`).

Both have ``encode(text) -> list[int]``, ``decode(ids) -> str``, ``vocab_size`` and
``to_dict()``; :func:`save` / :func:`load` store them as JSON (atomically).

Examples:
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "tok.json")
    >>> save(CharTokenizer.train("abc"), path)
    >>> load(path).encode("cab")
    [2, 0, 1]
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from typing import Any

from hyperion.gpt.tokenizers.bpe import CHUNK_PATTERN, BPETokenizer
from hyperion.gpt.tokenizers.char import CharTokenizer, UnknownCharacterError
from hyperion.tensor.files import write_json_atomic

__all__ = [
    "CHUNK_PATTERN",
    "BPETokenizer",
    "CharTokenizer",
    "Tokenizer",
    "UnknownCharacterError",
    "from_dict",
    "load",
    "save",
    "train_tokenizer",
]

Tokenizer = CharTokenizer | BPETokenizer
KINDS = {"char": CharTokenizer, "bpe": BPETokenizer}


def train_tokenizer(kind: str, text: str, vocab_size: int = 512) -> Tokenizer:
    """A ``"char"`` tokenizer of ``text``'s characters, or a ``"bpe"`` one with ``vocab_size`` ids.

    Raises:
        ValueError: for an unknown kind.
    """
    if kind == "char":
        return CharTokenizer.train(text)
    if kind == "bpe":
        return BPETokenizer.train(text, vocab_size)
    raise ValueError(f"unknown tokenizer {kind!r}; expected one of {sorted(KINDS)}")


def from_dict(data: Mapping[str, Any]) -> Tokenizer:
    """The tokenizer a ``to_dict()`` produced.

    Raises:
        ValueError: for an unknown or missing ``kind``.
    """
    kind = data.get("kind") if isinstance(data, Mapping) else None
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"unknown tokenizer kind {kind!r}; expected one of {sorted(KINDS)}")
    return KINDS[kind].from_dict(data)


def save(tokenizer: Tokenizer, path: str | os.PathLike[str]) -> None:
    """Write the tokenizer as JSON, atomically."""
    write_json_atomic(path, tokenizer.to_dict())


def load(path: str | os.PathLike[str]) -> Tokenizer:
    """Read a tokenizer written by :func:`save`.

    Raises:
        ValueError: naming the file, if it is not a tokenizer description.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return from_dict(data)
    except (ValueError, KeyError, TypeError, RecursionError, re.error) as exc:
        raise ValueError(f"{os.fspath(path)}: not a valid tokenizer file ({exc})") from exc
