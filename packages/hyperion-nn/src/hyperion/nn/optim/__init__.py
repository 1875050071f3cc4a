"""Optimizers, gradient clipping and learning-rate schedulers.

Examples:
    >>> import hyperion.autograd as ag
    >>> from hyperion.nn import optim
    >>> w = ag.tensor([3.0, 4.0], requires_grad=True)
    >>> opt = optim.AdamW([w], lr=1e-2)
    >>> sched = optim.lr_scheduler.WarmupCosineLR(opt, warmup_iters=10, max_iters=100)
    >>> for _ in range(3):
    ...     opt.zero_grad()
    ...     (w * w).sum().backward()
    ...     norm = optim.clip_grad_norm_([w], max_norm=1.0)
    ...     opt.step()
    ...     sched.step()
    >>> round(norm, 4) > 0
    True
"""

from hyperion.nn.optim import lr_scheduler
from hyperion.nn.optim.adam import Adam, AdamW, adamw_step_reference
from hyperion.nn.optim.clip import clip_grad_norm_, clip_grad_value_, total_grad_norm
from hyperion.nn.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    StepLR,
    WarmupCosineLR,
)
from hyperion.nn.optim.optimizer import Optimizer, weight_decay_groups
from hyperion.nn.optim.rmsprop import RMSprop
from hyperion.nn.optim.sgd import SGD

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialLR",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "Optimizer",
    "RMSprop",
    "StepLR",
    "WarmupCosineLR",
    "adamw_step_reference",
    "clip_grad_norm_",
    "clip_grad_value_",
    "lr_scheduler",
    "total_grad_norm",
    "weight_decay_groups",
]
