"""The TMz time step as hyperion-autograd ``Function``s, with checkpointed segments.

* :class:`TMzStep` is one step: ``state' = step(state, ε, amp)``; its backward
  is :func:`~hyperion.physics.adjoint.tmz.adjoint_step` — the adjoint of a time
  step is a time step, run backwards.
* :class:`TMzSegment` is ``k`` steps in one node. Forward keeps nothing but
  its input state; backward recomputes the segment's ``Ez`` fields, then
  runs the ``k`` adjoint steps. A run of ``N`` steps in segments of ``k`` holds
  ``N/k`` states in the graph and ``k`` ``Ez`` fields while one segment is
  differentiated: ``k ≈ √N`` gives ``O(√N)`` memory for one extra forward pass
  (less one segment: :func:`simulate` runs the last one as a :class:`TMzRun`).
* :class:`TMzRun` is ``N`` steps in one node that keeps the ``Ez`` field of
  every step: no recomputation, ``O(N)`` memory.

Both step one buffer in place and run the adjoint in place on one gradient
buffer (:mod:`hyperion.physics.adjoint.kernel`); the ε gradient is summed from
the adjoint fields and the ``Ez`` history in blocks of steps.

The gradients returned by these backwards are not themselves differentiable
(double backward through the solver is not supported).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import as_strided

import hyperion.autograd as ag
from hyperion.autograd import Function
from hyperion.physics.adjoint.kernel import kernel_for
from hyperion.physics.adjoint.tmz import TMzProblem, adjoint_step, forward_step

__all__ = ["TMzRun", "TMzSegment", "TMzStep", "dft_amplitudes", "eps_gradient", "simulate"]

# Steps whose adjoint fields are summed against the Ez history in one vectorised product.
_BLOCK = 32


def _np(raw: Any) -> np.ndarray:
    return raw.numpy() if hasattr(raw, "numpy") else np.asarray(raw)


def _coefficients(problem: TMzProblem, eps: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    # One ε map serves every step of a run: remember the coefficients of the last map seen
    # (keyed by the raw tensor's identity and a checksum of its values, so an edited map is recomputed).
    eps_np = _np(eps)
    key = (id(eps), eps_np.shape, float(eps_np.sum()), float(eps_np.ravel()[::7].sum()))
    cached = getattr(problem, "_coefficient_cache", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    eps_np = eps_np.astype(np.float64)
    if eps_np.shape != problem.grid.shape[:2]:
        raise ValueError(f"eps map has shape {eps_np.shape}; the grid is {problem.grid.shape[:2]}")
    if np.min(eps_np) <= 0:
        raise ValueError(f"eps must be positive; its minimum is {np.min(eps_np)!r}")
    coefficients = problem.coefficients(eps_np)
    object.__setattr__(problem, "_coefficient_cache", (key, coefficients))
    return coefficients


def eps_gradient(
    problem: TMzProblem, g_ca: np.ndarray, g_cb: np.ndarray, ca: np.ndarray, cb: np.ndarray, dca: np.ndarray
) -> np.ndarray:
    """Chain ``∂L/∂ca`` and ``∂L/∂cb`` to ``∂L/∂ε`` (``∂cb/∂ε = −cb²/S``)."""
    s = float(problem.grid.courant)
    return (g_ca * dca - g_cb * cb * cb / s)[..., 0]


class TMzStep(Function):
    """One TMz step: ``(state, eps, amp, problem, n) -> state'``."""

    @staticmethod
    def forward(ctx: Any, state: Any, eps: Any, amp: Any, problem: TMzProblem, n: int) -> Any:
        ca, cb, _ = _coefficients(problem, eps)
        ctx.problem, ctx.n = problem, n
        out = ag.from_numpy(forward_step(problem, _np(state), ca, cb, float(_np(amp).reshape(-1)[0]), n)).data
        ctx.save_for_backward(state, eps, amp, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        state, eps, amp, out = ctx.saved_tensors
        problem = ctx.problem
        ca, cb, dca = _coefficients(problem, eps.data)
        g_state, g_ca, g_cb, g_amp = adjoint_step(
            problem,
            _np(state.data),
            _np(out.data),
            _np(grad_out.data),
            ca,
            cb,
            float(_np(amp.data).reshape(-1)[0]),
            ctx.n,
        )
        g_eps = eps_gradient(problem, g_ca, g_cb, ca, cb, dca)
        return (
            ag.from_numpy(g_state),
            ag.from_numpy(g_eps.astype(_np(eps.data).dtype)),
            ag.from_numpy(np.asarray(g_amp, dtype=_np(amp.data).dtype).reshape(_np(amp.data).shape)),
            None,
            None,
        )


def _forward_run(
    problem: TMzProblem,
    state: np.ndarray,
    ca: np.ndarray,
    cb: np.ndarray,
    amp: float,
    n0: int,
    count: int,
    history: np.ndarray | None = None,
    dft: bool = True,
    scratch: bool = False,
) -> np.ndarray:
    """``count`` steps from step ``n0`` on a copy of ``state``; ``history[j]`` gets ``Ez`` before step ``n0 + j``.

    ``dft=False`` skips the DFT accumulators and ``scratch=True`` steps in the kernel's reusable
    state buffer (a recomputation that keeps only the history; the result is then that buffer).
    """
    kernel = kernel_for(problem)
    if scratch:
        out = kernel.state_buffer()
        np.copyto(out, state)
    else:
        out = np.array(state, dtype=kernel.dtype, copy=True)
    kernel.run(kernel.bind(out), ca[..., 0], cb[..., 0], amp, n0, count, history, dft)
    return out


def _backward_run(
    problem: TMzProblem,
    history: np.ndarray,
    grad_out: np.ndarray,
    coefficients: tuple[np.ndarray, np.ndarray, np.ndarray],
    amp: float,
    n0: int,
) -> tuple[np.ndarray, np.ndarray, float]:
    """The adjoint of steps ``n0 … n0 + len(history) − 2`` given their ``Ez`` history.

    Returns:
        ``(∂L/∂state, ∂L/∂ε, ∂L/∂amp)``.
    """
    kernel = kernel_for(problem)
    ca, cb, dca = (c[..., 0] for c in coefficients)
    neg_cb = -cb
    if kernel.blockwise:
        # Zeroing the E gradient on the PEC walls every step is the same as zeroing ca and cb there
        # once: nothing then flows out of a wall cell (its P and Q are zeroed at the end).
        ca, cb, neg_cb = (c.copy() for c in (ca, cb, neg_cb))
        for c in (ca, cb, neg_cb):
            kernel.zero_walls(c)
    g = np.array(grad_out, dtype=kernel.dtype, copy=True)
    bound = kernel.bind(g)
    count = history.shape[0] - 1
    # The Ez gradient of step j lives in slot j − lo + 1 of a stack; step j writes step j − 1's into the slot below.
    stack = kernel.stack("adjoint", min(count, _BLOCK) + 1)
    p_sum = np.zeros(ca.size, dtype=g.dtype)  # Σ g·Ezⁿ   = ∂L/∂ca
    q_sum = np.zeros(ca.size, dtype=g.dtype)  # Σ g·Ezⁿ⁺¹
    g_amp = at_source = 0.0
    # The DFT rows add gacc·(cos, sin)ₙ at the targets: the same gacc every step, so all at once.
    inject = (kernel.weights[n0 : n0 + count] @ bound.acc.T).tolist() if kernel.blockwise else None
    targets, src = list(enumerate(kernel.target_list)), kernel.source_index
    carry = bound.ez
    hi = count
    while hi > 0:
        lo = max(0, hi - _BLOCK)
        np.copyto(stack[hi - lo], carry)
        for j in range(hi - 1, lo - 1, -1):
            g_e = stack[j - lo + 1]
            if inject is None:
                ga, sa = kernel.adjoint(bound, g_e, stack[j - lo], ca, cb, neg_cb, n0 + j)
                g_amp += ga
                at_source += sa
                continue
            flat, row = g_e.reshape(-1), inject[j]
            for t, i in targets:
                flat[i] += row[t]
            kernel.adjoint_fields(bound, g_e, stack[j - lo], ca, cb, neg_cb)
        m = hi - lo
        used = stack[1 : m + 1].reshape(m, -1)  # flat cells: einsum then runs one contiguous loop per step
        if inject is not None:
            # The source cell is off the walls: ∂L/∂amp and the source term of Q are the same sum.
            part = float(used[:, src] @ kernel.wave[n0 + lo : n0 + hi])
            g_amp += part
            at_source += part
        # (Ezⁿ, Ezⁿ⁺¹) pairs as one strided view: P and Q in one pass over the adjoint fields.
        cells = history[lo : hi + 1].reshape(m + 1, -1)
        step = cells.strides[0]
        pairs = as_strided(cells, shape=(m, 2, cells.shape[1]), strides=(step, step, cells.strides[1]), writeable=False)
        both = np.einsum("kp,ktp->tp", used, pairs)
        p_sum += both[0]
        q_sum += both[1]
        carry = stack[0]
        hi = lo
    np.copyto(bound.ez, carry)
    p_sum, q_sum = p_sum.reshape(ca.shape), q_sum.reshape(ca.shape)
    kernel.zero_walls(p_sum)
    kernel.zero_walls(q_sum)
    # ∂L/∂cb = Σ g·curl = (Q − ca·P − amp·Σ g_src·w)/cb, then ∂L/∂ε = ∂L/∂ca·∂ca/∂ε − ∂L/∂cb·cb²/S.
    cb_term = q_sum - ca * p_sum
    sx, sy = problem.source
    cb_term[sx, sy] -= amp * at_source
    g_eps = p_sum * dca - cb * cb_term / float(problem.grid.courant)
    return g, g_eps, g_amp


def _gradients(g: np.ndarray, g_eps: np.ndarray, g_amp: float, eps: Any, amp: Any) -> tuple[Any, Any, Any]:
    amp_np = _np(amp.data)
    return (
        ag.from_numpy(g),
        ag.from_numpy(g_eps.astype(_np(eps.data).dtype)),
        ag.from_numpy(np.asarray(g_amp, dtype=amp_np.dtype).reshape(amp_np.shape)),
    )


class TMzSegment(Function):
    """``count`` TMz steps from step ``n0`` in one node, recomputed in backward (checkpointing)."""

    @staticmethod
    def forward(ctx: Any, state: Any, eps: Any, amp: Any, problem: TMzProblem, n0: int, count: int) -> Any:
        ca, cb, _ = _coefficients(problem, eps)
        ctx.save_for_backward(state, eps, amp)
        ctx.problem, ctx.n0, ctx.count = problem, n0, count
        out = _forward_run(problem, _np(state), ca, cb, float(_np(amp).reshape(-1)[0]), n0, count)
        return ag.from_numpy(out).data

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        state, eps, amp = ctx.saved_tensors
        problem, n0, count = ctx.problem, ctx.n0, ctx.count
        coefficients = _coefficients(problem, eps.data)
        a = float(_np(amp.data).reshape(-1)[0])
        history = kernel_for(problem).stack("history", count + 1)  # reused by every segment's backward
        _forward_run(
            problem, _np(state.data), coefficients[0], coefficients[1], a, n0, count, history, dft=False, scratch=True
        )
        g, g_eps, g_amp = _backward_run(problem, history, _np(grad_out.data), coefficients, a, n0)
        return (*_gradients(g, g_eps, g_amp, eps, amp), None, None, None)


class TMzRun(Function):
    """``count`` TMz steps from step ``n0`` in one node that keeps the ``Ez`` of every step.

    Nothing is recomputed in backward; memory is one ``(nx, ny)`` field per step.
    """

    @staticmethod
    def forward(ctx: Any, state: Any, eps: Any, amp: Any, problem: TMzProblem, n0: int, count: int) -> Any:
        ca, cb, _ = _coefficients(problem, eps)
        ctx.save_for_backward(eps, amp)
        ctx.problem, ctx.n0 = problem, n0
        history = None
        if any(ctx.needs_input_grad):
            history = np.empty((count + 1, *problem.grid.shape[:2]), dtype=problem.grid.np_dtype)
        ctx.history = history
        out = _forward_run(problem, _np(state), ca, cb, float(_np(amp).reshape(-1)[0]), n0, count, history)
        return ag.from_numpy(out).data

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        eps, amp = ctx.saved_tensors
        problem = ctx.problem
        coefficients = _coefficients(problem, eps.data)
        a = float(_np(amp.data).reshape(-1)[0])
        g, g_eps, g_amp = _backward_run(problem, ctx.history, _np(grad_out.data), coefficients, a, ctx.n0)
        ctx.history = None
        return (*_gradients(g, g_eps, g_amp, eps, amp), None, None, None)


def simulate(problem: TMzProblem, eps: Any, amp: Any, checkpoint_every: int | None = None) -> Any:
    """Run ``problem.steps`` steps differentiably; return the final state (an autograd tensor).

    Args:
        problem: the run's geometry, source, targets.
        eps: relative permittivity map ``(nx, ny)`` (an autograd tensor, may require grad).
        amp: source amplitude (a 1-element autograd tensor, may require grad).
        checkpoint_every: steps per checkpointed segment; ``None`` runs every step in one
            node that keeps the ``Ez`` field of each step (memory grows with the number of
            steps, nothing is recomputed), ``0`` picks ``√N``.

    The DFT of Ez at the targets is ``problem.view(state, "acc")``: read it from the
    result with :func:`dft_amplitudes`.
    """
    state = ag.from_numpy(problem.zero_state())
    steps = problem.steps
    if checkpoint_every is None:
        return TMzRun.apply(state, eps, amp, problem, 0, steps)
    k = checkpoint_every or max(1, int(math.isqrt(steps)))
    if k < 1:
        raise ValueError(f"checkpoint_every must be >= 1, 0 or None, got {checkpoint_every!r}")
    # The last segment keeps its Ez history (k fields, what differentiating any segment holds anyway),
    # so its backward has nothing to recompute.
    if steps == 0:
        return state
    last = ((steps - 1) // k) * k
    for n0 in range(0, last, k):
        state = TMzSegment.apply(state, eps, amp, problem, n0, k)
    return TMzRun.apply(state, eps, amp, problem, last, steps - last)


def dft_amplitudes(problem: TMzProblem, state: Any) -> Any:
    """The ``(targets, 2)`` real/imaginary DFT accumulators of a final state, differentiably."""
    offset, shape = problem.layout["acc"]
    return state[offset : offset + shape[0] * shape[1]].reshape(shape)
