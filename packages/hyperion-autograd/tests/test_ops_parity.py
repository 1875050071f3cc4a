"""Every differentiable op against PyTorch (CPU, float64), from one declarative table.

Each :class:`OpCase` says how to draw inputs (shapes, value ranges, extra
parameters) and how to compute the op in hyperion.autograd and in PyTorch.
One harness then checks, on Hypothesis-generated shapes and broadcasts and on
inputs laid out non-contiguously (permuted, stepped with an offset,
expanded with stride 0):

1. the forward values;
2. the gradients for a random upstream gradient;
3. the second derivatives: the gradient of ``⟨∂L/∂x, r⟩`` with respect to the
   inputs *and* the upstream gradient (so every backward must itself be
   differentiable);

and, separately, a float64 finite-difference ``gradcheck`` of every op.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import hyperion.autograd as ag
import hyperion.tensor as ht

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")

Draw = Callable[[Any], tuple[list[np.ndarray], dict[str, Any]]]


@dataclass(frozen=True)
class OpCase:
    """One row of the table.

    Attributes:
        name: test id.
        draw: ``draw(data) -> (arrays, params)``; arrays are float64 (or bool/int for non-differentiable inputs).
        ours: the op on hyperion.autograd tensors: ``ours(*tensors, **params)``.
        ref: the same op on torch tensors.
        layouts: whether inputs may be laid out non-contiguously.
        second_order: whether to compare second derivatives.
        expand_ok: whether stride-0 (expanded) inputs are allowed.
    """

    name: str
    draw: Draw
    ours: Callable[..., Any]
    ref: Callable[..., Any]
    layouts: bool = True
    second_order: bool = True
    expand_ok: bool = True
    differentiable: tuple[int, ...] | None = None  # default: every float input
    extra: dict[str, Any] = field(default_factory=dict)


# -- drawing inputs ------------------------------------------------------------------------

SEEDS = st.integers(0, 2**32 - 1)
SMALL = {"min_dims": 0, "max_dims": 3, "min_side": 1, "max_side": 4}


def values(data: Any, shape: tuple[int, ...], low: float, high: float, signed: bool = False) -> np.ndarray:
    rng = np.random.default_rng(data.draw(SEEDS, label="seed"))
    out = rng.uniform(low, high, shape)
    if signed:
        out = out * rng.choice([-1.0, 1.0], shape)
    return np.asarray(out, dtype=np.float64)


def unary(low: float = -2.0, high: float = 2.0, signed: bool = False, min_dims: int = 0) -> Draw:
    def draw(data: Any) -> tuple[list[np.ndarray], dict[str, Any]]:
        shape = data.draw(array_shapes(**{**SMALL, "min_dims": min_dims}), label="shape")
        return [values(data, shape, low, high, signed)], {}

    return draw


def broadcasting(*ranges: tuple[float, float]) -> Draw:
    def draw(data: Any) -> tuple[list[np.ndarray], dict[str, Any]]:
        shapes = data.draw(
            mutually_broadcastable_shapes(num_shapes=len(ranges), max_dims=3, max_side=3), label="shapes"
        ).input_shapes
        return [values(data, s, lo, hi) for s, (lo, hi) in zip(shapes, ranges, strict=True)], {}

    return draw


def reduction(low: float = -2.0, high: float = 2.0, signed: bool = False, correction: bool = False) -> Draw:
    # var/std need at least two elements per slice (their derivative at one element is 0/0)
    min_side = 2 if correction else 1

    def draw(data: Any) -> tuple[list[np.ndarray], dict[str, Any]]:
        shape = data.draw(array_shapes(min_dims=1, max_dims=3, min_side=min_side, max_side=4), label="shape")
        ndim = len(shape)
        axis = data.draw(
            st.one_of(
                st.none(),
                st.integers(-ndim, ndim - 1),
                st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple),
            ),
            label="axis",
        )
        params: dict[str, Any] = {"axis": axis, "keepdims": data.draw(st.booleans(), label="keepdims")}
        if correction:
            params["correction"] = data.draw(st.sampled_from([0, 1]), label="correction")
        return [values(data, shape, low, high, signed)], params

    return draw


def torch_dims(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    return (axis,) if isinstance(axis, int) else tuple(axis)


def matmul_shapes(data: Any) -> tuple[list[np.ndarray], dict[str, Any]]:
    n, k, m, b = (data.draw(st.integers(1, 3), label=s) for s in "nkmb")
    pairs = [
        ((n, k), (k, m)),
        ((b, n, k), (k, m)),
        ((n, k), (b, k, m)),
        ((1, n, k), (b, k, m)),
        ((k,), (k,)),
        ((k,), (k, m)),
        ((n, k), (k,)),
        ((k,), (b, k, m)),
        ((b, n, k), (k,)),
        ((b, 1, n, k), (2, k, m)),
    ]
    sa, sb = data.draw(st.sampled_from(pairs), label="shapes")
    return [values(data, sa, -1, 1), values(data, sb, -1, 1)], {}


def view_input(min_dims: int = 1) -> Callable[[Any], np.ndarray]:
    def draw(data: Any) -> np.ndarray:
        shape = data.draw(array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4), label="shape")
        return values(data, shape, -2, 2)

    return draw


def with_params(make_array: Callable[[Any], np.ndarray], make_params: Callable[[Any, np.ndarray], dict]) -> Draw:
    def draw(data: Any) -> tuple[list[np.ndarray], dict[str, Any]]:
        array = make_array(data)
        return [array], make_params(data, array)

    return draw


def permutation(data: Any, a: np.ndarray) -> dict[str, Any]:
    return {"dims": tuple(data.draw(st.permutations(range(a.ndim)), label="dims"))}


def two_dims(data: Any, a: np.ndarray) -> dict[str, Any]:
    d0 = data.draw(st.integers(-a.ndim, a.ndim - 1), label="d0")
    d1 = data.draw(st.integers(-a.ndim, a.ndim - 1), label="d1")
    return {"d0": d0, "d1": d1}


def expand_target(data: Any, a: np.ndarray) -> dict[str, Any]:
    lead = data.draw(st.lists(st.integers(1, 3), max_size=2), label="lead")
    sizes = [data.draw(st.integers(1, 3), label="size") if s == 1 else s for s in a.shape]
    return {"shape": tuple(lead) + tuple(sizes)}


def reshape_target(data: Any, a: np.ndarray) -> dict[str, Any]:
    total = a.size
    divisors = [d for d in range(1, total + 1) if total % d == 0]
    first = data.draw(st.sampled_from(divisors), label="first")
    return {"shape": (first, -1) if data.draw(st.booleans(), label="two") else (total,)}


def squeezable(data: Any) -> np.ndarray:
    shape = data.draw(st.lists(st.sampled_from([1, 1, 2, 3]), min_size=1, max_size=4), label="shape")
    return values(data, tuple(shape), -2, 2)


def squeeze_dim(data: Any, a: np.ndarray) -> dict[str, Any]:
    return {"dim": data.draw(st.one_of(st.none(), st.integers(-a.ndim, a.ndim - 1)), label="dim")}


def unsqueeze_dim(data: Any, a: np.ndarray) -> dict[str, Any]:
    return {"dim": data.draw(st.integers(-a.ndim - 1, a.ndim), label="dim")}


def flatten_dims(data: Any, a: np.ndarray) -> dict[str, Any]:
    start = data.draw(st.integers(0, a.ndim - 1), label="start")
    return {"start": start, "end": data.draw(st.integers(start, a.ndim - 1), label="end")}


def unflatten_params(data: Any, a: np.ndarray) -> dict[str, Any]:
    dim = data.draw(st.integers(0, a.ndim - 1), label="dim")
    size = a.shape[dim]
    first = data.draw(st.sampled_from([d for d in range(1, size + 1) if size % d == 0]), label="first")
    return {"dim": dim, "sizes": (first, size // first)}


def narrow_params(data: Any, a: np.ndarray) -> dict[str, Any]:
    dim = data.draw(st.integers(0, a.ndim - 1), label="dim")
    start = data.draw(st.integers(0, a.shape[dim] - 1), label="start")
    return {"dim": dim, "start": start, "length": data.draw(st.integers(0, a.shape[dim] - start), label="len")}


def diagonal_params(data: Any, a: np.ndarray) -> dict[str, Any]:
    d1, d2 = data.draw(st.permutations(range(a.ndim)), label="dims")[:2]
    return {"offset": data.draw(st.integers(-2, 2), label="offset"), "dim1": d1, "dim2": d2}


def unfold_params(data: Any, a: np.ndarray) -> dict[str, Any]:
    dim = data.draw(st.integers(0, a.ndim - 1), label="dim")
    size = data.draw(st.integers(1, a.shape[dim]), label="size")
    return {"dim": dim, "size": size, "step": data.draw(st.integers(1, 3), label="step")}


def strided_params(data: Any, a: np.ndarray) -> dict[str, Any]:
    total = a.size
    size = tuple(data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=2), label="size"))
    stride = tuple(data.draw(st.integers(0, 2), label="stride") for _ in size)
    reach = sum((s - 1) * st_ for s, st_ in zip(size, stride, strict=True))
    if reach >= total:
        size, stride = (1,), (1,)
        reach = 0
    offset = data.draw(st.integers(0, total - 1 - reach), label="offset")
    return {"size": size, "stride": stride, "offset": offset}


def basic_key(data: Any, a: np.ndarray) -> dict[str, Any]:
    key: list[Any] = []
    for size in a.shape:
        kind = data.draw(st.sampled_from(["int", "slice", "all"]), label="kind")
        if kind == "int":
            key.append(data.draw(st.integers(-size, size - 1), label="index"))
        elif kind == "slice":
            start = data.draw(st.integers(0, size - 1), label="start")
            key.append(slice(start, None, data.draw(st.integers(1, 2), label="step")))
        else:
            key.append(slice(None))
    if data.draw(st.booleans(), label="newaxis"):
        key.insert(data.draw(st.integers(0, len(key)), label="at"), None)
    if data.draw(st.booleans(), label="ellipsis") and key:
        key = [Ellipsis] + key[1:]
    return {"key": tuple(key)}


def advanced_key(data: Any, a: np.ndarray) -> dict[str, Any]:
    dim = data.draw(st.integers(0, a.ndim - 1), label="dim")
    size = a.shape[dim]
    if data.draw(st.booleans(), label="mask"):
        mask = np.array(data.draw(st.lists(st.booleans(), min_size=size, max_size=size), label="bits"))
        index: Any = mask
    else:
        index = np.array(data.draw(st.lists(st.integers(-size, size - 1), min_size=1, max_size=5), label="ints"))
    return {"key": (slice(None),) * dim + (index,)}


def split_params(data: Any, a: np.ndarray) -> dict[str, Any]:
    dim = data.draw(st.integers(0, a.ndim - 1), label="dim")
    return {"dim": dim, "size": data.draw(st.integers(1, a.shape[dim]), label="size")}


def cat_inputs(data: Any) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = list(data.draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), label="shape"))
    dim = data.draw(st.integers(0, len(shape) - 1), label="dim")
    arrays = []
    for _ in range(data.draw(st.integers(1, 3), label="count")):
        shape[dim] = data.draw(st.integers(1, 3), label="size")
        arrays.append(values(data, tuple(shape), -2, 2))
    return arrays, {"dim": dim}


def stack_inputs(data: Any) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = data.draw(array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3), label="shape")
    arrays = [values(data, shape, -2, 2) for _ in range(data.draw(st.integers(1, 3), label="count"))]
    return arrays, {"dim": data.draw(st.integers(-len(shape) - 1, len(shape)), label="dim")}


def where_inputs(data: Any) -> tuple[list[np.ndarray], dict[str, Any]]:
    (sc, sa, sb) = data.draw(mutually_broadcastable_shapes(num_shapes=3, max_dims=3, max_side=3)).input_shapes
    return [values(data, sc, -1, 1) > 0, values(data, sa, -2, 2), values(data, sb, -2, 2)], {}


def setitem_inputs(data: Any) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = data.draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), label="shape")
    base = values(data, shape, -2, 2)
    params = (advanced_key if data.draw(st.booleans(), label="adv") else basic_key)(data, base)
    if any(isinstance(k, np.ndarray) for k in params["key"]):  # no duplicate writes: the winner is unspecified
        params["key"] = tuple(
            np.unique(k % base.shape[i]) if isinstance(k, np.ndarray) and k.dtype != bool else k
            for i, k in enumerate(params["key"])
        )
    target_shape = base[params["key"]].shape
    value_shape = target_shape[data.draw(st.integers(0, len(target_shape)), label="drop") :]
    return [base, values(data, value_shape, -2, 2)], params


def triangle_inputs(data: Any) -> tuple[list[np.ndarray], dict[str, Any]]:
    shape = data.draw(array_shapes(min_dims=2, max_dims=3, min_side=1, max_side=4), label="shape")
    return [values(data, shape, -2, 2)], {"diagonal": data.draw(st.integers(-2, 2), label="k")}


# -- the table ---------------------------------------------------------------------------------

T = torch
CASES = [
    # elementwise, one tensor
    OpCase("neg", unary(), lambda x: -x, lambda x: -x),
    OpCase("abs", unary(), lambda x: x.abs(), lambda x: x.abs()),
    OpCase("sign", unary(), lambda x: x.sign() * x, lambda x: x.sign() * x),
    OpCase("exp", unary(), ag.exp, T.exp),
    OpCase("log", unary(0.2, 3.0), ag.log, T.log),
    OpCase("log1p", unary(-0.5, 2.0), ag.log1p, T.log1p),
    OpCase("expm1", unary(), ag.expm1, T.expm1),
    OpCase("sqrt", unary(0.2, 3.0), ag.sqrt, T.sqrt),
    OpCase("rsqrt", unary(0.2, 3.0), ag.rsqrt, T.rsqrt),
    OpCase("reciprocal", unary(0.5, 2.0, signed=True), ag.reciprocal, T.reciprocal),
    OpCase("square", unary(), ag.square, T.square),
    OpCase("sin", unary(), ag.sin, T.sin),
    OpCase("cos", unary(), ag.cos, T.cos),
    OpCase("tanh", unary(), ag.tanh, T.tanh),
    OpCase("sigmoid", unary(-3, 3), ag.sigmoid, T.sigmoid),
    # elementwise, several tensors (broadcasting)
    OpCase("add", broadcasting((-2, 2), (-2, 2)), lambda a, b: a + b, lambda a, b: a + b),
    OpCase("sub", broadcasting((-2, 2), (-2, 2)), lambda a, b: a - b, lambda a, b: a - b),
    OpCase("mul", broadcasting((-2, 2), (-2, 2)), lambda a, b: a * b, lambda a, b: a * b),
    OpCase("div", broadcasting((-2, 2), (0.5, 2)), lambda a, b: a / b, lambda a, b: a / b),
    OpCase("pow", broadcasting((0.5, 2), (-2, 2)), lambda a, b: a**b, lambda a, b: a**b),
    OpCase("maximum", broadcasting((-2, 2), (-2, 2)), ag.maximum, T.maximum),
    OpCase("minimum", broadcasting((-2, 2), (-2, 2)), ag.minimum, T.minimum),
    OpCase("mod", broadcasting((0.1, 3), (0.7, 2)), lambda a, b: a % b, T.remainder),
    OpCase(
        "clip_tensors",
        broadcasting((-2, 2), (-1, -0.2), (0.2, 1)),
        ag.clip,
        lambda x, lo, hi: T.minimum(T.maximum(x, lo), hi),
    ),
    OpCase("where", where_inputs, ag.where, T.where, differentiable=(1, 2)),
    # with Python numbers
    OpCase("radd", unary(), lambda x: 1.5 + x, lambda x: 1.5 + x),
    OpCase("rsub", unary(), lambda x: 1.5 - x, lambda x: 1.5 - x),
    OpCase("rmul", unary(), lambda x: 2.5 * x, lambda x: 2.5 * x),
    OpCase("div_number", unary(), lambda x: x / 3.0, lambda x: x / 3.0),
    OpCase("rdiv", unary(0.5, 2, signed=True), lambda x: 3.0 / x, lambda x: 3.0 / x),
    OpCase("pow_number", unary(), lambda x: x**3, lambda x: x**3),
    OpCase("pow_fraction", unary(0.2, 2), lambda x: x**0.5, lambda x: x**0.5),
    OpCase("pow_zero", unary(), lambda x: x**0 + x, lambda x: x**0 + x),
    OpCase("rpow", unary(), lambda x: 2.0**x, lambda x: 2.0**x),
    OpCase("maximum_number", unary(), lambda x: x.maximum(0.3), lambda x: T.clamp_min(x, 0.3)),
    OpCase("clip_numbers", unary(), lambda x: x.clip(-0.5, 0.5), lambda x: T.clamp(x, -0.5, 0.5)),
    OpCase("clip_min_only", unary(), lambda x: x.clip(min=-0.5), lambda x: T.clamp(x, min=-0.5)),
    # matrix products
    OpCase("matmul", matmul_shapes, lambda a, b: a @ b, lambda a, b: a @ b),
    # reductions
    OpCase(
        "sum",
        reduction(),
        lambda x, axis, keepdims: x.sum(axis, keepdims),
        lambda x, axis, keepdims: x.sum(torch_dims(axis, x.ndim), keepdim=keepdims),
    ),
    OpCase(
        "mean",
        reduction(),
        lambda x, axis, keepdims: x.mean(dim=axis, keepdim=keepdims),
        lambda x, axis, keepdims: x.mean(torch_dims(axis, x.ndim), keepdim=keepdims),
    ),
    OpCase(
        "prod",
        reduction(0.5, 1.5, signed=True),
        lambda x, axis, keepdims: x.prod(axis, keepdims),
        lambda x, axis, keepdims: _torch_prod(x, torch_dims(axis, x.ndim), keepdims),
    ),
    OpCase(
        "max",
        reduction(),
        lambda x, axis, keepdims: x.max(axis, keepdims),
        lambda x, axis, keepdims: T.amax(x, torch_dims(axis, x.ndim), keepdim=keepdims),
    ),
    OpCase(
        "min",
        reduction(),
        lambda x, axis, keepdims: x.min(axis, keepdims),
        lambda x, axis, keepdims: T.amin(x, torch_dims(axis, x.ndim), keepdim=keepdims),
    ),
    OpCase(
        "var",
        reduction(correction=True),
        lambda x, axis, keepdims, correction: x.var(axis, keepdims, correction=correction),
        lambda x, axis, keepdims, correction: T.var(
            x, torch_dims(axis, x.ndim), correction=correction, keepdim=keepdims
        ),
    ),
    OpCase(
        "std",
        reduction(correction=True),
        lambda x, axis, keepdims, correction: x.std(axis, keepdims, correction=correction),
        lambda x, axis, keepdims, correction: T.std(
            x, torch_dims(axis, x.ndim), correction=correction, keepdim=keepdims
        ),
        # an expanded input can make a slice constant: its std is 0 or 1e-17 depending on
        # rounding, and the derivative there (0/0) is whatever each library makes of that
        expand_ok=False,
    ),
    OpCase(
        "logsumexp",
        reduction(),
        lambda x, axis, keepdims: x.logsumexp(axis, keepdims),
        lambda x, axis, keepdims: T.logsumexp(x, torch_dims(axis, x.ndim), keepdim=keepdims),
    ),
    # views
    OpCase(
        "reshape",
        with_params(view_input(0), reshape_target),
        lambda x, shape: x.reshape(shape),
        lambda x, shape: x.reshape(shape),
    ),
    OpCase(
        "permute",
        with_params(view_input(), permutation),
        lambda x, dims: x.permute(dims),
        lambda x, dims: x.permute(dims),
    ),
    OpCase(
        "transpose",
        with_params(view_input(), two_dims),
        lambda x, d0, d1: x.transpose(d0, d1),
        lambda x, d0, d1: x.transpose(d0, d1),
    ),
    OpCase("T", unary(min_dims=1), lambda x: x.T, lambda x: x.permute(*reversed(range(x.ndim)))),
    OpCase("mT", unary(min_dims=2), lambda x: x.mT, lambda x: x.mT),
    OpCase(
        "expand",
        with_params(view_input(), expand_target),
        lambda x, shape: x.expand(shape),
        lambda x, shape: x.expand(shape),
    ),
    OpCase(
        "squeeze",
        with_params(squeezable, squeeze_dim),
        lambda x, dim: x.squeeze(dim),
        lambda x, dim: x.squeeze() if dim is None else x.squeeze(dim),
    ),
    OpCase(
        "unsqueeze",
        with_params(view_input(), unsqueeze_dim),
        lambda x, dim: x.unsqueeze(dim),
        lambda x, dim: x.unsqueeze(dim),
    ),
    OpCase(
        "flatten",
        with_params(view_input(), flatten_dims),
        lambda x, start, end: x.flatten(start, end),
        lambda x, start, end: x.flatten(start, end),
    ),
    OpCase(
        "unflatten",
        with_params(view_input(), unflatten_params),
        lambda x, dim, sizes: x.unflatten(dim, sizes),
        lambda x, dim, sizes: x.unflatten(dim, sizes),
    ),
    OpCase(
        "narrow",
        with_params(view_input(), narrow_params),
        lambda x, dim, start, length: x.narrow(dim, start, length),
        lambda x, dim, start, length: x.narrow(dim, start, length),
    ),
    OpCase(
        "diagonal",
        with_params(view_input(2), diagonal_params),
        lambda x, offset, dim1, dim2: x.diagonal(offset, dim1, dim2),
        lambda x, offset, dim1, dim2: x.diagonal(offset, dim1, dim2),
    ),
    OpCase(
        "unfold",
        with_params(view_input(), unfold_params),
        lambda x, dim, size, step: x.unfold(dim, size, step),
        lambda x, dim, size, step: x.unfold(dim, size, step),
    ),
    OpCase(
        "as_strided",
        with_params(view_input(), strided_params),
        lambda x, size, stride, offset: _as_strided(x.contiguous(), size, stride, x.contiguous().data.offset + offset),
        lambda x, size, stride, offset: _as_strided(
            x.contiguous(), size, stride, x.contiguous().storage_offset() + offset
        ),
        expand_ok=False,
    ),
    OpCase("getitem_basic", with_params(view_input(), basic_key), lambda x, key: x[key], lambda x, key: x[key]),
    OpCase(
        "getitem_advanced",
        with_params(view_input(), advanced_key),
        lambda x, key: x[key],
        lambda x, key: x[tuple(T.as_tensor(k) if isinstance(k, np.ndarray) else k for k in key)],
    ),
    OpCase(
        "split_cat",
        with_params(view_input(), split_params),
        lambda x, dim, size: ag.cat([p * (k + 1) for k, p in enumerate(x.split(size, dim))], dim),
        lambda x, dim, size: T.cat([p * (k + 1) for k, p in enumerate(x.split(size, dim))], dim),
    ),
    OpCase(
        "chunk_stack",
        with_params(view_input(), split_params),
        lambda x, dim, size: ag.cat(x.chunk(size, dim)[::-1], dim),
        lambda x, dim, size: T.cat(x.chunk(size, dim)[::-1], dim),
    ),
    OpCase("cat", cat_inputs, lambda *xs, dim: ag.cat(xs, dim), lambda *xs, dim: T.cat(xs, dim)),
    OpCase("stack", stack_inputs, lambda *xs, dim: ag.stack(xs, dim), lambda *xs, dim: T.stack(xs, dim)),
    OpCase("tril", triangle_inputs, ag.tril, lambda x, diagonal: T.tril(x, diagonal)),
    OpCase("triu", triangle_inputs, ag.triu, lambda x, diagonal: T.triu(x, diagonal)),
    OpCase(
        "setitem",
        setitem_inputs,
        lambda x, v, key: _setitem(x * 1, key, v),
        lambda x, v, key: _setitem(x * 1, tuple(T.as_tensor(k) if isinstance(k, np.ndarray) else k for k in key), v),
    ),
    # copies and casts
    OpCase("clone", unary(), lambda x: x.clone() * 2, lambda x: x.clone() * 2),
    OpCase("contiguous", unary(), lambda x: x.contiguous() * 2, lambda x: x.contiguous() * 2),
    OpCase(
        "astype",
        unary(),
        lambda x: x.astype("float32").astype("float64") * x,
        lambda x: x.to(T.float32).to(T.float64) * x,
        extra={"rtol": 1e-6, "gradcheck": {"eps": 1e-3, "atol": 1e-3}},
    ),
    OpCase(
        "unbind",
        with_params(view_input(), split_params),
        lambda x, dim, size: ag.stack(x.unbind(dim)[::-1], dim),
        lambda x, dim, size: T.stack(x.unbind(dim)[::-1], dim),
    ),
]


def _torch_prod(x: Any, dims: tuple[int, ...], keepdims: bool) -> Any:
    for d in sorted((d % max(x.ndim, 1) for d in dims), reverse=True):
        x = x.prod(d, keepdim=True)
    if not keepdims:
        x = x.reshape([s for k, s in enumerate(x.shape) if k not in {d % max(x.ndim, 1) for d in dims}])
    return x


def _as_strided(x: Any, size: Any, stride: Any, offset: int) -> Any:
    # as_strided addresses the storage: offsets are taken relative to where x's data starts.
    return x.as_strided(size, stride, offset)


def _setitem(target: Any, key: Any, value: Any) -> Any:
    target[key] = value
    return target


# -- laying inputs out non-contiguously --------------------------------------------------------


def layout_kinds(array: np.ndarray, case: OpCase) -> list[str]:
    if not case.layouts or array.dtype != np.float64 or array.ndim == 0:
        return ["contiguous"]
    kinds = ["contiguous", "stepped"]
    if array.ndim >= 2:
        kinds.append("permuted")
    if case.expand_ok and any(s > 1 for s in array.shape):
        kinds.append("expanded")
    return kinds


def lay_out(array: np.ndarray, kind: str, data: Any) -> tuple[ht.Tensor, np.ndarray]:
    """A raw tensor holding (possibly modified) ``array`` in the given layout, and the values it holds."""
    if kind == "contiguous":
        return ht.tensor(array), array
    if kind == "stepped":
        big = np.zeros(tuple(2 * s + 1 for s in array.shape))
        key = (slice(1, None, 2),) * array.ndim
        big[key] = array
        return ht.tensor(big)[key], array
    if kind == "permuted":
        order = data.draw(st.permutations(range(array.ndim)), label="order")
        inverse = tuple(np.argsort(order))
        return ht.tensor(np.ascontiguousarray(array.transpose(order))).permute(inverse), array
    axis = data.draw(st.sampled_from([k for k, s in enumerate(array.shape) if s > 1]), label="axis")
    narrow = np.take(array, [0], axis=axis)
    expanded = np.broadcast_to(narrow, array.shape)
    return ht.tensor(narrow).expand(array.shape), np.ascontiguousarray(expanded)


# -- the harness -------------------------------------------------------------------------------


def _np(value: Any) -> np.ndarray:
    if isinstance(value, ag.Tensor):
        return np.asarray(value.detach().numpy(), dtype=np.float64)
    return value.detach().numpy(force=True).astype(np.float64)


def _close(ours: Any, theirs: Any, what: str, rtol: float, atol: float) -> None:
    a = np.zeros(()) if ours is None else _np(ours)
    b = np.zeros(()) if theirs is None else _np(theirs)
    a, b = np.broadcast_arrays(a, b)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def run_case(case: OpCase, data: Any) -> None:
    arrays, params = case.draw(data)
    leaves, torch_leaves = [], []
    differentiable = case.differentiable
    if differentiable is None:
        differentiable = tuple(k for k, a in enumerate(arrays) if a.dtype == np.float64)
    for k, array in enumerate(arrays):
        kind = data.draw(st.sampled_from(layout_kinds(array, case)), label=f"layout{k}")
        raw, held = lay_out(array, kind, data)
        leaves.append(ag.Tensor(raw, requires_grad=k in differentiable))
        torch_leaves.append(torch.tensor(held, requires_grad=k in differentiable))
    rtol = case.extra.get("rtol", 1e-9)
    out = case.ours(*leaves, **params)
    ref = case.ref(*torch_leaves, **params)
    assert out.shape == tuple(ref.shape), f"{case.name}: shape {out.shape} vs torch {tuple(ref.shape)}"
    _close(out, ref, f"{case.name}: forward", rtol, 1e-12)
    if not out.requires_grad:
        assert not ref.requires_grad
        return

    rng = np.random.default_rng(data.draw(SEEDS, label="upstream"))
    upstream = rng.standard_normal(ref.shape)
    g_out = ag.tensor(upstream, dtype="float64", requires_grad=case.second_order)
    g_ref = torch.tensor(upstream, requires_grad=case.second_order)
    wrt = [leaves[k] for k in differentiable]
    wrt_ref = [torch_leaves[k] for k in differentiable]
    grads = ag.grad(out, wrt, g_out, create_graph=case.second_order, allow_unused=True)
    grads_ref = torch.autograd.grad(ref, wrt_ref, g_ref, create_graph=case.second_order, allow_unused=True)
    for k, (g, g_t) in enumerate(zip(grads, grads_ref, strict=True)):
        if g is not None:
            assert g.shape == wrt[k].shape and g.dtype == wrt[k].dtype
        _close(g, g_t, f"{case.name}: gradient of input {differentiable[k]}", rtol, 1e-10)
    if not case.second_order:
        return

    weights = [rng.standard_normal(x.shape) for x in wrt]
    total = sum((g * ag.tensor(w, dtype="float64")).sum() for g, w in zip(grads, weights, strict=True) if g is not None)
    total_ref = sum((g * torch.tensor(w)).sum() for g, w in zip(grads_ref, weights, strict=True) if g is not None)
    ours_rg = isinstance(total, ag.Tensor) and total.requires_grad
    ref_rg = isinstance(total_ref, torch.Tensor) and total_ref.requires_grad
    second = ag.grad(total, wrt + [g_out], allow_unused=True) if ours_rg else [None] * (len(wrt) + 1)
    second_ref = (
        torch.autograd.grad(total_ref, wrt_ref + [g_ref], allow_unused=True) if ref_rg else [None] * (len(wrt) + 1)
    )
    for k, (h, h_t) in enumerate(zip(second, second_ref, strict=True)):
        _close(h, h_t, f"{case.name}: second derivative #{k}", max(rtol, 1e-8), 1e-9)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_parity_with_torch(case: OpCase, data: Any) -> None:
    run_case(case, data)


# -- finite differences on every op -------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_gradcheck_every_op(case: OpCase, data: Any) -> None:
    arrays, params = case.draw(data)
    differentiable = case.differentiable
    if differentiable is None:
        differentiable = tuple(k for k, a in enumerate(arrays) if a.dtype == np.float64)
    inputs = tuple(ag.tensor(a, requires_grad=k in differentiable) for k, a in enumerate(arrays))
    if sum(a.size for a in arrays) == 0 or not any(i.requires_grad for i in inputs):
        return
    if not case.ours(*inputs, **params).requires_grad:
        return
    big = sum(a.size for a in arrays) > 24
    options = {"atol": 1e-6, "rtol": 1e-4, **case.extra.get("gradcheck", {})}
    assert ag.gradcheck(lambda *xs: case.ours(*xs, **params), inputs, directional=big, **options)
