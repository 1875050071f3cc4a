"""Learning-rate schedulers against PyTorch's over 30 steps, state_dict round trips and validation."""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import hyperion.autograd as ag
from hyperion.nn import Parameter, optim
from hyperion.nn.optim import lr_scheduler as sched

try:
    import torch
except ImportError:  # PyTorch is the reference of the parity tests only
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the reference) is not installed")

BASE_LRS = [0.1, 0.03]
STEPS = 30


def nanogpt_factor(warmup: int, max_iters: int, min_ratio: float) -> Callable[[int], float]:
    """nanoGPT's ``get_lr`` divided by the base rate (min_lr = min_ratio · base)."""

    def factor(it: int) -> float:
        if it < warmup:
            return (it + 1) / (warmup + 1)
        if it > max_iters:
            return min_ratio
        coeff = 0.5 * (1.0 + math.cos(math.pi * (it - warmup) / (max_iters - warmup)))
        return min_ratio + coeff * (1.0 - min_ratio)

    return factor


def decay(epoch: int) -> float:
    return 0.95**epoch


def steps(epoch: int) -> float:
    return 1.0 / (1 + epoch // 4)


# (ours, theirs): each builds a scheduler around an optimizer.
SCHEDULERS: dict[str, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    "lambda": (lambda o: sched.LambdaLR(o, decay), lambda o: torch.optim.lr_scheduler.LambdaLR(o, decay)),
    "lambda-per-group": (
        lambda o: sched.LambdaLR(o, [decay, steps]),
        lambda o: torch.optim.lr_scheduler.LambdaLR(o, [decay, steps]),
    ),
    "step": (lambda o: sched.StepLR(o, 7, gamma=0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 7, gamma=0.5)),
    "multistep": (
        lambda o: sched.MultiStepLR(o, [3, 10, 10, 25], gamma=0.3),
        lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [3, 10, 10, 25], gamma=0.3),
    ),
    "exponential": (lambda o: sched.ExponentialLR(o, 0.9), lambda o: torch.optim.lr_scheduler.ExponentialLR(o, 0.9)),
    "linear-warmup": (
        lambda o: sched.LinearLR(o, start_factor=0.01, total_iters=10),
        lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=0.01, total_iters=10),
    ),
    "linear-decay": (
        lambda o: sched.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=20),
        lambda o: torch.optim.lr_scheduler.LinearLR(o, start_factor=1.0, end_factor=0.1, total_iters=20),
    ),
    "cosine": (
        lambda o: sched.CosineAnnealingLR(o, T_max=12, eta_min=0.001),
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=12, eta_min=0.001),
    ),
    "warmup-cosine": (
        lambda o: sched.WarmupCosineLR(o, warmup_iters=5, max_iters=25, min_lr=[0.1 * b for b in BASE_LRS]),
        lambda o: torch.optim.lr_scheduler.LambdaLR(o, nanogpt_factor(5, 25, 0.1)),
    ),
}


def make_ours(kind: str) -> tuple[Any, Any]:
    params = [Parameter(ag.tensor(np.ones(2))), Parameter(ag.tensor(np.ones(3)))]
    opt = optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, BASE_LRS)], lr=1.0, momentum=0.9)
    return opt, SCHEDULERS[kind][0](opt)


def lrs_of_ours(kind: str) -> list[list[float]]:
    opt, scheduler = make_ours(kind)
    rates = []
    for _ in range(STEPS):
        rates.append(scheduler.get_last_lr())
        assert [g["lr"] for g in opt.param_groups] == rates[-1]
        scheduler.step()
    return rates


def lrs_of_torch(kind: str) -> list[list[float]]:
    params = [
        torch.nn.Parameter(torch.ones(2, dtype=torch.float64)),
        torch.nn.Parameter(torch.ones(3, dtype=torch.float64)),
    ]
    opt = torch.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(params, BASE_LRS)], lr=1.0, momentum=0.9)
    scheduler = SCHEDULERS[kind][1](opt)
    rates = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(STEPS):
            rates.append(scheduler.get_last_lr())
            opt.step()
            scheduler.step()
    return rates


@needs_torch
@pytest.mark.parametrize("kind", sorted(SCHEDULERS))
def test_learning_rates_match_torch(kind: str) -> None:
    np.testing.assert_allclose(lrs_of_ours(kind), lrs_of_torch(kind), rtol=0, atol=1e-10)


