"""The TMz time step as hyperion-autograd ``Function``s, with checkpointed segments.

* :class:`TMzStep` is one step: ``state' = step(state, ε, amp)``; its backward
  is :func:`~hyperion.physics.adjoint.tmz.adjoint_step` — the adjoint of a time
  step is a time step, run backwards.
* :class:`TMzSegment` is ``k`` steps in one node. Forward keeps nothing but
  its input state; backward recomputes the ``k`` states of the segment (and its output), then
  runs the ``k`` adjoint steps. A run of ``N`` steps in segments of ``k`` holds
  ``N/k`` states in the graph and ``k`` more while one segment is
  differentiated: ``k ≈ √N`` gives ``O(√N)`` memory for one extra forward pass.

The gradients returned by these backwards are not themselves differentiable
(double backward through the solver is not supported).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import hyperion.autograd as ag
from hyperion.autograd import Function
from hyperion.physics.adjoint.tmz import TMzProblem, adjoint_step, forward_step

__all__ = ["TMzSegment", "TMzStep", "dft_amplitudes", "eps_gradient", "simulate"]


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


class TMzSegment(Function):
    """``count`` TMz steps from step ``n0`` in one node, recomputed in backward (checkpointing)."""

    @staticmethod
    def forward(ctx: Any, state: Any, eps: Any, amp: Any, problem: TMzProblem, n0: int, count: int) -> Any:
        ca, cb, _ = _coefficients(problem, eps)
        ctx.save_for_backward(state, eps, amp)
        ctx.problem, ctx.n0, ctx.count = problem, n0, count
        s = _np(state)
        a = float(_np(amp).reshape(-1)[0])
        for n in range(n0, n0 + count):
            s = forward_step(problem, s, ca, cb, a, n)
        return ag.from_numpy(s).data

    @staticmethod
    def backward(ctx: Any, grad_out: Any) -> Any:
        state, eps, amp = ctx.saved_tensors
        problem, n0, count = ctx.problem, ctx.n0, ctx.count
        ca, cb, dca = _coefficients(problem, eps.data)
        a = float(_np(amp.data).reshape(-1)[0])
        states = [_np(state.data)]
        for n in range(n0, n0 + count):
            states.append(forward_step(problem, states[-1], ca, cb, a, n))
        g = _np(grad_out.data)
        g_ca_total = np.zeros_like(ca)
        g_cb_total = np.zeros_like(cb)
        g_amp = 0.0
        for k in range(count - 1, -1, -1):
            g, g_ca, g_cb, ga = adjoint_step(problem, states[k], states[k + 1], g, ca, cb, a, n0 + k)
            states[k + 1] = None  # type: ignore[call-overload]
            g_ca_total += g_ca
            g_cb_total += g_cb
            g_amp += ga
        g_eps = eps_gradient(problem, g_ca_total, g_cb_total, ca, cb, dca)
        amp_np = _np(amp.data)
        return (
            ag.from_numpy(g),
            ag.from_numpy(g_eps.astype(_np(eps.data).dtype)),
            ag.from_numpy(np.asarray(g_amp, dtype=amp_np.dtype).reshape(amp_np.shape)),
            None,
            None,
            None,
        )


def simulate(problem: TMzProblem, eps: Any, amp: Any, checkpoint_every: int | None = None) -> Any:
    """Run ``problem.steps`` steps differentiably; return the final state (an autograd tensor).

    Args:
        problem: the run's geometry, source, targets.
        eps: relative permittivity map ``(nx, ny)`` (an autograd tensor, may require grad).
        amp: source amplitude (a 1-element autograd tensor, may require grad).
        checkpoint_every: steps per checkpointed segment; ``None`` records every step
            as its own node (memory grows with the number of steps), ``0`` picks ``√N``.

    The DFT of Ez at the targets is ``problem.view(state, "acc")``: read it from the
    result with :func:`dft_amplitudes`.
    """
    state = ag.from_numpy(problem.zero_state())
    steps = problem.steps
    if checkpoint_every is None:
        for n in range(steps):
            state = TMzStep.apply(state, eps, amp, problem, n)
        return state
    k = checkpoint_every or max(1, int(math.isqrt(steps)))
    if k < 1:
        raise ValueError(f"checkpoint_every must be >= 1, 0 or None, got {checkpoint_every!r}")
    for n0 in range(0, steps, k):
        state = TMzSegment.apply(state, eps, amp, problem, n0, min(k, steps - n0))
    return state


def dft_amplitudes(problem: TMzProblem, state: Any) -> Any:
    """The ``(targets, 2)`` real/imaginary DFT accumulators of a final state, differentiably."""
    offset, shape = problem.layout["acc"]
    return state[offset : offset + shape[0] * shape[1]].reshape(shape)
