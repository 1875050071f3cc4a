"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay.

With gradient ``g`` at step ``t``, rates ``β₁, β₂``, learning rate ``η``::

    m ← β₁·m + (1 − β₁)·g            (first moment)
    v ← β₂·v + (1 − β₂)·g²           (second moment)
    v̂ ← max(v̂, v)   (AMSGrad; otherwise v̂ = v)
    θ ← θ − η/(1 − β₁ᵗ) · m / (√v̂ / √(1 − β₂ᵗ) + ε)

Weight decay ``λ`` differs between the two: **Adam** adds ``λ·θ`` to the
gradient (an L2 penalty, which the adaptive denominator then rescales per
coordinate), **AdamW** shrinks the weights directly, ``θ ← θ·(1 − η·λ)``,
before the update (Loshchilov & Hutter's decoupled weight decay).

The per-parameter update is a kernel looked up in the registry, so a fused
implementation can replace the composed one:

``nn.adamw_step(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize)``
    All tensors are NumPy/CuPy arrays of the parameter's shape, updated **in
    place** (``param``, ``exp_avg``, ``exp_avg_sq`` and, with ``amsgrad``,
    ``max_exp_avg_sq``; otherwise it is ``None``); ``grad`` is read only.
    ``step`` is the step number after this update (1 on the first call);
    ``weight_decay`` is the decoupled one. Returns ``None``.
    :func:`adamw_step_reference` is the reference every kernel must match.

Examples:
    >>> import hyperion.autograd as ag
    >>> w = ag.tensor([1.0, -1.0], requires_grad=True)
    >>> opt = AdamW([w], lr=0.1, weight_decay=0.0)
    >>> (w * w).sum().backward()
    >>> opt.step()
    >>> [round(x, 6) for x in w.tolist()]
    [0.9, -0.9]
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
from hyperion.tensor.registry import lookup, register_reference

ADAMW_STEP = "nn.adamw_step"


def adam_moments_update(
    param: Any,
    grad: Any,
    exp_avg: Any,
    exp_avg_sq: Any,
    max_exp_avg_sq: Any,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    amsgrad: bool,
) -> None:
    """The Adam update proper (moments, bias correction, step) on arrays, in place.

    ``grad`` has already been negated (``maximize``) and had any L2 term added.
    The operations are ordered as PyTorch orders them, so float64 results agree to
    the last few bits.
    """
    weight = 1.0 - beta1
    tmp = grad - exp_avg
    if abs(weight) < 0.5:
        tmp *= weight
        exp_avg += tmp
    else:
        tmp *= 1.0 - weight
        np.subtract(grad, tmp, out=exp_avg)
    np.multiply(grad, 1.0 - beta2, out=tmp)
    tmp *= grad
    exp_avg_sq *= beta2
    exp_avg_sq += tmp
    if amsgrad:
        np.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq
    else:
        second = exp_avg_sq
    step_size = lr / (1.0 - beta1**step)
    bias_correction2_sqrt = (1.0 - beta2**step) ** 0.5
    denom = np.sqrt(second)
    denom /= bias_correction2_sqrt
    denom += eps
    np.multiply(exp_avg, -step_size, out=tmp)
    tmp /= denom
    param += tmp


def adamw_step_reference(
    param: Any,
    grad: Any,
    exp_avg: Any,
    exp_avg_sq: Any,
    max_exp_avg_sq: Any,
    step: int,
    lr: float,
    beta1: float,
    beta2: float,
    eps: float,
    weight_decay: float,
    amsgrad: bool,
    maximize: bool,
) -> None:
    """Reference ``nn.adamw_step``: one AdamW update of one parameter, in place (see the module docstring)."""
    if maximize:
        grad = -grad
    if weight_decay != 0:
        param *= 1.0 - lr * weight_decay
    adam_moments_update(param, grad, exp_avg, exp_avg_sq, max_exp_avg_sq, step, lr, beta1, beta2, eps, amsgrad)


register_reference(ADAMW_STEP, adamw_step_reference)


class Adam(Optimizer):
    """Adam (Kingma & Ba), with optional L2 weight decay and AMSGrad.

    Args:
        params: parameters or parameter groups.
        lr: learning rate ``η``.
        betas: decay rates ``(β₁, β₂)`` of the moment estimates, each in ``[0, 1)``.
        eps: added to the denominator for numerical stability.
        weight_decay: L2 penalty ``λ`` added to the gradient.
        amsgrad: use the running maximum of the second moment (Reddi et al.).
        maximize: ascend the objective instead of descending it.

    Raises:
        ValueError: for a hyperparameter out of range, naming it and its value.
    """

    _state_tensors = ("exp_avg", "exp_avg_sq")
    _decoupled = False

    def __init__(
        self,
        params: ParamsLike,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_group(self, group: dict[str, Any]) -> None:
        for key in ("lr", "eps", "weight_decay"):
            _check_nonnegative(group, key)
        betas = group["betas"]
        if not isinstance(betas, list | tuple) or len(betas) != 2:
            raise ValueError(f"invalid betas: {betas!r} (expected a pair (beta1, beta2))")
        pair = {"beta1": betas[0], "beta2": betas[1]}
        _check_fraction(pair, "beta1")
        _check_fraction(pair, "beta2")
        group["betas"] = (pair["beta1"], pair["beta2"])
        for key in ("amsgrad", "maximize"):
            _check_flag(group, key)

    def _required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Take one step on every parameter that has a gradient; returns ``closure()``'s value if given."""
        loss = self._run_closure(closure)
        state_of = self.state
        decoupled = self._decoupled
        for group in self.param_groups:
            lr = group["lr"]
            beta1, beta2 = group["betas"]
            eps = group["eps"]
            weight_decay = group["weight_decay"]
            amsgrad = group["amsgrad"]
            maximize = group["maximize"]
            kernel = None
            kernel_device = None
            for param in group["params"]:
                grad_tensor = param._grad
                if grad_tensor is None:
                    continue
                state = state_of.get(param)
                if state is None:
                    state = state_of[param] = _fresh_state(param, amsgrad)
                elif amsgrad and "max_exp_avg_sq" not in state:
                    state["max_exp_avg_sq"] = new_state_tensor(param)
                step = state["step"] = state["step"] + 1
                p = param.data._arr()
                g = grad_tensor.data._arr()
                max_sq = state["max_exp_avg_sq"]._arr() if amsgrad else None
                if decoupled:
                    device = param.data.device
                    if device != kernel_device:
                        kernel, kernel_device = lookup(ADAMW_STEP, device), device
                    kernel(
                        p, g, state["exp_avg"]._arr(), state["exp_avg_sq"]._arr(), max_sq,
                        step, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize,
                    )  # fmt: skip
                else:
                    if maximize:
                        g = -g
                    if weight_decay != 0:
                        g = g + weight_decay * p
                    adam_moments_update(
                        p, g, state["exp_avg"]._arr(), state["exp_avg_sq"]._arr(), max_sq,
                        step, lr, beta1, beta2, eps, amsgrad,
                    )  # fmt: skip
                bump_version(param)
        return loss


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): ``θ ← θ·(1 − η·λ)`` before the Adam step.

    The per-parameter update runs through the registry op ``nn.adamw_step``
    (see the module docstring for its signature), so a fused kernel can take over.

    Args:
        params: parameters or parameter groups.
        lr: learning rate ``η``.
        betas: decay rates ``(β₁, β₂)`` of the moment estimates.
        eps: added to the denominator for numerical stability.
        weight_decay: decoupled decay ``λ`` (PyTorch's default, 0.01).
        amsgrad: use the running maximum of the second moment.
        maximize: ascend the objective instead of descending it.
    """

    _decoupled = True

    def __init__(
        self,
        params: ParamsLike,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)


def _fresh_state(param: Any, amsgrad: bool) -> dict[str, Any]:
    state: dict[str, Any] = {"step": 0, "exp_avg": new_state_tensor(param), "exp_avg_sq": new_state_tensor(param)}
    if amsgrad:
        state["max_exp_avg_sq"] = new_state_tensor(param)
    return state
