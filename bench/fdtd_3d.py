"""3-D FDTD throughput: hyperion (NumPy reference, Numba kernel) vs flaport/fdtd (NumPy backend).

A 100³ grid (40³ with --quick) with a 10-cell PML on every face, float32. Each
contender advances the same grid one step per call; the report is million cell
updates per second, the ratio to flaport/fdtd measured in the same run, and the
fraction of the copy-bandwidth roofline (bytes per cell update × rate / copy GB/s).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Contender, emit, format_table, measure, median, paired_ratio, parser  # noqa: E402

# Per cell and step: read 6 fields twice-ish (neighbours come from cache), write 6, read ca, cb, ch.
BYTES_PER_CELL_F32 = (6 + 6 + 3) * 4


def _copy_gbps(n: int = 1 << 25) -> float:
    import timeit

    a = np.ones(n, dtype=np.float32)
    b = np.empty_like(a)
    t = min(timeit.repeat(lambda: np.copyto(b, a), number=3, repeat=5)) / 3
    return 2 * a.nbytes / t / 1e9


def _hyperion(n: int, use_kernel: bool) -> object:
    from hyperion.physics import Gaussian, Grid, PointSource, Simulation
    from hyperion.physics.update import fdtd3d_step_reference

    grid = Grid((n, n, n), pml_cells=10, dtype="float32")
    sim = Simulation(grid, sources=[PointSource((n // 2,) * 3, Gaussian(width=10 * grid.dt))])
    if use_kernel:
        # The kernel module, imported by name (the provider merges it into the registry once it is wired).
        fn = importlib.import_module("hyperion.kernels.cpu.fdtd").fdtd3d_step
    else:
        fn = fdtd3d_step_reference
    args = (
        *sim.e(),
        *sim.h(),
        sim.ca,
        sim.cb,
        sim.ch,
        tuple(p.as_tuple() for p in sim.profiles),
        sim.psi_e,
        sim.psi_h,
        grid.periodic,
    )
    return lambda: fn(*args)


def _flaport(n: int) -> object:
    import fdtd

    fdtd.set_backend("numpy")
    grid = fdtd.Grid((n, n, n), grid_spacing=1e-3, permittivity=1.0)
    for sl in (
        (slice(0, 10), slice(None), slice(None)),
        (slice(-10, None), slice(None), slice(None)),
        (slice(None), slice(0, 10), slice(None)),
        (slice(None), slice(-10, None), slice(None)),
        (slice(None), slice(None), slice(0, 10)),
        (slice(None), slice(None), slice(-10, None)),
    ):
        grid[sl] = fdtd.PML()
    grid[n // 2, n // 2, n // 2] = fdtd.PointSource(period=30)
    return lambda: grid.step()


def main() -> None:
    args = parser(__doc__.splitlines()[0]).parse_args()
    n = 40 if args.quick else 100
    repeats = args.repeats or (3 if args.quick else 7)
    contenders = [Contender("hyperion_numpy", "f()", {"f": _hyperion(n, False)})]
    try:
        contenders.append(Contender("hyperion_numba", "f()", {"f": _hyperion(n, True)}))
    except ImportError as exc:  # hyperion-kernels[cpu] not installed: report the NumPy path only
        print(f"no Numba kernel: {exc}", file=sys.stderr)
    contenders.append(Contender("flaport_fdtd", "f()", {"f": _flaport(n)}))
    samples = measure(contenders, repeats, 0.3 if args.quick else 1.0)
    cells = n**3
    copy = _copy_gbps()
    rows, results = [], {}
    for c in contenders:
        t = median(samples[c.name])
        mcells = cells / t / 1e6
        results[c.name] = {
            "mcells_per_s": mcells,
            "ratio_vs_flaport": paired_ratio(samples["flaport_fdtd"], samples[c.name]),
            "roofline_fraction": mcells * 1e6 * BYTES_PER_CELL_F32 / (copy * 1e9),
        }
        rows.append(
            [
                c.name,
                f"{mcells:.1f}",
                f"{results[c.name]['ratio_vs_flaport']:.2f}x",
                f"{100 * results[c.name]['roofline_fraction']:.1f} %",
            ]
        )
    text = f"3-D FDTD {n}^3, 10-cell PML, float32; copy bandwidth {copy:.1f} GB/s\n" + format_table(
        ["impl", "Mcells/s", "vs flaport/fdtd", "% roofline"], rows
    )
    emit(args, text, {"bench": "fdtd_3d", "n": n, "copy_gbps": copy, "results": results})


if __name__ == "__main__":
    main()