def test_warmup_cosine_is_nanogpts_schedule() -> None:
    opt, scheduler = make_ours("warmup-cosine")
    factor = nanogpt_factor(5, 25, 0.1)
    for it in range(STEPS):
        assert scheduler.get_last_lr()[0] == pytest.approx(BASE_LRS[0] * factor(it), abs=1e-15)
        scheduler.step()
    assert scheduler.get_last_lr() == pytest.approx([0.1 * b for b in BASE_LRS])


def test_scheduler_drives_the_optimizer_step() -> None:
    w = Parameter(ag.tensor(np.zeros(1)))
    opt = optim.SGD([w], lr=1.0)
    scheduler = sched.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        w.grad = ag.tensor(np.ones(1))
        opt.step()
        scheduler.step()
    assert w.item() == -(1.0 + 0.5 + 0.25)


@pytest.mark.parametrize("kind", sorted(SCHEDULERS))
def test_state_dict_round_trip_continues_identically(kind: str) -> None:
    opt, scheduler = make_ours(kind)
    for _ in range(11):
        opt.step()
        scheduler.step()
    opt_state = json.loads(json.dumps(opt.state_dict()["param_groups"]))
    saved = json.loads(json.dumps(scheduler.state_dict()))
    expected = []
    for _ in range(10):
        scheduler.step()
        expected.append(scheduler.get_last_lr())

    opt2, scheduler2 = make_ours(kind)
    opt2.load_state_dict({"state": {}, "param_groups": opt_state})
    scheduler2.load_state_dict(saved)
    assert scheduler2.get_last_lr() == [g["lr"] for g in opt2.param_groups]
    got = []
    for _ in range(10):
        scheduler2.step()
        got.append(scheduler2.get_last_lr())
    assert got == expected


def test_initial_lr_is_kept_and_resuming_needs_it() -> None:
    opt, scheduler = make_ours("step")
    assert [g["initial_lr"] for g in opt.param_groups] == BASE_LRS
    resumed = sched.StepLR(opt, 7, gamma=0.5, last_epoch=13)
    assert resumed.get_last_lr() == [b * 0.25 for b in BASE_LRS]
    fresh_opt = optim.SGD([Parameter(ag.tensor(np.ones(1)))], lr=0.1)
    with pytest.raises(KeyError, match="param group 0 has no 'initial_lr'"):
        sched.StepLR(fresh_opt, 7, last_epoch=3)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda o: sched.StepLR(o, 0), "invalid step_size: 0"),
        (lambda o: sched.StepLR(o, 2, gamma=float("inf")), "invalid gamma: inf"),
        (lambda o: sched.MultiStepLR(o, [3, -1]), "invalid milestone: -1"),
        (lambda o: sched.LinearLR(o, start_factor=0.0), "invalid start_factor: 0.0"),
        (lambda o: sched.LinearLR(o, end_factor=2.0), "invalid end_factor: 2.0"),
        (lambda o: sched.CosineAnnealingLR(o, T_max=0), "invalid T_max: 0"),
        (lambda o: sched.WarmupCosineLR(o, 10, 10), r"max_iters \(10\) must be greater than warmup_iters \(10\)"),
        (lambda o: sched.WarmupCosineLR(o, 1, 10, min_lr=[0.1]), "expected 2 value"),
        (lambda o: sched.LambdaLR(o, [decay]), "expected 2 value"),
        (lambda o: sched.StepLR(o, 2, last_epoch=-5), "invalid last_epoch -5"),
    ],
)
def test_invalid_settings(build: Callable[[Any], Any], message: str) -> None:
    opt, _ = make_ours("step")
    with pytest.raises(ValueError, match=message):
        build(opt)


def test_load_state_dict_validation() -> None:
    opt, scheduler = make_ours("cosine")
    good = scheduler.state_dict()
    with pytest.raises(ValueError, match=r"missing keys \['last_epoch'\]"):
        scheduler.load_state_dict({k: v for k, v in good.items() if k != "last_epoch"})
    with pytest.raises(ValueError, match=r"unexpected keys \['gamma'\]"):
        scheduler.load_state_dict({**good, "gamma": 0.1})
    with pytest.raises(ValueError, match="base_lrs must be 2 number"):
        scheduler.load_state_dict({**good, "base_lrs": [0.1]})
    with pytest.raises(ValueError, match="invalid T_max: -3"):
        scheduler.load_state_dict({**good, "T_max": -3})
    assert scheduler.T_max == 12
    with pytest.raises(TypeError, match="needs a hyperion.nn.optim.Optimizer"):
        sched.StepLR(object(), 2)  # type: ignore[arg-type]
