"""The CuPy path: every test here needs CuPy and a CUDA device, and is skipped cleanly without them.

The GPU must give what the CPU gives: the same layouts for the same views, and the same values
(within float tolerance) for the same ops.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import hyperion.tensor as ht
from hyperion.tensor import DeviceError

from .assertions import assert_matches
from .strategies import broadcastable_pairs, dtypes, float_dtypes, pairs, shapes

pytestmark = pytest.mark.gpu


@pytest.fixture(scope="module")
def cupy() -> Any:
    return pytest.importorskip("cupy")


def test_cuda_is_available_and_named() -> None:
    assert ht.cuda_available()
    t = ht.zeros(2, 3, device="cuda")
    assert t.device == "cuda"
    assert t.to("cuda") is t
    assert repr(t) == "tensor([[0., 0., 0.],\n        [0., 0., 0.]], dtype=float32, device='cuda')"


@given(pair=pairs())
def test_round_trip_to_cuda_and_back(cupy: Any, pair: Any) -> None:
    g = pair.t.to("cuda")
    assert g.device == "cuda" and isinstance(g.storage, cupy.ndarray)
    assert g.shape == pair.t.shape and g.dtype == pair.t.dtype
    back = g.to("cpu")
    assert back.device == "cpu"
    assert_matches(back, pair.a, exact=True)
    assert_matches(g.cuda().cpu(), pair.a, exact=True)
    np.testing.assert_array_equal(g.numpy(), pair.a)  # numpy() copies from the GPU
    np.testing.assert_array_equal(np.asarray(g), pair.a)


@given(pair=pairs(max_dims=3), data=st.data())
def test_views_on_the_gpu_have_the_cpu_layout_and_alias(pair: Any, data: st.DataObject) -> None:
    g = pair.t.contiguous().to("cuda")
    c = pair.t.contiguous()
    perm = tuple(data.draw(st.permutations(range(c.ndim)), label="perm"))
    for view_g, view_c in [
        (g.permute(perm), c.permute(perm)),
        (g.T, c.T),
        (g[..., ::-1] if c.ndim else g, c[..., ::-1] if c.ndim else c),
    ]:
        assert view_g.shape == view_c.shape and view_g.strides == view_c.strides and view_g.offset == view_c.offset
        np.testing.assert_array_equal(view_g.numpy(), view_c.numpy())
        assert view_g.shares_storage(g)
    if c.numel() and c.dtype.kind != "b":
        g.T[(0,) * c.ndim] = 7
        assert g[(0,) * c.ndim].item() == 7


@pytest.mark.parametrize("name", ["exp", "log1p", "sqrt", "tanh", "sigmoid", "abs", "neg", "floor", "isnan"])
@given(pair=pairs(dtype=float_dtypes))
def test_unary_ops_on_the_gpu_match_the_cpu(name: str, pair: Any) -> None:
    with np.errstate(all="ignore"):
        expected = getattr(pair.t, name)()
    result = getattr(pair.t.to("cuda"), name)()
    assert result.device == "cuda"
    assert_matches(result.cpu(), expected.numpy())


@pytest.mark.parametrize("op", ["add", "mul", "sub", "div", "maximum", "lt", "eq"])
@given(operands=broadcastable_pairs(2, max_dims=3))
def test_binary_ops_on_the_gpu_match_the_cpu(op: str, operands: list[Any]) -> None:
    x, y = operands
    try:
        with np.errstate(all="ignore"):
            expected = getattr(x.t, op)(y.t)
    except TypeError:  # e.g. bool - bool, refused on both devices
        with pytest.raises(TypeError):
            getattr(x.t.to("cuda"), op)(y.t.to("cuda"))
        return
    result = getattr(x.t.to("cuda"), op)(y.t.to("cuda"))
    assert_matches(result.cpu(), expected.numpy())
    assert_matches(getattr(x.t.to("cuda"), op)(2).cpu(), getattr(x.t, op)(2).numpy())


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod", "var", "std", "logsumexp", "argmax"])
@given(pair=pairs(dtype=float_dtypes, shape=shapes(min_dims=1, min_side=1)), data=st.data())
def test_reductions_on_the_gpu_match_the_cpu(name: str, pair: Any, data: st.DataObject) -> None:
    dim = data.draw(st.integers(-pair.t.ndim, pair.t.ndim - 1), label="dim")
    with np.errstate(all="ignore"):
        expected = getattr(pair.t, name)(dim=dim)
    result = getattr(pair.t.to("cuda"), name)(dim=dim)
    assert result.device == "cuda"
    assert_matches(result.cpu(), expected.numpy())


@given(pair=pairs(shape=(3, 4), dtype=dtypes), other=pairs(shape=(4, 2), dtype=dtypes))
def test_matmul_where_cat_on_the_gpu_match_the_cpu(pair: Any, other: Any) -> None:
    g, h = pair.t.to("cuda"), other.t.to("cuda")
    assert_matches((g @ h).cpu(), (pair.t @ other.t).numpy())
    assert_matches(ht.where(g > 0, g, 0).cpu(), ht.where(pair.t > 0, pair.t, 0).numpy())
    assert_matches(ht.cat([g, g], 1).cpu(), ht.cat([pair.t, pair.t], 1).numpy())
    assert_matches(g[[0, 2]].cpu(), pair.t[[0, 2]].numpy())


def test_random_values_do_not_depend_on_the_device() -> None:
    np.testing.assert_array_equal(ht.rand(5, seed=3, device="cuda").numpy(), ht.rand(5, seed=3).numpy())
    np.testing.assert_array_equal(
        ht.randint(0, 9, (5,), seed=3, device="cuda").numpy(), ht.randint(0, 9, (5,), seed=3).numpy()
    )


def test_mixing_cpu_and_cuda_tensors_is_an_error() -> None:
    with pytest.raises(DeviceError, match="expected all tensors on the same device, got cpu and cuda"):
        ht.zeros(2) + ht.zeros(2, device="cuda")
    with pytest.raises(DeviceError, match="expected all tensors on the same device, got cuda and cpu"):
        ht.zeros(2, device="cuda") * ht.zeros(2)
    with pytest.raises(DeviceError, match=r"cat: expected all tensors on the same device, got \['cpu', 'cuda'\]"):
        ht.cat([ht.zeros(2), ht.zeros(2, device="cuda")])


def test_dlpack_with_cupy_is_zero_copy(cupy: Any) -> None:
    g = ht.arange(6, device="cuda").reshape(2, 3)
    shared = cupy.from_dlpack(g)
    shared[0, 0] = 42
    assert g[0, 0].item() == 42
    back = ht.from_dlpack(shared)
    assert back.device == "cuda" and back.tolist() == g.tolist()
