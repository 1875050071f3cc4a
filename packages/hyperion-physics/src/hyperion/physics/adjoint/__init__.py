"""Differentiable 2-D TMz FDTD: the time step as an autograd Function with a hand-written adjoint."""

from hyperion.physics.adjoint.function import TMzRun, TMzSegment, TMzStep, dft_amplitudes, simulate
from hyperion.physics.adjoint.tmz import TMzProblem, adjoint_step, forward_step

__all__ = [
    "TMzProblem",
    "TMzRun",
    "TMzSegment",
    "TMzStep",
    "adjoint_step",
    "dft_amplitudes",
    "forward_step",
    "simulate",
]
