"""``Conv2d``: 2-D convolution (im2col on strided views + one matmul)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hyperion.autograd import Tensor
from hyperion.nn import init
from hyperion.nn.functional._common import pair
from hyperion.nn.functional.conv import conv2d
from hyperion.nn.layers._params import generator_of, parameter
from hyperion.nn.layers._validate import check_positive_int, check_size_pair
from hyperion.nn.module import Module

__all__ = ["Conv2d"]


class Conv2d(Module):
    """2-D convolution over ``(N, C, H, W)`` inputs.

    Weight ``(out_channels, in_channels/groups, kh, kw)`` and bias ``(out_channels,)``
    are initialised as PyTorch does (Kaiming-uniform, ``a = √5``: bound
    ``1/√fan_in`` with ``fan_in = in_channels/groups · kh · kw``).

    Args:
        in_channels: channels of the input.
        out_channels: channels produced.
        kernel_size: ``k`` or ``(kh, kw)``.
        stride: step between windows.
        padding: zeros on each side: an int, a pair, ``"valid"`` or ``"same"``.
        dilation: spacing between kernel taps.
        groups: channel groups (``groups == in_channels`` is depthwise).
        bias: learn a bias.
        padding_mode: only ``"zeros"``.
        device: ``"cpu"`` or ``"cuda"``.
        dtype: parameter dtype (``float32`` by default).
        generator: the initialisation's random generator.
        seed: seed for a new generator (when ``generator`` is not given).

    Raises:
        TypeError: for a size that is not an int (or a pair of ints).
        ValueError: for a non-positive channel count, kernel size, stride or dilation, a negative
            padding, a ``groups`` that does not divide both channel counts, or another ``padding_mode``.

    Examples:
        >>> Conv2d(1, 6, 5)
        Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] | str = 0,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
        generator: np.random.Generator | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        check_positive_int("Conv2d", "in_channels", in_channels)
        check_positive_int("Conv2d", "out_channels", out_channels)
        check_positive_int("Conv2d", "groups", groups)
        check_size_pair("Conv2d", "kernel_size", kernel_size)
        check_size_pair("Conv2d", "stride", stride)
        check_size_pair("Conv2d", "dilation", dilation)
        if not isinstance(padding, str):
            check_size_pair("Conv2d", "padding", padding, minimum=0)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"Conv2d: groups={groups} must divide in_channels={in_channels} and out_channels={out_channels}"
            )
        if padding_mode != "zeros":
            raise ValueError(f"Conv2d: only padding_mode='zeros' is available, got {padding_mode!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = pair(stride, "stride")
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding")
        self.dilation = pair(dilation, "dilation")
        self.groups = groups
        self.padding_mode = padding_mode
        self.weight = parameter(out_channels, in_channels // groups, *self.kernel_size, dtype=dtype, device=device)
        if bias:
            self.bias = parameter(out_channels, dtype=dtype, device=device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator_of(generator, seed))

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """Re-draw weight and bias (PyTorch's default initialisation)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
        """Convolve ``input`` ``(N, C, H, W)`` (or ``(C, H, W)``)."""
        return conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text
