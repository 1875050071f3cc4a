"""Layers against their PyTorch counterparts (float64): forward, input and parameter gradients, state, repr."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hyperion.autograd as ag
import hyperion.nn as nn
from hyperion.tensor import ShapeError

torch = pytest.importorskip("torch")  # the reference; these parity tests skip without it

T = torch.nn


def _copy_state(layer: nn.Module, torch_layer: torch.nn.Module) -> None:
    layer.double()
    torch_layer.double()
    layer.load_state_dict({k: v.detach().numpy().copy() for k, v in torch_layer.state_dict().items()})


def _compare(
    layer: nn.Module, torch_layer: torch.nn.Module, x: np.ndarray, seed: int = 0, integer: bool = False
) -> None:
    _copy_state(layer, torch_layer)
    hx = ag.tensor(x) if integer else ag.tensor(x, requires_grad=True)
    tx = torch.tensor(x) if integer else torch.tensor(x, requires_grad=True)
    out, t_out = layer(hx), torch_layer(tx)
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-9, atol=1e-10)
    g = np.random.default_rng(seed).standard_normal(tuple(t_out.shape))
    out.backward(ag.tensor(g))
    t_out.backward(torch.tensor(g))
    if not integer:
        np.testing.assert_allclose(hx.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-10)
    t_params = dict(torch_layer.named_parameters())
    h_params = dict(layer.named_parameters())
    assert set(h_params) == set(t_params)
    for name, p in h_params.items():
        np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), rtol=1e-9, atol=1e-10, err_msg=name)
    for name, buf in torch_layer.named_buffers():
        np.testing.assert_allclose(dict(layer.named_buffers())[name].numpy(), buf.numpy(), rtol=1e-12, err_msg=name)


def _x(*shape: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


CASES = {
    "linear": (lambda: nn.Linear(5, 3), lambda: T.Linear(5, 3), (4, 5)),
    "linear_nobias_3d": (lambda: nn.Linear(5, 3, bias=False), lambda: T.Linear(5, 3, bias=False), (2, 4, 5)),
    "conv": (
        lambda: nn.Conv2d(3, 4, 3, stride=2, padding=1),
        lambda: T.Conv2d(3, 4, 3, stride=2, padding=1),
        (2, 3, 7, 8),
    ),
    "conv_grouped": (
        lambda: nn.Conv2d(4, 6, (3, 2), dilation=(2, 1), groups=2, bias=False),
        lambda: T.Conv2d(4, 6, (3, 2), dilation=(2, 1), groups=2, bias=False),
        (2, 4, 8, 6),
    ),
    "conv_depthwise": (
        lambda: nn.Conv2d(3, 3, 3, padding="same", groups=3),
        lambda: T.Conv2d(3, 3, 3, padding="same", groups=3),
        (1, 3, 5, 5),
    ),
    "maxpool": (lambda: nn.MaxPool2d(3, 2, 1), lambda: T.MaxPool2d(3, 2, 1), (2, 2, 7, 7)),
    "avgpool": (lambda: nn.AvgPool2d(2), lambda: T.AvgPool2d(2), (2, 2, 6, 6)),
    "adaptive": (lambda: nn.AdaptiveAvgPool2d((2, 3)), lambda: T.AdaptiveAvgPool2d((2, 3)), (2, 2, 5, 7)),
    "flatten": (lambda: nn.Flatten(), lambda: T.Flatten(), (2, 3, 4)),
    "relu": (lambda: nn.ReLU(), lambda: T.ReLU(), (3, 4)),
    "leaky": (lambda: nn.LeakyReLU(0.1), lambda: T.LeakyReLU(0.1), (3, 4)),
    "gelu": (lambda: nn.GELU(), lambda: T.GELU(), (3, 4)),
    "gelu_tanh": (lambda: nn.GELU("tanh"), lambda: T.GELU("tanh"), (3, 4)),
    "silu": (lambda: nn.SiLU(), lambda: T.SiLU(), (3, 4)),
    "sigmoid": (lambda: nn.Sigmoid(), lambda: T.Sigmoid(), (3, 4)),
    "tanh": (lambda: nn.Tanh(), lambda: T.Tanh(), (3, 4)),
    "softmax": (lambda: nn.Softmax(dim=1), lambda: T.Softmax(dim=1), (3, 4)),
    "logsoftmax": (lambda: nn.LogSoftmax(dim=0), lambda: T.LogSoftmax(dim=0), (3, 4)),
    "layernorm": (lambda: nn.LayerNorm((3, 4)), lambda: T.LayerNorm((3, 4)), (2, 3, 4)),
    "rmsnorm": (lambda: nn.RMSNorm(4), lambda: T.RMSNorm(4), (2, 3, 4)),
    "groupnorm": (lambda: nn.GroupNorm(2, 4), lambda: T.GroupNorm(2, 4), (2, 4, 3, 3)),
    "batchnorm1d": (lambda: nn.BatchNorm1d(3), lambda: T.BatchNorm1d(3), (6, 3)),
    "batchnorm1d_3d": (lambda: nn.BatchNorm1d(3, momentum=None), lambda: T.BatchNorm1d(3, momentum=None), (4, 3, 5)),
    "batchnorm2d": (lambda: nn.BatchNorm2d(3, affine=False), lambda: T.BatchNorm2d(3, affine=False), (2, 3, 4, 4)),
    "batchnorm2d_nostats": (
        lambda: nn.BatchNorm2d(3, track_running_stats=False),
        lambda: T.BatchNorm2d(3, track_running_stats=False),
        (2, 3, 4, 4),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_matches_torch(name: str) -> None:
    make, make_torch, shape = CASES[name]
    layer, torch_layer = make(), make_torch()
    _compare(layer, torch_layer, _x(*shape) * 2 + 0.5)
    assert repr(layer) == repr(torch_layer)


@pytest.mark.parametrize("name", ["batchnorm1d", "batchnorm1d_3d", "batchnorm2d"])
def test_batch_norm_running_stats_over_steps_and_eval(name: str) -> None:
    make, make_torch, shape = CASES[name]
    layer, torch_layer = make(), make_torch()
    _copy_state(layer, torch_layer)
    for step in range(3):
        x = _x(*shape, seed=step) * (step + 1)
        layer(ag.tensor(x))
        torch_layer(torch.tensor(x))
    for key, value in torch_layer.state_dict().items():
        np.testing.assert_allclose(layer.state_dict()[key].numpy(), value.numpy(), rtol=1e-12, err_msg=key)
    layer.eval()
    torch_layer.eval()
    x = _x(*shape, seed=9)
    np.testing.assert_allclose(
        layer(ag.tensor(x)).detach().numpy(), torch_layer(torch.tensor(x)).detach().numpy(), rtol=1e-10
    )


def test_embedding_matches_torch() -> None:
    idx = np.random.default_rng(2).integers(0, 7, (3, 4))
    _compare(nn.Embedding(7, 5, padding_idx=1), T.Embedding(7, 5, padding_idx=1), idx, integer=True)
    assert repr(nn.Embedding(7, 5, padding_idx=1)) == repr(T.Embedding(7, 5, padding_idx=1))
    assert (nn.Embedding(7, 5, padding_idx=1, seed=0).weight.detach().numpy()[1] == 0).all()


def test_dropout_layer_train_and_eval() -> None:
    layer = nn.Dropout(0.5, seed=3)
    x = ag.ones(1000)
    y = layer(x)
    assert set(np.unique(y.numpy()).tolist()) <= {0.0, 2.0}
    layer.eval()
    assert layer(x) is x
    assert repr(layer) == repr(T.Dropout(0.5))


def test_swiglu_and_residual() -> None:
    layer = nn.SwiGLU(4, 6, seed=0).double()
    x = _x(3, 4)
    w1, w2, w3 = (getattr(layer, n).weight.detach().numpy() for n in ("gate_proj", "up_proj", "down_proj"))
    tx = torch.tensor(x)
    want = (torch.nn.functional.silu(tx @ torch.tensor(w1).T) * (tx @ torch.tensor(w2).T)) @ torch.tensor(w3).T
    np.testing.assert_allclose(layer(ag.tensor(x)).detach().numpy(), want.numpy(), rtol=1e-10)
    res = nn.Residual(nn.Linear(4, 4, seed=1)).double()
    np.testing.assert_allclose(
        res(ag.tensor(x)).detach().numpy(), x + res.fn(ag.tensor(x)).detach().numpy(), rtol=1e-12
    )


def test_basic_block_matches_torch_composition() -> None:
    block = nn.BasicBlock(2, 4, stride=2, seed=0)
    t = {name: torch.tensor(v.numpy().astype(np.float64)) for name, v in block.double().state_dict().items()}

    def bn(x: torch.Tensor, prefix: str) -> torch.Tensor:
        return torch.nn.functional.batch_norm(
            x,
            t[prefix + ".running_mean"].clone(),
            t[prefix + ".running_var"].clone(),
            t[prefix + ".weight"],
            t[prefix + ".bias"],
            True,
        )

    x = _x(2, 2, 6, 6)
    tx = torch.tensor(x)
    out = torch.relu(bn(torch.nn.functional.conv2d(tx, t["conv1.weight"], stride=2, padding=1), "bn1"))
    out = bn(torch.nn.functional.conv2d(out, t["conv2.weight"], padding=1), "bn2")
    short = bn(torch.nn.functional.conv2d(tx, t["downsample.0.weight"], stride=2), "downsample.1")
    np.testing.assert_allclose(
        block(ag.tensor(x)).detach().numpy(), torch.relu(out + short).numpy(), rtol=1e-9, atol=1e-10
    )


@pytest.mark.parametrize(
    ("make", "fan_in"),
    [
        (lambda: nn.Linear(300, 200, seed=0), 300),
        (lambda: nn.Conv2d(16, 64, 5, seed=0), 400),
        (lambda: nn.Conv2d(16, 64, 3, groups=4, seed=0), 36),
    ],
)
def test_default_initialisation_like_torch(make, fan_in: int) -> None:
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    w = layer.weight.detach().numpy()
    assert np.abs(w).max() <= bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.05)
    assert np.abs(layer.bias.detach().numpy()).max() <= bound
    assert layer.weight.dtype == np.float32
    again = make()
    np.testing.assert_array_equal(again.weight.detach().numpy(), w)


def test_layer_errors() -> None:
    conv = nn.Conv2d(3, 8, 3)
    with pytest.raises(ShapeError, match="input has 1 channels"):
        conv(ag.zeros(2, 1, 8, 8))
    with pytest.raises(ShapeError, match="larger than the padded input"):
        conv(ag.zeros(1, 3, 2, 2))
    with pytest.raises(ShapeError, match="normalized_shape"):
        nn.LayerNorm(5)(ag.zeros(2, 4))
    with pytest.raises(ShapeError, match="4-D input"):
        nn.BatchNorm2d(3)(ag.zeros(2, 3))
    with pytest.raises(ValueError, match="groups=2 must divide"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ShapeError, match="expects 784"):
        nn.Linear(784, 10)(ag.zeros(2, 100))


def test_reprs_match_torch() -> None:
    pairs = [
        (nn.Linear(784, 512), T.Linear(784, 512)),
        (nn.Conv2d(1, 6, 5, padding=2), T.Conv2d(1, 6, 5, padding=2)),
        (
            nn.Conv2d(4, 8, (3, 1), stride=2, dilation=2, groups=4, bias=False),
            T.Conv2d(4, 8, (3, 1), stride=2, dilation=2, groups=4, bias=False),
        ),
        (nn.MaxPool2d(2), T.MaxPool2d(2)),
        (nn.AvgPool2d(3, 1, 1), T.AvgPool2d(3, 1, 1)),
        (nn.BatchNorm2d(6), T.BatchNorm2d(6)),
        (nn.GroupNorm(2, 6), T.GroupNorm(2, 6)),
        (nn.Sequential(nn.Flatten(), nn.Linear(4, 2), nn.ReLU()), T.Sequential(T.Flatten(), T.Linear(4, 2), T.ReLU())),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)


def _loss_cases() -> list[tuple]:
    rng = np.random.default_rng(21)
    w = rng.uniform(0.5, 2, 4)
    logits = rng.standard_normal((6, 4))
    classes = rng.integers(0, 4, 6)
    probs = rng.uniform(0.05, 0.95, (6, 4))
    targets = rng.uniform(0, 1, (6, 4))
    pos = rng.uniform(0.5, 2, 4)
    return [
        (
            "ce",
            lambda: nn.CrossEntropyLoss(ag.tensor(w), label_smoothing=0.1, ignore_index=2),
            lambda: T.CrossEntropyLoss(torch.tensor(w), label_smoothing=0.1, ignore_index=2),
            logits,
            classes,
        ),
        ("nll", lambda: nn.NLLLoss(reduction="sum"), lambda: T.NLLLoss(reduction="sum"), logits, classes),
        ("mse", lambda: nn.MSELoss(), lambda: T.MSELoss(), logits, targets),
        ("bce", lambda: nn.BCELoss(ag.tensor(targets)), lambda: T.BCELoss(torch.tensor(targets)), probs, targets),
        (
            "bce_logits",
            lambda: nn.BCEWithLogitsLoss(pos_weight=ag.tensor(pos)),
            lambda: T.BCEWithLogitsLoss(pos_weight=torch.tensor(pos)),
            logits,
            targets,
        ),
    ]


@pytest.mark.parametrize("case", _loss_cases(), ids=lambda c: c[0] if isinstance(c, tuple) else "")
def test_loss_modules_match_torch(case: tuple) -> None:
    _, make, make_torch, x, target = case
    loss, t_loss = make(), make_torch()
    hx, tx = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, t_out = loss(hx, ag.tensor(target)), t_loss(tx, torch.tensor(target))
    np.testing.assert_allclose(out.item(), t_out.item(), rtol=1e-10)
    out.backward()
    t_out.backward()
    np.testing.assert_allclose(hx.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)
    assert repr(loss) == repr(t_loss)
