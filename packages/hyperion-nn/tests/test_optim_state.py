"""Optimizer state_dict round trips (bit-exact continuation), parameter groups and validation errors."""

from __future__ import annotations

import copy
import json
from typing import Any

import numpy as np
import pytest

import hyperion.autograd as ag
import hyperion.tensor as ht
from hyperion.nn import Parameter, optim
from hyperion.tensor import ShapeError

SHAPES = [(3, 4), (4,), (2, 2)]

CASES = [
    (optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    (optim.SGD, {"lr": 0.1}),
    (optim.Adam, {"lr": 1e-2, "amsgrad": True, "weight_decay": 0.1}),
    (optim.AdamW, {"lr": 1e-2}),
    (optim.RMSprop, {"lr": 1e-2, "momentum": 0.5, "centered": True}),
]


def fresh(cls: type, options: dict[str, Any]) -> tuple[list[Parameter], Any]:
    rng = np.random.default_rng(1)
    params = [Parameter(ag.tensor(rng.standard_normal(s))) for s in SHAPES]
    groups = [{"params": params[:1], "lr": options["lr"] * 2}, {"params": params[1:]}]
    return params, cls(groups, **options)


def run(params: list[Parameter], opt: Any, grads: list[list[np.ndarray]]) -> None:
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = ag.tensor(g)
        opt.step()


def snapshot(params: list[Parameter]) -> list[bytes]:
    return [p.detach().numpy().tobytes() for p in params]


def to_plain(state_dict: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint keeps: tensors as NumPy arrays, the rest through JSON (string keys, lists)."""
    tensors = {}
    plain_state = {}
    for index, entries in state_dict["state"].items():
        plain_state[index] = {}
        for name, value in entries.items():
            if isinstance(value, ht.Tensor):
                tensors[(index, name)] = value.numpy().copy()
            else:
                plain_state[index][name] = value
    restored = json.loads(json.dumps({"state": plain_state, "param_groups": state_dict["param_groups"]}))
    for (index, name), array in tensors.items():
        restored["state"][str(index)][name] = array
    return restored


@pytest.mark.parametrize(("cls", "options"), CASES, ids=lambda v: getattr(v, "__name__", str(v)))
@pytest.mark.parametrize("through_json", [False, True])
def test_round_trip_mid_run_continues_bit_exactly(cls: type, options: dict[str, Any], through_json: bool) -> None:
    rng = np.random.default_rng(7)
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(20)]
    params, opt = fresh(cls, options)
    run(params, opt, grads[:10])
    saved_values = [p.detach().numpy().copy() for p in params]
    saved = to_plain(opt.state_dict()) if through_json else copy.deepcopy(opt.state_dict())
    run(params, opt, grads[10:])
    expected = snapshot(params)

    resumed, opt2 = fresh(cls, options)
    for p, value in zip(resumed, saved_values):
        p.data[...] = ht.tensor(value)
    opt2.load_state_dict(saved)
    run(resumed, opt2, grads[10:])
    assert snapshot(resumed) == expected


def test_state_dict_layout_matches_pytorch() -> None:
    params, opt = fresh(optim.Adam, {"lr": 1e-3})
    run(params, opt, [[np.ones(s) for s in SHAPES]])
    state = opt.state_dict()
    assert sorted(state) == ["param_groups", "state"]
    assert [g["params"] for g in state["param_groups"]] == [[0], [1, 2]]
    assert state["param_groups"][0]["lr"] == 2e-3
    assert state["param_groups"][1]["betas"] == (0.9, 0.999)
    assert sorted(state["state"][2]) == ["exp_avg", "exp_avg_sq", "step"]
    assert state["state"][2]["step"] == 1


def test_loaded_state_is_copied_not_shared() -> None:
    params, opt = fresh(optim.SGD, {"lr": 0.1, "momentum": 0.9})
    run(params, opt, [[np.ones(s) for s in SHAPES]])
    state = opt.state_dict()
    other_params, other = fresh(optim.SGD, {"lr": 0.1, "momentum": 0.9})
    other.load_state_dict(state)
    before = state["state"][0]["momentum_buffer"].numpy().copy()
    run(other_params, other, [[np.ones(s) for s in SHAPES]])
    np.testing.assert_array_equal(state["state"][0]["momentum_buffer"].numpy(), before)


def test_load_converts_state_to_the_parameter_dtype() -> None:
    w = Parameter(ag.tensor(np.zeros(3, dtype=np.float32)))
    opt = optim.Adam([w], lr=0.1)
    opt.load_state_dict(
        {
            "state": {0: {"step": 2, "exp_avg": np.ones(3), "exp_avg_sq": np.ones(3)}},
            "param_groups": [{"lr": 0.1, "params": [0]}],
        }
    )
    assert opt.state[w]["exp_avg"].dtype == np.float32
    assert opt.state[w]["step"] == 2


def valid_state() -> tuple[Any, dict[str, Any]]:
    w = Parameter(ag.tensor(np.zeros(3)))
    opt = optim.Adam([w], lr=0.1)
    w.grad = ag.tensor(np.ones(3))
    opt.step()
    return opt, to_plain(opt.state_dict())


def _groups(state: dict[str, Any]) -> None:
    state["param_groups"].append({"lr": 0.1, "params": []})


def _count(state: dict[str, Any]) -> None:
    state["param_groups"][0]["params"] = [0, 1]


def _index(state: dict[str, Any]) -> None:
    state["state"]["5"] = state["state"].pop("0")


def _missing(state: dict[str, Any]) -> None:
    del state["state"]["0"]["exp_avg_sq"]


def _shape(state: dict[str, Any]) -> None:
    state["state"]["0"]["exp_avg"] = np.zeros(4)


def _lr(state: dict[str, Any]) -> None:
    state["param_groups"][0]["lr"] = -1.0


def _betas(state: dict[str, Any]) -> None:
    state["param_groups"][0]["betas"] = [0.9, 1.5]


def _unknown(state: dict[str, Any]) -> None:
    state["param_groups"][0]["momentum"] = 0.9


def _step(state: dict[str, Any]) -> None:
    state["state"]["0"]["step"] = -3


def _kind(state: dict[str, Any]) -> None:
    state["state"]["0"]["exp_avg"] = "oops"


@pytest.mark.parametrize(
    ("corrupt", "error", "message"),
    [
        (_groups, ValueError, r"2 parameter group\(s\), but Adam has 1"),
        (_count, ValueError, r"group 0 has 2 parameter\(s\) in the loaded state dict but 1"),
        (_index, ValueError, "state for parameter 5"),
        (_missing, ValueError, r"parameter 0 is missing \['exp_avg_sq'\]"),
        (_shape, ShapeError, r"'exp_avg' of parameter 0 has shape \(4,\), but the parameter has shape \(3,\)"),
        (_lr, ValueError, "invalid lr: -1.0"),
        (_betas, ValueError, "invalid beta2: 1.5"),
        (_unknown, ValueError, r"unknown hyperparameter\(s\) \['momentum'\]"),
        (_step, ValueError, "'step' of parameter 0 must be a non-negative integer, got -3"),
        (_kind, ValueError, "unsupported value of type str"),
    ],
)
def test_load_state_dict_rejects_mismatches_without_changing_anything(corrupt: Any, error: type, message: str) -> None:
    opt, state = valid_state()
    before = copy.deepcopy(opt.state_dict())
    corrupt(state)
    with pytest.raises(error, match=message):
        opt.load_state_dict(state)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    assert after["state"][0]["step"] == before["state"][0]["step"]


def test_construction_errors_name_the_problem() -> None:
    w = Parameter(ag.tensor([1.0]))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(ValueError, match="invalid lr: -0.1"):
        optim.SGD([w], lr=-0.1)
    with pytest.raises(ValueError, match="invalid lr: nan"):
        optim.Adam([w], lr=float("nan"))
    with pytest.raises(ValueError, match=r"invalid beta1: 1.0"):
        optim.AdamW([w], betas=(1.0, 0.999))
    with pytest.raises(ValueError, match=r"invalid betas: \(0.9,\)"):
        optim.Adam([w], betas=(0.9,))
    with pytest.raises(ValueError, match="invalid alpha: 1.5"):
        optim.RMSprop([w], alpha=1.5)
    with pytest.raises(ValueError, match="invalid momentum: -0.5"):
        optim.RMSprop([w], momentum=-0.5)
    with pytest.raises(ValueError, match="invalid amsgrad: 1"):
        optim.Adam([w], amsgrad=1)
    with pytest.raises(TypeError, match="item 1 of the group is a list"):
        optim.SGD([w, [1.0]], lr=0.1)
    with pytest.raises(TypeError, match="non-leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1)
    with pytest.raises(ValueError, match="lists the same parameter twice"):
        optim.SGD([w, w], lr=0.1)
    with pytest.raises(ValueError, match=r"unknown hyperparameter\(s\) \['betas'\] for SGD"):
        optim.SGD([{"params": [w], "betas": (0.9, 0.9)}], lr=0.1)


def test_add_param_group_uses_defaults_and_is_stepped() -> None:
    a, b = Parameter(ag.tensor([1.0])), Parameter(ag.tensor([1.0]))
    opt = optim.SGD([a], lr=0.1, momentum=0.5)
    opt.add_param_group({"params": [b], "lr": 0.5})
    assert opt.param_groups[1]["momentum"] == 0.5
    a.grad, b.grad = ag.tensor([1.0]), ag.tensor([1.0])
    opt.step()
    assert a.item() == pytest.approx(0.9)
    assert b.item() == pytest.approx(0.5)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [a]})


def test_optimizer_follows_a_parameter_whose_data_was_replaced() -> None:
    """Module.to() swaps ``p.data``; the optimizer reads ``p.data`` on every step, so it follows."""
    w = Parameter(ag.tensor(np.zeros(2, dtype=np.float32)))
    opt = optim.SGD([w], lr=1.0)
    w.data = w.data.astype("float64")
    w.grad = ag.tensor(np.array([1.0, 2.0]))
    opt.step()
    assert w.tolist() == [-1.0, -2.0]


def test_repr_lists_groups() -> None:
    text = repr(optim.AdamW([Parameter(ag.tensor([1.0]))], lr=0.5))
    assert text.startswith("AdamW (") and "Parameter Group 0" in text and "lr: 0.5" in text


def test_weight_decay_groups_decay_only_matrices() -> None:
    w, b, g = Parameter(ag.tensor(np.ones((2, 2)))), Parameter(ag.tensor(np.ones(2))), Parameter(ag.tensor(np.ones(2)))
    groups = optim.weight_decay_groups([w, b, g], 0.5)
    opt = optim.AdamW(groups, lr=0.1)
    assert [len(group["params"]) for group in opt.param_groups] == [1, 2]
    assert [group["weight_decay"] for group in opt.param_groups] == [0.5, 0.0]
    assert optim.weight_decay_groups([b], 0.5) == [{"params": [b], "weight_decay": 0.0}]
