"""Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay.

With gradient ``g``, weight decay ``λ``, momentum ``μ``, dampening ``τ`` and
learning rate ``η`` (PyTorch's formulation)::

    g ← g + λ·θ
    b ← g                      (first step)
    b ← μ·b + (1 − τ)·g        (later steps)
    g ← g + μ·b  (Nesterov)    or    g ← b
    θ ← θ − η·g

Examples:
    >>> import hyperion.autograd as ag
    >>> w = ag.tensor([1.0], requires_grad=True)
    >>> opt = SGD([w], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     opt.step()
    >>> round(w.item(), 6)
    0.46
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hyperion.nn.optim.optimizer import (
    Optimizer,
    ParamsLike,
    _check_flag,
    _check_nonnegative,
    bump_version,
    new_state_tensor,
)


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum and L2 weight decay.

    Args:
        params: parameters or parameter groups.
        lr: learning rate ``η``.
        momentum: momentum factor ``μ`` (0 disables the buffer).
        dampening: dampening ``τ`` of the gradient added to the buffer.
        weight_decay: L2 penalty ``λ`` added to the gradient.
        nesterov: use Nesterov momentum (needs ``momentum > 0`` and ``dampening == 0``).
        maximize: ascend the objective instead of descending it.

    Raises:
        ValueError: for a negative or non-finite hyperparameter, or Nesterov without momentum
            or with dampening.
    """

    _state_tensors = ("momentum_buffer",)

    def __init__(
        self,
        params: ParamsLike,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "momentum", "dampening", "weight_decay"):
            _check_nonnegative(group, key)
        for key in ("nesterov", "maximize"):
            _check_flag(group, key)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"Nesterov momentum requires momentum > 0 and dampening = 0, "
                f"got momentum={group['momentum']} and dampening={group['dampening']}"
            )

    def _required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step on every parameter that has a gradient; returns ``closure()``'s value if given."""
        loss = self._run_closure(closure)
        state_of = self.state
        for group in self.param_groups:
            lr = group["lr"]
            momentum = group["momentum"]
            dampening = group["dampening"]
            weight_decay = group["weight_decay"]
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            for param in group["params"]:
                grad_tensor = param._grad
                if grad_tensor is None:
                    continue
                p = param.data._arr()
                g = grad_tensor.data._arr()
                if maximize:
                    g = -g
                if weight_decay != 0:
                    g = g + weight_decay * p
                if momentum != 0:
                    state = state_of.get(param)
                    if state is None or "momentum_buffer" not in state:
                        buffer = new_state_tensor(param, g)
                        state_of.setdefault(param, {})["momentum_buffer"] = buffer
                        b = buffer._arr()
                    else:
                        b = state["momentum_buffer"]._arr()
                        b *= momentum
                        # (1 - 0)·g is g exactly: skip a pass over memory in the usual case.
                        b += g if dampening == 0 else (1 - dampening) * g
                    g = g + momentum * b if nesterov else b
                p -= lr * g
                bump_version(param)
        return loss
