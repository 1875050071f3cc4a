"""Loss modules: ``CrossEntropyLoss``, ``NLLLoss``, ``MSELoss``, ``BCELoss``, ``BCEWithLogitsLoss``.

Each holds its options (and class weights as a buffer) and calls the function
of the same name in :mod:`hyperion.nn.functional`.

Examples:
    >>> import hyperion.autograd as ag
    >>> loss = CrossEntropyLoss(label_smoothing=0.1)
    >>> loss
    CrossEntropyLoss()
    >>> round(loss(ag.tensor([[0.0, 0.0]]), ag.tensor([1])).item(), 4)
    0.6931
"""

from __future__ import annotations

from typing import Any

from hyperion.autograd import Tensor
from hyperion.nn.functional._common import as_input
from hyperion.nn.functional.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
    nll_loss,
)
from hyperion.nn.layers._validate import REDUCTIONS, check_choice, check_real
from hyperion.nn.module import Module

__all__ = ["BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss", "NLLLoss"]


class _WeightedLoss(Module):
    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__()
        check_choice(type(self).__name__, "reduction", reduction, REDUCTIONS)
        self.register_buffer("weight", None if weight is None else as_input(weight, "weight").detach())
        self.reduction = reduction


class CrossEntropyLoss(_WeightedLoss):
    """:func:`~hyperion.nn.functional.cross_entropy` as a module (logits and class indices or probabilities)."""

    def __init__(
        self,
        weight: Tensor | None = None,
        ignore_index: int = -100,
        reduction: str = "mean",
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__(weight, reduction)
        check_real("CrossEntropyLoss", "label_smoothing", label_smoothing, low=0.0, high=1.0)
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
        """The loss of ``input`` logits against ``target``."""
        return cross_entropy(input, target, self.weight, self.ignore_index, self.reduction, self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """:func:`~hyperion.nn.functional.nll_loss` as a module (log-probabilities and class indices)."""

    def __init__(self, weight: Tensor | None = None, ignore_index: int = -100, reduction: str = "mean") -> None:
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
        """The loss of ``input`` log-probabilities against ``target``."""
        return nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class MSELoss(Module):
    """:func:`~hyperion.nn.functional.mse_loss` as a module."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = check_choice("MSELoss", "reduction", reduction, REDUCTIONS)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
        """Mean (or summed) squared error."""
        return mse_loss(input, target, self.reduction)


class BCELoss(_WeightedLoss):
    """:func:`~hyperion.nn.functional.binary_cross_entropy` as a module (probabilities)."""

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
        """Binary cross-entropy of probabilities."""
        return binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_WeightedLoss):
    """:func:`~hyperion.nn.functional.binary_cross_entropy_with_logits` as a module."""

    def __init__(self, weight: Tensor | None = None, reduction: str = "mean", pos_weight: Tensor | None = None) -> None:
        super().__init__(weight, reduction)
        self.register_buffer("pos_weight", None if pos_weight is None else as_input(pos_weight, "pos_weight").detach())

    def forward(self, input: Tensor, target: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
        """Binary cross-entropy of logits."""
        return binary_cross_entropy_with_logits(input, target, self.weight, self.reduction, self.pos_weight)
