"""Figure for the post "Log-sum-exp and stable cross-entropy": where the naive formula breaks.

Left: relative error of the cross-entropy of one row of 10 logits, ``z = scale · base`` with a
fixed standard-normal ``base``, against ``scale``, computed in float32 and float16 two ways:
naively, ``log(Σ exp(z)) − z_y``, and by ``hyperion.nn.functional.cross_entropy`` (log-sum-exp
with the maximum subtracted). The exact value is computed in float64 from the same rounded
logits, so the error is the computation's, not the rounding of the inputs. A result that is
``inf`` or ``nan`` is drawn as a cross on the dashed line at the top.

Right: log-sum-exp of ``base + c`` minus ``c``, which should be the constant ``LSE(base)``,
against the offset ``c``, naively and by ``Tensor.logsumexp``, in both dtypes. The naive value
leaves the plot where ``exp`` overflows (large ``c``) or every term underflows to zero (very
negative ``c``).

Everything is computed when the figure is built (well under a second); run by hand, the script
also prints the numbers the post quotes::

    python blog/figures/log_sum_exp.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

import hyperion.autograd as ag
import hyperion.tensor as ht
from hyperion.nn import functional as F

SCALES = np.logspace(-1, 4, 41)
OFFSETS = np.linspace(-150.0, 150.0, 601)
DTYPES = (np.float32, np.float16)
FLOOR = 1e-9  # an exact result (error 0) is drawn here, since a log axis has no 0
BAD = 3.0  # where inf / nan results are drawn


def base_logits() -> tuple[np.ndarray, int]:
    """A fixed row of 10 logits and its target: the class with the second-largest logit."""
    base = np.random.default_rng(0).standard_normal(10)
    return base, int(np.argsort(base)[-2])


def exact_cross_entropy(z: np.ndarray, target: int) -> float:
    """Cross-entropy in float64 (shifted, so exact to float64 rounding for any scale)."""
    z = z.astype(np.float64)
    peak = z.max()
    return float(peak + np.log(np.exp(z - peak).sum()) - z[target])


def naive_cross_entropy(z: np.ndarray, target: int) -> float:
    """``log(Σ exp(z)) − z_y`` in the dtype of ``z``."""
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        return float(np.log(np.exp(z).sum(dtype=z.dtype)) - z[target])


def stable_cross_entropy(z: np.ndarray, target: int) -> float:
    """``hyperion.nn.functional.cross_entropy`` of the single row ``z``."""
    return F.cross_entropy(ag.tensor(z[None, :]), ag.tensor(np.array([target]))).item()


def relative_errors(dtype: type) -> dict[str, np.ndarray]:
    """Relative error of both methods at every scale (``nan`` where the result is not finite)."""
    base, target = base_logits()
    out: dict[str, list[float]] = {"naive": [], "stable": []}
    for scale in SCALES:
        z = (scale * base).astype(dtype)
        exact = exact_cross_entropy(z, target)
        for name, fn in (("naive", naive_cross_entropy), ("stable", stable_cross_entropy)):
            value = fn(z, target)
            out[name].append(abs(value - exact) / abs(exact) if np.isfinite(value) else np.nan)
    return {name: np.array(values) for name, values in out.items()}


def shifted_lse(dtype: type) -> dict[str, np.ndarray]:
    """``LSE(base + c) − c`` at every offset, naive and stable (``nan`` where not finite)."""
    base, _ = base_logits()
    naive, stable = [], []
    for c in OFFSETS:
        z = (base + c).astype(dtype)
        with np.errstate(over="ignore", divide="ignore"):
            value = float(np.log(np.exp(z).sum(dtype=dtype)))
        naive.append(value - c if np.isfinite(value) else np.nan)
        stable.append(ht.from_numpy(z).logsumexp(dim=0).item() - c)
    return {"naive": np.array(naive), "stable": np.array(stable)}


def breaking_points(dtype: type) -> tuple[float, float]:
    """The smallest offset ``c`` at which the naive LSE is not finite, above and below 0."""
    values = shifted_lse(dtype)["naive"]
    bad = ~np.isfinite(values)
    return float(OFFSETS[bad & (OFFSETS > 0)].min()), float(OFFSETS[bad & (OFFSETS < 0)].max())


def draw(fig: Figure) -> None:
    """The two panels."""
    left, right = fig.subplots(1, 2)
    colors = {np.float32: "C0", np.float16: "C1"}
    for dtype in DTYPES:
        name = np.dtype(dtype).name
        errors = relative_errors(dtype)
        for method, style in (("naive", "--"), ("stable", "-")):
            values = errors[method]
            finite = np.isfinite(values)
            left.loglog(
                SCALES[finite],
                np.maximum(values[finite], FLOOR),
                style,
                color=colors[dtype],
                label=f"{method}, {name}",
            )
            left.loglog(SCALES[~finite], np.full((~finite).sum(), BAD), "x", color=colors[dtype])
        lse = shifted_lse(dtype)
        right.plot(OFFSETS, lse["naive"], "--", color=colors[dtype], label=f"naive, {name}")
        right.plot(OFFSETS, lse["stable"], "-", color=colors[dtype], alpha=0.6, label=f"stable, {name}")
        for edge in breaking_points(dtype):  # where the naive value stops being finite
            right.axvline(edge, color=colors[dtype], linestyle=":", linewidth=1)
    left.axhline(BAD, color="0.5", linestyle=":", linewidth=1)
    left.text(SCALES[0], BAD * 1.3, "inf or nan", fontsize="small", color="0.3")
    left.set_ylim(FLOOR / 2, 20)
    left.set_xlabel("scale of the logits (z = scale · base)")
    left.set_ylabel("relative error of the cross-entropy")
    left.set_title("Cross-entropy: naive vs log-sum-exp")
    left.grid(True, which="major", alpha=0.3)
    left.legend(fontsize="small", loc="center left")

    base, _ = base_logits()
    exact = float(np.log(np.exp(base).sum()))
    right.axhline(exact, color="0.5", linestyle=":", linewidth=1)
    right.set_ylim(exact - 1.5, exact + 1.0)
    right.set_xlabel("offset c added to every logit")
    right.set_ylabel("LSE(base + c) − c")
    right.set_title("Log-sum-exp is shift-equivariant; naive exp is not")
    right.grid(True, alpha=0.3)
    right.legend(fontsize="small", loc="lower center", ncol=2)


def build() -> Figure:
    """The figure, computed from scratch."""
    fig = Figure(figsize=(11, 4), layout="constrained")
    draw(fig)
    return fig


def summary() -> str:
    """The numbers the post quotes."""
    lines = []
    for dtype in DTYPES:
        name = np.dtype(dtype).name
        errors = relative_errors(dtype)
        naive_bad = SCALES[~np.isfinite(errors["naive"])]
        up, down = breaking_points(dtype)
        lines.append(
            f"{name}: naive cross-entropy first not finite at scale {naive_bad.min():.3g}; "
            f"worst stable relative error {np.nanmax(errors['stable']):.2e} over scales 0.1..1e4; "
            f"naive LSE(base + c) not finite for c >= {up:g} and c <= {down:g}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 100, "font.family": "DejaVu Sans"})
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    print(summary())
