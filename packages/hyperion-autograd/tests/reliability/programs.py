"""Random differentiable programs, run side by side in hyperion.autograd and in NumPy.

A program is a list of steps over a growing list of values; each step applies one op to values
chosen by index. The NumPy twin of every op is its definition; the gradient of the NumPy program
is taken by central finite differences, so the engine (un-broadcasting, accumulation over shared
inputs, views) is checked against nothing but arithmetic.

The ops are smooth where the inputs land (``exp`` of a ``tanh``, ``log1p`` of a square, division by
``1 + y²``), so a finite difference in float64 is accurate to ~1e-7.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import hyperion.autograd as ag


def _sigmoid(a: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-a))


# name -> (arity, autograd op, NumPy op)
OPS: dict[str, tuple[int, Callable[..., Any], Callable[..., Any]]] = {
    "add": (2, lambda a, b: a + b, np.add),
    "sub": (2, lambda a, b: a - b, np.subtract),
    "mul": (2, lambda a, b: a * b, np.multiply),
    "safe_div": (2, lambda a, b: a / (1 + b * b), lambda a, b: a / (1 + b * b)),
    "maximum": (2, ag.maximum, np.maximum),
    "tanh": (1, ag.tanh, np.tanh),
    "sigmoid": (1, ag.sigmoid, _sigmoid),
    "exp_tanh": (1, lambda a: a.tanh().exp(), lambda a: np.exp(np.tanh(a))),
    "log1p_square": (1, lambda a: (a * a).log1p(), lambda a: np.log1p(a * a)),
    "square": (1, ag.square, np.square),
    "sum_last_keepdim": (1, lambda a: a.sum(-1, keepdim=True), lambda a: a.sum(-1, keepdims=True)),
    "mean_first": (1, lambda a: a.mean(0), lambda a: a.mean(0)),
    "transpose": (1, lambda a: a.transpose(0, -1), lambda a: np.swapaxes(a, 0, -1)),
    "flip_reshape": (1, lambda a: a.reshape(-1), lambda a: a.reshape(-1)),
    "unsqueeze": (1, lambda a: a.unsqueeze(0), lambda a: a[None]),
}
NEEDS_DIMS = {"sum_last_keepdim": 1, "mean_first": 1, "transpose": 1}


@dataclass
class Program:
    """Inputs (NumPy arrays, possibly non-contiguous views) and steps ``(op, operand indices)``."""

    inputs: list[np.ndarray]
    steps: list[tuple[str, tuple[int, ...]]]

    def __repr__(self) -> str:
        layout = [f"{a.dtype}{a.shape}/strides{tuple(s // a.itemsize for s in a.strides)}" for a in self.inputs]
        return f"Program(inputs={layout}, steps={self.steps})"


def run_numpy(program: Program, inputs: list[np.ndarray]) -> np.ndarray | None:
    """The program's output in NumPy, or ``None`` if some step is invalid (shapes that do not broadcast)."""
    values = list(inputs)
    for name, args in program.steps:
        arity, _, np_op = OPS[name]
        operands = [values[i] for i in args]
        if any(v.ndim < NEEDS_DIMS.get(name, 0) or (name == "mean_first" and v.shape[0] == 0) for v in operands):
            return None
        try:
            values.append(np_op(*operands))
        except ValueError:
            return None
    return values[-1]


def run_autograd(program: Program, inputs: list[ag.Tensor]) -> ag.Tensor:
    """The program's output in hyperion.autograd."""
    values: list[Any] = list(inputs)
    for name, args in program.steps:
        values.append(OPS[name][1](*(values[i] for i in args)))
    return values[-1]


def finite_difference(program: Program, weights: np.ndarray, eps: float = 1e-6) -> list[np.ndarray]:
    """Central differences of ``sum(program(inputs) * weights)`` with respect to every input element."""
    base = [np.array(a, dtype=np.float64) for a in program.inputs]  # contiguous float64 copies
    grads = []
    for k, a in enumerate(base):
        g = np.zeros_like(a)
        for index in np.ndindex(a.shape):
            old = a[index]
            a[index] = old + eps
            up = float((run_numpy(program, base) * weights).sum())
            a[index] = old - eps
            down = float((run_numpy(program, base) * weights).sum())
            a[index] = old
            g[index] = (up - down) / (2 * eps)
        grads.append(g)
        base[k] = a
    return grads


def _layout(data: st.DataObject, a: np.ndarray) -> np.ndarray:
    """``a`` itself, or the same values in a non-contiguous view (stepped, reversed or transposed storage)."""
    kind = data.draw(st.sampled_from(["contiguous", "stepped", "reversed", "transposed"]))
    if kind == "stepped" and a.ndim:
        big = np.zeros(tuple(2 * n for n in a.shape), a.dtype)
        view = big[tuple(slice(None, None, 2) for _ in a.shape)]
        view[...] = a
        return view
    if kind == "reversed" and a.ndim:
        return np.flip(np.flip(a).copy())
    if kind == "transposed" and a.ndim > 1:
        return np.ascontiguousarray(a.T).T
    return a


@st.composite
def programs(draw: Any, max_steps: int = 5) -> Program:
    """A random program over 1–3 mutually broadcastable float64 inputs in random layouts."""
    num = draw(st.integers(1, 3))
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=num, min_dims=0, max_dims=3, min_side=1, max_side=3))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    data = draw(st.data())
    inputs = [_layout(data, rng.standard_normal(shape)) for shape in shapes.input_shapes]
    steps: list[tuple[str, tuple[int, ...]]] = []
    for _ in range(draw(st.integers(1, max_steps))):
        name = draw(st.sampled_from(sorted(OPS)))
        arity = OPS[name][0]
        count = num + len(steps)
        steps.append((name, tuple(draw(st.integers(0, count - 1)) for _ in range(arity))))
    return Program(inputs, steps)
