"""In-place writes: ``t[key] = v``, in-place methods, and the version counter that guards saved tensors."""

from __future__ import annotations

import numpy as np
import pytest

import hyperion.autograd as ag

torch = pytest.importorskip("torch")


def f64(values: object, requires_grad: bool = False) -> ag.Tensor:
    return ag.tensor(values, dtype="float64", requires_grad=requires_grad)


def test_setitem_on_a_non_leaf_is_differentiable() -> None:
    x = f64([1.0, 2.0, 3.0], requires_grad=True)
    v = f64([10.0], requires_grad=True)
    y = x * 2
    y[1] = v  # broadcast (1,) into a scalar slot
    assert y.grad_fn.name() == "IndexPutBackward"
    (y * f64([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.tolist() == [2.0, 0.0, 6.0]
    assert v.grad.tolist() == [2.0]


def test_setitem_matches_torch_with_a_mask_and_broadcasting() -> None:
    base = np.arange(12.0).reshape(3, 4)
    mask = np.array([True, False, True])
    x = f64(base, requires_grad=True)
    v = f64([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    xt = torch.tensor(base, requires_grad=True)
    vt = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64, requires_grad=True)
    y, yt = x.sin(), xt.sin()
    y[mask] = v
    yt[torch.as_tensor(mask)] = vt
    weights = np.random.default_rng(0).standard_normal((3, 4))
    (y * f64(weights)).sum().backward()
    (yt * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
    np.testing.assert_allclose(v.grad.numpy(), vt.grad.numpy())


def test_modifying_a_saved_input_makes_backward_fail_naming_the_op() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    w = f64([3.0, 4.0], requires_grad=True)
    a = x * 1
    b = a * w  # MulBackward saves a
    a.add_(1)
    assert a._version == 1
    with pytest.raises(ag.InplaceModificationError, match=r"MulBackward.*version 1.*version 0"):
        b.sum().backward()


def test_modifying_a_saved_output_makes_backward_fail() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    y = x.exp()  # ExpBackward saves its output
    y[0] = 0.0
    with pytest.raises(ag.InplaceModificationError, match="ExpBackward"):
        y.sum().backward()


def test_modifying_through_a_view_bumps_the_shared_version() -> None:
    x = f64([1.0, 2.0, 3.0], requires_grad=True)
    y = x.exp()
    z = y.sigmoid()  # saves its output z; y is saved by ExpBackward
    alias = y.detach()[1:]  # a view of y's data outside the graph
    alias[0] = 5.0
    assert y._version == 1 and z._version == 0
    with pytest.raises(ag.InplaceModificationError, match="ExpBackward"):
        (z + y).sum().backward()


def test_in_place_on_a_leaf_that_requires_grad_is_an_error() -> None:
    w = f64([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad"):
        w[0] = 3.0
    with pytest.raises(RuntimeError, match="leaf"):
        w += 1


def test_parameter_update_under_no_grad_keeps_the_leaf() -> None:
    w = f64([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    data_before = w.data
    with ag.no_grad():
        w -= w.grad * 0.5
    assert w.is_leaf and w.requires_grad and w.data is data_before
    assert w.tolist() == [0.0, 0.0]
    assert w._version == 1


def test_in_place_write_into_a_view_of_a_graph_tensor_is_refused() -> None:
    x = f64([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="view"):
        y[0][1] = 5.0
    y[0, 1] = 5.0  # writing into the base with an index is fine
    y.sum().backward()
    assert x.grad.tolist() == [[2.0, 0.0], [2.0, 2.0]]


def test_in_place_methods_record_the_graph() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    y = x * 1
    y.mul_(x)  # y = x², computed from a copy of y
    y.add_(x, alpha=3)  # y = x² + 3x
    y.sub_(1)
    y.div_(2)  # (x² + 3x - 1) / 2
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (2 * np.array([1.0, 2.0]) + 3) / 2)


def test_fill_zero_and_copy() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.zero_()
    y.sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    z = f64([0.0, 0.0])
    z.copy_(x)
    assert z.requires_grad and z.grad_fn is not None
    z.fill_(7.0)
    assert z.tolist() == [7.0, 7.0]


def test_setitem_without_grad_writes_through_views() -> None:
    base = f64(np.zeros((2, 3)))
    row = base[1]
    row[...] = f64([1.0, 2.0, 3.0])
    assert base.tolist() == [[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]]
    assert base._version == 1


def test_iadd_on_a_non_leaf() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    y = x * 2
    y += x
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
