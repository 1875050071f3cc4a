"""Character-level tokenizer: one id per distinct character of the training text.

The vocabulary is the sorted set of characters of the text it is built from (as nanoGPT's
``shakespeare_char``). Encoding a character outside that vocabulary is an error that names
the characters, never a silent substitution.

Examples:
    >>> tok = CharTokenizer.train("hello")
    >>> tok.vocab_size, tok.encode("hole")
    (4, [1, 3, 2, 0])
    >>> tok.decode(tok.encode("hole"))
    'hole'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["CharTokenizer", "UnknownCharacterError"]


class UnknownCharacterError(ValueError):
    """Text holds characters that are not in a character tokenizer's vocabulary."""


class CharTokenizer:
    """Maps each character of a fixed alphabet to its index.

    Args:
        chars: the vocabulary, in id order (distinct characters).

    Raises:
        ValueError: for repeated or multi-character entries.
    """

    kind = "char"

    def __init__(self, chars: Sequence[str]) -> None:
        chars = list(chars)
        if any(not isinstance(c, str) or len(c) != 1 for c in chars):
            raise ValueError("CharTokenizer: every vocabulary entry must be a single character")
        if len(set(chars)) != len(chars):
            raise ValueError("CharTokenizer: the vocabulary has repeated characters")
        self.chars = chars
        self._index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def train(cls, text: str) -> CharTokenizer:
        """The tokenizer whose vocabulary is the sorted distinct characters of ``text``."""
        return cls(sorted(set(text)))

    @property
    def vocab_size(self) -> int:
        """Number of ids."""
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        """The ids of ``text``'s characters.

        Raises:
            UnknownCharacterError: naming the characters not in the vocabulary.
        """
        try:
            return [self._index[c] for c in text]
        except KeyError:
            unknown = sorted({c for c in text if c not in self._index})
            raise UnknownCharacterError(
                f"CharTokenizer: characters not in the vocabulary: {unknown!r} "
                f"(the vocabulary has {self.vocab_size} characters from the training text)"
            ) from None

    def encode_array(self, text: str) -> np.ndarray:
        """``encode`` as a ``uint16``/``int64`` NumPy array, vectorised over code points (fast on big texts)."""
        codes = np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype=np.uint32).astype(np.int64)
        vocab_codes = np.array([ord(c) for c in self.chars], dtype=np.int64)
        order = np.argsort(vocab_codes)
        sorted_codes = vocab_codes[order]
        where = np.minimum(np.searchsorted(sorted_codes, codes), max(len(sorted_codes) - 1, 0))
        if len(sorted_codes) == 0 or not np.array_equal(sorted_codes[where], codes):
            if codes.size:
                self.encode(text)  # raises, naming the characters
        return order[where] if codes.size else np.zeros(0, dtype=np.int64)

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids``.

        Raises:
            ValueError: for an id outside the vocabulary.
        """
        out = []
        for i in ids:
            i = int(i)
            if not 0 <= i < self.vocab_size:
                raise ValueError(f"CharTokenizer: id {i} is outside the vocabulary [0, {self.vocab_size})")
            out.append(self.chars[i])
        return "".join(out)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (see :func:`hyperion.gpt.tokenizers.from_dict`)."""
        return {"kind": self.kind, "version": 1, "chars": "".join(self.chars)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CharTokenizer:
        """Rebuild from :meth:`to_dict`'s output."""
        return cls(list(data["chars"]))

    def __repr__(self) -> str:
        return f"CharTokenizer(vocab_size={self.vocab_size})"
