"""``hyperion-physics``: validate the solver, run TOML scenarios, run the inverse-design demo.

Examples::

    hyperion-physics validate --json
    hyperion-physics run dielectric_cylinder --out cyl --json
    hyperion-physics design --iters 30 --out design_out --json
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from hyperion.physics.__about__ import __version__
from hyperion.tensor.cli import ArgumentParser
from hyperion.tensor.files import atomic_path, atomic_write

__all__ = ["main"]


class Progress:
    """A one-line progress bar on stderr."""

    def __init__(self, label: str, stream: TextIO = sys.stderr) -> None:
        self.label = label
        self.stream = stream

    def __call__(self, done: int, total: int, extra: str = "") -> None:
        width = 30
        fill = int(width * done / max(total, 1))
        self.stream.write(f"\r{self.label} [{'#' * fill}{'.' * (width - fill)}] {done}/{total} {extra}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()


def _save_npz_atomic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    atomic_write(path, lambda handle: np.savez(handle, **arrays))


def _validate(args: argparse.Namespace) -> dict[str, Any]:
    from hyperion.physics import validation as v

    quick = args.quick
    tasks: list[tuple[str, Callable[[], Any]]] = [
        ("pml_db", lambda: {c: v.pml_reflection_db(c, steps=200 if quick else 400) for c in (8, 10, 12, 16)}),
        ("fresnel", v.fresnel),
        ("cavity", lambda: v.cavity_modes(steps=6000 if quick else 12000)),
        ("magic_step", v.magic_step_error),
        ("phase_velocity", v.phase_velocity_error),
        ("anisotropy", v.anisotropy_3d),
        (
            "stability",
            lambda: {
                "refused_2d": v.refuses_above_limit(2),
                "refused_3d": v.refuses_above_limit(3),
                "growth_opted_in": v.instability_growth(),
            },
        ),
        ("energy", lambda: v.energy_drift(steps=2000 if quick else 10_000)),
        ("gradient", lambda: v.gradient_check(steps=500)),
        ("memory", lambda: v.peak_memory((100, 400) if quick else (100, 400, 1600))),
    ]
    bar = Progress("validate")
    results: dict[str, Any] = {}
    for k, (name, fn) in enumerate(tasks):
        bar(k, len(tasks), name)
        results[name] = fn()
    bar(len(tasks), len(tasks))
    pv = results["phase_velocity"]
    summary = {
        "pml_reflection_db": results["pml_db"][10],
        "fresnel_rel_err": max(results["fresnel"]["R_rel_err"], results["fresnel"]["T_rel_err"]),
        "cavity_rel_err": results["cavity"]["cavity_rel_err"],
        "dispersion_rel_err": pv["rel_err"],
        "grad_rel_err": results["gradient"]["grad_rel_err"],
        "energy_rel_drift": results["energy"],
    }
    lines = [
        "CPML reflection (dB) vs thickness: " + ", ".join(f"{c} cells {d:.1f}" for c, d in results["pml_db"].items()),
        f"Fresnel n=2: R={results['fresnel']['R']:.5f} (1/9={1 / 9:.5f}) T={results['fresnel']['T']:.5f} (8/9={8 / 9:.5f})"
        f" rel err R {results['fresnel']['R_rel_err']:.2e} T {results['fresnel']['T_rel_err']:.2e}",
        f"Cavity TM modes: vs continuum {results['cavity']['cavity_rel_err']:.2e}, vs discrete relation "
        f"{results['cavity']['discrete_rel_err']:.2e}",
        f"Dispersion: S=1 pulse shift error {results['magic_step']:.2e}; S=0.5, 10 cells/λ: measured "
        f"{pv['measured'] * 100:.4f} % vs predicted {pv['predicted'] * 100:.4f} % (rel {pv['rel_err']:.2e})",
        "3-D anisotropy v_axis/v_diag-1: measured {:.4%}, predicted {:.4%}".format(
            results["anisotropy"]["anisotropy_measured"], results["anisotropy"]["anisotropy_predicted"]
        ),
        f"Stability: refused above limit {results['stability']['refused_2d']}/{results['stability']['refused_3d']}, "
        f"opted-in growth x{results['stability']['growth_opted_in']:.3g}",
        f"Energy drift over {2000 if quick else 10_000} steps: {results['energy']:.2e}",
        f"Adjoint vs finite differences (500 steps, CPML): {results['gradient']['grad_rel_err']:.2e}"
        f" (amplitude {results['gradient']['amp_rel_err']:.2e})",
        "Peak memory (MB) all steps vs checkpointed: "
        + "; ".join(
            f"{int(r['steps'])} steps {r['all_steps_mb']:.1f} vs {r['checkpointed_mb']:.1f}" for r in results["memory"]
        ),
    ]
    return {"lines": lines, "summary": summary, "details": results}


def _design(args: argparse.Namespace) -> dict[str, Any]:
    from hyperion.physics.design import run_design

    bar = Progress("design")
    result = run_design(
        iters=args.iters, size=args.size, steps=args.steps, progress=lambda i, n, v: bar(i, n, f"objective x{v:.2f}")
    )
    out = Path(args.out)
    _save_npz_atomic(
        out / "design.npz", {"history": np.array(result.history), "eps": result.eps, "field": result.field}
    )
    figure = None
    try:
        figure = _design_figure(result, out / "design.png")
    except ImportError:
        figure = None
    return {
        "lines": [
            f"objective improved x{result.improvement:.2f} in {args.iters} iterations",
            f"wrote {out / 'design.npz'}",
        ]
        + ([f"wrote {figure}"] if figure else []),
        "summary": {"improvement": result.improvement, "iters": args.iters, "out": str(out)},
    }


def _scenario_path(name: str) -> Path:
    path = Path(name)
    if path.exists():
        return path
    shipped = Path(__file__).parent / "scenarios" / f"{name.removesuffix('.toml')}.toml"
    if shipped.exists():
        return shipped
    raise ValueError(f"no scenario file {name!r} (shipped scenarios: {', '.join(_shipped())})")


def _shipped() -> list[str]:
    return sorted(p.stem for p in (Path(__file__).parent / "scenarios").glob("*.toml"))


def _run(args: argparse.Namespace) -> dict[str, Any]:
    from hyperion.physics.scenario import field_frames, load_scenario

    sim, steps, output = load_scenario(_scenario_path(args.scenario))
    out = Path(args.out)
    frames = field_frames(sim, output["gif_component"], int(output["gif_every"]), steps, Progress("run"))
    arrays: dict[str, np.ndarray] = {}
    for monitor in sim.monitors:
        arrays.update(monitor.data())
    _save_npz_atomic(out / "monitors.npz", arrays)
    lines = [
        f"ran {steps} steps on a {sim.grid.shape} grid (dt = {sim.grid.dt:.4g} s)",
        f"wrote {out / 'monitors.npz'}",
    ]
    gif = None
    if not args.no_gif:
        try:
            from hyperion.physics.animation import write_gif

            gif = write_gif(frames, out / "field.gif", title=output["gif_component"])
            lines.append(f"wrote {gif}")
        except ImportError:
            lines.append("no GIF: install the plot extra (matplotlib, pillow)")
    return {
        "lines": lines,
        "summary": {
            "steps": steps,
            "shape": list(sim.grid.shape),
            "npz": str(out / "monitors.npz"),
            "gif": None if gif is None else str(gif),
            "monitors": sorted(arrays),
        },
    }


def _design_figure(result: Any, path: Path) -> Path:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 3.4))
    ax1, ax2, ax3 = fig.subplots(1, 3)
    ax1.plot(result.history)
    ax1.set_xlabel("iteration")
    ax1.set_ylabel("objective / initial")
    im = ax2.imshow(result.eps.T, origin="lower", cmap="viridis")
    fig.colorbar(im, ax=ax2, label="ε_r")
    ax2.set_title("design")
    ax3.imshow(result.field.T, origin="lower", cmap="magma")
    for ax in (ax2, ax3):
        ax.plot(*result.source, "c^")
        ax.plot(*result.target, "wo", mfc="none")
    ax3.set_title("|DFT Ez| at the design frequency")
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    return path


def _parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog="hyperion-physics", description="FDTD solver: validation and inverse design.")
    parser.add_argument("--version", action="version", version=f"hyperion-physics {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=ArgumentParser)
    val = sub.add_parser("validate", help="run the validation suite and print the numbers")
    val.add_argument("--quick", action="store_true", help="shorter runs")
    val.add_argument("--json", action="store_true", help="print one JSON object as the last stdout line")
    run = sub.add_parser("run", help="run a TOML scenario (a path, or the name of a shipped one)")
    run.add_argument("scenario", help="scenario .toml file or shipped name: " + ", ".join(_shipped()))
    run.add_argument("--out", default="run_out", help="output folder (default run_out)")
    run.add_argument("--no-gif", action="store_true", help="skip the animated GIF")
    run.add_argument("--json", action="store_true", help="print one JSON object as the last stdout line")
    des = sub.add_parser("design", help="inverse-design demo: focus a pulse with Adam on the adjoint gradient")
    des.add_argument("--iters", type=int, default=30, help="Adam iterations (default 30)")
    des.add_argument("--out", default="design_out", help="output folder (default design_out)")
    des.add_argument("--size", type=int, default=56, help="grid cells per side, >= 44 (default 56)")
    des.add_argument("--steps", type=int, default=260, help="time steps per simulation (default 260)")
    des.add_argument("--json", action="store_true", help="print one JSON object as the last stdout line")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``hyperion-physics``; returns the exit code."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "design":
            if not 1 <= args.iters <= 10_000:
                raise ValueError(f"--iters must be in [1, 10000], got {args.iters}")
            if args.size < 44 or args.steps < 50:
                raise ValueError(f"--size must be >= 44 and --steps >= 50, got {args.size} and {args.steps}")
        commands = {"validate": _validate, "design": _design, "run": _run}
        report = commands[args.command](args)
    except (ValueError, OSError, ImportError) as exc:
        print(f"hyperion-physics: error: {exc}", file=sys.stderr)
        return 2
    for line in report["lines"]:
        print(line)
    if args.json:
        print(json.dumps(report["summary"], default=float))
    return 0
