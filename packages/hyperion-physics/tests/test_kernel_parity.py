"""The Numba kernel of ``physics.fdtd3d_step`` (hyperion-kernels) against the reference."""

import numpy as np
import pytest

from hyperion.physics import Gaussian, Grid, PointSource, Simulation
from hyperion.physics.update import fdtd3d_step_reference

kernel = pytest.importorskip("hyperion.kernels.cpu.fdtd", reason="hyperion-kernels[cpu] not installed")


@pytest.mark.parametrize(
    ("boundary", "dtype", "tol"),
    [
        ("pml", "float64", 1e-12),
        (("periodic", "pec", "pml"), "float32", 1e-5),
        (("pml", "periodic", "pec"), "float64", 1e-12),
    ],
)
def test_kernel_matches_reference(boundary, dtype, tol):
    grid = Grid((22, 20, 18), pml_cells=4, boundary=boundary, dtype=dtype)
    rng = np.random.default_rng(0)
    eps = rng.uniform(1, 3, grid.shape)
    sims = []
    for _ in range(2):
        sim = Simulation(grid, sources=[PointSource((11, 10, 9), Gaussian(width=5 * grid.dt))])
        sim.materials.eps = eps
        sim.update_materials()
        sims.append(sim)
    for _ in range(40):
        for sim, fn in zip(sims, (fdtd3d_step_reference, kernel.fdtd3d_step), strict=True):
            fn(
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
            sim.step_count += 1
            for src in sim.sources:
                src.apply(sim.e(), sim.time)
    scale = max(float(np.abs(sims[0].fields[c]).max()) for c in sims[0].fields)
    for c in sims[0].fields:
        assert np.max(np.abs(sims[0].fields[c] - sims[1].fields[c])) <= tol * scale, c
    assert kernel.KERNELS[("physics.fdtd3d_step", "cpu")] is kernel.fdtd3d_step
