"""FlashAttention kernels (forward and backward) vs a dense NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba_cuda", reason="numba-cuda is not installed")

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from hyperion.kernels.cuda.attention import HEAD_DIM_MAX, attention_forward  # noqa: E402
from hyperion.kernels.cuda.attention_backward import attention_backward  # noqa: E402
from hyperion.kernels.cuda.attention_ops import KERNELS  # noqa: E402

pytestmark = pytest.mark.usefixtures("cuda_kernels")


def allowed(mask: np.ndarray | None, is_causal: bool, shape: tuple[int, int, int]) -> np.ndarray:
    ok = np.ones(shape, dtype=bool)
    if mask is not None:
        ok &= mask
    if is_causal:
        ok &= np.tril(np.ones(shape[1:], dtype=bool))
    return ok


def reference(q, k, v, mask, is_causal, scale, go):  # noqa: ANN001, ANN201 - arrays in, dict out
    """Dense float64 attention and its gradients; fully masked rows give 0 and lse -inf."""
    q, k, v, go = (a.astype(np.float64) for a in (q, k, v, go))
    ok = allowed(mask, is_causal, (q.shape[0], q.shape[1], k.shape[1]))
    s = np.where(ok, np.einsum("ble,bse->bls", q, k) * scale, -np.inf)
    any_row = ok.any(axis=-1, keepdims=True)
    m = np.where(any_row, s.max(axis=-1, keepdims=True), 0.0)
    p = np.where(ok, np.exp(s - m), 0.0)
    denom = p.sum(axis=-1, keepdims=True)
    p = np.where(any_row, p / np.where(any_row, denom, 1.0), 0.0)
    o = p @ v
    lse = np.where(any_row[..., 0], m[..., 0] + np.log(np.where(any_row, denom, 1.0))[..., 0], -np.inf)
    dp = go @ v.transpose(0, 2, 1)
    ds = p * (dp - (p * dp).sum(axis=-1, keepdims=True))
    return {
        "o": o,
        "lse": lse,
        "gq": scale * ds @ k,
        "gk": scale * ds.transpose(0, 2, 1) @ q,
        "gv": p.transpose(0, 2, 1) @ go,
    }


def check(b, lq, lk, e, ev, dtype, is_causal, mask_density, seed, *, broadcast_mask=False):  # noqa: ANN001, ANN201
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((b, lq, e)).astype(dtype)
    k = rng.standard_normal((b, lk, e)).astype(dtype)
    v = rng.standard_normal((b, lk, ev)).astype(dtype)
    go = rng.standard_normal((b, lq, ev)).astype(dtype)
    mask = None
    if mask_density is not None:
        if broadcast_mask:  # a (L, S) mask broadcast over the batch: zero strides
            mask = np.broadcast_to(rng.random((lq, lk)) < mask_density, (b, lq, lk))
        else:
            mask = rng.random((b, lq, lk)) < mask_density
            mask[0, min(1, lq - 1), :] = False  # one fully masked row
    scale = 1.0 / np.sqrt(e)
    ref = reference(q, k, v, mask, is_causal, scale, go)
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-12}
    o, lse = attention_forward(q, k, v, mask, is_causal, scale)
    assert o.dtype == lse.dtype == dtype
    np.testing.assert_allclose(o, ref["o"], **tol)
    np.testing.assert_allclose(lse, ref["lse"], **tol)
    grads = attention_backward(q, k, v, mask, is_causal, scale, o, lse, go)
    for name, got in zip(("gq", "gk", "gv"), grads):
        np.testing.assert_allclose(got, ref[name], **tol, err_msg=name)


@pytest.mark.parametrize(
    ("b", "lq", "lk", "e", "ev", "dtype", "is_causal", "mask_density"),
    [
        (2, 37, 45, 7, 5, np.float32, False, None),  # partial query block, partial key tile
        (1, 37, 40, 8, 6, np.float32, True, None),  # causal, L != S
        (1, 9, 19, 4, 3, np.float64, False, 0.6),  # mask with a fully masked row; float64 tiles of 8
        (1, 35, 33, 5, 5, np.float64, True, 0.7),  # causal and mask together
    ],
)
def test_matches_dense_reference(b, lq, lk, e, ev, dtype, is_causal, mask_density) -> None:  # noqa: ANN001
    check(b, lq, lk, e, ev, dtype, is_causal, mask_density, seed=lq * lk)


def test_broadcast_mask_with_zero_strides() -> None:
    check(2, 6, 7, 3, 2, np.float32, False, 0.7, seed=11, broadcast_mask=True)


def test_fully_masked_row_outputs_zero_and_minus_inf() -> None:
    q = np.ones((1, 2, 3), np.float32)
    mask = np.array([[[True, False], [False, False]]])
    o, lse = attention_forward(q, q, q, mask, False, 1.0)
    assert np.all(o[0, 1] == 0.0) and lse[0, 1] == -np.inf and np.isfinite(lse[0, 0])


def test_backward_matches_finite_differences() -> None:
    rng = np.random.default_rng(7)
    q, k, v = rng.standard_normal((1, 3, 2)), rng.standard_normal((1, 4, 2)), rng.standard_normal((1, 4, 2))
    go = rng.standard_normal((1, 3, 2))
    dq, dk, dv = rng.standard_normal(q.shape), rng.standard_normal(k.shape), rng.standard_normal(v.shape)
    h = 1e-6

    def loss(t: float) -> float:
        return float((attention_forward(q + t * dq, k + t * dk, v + t * dv, None, True, 0.5)[0] * go).sum())

    numeric = (loss(h) - loss(-h)) / (2 * h)
    o, lse = attention_forward(q, k, v, None, True, 0.5)
    gq, gk, gv = attention_backward(q, k, v, None, True, 0.5, o, lse, go)
    analytic = (gq * dq).sum() + (gk * dk).sum() + (gv * dv).sum()
    assert abs(numeric - analytic) < 1e-7


def test_matches_torch_sdpa() -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(8)
    q, k, v = (rng.standard_normal((2, 5, 4)) for _ in range(3))
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    out = torch.nn.functional.scaled_dot_product_attention(tq, tk, tv, is_causal=True)
    go = rng.standard_normal(out.shape)
    out.backward(torch.tensor(go))
    o, lse = attention_forward(q, k, v, None, True, 0.5)
    np.testing.assert_allclose(o, out.detach().numpy(), rtol=1e-10, atol=1e-12)
    for got, t in zip(attention_backward(q, k, v, None, True, 0.5, o, lse, go), (tq, tk, tv)):
        np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-10, atol=1e-12)


@settings(max_examples=3, deadline=None)
@given(lq=st.integers(1, 9), lk=st.integers(1, 9), e=st.integers(1, 6), causal=st.booleans(), seed=st.integers(0, 99))
def test_random_shapes(lq: int, lk: int, e: int, causal: bool, seed: int) -> None:
    check(1, lq, lk, e, e, np.float32, causal, None, seed)


def test_head_dim_limit_is_reported() -> None:
    big = np.zeros((1, 2, HEAD_DIM_MAX + 1), np.float32)
    with pytest.raises(ValueError, match=f"up to {HEAD_DIM_MAX}, got E={HEAD_DIM_MAX + 1}"):
        attention_forward(big, big, big, None, False, 1.0)


def test_kernel_table_names_abi_ops() -> None:
    assert set(KERNELS) == {("nn.attention_forward", "cuda"), ("nn.attention_backward", "cuda")}


@pytest.mark.parametrize("where", ["q", "k", "v", "go"])
def test_registered_entries_propagate_non_finite_inputs(where: str) -> None:
    """The table's entries send a NaN or an inf to the registered reference, which propagates it.

    The bare kernels do not: their online softmax leaves some NaN scores out (under the
    simulator, a NaN in q gives 4 NaN outputs where the reference gives 8).
    """
    import hyperion.nn  # noqa: F401 - registers the references
    from hyperion.tensor import registry

    rng = np.random.default_rng(3)
    q, k, v, go = (rng.standard_normal((2, 6, 4)) for _ in range(4))
    arrays = {"q": q, "k": k, "v": v, "go": go}
    arrays[where][1, 3, 2] = np.nan
    arrays[where][0, 1, 0] = np.inf
    with registry.use_kernels("reference"):
        ref_f = registry.lookup("nn.attention_forward", "cuda")
        ref_b = registry.lookup("nn.attention_backward", "cuda")
    forward, backward = KERNELS["nn.attention_forward", "cuda"], KERNELS["nn.attention_backward", "cuda"]
    with np.errstate(all="ignore"):
        o, lse = forward(q, k, v, None, True, 0.5)
        eo, else_ = ref_f(q, k, v, None, True, 0.5)
        grads = backward(q, k, v, None, True, 0.5, eo, else_, go)
        expected = ref_b(q, k, v, None, True, 0.5, eo, else_, go)
    # Same NaN/inf positions (the kernel runs the forward when only go is non-finite).
    np.testing.assert_allclose(o, eo, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(lse, else_, rtol=1e-12, atol=1e-14)
    for got, want in zip(grads, expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert np.isnan(o).any() or where == "go"
    assert any(np.isnan(g).any() for g in grads)

