"""The engine: accumulation, graph lifetime, deep and wide graphs, hooks, grad mode, ``grad()``, errors."""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any

import numpy as np
import pytest

import hyperion.autograd as ag
from hyperion.tensor import DTypeError, ShapeError


def f64(values: object, requires_grad: bool = False) -> ag.Tensor:
    return ag.tensor(values, dtype="float64", requires_grad=requires_grad)


# -- accumulation -------------------------------------------------------------------------------


def test_gradients_accumulate_across_uses() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    (x * x + x * 3 + x).sum().backward()
    assert x.grad.tolist() == [2 * 1 + 3 + 1, 2 * 2 + 3 + 1]


def test_gradients_accumulate_across_backward_calls() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]
    x.grad = None
    (x * 4).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]


def test_leaf_grad_is_a_fresh_contiguous_tensor_not_aliasing_other_grads() -> None:
    a = f64([1.0, 2.0], requires_grad=True)
    b = f64([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()  # Add passes the same gradient object to both inputs
    assert a.grad is not b.grad
    assert a.grad.is_contiguous() and not a.grad.data.shares_storage(b.grad.data)
    assert not a.grad.requires_grad and a.grad.grad_fn is None


def test_grad_dtype_matches_the_leaf_and_broadcast_operands_are_reduced() -> None:
    x = ag.ones(3, 1, requires_grad=True)  # float32
    y = f64(np.ones((1, 4)), requires_grad=True)
    z = x * y  # float64, shape (3, 4)
    assert z.dtype == np.float64
    z.sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == (3, 1)
    assert x.grad.tolist() == [[4.0], [4.0], [4.0]]
    assert y.grad.shape == (1, 4) and y.grad.tolist() == [[3.0] * 4]


def test_sum_to_shape_is_the_one_unbroadcast() -> None:
    g = ag.ones(2, 3, 4)
    assert ag.sum_to_shape(g, (3, 1)).tolist() == [[8.0], [8.0], [8.0]]
    assert ag.sum_to_shape(g, ()).item() == 24.0
    with pytest.raises(ShapeError, match=r"\(2, 3, 4\).*\(5,\)"):
        ag.sum_to_shape(g, (5,))


def test_backward_of_several_outputs_at_once() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    ag.backward([(x * 2).sum(), (x * x).sum()])
    assert x.grad.tolist() == [4.0, 6.0]


def test_backward_on_a_leaf() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    x.backward(f64([3.0, 4.0]))
    assert x.grad.tolist() == [3.0, 4.0]


# -- graph lifetime ------------------------------------------------------------------------------


def test_second_backward_without_retain_graph_is_a_clear_error() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(ag.GraphFreedError, match="retain_graph=True"):
        y.backward()


def test_retain_graph_allows_a_second_backward() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.tolist()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array(first))


def test_intermediates_are_freed_after_backward() -> None:
    x = f64(np.ones(4), requires_grad=True)
    hidden = x.exp()
    alive = weakref.ref(hidden)
    loss = (hidden * x).sum()  # Mul saves `hidden`
    del hidden
    assert alive() is not None  # kept by the graph for backward
    loss.backward()
    assert alive() is None  # freed as soon as its saved tensors were released


def test_retain_graph_keeps_saved_tensors_alive() -> None:
    x = f64(np.ones(4), requires_grad=True)
    hidden = x.exp()
    alive = weakref.ref(hidden)
    loss = (hidden * x).sum()
    del hidden
    loss.backward(retain_graph=True)
    assert alive() is not None
    del loss
    assert alive() is None


def test_no_reference_cycles_are_created() -> None:
    gc.collect()
    gc.disable()
    try:
        for _ in range(20):
            w = ag.randn(3, 3, seed=0, dtype="float64", requires_grad=True)
            h = (w @ w).tanh()
            h.retain_grad()
            h.register_hook(lambda g: g * 1)
            loss = (h.exp() * w).sum() + h.sigmoid().sum()
            loss.backward()
            del w, h, loss
        assert gc.collect() == 0  # nothing was left for the cycle collector
    finally:
        gc.enable()


# -- deep and wide graphs --------------------------------------------------------------------------


def test_deep_chain_of_100000_ops() -> None:
    x = f64([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]
    order = ag.engine.topological_order([y.grad_fn])
    assert len(order) == 100_000


def test_wide_graph_of_100000_nodes() -> None:
    x = f64([2.0], requires_grad=True)
    parts = [x * float(k) for k in range(100_000)]  # one leaf, 10⁵ uses
    total = ag.cat(parts).sum()  # one node with 10⁵ inputs
    total.backward()
    assert x.grad.tolist() == [float(sum(range(100_000)))]


def test_topological_order_puts_every_consumer_first() -> None:
    x = f64([1.0], requires_grad=True)
    a = x * 2
    b = a.exp()
    c = a * b + b
    order = ag.engine.topological_order([c.grad_fn])
    position = {node: k for k, node in enumerate(order)}
    for node in order:
        for edge in node._next:
            if isinstance(edge, ag.Function):
                assert position[node] < position[edge]


# -- hooks and retain_grad -------------------------------------------------------------------------


def test_hook_on_a_leaf_sees_the_total_gradient_once_and_can_replace_it() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    seen = []

    def hook(g: ag.Tensor) -> ag.Tensor:
        seen.append(g.tolist())
        return g * 10

    handle = x.register_hook(hook)
    (x * 2 + x * 3).sum().backward()
    assert seen == [[5.0, 5.0]]
    assert x.grad.tolist() == [50.0, 50.0]
    handle.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0] and len(seen) == 1


def test_hook_on_a_non_leaf_changes_what_flows_upstream() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.register_hook(lambda g: g * 0)
    (h * h).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]


