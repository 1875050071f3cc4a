"""Optimizers against PyTorch: 30 steps from the same float64 parameters and gradients agree to 1e-10."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

import hyperion.autograd as ag
from hyperion.nn import Parameter, optim

try:
    import torch
except ImportError:  # PyTorch is the reference of the parity tests only
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (the reference) is not installed")

SHAPES = [(3, 4), (4,), (2, 3, 2), (5,)]
STEPS = 30


def make_params(seed: int = 0) -> tuple[list[np.ndarray], list[list[np.ndarray | None]]]:
    """Initial values and a gradient sequence (with a few missing gradients) from a fixed seed."""
    rng = np.random.default_rng(seed)
    initial = [rng.standard_normal(shape) for shape in SHAPES]
    grads = []
    for step in range(STEPS):
        # Parameter 3 has no gradient on every fifth step: both frameworks must skip it.
        grads.append([None if (i == 3 and step % 5 == 2) else rng.standard_normal(s) for i, s in enumerate(SHAPES)])
    return initial, grads


def hyperion_groups(params: list[Any], group_options: list[dict[str, Any]] | None) -> Any:
    if group_options is None:
        return params
    return [{"params": params[:2], **group_options[0]}, {"params": params[2:], **group_options[1]}]


def run_pair(
    hy_cls: type,
    torch_cls: type,
    options: dict[str, Any],
    group_options: list[dict[str, Any]] | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    initial, grads = make_params()
    hy_params = [Parameter(ag.tensor(v.copy())) for v in initial]
    th_params = [torch.nn.Parameter(torch.tensor(v.copy())) for v in initial]
    hy_opt = hy_cls(hyperion_groups(hy_params, group_options), **options)
    th_opt = torch_cls(hyperion_groups(th_params, group_options), **options)
    for step_grads in grads:
        for hp, tp, g in zip(hy_params, th_params, step_grads):
            hp.grad = None if g is None else ag.tensor(g)
            tp.grad = None if g is None else torch.tensor(g)
        hy_opt.step()
        th_opt.step()
    return [p.detach().numpy() for p in hy_params], [p.detach().numpy() for p in th_params]


def assert_close(ours: list[np.ndarray], theirs: list[np.ndarray]) -> None:
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)


SGD_OPTIONS = [
    {"lr": 0.1},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True},
    {"lr": 0.05, "momentum": 0.5, "weight_decay": 0.1},
    {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01, "maximize": True},
]


@needs_torch
@pytest.mark.parametrize("options", SGD_OPTIONS, ids=str)
def test_sgd_matches_torch(options: dict[str, Any]) -> None:
    assert_close(*run_pair(optim.SGD, torch.optim.SGD, options))


ADAM_OPTIONS = [
    {"lr": 1e-2},
    {"lr": 1e-2, "betas": (0.8, 0.95), "eps": 1e-6},
    {"lr": 1e-2, "weight_decay": 0.1},
    {"lr": 1e-2, "amsgrad": True},
    {"lr": 1e-2, "amsgrad": True, "weight_decay": 0.05, "maximize": True},
    {"lr": 1e-2, "betas": (0.3, 0.6)},  # 1 - beta1 >= 0.5: the other form of lerp
]


@needs_torch
@pytest.mark.parametrize(("ours", "theirs"), [("Adam", "Adam"), ("AdamW", "AdamW")])
@pytest.mark.parametrize("options", ADAM_OPTIONS, ids=str)
def test_adam_and_adamw_match_torch(ours: str, theirs: str, options: dict[str, Any]) -> None:
    assert_close(*run_pair(getattr(optim, ours), getattr(torch.optim, theirs), options))


RMSPROP_OPTIONS = [
    {"lr": 1e-2},
    {"lr": 1e-2, "alpha": 0.9, "eps": 1e-6},
    {"lr": 1e-2, "centered": True},
    {"lr": 1e-2, "momentum": 0.9},
    {"lr": 1e-2, "momentum": 0.8, "centered": True, "weight_decay": 0.1},
    {"lr": 1e-2, "alpha": 0.3, "centered": True, "maximize": True},
]


@needs_torch
@pytest.mark.parametrize("options", RMSPROP_OPTIONS, ids=str)
def test_rmsprop_matches_torch(options: dict[str, Any]) -> None:
    assert_close(*run_pair(optim.RMSprop, torch.optim.RMSprop, options))


GROUPS = [{"lr": 0.1, "weight_decay": 0.01}, {"lr": 0.01}]


@needs_torch
@pytest.mark.parametrize(
    ("name", "options", "groups"),
    [
        ("SGD", {"lr": 0.05, "momentum": 0.9}, [{"lr": 0.1, "nesterov": True}, {"lr": 0.01, "dampening": 0.5}]),
        ("Adam", {"lr": 1e-3}, GROUPS),
        ("AdamW", {"lr": 1e-3, "amsgrad": True}, [{"lr": 0.1}, {"lr": 0.01, "weight_decay": 0.5, "betas": (0.5, 0.9)}]),
        ("RMSprop", {"lr": 1e-3}, [{"lr": 0.02, "centered": True}, {"lr": 0.01, "momentum": 0.5}]),
    ],
)
def test_param_groups_with_different_hyperparameters_match_torch(
    name: str, options: dict[str, Any], groups: list[dict[str, Any]]
) -> None:
    assert_close(*run_pair(getattr(optim, name), getattr(torch.optim, name), options, groups))


@needs_torch
def test_float32_parameters_stay_float32_and_track_torch() -> None:
    rng = np.random.default_rng(3)
    value = rng.standard_normal((4, 3)).astype(np.float32)
    ours = Parameter(ag.tensor(value.copy()))
    theirs = torch.nn.Parameter(torch.tensor(value.copy()))
    hy_opt, th_opt = optim.AdamW([ours], lr=1e-2), torch.optim.AdamW([theirs], lr=1e-2)
    for _ in range(10):
        g = rng.standard_normal((4, 3)).astype(np.float32)
        ours.grad, theirs.grad = ag.tensor(g), torch.tensor(g)
        hy_opt.step()
        th_opt.step()
    assert ours.dtype == np.float32
    assert hy_opt.state[ours]["exp_avg"].dtype == np.float32
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-5, atol=1e-6)


def test_step_trains_a_model_through_autograd() -> None:
    """A closure-driven loop reduces a least-squares loss (the optimizer writes the storage the model reads)."""
    rng = np.random.default_rng(0)
    x = ag.tensor(rng.standard_normal((32, 3)))
    y = ag.tensor(rng.standard_normal((32, 1)))
    w = Parameter(ag.zeros(3, 1, dtype="float64"))
    opt = optim.Adam([w], lr=0.1)

    def closure() -> ag.Tensor:
        opt.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        return loss

    first = closure().item()
    for _ in range(100):
        last = opt.step(closure).item()
    exact = np.linalg.lstsq(x.numpy(), y.numpy(), rcond=None)[0]
    assert last < first
    np.testing.assert_allclose(w.detach().numpy(), exact, atol=1e-3)


def test_in_place_update_is_seen_by_a_graph_that_saved_the_parameter() -> None:
    """Stepping between forward and backward makes backward refuse (the saved value is stale)."""
    w = Parameter(ag.tensor([1.0, 2.0]))
    opt = optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    w.grad = ag.tensor([1.0, 1.0])
    opt.step()
    with pytest.raises(ag.InplaceModificationError):
        loss.backward()


def test_adamw_routes_through_the_kernel_registry() -> None:
    from hyperion.tensor import registry

    calls: list[int] = []

    def spy(*args: Any) -> None:
        calls.append(args[5])
        optim.adamw_step_reference(*args)

    w = Parameter(ag.tensor([1.0, 2.0]))
    opt = optim.AdamW([w], lr=0.1)
    # The reference first: an installed kernel package would otherwise win the lookup.
    with registry.use_kernels("reference"):
        assert registry.which("nn.adamw_step", "cpu") == "reference"
        registry.register_reference("nn.adamw_step", spy, devices=["cpu"])
        try:
            for _ in range(2):
                w.grad = ag.tensor([0.5, -0.5])
                opt.step()
        finally:
            registry.register_reference("nn.adamw_step", optim.adamw_step_reference)
    assert calls == [1, 2]


@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none: bool) -> None:
    a, b = Parameter(ag.tensor([1.0, 2.0])), Parameter(ag.tensor([3.0]))
    opt = optim.SGD([a, b], lr=0.1)
    a.grad = ag.tensor([5.0, 6.0])
    opt.zero_grad(set_to_none=set_to_none)
    assert b.grad is None
    assert a.grad is None if set_to_none else a.grad.tolist() == [0.0, 0.0]


def test_all_combinations_of_sgd_flags_are_validated_consistently() -> None:
    for momentum, dampening, nesterov in itertools.product([0.0, 0.9], [0.0, 0.5], [False, True]):
        w = Parameter(ag.tensor([1.0]))
        valid = not nesterov or (momentum > 0 and dampening == 0)
        if valid:
            optim.SGD([w], lr=0.1, momentum=momentum, dampening=dampening, nesterov=nesterov)
        else:
            with pytest.raises(ValueError, match="Nesterov momentum requires momentum > 0 and dampening = 0"):
                optim.SGD([w], lr=0.1, momentum=momentum, dampening=dampening, nesterov=nesterov)
