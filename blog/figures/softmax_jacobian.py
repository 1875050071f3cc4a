"""Figure for the post "The softmax Jacobian": J = diag(s) - s s^T, and what temperature does to it.

For fixed logits ``z`` (6 classes), ``s = softmax(z / T)``. The Jacobian of ``s`` with respect
to the scaled logits ``z / T`` is ``J = diag(s) - s s^T``. Every matrix and eigenvalue drawn here
is computed by ``hyperion.autograd.functional.jacobian`` (one backward pass per row), after a
check against the closed form.

- Three heatmaps: ``J`` at T = 0.5, 1 and 4, on one symmetric colour scale. At low temperature
  the softmax is nearly one-hot and ``J`` nearly vanishes (a saturated softmax passes almost no
  gradient); at high temperature ``s`` nears uniform and ``J`` nears ``(I - 11^T/n) / n``.
- Right: the six eigenvalues of ``J`` against the temperature. One is always 0 (eigenvector
  ``1``: adding a constant to every logit changes nothing); the others lie between the sorted
  probabilities (interlacing), never above 1/2, and all tend to ``1/n`` as T grows.

No randomness, no clock: every build is identical.

    python blog/figures/softmax_jacobian.py    # writes softmax_jacobian.png and prints the numbers the post quotes
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import hyperion.autograd as ag
from hyperion.autograd.functional import jacobian

LOGITS = (2.0, 1.0, 0.5, 0.0, -1.0, -2.0)
HEATMAP_TEMPERATURES = (0.5, 1.0, 4.0)
SWEEP_TEMPERATURES = np.geomspace(0.1, 100.0, 31)


def softmax(z: ag.Tensor) -> ag.Tensor:
    """Softmax over the last axis, composed from differentiable ops: ``exp(z - logsumexp(z))``."""
    return (z - z.logsumexp(dim=-1, keepdim=True)).exp()


def probabilities(temperature: float) -> np.ndarray:
    return softmax(ag.tensor(np.array(LOGITS) / temperature)).numpy()


def softmax_jacobian(temperature: float) -> np.ndarray:
    """``d softmax(u) / du`` at ``u = z / T``, by reverse mode; checked against ``diag(s) - s s^T``."""
    u = ag.tensor(np.array(LOGITS) / temperature)
    J = jacobian(softmax, u).numpy()
    s = softmax(u).numpy()
    assert np.allclose(J, np.diag(s) - np.outer(s, s), rtol=1e-12, atol=1e-15)
    return J


def eigenvalues(temperatures: np.ndarray) -> np.ndarray:
    """Ascending eigenvalues of the Jacobian at each temperature, shape ``(len(temperatures), n)``."""
    return np.array([np.linalg.eigvalsh(softmax_jacobian(t)) for t in temperatures])


def build() -> Figure:
    fig = Figure(figsize=(12.5, 3.6), layout="constrained")
    axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [1, 1, 1, 1.35]})
    jacobians = [softmax_jacobian(t) for t in HEATMAP_TEMPERATURES]
    limit = max(np.abs(J).max() for J in jacobians)
    n = len(LOGITS)
    for ax, t, J in zip(axes[:3], HEATMAP_TEMPERATURES, jacobians, strict=True):
        image = ax.imshow(J, cmap="RdBu_r", vmin=-limit, vmax=limit)
        ax.set_title(f"T = {t:g}: s = " + " ".join(f"{p:.2f}" for p in probabilities(t)[:3]) + " …", fontsize=9)
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
        ax.set_xlabel("j (logit)")
        ax.set_ylabel("i (probability)")
        for (i, j), v in np.ndenumerate(J):
            if abs(v) >= 0.005:
                color = "white" if abs(v) > 0.6 * limit else "black"
                text = f"{v:.2f}".replace("0.", ".").replace("-.", "−.")
                ax.text(j, i, text, ha="center", va="center", fontsize=6, color=color)
    fig.colorbar(image, ax=axes[:3], shrink=0.85, label="∂s_i / ∂u_j")

    right = axes[3]
    values = eigenvalues(SWEEP_TEMPERATURES)
    for k in range(n):
        right.semilogx(SWEEP_TEMPERATURES, values[:, k], color=f"C{k}", linewidth=1.5)
    right.axhline(0.5, color="0.4", linestyle="--", linewidth=1)
    right.text(SWEEP_TEMPERATURES[0], 0.47, "bound 1/2", fontsize=8, color="0.4", va="top")
    right.axhline(1 / n, color="0.4", linestyle=":", linewidth=1)
    right.text(SWEEP_TEMPERATURES[-1], 1 / n + 0.01, "1/n", fontsize=8, color="0.4", ha="right", va="bottom")
    for t in HEATMAP_TEMPERATURES:
        right.axvline(t, color="0.85", linewidth=1, zorder=0)
    right.set_xlabel("temperature T")
    right.set_ylabel("eigenvalues of diag(s) − s sᵀ")
    right.set_title("One eigenvalue is always 0; none exceeds 1/2", fontsize=9)
    right.set_ylim(-0.02, 0.55)
    return fig


def summary() -> str:
    lines = []
    for t in HEATMAP_TEMPERATURES:
        s = probabilities(t)
        values = np.abs(np.linalg.eigvalsh(softmax_jacobian(t))) + 0.0  # the null eigenvalue prints as 0.0
        lines.append(
            f"T={t:g}: s = {np.round(s, 3).tolist()}\n"
            f"       eigenvalues = {np.round(values, 4).tolist()}, trace = {values.sum():.4f} "
            f"(1 - |s|^2 = {1 - s @ s:.4f}), largest |J_ij| = {np.abs(softmax_jacobian(t)).max():.4f}"
        )
    values = eigenvalues(SWEEP_TEMPERATURES)
    lines.append(
        f"over T in [{SWEEP_TEMPERATURES[0]:g}, {SWEEP_TEMPERATURES[-1]:g}]: largest eigenvalue {values.max():.4f}, "
        f"smallest {values.min():.1e}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.family": "DejaVu Sans"})
    print(summary())
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
