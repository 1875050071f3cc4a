"""Learning-rate schedulers: set each parameter group's ``lr`` as a function of the step.

A scheduler remembers each group's starting rate (``base_lrs``, stored in the
group as ``"initial_lr"``) and a counter ``last_epoch`` (PyTorch's name; it
counts calls to :meth:`LRScheduler.step`, whether those are epochs or
iterations). Constructing a scheduler applies the rate for step 0; each
``step()`` advances the counter and writes the new rates into the optimizer.

Every rate here is a closed-form function of ``(base_lr, last_epoch)``, so a
scheduler restored from its ``state_dict`` continues exactly.

Examples:
    >>> import hyperion.autograd as ag
    >>> from hyperion.nn.optim import SGD
    >>> opt = SGD([ag.zeros(1, requires_grad=True)], lr=1.0)
    >>> sched = StepLR(opt, step_size=2, gamma=0.5)
    >>> rates = []
    >>> for _ in range(5):
    ...     rates.append(sched.get_last_lr()[0])
    ...     sched.step()
    >>> rates
    [1.0, 1.0, 0.5, 0.5, 0.25]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from hyperion.nn.optim.optimizer import Optimizer


class LRScheduler:
    """Base class: subclasses implement :meth:`lr_at` and list their settings in ``_config_keys``.

    Args:
        optimizer: the optimizer whose groups' ``lr`` to set.
        last_epoch: ``-1`` to start; the index of the last step taken when resuming
            (then every group must already hold ``"initial_lr"``).

    Raises:
        TypeError: if ``optimizer`` is not an :class:`Optimizer`.
        KeyError: when resuming (``last_epoch != -1``) from groups without ``"initial_lr"``.
    """

    _config_keys: tuple[str, ...] = ()

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__} needs a hyperion.nn.optim.Optimizer, got {type(optimizer).__name__}"
            )
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, int) or last_epoch < -1:
            raise ValueError(f"invalid last_epoch {last_epoch!r} (an integer >= -1)")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for number, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(
                        f"param group {number} has no 'initial_lr', needed to resume a schedule at last_epoch={last_epoch}"
                    )
        self.base_lrs: list[float] = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._step_count = 0
        self._last_lr: list[float] = []
        self.step()

    def lr_at(self, epoch: int) -> list[float]:
        """The learning rate of every group at step ``epoch`` (closed form)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement lr_at()")

    def get_lr(self) -> list[float]:
        """The rates for the current step (``last_epoch``)."""
        return self.lr_at(self.last_epoch)

    def get_last_lr(self) -> list[float]:
        """The rates the last :meth:`step` set, one per parameter group."""
        return list(self._last_lr)

    def step(self) -> None:
        """Advance one step and write the new rates into the optimizer's groups."""
        self._step_count += 1
        self.last_epoch += 1
        rates = self.lr_at(self.last_epoch)
        for group, lr in zip(self.optimizer.param_groups, rates):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """The counter, the base and last rates and the settings (JSON-serialisable; no optimizer, no functions)."""
        state: dict[str, Any] = {
            "last_epoch": self.last_epoch,
            "base_lrs": list(self.base_lrs),
            "_last_lr": list(self._last_lr),
            "_step_count": self._step_count,
        }
        for key in self._config_keys:
            value = getattr(self, key)
            state[key] = list(value) if isinstance(value, list | tuple) else value
        return state

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Restore what :meth:`state_dict` saved (the optimizer's rates come from the optimizer's own state).

        Raises:
            ValueError: for a missing or unknown key, or a value of the wrong kind.
        """
        if not isinstance(state_dict, Mapping):
            raise ValueError(f"a scheduler state_dict is a dict, got {type(state_dict).__name__}")
        required = {"last_epoch", "base_lrs", "_last_lr", "_step_count"}
        missing = sorted(required - set(state_dict))
        unknown = sorted(set(state_dict) - required - set(self._config_keys))
        if missing or unknown:
            raise ValueError(f"{type(self).__name__} state_dict: missing keys {missing}, unexpected keys {unknown}")
        count = len(self.optimizer.param_groups)
        for key in ("base_lrs", "_last_lr"):
            value = state_dict[key]
            if not isinstance(value, list | tuple) or len(value) != count or not all(_is_number(v) for v in value):
                raise ValueError(f"{type(self).__name__} state_dict: {key} must be {count} number(s), got {value!r}")
        for key in ("last_epoch", "_step_count"):
            value = state_dict[key]
            if isinstance(value, bool) or not isinstance(value, int) or value < -1:
                raise ValueError(f"{type(self).__name__} state_dict: {key} must be an integer, got {value!r}")
        previous = {key: getattr(self, key) for key in self._config_keys}
        try:
            for key in self._config_keys:
                setattr(self, key, state_dict.get(key, previous[key]))
            self._check_config()
        except (TypeError, ValueError) as exc:
            for key, value in previous.items():
                setattr(self, key, value)
            raise ValueError(f"{type(self).__name__} state_dict: {exc}") from exc
        self.last_epoch = state_dict["last_epoch"]
        self._step_count = state_dict["_step_count"]
        self.base_lrs = [float(v) for v in state_dict["base_lrs"]]
        self._last_lr = [float(v) for v in state_dict["_last_lr"]]

    def _check_config(self) -> None:
        """Validate (and normalise) the settings; raise ``ValueError`` naming a bad one."""


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_number(name: str, value: Any, low: float | None = None, high: float | None = None) -> float:
    if not _is_number(value) or (low is not None and value < low) or (high is not None and value > high):
        bounds = f" in [{low}, {high}]" if high is not None else f" >= {low}" if low is not None else ""
        raise ValueError(f"invalid {name}: {value!r} (expected a finite number{bounds})")
    return float(value)


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"invalid {name}: {value!r} (expected an integer >= {low})")
    return value


def _per_group(name: str, value: Any, count: int) -> list[Any]:
    if isinstance(value, list | tuple):
        if len(value) != count:
            raise ValueError(f"expected {count} value(s) of {name}, one per parameter group, got {len(value)}")
        return list(value)
    return [value] * count


class LambdaLR(LRScheduler):
    """``lr = base_lr · lr_lambda(epoch)``, with one function for all groups or one per group.

    The functions are not saved in ``state_dict`` (they are code); build the scheduler with
    the same functions before loading.

    Args:
        optimizer: the optimizer.
        lr_lambda: a function of the step (or a list, one per group) returning a factor.
        last_epoch: ``-1`` to start.

    Examples:
        >>> import hyperion.autograd as ag
        >>> from hyperion.nn.optim import SGD
        >>> opt = SGD([ag.zeros(1, requires_grad=True)], lr=0.1)
        >>> sched = LambdaLR(opt, lambda epoch: 0.5**epoch)
        >>> sched.step()
        >>> sched.get_last_lr()
        [0.05]
    """

    def __init__(
        self,
        optimizer: Optimizer,
        lr_lambda: Callable[[int], float] | Sequence[Callable[[int], float]],
        last_epoch: int = -1,
    ) -> None:
        self.lr_lambdas = _per_group("lr_lambda", lr_lambda, len(optimizer.param_groups))
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"lr_lambda must be callable, got {type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    def lr_at(self, epoch: int) -> list[float]:
        """``base_lr · lr_lambda(epoch)`` per group."""
        return [base * fn(epoch) for base, fn in zip(self.base_lrs, self.lr_lambdas)]


class StepLR(LRScheduler):
    """Multiply the rate by ``gamma`` every ``step_size`` steps: ``base_lr · gamma^(epoch // step_size)``.

    Args:
        optimizer: the optimizer.
        step_size: steps between decays (>= 1).
        gamma: the decay factor.
        last_epoch: ``-1`` to start.
    """

    _config_keys = ("step_size", "gamma")

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size = step_size
        self.gamma = gamma
        self._check_config()
        super().__init__(optimizer, last_epoch)

    def _check_config(self) -> None:
        self.step_size = _check_int("step_size", self.step_size, 1)
        self.gamma = _check_number("gamma", self.gamma, 0.0)

    def lr_at(self, epoch: int) -> list[float]:
        """``base_lr · gamma^(epoch // step_size)`` per group."""
        factor = self.gamma ** (epoch // self.step_size)
        return [base * factor for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """Multiply the rate by ``gamma`` at each milestone: ``base_lr · gamma^(milestones passed)``.

    Args:
        optimizer: the optimizer.
        milestones: increasing step indices (a repeated milestone decays twice, as in PyTorch).
        gamma: the decay factor.
        last_epoch: ``-1`` to start.
    """

    _config_keys = ("milestones", "gamma")

    def __init__(
        self, optimizer: Optimizer, milestones: Sequence[int], gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        self.milestones = milestones
        self.gamma = gamma
        self._check_config()
        super().__init__(optimizer, last_epoch)

    def _check_config(self) -> None:
        if not isinstance(self.milestones, list | tuple):
            raise ValueError(f"invalid milestones: {self.milestones!r} (expected a list of integers)")
        self.milestones = sorted(_check_int("milestone", m, 0) for m in self.milestones)
        self.gamma = _check_number("gamma", self.gamma, 0.0)

    def lr_at(self, epoch: int) -> list[float]:
        """``base_lr · gamma^(number of milestones <= epoch)`` per group."""
        factor = self.gamma ** sum(1 for m in self.milestones if m <= epoch)
        return [base * factor for base in self.base_lrs]


class ExponentialLR(LRScheduler):
    """Multiply the rate by ``gamma`` every step: ``base_lr · gamma^epoch``.

    Args:
        optimizer: the optimizer.
        gamma: the decay factor.
        last_epoch: ``-1`` to start.
    """

    _config_keys = ("gamma",)

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = gamma
        self._check_config()
        super().__init__(optimizer, last_epoch)

    def _check_config(self) -> None:
        self.gamma = _check_number("gamma", self.gamma, 0.0)

    def lr_at(self, epoch: int) -> list[float]:
        """``base_lr · gamma^epoch`` per group."""
        return [base * self.gamma**epoch for base in self.base_lrs]


class LinearLR(LRScheduler):
    """Scale the rate by a factor going linearly from ``start_factor`` to ``end_factor`` over ``total_iters`` steps.

    With the defaults-like ``LinearLR(opt, start_factor=1e-3, total_iters=warmup)`` this is a
    linear warmup; afterwards the factor stays at ``end_factor``.

    Args:
        optimizer: the optimizer.
        start_factor: the factor at step 0, in ``(0, 1]``.
        end_factor: the factor from step ``total_iters`` on, in ``[0, 1]``.
        total_iters: the number of steps of the ramp (>= 1).
        last_epoch: ``-1`` to start.
    """

    _config_keys = ("start_factor", "end_factor", "total_iters")

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        self._check_config()
        super().__init__(optimizer, last_epoch)

    def _check_config(self) -> None:
        self.start_factor = _check_number("start_factor", self.start_factor, 0.0, 1.0)
        if self.start_factor == 0:
            raise ValueError("invalid start_factor: 0.0 (expected a number in (0, 1])")
        self.end_factor = _check_number("end_factor", self.end_factor, 0.0, 1.0)
        self.total_iters = _check_int("total_iters", self.total_iters, 1)

    def lr_at(self, epoch: int) -> list[float]:
        """``base_lr · (start + (end − start) · min(epoch, total_iters) / total_iters)`` per group."""
        progress = min(epoch, self.total_iters) / self.total_iters
        factor = self.start_factor + (self.end_factor - self.start_factor) * progress
        return [base * factor for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """Cosine annealing from ``base_lr`` to ``eta_min`` over ``T_max`` steps (SGDR without restarts).

    ``lr = eta_min + (base_lr − eta_min) · (1 + cos(π · epoch / T_max)) / 2``; past ``T_max``
    the cosine continues (rising again), as PyTorch's does.

    Args:
        optimizer: the optimizer.
        T_max: steps of the half period (>= 1).
        eta_min: the lowest rate.
        last_epoch: ``-1`` to start.
    """

    _config_keys = ("T_max", "eta_min")

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:  # noqa: N803
        self.T_max = T_max
        self.eta_min = eta_min
        self._check_config()
        super().__init__(optimizer, last_epoch)

    def _check_config(self) -> None:
        self.T_max = _check_int("T_max", self.T_max, 1)
        self.eta_min = _check_number("eta_min", self.eta_min, 0.0)

    def lr_at(self, epoch: int) -> list[float]:
        """The cosine-annealed rate of every group at ``epoch``."""
        cosine = (1.0 + math.cos(math.pi * epoch / self.T_max)) / 2.0
        return [self.eta_min + (base - self.eta_min) * cosine for base in self.base_lrs]


class WarmupCosineLR(LRScheduler):
    """Linear warmup to ``base_lr``, then cosine decay to ``min_lr`` at ``max_iters`` (nanoGPT's schedule).

    At step ``it``::

        it < warmup_iters:   base_lr · (it + 1) / (warmup_iters + 1)
        it > max_iters:      min_lr
        otherwise:           min_lr + (base_lr − min_lr) · (1 + cos(π · r)) / 2,
                             r = (it − warmup_iters) / (max_iters − warmup_iters)

    Args:
        optimizer: the optimizer.
        warmup_iters: steps of linear warmup (0 for none).
        max_iters: the step at which the rate reaches ``min_lr`` (> ``warmup_iters``).
        min_lr: the final rate: one number for every group, or one per group.
        last_epoch: ``-1`` to start.

    Examples:
        >>> import hyperion.autograd as ag
        >>> from hyperion.nn.optim import AdamW
        >>> opt = AdamW([ag.zeros(1, requires_grad=True)], lr=1.0)
        >>> sched = WarmupCosineLR(opt, warmup_iters=3, max_iters=7, min_lr=0.0)
        >>> rates = []
        >>> for _ in range(9):
        ...     rates.append(round(sched.get_last_lr()[0], 4))
        ...     sched.step()
        >>> rates
        [0.25, 0.5, 0.75, 1.0, 0.8536, 0.5, 0.1464, 0.0, 0.0]
    """

    _config_keys = ("warmup_iters", "max_iters", "min_lr")

    def __init__(
        self,
        optimizer: Optimizer,
        warmup_iters: int,
        max_iters: int,
        min_lr: float | Sequence[float] = 0.0,
        last_epoch: int = -1,
    ) -> None:
        self.warmup_iters = warmup_iters
        self.max_iters = max_iters
        self.min_lr = _per_group("min_lr", min_lr, len(optimizer.param_groups))
        self._check_config()
        super().__init__(optimizer, last_epoch)

    def _check_config(self) -> None:
        self.warmup_iters = _check_int("warmup_iters", self.warmup_iters, 0)
        self.max_iters = _check_int("max_iters", self.max_iters, 1)
        if self.max_iters <= self.warmup_iters:
            raise ValueError(f"max_iters ({self.max_iters}) must be greater than warmup_iters ({self.warmup_iters})")
        if not isinstance(self.min_lr, list | tuple):
            raise ValueError(f"invalid min_lr: {self.min_lr!r} (expected one number per parameter group)")
        self.min_lr = [_check_number("min_lr", v, 0.0) for v in self.min_lr]

    def lr_at(self, epoch: int) -> list[float]:
        """The warmup-then-cosine rate of every group at ``epoch``."""
        if epoch < self.warmup_iters:
            return [base * (epoch + 1) / (self.warmup_iters + 1) for base in self.base_lrs]
        if epoch > self.max_iters:
            return list(self.min_lr)
        ratio = (epoch - self.warmup_iters) / (self.max_iters - self.warmup_iters)
        coeff = 0.5 * (1.0 + math.cos(math.pi * ratio))
        return [low + coeff * (base - low) for base, low in zip(self.base_lrs, self.min_lr)]
