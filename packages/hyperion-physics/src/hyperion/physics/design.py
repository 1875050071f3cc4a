"""Inverse design: shape a dielectric region so that a pulse focuses on a target point.

The design variables ``θ`` map to ``ε = 1 + (ε_max − 1)·sigmoid(θ)`` in a square
region between a point source and a target; the objective is the power of the
DFT of ``Ez`` at the target at the pulse's centre frequency. Adam (from
hyperion-nn) maximises it with gradients from the adjoint TMz solver.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import hyperion.autograd as ag
from hyperion.nn.optim import Adam
from hyperion.physics.adjoint import TMzProblem, dft_amplitudes, simulate
from hyperion.physics.grid import Grid
from hyperion.physics.sources import ModulatedGaussian

__all__ = ["DesignResult", "run_design"]


@dataclass
class DesignResult:
    """History and final state of a design run."""

    history: list[float]
    eps: np.ndarray
    region: tuple[slice, slice]
    source: tuple[int, int]
    target: tuple[int, int]
    field: np.ndarray

    @property
    def improvement(self) -> float:
        """Final objective over the initial one."""
        return self.history[-1] / self.history[0]


def _problem(size: int, steps: int) -> TMzProblem:
    grid = Grid((size, size), pml_cells=8, dtype="float64")
    freq = 1.0 / (14 * grid.dt)
    wave = ModulatedGaussian(freq, 25 * grid.dt)
    samples = np.array([wave((n + 1) * grid.dt) for n in range(steps)])
    mid = size // 2
    return TMzProblem(grid, (12, mid), samples, ((size - 13, mid),), freq)


def run_design(
    iters: int = 40,
    size: int = 56,
    steps: int = 260,
    eps_max: float = 4.0,
    lr: float = 0.3,
    progress: Callable[[int, int, float], None] | None = None,
) -> DesignResult:
    """Optimise the design region with Adam; returns the objective history (normalised to the start)."""
    problem = _problem(size, steps)
    if size < 44:
        raise ValueError(f"the design grid needs at least 44 cells per side, got {size}")
    lo, hi = 17, size - 17
    region = (slice(lo, hi), slice(lo, hi))
    theta = ag.from_numpy(np.full((hi - lo, hi - lo), -2.0), requires_grad=True)
    opt = Adam([theta], lr=lr)
    amp = ag.from_numpy(np.array([1.0]))
    base = np.ones((size, size))
    mask_np = np.zeros((size, size))
    mask_np[region] = 1.0
    pad = ag.from_numpy(mask_np)
    history: list[float] = []
    scale = None

    def eps_of(t: Any) -> Any:
        full = ag.from_numpy(np.zeros((size, size)))
        inner = 1.0 + (eps_max - 1.0) * t.sigmoid()
        # Scatter the design values into the full map: ε = base + mask·(inner_padded − 1).
        padded = _pad(inner, lo, size)
        return full + ag.from_numpy(base) + pad * (padded - 1.0)

    for it in range(iters):
        opt.zero_grad()
        eps = eps_of(theta)
        acc = dft_amplitudes(problem, simulate(problem, eps, amp, checkpoint_every=0))
        power = (acc * acc).sum()
        if scale is None:
            scale = 1.0 / float(power.item())
        loss = power * (-scale)
        loss.backward()
        opt.step()
        history.append(float(power.item()) * scale)
        if progress is not None:
            progress(it + 1, iters, history[-1])
    with ag.no_grad():
        eps_final = eps_of(theta).numpy()
        acc = dft_amplitudes(problem, simulate(problem, ag.from_numpy(eps_final), amp, checkpoint_every=0))
        history.append(float((acc * acc).sum().item()) * scale)
    field = _final_field(problem, eps_final)
    return DesignResult(history, eps_final, region, problem.source, problem.targets[0], field)


def _pad(inner: Any, lo: int, size: int) -> Any:
    """Place an ``(m, m)`` autograd tensor at ``[lo:lo+m, lo:lo+m]`` of a ``(size, size)`` map, differentiably."""
    m = inner.shape[0]
    left = np.zeros((size, m))
    left[lo : lo + m, :] = np.eye(m)
    lt = ag.from_numpy(left)
    return lt @ inner @ lt.T


def _final_field(problem: TMzProblem, eps: np.ndarray) -> np.ndarray:
    """|DFT(Ez)| over the whole grid for the final design, for the figure."""
    from hyperion.physics.adjoint.tmz import forward_step

    ca, cb, _ = problem.coefficients(eps)
    state = problem.zero_state()
    grid = problem.grid
    dft = np.zeros(grid.shape[:2], dtype=complex)
    w = 2 * np.pi * problem.frequency
    for n in range(problem.steps):
        state = forward_step(problem, state, ca, cb, 1.0, n)
        dft += problem.view(state, "ez")[..., 0] * np.exp(-1j * w * (n + 1) * grid.dt)
    return np.abs(dft)
