"""Elementwise functions of one tensor, each with its derivative.

``forward`` works on the raw tensor; ``backward`` multiplies the incoming
gradient by the derivative, written with differentiable ops on the saved
input or output (whichever makes the derivative cheapest: ``exp``, ``tanh``,
``sigmoid``, ``sqrt`` reuse their output).

Subgradients at kinks follow PyTorch: ``abs`` has derivative ``sign(x)``
(0 at 0), ``sign`` has derivative 0 everywhere.
"""

from __future__ import annotations

from typing import Any

from hyperion.autograd.function import Function, RawTensor


class Neg(Function):
    """``-x``."""

    @staticmethod
    def forward(_ctx: Any, x: RawTensor) -> RawTensor:
        return -x

    @staticmethod
    def backward(_ctx: Any, grad_out: Any) -> Any:
        return -grad_out


class Abs(Function):
    """``|x|``; derivative ``sign(x)`` (0 at 0)."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor) -> RawTensor:
        ctx.save_for_backward(x)
        return x.abs()

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad_out * x.sign()


class Sign(Function):
    """-1, 0 or 1; derivative 0 (the op stays in the graph, as in PyTorch)."""

    @staticmethod
    def forward(_ctx: Any, x: RawTensor) -> RawTensor:
        return x.sign()

    @staticmethod
    def backward(_ctx: Any, grad_out: Any) -> Any:
        return grad_out._zeros_like()


class Exp(Function):
    """``e**x``; derivative is the output."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor) -> RawTensor:
        out = x.exp()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        (out,) = ctx.saved_tensors
        return grad_out * out


class Log(Function):
    """Natural logarithm; derivative ``1/x``."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor) -> RawTensor:
        ctx.save_for_backward(x)
        return x.log()

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad_out / x


class Log1p(Function):
    """``log(1 + x)``; derivative ``1/(1 + x)``."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor) -> RawTensor:
        ctx.save_for_backward(x)
        return x.log1p()

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad_out / (x + 1)


class Expm1(Function):
    """``exp(x) - 1``; derivative ``out + 1``."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor) -> RawTensor:
        out = x.expm1()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        (out,) = ctx.saved_tensors
        return grad_out * (out + 1)


class Sqrt(Function):
    """Square root; derivative ``1 / (2 sqrt(x))`` (infinite at 0)."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor) -> RawTensor:
        out = x.sqrt()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        (out,) = ctx.saved_tensors
        return grad_out / (out * 2)


class Rsqrt(Function):
    """``1 / sqrt(x)``; derivative ``-out³ / 2``."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor) -> RawTensor:
        out = x.rsqrt()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        (out,) = ctx.saved_tensors
        return grad_out * (out * out * out) * -0.5


class Reciprocal(Function):
    """``1 / x``; derivative ``-out²``."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor) -> RawTensor:
        out = x.reciprocal()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        (out,) = ctx.saved_tensors
        return -grad_out * (out * out)


class Square(Function):
    """``x * x``; derivative ``2x``."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor) -> RawTensor:
        ctx.save_for_backward(x)
        return x.square()

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad_out * (x * 2)


class Sin(Function):
    """Sine; derivative ``cos(x)``."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor) -> RawTensor:
        ctx.save_for_backward(x)
        return x.sin()

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad_out * x.cos()


class Cos(Function):
    """Cosine; derivative ``-sin(x)``."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor) -> RawTensor:
        ctx.save_for_backward(x)
        return x.cos()

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        (x,) = ctx.saved_tensors
        return grad_out * -x.sin()


class Tanh(Function):
    """Hyperbolic tangent; derivative ``1 - out²``."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor) -> RawTensor:
        out = x.tanh()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        (out,) = ctx.saved_tensors
        return grad_out * (1 - out * out)


class Sigmoid(Function):
    """Logistic function; derivative ``out (1 - out)``."""

    @staticmethod
    def forward(ctx: Any, x: RawTensor) -> RawTensor:
        out = x.sigmoid()
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        (out,) = ctx.saved_tensors
        return grad_out * (out * (1 - out))
