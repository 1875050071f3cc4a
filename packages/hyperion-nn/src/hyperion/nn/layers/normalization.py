"""Normalization layers: ``BatchNorm1d``/``BatchNorm2d``, ``LayerNorm``, ``RMSNorm``, ``GroupNorm``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hyperion.autograd import Tensor
from hyperion.nn import init
from hyperion.nn.functional._common import arr
from hyperion.nn.functional.normalization import batch_norm, group_norm, layer_norm, rms_norm
from hyperion.nn.layers._params import buffer, parameter
from hyperion.nn.layers._validate import check_positive_int, check_real
from hyperion.nn.module import Module
from hyperion.tensor import ShapeError

__all__ = ["BatchNorm1d", "BatchNorm2d", "GroupNorm", "LayerNorm", "RMSNorm"]


class _BatchNorm(Module):
    """Shared body of the batch norms; subclasses fix the accepted input ranks."""

    _ranks: tuple[int, ...] = ()

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        layer = type(self).__name__
        check_positive_int(layer, "num_features", num_features)
        check_real(layer, "eps", eps, low=0.0)
        if momentum is not None:
            check_real(layer, "momentum", momentum, low=0.0, high=1.0)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.use_bias = affine and bias
        if affine:
            self.weight = parameter(num_features, dtype=dtype, device=device)
        else:
            self.register_parameter("weight", None)
        if self.use_bias:
            self.bias = parameter(num_features, dtype=dtype, device=device)
        else:
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", buffer(0.0, num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", buffer(1.0, num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", buffer(0, dtype="int64", device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            init.zeros_(self.running_mean)
            init.ones_(self.running_var)
            init.zeros_(self.num_batches_tracked)

    def reset_parameters(self) -> None:
        """Reset the running statistics, weight to 1 and bias to 0."""
        self.reset_running_stats()
        if self.weight is not None:
            init.ones_(self.weight)
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
        """Normalise with batch statistics (training) or running statistics (evaluation)."""
        if input.ndim not in self._ranks:
            wanted = " or ".join(f"{r}-D" for r in self._ranks)
            raise ShapeError(f"{type(self).__name__} expects a {wanted} input, got shape {input.shape}")
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            arr(self.num_batches_tracked.data)[...] += 1
            if self.momentum is None:
                momentum = 1.0 / float(self.num_batches_tracked.item())
        use_batch = self.training or self.running_mean is None
        return batch_norm(
            input,
            self.running_mean if not self.training or self.track_running_stats else None,
            self.running_var if not self.training or self.track_running_stats else None,
            self.weight,
            self.bias,
            use_batch,
            momentum,
            self.eps,
        )

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.use_bias}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of ``(N, C)`` or ``(N, C, L)`` inputs, per channel.

    Examples:
        >>> BatchNorm1d(16)
        BatchNorm1d(16, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
    """

    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of ``(N, C, H, W)`` inputs, per channel.

    Examples:
        >>> BatchNorm2d(6).state_dict().keys()
        dict_keys(['weight', 'bias', 'running_mean', 'running_var', 'num_batches_tracked'])
    """

    _ranks = (4,)


def _shape_tuple(normalized_shape: Sequence[int] | int) -> tuple[int, ...]:
    return (normalized_shape,) if isinstance(normalized_shape, int) else tuple(int(s) for s in normalized_shape)


class LayerNorm(Module):
    """Layer normalization over the trailing ``normalized_shape`` dims, with a learned scale and shift.

    Examples:
        >>> LayerNorm(512)
        LayerNorm((512,), eps=1e-05, elementwise_affine=True, bias=True)
    """

    def __init__(
        self,
        normalized_shape: Sequence[int] | int,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps = check_real("LayerNorm", "eps", eps, low=0.0)
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = parameter(*self.normalized_shape, dtype=dtype, device=device)
            init.ones_(self.weight)
            if bias:
                self.bias = parameter(*self.normalized_shape, dtype=dtype, device=device)
                init.zeros_(self.bias)
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
        """Normalise."""
        return layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )


class RMSNorm(Module):
    """Root-mean-square normalization over the trailing dims, with a learned scale.

    Examples:
        >>> RMSNorm(64)
        RMSNorm((64,), eps=None, elementwise_affine=True)
    """

    def __init__(
        self,
        normalized_shape: Sequence[int] | int,
        eps: float | None = None,
        elementwise_affine: bool = True,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape)
        self.eps = eps if eps is None else check_real("RMSNorm", "eps", eps, low=0.0)
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = parameter(*self.normalized_shape, dtype=dtype, device=device)
            init.ones_(self.weight)
        else:
            self.register_parameter("weight", None)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
        """Normalise."""
        return rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"


class GroupNorm(Module):
    """Group normalization: channels split into ``num_groups``, each normalised per sample.

    Examples:
        >>> GroupNorm(2, 6)
        GroupNorm(2, 6, eps=1e-05, affine=True, bias=True)
    """

    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device: Any = None,
        dtype: Any = None,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        check_positive_int("GroupNorm", "num_groups", num_groups)
        check_positive_int("GroupNorm", "num_channels", num_channels)
        check_real("GroupNorm", "eps", eps, low=0.0)
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_groups={num_groups} must divide num_channels={num_channels}")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        self.use_bias = affine and bias
        if affine:
            self.weight = parameter(num_channels, dtype=dtype, device=device)
            init.ones_(self.weight)
        else:
            self.register_parameter("weight", None)
        if self.use_bias:
            self.bias = parameter(num_channels, dtype=dtype, device=device)
            init.zeros_(self.bias)
        else:
            self.register_parameter("bias", None)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
        """Normalise."""
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, bias={self.use_bias}"
