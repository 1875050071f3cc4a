"""The CUDA Yee update vs hyperion-physics' reference step (CPML, periodic and PEC axes)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("numba_cuda", reason="numba-cuda is not installed")
update = pytest.importorskip("hyperion.physics.update", reason="hyperion-physics (the reference) is not installed")

from hyperion.kernels.cuda.fdtd import KERNELS, fdtd3d_step  # noqa: E402

pytestmark = pytest.mark.usefixtures("cuda_kernels")


def make_case(shape, halves, periodic, dtype, seed):  # noqa: ANN001, ANN201 - test data builder
    """Random fields, coefficients and CPML state; ``halves[a]`` slab rows per side (0: no CPML)."""
    rng = np.random.default_rng(seed)
    fields = [rng.standard_normal(shape).astype(dtype) for _ in range(6)]
    ca = rng.uniform(0.8, 1.0, shape).astype(dtype)
    cb = rng.uniform(0.2, 0.5, shape).astype(dtype)
    ch = np.asarray(rng.uniform(0.2, 0.5), dtype=dtype).reshape(1, 1, 1)  # broadcast coefficient
    profiles, psi_e, psi_h = [], [], []
    for axis, half in enumerate(halves):
        n = shape[axis]
        profiles.append(tuple(rng.uniform(0.1, 1.0, n).astype(dtype) for _ in range(6)) + (np.arange(n),))
        psi_shape = [2, *shape]
        psi_shape[axis + 1] = 2 * half
        psi_e.append(rng.standard_normal(psi_shape).astype(dtype) if half else None)
        psi_h.append(rng.standard_normal(psi_shape).astype(dtype) if half else None)
    return fields, (ca, cb, ch), tuple(profiles), psi_e, psi_h, tuple(periodic)


def copy_state(fields, psi_e, psi_h):  # noqa: ANN001, ANN201
    return (
        [f.copy() for f in fields],
        tuple(None if p is None else p.copy() for p in psi_e),
        tuple(None if p is None else p.copy() for p in psi_h),
    )


@pytest.mark.parametrize(
    ("shape", "halves", "periodic", "dtype"),
    [
        ((5, 4, 6), (2, 0, 1), (False, True, False), np.float64),  # CPML on x and z, periodic y
        ((6, 5, 1), (2, 2, 0), (False, False, True), np.float32),  # 2-D: z collapsed
        ((3, 7, 4), (0, 3, 0), (True, False, True), np.float32),
    ],
)
def test_two_steps_match_the_reference(shape, halves, periodic, dtype) -> None:  # noqa: ANN001
    fields, coefs, profiles, psi_e, psi_h, per = make_case(shape, halves, periodic, dtype, seed=sum(shape))
    ref_fields, ref_psi_e, ref_psi_h = copy_state(fields, psi_e, psi_h)
    got_fields, got_psi_e, got_psi_h = copy_state(fields, psi_e, psi_h)
    for _ in range(2):
        update.fdtd3d_step_reference(*ref_fields, *coefs, profiles, ref_psi_e, ref_psi_h, per)
        fdtd3d_step(*got_fields, *coefs, profiles, got_psi_e, got_psi_h, per)
    tol = {"rtol": 1e-5, "atol": 1e-5} if dtype == np.float32 else {"rtol": 1e-10, "atol": 1e-12}
    for name, got, ref in zip(("ex", "ey", "ez", "hx", "hy", "hz"), got_fields, ref_fields):
        np.testing.assert_allclose(got, ref, **tol, err_msg=name)
    for got, ref in zip(got_psi_e + got_psi_h, ref_psi_e + ref_psi_h):
        if ref is not None:
            np.testing.assert_allclose(got, ref, **tol)


def test_non_contiguous_field_is_rejected() -> None:
    fields, coefs, profiles, psi_e, psi_h, per = make_case((3, 3, 3), (0, 0, 0), (True,) * 3, np.float64, 0)
    fields[0] = np.asfortranarray(fields[0])
    with pytest.raises(ValueError, match="ex must be C-contiguous"):
        fdtd3d_step(*fields, *coefs, profiles, psi_e, psi_h, per)


def test_kernel_table_names_the_physics_op() -> None:
    assert set(KERNELS) == {("physics.fdtd3d_step", "cuda")}
