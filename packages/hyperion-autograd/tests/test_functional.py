"""``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``, ``vhp`` against ``torch.autograd.functional``,
and second derivatives of composite functions (Rosenbrock, softmax, a tanh MLP)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import hyperion.autograd as ag
from hyperion.autograd import functional as F

torch = pytest.importorskip("torch")
TF = torch.autograd.functional


def pair(shape: tuple[int, ...], seed: int, requires_grad: bool = False) -> tuple[ag.Tensor, Any]:
    values = np.random.default_rng(seed).standard_normal(shape)
    return ag.tensor(values, dtype="float64", requires_grad=requires_grad), torch.tensor(
        values, requires_grad=requires_grad
    )


def close(ours: Any, theirs: Any) -> None:
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for a, b in zip(ours, theirs, strict=True):
            close(a, b)
        return
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


# -- composites ------------------------------------------------------------------------------------


def rosenbrock(p: Any) -> Any:
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def softmax(x: Any) -> Any:
    e = (x - x.max(-1, keepdims=True)).exp() if isinstance(x, ag.Tensor) else (x - x.amax(-1, keepdim=True)).exp()
    return e / e.sum(-1, keepdims=True) if isinstance(x, ag.Tensor) else e / e.sum(-1, keepdim=True)


def test_rosenbrock_hessian_matches_torch_and_the_formula() -> None:
    p, pt = pair((2,), 0)
    hessian = F.hessian(rosenbrock, p)
    close(hessian, TF.hessian(rosenbrock, pt))
    x, y = p.tolist()
    expected = [[2 - 400 * (y - x * x) + 800 * x * x, -400 * x], [-400 * x, 200]]
    np.testing.assert_allclose(hessian.numpy(), expected)


def test_softmax_jacobian_is_diag_s_minus_s_s_transpose() -> None:
    x, xt = pair((5,), 1)
    jacobian = F.jacobian(softmax, x)
    s = softmax(x).detach().numpy()
    np.testing.assert_allclose(jacobian.numpy(), np.diag(s) - np.outer(s, s), atol=1e-15)
    close(jacobian, TF.jacobian(softmax, xt))


def test_tanh_mlp_hessian_vector_product() -> None:
    (w1, w1t), (w2, w2t), (x, xt), (v, vt) = pair((4, 6), 2), pair((6, 1), 3), pair((8, 4), 4), pair((4, 6), 5)

    def loss(w: Any) -> Any:
        h = ((x if isinstance(w, ag.Tensor) else xt) @ w).tanh()
        out = h @ (w2 if isinstance(w, ag.Tensor) else w2t)
        return (out * out).mean()

    value, hv = F.hvp(loss, w1, v)
    value_t, hv_t = TF.hvp(loss, w1t, vt)
    close(value, value_t)
    close(hv, hv_t)
    _, vh = F.vhp(loss, w1, v)
    close(vh, hv_t)


def test_second_derivatives_of_a_composite_with_grad() -> None:
    x, xt = pair((3, 4), 6, requires_grad=True)

    def f(t: Any) -> Any:
        return (
            (t.sigmoid() * t.exp().log1p()).sum(-1).logsumexp(0)
            if isinstance(t, ag.Tensor)
            else ((t.sigmoid() * t.exp().log1p()).sum(-1).logsumexp(0))
        )

    (g,) = ag.grad(f(x), x, create_graph=True)
    (gt,) = torch.autograd.grad(f(xt), xt, create_graph=True)
    r, rt = pair((3, 4), 7)
    close(ag.grad((g * r).sum(), x)[0], torch.autograd.grad((gt * rt).sum(), xt)[0])


# -- the functional API against torch --------------------------------------------------------------


def two_inputs(a: Any, b: Any) -> Any:
    return (a @ b).tanh(), (a * a).sum()


def test_vjp_single_and_tuple() -> None:
    x, xt = pair((3,), 8)
    v, vt = pair((3,), 9)
    close(F.vjp(lambda t: t.exp() * t, x, v), TF.vjp(lambda t: t.exp() * t, xt, vt))
    (a, at), (b, bt) = pair((2, 3), 10), pair((3, 2), 11)
    (va, vat), (vb, vbt) = pair((2, 2), 12), pair((), 13)
    close(F.vjp(two_inputs, (a, b), (va, vb)), TF.vjp(two_inputs, (at, bt), (vat, vbt)))


def test_jvp_single_and_tuple() -> None:
    x, xt = pair((3,), 14)
    v, vt = pair((3,), 15)
    close(F.jvp(lambda t: t.sin() * t, x, v), TF.jvp(lambda t: t.sin() * t, xt, vt))
    (a, at), (b, bt) = pair((2, 3), 16), pair((3, 2), 17)
    (va, vat), (vb, vbt) = pair((2, 3), 18), pair((3, 2), 19)
    close(F.jvp(two_inputs, (a, b), (va, vb)), TF.jvp(two_inputs, (at, bt), (vat, vbt)))


def test_jacobian_structures() -> None:
    (a, at), (b, bt) = pair((2, 3), 20), pair((3, 2), 21)
    close(F.jacobian(lambda t: t.tanh(), a), TF.jacobian(lambda t: t.tanh(), at))
    close(F.jacobian(lambda t, u: t @ u, (a, b)), TF.jacobian(lambda t, u: t @ u, (at, bt)))
    close(F.jacobian(lambda t: (t.exp(), t.sum()), a), TF.jacobian(lambda t: (t.exp(), t.sum()), at))
    close(F.jacobian(two_inputs, (a, b)), TF.jacobian(two_inputs, (at, bt)))


def test_hessian_of_two_inputs() -> None:
    (a, at), (b, bt) = pair((2, 2), 22), pair((2,), 23)

    def f(t: Any, u: Any) -> Any:
        return ((t @ u).tanh() * u).sum()

    close(F.hessian(f, (a, b)), TF.hessian(f, (at, bt)))


def test_create_graph_results_are_differentiable() -> None:
    x, xt = pair((3,), 24, requires_grad=True)
    jac = F.jacobian(lambda t: t**3, x, create_graph=True)
    jac_t = TF.jacobian(lambda t: t**3, xt, create_graph=True)
    assert jac.requires_grad
    close(ag.grad(jac.sum(), x)[0], torch.autograd.grad(jac_t.sum(), xt)[0])
    assert not F.jacobian(lambda t: t**3, x).requires_grad


def test_unused_inputs_give_zeros_or_an_error_when_strict() -> None:
    (a, _), (b, _) = pair((2,), 25), pair((2,), 26)
    _, (ga, gb) = F.vjp(lambda t, u: (t * 2).sum(), (a, b))
    assert gb.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="strict"):
        F.vjp(lambda t, u: (t * 2).sum(), (a, b), strict=True)


def test_errors_name_the_problem() -> None:
    x, _ = pair((3,), 27)
    with pytest.raises(RuntimeError, match="one element"):
        F.vjp(lambda t: t * 2, x)  # v omitted for a non-scalar output
    with pytest.raises(RuntimeError, match="one element"):
        F.hessian(lambda t: t * 2, x)
    with pytest.raises(TypeError, match="inputs"):
        F.jacobian(lambda t: t, [1.0, 2.0])
