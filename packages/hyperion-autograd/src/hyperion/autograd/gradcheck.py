"""Finite-difference checks of gradients: ``gradcheck`` and ``gradgradcheck``.

Both compare the engine's derivatives with float64 central differences
``(f(x + εe) - f(x - εe)) / 2ε``:

* **full** mode builds the whole Jacobian both ways -- one backward per output
  element, two evaluations of ``fn`` per input element -- and names the worst
  element when they disagree;
* **directional** mode (``directional=True``) draws random directions ``u``
  (per input) and ``v`` (per output) and compares ``⟨Jᵀv, u⟩`` from one
  backward with ``(⟨v, f(x + εu)⟩ - ⟨v, f(x - εu)⟩) / 2ε`` from two evaluations;
  much cheaper for large inputs, and a wrong gradient is caught with
  probability 1.

An element passes when ``|analytical - numerical| <= atol + rtol * |numerical|``.
``gradgradcheck`` runs ``gradcheck`` on the function ``(x, v) ↦ Jᵀv`` built with
``create_graph=True``, which checks second derivatives.

Example:
    >>> import hyperion.autograd as ag
    >>> x = ag.randn(3, 2, seed=0, dtype="float64", requires_grad=True)
    >>> ag.gradcheck(lambda t: (t * t).tanh().sum(0), (x,))
    True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import hyperion.tensor as ht
from hyperion.autograd.engine import grad
from hyperion.autograd.grad_mode import enable_grad
from hyperion.autograd.tensor import Tensor

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


class GradcheckError(AssertionError):
    """Analytical and numerical derivatives disagree."""


def _inputs(inputs: Any) -> tuple[Any, ...]:
    items = tuple(inputs) if isinstance(inputs, tuple | list) else (inputs,)
    for k, x in enumerate(items):
        if isinstance(x, Tensor) and x.requires_grad and x.dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {k} requires grad but has dtype {x.dtype}; finite differences need float64 inputs"
            )
    return items


def _outputs(value: Any) -> tuple[Tensor, ...]:
    items = tuple(value) if isinstance(value, tuple | list) else (value,)
    for k, out in enumerate(items):
        if not isinstance(out, Tensor):
            raise TypeError(f"gradcheck: output {k} of fn is a {type(out).__name__}, not a hyperion.autograd.Tensor")
    return items


def _values(outputs: tuple[Tensor, ...]) -> list[np.ndarray]:
    return [np.array(o.detach().numpy(), dtype=np.float64) for o in outputs]


def _with_input(inputs: tuple[Any, ...], index: int, array: np.ndarray) -> tuple[Any, ...]:
    """The inputs with input ``index`` replaced by a fresh leaf holding ``array``."""
    original = inputs[index]
    replacement = Tensor(ht.tensor(array, dtype=original.dtype), requires_grad=original.requires_grad)
    return inputs[:index] + (replacement,) + inputs[index + 1 :]


def _evaluate(fn: Callable[..., Any], inputs: tuple[Any, ...]) -> list[np.ndarray]:
    with enable_grad():  # fn may itself differentiate (gradgradcheck)
        return _values(_outputs(fn(*inputs)))


def _fail(message: str, raise_exception: bool) -> bool:
    if raise_exception:
        raise GradcheckError(message)
    return False


def _analytical_rows(outputs: tuple[Tensor, ...], wrt: list[Tensor], out_index: int) -> list[np.ndarray]:
    """``J[out_index]`` with respect to each tensor of ``wrt``, as (out numel, in numel) arrays."""
    out = outputs[out_index]
    jac = [np.zeros((out.numel(), x.numel())) for x in wrt]
    if not out.requires_grad:
        return jac
    for r in range(out.numel()):
        seed = np.zeros(out.numel())
        seed[r] = 1.0
        direction = Tensor(ht.tensor(seed.reshape(out.shape), dtype=out.dtype))
        grads = grad(out, wrt, direction, retain_graph=True, allow_unused=True)
        for k, g in enumerate(grads):
            if g is not None:
                jac[k][r] = np.asarray(g.detach().numpy(), dtype=np.float64).reshape(-1)
    return jac


def gradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    directional: bool = False,
    n_directions: int = 3,
    seed: int = 0,
) -> bool:
    """Check the gradients of ``fn`` at ``inputs`` against central finite differences.

    Args:
        fn: a function of the inputs returning a tensor or a tuple of tensors.
        inputs: a tensor or tuple; those that require grad (float64) are checked.
        eps: finite-difference step.
        atol: absolute tolerance.
        rtol: relative tolerance (relative to the numerical value).
        raise_exception: raise :class:`GradcheckError` on a mismatch (else return False).
        directional: compare random directional derivatives instead of full Jacobians.
        n_directions: how many random directions per input in directional mode.
        seed: seed of the random directions.

    Returns:
        True if every derivative matches.

    Raises:
        GradcheckError: naming the output, the input and the worst element.
    """
    xs = _inputs(inputs)
    checked = [k for k, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad")
    with enable_grad():
        outputs = _outputs(fn(*xs))
    if directional:
        return _directional(fn, xs, outputs, checked, eps, atol, rtol, raise_exception, n_directions, seed)
    return _full(fn, xs, outputs, checked, eps, atol, rtol, raise_exception)


def _full(
    fn: Callable[..., Any],
    xs: tuple[Any, ...],
    outputs: tuple[Tensor, ...],
    checked: list[int],
    eps: float,
    atol: float,
    rtol: float,
    raise_exception: bool,
) -> bool:
    wrt = [xs[k] for k in checked]
    analytical = [_analytical_rows(outputs, wrt, o) for o in range(len(outputs))]
    for slot, k in enumerate(checked):
        base = np.array(xs[k].detach().numpy(), dtype=np.float64)
        numerical = [np.zeros((o.numel(), base.size)) for o in outputs]
        for c in range(base.size):
            plus, minus = base.copy(), base.copy()
            plus.reshape(-1)[c] += eps
            minus.reshape(-1)[c] -= eps
            f_plus = _evaluate(fn, _with_input(xs, k, plus))
            f_minus = _evaluate(fn, _with_input(xs, k, minus))
            for o in range(len(outputs)):
                numerical[o][:, c] = ((f_plus[o] - f_minus[o]) / (2 * eps)).reshape(-1)
        for o, out in enumerate(outputs):
            a, n = analytical[o][slot], numerical[o]
            with np.errstate(invalid="ignore"):
                excess = np.abs(a - n) - (atol + rtol * np.abs(n))
            bad = (excess > 0) | (np.isnan(a) != np.isnan(n))
            if bad.any():
                score = np.where(bad, np.nan_to_num(excess, nan=np.inf), -np.inf)
                r, c = np.unravel_index(int(np.argmax(score)), score.shape)
                out_index = np.unravel_index(r, out.shape) if out.shape else ()
                in_index = np.unravel_index(c, base.shape) if base.shape else ()
                return _fail(
                    f"gradcheck: Jacobian mismatch for output {o} with respect to input {k}: worst element is "
                    f"d output{tuple(int(i) for i in out_index)} / d input{tuple(int(i) for i in in_index)}: "
                    f"analytical {float(a[r, c])!r}, numerical {float(n[r, c])!r} "
                    f"(|difference| {abs(a[r, c] - n[r, c]):.3g}, allowed {atol + rtol * abs(n[r, c]):.3g})."
                    f"\nanalytical:\n{a}\nnumerical:\n{n}",
                    raise_exception,
                )
    return True


def _directional(
    fn: Callable[..., Any],
    xs: tuple[Any, ...],
    outputs: tuple[Tensor, ...],
    checked: list[int],
    eps: float,
    atol: float,
    rtol: float,
    raise_exception: bool,
    n_directions: int,
    seed: int,
) -> bool:
    rng = np.random.default_rng(seed)
    for k in checked:
        base = np.array(xs[k].detach().numpy(), dtype=np.float64)
        for d in range(n_directions):
            u = rng.standard_normal(base.shape)
            u /= max(np.linalg.norm(u), 1e-12)
            vs = [rng.standard_normal(o.shape) for o in outputs]
            used = [(o, v) for o, v in zip(outputs, vs, strict=True) if o.requires_grad]
            analytical = 0.0
            if used:
                directions = [Tensor(ht.tensor(v, dtype=o.dtype)) for o, v in used]
                (g,) = grad([o for o, _ in used], [xs[k]], directions, retain_graph=True, allow_unused=True)
                if g is not None:
                    analytical = float(np.sum(np.asarray(g.detach().numpy(), dtype=np.float64) * u))
            f_plus = _evaluate(fn, _with_input(xs, k, base + eps * u))
            f_minus = _evaluate(fn, _with_input(xs, k, base - eps * u))
            numerical = float(sum(np.sum(v * (p - m)) for v, p, m in zip(vs, f_plus, f_minus, strict=True)))
            numerical /= 2 * eps
            if not abs(analytical - numerical) <= atol + rtol * abs(numerical):
                return _fail(
                    f"gradcheck (directional): mismatch for input {k} along random direction {d}: "
                    f"analytical <J^T v, u> = {analytical!r}, numerical = {numerical!r} "
                    f"(|difference| {abs(analytical - numerical):.3g}, allowed {atol + rtol * abs(numerical):.3g})",
                    raise_exception,
                )
    return True


def gradgradcheck(
    fn: Callable[..., Any],
    inputs: Any,
    grad_outputs: Sequence[Any] | Any = None,
    *,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    directional: bool = False,
    n_directions: int = 3,
    seed: int = 0,
) -> bool:
    """Check second derivatives: :func:`gradcheck` of ``(inputs, v) ↦ Jᵀv`` (built with ``create_graph=True``).

    Args:
        fn: as for :func:`gradcheck`.
        inputs: as for :func:`gradcheck`.
        grad_outputs: the ``v`` (one per output); random (seeded) when omitted.
        eps: finite-difference step.
        atol: absolute tolerance.
        rtol: relative tolerance.
        raise_exception: raise on a mismatch (else return False).
        directional: use random directional derivatives.
        n_directions: directions per input in directional mode.
        seed: seed of the random ``v`` and directions.

    Returns:
        True if every second derivative matches.
    """
    xs = _inputs(inputs)
    checked = [k for k, x in enumerate(xs) if isinstance(x, Tensor) and x.requires_grad]
    with enable_grad():
        outputs = _outputs(fn(*xs))
    if grad_outputs is None:
        rng = np.random.default_rng(seed + 1)
        vs = tuple(
            Tensor(ht.tensor(rng.standard_normal(o.shape), dtype=np.float64), requires_grad=True) for o in outputs
        )
    else:
        vs = tuple(grad_outputs) if isinstance(grad_outputs, tuple | list) else (grad_outputs,)
    n = len(xs)

    def first_derivative(*args: Any) -> tuple[Tensor, ...]:
        inner, v = args[:n], args[n:]
        outs = _outputs(fn(*inner))
        pairs = [(o, w) for o, w in zip(outs, v, strict=True) if o.requires_grad]
        wrt = [inner[k] for k in checked]
        if not pairs:
            return tuple(x.detach()._zeros_like() for x in wrt)
        grads = grad([o for o, _ in pairs], wrt, [w for _, w in pairs], create_graph=True, allow_unused=True)
        return tuple(g if g is not None else x.detach()._zeros_like() for g, x in zip(grads, wrt, strict=True))

    return gradcheck(
        first_derivative,
        xs + vs,
        eps=eps,
        atol=atol,
        rtol=rtol,
        raise_exception=raise_exception,
        directional=directional,
        n_directions=n_directions,
        seed=seed,
    )
