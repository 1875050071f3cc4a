"""Hypothesis strategies: tensors together with their NumPy twin, in non-contiguous layouts.

A :class:`Pair` holds a Hyperion tensor ``t`` and a NumPy array ``a`` with the same shape, dtype
and values. Both are views of one NumPy buffer ``base`` (the tensor through
:func:`hyperion.tensor.from_numpy`, zero-copy), reached by the same chain of views:

1. an *offset* view: ``base[k]`` of a buffer with an extra leading dimension;
2. a slice with a *step* per dimension (negative steps included);
3. a *permutation* of the dimensions;
4. a *broadcast* (``expand``, stride 0) of some dimensions from size 1.

Every step is optional, so Hypothesis shrinks a failure towards the plain contiguous layout, and
each step is applied with Hyperion's own view methods on the tensor side. Values are drawn from a
seeded ``numpy.random.Generator`` (fast; shapes and layouts still shrink).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import hyperion.tensor as ht

ALL_DTYPES: tuple[np.dtype, ...] = tuple(
    np.dtype(name) for name in ("bool", "int8", "int16", "int32", "int64", "uint8", "float16", "float32", "float64")
)
FLOAT_DTYPES = tuple(d for d in ALL_DTYPES if d.kind == "f")
INT_DTYPES = tuple(d for d in ALL_DTYPES if d.kind in "iu")
NUMERIC_DTYPES = INT_DTYPES + FLOAT_DTYPES

#: (rtol, atol) when comparing with a reference computed in another order or precision.
TOLERANCE = {
    np.dtype("float16"): (2e-3, 2e-3),
    np.dtype("float32"): (2e-5, 1e-5),
    np.dtype("float64"): (1e-10, 1e-12),
}

dtypes = st.sampled_from(ALL_DTYPES)
float_dtypes = st.sampled_from(FLOAT_DTYPES)
numeric_dtypes = st.sampled_from(NUMERIC_DTYPES)
int_dtypes_and_bool = st.sampled_from((np.dtype("bool"), *INT_DTYPES))

seeds = st.integers(0, 2**32 - 1)


def shapes(*, min_dims: int = 0, max_dims: int = 4, min_side: int = 0, max_side: int = 5) -> st.SearchStrategy:
    """Shapes, including 0-d and dimensions of size 0 and 1."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def random_values(rng: np.random.Generator, shape: tuple[int, ...], dtype: np.dtype, *, ties: bool = False) -> Any:
    """Values of ``dtype`` small enough that sums and products of a few stay exact in integers.

    With ``ties``, floats are multiples of 1/2 in a narrow range, so equal values (ties for
    argmax, equal operands for comparisons) are common.
    """
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind == "u":
        return rng.integers(0, 6 if ties else 20, shape).astype(dtype)
    if dtype.kind == "i":
        bound = 3 if ties else 20
        return rng.integers(-bound, bound + 1, shape).astype(dtype)
    if ties:
        return (rng.integers(-6, 7, shape) / 2).astype(dtype)
    return (rng.standard_normal(shape) * 3).astype(dtype)


@dataclass
class Pair:
    """A tensor ``t``, its NumPy twin ``a`` and the buffer ``base`` both are views of."""

    t: ht.Tensor
    a: np.ndarray
    base: np.ndarray
    base_t: ht.Tensor
    steps: list[tuple[str, Any]] = field(default_factory=list)

    def __repr__(self) -> str:
        return (
            f"Pair({self.a.dtype} shape={self.a.shape} strides={self.t.strides} offset={self.t.offset}: "
            f"base{self.base.shape} -> {describe(self.steps)})"
        )


def _dim_slice(draw: Any, size: int, step: int) -> tuple[slice, int]:
    """A slice with ``step`` that selects ``size`` elements, and the length of the dimension it slices."""
    start = draw(st.integers(0, 2))
    tail = draw(st.integers(0, 1))
    span = (size - 1) * abs(step) + 1 if size else 0
    length = start + span + tail
    if size == 0:
        return slice(start, start, step), length
    if step > 0:
        return slice(start, start + span, step), length
    first = start + span - 1
    return slice(first, start - 1 if start > 0 else None, step), length


