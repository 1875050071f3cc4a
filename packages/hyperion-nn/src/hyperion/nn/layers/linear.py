"""``Linear``, ``Identity`` and ``SwiGLU``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from hyperion.autograd import Tensor
from hyperion.nn import init
from hyperion.nn.functional.activation import silu
from hyperion.nn.functional.linear import linear
from hyperion.nn.layers._params import generator_of, parameter
from hyperion.nn.module import Module

__all__ = ["Identity", "Linear", "SwiGLU"]


class Linear(Module):
    """Affine map ``y = x Wᵀ + b``.

    Initialised as PyTorch does: ``W ~ U(-1/√in, 1/√in)`` (Kaiming-uniform with
    ``a = √5``) and ``b ~ U(-1/√in, 1/√in)``, drawn from ``generator`` (or a
    new generator seeded with ``seed``, or :func:`hyperion.nn.init.default_generator`).

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias.
        device: ``"cpu"`` or ``"cuda"``.
        dtype: parameter dtype (``float32`` by default).
        generator: the initialisation's random generator.
        seed: seed for a new generator (when ``generator`` is not given).

    Examples:
        >>> Linear(784, 512)
        Linear(in_features=784, out_features=512, bias=True)
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: Any = None,
        dtype: Any = None,
        generator: np.random.Generator | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = parameter(out_features, in_features, dtype=dtype, device=device)
        if bias:
            self.bias = parameter(out_features, dtype=dtype, device=device)
        else:
            self.register_parameter("bias", None)
        self.reset_parameters(generator_of(generator, seed))

    def reset_parameters(self, generator: np.random.Generator | None = None) -> None:
        """Re-draw the weight and bias (PyTorch's default initialisation)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), generator=generator)
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
            init.uniform_(self.bias, -bound, bound, generator=generator)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
        """``input @ weight.T + bias``."""
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """Returns its input unchanged (a placeholder in a ``Sequential``); ignores constructor arguments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
        """``input``."""
        return input


class SwiGLU(Module):
    """The gated MLP of LLaMA-style transformers: ``down(silu(gate(x)) ⊙ up(x))``.

    Args:
        in_features: model width.
        hidden_features: width of the gated hidden layer.
        out_features: output width (default ``in_features``).
        bias: biases in the three projections.
        device: ``"cpu"`` or ``"cuda"``.
        dtype: parameter dtype (``float32`` by default).
        generator: the initialisation's random generator.
        seed: seed for a new generator (when ``generator`` is not given).

    Examples:
        >>> SwiGLU(8, 16)
        SwiGLU(
          (gate_proj): Linear(in_features=8, out_features=16, bias=False)
          (up_proj): Linear(in_features=8, out_features=16, bias=False)
          (down_proj): Linear(in_features=16, out_features=8, bias=False)
        )
    """

    def __init__(
        self,
        in_features: int,
        hidden_features: int,
        out_features: int | None = None,
        bias: bool = False,
        device: Any = None,
        dtype: Any = None,
        generator: np.random.Generator | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        rng = generator_of(generator, seed)
        out = in_features if out_features is None else out_features
        self.gate_proj = Linear(in_features, hidden_features, bias, device, dtype, generator=rng)
        self.up_proj = Linear(in_features, hidden_features, bias, device, dtype, generator=rng)
        self.down_proj = Linear(hidden_features, out, bias, device, dtype, generator=rng)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002 - PyTorch name
        """``down_proj(silu(gate_proj(x)) * up_proj(x))``."""
        return self.down_proj(silu(self.gate_proj(input)) * self.up_proj(input))
