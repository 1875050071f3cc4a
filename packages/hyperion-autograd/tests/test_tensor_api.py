"""The ``Tensor`` type: construction, properties, printing, conversions, and the documented op conventions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import hyperion.autograd as ag
import hyperion.tensor as ht
from hyperion.tensor import DTypeError

torch = pytest.importorskip("torch")


def f64(values: object, requires_grad: bool = False) -> ag.Tensor:
    return ag.tensor(values, dtype="float64", requires_grad=requires_grad)


# -- construction and properties ------------------------------------------------------------------


def test_tensor_wraps_raw_data_without_copying() -> None:
    raw = ht.arange(6, dtype="float32").reshape(2, 3)
    t = ag.Tensor(raw, requires_grad=True)
    assert t.data is raw and t.is_leaf and t.requires_grad and t.grad is None and t.grad_fn is None
    assert (t.shape, t.dtype, t.device, t.ndim, t.strides) == ((2, 3), np.float32, "cpu", 2, (3, 1))
    assert t.size() == (2, 3) and t.size(1) == 3 and t.numel() == 6 and t.dim() == 2 and t.stride(0) == 3


def test_creation_functions_take_requires_grad() -> None:
    makers = [
        lambda: ag.zeros(2, 3, requires_grad=True),
        lambda: ag.ones((2, 3), dtype="float64", requires_grad=True),
        lambda: ag.full((2,), 1.5, requires_grad=True),
        lambda: ag.randn(2, seed=0, requires_grad=True),
        lambda: ag.rand(2, seed=0, requires_grad=True),
        lambda: ag.normal(0.0, 1.0, (2,), seed=0, requires_grad=True),
        lambda: ag.uniform(0.0, 1.0, (2,), seed=0, requires_grad=True),
        lambda: ag.linspace(0, 1, 5, requires_grad=True),
        lambda: ag.arange(0.0, 3.0, requires_grad=True),
        lambda: ag.eye(3, requires_grad=True),
        lambda: ag.zeros_like(ag.ones(2), requires_grad=True),
        lambda: ag.ones_like(ag.ones(2), requires_grad=True),
        lambda: ag.full_like(ag.ones(2), 3.0, requires_grad=True),
        lambda: ag.empty(2, requires_grad=True),
        lambda: ag.from_numpy(np.ones(3), requires_grad=True),
    ]
    for make in makers:
        t = make()
        assert t.requires_grad and t.is_leaf
    assert ag.randint(0, 5, (3,), seed=0).dtype == np.int64
    assert ag.randn(3, seed=1).tolist() == ag.randn(3, seed=1).tolist()


def test_tensor_copies_and_as_tensor_does_not() -> None:
    source = np.ones(3)
    t = ag.tensor(source)
    source[0] = 5
    assert t.tolist() == [1.0, 1.0, 1.0]
    a = ag.ones(2)
    assert ag.as_tensor(a) is a
    assert ag.tensor(a).data is not a.data


def test_repr_follows_pytorch() -> None:
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2.], dtype=float32, requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4.], dtype=float32, grad_fn=<MulBackward>)"
    assert repr(ag.tensor([1, 2])) == "tensor([1, 2], dtype=int64)"


def test_numpy_item_tolist() -> None:
    x = f64([[1.0, 2.0]], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"detach\(\)\.numpy\(\)"):
        x.numpy()
    assert np.array_equal(x.detach().numpy(), [[1.0, 2.0]])
    assert x.tolist() == [[1.0, 2.0]] and x.sum().item() == 3.0
    assert float(x.sum()) == 3.0 and len(x) == 1
    assert [row.shape for row in x] == [(2,)]
    assert np.asarray(f64([1.0])).dtype == np.float64


def test_detach_shares_data_and_stops_gradients() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    y = x * 3
    y.detach_()
    assert y.is_leaf and not y.requires_grad


def test_grad_setter_checks_shape_and_dtype() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    x.grad = f64([0.5, 0.5])
    with pytest.raises(ValueError, match=r"\(3,\)"):
        x.grad = f64([1.0, 1.0, 1.0])
    with pytest.raises(DTypeError, match="float32"):
        x.grad = ag.ones(2)
    x.grad = None


def test_int_tensors_cannot_require_grad() -> None:
    with pytest.raises(DTypeError, match="only floating point tensors can require gradients, got dtype int64"):
        ag.tensor([1, 2], requires_grad=True)


# -- operators and dtypes ---------------------------------------------------------------------------


def test_python_numbers_are_weak_and_numpy_scalars_defer() -> None:
    x = ag.ones(2, requires_grad=True)  # float32
    assert (x * 2.5).dtype == np.float32 and (2.5 - x).dtype == np.float32
    y = np.float64(3.0) * x
    assert isinstance(y, ag.Tensor) and y.requires_grad


def test_non_differentiable_ops_do_not_require_grad() -> None:
    x = f64([1.5, -2.5], requires_grad=True)
    for result in (
        x > 0,
        x == 1.5,
        x.floor(),
        x.ceil(),
        x.argmax(),
        x.argmin(),
        x.isnan(),
        x // 1,
        (x > 0) & (x < 1),
        ~(x > 0),
        x.astype("int64"),
        (x > 0).all(),
        (x > 0).any(),
    ):
        assert not result.requires_grad and result.grad_fn is None


def test_function_spellings() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    assert ag.exp(x).grad_fn.name() == "ExpBackward"
    assert ag.sum(x, dim=0).item() == 3.0
    assert ag.matmul(x, x).item() == 5.0
    assert ag.where(x > 1, x, 0.0).tolist() == [0.0, 2.0]
    assert [t.tolist() for t in ag.split(x, 1)] == [[1.0], [2.0]]
    assert ag.stack([x, x]).shape == (2, 2) and ag.cat([x, x]).shape == (4,)
    assert ag.tril(ag.ones(2, 2)).tolist() == [[1.0, 0.0], [1.0, 1.0]]


def test_astype_keeps_the_graph_for_floats() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    y = x.astype("float32")
    assert y.dtype == np.float32 and y.grad_fn.name() == "CastBackward"
    (y * 2).sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [2.0, 2.0]
    assert x.astype("float64") is x and x.to("float64") is x


# -- documented conventions at kinks and ties -----------------------------------------------------


def torch_grad(fn: Callable[[Any], Any], values: list) -> list:
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    fn(t).sum().backward()
    return t.grad.tolist()


def our_grad(fn: Callable[[Any], Any], values: list) -> list:
    t = f64(values, requires_grad=True)
    fn(t).sum().backward()
    return t.grad.tolist()


def test_max_and_min_split_the_gradient_evenly_among_ties() -> None:
    values = [[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]]
    assert our_grad(lambda t: t.max(), values) == [[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]]
    assert our_grad(lambda t: t.max(1), values) == torch_grad(lambda t: t.amax(1), values)
    assert our_grad(lambda t: t.min(0), values) == torch_grad(lambda t: t.amin(0), values)
    third = 1.0 / 3.0
    assert our_grad(lambda t: t.min(1), values) == [[0.0, 1.0, 0.0], [third, third, third]]


def test_maximum_and_minimum_split_ties_in_half() -> None:
    a = f64([1.0, 2.0, 3.0], requires_grad=True)
    b = f64([1.0, 5.0, 0.0], requires_grad=True)
    ag.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 0.0, 1.0] and b.grad.tolist() == [0.5, 1.0, 0.0]
    assert our_grad(lambda t: t.minimum(1.0), [1.0, 0.0]) == torch_grad(
        lambda t: torch.minimum(t, torch.tensor(1.0, dtype=torch.float64)), [1.0, 0.0]
    )


def test_subgradients_at_zero_match_pytorch() -> None:
    values = [0.0, -1.0, 2.0]
    assert our_grad(lambda t: t.abs(), values) == torch_grad(lambda t: t.abs(), values) == [0.0, -1.0, 1.0]
    assert our_grad(lambda t: t.sign() * 3, values) == [0.0, 0.0, 0.0]
    bounds = [-1.0, 0.0, 1.0, 2.0]
    assert our_grad(lambda t: t.clip(-1, 1), bounds) == torch_grad(lambda t: t.clamp(-1, 1), bounds) == [1, 1, 1, 0]


def test_prod_is_exact_at_zeros() -> None:
    for values in ([2.0, 0.0, 3.0], [0.0, 0.0, 3.0], [2.0, 4.0, 3.0]):
        assert our_grad(lambda t: t.prod(), values) == torch_grad(lambda t: t.prod(), values)


def test_var_and_std_default_to_bessels_correction() -> None:
    values = [1.0, 2.0, 4.0]
    x = f64(values)
    assert x.var().item() == pytest.approx(np.var(values, ddof=1))
    assert x.std(correction=0).item() == pytest.approx(np.std(values))
    assert x.var(ddof=0).item() == pytest.approx(np.var(values))
    assert our_grad(lambda t: t.std(), values) == pytest.approx(torch_grad(lambda t: t.std(), values))