def test_hook_must_return_none_or_a_matching_tensor() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: f64([1.0]))
    with pytest.raises(ValueError, match="hook"):
        (x * 2).sum().backward()


def test_retain_grad_keeps_a_non_leaf_gradient() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    h = x * x
    h.retain_grad()
    assert h.retains_grad
    (h * 3).sum().backward()
    assert h.grad.tolist() == [3.0, 3.0]
    g = x * 2
    (g * 1).sum().backward()
    assert g.grad is None  # not retained


def test_grad_does_not_touch_dot_grad() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    (g,) = ag.grad((x * x).sum(), x)
    assert g.tolist() == [2.0, 4.0]
    assert x.grad is None


# -- grad() ---------------------------------------------------------------------------------------


def test_grad_with_respect_to_a_non_leaf() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    h = x * 3
    y = (h * h).sum()
    gh, gx = ag.grad(y, [h, x])
    assert gh.tolist() == [6.0, 12.0]
    assert gx.tolist() == [18.0, 36.0]


def test_grad_prunes_branches_that_do_not_lead_to_the_inputs() -> None:
    x = f64([1.0], requires_grad=True)
    w = f64([2.0], requires_grad=True)
    calls = []

    class Spy(ag.Function):
        @staticmethod
        def forward(ctx: Any, t: Any) -> Any:
            return t * 1

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            calls.append(1)
            return g

    y = (Spy.apply(w) * x).sum()
    ag.grad(y, x)
    assert calls == []  # the branch through w was never differentiated


def test_grad_allow_unused_and_materialize() -> None:
    x = f64([1.0], requires_grad=True)
    z = f64([1.0], requires_grad=True)
    y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="allow_unused"):
        ag.grad(y, [x, z], retain_graph=True)
    gx, gz = ag.grad(y, [x, z], allow_unused=True, retain_graph=True)
    assert gz is None
    _, gz = ag.grad(y, [x, z], materialize_grads=True)
    assert gz.tolist() == [0.0]


def test_higher_order_derivatives() -> None:
    x = f64([0.5, 2.0], requires_grad=True)
    y = (x**4).sum()
    (g1,) = ag.grad(y, x, create_graph=True)
    (g2,) = ag.grad(g1.sum(), x, create_graph=True)
    (g3,) = ag.grad(g2.sum(), x)
    np.testing.assert_allclose(g1.detach().numpy(), 4 * np.array([0.5, 2.0]) ** 3)
    np.testing.assert_allclose(g2.detach().numpy(), 12 * np.array([0.5, 2.0]) ** 2)
    np.testing.assert_allclose(g3.numpy(), 24 * np.array([0.5, 2.0]))


def test_backward_create_graph_gives_a_differentiable_grad() -> None:
    x = f64([3.0], requires_grad=True)
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (gg,) = ag.grad(x.grad.sum(), x)
    assert gg.tolist() == [18.0]


def test_backward_inputs_restricts_accumulation() -> None:
    x = f64([1.0], requires_grad=True)
    w = f64([2.0], requires_grad=True)
    h = x * w
    h.retain_grad()
    (h * 3).sum().backward(inputs=[x])
    assert x.grad.tolist() == [6.0] and w.grad is None


# -- grad mode -------------------------------------------------------------------------------------


def test_no_grad_and_enable_grad_nest() -> None:
    x = f64([1.0], requires_grad=True)
    assert ag.is_grad_enabled()
    with ag.no_grad():
        assert not ag.is_grad_enabled()
        assert not (x * 2).requires_grad
        with ag.enable_grad():
            assert (x * 2).requires_grad
        with ag.set_grad_enabled(True):
            assert (x * 2).requires_grad
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_grad_mode_decorators() -> None:
    x = f64([1.0], requires_grad=True)

    @ag.no_grad()
    def called() -> ag.Tensor:
        return x * 2

    @ag.no_grad
    def bare() -> ag.Tensor:
        return x * 2

    @ag.enable_grad()
    def inner() -> ag.Tensor:
        return x * 2

    assert not called().requires_grad and not bare().requires_grad
    with ag.no_grad():
        assert inner().requires_grad
    assert called.__name__ == "called"


