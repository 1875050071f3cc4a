"""Small image classifiers for MNIST-style data: a three-layer MLP and a LeNet-style CNN.

Both take ``(N, 1, 28, 28)`` float images and return ``(N, num_classes)`` logits.

Examples:
    >>> MLP(hidden=(256, 128))
    MLP(
      (net): Sequential(
        (0): Flatten(start_dim=1, end_dim=-1)
        (1): Linear(in_features=784, out_features=256, bias=True)
        (2): ReLU()
        (3): Linear(in_features=256, out_features=128, bias=True)
        (4): ReLU()
        (5): Linear(in_features=128, out_features=10, bias=True)
      )
    )
    >>> sum(p.numel() for p in LeNet().parameters())
    61706
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hyperion.autograd import Tensor
from hyperion.nn.containers import Sequential
from hyperion.nn.layers.activation import ReLU
from hyperion.nn.layers.conv import Conv2d
from hyperion.nn.layers.linear import Linear
from hyperion.nn.layers.pooling import MaxPool2d
from hyperion.nn.layers.shape import Flatten
from hyperion.nn.module import Module

__all__ = ["MLP", "LeNet", "build_model"]


class MLP(Module):
    """Flatten → (Linear → ReLU) per hidden layer → Linear.

    Args:
        in_features: pixels per image (784 for 28×28).
        hidden: widths of the hidden layers (two gives the classic three-layer MLP).
        num_classes: outputs.
        generator: draws the initial weights (reproducible with a seeded generator).
    """

    def __init__(
        self,
        in_features: int = 784,
        hidden: Sequence[int] = (256, 128),
        num_classes: int = 10,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        layers: list[Module] = [Flatten()]
        width = in_features
        for size in hidden:
            layers += [Linear(width, size, generator=generator), ReLU()]
            width = size
        layers.append(Linear(width, num_classes, generator=generator))
        self.net = Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(N, num_classes)`` of images ``(N, ...)`` with ``in_features`` values each."""
        return self.net(x)


class LeNet(Module):
    """LeNet-5 with ReLU and max pooling.

    ``conv 5×5 (pad 2) → ReLU → pool 2 → conv 5×5 → ReLU → pool 2 → 120 → 84 → classes``,
    with configurable channel counts.

    Args:
        in_channels: image channels.
        channels: output channels of the two convolutions.
        hidden: widths of the two fully connected hidden layers.
        num_classes: outputs.
        generator: draws the initial weights.
    """

    def __init__(
        self,
        in_channels: int = 1,
        channels: tuple[int, int] = (6, 16),
        hidden: tuple[int, int] = (120, 84),
        num_classes: int = 10,
        generator: np.random.Generator | None = None,
    ) -> None:
        super().__init__()
        c1, c2 = channels
        self.features = Sequential(
            Conv2d(in_channels, c1, 5, padding=2, generator=generator),
            ReLU(),
            MaxPool2d(2),
            Conv2d(c1, c2, 5, generator=generator),
            ReLU(),
            MaxPool2d(2),
        )
        self.classifier = Sequential(
            Flatten(),
            Linear(c2 * 5 * 5, hidden[0], generator=generator),
            ReLU(),
            Linear(hidden[0], hidden[1], generator=generator),
            ReLU(),
            Linear(hidden[1], num_classes, generator=generator),
        )

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(N, num_classes)`` of images ``(N, in_channels, 28, 28)``."""
        return self.classifier(self.features(x))


def build_model(
    name: str,
    seed: int = 0,
    num_classes: int = 10,
    channels: tuple[int, int] = (6, 16),
    hidden: tuple[int, int] = (120, 84),
) -> Module:
    """The CLI's models by name: ``"mlp"`` (784-256-128-10) or ``"cnn"`` (:class:`LeNet`).

    Args:
        name: ``"mlp"`` or ``"cnn"``.
        seed: seeds the initialisation.
        num_classes: outputs.
        channels: the CNN's convolution widths (LeNet-5's are 6 and 16).
        hidden: the CNN's fully connected widths (LeNet-5's are 120 and 84).

    Raises:
        ValueError: for another name.
    """
    generator = np.random.default_rng(seed)
    if name == "mlp":
        return MLP(hidden=(256, 128), num_classes=num_classes, generator=generator)
    if name == "cnn":
        return LeNet(channels=channels, hidden=hidden, num_classes=num_classes, generator=generator)
    raise ValueError(f"unknown model {name!r}; expected 'mlp' or 'cnn'")
