"""Parity of layer_norm, rms_norm, group_norm, batch_norm, embedding, dropout and attention with PyTorch (float64)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperion.autograd as ag
from hyperion.nn import functional as F
from hyperion.tensor import ShapeError

torch = pytest.importorskip("torch")  # the reference; these parity tests skip without it
TF = torch.nn.functional


def _close(h: ag.Tensor, t: torch.Tensor, rtol: float = 1e-9) -> None:
    np.testing.assert_allclose(h.detach().numpy(), t.detach().numpy(), rtol=rtol, atol=1e-10)


def _check(h_fn, t_fn, arrays: list, seed: int = 0, rtol: float = 1e-9) -> None:
    hs = [None if a is None else ag.tensor(a, requires_grad=True) for a in arrays]
    ts = [None if a is None else torch.tensor(a, requires_grad=True) for a in arrays]
    out, t_out = h_fn(*hs), t_fn(*ts)
    _close(out, t_out, rtol)
    g = np.random.default_rng(seed).standard_normal(tuple(t_out.shape))
    out.backward(ag.tensor(g))
    t_out.backward(torch.tensor(g))
    for h, t in zip(hs, ts):
        if h is not None:
            _close(h.grad, t.grad, rtol)


@settings(max_examples=20, deadline=None)
@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=4),
    k_seed=st.integers(0, 50),
    affine=st.sampled_from(["both", "weight", "none"]),
)
def test_layer_norm_matches_torch(shape: list[int], k_seed: int, affine: str) -> None:
    k = k_seed % len(shape) + 1
    normalized = tuple(shape[len(shape) - k :])
    rng = np.random.default_rng(k_seed)
    x = rng.standard_normal(shape) * 2 + 1
    w = rng.standard_normal(normalized) if affine != "none" else None
    b = rng.standard_normal(normalized) if affine == "both" else None
    _check(
        lambda x_, w_, b_: F.layer_norm(x_, normalized, w_, b_, eps=1e-5),
        lambda x_, w_, b_: TF.layer_norm(x_, normalized, w_, b_, eps=1e-5),
        [x, w, b],
        rtol=1e-8,
    )


def test_layer_norm_bad_normalized_shape() -> None:
    with pytest.raises(ShapeError, match=r"normalized_shape \(4,\) must equal the trailing dimensions .* \(2, 3\)"):
        F.layer_norm(ag.zeros(2, 3), (4,))
    with pytest.raises(ShapeError, match=r"weight must have shape \(3,\)"):
        F.layer_norm(ag.zeros(2, 3), 3, weight=ag.ones(2))


@pytest.mark.parametrize("eps", [None, 1e-6])
def test_rms_norm_matches_torch(eps: float | None) -> None:
    rng = np.random.default_rng(1)
    _check(
        lambda x, w: F.rms_norm(x, (3, 4), w, eps),
        lambda x, w: TF.rms_norm(x, (3, 4), w, eps),
        [rng.standard_normal((2, 3, 4)), rng.standard_normal((3, 4))],
    )


@pytest.mark.parametrize(("shape", "groups"), [((2, 6, 4, 3), 3), ((3, 4, 5), 1), ((2, 4), 4), ((1, 6, 2, 2), 2)])
def test_group_norm_matches_torch(shape: tuple[int, ...], groups: int) -> None:
    rng = np.random.default_rng(2)
    _check(
        lambda x, w, b: F.group_norm(x, groups, w, b),
        lambda x, w, b: TF.group_norm(x, groups, w, b),
        [rng.standard_normal(shape) * 3, rng.standard_normal(shape[1]), rng.standard_normal(shape[1])],
    )
    with pytest.raises(ValueError, match="must divide the number of channels"):
        F.group_norm(ag.zeros(2, 6, 3), 4)


@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3, 4, 5)])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_torch(shape: tuple[int, ...], training: bool) -> None:
    rng = np.random.default_rng(3)
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    h_rm, h_rv = ag.tensor(rm), ag.tensor(rv)
    t_rm, t_rv = torch.tensor(rm), torch.tensor(rv)
    _check(
        lambda x, w, b: F.batch_norm(x, h_rm, h_rv, w, b, training, 0.3, 1e-5),
        lambda x, w, b: TF.batch_norm(x, t_rm, t_rv, w, b, training, 0.3, 1e-5),
        [rng.standard_normal(shape) * 2 + 1, rng.standard_normal(3), rng.standard_normal(3)],
    )
    _close(h_rm, t_rm)
    _close(h_rv, t_rv)


def test_batch_norm_single_value_per_channel_in_training() -> None:
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(ag.zeros(1, 3), ag.zeros(3), ag.ones(3), training=True)


def test_embedding_matches_torch_with_padding_idx() -> None:
    rng = np.random.default_rng(4)
    idx = rng.integers(0, 6, (3, 5))
    idx[0, 0] = idx[1, 1] = 2
    _check(
        lambda w: F.embedding(ag.tensor(idx), w, padding_idx=2),
        lambda w: TF.embedding(torch.tensor(idx), w, padding_idx=2),
        [rng.standard_normal((6, 4))],
    )
    with pytest.raises(IndexError, match=r"out of range \[0, 6\)"):
        F.embedding(ag.tensor([6]), ag.zeros(6, 2))


def test_dropout_is_seeded_scaled_and_masks_gradient() -> None:
    x = ag.ones(2000, requires_grad=True, dtype="float64")
    y = F.dropout(x, 0.25, generator=np.random.default_rng(7))
    again = F.dropout(ag.ones(2000, dtype="float64"), 0.25, generator=np.random.default_rng(7))
    np.testing.assert_array_equal(y.detach().numpy(), again.numpy())
    values = set(np.unique(y.detach().numpy()).tolist())
    assert values == {0.0, 1.0 / 0.75}
    assert abs((y.detach().numpy() == 0).mean() - 0.25) < 0.04
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    assert F.dropout(x, 0.5, training=False) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)


def _attention_cases() -> list[tuple]:
    return [
        ("none", False, (2, 3, 4, 5), 6),
        ("bool", False, (2, 3, 4, 5), 4),
        ("additive", False, (1, 2, 5, 3), 5),
        ("none", True, (2, 2, 5, 4), 5),
        ("none", True, (3, 4, 6), 3),
        ("bool", False, (4, 6), 4),
    ]


@pytest.mark.parametrize(("mask_kind", "causal", "q_shape", "source"), _attention_cases())
def test_scaled_dot_product_attention_matches_torch(mask_kind: str, causal: bool, q_shape: tuple, source: int) -> None:
    rng = np.random.default_rng(5)
    q = rng.standard_normal(q_shape)
    k = rng.standard_normal((*q_shape[:-2], source, q_shape[-1]))
    v = rng.standard_normal((*q_shape[:-2], source, 3))
    length = q_shape[-2]
    h_mask = t_mask = None
    if mask_kind == "bool":
        m = rng.uniform(size=(length, source)) > 0.4
        m[:, 0] = True
        h_mask, t_mask = ag.tensor(m), torch.tensor(m)
    elif mask_kind == "additive":
        m = rng.standard_normal((length, source))
        h_mask, t_mask = ag.tensor(m), torch.tensor(m)
    _check(
        lambda q_, k_, v_: F.scaled_dot_product_attention(q_, k_, v_, attn_mask=h_mask, is_causal=causal),
        lambda q_, k_, v_: TF.scaled_dot_product_attention(q_, k_, v_, attn_mask=t_mask, is_causal=causal),
        [q, k, v],
    )


def test_attention_scale_dropout_and_errors() -> None:
    rng = np.random.default_rng(6)
    q, k, v = (rng.standard_normal((2, 3, 4)) for _ in range(3))
    _check(
        lambda a, b, c: F.scaled_dot_product_attention(a, b, c, scale=0.3),
        lambda a, b, c: TF.scaled_dot_product_attention(a, b, c, scale=0.3),
        [q, k, v],
    )
    out1 = F.scaled_dot_product_attention(
        ag.tensor(q), ag.tensor(k), ag.tensor(v), dropout_p=0.5, generator=np.random.default_rng(1)
    )
    out2 = F.scaled_dot_product_attention(
        ag.tensor(q), ag.tensor(k), ag.tensor(v), dropout_p=0.5, generator=np.random.default_rng(1)
    )
    np.testing.assert_array_equal(out1.numpy(), out2.numpy())
    with pytest.raises(ShapeError, match="query features"):
        F.scaled_dot_product_attention(ag.zeros(2, 3), ag.zeros(2, 4), ag.zeros(2, 4))
    with pytest.raises(ValueError, match="not both"):
        F.scaled_dot_product_attention(
            ag.zeros(2, 3), ag.zeros(2, 3), ag.zeros(2, 3), attn_mask=ag.zeros(2, 2), is_causal=True
        )
