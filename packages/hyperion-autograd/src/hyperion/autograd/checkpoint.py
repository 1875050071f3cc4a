"""Gradient checkpointing: trade compute for memory.

``checkpoint(fn, *args)`` runs ``fn`` without recording a graph, so none of
its intermediate activations are kept -- only its inputs. When backward
reaches it, ``fn`` is run again, this time recording, and the gradient is
propagated through that fresh graph. The gradients are the ones the
un-checkpointed computation gives (the same ops run in the same order), at
the cost of a second forward pass of ``fn``.

``fn`` must be deterministic (draw randomness from an explicitly seeded
generator passed in, not from hidden state), take its tensors as positional
arguments, and return one tensor. Double backward through a checkpoint works:
with ``create_graph=True`` the recomputed graph stays connected to the inputs.

Example:
    >>> import hyperion.autograd as ag
    >>> w = ag.randn(4, 4, seed=0, dtype="float64", requires_grad=True)
    >>> x = ag.randn(2, 4, seed=1, dtype="float64")
    >>> def block(x, w):
    ...     return (x @ w).tanh() @ w
    >>> ag.checkpoint(block, x, w).sum().backward()
    >>> w.grad.shape
    (4, 4)
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from hyperion.autograd._mode import MODE
from hyperion.autograd.engine import grad
from hyperion.autograd.function import Function, RawTensor, is_tensor, wrap
from hyperion.autograd.grad_mode import enable_grad, no_grad

__all__ = ["checkpoint"]


class Checkpoint(Function):
    """Runs ``fn`` unrecorded in forward; recomputes it, recorded, in backward."""

    @staticmethod
    def forward(ctx: Any, fn: Callable[..., Any], *args: Any) -> RawTensor:
        ctx.fn = fn
        ctx.save_for_backward(*args)
        with no_grad():
            out = fn(*(wrap(a) if isinstance(a, RawTensor) else a for a in args))
        if not is_tensor(out):
            raise TypeError(f"checkpoint: fn must return one hyperion.autograd.Tensor, got {type(out).__name__}")
        return out.data

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        args = ctx.saved_tensors
        needs = ctx.needs_input_grad[1:]
        create_graph = MODE.get().grad_enabled
        stand_ins = []
        targets = []
        for arg, need in zip(args, needs, strict=True):
            if not is_tensor(arg):
                stand_ins.append(arg)
                continue
            if need:
                # With create_graph an alias keeps the recomputed graph connected to the
                # input's own graph (grad() stops at the alias); otherwise a detached leaf.
                stand_in = arg.view_as(arg) if create_graph else arg.detach().requires_grad_(True)
                targets.append(stand_in)
            else:
                stand_in = arg.detach()
            stand_ins.append(stand_in)
        with enable_grad():
            out = ctx.fn(*stand_ins)
        grads = iter(grad(out, targets, grad_out, create_graph=create_graph, allow_unused=True) if targets else ())
        return (None,) + tuple(next(grads) if need else None for need in needs)


def checkpoint(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn(*args, **kwargs)`` keeping only its inputs; recompute it during backward.

    Args:
        fn: a deterministic function of tensors returning one tensor.
        *args: its arguments; tensors among them are differentiated.
        **kwargs: non-tensor keyword arguments passed through to ``fn``.

    Returns:
        ``fn``'s result, in the graph as one node.

    Raises:
        TypeError: if ``fn`` is not callable.
    """
    if not callable(fn):
        raise TypeError(f"checkpoint: fn must be callable, got {type(fn).__name__} {fn!r}")
    return Checkpoint.apply(functools.partial(fn, **kwargs) if kwargs else fn, *args)
