"""Parity of conv2d and the pooling ops with PyTorch (float64): forward, input and parameter gradients."""

from __future__ import annotations

import numpy as np
import pytest

import hyperion.autograd as ag
from hyperion.nn import functional as F
from hyperion.tensor import ShapeError

torch = pytest.importorskip("torch")  # the reference; these parity tests skip without it
TF = torch.nn.functional


def _pair(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[ag.Tensor, torch.Tensor]:
    a = rng.standard_normal(shape)
    return ag.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)


def _backward_both(h_out: ag.Tensor, t_out: torch.Tensor, rng: np.random.Generator) -> None:
    g = rng.standard_normal(tuple(t_out.shape))
    h_out.backward(ag.tensor(g))
    t_out.backward(torch.tensor(g))


def _close(h: ag.Tensor, t: torch.Tensor) -> None:
    np.testing.assert_allclose(h.detach().numpy(), t.detach().numpy(), rtol=1e-9, atol=1e-10)


def _conv_configs(count: int) -> list[dict]:
    rng = np.random.default_rng(1234)
    configs = []
    while len(configs) < count:
        groups = int(rng.integers(1, 4))
        kh, kw = (int(v) for v in rng.integers(1, 5, size=2))
        cfg = dict(
            n=int(rng.integers(1, 3)),
            groups=groups,
            cin=groups * int(rng.integers(1, 3)),
            cout=groups * int(rng.integers(1, 3)),
            kernel=(kh, kw),
            stride=tuple(int(v) for v in rng.integers(1, 4, size=2)),
            padding=tuple(int(v) for v in rng.integers(0, 3, size=2)),
            dilation=tuple(int(v) for v in rng.integers(1, 3, size=2)),
            hw=tuple(int(v) for v in rng.integers(5, 10, size=2)),
            bias=bool(rng.integers(0, 2)),
        )
        extent = [d * (k - 1) + 1 for d, k in zip(cfg["dilation"], cfg["kernel"])]
        if all(e <= s + 2 * p for e, s, p in zip(extent, cfg["hw"], cfg["padding"])):
            configs.append(cfg)
    return configs


