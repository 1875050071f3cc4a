"""``Embedding``: a lookup table of learned vectors."""

from __future__ import annotations

from typing import Any

import numpy as np

from hyperion.autograd import Tensor, no_grad
from hyperion.nn import init
from hyperion.nn.functional._common import arr
from hyperion.nn.functional.embedding import embedding
from hyperion.nn.layers._params import generator_of, parameter
from hyperion.nn.module import Module

__all__ = ["Embedding"]


class Embedding(Module):
    """Rows of ``weight`` ``(num_embeddings, embedding_dim)``, initialised ``N(0, 1)`` (the padding row zero).

    Args:
        num_embeddings: table size.
        embedding_dim: vector size.
        padding_idx: a row kept at zero that receives no gradient.
        device: ``"cpu"`` or ``"cuda"``.
        dtype: parameter dtype (``float32`` by default).
        generator: the initialisation's random generator.
        seed: seed for a new generator (when ``generator`` is not given).

    Examples:
        >>> Embedding(10, 3, padding_idx=0)
        Embedding(10, 3, padding_idx=0)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        *,
        device: Any = None,
        dtype: Any = None,
        generator: np.random.Generator | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within num_embeddings {num_embeddings}")
            padding_idx %= num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.weight = parameter(num_embeddings, embedding_dim, dtype=dtype, device=device)
        self.reset_parameters(generator_of(generator, seed))

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """Re-draw the table from ``N(0, 1)`` and zero the padding row."""
        init.normal_(self.weight, generator=generator)
        if self.padding_idx is not None:
            with no_grad():
                arr(self.weight.data)[self.padding_idx] = 0

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
        """Look up ``input`` (integer indices of any shape)."""
        return embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text + (f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")
