"""Fast versions of the validations (the full runs are `hyperion-physics validate`)."""

import pytest

from hyperion.physics import validation as v


def test_cpml_reflection_below_minus_60_db_and_falls_with_thickness():
    db = {c: v.pml_reflection_db(c, interior=30, steps=160) for c in (8, 10, 16)}
    assert db[10] <= -60
    assert db[16] < db[10] < db[8]


def test_fresnel_half_space():
    out = v.fresnel(cells=500, band_points=6)
    assert out["R_rel_err"] <= 0.01 and out["T_rel_err"] <= 0.01


def test_cavity_modes_match_continuum_and_discrete_relation():
    out = v.cavity_modes(steps=5000)
    assert out["cavity_rel_err"] <= 5e-3
    assert out["discrete_rel_err"] <= 1e-5
    assert out["discrete_rel_err"] < out["cavity_rel_err"] / 50


def test_dispersion():
    assert v.magic_step_error() <= 1e-12
    pv = v.phase_velocity_error()
    assert pv["predicted"] == pytest.approx(-0.0127, abs=2e-4)
    assert pv["rel_err"] <= 0.1
    an = v.anisotropy_3d()
    assert an["anisotropy_measured"] < 0  # slower along the axes than along the diagonal
    assert an["anisotropy_measured"] == pytest.approx(an["anisotropy_predicted"], rel=1e-3)


def test_stability_edge():
    assert v.refuses_above_limit(1) and v.refuses_above_limit(2) and v.refuses_above_limit(3)
    assert v.instability_growth(steps=300) > 1e6


def test_energy_conservation_short():
    assert v.energy_drift(steps=1500) <= 1e-9


@pytest.mark.slow
def test_energy_conservation_1e4_steps():
    assert v.energy_drift(steps=10_000) <= 1e-6
