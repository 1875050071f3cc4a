"""RMSprop: divide the gradient by a running root-mean-square of its recent values.

With gradient ``g``, smoothing ``α``, learning rate ``η`` (PyTorch's formulation)::

    g ← g + λ·θ                              (weight decay)
    s ← α·s + (1 − α)·g²
    a ← α·a + (1 − α)·g,  d ← √(s − a²) + ε  (centered)   or   d ← √s + ε
    b ← μ·b + g/d,  θ ← θ − η·b              (momentum)    or   θ ← θ − η·g/d

Examples:
    >>> import hyperion.autograd as ag
    >>> w = ag.tensor([1.0], requires_grad=True)
    >>> opt = RMSprop([w], lr=0.01, alpha=0.99)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> round(w.item(), 4)
    0.9
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hyperion.nn.optim.optimizer import (
    Optimizer,
    ParamsLike,
    _check_flag,
    _check_fraction,
    _check_nonnegative,
    bump_version,
    new_state_tensor,
)


class RMSprop(Optimizer):
    """RMSprop (Hinton), optionally centered and with momentum.

    Args:
        params: parameters or parameter groups.
        lr: learning rate ``η``.
        alpha: smoothing constant ``α`` of the running averages, in ``[0, 1]``.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty ``λ`` added to the gradient.
        momentum: momentum factor ``μ`` (0 disables the buffer).
        centered: normalise by an estimate of the gradient's variance instead of its second moment.
        maximize: ascend the objective instead of descending it.

    Raises:
        ValueError: for a hyperparameter out of range, naming it and its value.
    """

    def __init__(
        self,
        params: ParamsLike,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "alpha": alpha,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "centered": centered,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "eps", "weight_decay", "momentum"):
            _check_nonnegative(group, key)
        _check_fraction(group, "alpha", upper_inclusive=True)
        for key in ("centered", "maximize"):
            _check_flag(group, key)

    def _required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        names = ("step", "square_avg")
        if group["momentum"] > 0:
            names += ("momentum_buffer",)
        if group["centered"]:
            names += ("grad_avg",)
        return names

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step on every parameter that has a gradient; returns ``closure()``'s value if given."""
        loss = self._run_closure(closure)
        state_of = self.state
        for group in self.param_groups:
            lr = group["lr"]
            alpha = group["alpha"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            momentum = group["momentum"]
            centered = group["centered"]
            maximize = group["maximize"]
            for param in group["params"]:
                grad_tensor = param._grad
                if grad_tensor is None:
                    continue
                state = state_of.get(param)
                if state is None:
                    state = state_of[param] = {"step": 0, "square_avg": new_state_tensor(param)}
                if momentum > 0 and "momentum_buffer" not in state:
                    state["momentum_buffer"] = new_state_tensor(param)
                if centered and "grad_avg" not in state:
                    state["grad_avg"] = new_state_tensor(param)
                state["step"] += 1
                p = param.data._arr()
                g = grad_tensor.data._arr()
                if maximize:
                    g = -g
                if weight_decay != 0:
                    g = g + weight_decay * p
                square_avg = state["square_avg"]._arr()
                square_avg *= alpha
                square_avg += ((1.0 - alpha) * g) * g
                if centered:
                    grad_avg = state["grad_avg"]._arr()
                    _lerp_(grad_avg, g, 1.0 - alpha)
                    avg = square_avg - grad_avg * grad_avg
                    np.sqrt(avg, out=avg)
                else:
                    avg = np.sqrt(square_avg)
                avg += eps
                if momentum > 0:
                    buffer = state["momentum_buffer"]._arr()
                    buffer *= momentum
                    buffer += g / avg
                    p -= lr * buffer
                else:
                    p += (-lr * g) / avg
                bump_version(param)
        return loss


def _lerp_(start: Any, end: Any, weight: float) -> None:
    """``start ← start + weight·(end − start)`` in place, in the two forms PyTorch uses for accuracy."""
    diff = end - start
    if abs(weight) < 0.5:
        diff *= weight
        start += diff
    else:
        diff *= 1.0 - weight
        np.subtract(end, diff, out=start)
