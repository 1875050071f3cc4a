"""Pooling layers: ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d``."""

from __future__ import annotations

from typing import Any

from hyperion.autograd import Tensor
from hyperion.nn.functional.pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from hyperion.nn.layers._validate import check_size_pair
from hyperion.nn.module import Module

__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "MaxPool2d"]


class MaxPool2d(Module):
    """Maximum over ``kernel_size`` windows (see :func:`hyperion.nn.functional.max_pool2d`).

    Examples:
        >>> MaxPool2d(2)
        MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        dilation: int | tuple[int, int] = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__()
        check_size_pair("MaxPool2d", "kernel_size", kernel_size)
        check_size_pair("MaxPool2d", "stride", stride if stride is not None else kernel_size)
        check_size_pair("MaxPool2d", "padding", padding, minimum=0)
        check_size_pair("MaxPool2d", "dilation", dilation)
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Any:  # noqa: A002 - PyTorch name
        """Pool ``(N, C, H, W)`` or ``(C, H, W)``."""
        return max_pool2d(
            input, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode, self.return_indices
        )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    """Mean over ``kernel_size`` windows (see :func:`hyperion.nn.functional.avg_pool2d`).

    Examples:
        >>> AvgPool2d(2)
        AvgPool2d(kernel_size=2, stride=2, padding=0)
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__()
        check_size_pair("AvgPool2d", "kernel_size", kernel_size)
        check_size_pair("AvgPool2d", "stride", stride if stride is not None else kernel_size)
        check_size_pair("AvgPool2d", "padding", padding, minimum=0)
        if divisor_override is not None:
            check_size_pair("AvgPool2d", "divisor_override", divisor_override)
        self.ceil_mode = ceil_mode
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
        """Pool ``(N, C, H, W)`` or ``(C, H, W)``."""
        return avg_pool2d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size; ``AdaptiveAvgPool2d(1)`` is global average pooling.

    Examples:
        >>> AdaptiveAvgPool2d(1)
        AdaptiveAvgPool2d(output_size=1)
    """

    def __init__(self, output_size: int | tuple[int | None, int | None]) -> None:
        super().__init__()
        check_size_pair("AdaptiveAvgPool2d", "output_size", output_size, allow_none=True)
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
        """Pool ``(N, C, H, W)`` or ``(C, H, W)`` to ``output_size``."""
        return adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
