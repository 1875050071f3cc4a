"""Figure for the post "Newton's method vs gradient descent near a saddle".

The surface is ``f(x, y) = 5 x^2 + x^2 y^2 - y^2 / 4 + y^4 / 8``: a saddle at the origin
(Hessian diag(10, -1/2)) between two minima at (0, +-1) (f = -1/8, Hessian diag(12, 1)).
From the same start, three methods, each step computed with ``hyperion.autograd`` (``grad``
for the gradient, ``functional.hessian`` for the Hessian), in float64:

- gradient descent with step 0.15 (stable at the minima needs a step below 2/12);
- Newton's method, ``p - H^-1 grad f``;
- saddle-free Newton, ``p - V |L|^-1 V^T grad f`` with ``H = V L V^T`` and every ``|l|`` raised
  to at least 0.25, so that a direction of negative curvature is descended instead of climbed.

Left: contours, the three paths, and (shaded) the starting points from which plain Newton ends
on the saddle -- computed for a grid of starts with the closed-form gradient and Hessian,
which the script first checks against ``hessian``. Right: f along each path.
No randomness, no clock: every build is identical.

    python blog/figures/newton_vs_gradient_descent.py   # writes the PNG and prints the numbers the post quotes
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import hyperion.autograd as ag
from hyperion.autograd.functional import hessian

START = (0.4, 0.02)
LEARNING_RATE = 0.15
CURVATURE_FLOOR = 0.25
MAX_STEPS = 200
TOLERANCE = 1e-8  # stop when |grad f| falls below this
F_MIN = -0.125
COLORS = {"gradient descent": "C0", "Newton": "C3", "saddle-free Newton": "C2"}

Step = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


def f(p: ag.Tensor) -> ag.Tensor:
    x, y = p[0], p[1]
    return 5 * x**2 + x**2 * y**2 - y**2 / 4 + y**4 / 8


def gradient_and_hessian(p: np.ndarray, with_hessian: bool = True) -> tuple[float, np.ndarray, np.ndarray | None]:
    """``f``, its gradient and (unless told not to) its Hessian at ``p``, all from hyperion.autograd."""
    t = ag.tensor(p, dtype="float64", requires_grad=True)
    value = f(t)
    (g,) = ag.grad(value, t)
    H = hessian(f, ag.tensor(p, dtype="float64")).numpy() if with_hessian else None
    return value.item(), g.numpy(), H


def gradient_descent(p: np.ndarray, g: np.ndarray, H: np.ndarray) -> np.ndarray:
    return p - LEARNING_RATE * g


def newton(p: np.ndarray, g: np.ndarray, H: np.ndarray) -> np.ndarray:
    return p - np.linalg.solve(H, g)


def saddle_free_newton(p: np.ndarray, g: np.ndarray, H: np.ndarray) -> np.ndarray:
    curvatures, directions = np.linalg.eigh(H)
    scale = np.maximum(np.abs(curvatures), CURVATURE_FLOOR)
    return p - directions @ ((directions.T @ g) / scale)


METHODS: dict[str, Step] = {
    "gradient descent": gradient_descent,
    "Newton": newton,
    "saddle-free Newton": saddle_free_newton,
}


def run(step: Step, start: tuple[float, float] = START) -> tuple[np.ndarray, np.ndarray]:
    """The points visited and f at each, until the gradient vanishes (or ``MAX_STEPS``)."""
    points, values = [np.array(start, dtype=np.float64)], []
    for _ in range(MAX_STEPS + 1):
        value, g, H = gradient_and_hessian(points[-1], with_hessian=step is not gradient_descent)
        values.append(value)
        if np.linalg.norm(g) < TOLERANCE or len(points) > MAX_STEPS:
            break
        points.append(step(points[-1], g, H))
    return np.array(points), np.array(values)


def closed_form(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    """f, gradient and Hessian entries in closed form (vectorised over a grid of points)."""
    value = 5 * x**2 + x**2 * y**2 - y**2 / 4 + y**4 / 8
    gx, gy = 10 * x + 2 * x * y**2, 2 * x**2 * y - y / 2 + y**3 / 2
    hxx, hxy, hyy = 10 + 2 * y**2, 4 * x * y, 2 * x**2 - 0.5 + 1.5 * y**2
    return value, gx, gy, hxx, hxy, hyy


def newton_basin_of_the_saddle(xs: np.ndarray, ys: np.ndarray, steps: int = 60) -> np.ndarray:
    """True where plain Newton started at (x, y) ends at the saddle (0, 0)."""
    for p in ((0.3, -0.7), (-0.1, 0.05), (0.4, 0.02)):  # the closed form is the function hessian() differentiates
        _, g, H = gradient_and_hessian(np.array(p))
        _, gx, gy, hxx, hxy, hyy = closed_form(np.array(p[0]), np.array(p[1]))
        assert np.allclose(g, [gx, gy]) and np.allclose(H, [[hxx, hxy], [hxy, hyy]])
    x, y = np.meshgrid(xs, ys)
    with np.errstate(all="ignore"):  # singular Hessians send a few starts to infinity: they are not in the basin
        for _ in range(steps):
            _, gx, gy, hxx, hxy, hyy = closed_form(x, y)
            det = hxx * hyy - hxy**2
            x, y = x - (hyy * gx - hxy * gy) / det, y - (hxx * gy - hxy * gx) / det
        return np.hypot(x, y) < 1e-6


def paths() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Points and values of f along the path of each method."""
    return {name: run(step) for name, step in METHODS.items()}


