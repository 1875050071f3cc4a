"""Bad-input cases of every public name of ``hyperion.physics``: grid, materials, sources, monitors,
the simulation and the helper functions.

A monitor or source whose position only makes sense on a grid is checked when the simulation
first uses it; the cases run one step so that check is reached.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import hyperion.physics as ph
from hyperion.physics import (
    CW,
    CourantError,
    DFTMonitor,
    FluxMonitor,
    Gaussian,
    Grid,
    Materials,
    ModulatedGaussian,
    PlaneSource,
    PointSource,
    Probe,
    Simulation,
    Snapshots,
    box_mask,
    coefficients,
    courant_limit,
    sphere_mask,
    staggered_energy,
)
from hyperion.tensor import DeviceError, DTypeError, ShapeError
from hyperion.tensor.testing import Case, Matches, Raises

# The categories of this suite's cases (summary() reports them in this order).
CATEGORIES = ("shape", "dtype", "device", "empty", "nonfinite", "index", "argument", "courant", "file")

NAN, INF = float("nan"), float("inf")

#: Public names that need no bad-input case, with the reason.
EXEMPT = {
    "C0": "a constant",
    "EPS0": "a constant",
    "ETA0": "a constant",
    "MU0": "a constant",
    "CourantError": "an error class (raised by the Grid cases)",
    "__version__": "a string",
}


def _grid(**kw: Any) -> Grid:
    return Grid(**{"shape": (20, 16), "dx": 1e-3, "boundary": "pec", **kw})


def _pulse() -> Gaussian:
    return Gaussian(width=5 * _grid().dt)


def _one_step(**kw: Any) -> Simulation:
    sim = Simulation(kw.pop("grid", _grid()), **kw)
    sim.run(1)
    return sim


def _grid_cases() -> list[Case]:
    bad: list[tuple[dict[str, Any], type[BaseException], tuple[str, ...], str]] = [
        ({"shape": ()}, ShapeError, ("()",), ""),
        ({"shape": (0, 10)}, ShapeError, ("(0, 10)",), ""),
        ({"shape": (-4,)}, ShapeError, ("(-4,)",), ""),
        ({"shape": (4, 4, 4, 4)}, ShapeError, ("(4, 4, 4, 4)",), ""),
        ({"shape": ("ten",)}, (ShapeError, ValueError), ("'ten'",), ""),
        (
            {"shape": (2.5, 8)},
            ShapeError,
            ("2.5",),
            "",
        ),
        ({"dx": 0.0}, ValueError, ("dx", "0.0"), ""),
        ({"dx": -1e-3}, ValueError, ("-0.001",), ""),
        ({"dx": NAN}, ValueError, ("nan",), ""),
        (
            {"dx": INF},
            ValueError,
            ("dx", "inf"),
            "",
        ),
        ({"dtype": "float16"}, DTypeError, ("'float16'",), ""),
        ({"dtype": np.float32}, DTypeError, ("float32",), ""),
        ({"device": "tpu"}, DeviceError, ("'tpu'",), ""),
        ({"mode": "tez"}, ValueError, ("'tez'",), ""),
        ({"boundary": "absorbing"}, ValueError, ("'absorbing'",), ""),
        ({"boundary": ("pec", "pml", "pec", "pec")}, ValueError, ("'pec', 'pml', 'pec', 'pec'",), ""),
        ({"boundary": "pml", "pml_cells": 10, "shape": (22, 40)}, ShapeError, ("22 cells", "10-cell"), ""),
        (
            {"boundary": "pml", "pml_cells": -2},
            ValueError,
            ("pml_cells", "-2"),
            "",
        ),
        ({"pml_reflection": 0.0}, ValueError, ("pml_reflection", "0.0"), ""),
        ({"pml_reflection": 1.0}, ValueError, ("1.0",), ""),
        ({"pml_kappa_max": 0.5}, ValueError, ("pml_kappa_max", "0.5"), ""),
        ({"courant": 0.0}, CourantError, ("0.0",), ""),
        ({"courant": -0.5}, CourantError, ("-0.5",), ""),
        ({"courant": NAN}, CourantError, ("nan",), ""),
        ({"courant": 0.71}, CourantError, ("0.71", "0.707107", "1/sqrt(2)"), ""),
        ({"courant": 1.01, "shape": (30,)}, CourantError, ("1.01", "1/sqrt(1)"), ""),
        ({"courant": 0.6, "shape": (8, 8, 8)}, CourantError, ("0.6", "0.57735", "1/sqrt(3)"), ""),
        ({"courant": INF}, CourantError, ("inf",), ""),
    ]
    cases: list[Case] = []
    for kw, error, names, bug in bad:
        category = "courant" if "courant" in kw else ("shape" if "shape" in kw else "argument")
        category = {"dtype": "dtype", "device": "device"}.get(next(iter(kw)), category)
        cases.append(Raises("Grid", category, lambda kw=kw: _grid(**kw), error, names, known_bug=bug))
    cases += [
        Matches(
            "Grid",
            "courant",
            lambda: _grid(courant=0.8, allow_unstable=True).courant,
            lambda: np.float64(0.8),
            "opt-in",
        ),
        Matches("Grid", "shape", lambda: _grid(shape=(1, 1)).shape, lambda: (1, 1, 1), "one-cell"),
        Raises("courant_limit", "argument", lambda: courant_limit(0), ShapeError, ("0",)),
        Raises("courant_limit", "argument", lambda: courant_limit(4), ShapeError, ("4",)),
        Matches("courant_limit", "argument", lambda: courant_limit(2), lambda: np.float64(2**-0.5), "2d"),
    ]
    return cases


def _material_cases() -> list[Case]:
    g = _grid()

    def mats(**kw: Any) -> Materials:
        base = Materials.vacuum(g)
        return Materials(**{"eps": base.eps, "mu": base.mu, "sigma": base.sigma, **kw})

    bad_eps = np.ones(g.shape)
    bad_eps[3, 4] = -2.0
    nan_eps = np.ones(g.shape)
    nan_eps[0, 0] = NAN
    return [
        Raises(
            "Materials",
            "shape",
            lambda: mats(eps=np.ones((5, 5))).check(g),
            ShapeError,
            ("'eps'", "(5, 5)", "(20, 16, 1)"),
        ),
        Raises("Materials", "argument", lambda: mats(eps=bad_eps).check(g), ValueError, ("eps", "-2.0")),
        Raises("Materials", "argument", lambda: mats(eps=np.zeros(g.shape)).check(g), ValueError, ("eps", "0.0")),
        Raises("Materials", "nonfinite", lambda: mats(eps=nan_eps).check(g), ValueError, ("eps", "finite")),
        Raises("Materials", "argument", lambda: mats(mu=-np.ones(g.shape)).check(g), ValueError, ("mu", "-1.0")),
        Raises("Materials", "nonfinite", lambda: mats(mu=np.full(g.shape, INF)).check(g), ValueError, ("mu", "finite")),
        Raises("Materials", "argument", lambda: mats(sigma=-np.ones(g.shape)).check(g), ValueError, ("sigma", "-1.0")),
        Raises(
            "Materials",
            "nonfinite",
            lambda: mats(sigma=np.full(g.shape, NAN)).check(g),
            ValueError,
            ("sigma", "nan"),
        ),
        Matches(
            "Materials",
            "shape",
            lambda: (m := mats(eps=np.float64(2.0)), m.check(g), m.eps.shape)[2],
            lambda: (20, 16, 1),
            "scalar-broadcast",
        ),
        Raises("coefficients", "shape", lambda: coefficients(g, mats(mu=np.ones(3))), ShapeError, ("'mu'", "(3,)")),
        Raises(
            "Simulation", "shape", lambda: Simulation(g, mats(sigma=np.ones((2, 2)))), ShapeError, ("'sigma'", "(2, 2)")
        ),
        Raises(
            "box_mask",
            "argument",
            lambda: box_mask(g, ("a",), (1.0,)),
            (TypeError, ValueError),
            ("'a'",),
        ),
        Matches("box_mask", "empty", lambda: box_mask(g, (1.0,), (0.0,)).sum(), lambda: np.int64(0), "inverted-box"),
        Matches(
            "sphere_mask", "empty", lambda: sphere_mask(g, (0.0, 0.0), 0.0).sum(), lambda: np.int64(1), "zero-radius"
        ),
        Raises(
            "sphere_mask",
            "argument",
            lambda: sphere_mask(g, (0.0, 0.0), -1.0),
            ValueError,
            ("radius", "-1.0"),
        ),
    ]


def _source_cases() -> list[Case]:
    g = _grid()
    p = _pulse()
    return [
        Raises("PointSource", "argument", lambda: PointSource((5, 5), p, "hz"), ValueError, ("'hz'",)),
        Raises("PointSource", "argument", lambda: PointSource((5, 5), p, kind="medium"), ValueError, ("'medium'",)),
        Raises(
            "PointSource",
            "index",
            lambda: _one_step(sources=[PointSource((20, 5), p)]),
            IndexError,
            ("(20, 5)", "(20, 16, 1)"),
        ),
        Raises("PointSource", "index", lambda: _one_step(sources=[PointSource((-1, 5), p)]), IndexError, ("(-1, 5)",)),
        Raises(
            "PointSource",
            "index",
            lambda: _one_step(sources=[PointSource((1, 2, 0, 4), p)]),
            IndexError,
            ("(1, 2, 0, 4)",),
        ),
        Raises(
            "PointSource", "argument", lambda: _one_step(sources=[PointSource((5, 5), p, "ex")]), ValueError, ("'ex'",)
        ),
        Raises("PlaneSource", "argument", lambda: PlaneSource(3, 4, p), ValueError, ("axis", "3")),
        Raises("PlaneSource", "argument", lambda: PlaneSource(2, 0, p, "ez"), ValueError, ("axis 2", "'ez'")),
        Raises(
            "PlaneSource",
            "index",
            lambda: _one_step(sources=[PlaneSource(0, 40, p)]),
            IndexError,
            ("40", "axis 0", "20"),
        ),
        Raises("PlaneSource", "index", lambda: _one_step(sources=[PlaneSource(0, -3, p)]), IndexError, ("-3",)),
        Raises(
            "Gaussian",
            "argument",
            lambda: _one_step(grid=g, sources=[PointSource((5, 5), Gaussian(0.0))]),
            ValueError,
            ("width", "0.0"),
        ),
        Raises("Gaussian", "nonfinite", lambda: Gaussian(NAN), ValueError, ("width", "nan")),
        Raises(
            "ModulatedGaussian",
            "argument",
            lambda: ModulatedGaussian(-1e9, 1e-11),
            ValueError,
            ("frequency", "-1000000000.0"),
        ),
        Raises("CW", "nonfinite", lambda: CW(INF), ValueError, ("frequency", "inf")),
        Matches("Gaussian", "argument", lambda: Gaussian(1.0, delay=0.0)(0.0), lambda: 1.0, "peak"),
        Matches(
            "ModulatedGaussian",
            "argument",
            lambda: ModulatedGaussian(1.0, 1.0, delay=0.0)(0.0),
            lambda: 0.0,
            "zero-at-delay",
        ),
        Matches("CW", "argument", lambda: CW(1.0, ramp=0.0)(0.25), lambda: 1.0, "no-ramp"),
    ]


def _monitor_cases() -> list[Case]:
    return [
        Raises(
            "Probe", "index", lambda: _one_step(monitors=[Probe("p", (30, 2))]), IndexError, ("(30, 2)", "(20, 16, 1)")
        ),
        Raises("Probe", "argument", lambda: _one_step(monitors=[Probe("p", (3, 2), "ew")]), ValueError, ("'ew'",)),
        Raises(
            "Probe", "argument", lambda: _one_step(monitors=[Probe("p", (3, 2), "hz")]), ValueError, ("'hz'", "'tm'")
        ),
        Raises("Snapshots", "argument", lambda: Snapshots("s", every=0), ValueError, ("0",)),
        Raises(
            "Snapshots",
            "argument",
            lambda: Snapshots("s", "bz"),
            ValueError,
            ("'bz'",),
        ),
        Raises(
            "Snapshots",
            "argument",
            lambda: (s := Simulation(_grid(), monitors=[Snapshots("s", "bz", every=1)]), s.run(1)),
            ValueError,
            ("'bz'",),
        ),
        Matches("Snapshots", "empty", lambda: Snapshots("s").data()["s.frames"].shape, lambda: (0,), "no-frames"),
        Raises(
            "DFTMonitor", "argument", lambda: _one_step(monitors=[DFTMonitor("d", (1e9,), "ex")]), ValueError, ("'ex'",)
        ),
        Raises(
            "DFTMonitor",
            "nonfinite",
            lambda: DFTMonitor("d", (NAN,)),
            ValueError,
            ("frequencies", "nan"),
        ),
        Matches(
            "DFTMonitor",
            "empty",
            lambda: _one_step(monitors=[DFTMonitor("d", ())]).monitors[0].spectrum().shape,
            lambda: (0, 20, 16, 1),
            "no-frequencies",
        ),
        Raises(
            "FluxMonitor",
            "index",
            lambda: _one_step(monitors=[FluxMonitor("f", 0, 0, (1e9,))]),
            IndexError,
            ("0", "[1, 20)"),
        ),
        Raises(
            "FluxMonitor",
            "index",
            lambda: _one_step(monitors=[FluxMonitor("f", 1, 16, (1e9,))]),
            IndexError,
            ("16", "[1, 16)"),
        ),
        Raises(
            "FluxMonitor",
            "argument",
            lambda: _one_step(monitors=[FluxMonitor("f", 3, 1, (1e9,))]),
            (ValueError, IndexError),
            ("axis", "3"),
        ),
    ]


def _simulation_cases() -> list[Case]:
    g = _grid()
    sim = Simulation(g)
    return [
        Raises("Simulation", "argument", lambda: Simulation(g).run(-1), ValueError, ("steps", "-1")),
        Raises(
            "Simulation",
            "argument",
            lambda: Simulation(g).run(2.5),
            (TypeError, ValueError),
            ("2.5",),
        ),
        Raises("Simulation", "argument", lambda: sim.field("hz"), ValueError, ("'hz'", "'tm'")),
        Raises("Simulation", "argument", lambda: sim.field("qq"), (ValueError, KeyError), ("'qq'",)),
        Raises("Simulation", "device", lambda: Simulation(_grid(device="cuda")), DeviceError, ("cuda",)),
        Raises("Simulation", "courant", lambda: Simulation(_grid(courant=0.9)), CourantError, ("0.9",)),
        Matches(
            "Simulation", "empty", lambda: (s := Simulation(g), s.run(0), s.step_count)[2], lambda: 0, "zero-steps"
        ),
        Matches(
            "Simulation",
            "shape",
            lambda: _one_step(grid=_grid(shape=(1,), boundary="periodic")).field("ez").shape,
            lambda: (1,),
            "single-cell",
        ),
        Raises(
            "staggered_energy",
            "shape",
            lambda: staggered_energy([np.ones(3)] * 3, [np.ones(4)] * 3, [np.ones(4)] * 3, 1.0, 1.0),
            (ShapeError, ValueError),
            ("(3,)", "(4,)"),
        ),
        Matches(
            "staggered_energy",
            "nonfinite",
            lambda: staggered_energy([np.full(3, NAN)] * 3, [np.ones(3)] * 3, [np.ones(3)] * 3, 1.0, 1.0),
            lambda: NAN,
            "nan-field",
        ),
    ]


CASES: list[Case] = [*_grid_cases(), *_material_cases(), *_source_cases(), *_monitor_cases(), *_simulation_cases()]

PUBLIC = [name for name in ph.__all__ if not name.startswith("_") or name in EXEMPT]
