import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperion.autograd as ag
from hyperion.physics import Grid
from hyperion.physics.adjoint import TMzProblem, adjoint_step, dft_amplitudes, forward_step, simulate
from hyperion.physics.validation.gradient import gradient_check, make_problem


@settings(max_examples=8, deadline=None)
@given(
    nx=st.integers(24, 32),
    ny=st.integers(24, 32),
    boundary=st.sampled_from(["pml", "pec", "periodic"]),
    seed=st.integers(0, 2**16),
)
def test_adjoint_step_is_the_transpose_of_the_step(nx, ny, boundary, seed):
    grid = Grid((nx, ny), pml_cells=6, boundary=boundary)
    prob = TMzProblem(grid, (5, 6), np.zeros(4), ((nx - 6, ny - 7),), 1e10)
    rng = np.random.default_rng(seed)
    ca, cb, _ = prob.coefficients(rng.uniform(1, 3, (nx, ny)))
    s, ds, g = rng.standard_normal((3, prob.size))
    jds = forward_step(prob, s + ds, ca, cb, 0.7, 2) - forward_step(prob, s, ca, cb, 0.7, 2)
    g_in, *_ = adjoint_step(prob, s, forward_step(prob, s, ca, cb, 0.7, 2), g, ca, cb, 0.7, 2)
    assert np.dot(jds, g) == pytest.approx(np.dot(ds, g_in), rel=1e-10)


@settings(max_examples=6, deadline=None)
@given(
    nx=st.sampled_from([15, 16, 27]),
    ny=st.sampled_from([15, 30]),
    kappa=st.sampled_from([1.0, 3.0]),
    seed=st.integers(0, 2**16),
)
def test_adjoint_step_is_the_transpose_with_thick_or_stretched_layers(nx, ny, kappa, seed):
    # 6-cell layers on 15 cells leave one cell between the two slabs of an axis; κ > 1 exercises 1/κ.
    grid = Grid((nx, ny), pml_cells=6, pml_kappa_max=kappa)
    prob = TMzProblem(grid, (4, 5), np.zeros(4), ((nx - 5, ny - 6), (3, 3)), 1e10)
    rng = np.random.default_rng(seed)
    ca, cb, _ = prob.coefficients(rng.uniform(1, 3, (nx, ny)))
    s, ds, g = rng.standard_normal((3, prob.size))
    jds = forward_step(prob, s + ds, ca, cb, 0.7, 2) - forward_step(prob, s, ca, cb, 0.7, 2)
    g_in, *_ = adjoint_step(prob, s, forward_step(prob, s, ca, cb, 0.7, 2), g, ca, cb, 0.7, 2)
    assert np.dot(jds, g) == pytest.approx(np.dot(ds, g_in), rel=1e-10)


def test_in_place_run_matches_the_reference_update():
    # Segments step one buffer in place; forward_step goes through update.fdtd3d_step_reference's maths.
    from hyperion.physics.update import fdtd3d_step_reference

    prob = make_problem(60, shape=(24, 22))
    ca, cb, _ = prob.coefficients(np.random.default_rng(2).uniform(1, 3, (24, 22)))
    v = prob.view
    ref = prob.zero_state()
    for n in range(prob.steps):
        fdtd3d_step_reference(
            None, None, v(ref, "ez"), v(ref, "hx"), v(ref, "hy"), None, ca, cb,
            np.asarray(float(prob.grid.courant)), tuple(p.as_tuple() for p in prob.profiles),
            (v(ref, "psi_e0"), v(ref, "psi_e1"), None), (v(ref, "psi_h0"), v(ref, "psi_h1"), None), prob.grid.periodic,
        )  # fmt: skip
        v(ref, "ez")[prob.source[0], prob.source[1], 0] += prob.waveform[n]
        c, s = prob.phase(n)
        for k, (tx, ty) in enumerate(prob.targets):
            v(ref, "acc")[k] += v(ref, "ez")[tx, ty, 0] * np.array([c, s])
    with ag.no_grad():
        out = simulate(
            prob, ag.from_numpy(np.random.default_rng(2).uniform(1, 3, (24, 22))), ag.from_numpy(np.ones(1)), 0
        )
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())


