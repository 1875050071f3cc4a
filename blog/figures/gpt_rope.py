"""Figure for the post "Rotary position embeddings".

Left: the attention score ``⟨R(m)q, R(m+Δ)k⟩`` of one random query/key pair (head size 32,
base 10,000) against the offset ``Δ``, for three absolute positions ``m``: the curves are the
same curve. Middle: the score of a query and key that are equal and all ones, ``Σᵢ 2 cos(Δθᵢ)``,
against ``|Δ|`` up to 4,096: it decays with the distance, so far-apart tokens interact less by
default. Right: how exactly the shift property holds in floating point — the largest difference
between the scores at positions ``(m, m+Δ)`` and ``(0, Δ)`` over ``Δ < 64``, against ``m``, for
``apply_rope`` in float32 (angles computed in float64, then cast), for float32 angles, and float64.

Drawn from ``data/gpt_rope.json``; re-measure (a second) with::

    python blog/figures/gpt_rope.py --measure
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import _results
import numpy as np
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "gpt_rope.json"
HEAD_DIM = 32
OFFSETS = 64
STARTS = (0, 17, 200)
SHIFTS = (1, 10, 100, 1000, 10000, 100000)


def scores(q: np.ndarray, k: np.ndarray, start: int, offsets: int, dtype: Any) -> np.ndarray:
    """``⟨R(start)q, R(start+Δ)k⟩`` for ``Δ = 0 .. offsets-1``, rotated by ``apply_rope`` in ``dtype``."""
    import hyperion.autograd as ag
    from hyperion.gpt import apply_rope, rope_angles

    cos_q, sin_q = rope_angles(np.array([start]), HEAD_DIM, dtype=dtype)
    cos_k, sin_k = rope_angles(start + np.arange(offsets), HEAD_DIM, dtype=dtype)
    rq = apply_rope(ag.from_numpy(q.astype(dtype)[None]), cos_q, sin_q).numpy()
    rk = apply_rope(ag.from_numpy(np.tile(k.astype(dtype), (offsets, 1))), cos_k, sin_k).numpy()
    return (rk @ rq[0]).astype(np.float64)


def scores_float32_angles(q: np.ndarray, k: np.ndarray, start: int, offsets: int) -> np.ndarray:
    """As :func:`scores` in float32, but with the angles ``m·θᵢ`` themselves computed in float32."""
    from hyperion.gpt.rope import rotate_pairs

    theta = (10000.0 ** (-np.arange(0, HEAD_DIM, 2) / HEAD_DIM)).astype(np.float32)
    angle_q = np.float32(start) * theta
    angle_k = (start + np.arange(offsets)).astype(np.float32)[:, None] * theta
    rq = rotate_pairs(q.astype(np.float32), np.cos(angle_q), np.sin(angle_q))
    rk = rotate_pairs(np.tile(k.astype(np.float32), (offsets, 1)), np.cos(angle_k), np.sin(angle_k))
    return (rk @ rq).astype(np.float64)


def measure() -> dict[str, Any]:
    """Score curves, the decay envelope and the float32 shift error."""
    rng = np.random.default_rng(0)
    q, k = rng.standard_normal(HEAD_DIM), rng.standard_normal(HEAD_DIM)
    curves = {str(m): np.round(scores(q, k, m, OFFSETS, np.float64), 5).tolist() for m in STARTS}
    theta = 10000.0 ** (-np.arange(0, HEAD_DIM, 2) / HEAD_DIM)
    distance = np.unique(np.round(np.geomspace(1, 4096, 200)).astype(int))
    distance = np.concatenate([[0], distance])
    envelope = 2 * np.cos(distance[:, None] * theta).sum(axis=1)
    reference = scores(q, k, 0, OFFSETS, np.float32)
    error32 = {str(m): float(np.abs(scores(q, k, m, OFFSETS, np.float32) - reference).max()) for m in SHIFTS}
    error64 = {str(m): float(np.abs(scores(q, k, m, OFFSETS, np.float64) - scores(q, k, 0, OFFSETS, np.float64)).max())
               for m in SHIFTS}
    base = scores_float32_angles(q, k, 0, OFFSETS)
    error32_angles = {str(m): float(np.abs(scores_float32_angles(q, k, m, OFFSETS) - base).max()) for m in SHIFTS}
    return {
        "head_dim": HEAD_DIM,
        "shift_error_float32_angles": error32_angles,
        "curves": curves,
        "distance": distance.tolist(),
        "envelope": np.round(envelope, 4).tolist(),
        "score_scale": float(np.abs(reference).max()),
        "shift_error_float32": error32,
        "shift_error_float64": error64,
        "wavelengths": [float(2 * np.pi / theta[0]), float(2 * np.pi / theta[-1])],
    }


def draw(fig: Figure, data: dict[str, Any]) -> None:
    """Three panels: shift invariance, decay, float32 error."""
    left, middle, right = fig.subplots(1, 3)
    for n, (start, curve) in enumerate(data["curves"].items()):
        style = ("-", "o", "x")[n % 3]
        left.plot(range(len(curve)), curve, style, ms=4, mfc="none", label=f"query at m = {start}")
    left.set(xlabel="offset Δ = n − m", ylabel="score ⟨R(m)q, R(n)k⟩", title="Only the offset matters")
    left.legend(fontsize=8)
    middle.plot(data["distance"], data["envelope"], "-")
    middle.set_xscale("symlog", linthresh=1)
    middle.set(xlabel="|Δ| (symlog)", ylabel="Σ 2 cos(Δ θᵢ)", title="q = k = 1: the score decays with distance")
    shifts = [int(m) for m in data["shift_error_float32"]]
    right.loglog(shifts, list(data["shift_error_float32"].values()), "o-", label="float32, angles in float64")
    right.loglog(shifts, list(data["shift_error_float32_angles"].values()), "^-", label="float32, angles in float32")
    right.loglog(shifts, [max(v, 1e-17) for v in data["shift_error_float64"].values()], "s-", label="float64")
    right.set(xlabel="absolute position m", ylabel="max |score(m, m+Δ) − score(0, Δ)|",
              title="The shift property in floating point")
    right.legend(fontsize=8)
    for ax in (left, middle, right):
        ax.grid(alpha=0.3)


def build() -> Figure:
    """Draw the figure from the committed measurements."""
    fig = Figure(figsize=(13, 3.8), layout="constrained")
    draw(fig, _results.load(DATA))
    return fig


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true", help="recompute and rewrite the JSON")
    if parser.parse_args().measure:
        _results.save(DATA, measure(), compact=True)
    measured = _results.load(DATA)
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    print("score scale", measured["score_scale"], "wavelengths", measured["wavelengths"])
    print("float32 shift error", measured["shift_error_float32"])
    print("float32-angle shift error", measured["shift_error_float32_angles"])
    print("float64 shift error", measured["shift_error_float64"])
    env = dict(zip(measured["distance"], measured["envelope"], strict=True))
    print("envelope", {d: env[d] for d in (0, 1, 10, 100, 1000) if d in env}, "min", min(measured["envelope"]))
