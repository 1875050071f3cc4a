"""Matrix products.

``matmul`` follows NumPy's rules: 1-D operands are promoted to a row
(first) or a column (second) vector and the added dimension is removed from
the result; leading (batch) dimensions broadcast. The gradients are the two
products ``g @ bᵀ`` and ``aᵀ @ g`` on the promoted operands, with the added
dimension removed again; any batch broadcasting is summed away by the
engine's un-broadcast.
"""

from __future__ import annotations

from typing import Any

from hyperion.autograd.function import Function, RawTensor
from hyperion.autograd.ops.elementwise import operand


class Matmul(Function):
    """``a @ b`` (batched, broadcasting, with NumPy's 1-D conventions)."""

    @staticmethod
    def forward(ctx: Any, a: RawTensor, b: RawTensor) -> RawTensor:
        ctx.save_for_backward(a, b)
        return a.matmul(b)

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        a, b = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        a_vector, b_vector = a.ndim == 1, b.ndim == 1
        a2 = a.unsqueeze(0) if a_vector else a
        b2 = b.unsqueeze(-1) if b_vector else b
        g = grad_out
        if a_vector and b_vector:
            g = g.reshape(1, 1)
        elif a_vector:
            g = g.unsqueeze(-2)
        elif b_vector:
            g = g.unsqueeze(-1)
        grad_a = grad_b = None
        if need_a:
            grad_a = g.matmul(b2.mT)
            grad_a = grad_a.squeeze(-2) if a_vector else grad_a
        if need_b:
            grad_b = a2.mT.matmul(g)
            grad_b = grad_b.squeeze(-1) if b_vector else grad_b
        return grad_a, grad_b


class LinalgMethods:
    """Matrix-product methods of :class:`~hyperion.autograd.Tensor`."""

    __slots__ = ()

    def matmul(self, other: Any) -> Any:
        """Matrix product (NumPy's rules: 1-D operands, batched and broadcast leading dims).

        Example:
            >>> import hyperion.autograd as ag
            >>> a = ag.ones(2, 3, requires_grad=True)
            >>> (a @ ag.ones(3)).shape
            (2,)
        """
        return Matmul.apply(self, operand(other))

    def __matmul__(self, other: Any) -> Any:
        return Matmul.apply(self, operand(other))

    def __rmatmul__(self, other: Any) -> Any:
        return Matmul.apply(operand(other), self)