def test_step_by_step_path_agrees_with_the_blockwise_one():
    # A repeated target turns off the blockwise DFT bookkeeping: |a|² + |a|² must give twice the gradient.
    base = make_problem(80, shape=(24, 24))
    twice = TMzProblem(base.grid, base.source, base.waveform, base.targets * 2, base.frequency)
    eps0 = np.random.default_rng(5).uniform(1, 3, (24, 24))
    grads = []
    for prob in (base, twice):
        for every in (None, 9):
            eps = ag.from_numpy(eps0.copy(), requires_grad=True)
            amp = ag.from_numpy(np.array([1.2]), requires_grad=True)
            acc = dft_amplitudes(prob, simulate(prob, eps, amp, every))
            (acc * acc).sum().backward()
            grads.append((eps.grad.numpy(), float(amp.grad.numpy()[0])))
    for g_eps, g_amp in grads[2:]:
        np.testing.assert_allclose(g_eps, 2 * grads[0][0], rtol=1e-9, atol=1e-12 * np.abs(grads[0][0]).max())
        assert g_amp == pytest.approx(2 * grads[0][1], rel=1e-9)
    np.testing.assert_allclose(grads[1][0], grads[0][0], rtol=1e-9, atol=1e-12 * np.abs(grads[0][0]).max())


def test_gradient_matches_central_differences_after_500_steps_with_cpml():
    out = gradient_check(steps=500, cells=3)
    assert out["grad_rel_err"] <= 1e-6
    assert out["amp_rel_err"] <= 1e-6


def test_checkpointed_and_stepwise_gradients_agree():
    prob = make_problem(120, shape=(26, 26))
    rng = np.random.default_rng(3)
    eps0 = rng.uniform(1, 3, (26, 26))
    grads = []
    for every in (None, 0, 7):
        eps = ag.from_numpy(eps0.copy(), requires_grad=True)
        acc = dft_amplitudes(prob, simulate(prob, eps, ag.from_numpy(np.array([1.0])), every))
        (acc * acc).sum().backward()
        grads.append(eps.grad.numpy())
    assert np.allclose(grads[0], grads[1], rtol=1e-10, atol=0) and np.allclose(grads[0], grads[2], rtol=1e-10, atol=0)


def test_torch_autograd_through_the_same_update_agrees():
    torch = pytest.importorskip("torch")
    # A PEC TMz grid without CPML: the explicit update written in torch, differentiated by torch.
    nx, ny, steps = 12, 10, 40
    grid = Grid((nx, ny), boundary="pec")
    wave = np.sin(np.arange(steps) * 0.3)
    prob = TMzProblem(grid, (4, 5), wave, ((8, 6),), 1 / (20 * grid.dt))
    rng = np.random.default_rng(0)
    eps0 = rng.uniform(1, 3, (nx, ny))
    eps = ag.from_numpy(eps0.copy(), requires_grad=True)
    acc = dft_amplitudes(prob, simulate(prob, eps, ag.from_numpy(np.array([1.0]))))
    (acc * acc).sum().backward()

    s = float(grid.courant)
    e_t = torch.tensor(eps0, requires_grad=True)
    ez = torch.zeros(nx, ny, dtype=torch.float64)
    hx = torch.zeros(nx, ny, dtype=torch.float64)
    hy = torch.zeros(nx, ny, dtype=torch.float64)
    re = im = torch.zeros((), dtype=torch.float64)
    mask = torch.zeros(nx, ny, dtype=torch.float64)
    mask[1:-1, 1:-1] = 1
    for n in range(steps):
        dy = torch.zeros_like(ez)
        dy[:, :-1] = ez[:, 1:] - ez[:, :-1]
        dx = torch.zeros_like(ez)
        dx[:-1] = ez[1:] - ez[:-1]
        hx = hx - s * dy
        hy = hy + s * dx
        cx = torch.cat([hy[:1], hy[1:] - hy[:-1]], 0)
        cy = torch.cat([hx[:, :1], hx[:, 1:] - hx[:, :-1]], 1)
        ez = mask * (ez + s / e_t * (cx - cy))
        src = torch.zeros_like(ez)
        src[4, 5] = float(wave[n])
        ez = ez + src
        c, sn = prob.phase(n)
        re = re + ez[8, 6] * c
        im = im + ez[8, 6] * sn
    (re * re + im * im).backward()
    np.testing.assert_allclose(eps.grad.numpy(), e_t.grad.numpy(), rtol=1e-9, atol=1e-40)


def test_one_node_per_step_agrees_with_the_run():
    from hyperion.physics.adjoint import TMzStep

    prob = make_problem(40, shape=(22, 22))
    eps0 = np.random.default_rng(4).uniform(1, 3, (22, 22))
    grads = []
    for per_step in (True, False):
        eps = ag.from_numpy(eps0.copy(), requires_grad=True)
        amp = ag.from_numpy(np.array([0.8]), requires_grad=True)
        if per_step:
            state = ag.from_numpy(prob.zero_state())
            for n in range(prob.steps):
                state = TMzStep.apply(state, eps, amp, prob, n)
        else:
            state = simulate(prob, eps, amp)
        acc = dft_amplitudes(prob, state)
        (acc * acc).sum().backward()
        grads.append((eps.grad.numpy(), amp.grad.numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-9, atol=1e-12 * np.abs(grads[1][0]).max())
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-9)
