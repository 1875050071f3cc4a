"""``Dropout``: active in training mode only."""

from __future__ import annotations

import numpy as np

from hyperion.autograd import Tensor
from hyperion.nn.functional.dropout import dropout
from hyperion.nn.module import Module

__all__ = ["Dropout"]


class Dropout(Module):
    """Zero elements with probability ``p`` during training, scaling the rest by ``1/(1-p)``.

    Args:
        p: drop probability in ``[0, 1]``.
        inplace: accepted for PyTorch compatibility.
        generator: the mask's generator (default: :func:`hyperion.nn.init.default_generator`,
            looked up at each call).
        seed: seed for a generator owned by this layer (when ``generator`` is not given).

    Examples:
        >>> Dropout(0.2)
        Dropout(p=0.2, inplace=False)
    """

    def __init__(
        self,
        p: float = 0.5,
        inplace: bool = False,
        generator: np.random.Generator | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace
        self.generator = (
            generator if generator is not None else (np.random.default_rng(seed) if seed is not None else None)
        )

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
        """Dropout in training mode, identity in evaluation mode."""
        return dropout(input, self.p, self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
