import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hyperion.physics import Gaussian, Grid, PointSource, Simulation, staggered_energy
from hyperion.physics.update import OP, backward_difference, forward_difference, step
from hyperion.tensor import registry


def _energy_series(sim, steps):
    eps, mu = sim.materials.eps, sim.materials.mu
    h_before = [None if f is None else f.copy() for f in sim.h()]
    out = []
    for _ in range(steps):
        e_now = [None if f is None else f.copy() for f in sim.e()]
        sim.step()
        out.append(staggered_energy(e_now, h_before, sim.h(), eps, mu))
        h_before = [None if f is None else f.copy() for f in sim.h()]
    return np.array(out)


@settings(max_examples=12, deadline=None)
@given(
    shape=st.sampled_from([(17,), (12, 9), (7, 6, 5)]),
    mode=st.sampled_from(["tm", "te", "3d"]),
    periodic_x=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_lossless_update_conserves_staggered_energy(shape, mode, periodic_x, seed):
    if len(shape) == 3:
        mode = "3d"
    boundary = ("periodic" if periodic_x else "pec", "pec", "pec")
    grid = Grid(shape, boundary=boundary, mode=mode)
    sim = Simulation(grid)
    rng = np.random.default_rng(seed)
    sim.materials.eps = rng.uniform(1, 3, grid.shape)
    sim.materials.mu = rng.uniform(1, 2, grid.shape)
    sim.update_materials()
    for f in sim.e():
        if f is not None:
            f[...] = rng.standard_normal(f.shape)
    sim.step()  # walls zeroed, fields consistent
    w = _energy_series(sim, 60)
    assert np.max(np.abs(w - w[0])) <= 1e-12 * abs(w[0])


def test_conductivity_dissipates():
    grid = Grid((30, 30), boundary="pec")
    sim = Simulation(grid)
    sim.materials.sigma[...] = 5.0
    sim.update_materials()
    sim.fields["ez"][10:20, 10:20] = 1.0
    w = _energy_series(sim, 80)
    assert w[-1] < 0.5 * w[0]


def test_difference_operators_are_adjoint_pairs():
    rng = np.random.default_rng(1)
    f, g = rng.standard_normal((2, 9, 4, 3))
    for periodic in (True, False):
        d = np.empty_like(f)
        lhs = np.sum(forward_difference(f, 0, periodic, d) * g)
        gg = g.copy()
        if not periodic:
            gg[-1] = 0.0  # PEC: the last half-cell H is outside the domain
        rhs = -np.sum(f * backward_difference(gg, 0, periodic, np.empty_like(gg)))
        if periodic:
            assert lhs == pytest.approx(rhs)
        else:
            gg2 = g.copy()
            gg2[-1] = 0
            assert np.sum(forward_difference(f, 0, False, d) * gg2) == pytest.approx(rhs)


def test_reference_is_registered_and_float32_tracks_float64():
    assert registry.which(OP, "cpu") in {"reference", "cpu"}
    out = {}
    for dtype in ("float32", "float64"):
        g = Grid((40, 40), pml_cells=8, dtype=dtype)
        sim = Simulation(g, sources=[PointSource((20, 20), Gaussian(width=8 * g.dt))])
        sim.run(60)
        assert sim.fields["ez"].dtype == np.dtype(dtype)
        out[dtype] = sim.fields["ez"].astype(np.float64)
    assert np.max(np.abs(out["float32"] - out["float64"])) < 1e-5 * np.max(np.abs(out["float64"]))


def test_step_function_falls_back_to_reference_for_missing_components():
    g = Grid((20, 20), boundary="pec")
    sim = Simulation(g)
    sim.fields["ez"][10, 10] = 1.0
    args = (
        *sim.e(),
        *sim.h(),
        sim.ca,
        sim.cb,
        sim.ch,
        tuple(p.as_tuple() for p in sim.profiles),
        sim.psi_e,
        sim.psi_h,
        g.periodic,
    )
    step("cpu", *args)
    assert sim.fields["hx"][10, 9] != 0 and sim.fields["hy"][9, 10] != 0