def test_grad_mode_is_per_thread() -> None:
    seen = []
    with ag.no_grad():
        thread = threading.Thread(target=lambda: seen.append(ag.is_grad_enabled()))
        thread.start()
        thread.join()
    assert seen == [True]


def test_no_grad_results_are_leaves() -> None:
    x = f64([1.0], requires_grad=True)
    with ag.no_grad():
        y = x * 2
    assert y.is_leaf and y.grad_fn is None


# -- errors ----------------------------------------------------------------------------------------


def test_backward_of_a_non_scalar_needs_a_gradient() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"one-element output.*shape \(2,\)"):
        (x * 2).backward()


def test_gradient_shape_must_match_the_output() -> None:
    x = f64([1.0, 2.0], requires_grad=True)
    with pytest.raises(ShapeError, match=r"\(3,\).*\(2,\)"):
        (x * 2).backward(f64([1.0, 1.0, 1.0]))


def test_backward_of_a_tensor_that_does_not_require_grad() -> None:
    with pytest.raises(RuntimeError, match="does not require grad"):
        f64([1.0]).sum().backward()


def test_only_floating_tensors_can_require_grad() -> None:
    with pytest.raises(DTypeError, match="only floating point tensors can require gradients"):
        ag.tensor([1, 2], requires_grad=True)
    with pytest.raises(DTypeError, match="int64"):
        ag.arange(3).requires_grad_()


def test_requires_grad_cannot_be_turned_off_on_a_non_leaf() -> None:
    x = f64([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        (x * 2).requires_grad = False


def test_custom_function_returning_the_wrong_number_of_gradients() -> None:
    class Bad(ag.Function):
        @staticmethod
        def forward(ctx: Any, a: Any, b: Any) -> Any:
            return a * b

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g

    x = f64([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="1 gradient.*2 argument"):
        Bad.apply(x, x).sum().backward()


def test_custom_function_returning_a_gradient_of_the_wrong_shape() -> None:
    class Bad(ag.Function):
        @staticmethod
        def forward(ctx: Any, a: Any) -> Any:
            return a * 2

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return ag.ones(5, dtype="float64")

    x = f64([1.0, 2.0], requires_grad=True)
    with pytest.raises(ShapeError, match=r"BadBackward.*\(5,\).*\(2,\)"):
        Bad.apply(x).sum().backward()


def test_custom_function_context() -> None:
    class ScaleBy(ag.Function):
        @staticmethod
        def forward(ctx: Any, x: Any, factor: float, unused: Any) -> Any:
            ctx.factor = factor
            ctx.save_for_backward(x, unused)
            return x * factor

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            x, unused = ctx.saved_tensors
            assert ctx.needs_input_grad == (True, False, False)
            assert isinstance(x, ag.Tensor) and x.requires_grad
            assert isinstance(unused, ag.Tensor) and not unused.requires_grad
            return g * ctx.factor, None, None

    x = f64([1.0, 2.0], requires_grad=True)
    y = ScaleBy.apply(x, 4.0, f64([0.0]))
    assert repr(y.grad_fn) == "<ScaleByBackward>"
    y.sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]


def test_detach_does_not_keep_the_graph_alive() -> None:
    x = f64(np.ones(3), requires_grad=True)
    y = (x.exp() * x).sum()
    node = weakref.ref(y.grad_fn)
    value = y.detach()
    del y
    assert node() is None and value.item() == pytest.approx(3 * np.e)


def test_leaf_gradients_never_share_storage_even_when_backward_passes_one_object_on():
    # Add hands the same gradient object to both inputs; a retained non-leaf sees it too.
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([3.0, 4.0], requires_grad=True)
    c = a * 2.0
    c.retain_grad()
    (c + b).backward(ag.tensor([1.0, 1.0]))
    grads = [a.grad, b.grad, c.grad]
    storages = {id(g.data.storage) for g in grads}
    assert len(storages) == 3
    b.grad.data[...] = 0.0  # an optimizer may zero a gradient in place
    assert c.grad.tolist() == [1.0, 1.0] and a.grad.tolist() == [2.0, 2.0]


def test_a_dense_fresh_gradient_is_adopted_without_a_copy_and_the_callers_grad_is_not():
    w = ag.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x = ag.tensor([[1.0, 1.0]])
    (x @ w).sum().backward()
    assert w.grad.data.is_contiguous() and w.grad.data.offset == 0
    seed = ag.tensor([5.0, 6.0])
    v = ag.tensor([1.0, 1.0], requires_grad=True)
    (v * 1.0).backward(seed)
    u = ag.tensor([1.0, 1.0], requires_grad=True)
    u.backward(seed)
    assert id(u.grad.data.storage) != id(seed.data.storage)
    seed.data[...] = 0.0
    assert u.grad.tolist() == [5.0, 6.0] and v.grad.tolist() == [5.0, 6.0]
