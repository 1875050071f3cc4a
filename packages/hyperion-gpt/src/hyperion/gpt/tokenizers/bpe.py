"""Byte-level BPE: start from the 256 byte values, repeatedly merge the most frequent adjacent pair.

Training (:meth:`BPETokenizer.train`):

1. split the text into chunks (a run of letters with an optional leading space, a run of
   digits, a run of other symbols, or whitespace) so merges never cross word boundaries;
2. write each distinct chunk as its UTF-8 bytes, with its count;
3. ``vocab_size − 256`` times: count adjacent pairs over all chunks (weighted by count), take
   the most frequent pair — ties broken by the smallest pair, so training is deterministic —
   give it the next id and replace it everywhere.

Pair counts are updated incrementally: only the chunks that contain the merged pair are
recounted. Encoding applies the merges in the order they were learned; decoding joins the
bytes of each id and decodes UTF-8, so ``decode(encode(s)) == s`` for every string.

Examples:
    >>> tok = BPETokenizer.train("low lower lowest " * 20, vocab_size=260)
    >>> len(tok.merges), tok.decode(tok.encode("lowest low"))
    (4, 'lowest low')
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["CHUNK_PATTERN", "BPETokenizer"]

#: How text is split before merging (letters with an optional leading space, digits, other symbols, spaces).
CHUNK_PATTERN = r" ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+|_+"

#: The longest token a merge list may describe. Trained tokens are substrings of repeated chunks of
#: text, far shorter; without a bound, a file of a few dozen doubling merges describes terabytes.
MAX_TOKEN_BYTES = 1 << 16


def _merge_word(word: tuple[int, ...], pair: tuple[int, int], new_id: int) -> tuple[int, ...]:
    out: list[int] = []
    i = 0
    while i < len(word):
        if i + 1 < len(word) and word[i] == pair[0] and word[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)


def _pairs(word: tuple[int, ...]) -> Counter[tuple[int, int]]:
    return Counter(zip(word, word[1:]))


class BPETokenizer:
    """A byte-level byte-pair-encoding tokenizer.

    Args:
        merges: the learned merges in order; merge ``i`` creates id ``256 + i``.
        pattern: the chunking regular expression.

    Raises:
        ValueError: for a merge that refers to an id not yet defined.
    """

    kind = "bpe"

    def __init__(self, merges: Iterable[tuple[int, int]], pattern: str = CHUNK_PATTERN) -> None:
        self.merges = [(int(a), int(b)) for a, b in merges]
        self.pattern = pattern
        self._regex = re.compile(pattern)
        self.vocab: list[bytes] = [bytes([i]) for i in range(256)]
        for n, (a, b) in enumerate(self.merges):
            if not (0 <= a < 256 + n and 0 <= b < 256 + n):
                raise ValueError(f"BPETokenizer: merge {n} {(a, b)} refers to an id not defined before it")
            if len(self.vocab[a]) + len(self.vocab[b]) > MAX_TOKEN_BYTES:
                raise ValueError(
                    f"BPETokenizer: merge {n} {(a, b)} makes a token of {len(self.vocab[a]) + len(self.vocab[b])} "
                    f"bytes, more than the {MAX_TOKEN_BYTES} allowed"
                )
            self.vocab.append(self.vocab[a] + self.vocab[b])
        self._ranks = {pair: n for n, pair in enumerate(self.merges)}
        self._cache: dict[str, list[int]] = {}

    @classmethod
    def train(cls, text: str, vocab_size: int, pattern: str = CHUNK_PATTERN) -> BPETokenizer:
        """Learn ``vocab_size − 256`` merges from ``text`` (fewer if no pair repeats).

        Raises:
            ValueError: for ``vocab_size < 256``.
        """
        if vocab_size < 256:
            raise ValueError(f"BPETokenizer.train: vocab_size must be at least 256 (the bytes), got {vocab_size}")
        counts = Counter(re.findall(pattern, text))
        words = [tuple(chunk.encode("utf-8", errors="surrogatepass")) for chunk in counts]
        freq = list(counts.values())
        pair_counts: Counter[tuple[int, int]] = Counter()
        where: dict[tuple[int, int], set[int]] = defaultdict(set)
        for w, word in enumerate(words):
            for pair, n in _pairs(word).items():
                pair_counts[pair] += n * freq[w]
                where[pair].add(w)
        merges: list[tuple[int, int]] = []
        while len(merges) < vocab_size - 256:
            best = max(pair_counts.items(), key=lambda item: (item[1], (-item[0][0], -item[0][1])), default=None)
            if best is None or best[1] < 2:
                break
            pair = best[0]
            new_id = 256 + len(merges)
            merges.append(pair)
            for w in list(where[pair]):
                old = words[w]
                new = _merge_word(old, pair, new_id)
                for p, n in _pairs(old).items():
                    pair_counts[p] -= n * freq[w]
                    if pair_counts[p] <= 0:
                        del pair_counts[p]
                    where[p].discard(w)
                for p, n in _pairs(new).items():
                    pair_counts[p] += n * freq[w]
                    where[p].add(w)
                words[w] = new
            where.pop(pair, None)
        return cls(merges, pattern)

    @property
    def vocab_size(self) -> int:
        """``256 + len(merges)``."""
        return len(self.vocab)

    def _encode_chunk(self, chunk: str) -> list[int]:
        cached = self._cache.get(chunk)
        if cached is not None:
            return cached
        word = list(chunk.encode("utf-8", errors="surrogatepass"))
        while len(word) > 1:
            ranked = [(self._ranks.get(p, len(self._ranks)), i) for i, p in enumerate(zip(word, word[1:]))]
            rank, _ = min(ranked)
            if rank == len(self._ranks):
                break
            word = list(_merge_word(tuple(word), self.merges[rank], 256 + rank))
        if len(self._cache) < 100_000:
            self._cache[chunk] = word
        return word

    def encode(self, text: str) -> list[int]:
        """The ids of ``text`` (every string can be encoded: unknown text falls back to bytes)."""
        ids: list[int] = []
        for chunk in self._regex.findall(text):
            ids.extend(self._encode_chunk(chunk))
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids`` (a sequence cut inside a multi-byte character decodes it as U+FFFD).

        Raises:
            ValueError: for an id outside the vocabulary.
        """
        parts = []
        for i in ids:
            i = int(i)
            if not 0 <= i < self.vocab_size:
                raise ValueError(f"BPETokenizer: id {i} is outside the vocabulary [0, {self.vocab_size})")
            parts.append(self.vocab[i])
        return b"".join(parts).decode("utf-8", errors="replace")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (see :func:`hyperion.gpt.tokenizers.from_dict`)."""
        return {"kind": self.kind, "version": 1, "pattern": self.pattern, "merges": [list(m) for m in self.merges]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BPETokenizer:
        """Rebuild from :meth:`to_dict`'s output."""
        return cls([tuple(m) for m in data["merges"]], data.get("pattern", CHUNK_PATTERN))

    def __repr__(self) -> str:
        return f"BPETokenizer(vocab_size={self.vocab_size})"