@pytest.mark.parametrize(
    "cfg", _conv_configs(24), ids=lambda c: f"g{c['groups']}k{c['kernel']}s{c['stride']}p{c['padding']}d{c['dilation']}"
)
def test_conv2d_matches_torch(cfg: dict) -> None:
    rng = np.random.default_rng(0)
    x, tx = _pair(rng, (cfg["n"], cfg["cin"], *cfg["hw"]))
    w, tw = _pair(rng, (cfg["cout"], cfg["cin"] // cfg["groups"], *cfg["kernel"]))
    b, tb = _pair(rng, (cfg["cout"],)) if cfg["bias"] else (None, None)
    kw = dict(stride=cfg["stride"], padding=cfg["padding"], dilation=cfg["dilation"], groups=cfg["groups"])
    out = F.conv2d(x, w, b, **kw)
    t_out = TF.conv2d(tx, tw, tb, **kw)
    _close(out, t_out)
    _backward_both(out, t_out, rng)
    _close(x.grad, tx.grad)
    _close(w.grad, tw.grad)
    if b is not None:
        _close(b.grad, tb.grad)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_conv2d_depthwise_and_same_padding() -> None:
    rng = np.random.default_rng(1)
    x, tx = _pair(rng, (2, 4, 7, 6))
    w, tw = _pair(rng, (8, 1, 4, 3))
    out = F.conv2d(x, w, groups=4, padding="same", dilation=(1, 2))
    t_out = TF.conv2d(tx, tw, groups=4, padding="same", dilation=(1, 2))
    _close(out, t_out)
    _backward_both(out, t_out, rng)
    _close(x.grad, tx.grad)
    _close(w.grad, tw.grad)


def test_conv2d_double_backward_matches_torch() -> None:
    rng = np.random.default_rng(2)
    x, tx = _pair(rng, (2, 2, 6, 5))
    w, tw = _pair(rng, (3, 2, 3, 2))
    gx, gw = ag.grad((F.conv2d(x, w, stride=2, padding=1) ** 2).sum(), [x, w], create_graph=True)
    tgx, tgw = torch.autograd.grad((TF.conv2d(tx, tw, stride=2, padding=1) ** 2).sum(), [tx, tw], create_graph=True)
    _close(gx, tgx)
    _close(gw, tgw)
    hx2, hw2 = ag.grad((gx * gx).sum() + (gw * gw).sum(), [x, w])
    tx2, tw2 = torch.autograd.grad((tgx * tgx).sum() + (tgw * tgw).sum(), [tx, tw])
    _close(hx2, tx2)
    _close(hw2, tw2)


def test_conv2d_unbatched() -> None:
    rng = np.random.default_rng(3)
    x, tx = _pair(rng, (3, 5, 5))
    w, tw = _pair(rng, (2, 3, 3, 3))
    _close(F.conv2d(x, w, padding=1), TF.conv2d(tx, tw, padding=1))


def test_conv2d_errors_name_the_shapes() -> None:
    x = ag.zeros(1, 3, 8, 8, dtype="float64")
    with pytest.raises(ShapeError, match=r"input has 3 channels .* expects 4 channels"):
        F.conv2d(x, ag.zeros(2, 4, 3, 3, dtype="float64"))
    with pytest.raises(ShapeError, match="larger than the padded input"):
        F.conv2d(x, ag.zeros(2, 3, 9, 9, dtype="float64"))
    with pytest.raises(ShapeError, match="3-D .* or 4-D"):
        F.conv2d(ag.zeros(8, 8), ag.zeros(2, 3, 3, 3))
    with pytest.raises(ValueError, match="groups=2 must divide"):
        F.conv2d(x, ag.zeros(2, 1, 3, 3, dtype="float64"), groups=2)


def _pool_configs(count: int) -> list[dict]:
    rng = np.random.default_rng(99)
    configs = []
    for _ in range(count):
        kernel = tuple(int(v) for v in rng.integers(1, 5, size=2))
        configs.append(
            dict(
                kernel=kernel,
                stride=tuple(int(v) for v in rng.integers(1, 4, size=2)),
                padding=tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel),
                dilation=tuple(int(v) for v in rng.integers(1, 3, size=2)),
            )
        )
    return configs


@pytest.mark.parametrize(
    "cfg", _pool_configs(16), ids=lambda c: f"k{c['kernel']}s{c['stride']}p{c['padding']}d{c['dilation']}"
)
def test_max_pool2d_matches_torch(cfg: dict) -> None:
    rng = np.random.default_rng(5)
    x, tx = _pair(rng, (2, 3, 9, 10))
    out, idx = F.max_pool2d(x, cfg["kernel"], cfg["stride"], cfg["padding"], cfg["dilation"], return_indices=True)
    t_out, t_idx = TF.max_pool2d(tx, cfg["kernel"], cfg["stride"], cfg["padding"], cfg["dilation"], return_indices=True)
    _close(out, t_out)
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    _backward_both(out, t_out, rng)
    _close(x.grad, tx.grad)


@pytest.mark.parametrize("cfg", _pool_configs(12), ids=lambda c: f"k{c['kernel']}s{c['stride']}p{c['padding']}")
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_matches_torch(cfg: dict, count_include_pad: bool) -> None:
    rng = np.random.default_rng(6)
    x, tx = _pair(rng, (2, 2, 8, 9))
    out = F.avg_pool2d(x, cfg["kernel"], cfg["stride"], cfg["padding"], count_include_pad=count_include_pad)
    t_out = TF.avg_pool2d(tx, cfg["kernel"], cfg["stride"], cfg["padding"], count_include_pad=count_include_pad)
    _close(out, t_out)
    _backward_both(out, t_out, rng)
    _close(x.grad, tx.grad)


def test_avg_pool2d_divisor_override() -> None:
    rng = np.random.default_rng(7)
    x, tx = _pair(rng, (1, 2, 6, 6))
    _close(F.avg_pool2d(x, 3, 2, 1, divisor_override=5), TF.avg_pool2d(tx, 3, 2, 1, divisor_override=5))


@pytest.mark.parametrize(("hw", "out"), [((7, 9), (3, 4)), ((8, 8), 1), ((5, 6), (5, None)), ((6, 10), (4, 3))])
def test_adaptive_avg_pool2d_matches_torch(hw: tuple[int, int], out: object) -> None:
    rng = np.random.default_rng(8)
    x, tx = _pair(rng, (2, 3, *hw))
    y, ty = F.adaptive_avg_pool2d(x, out), TF.adaptive_avg_pool2d(tx, out)
    _close(y, ty)
    _backward_both(y, ty, rng)
    _close(x.grad, tx.grad)


def test_max_pool2d_double_backward() -> None:
    rng = np.random.default_rng(9)
    x, tx = _pair(rng, (1, 2, 6, 6))
    (gx,) = ag.grad((F.max_pool2d(x, 3, 2, 1) ** 3).sum(), [x], create_graph=True)
    (tgx,) = torch.autograd.grad((TF.max_pool2d(tx, 3, 2, 1) ** 3).sum(), [tx], create_graph=True)
    _close(gx, tgx)
    (g2,) = ag.grad((gx * gx).sum(), [x])
    (tg2,) = torch.autograd.grad((tgx * tgx).sum(), [tx])
    _close(g2, tg2)


def test_pool_errors() -> None:
    x = ag.zeros(1, 1, 4, 4)
    with pytest.raises(ValueError, match="at most half the kernel"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ShapeError, match="larger than the padded input"):
        F.avg_pool2d(x, 5)


@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "hw"),
    [(3, 2, 1, (8, 9)), (2, 2, 0, (7, 7)), ((3, 2), (2, 3), (1, 0), (10, 8)), (4, 3, 2, (9, 11))],
)
def test_ceil_mode_pools_match_torch(kernel, stride, padding, hw) -> None:
    rng = np.random.default_rng(10)
    x, tx = _pair(rng, (2, 2, *hw))
    out = F.max_pool2d(x, kernel, stride, padding, ceil_mode=True)
    t_out = TF.max_pool2d(tx, kernel, stride, padding, ceil_mode=True)
    _close(out, t_out)
    _backward_both(out, t_out, rng)
    _close(x.grad, tx.grad)
    for include in (True, False):
        x, tx = _pair(rng, (2, 2, *hw))
        out = F.avg_pool2d(x, kernel, stride, padding, ceil_mode=True, count_include_pad=include)
        t_out = TF.avg_pool2d(tx, kernel, stride, padding, ceil_mode=True, count_include_pad=include)
        _close(out, t_out)
        _backward_both(out, t_out, rng)
        _close(x.grad, tx.grad)


def test_conv2d_many_positions_uses_sliced_products() -> None:
    # N·OH·OW = 3·58·58 > 8192: the forward and weight gradient run in slices of the position axis.
    rng = np.random.default_rng(11)
    x, tx = _pair(rng, (3, 2, 60, 60))
    w, tw = _pair(rng, (4, 2, 3, 3))
    b, tb = _pair(rng, (4,))
    out, t_out = F.conv2d(x, w, b), TF.conv2d(tx, tw, tb)
    _close(out, t_out)
    _backward_both(out, t_out, rng)
    _close(x.grad, tx.grad)
    _close(w.grad, tw.grad)
    _close(b.grad, tb.grad)
    (gw,) = ag.grad((F.conv2d(x, w) ** 2).sum(), [w], create_graph=True)
    (tgw,) = torch.autograd.grad((TF.conv2d(tx, tw) ** 2).sum(), [tw], create_graph=True)
    (gx2,) = ag.grad((gw * gw).sum(), [x])
    (tgx2,) = torch.autograd.grad((tgw * tgw).sum(), [tx])
    _close(gx2, tgx2)