def build() -> Figure:
    trajectories = paths()
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})
    xs, ys = np.linspace(-0.6, 0.6, 241), np.linspace(-1.4, 1.4, 281)
    gx, gy = np.meshgrid(xs, ys)
    left.contour(gx, gy, closed_form(gx, gy)[0], levels=np.linspace(-0.12, 1.2, 23), colors="0.6", linewidths=0.6)
    basin = newton_basin_of_the_saddle(xs, ys)
    left.contourf(gx, gy, basin.astype(float), levels=[0.5, 1.5], colors=["#f4cccc"])
    left.plot([0], [0], marker="x", color="black", markersize=9, linestyle="none")
    left.annotate("saddle", (0, 0), xytext=(-0.35, -0.25), fontsize=9, arrowprops={"arrowstyle": "-", "color": "0.4"})
    left.plot([0, 0], [-1, 1], marker="*", color="black", markersize=10, linestyle="none")
    left.text(0.04, 1.02, "minimum", fontsize=9)
    for name, (points, _) in trajectories.items():
        left.plot(points[:, 0], points[:, 1], "o-", color=COLORS[name], markersize=3, linewidth=1.2, label=name)
    left.plot(*START, marker="s", color="black", markersize=6, linestyle="none", label=f"start {START}")
    left.set_xlabel("x")
    left.set_ylabel("y")
    left.set_title("Paths from one start; shaded: where Newton converges to the saddle", fontsize=10)
    left.legend(fontsize=8, loc="lower left")
    left.set_xlim(xs[0], xs[-1])
    left.set_ylim(ys[0], ys[-1])

    for name, (_, values) in trajectories.items():
        right.plot(np.arange(len(values)), values, "o-", color=COLORS[name], markersize=2.5, linewidth=1.2, label=name)
    right.axhline(0.0, color="0.5", linestyle="--", linewidth=1)
    right.text(80, 0.003, "f at the saddle = 0", fontsize=8, color="0.4", ha="right", va="bottom")
    right.axhline(F_MIN, color="0.5", linestyle=":", linewidth=1)
    right.text(12, F_MIN + 0.003, "f at the minima = −1/8", fontsize=8, color="0.4", ha="left", va="bottom")
    right.set_xlim(-1, 80)
    right.set_ylim(-0.14, 0.1)
    right.set_xlabel("iteration")
    right.set_ylabel("f")
    right.set_title("f along the paths", fontsize=10)
    right.legend(fontsize=8, loc="upper right")
    return fig


def summary() -> str:
    lines = []
    trajectories = paths()
    for name, (points, values) in trajectories.items():
        below = np.flatnonzero(values < 0.99 * F_MIN)
        lines.append(
            f"{name:<19} {len(points) - 1:>4} steps, ends at ({points[-1][0]:+.6f}, {points[-1][1]:+.6f}), "
            f"f = {values[-1] if abs(values[-1]) > 1e-12 else 0.0:+.6f}, first within 1% of the minimum at step "
            + (str(below[0]) if below.size else "never")
        )
    values = trajectories["gradient descent"][1]
    plateau = np.flatnonzero(np.abs(values) < 0.005)  # within 4% of the way from the saddle to the minima
    lines.append(f"gradient descent: |f| < 0.005 at {plateau.size} steps, from step {plateau[0]} to step {plateau[-1]}")
    xs, ys = np.linspace(-0.6, 0.6, 241), np.linspace(-1.4, 1.4, 281)
    lines.append(
        f"Newton ends on the saddle from {newton_basin_of_the_saddle(xs, ys).mean():.1%} of the plotted starts"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.family": "DejaVu Sans"})
    print(summary())
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
