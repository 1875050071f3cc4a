"""Adjoint gradients vs central finite differences, and checkpointing memory vs steps."""

from __future__ import annotations

import tracemalloc

import numpy as np

import hyperion.autograd as ag
from hyperion.physics.adjoint import TMzProblem, dft_amplitudes, simulate
from hyperion.physics.grid import Grid
from hyperion.physics.sources import ModulatedGaussian

__all__ = ["gradient_check", "make_problem", "peak_memory"]


def make_problem(steps: int, shape: tuple[int, int] = (30, 28), pml_cells: int = 6) -> TMzProblem:
    """A float64 TMz run with CPML: a modulated pulse from one cell, the DFT of Ez at another."""
    grid = Grid(shape, pml_cells=pml_cells, dtype="float64")
    freq = 1.0 / (15 * grid.dt)
    wave = ModulatedGaussian(freq, 20 * grid.dt)
    samples = np.array([wave((n + 1) * grid.dt) for n in range(steps)])
    return TMzProblem(
        grid, (shape[0] // 3, shape[1] // 2 - 2), samples, ((2 * shape[0] // 3, shape[1] // 2 + 1),), freq
    )


def _objective(problem: TMzProblem, eps: ag.Tensor, amp: ag.Tensor, checkpoint_every: int | None) -> ag.Tensor:
    acc = dft_amplitudes(problem, simulate(problem, eps, amp, checkpoint_every))
    return (acc * acc).sum()


def gradient_check(
    steps: int = 500, cells: int = 4, h: float = 1e-5, seed: int = 0, checkpoint_every: int | None = 0
) -> dict[str, float]:
    """Largest relative difference between adjoint and central-difference gradients.

    The objective is ``|DFT(Ez)(target)|²``; the gradient is taken w.r.t. ε at
    ``cells`` random cells of a random ε map, and w.r.t. the source amplitude.
    """
    problem = make_problem(steps)
    rng = np.random.default_rng(seed)
    eps0 = 1.0 + rng.uniform(0.0, 2.0, problem.grid.shape[:2])
    eps = ag.from_numpy(eps0.copy(), requires_grad=True)
    amp = ag.from_numpy(np.array([1.3]), requires_grad=True)
    _objective(problem, eps, amp, checkpoint_every).backward()
    g_eps, g_amp = eps.grad.numpy(), float(amp.grad.numpy()[0])
    worst = 0.0
    nx, ny = problem.grid.shape[:2]
    picks = [(int(rng.integers(1, nx - 1)), int(rng.integers(1, ny - 1))) for _ in range(cells)]
    with ag.no_grad():

        def value(e: np.ndarray, a: float) -> float:
            return float(_objective(problem, ag.from_numpy(e), ag.from_numpy(np.array([a])), checkpoint_every).item())

        for cell in picks:
            up, down = eps0.copy(), eps0.copy()
            up[cell] += h
            down[cell] -= h
            fd = (value(up, 1.3) - value(down, 1.3)) / (2 * h)
            worst = max(worst, abs(g_eps[cell] - fd) / abs(fd))
        fd_amp = (value(eps0, 1.3 + 1e-3) - value(eps0, 1.3 - 1e-3)) / 2e-3
        worst_amp = abs(g_amp - fd_amp) / abs(fd_amp)
    return {"grad_rel_err": worst, "amp_rel_err": worst_amp, "steps": steps}


def peak_memory(
    steps_list: tuple[int, ...] = (100, 400, 1600), shape: tuple[int, int] = (40, 40)
) -> list[dict[str, float]]:
    """Peak traced memory (MB) of forward+backward, every step stored vs √N checkpointing."""
    rows = []
    for steps in steps_list:
        problem = make_problem(steps, shape)
        row: dict[str, float] = {"steps": steps}
        for label, every in (("all_steps_mb", None), ("checkpointed_mb", 0)):
            eps = ag.from_numpy(np.ones(shape), requires_grad=True)
            amp = ag.from_numpy(np.array([1.0]), requires_grad=True)
            tracemalloc.start()
            _objective(problem, eps, amp, every).backward()
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            row[label] = peak / 1e6
        rows.append(row)
    return rows
