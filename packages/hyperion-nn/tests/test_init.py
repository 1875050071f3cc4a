"""Initialisers: statistics match their formulas, fans and gains equal PyTorch's, generators make them reproducible."""

from __future__ import annotations

import math

import numpy as np
import pytest

import hyperion.autograd as ag
from hyperion.nn import init


@pytest.mark.parametrize("shape", [(5, 3), (8, 4, 3, 3), (2, 7, 5), (1, 1), (16, 1, 5, 5)])
def test_fans_equal_torch(shape: tuple[int, ...]) -> None:
    torch = pytest.importorskip("torch")
    assert init._calculate_fan_in_and_fan_out(ag.empty(*shape)) == torch.nn.init._calculate_fan_in_and_fan_out(
        torch.empty(shape)
    )


def test_fans_need_two_dims() -> None:
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(ag.empty(5))


@pytest.mark.parametrize(
    ("name", "param"),
    [
        ("linear", None),
        ("conv2d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.2),
        ("leaky_relu", math.sqrt(5)),
        ("selu", None),
    ],
)
def test_gain_equals_torch(name: str, param: float | None) -> None:
    torch = pytest.importorskip("torch")
    assert init.calculate_gain(name, param) == pytest.approx(torch.nn.init.calculate_gain(name, param), rel=1e-15)


def test_gain_errors() -> None:
    with pytest.raises(ValueError, match="unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


def _values(t: ag.Tensor) -> np.ndarray:
    return t.detach().numpy().astype(np.float64)


def test_uniform_and_normal_statistics() -> None:
    rng = np.random.default_rng(0)
    u = _values(init.uniform_(ag.empty(400, 500, dtype="float64"), -2.0, 3.0, generator=rng))
    assert u.min() >= -2.0 and u.max() < 3.0
    assert u.mean() == pytest.approx(0.5, abs=0.01)
    assert u.std() == pytest.approx(5 / math.sqrt(12), rel=0.01)
    n = _values(init.normal_(ag.empty(400, 500, dtype="float64"), 1.5, 0.5, generator=rng))
    assert n.mean() == pytest.approx(1.5, abs=0.005)
    assert n.std() == pytest.approx(0.5, rel=0.01)


@pytest.mark.parametrize("shape", [(300, 200), (64, 32, 3, 3)])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_xavier(shape: tuple[int, ...], gain: float) -> None:
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(ag.empty(*shape))
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    u = _values(init.xavier_uniform_(ag.empty(*shape), gain, generator=np.random.default_rng(1)))
    assert np.abs(u).max() <= math.sqrt(3) * std + 1e-7
    assert u.std() == pytest.approx(std, rel=0.02)
    n = _values(init.xavier_normal_(ag.empty(*shape), gain, generator=np.random.default_rng(2)))
    assert n.std() == pytest.approx(std, rel=0.02)
    assert n.mean() == pytest.approx(0.0, abs=0.05 * std)


@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize(("nonlinearity", "a"), [("relu", 0.0), ("leaky_relu", math.sqrt(5)), ("leaky_relu", 0.1)])
def test_kaiming(mode: str, nonlinearity: str, a: float) -> None:
    shape = (120, 90, 3, 3)
    fan_in, fan_out = init._calculate_fan_in_and_fan_out(ag.empty(*shape))
    std = init.calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)
    u = _values(init.kaiming_uniform_(ag.empty(*shape), a, mode, nonlinearity, generator=np.random.default_rng(3)))
    assert np.abs(u).max() <= math.sqrt(3) * std + 1e-7
    assert u.std() == pytest.approx(std, rel=0.02)
    n = _values(init.kaiming_normal_(ag.empty(*shape), a, mode, nonlinearity, generator=np.random.default_rng(4)))
    assert n.std() == pytest.approx(std, rel=0.02)
    with pytest.raises(ValueError, match="mode must be"):
        init.kaiming_uniform_(ag.empty(*shape), mode="fan_avg")


def test_constants_and_reproducibility() -> None:
    t = ag.empty(3, 4, dtype="float64")
    assert (_values(init.constant_(t, 2.5)) == 2.5).all()
    assert (_values(init.ones_(t)) == 1).all()
    assert (_values(init.zeros_(t)) == 0).all()
    a = _values(init.normal_(ag.empty(5), generator=np.random.default_rng(9)))
    b = _values(init.normal_(ag.empty(5), generator=np.random.default_rng(9)))
    np.testing.assert_array_equal(a, b)
    init.manual_seed(3)
    c = _values(init.uniform_(ag.empty(5)))
    init.manual_seed(3)
    np.testing.assert_array_equal(c, _values(init.uniform_(ag.empty(5))))