@st.composite
def pairs(
    draw: Any,
    shape: tuple[int, ...] | st.SearchStrategy | None = None,
    dtype: Any = None,
    *,
    broadcast: bool = True,
    negative_steps: bool = True,
    ties: bool = False,
    max_dims: int = 4,
    max_side: int = 5,
) -> Pair:
    """A :class:`Pair` of ``shape`` (drawn if not given) and ``dtype`` (any supported one if not given).

    Args:
        broadcast: allow stride-0 (expanded) dimensions; leave it off for tensors written to.
        negative_steps: allow negative steps (PyTorch has no negative strides).
        ties: draw values with many repeats (see :func:`random_values`).
    """
    if shape is None:
        shape = draw(shapes(max_dims=max_dims, max_side=max_side))
    elif isinstance(shape, st.SearchStrategy):
        shape = draw(shape)
    shape = tuple(shape)
    if dtype is None:
        dtype = draw(dtypes)
    elif isinstance(dtype, st.SearchStrategy):
        dtype = draw(dtype)
    dtype = np.dtype(dtype)
    ndim = len(shape)

    expanded = tuple(k for k in range(ndim) if broadcast and draw(st.booleans()) and draw(st.booleans()))
    pre_expand = tuple(1 if k in expanded else n for k, n in enumerate(shape))
    perm = tuple(draw(st.permutations(range(ndim)))) if ndim > 1 and draw(st.booleans()) else tuple(range(ndim))
    pre_perm = [0] * ndim
    for k, p in enumerate(perm):
        pre_perm[p] = pre_expand[k]
    step_choices = (1, 2, -1, 3, -2) if negative_steps else (1, 2, 3)
    stepped = ndim > 0 and draw(st.booleans())
    slices, base_shape = [], []
    for size in pre_perm:
        step = draw(st.sampled_from(step_choices)) if stepped else 1
        sl, length = _dim_slice(draw, size, step) if stepped else (slice(None), size)
        slices.append(sl)
        base_shape.append(length)
    offset_at = draw(st.sampled_from((None, 1, 2)))
    if offset_at is not None:
        base_shape.insert(0, offset_at + 1)

    rng = np.random.default_rng(draw(seeds))
    base = np.ascontiguousarray(random_values(rng, tuple(base_shape), dtype, ties=ties))
    steps: list[tuple[str, Any]] = []
    if offset_at is not None:
        steps.append(("index", offset_at))
    if stepped:
        steps.append(("slice", tuple(slices)))
    if perm != tuple(range(ndim)):
        steps.append(("permute", perm))
    if expanded:
        steps.append(("expand", shape))
    base_t = ht.from_numpy(base)
    return Pair(replay(base_t, steps), replay(base, steps), base, base_t, steps)


def replay(x: Any, steps: list[tuple[str, Any]]) -> Any:
    """Apply a view chain to a Hyperion tensor, a NumPy array or a PyTorch tensor."""
    is_numpy = isinstance(x, np.ndarray)
    for kind, arg in steps:
        if kind == "index":
            x = x[arg, ...] if is_numpy else x[arg]  # NumPy's x[k] of a 1-D array is a scalar, not a view
        elif kind == "slice":
            x = x[arg]
        elif kind == "permute":
            x = x.transpose(arg) if is_numpy else x.permute(arg)
        elif kind == "expand":
            x = np.broadcast_to(x, arg) if is_numpy else x.expand(arg)
        else:
            raise AssertionError(f"unknown view step {kind}")
    return x


def describe(steps: list[tuple[str, Any]]) -> str:
    """A view chain as text: ``[1] -> [0:3:2, ::-1] -> permute(1, 0)``."""
    parts = []
    for kind, arg in steps:
        if kind == "index":
            parts.append(f"[{arg}]")
        elif kind == "slice":
            text = (f"{'' if s.start is None else s.start}:{'' if s.stop is None else s.stop}:{s.step}" for s in arg)
            parts.append("[" + ", ".join(text) + "]")
        else:
            parts.append(f"{kind}{tuple(arg)}")
    return " -> ".join(parts) or "contiguous"


@st.composite
def broadcastable_pairs(
    draw: Any, num: int = 2, dtype: Any = None, *, max_dims: int = 4, max_side: int = 4, **kwargs: Any
) -> list[Pair]:
    """``num`` pairs whose shapes broadcast together (each of its own dtype unless ``dtype`` is given)."""
    shapes_ = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=num, min_dims=0, max_dims=max_dims, min_side=0, max_side=max_side)
    ).input_shapes
    return [draw(pairs(shape, dtypes if dtype is None else dtype, **kwargs)) for shape in shapes_]


def _prime_factors(n: int) -> list[int]:
    out, p = [], 2
    while p * p <= n:
        while n % p == 0:
            out.append(p)
            n //= p
        p += 1
    if n > 1:
        out.append(n)
    return out


@st.composite
def same_numel_shapes(draw: Any, numel: int, *, max_dims: int = 5) -> tuple[int, ...]:
    """A random shape with ``numel`` elements (size-1 dimensions sprinkled in; a 0 if ``numel`` is 0)."""
    if numel == 0:
        shape = draw(st.lists(st.integers(0, 4), min_size=1, max_size=max_dims))
        if 0 not in shape:
            shape[draw(st.integers(0, len(shape) - 1))] = 0
        return tuple(shape)
    factors = _prime_factors(numel)
    bins = draw(st.integers(1 if factors else 0, max(1, min(len(factors), max_dims))))
    dims = [1] * bins
    for f in factors:
        dims[draw(st.integers(0, bins - 1))] *= f
    ones = draw(st.integers(0, max(0, max_dims - bins)))
    for _ in range(ones):
        dims.insert(draw(st.integers(0, len(dims))), 1)
    return tuple(dims)


def to_torch(torch: Any, pair: Pair) -> Any:
    """The same view chain on a PyTorch tensor sharing ``pair.base`` (no negative steps allowed)."""
    return replay(torch.from_numpy(pair.base), pair.steps)
