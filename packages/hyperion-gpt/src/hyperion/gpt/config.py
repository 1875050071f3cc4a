"""``GPTConfig``: the shape of a GPT, validated when it is made.

Examples:
    >>> GPTConfig(vocab_size=65, block_size=64, n_layer=4, n_head=4, n_embd=128).head_dim
    32
    >>> GPTConfig(vocab_size=65, n_embd=100, n_head=3)
    Traceback (most recent call last):
    ...
    ValueError: GPTConfig: n_embd (100) must be divisible by n_head (3)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["POSITIONALS", "GPTConfig"]

#: The position encodings a GPT can use.
POSITIONALS = ("learned", "rope")


@dataclass(frozen=True)
class GPTConfig:
    """The hyperparameters of :class:`~hyperion.gpt.GPT`.

    Attributes:
        vocab_size: number of token ids.
        block_size: the longest context (learned position table size; RoPE tables are this long too).
        n_layer: transformer blocks.
        n_head: query heads per block.
        n_kv_head: key/value heads (``None`` = ``n_head``: ordinary multi-head attention;
            ``1``: multi-query; in between: grouped-query). Must divide ``n_head``.
        n_embd: the residual stream's width (divisible by ``n_head``).
        dropout: dropout on embeddings, attention weights and residual branches (training only).
        bias: biases in the linear layers and LayerNorms.
        positional: ``"learned"`` absolute positions or ``"rope"`` (rotary, on queries and keys).
        tie_weights: the LM head shares the token embedding's matrix.
        rope_base: the base ``b`` of the rotary frequencies ``b^(-2i/d)``.
    """

    vocab_size: int = 65
    block_size: int = 64
    n_layer: int = 4
    n_head: int = 4
    n_kv_head: int | None = None
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = True
    positional: str = "learned"
    tie_weights: bool = True
    rope_base: float = 10000.0

    def __post_init__(self) -> None:
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"GPTConfig: {name} must be a positive integer, got {value!r}")
        if self.n_kv_head is not None and (
            isinstance(self.n_kv_head, bool) or not isinstance(self.n_kv_head, int) or self.n_kv_head < 1
        ):
            raise ValueError(f"GPTConfig: n_kv_head must be a positive integer or None, got {self.n_kv_head!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"GPTConfig: n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        if self.n_head % self.kv_heads:
            raise ValueError(f"GPTConfig: n_head ({self.n_head}) must be divisible by n_kv_head ({self.kv_heads})")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, int | float) or not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"GPTConfig: dropout must be in [0, 1), got {self.dropout!r}")
        if self.positional not in POSITIONALS:
            raise ValueError(f"GPTConfig: positional must be one of {POSITIONALS}, got {self.positional!r}")
        if self.positional == "rope" and self.head_dim % 2:
            raise ValueError(f"GPTConfig: RoPE rotates pairs, so the head size ({self.head_dim}) must be even")
        if not isinstance(self.bias, bool) or not isinstance(self.tie_weights, bool):
            raise ValueError(f"GPTConfig: bias and tie_weights must be booleans, got {self.bias!r}, {self.tie_weights!r}")
        if isinstance(self.rope_base, bool) or not isinstance(self.rope_base, int | float) or not self.rope_base > 1.0:
            raise ValueError(f"GPTConfig: rope_base must be > 1, got {self.rope_base!r}")

    @property
    def kv_heads(self) -> int:
        """The number of key/value heads (``n_kv_head``, or ``n_head`` when it is ``None``)."""
        return self.n_head if self.n_kv_head is None else self.n_kv_head

    @property
    def head_dim(self) -> int:
        """The size of one head, ``n_embd // n_head``."""
        return self.n_embd // self.n_head

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> GPTConfig:
        """Build from :meth:`to_dict`'s output.

        Raises:
            ValueError: for an unknown field (named) or an invalid value.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"GPTConfig: unknown fields {unknown}; expected some of {sorted(known)}")
        return cls(**dict(values))
