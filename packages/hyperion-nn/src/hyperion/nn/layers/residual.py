"""Residual connections: ``Residual`` (``x + f(x)``) and ``BasicBlock`` (the ResNet block)."""

from __future__ import annotations

from typing import Any

import numpy as np

from hyperion.autograd import Tensor
from hyperion.nn.containers import Sequential
from hyperion.nn.functional.activation import relu
from hyperion.nn.layers._params import generator_of
from hyperion.nn.layers._validate import check_module
from hyperion.nn.layers.conv import Conv2d
from hyperion.nn.layers.normalization import BatchNorm2d
from hyperion.nn.module import Module

__all__ = ["BasicBlock", "Residual"]


class Residual(Module):
    """``x + fn(x)``: wraps any shape-preserving module in a skip connection.

    Examples:
        >>> from hyperion.nn.layers import Linear
        >>> Residual(Linear(4, 4))
        Residual(
          (fn): Linear(in_features=4, out_features=4, bias=True)
        )
    """

    def __init__(self, fn: Module) -> None:
        super().__init__()
        check_module("Residual", "fn", fn)
        self.fn = fn

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
        """``input + fn(input)``."""
        return input + self.fn(input)


class BasicBlock(Module):
    """ResNet's basic block: ``relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x))``.

    ``conv1`` is 3×3 with ``stride``; ``conv2`` 3×3. The shortcut is the identity,
    or a 1×1 strided convolution + batch norm when the shape changes (the
    parameter names follow torchvision: ``downsample.0``, ``downsample.1``).

    Args:
        in_channels: input channels.
        out_channels: output channels.
        stride: stride of the first convolution (and of the shortcut).
        device: ``"cpu"`` or ``"cuda"``.
        dtype: parameter dtype (``float32`` by default).
        generator: the initialisation's random generator.
        seed: seed for a new generator (when ``generator`` is not given).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int = 1,
        device: Any = None,
        dtype: Any = None,
        generator: np.random.Generator | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        rng = generator_of(generator, seed)
        self.conv1 = Conv2d(
            in_channels, out_channels, 3, stride, 1, bias=False, device=device, dtype=dtype, generator=rng
        )
        self.bn1 = BatchNorm2d(out_channels, device=device, dtype=dtype)
        self.conv2 = Conv2d(out_channels, out_channels, 3, 1, 1, bias=False, device=device, dtype=dtype, generator=rng)
        self.bn2 = BatchNorm2d(out_channels, device=device, dtype=dtype)
        if stride != 1 or in_channels != out_channels:
            self.downsample = Sequential(
                Conv2d(in_channels, out_channels, 1, stride, bias=False, device=device, dtype=dtype, generator=rng),
                BatchNorm2d(out_channels, device=device, dtype=dtype),
            )
        else:
            self.downsample = None

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
        """Apply the block."""
        out = relu(self.bn1(self.conv1(input)))
        out = self.bn2(self.conv2(out))
        shortcut = input if self.downsample is None else self.downsample(input)
        return relu(out + shortcut)
