"""The solver on CuPy arrays (device "cuda"): the same results as on NumPy."""

import numpy as np
import pytest

from hyperion.physics import Gaussian, Grid, PointSource, Probe, Simulation

pytestmark = pytest.mark.gpu


def test_cuda_run_matches_cpu():
    cupy = pytest.importorskip("cupy")
    try:
        cupy.cuda.runtime.getDeviceCount()
    except Exception:  # noqa: BLE001 - no driver or no device
        pytest.skip("no CUDA device")
    out = {}
    for device in ("cpu", "cuda"):
        grid = Grid((48, 40), pml_cells=8, device=device)
        probe = Probe("p", (30, 20))
        sim = Simulation(grid, sources=[PointSource((20, 20), Gaussian(width=8 * grid.dt))], monitors=[probe])
        sim.run(120)
        out[device] = np.array(probe.values)
    np.testing.assert_allclose(out["cuda"], out["cpu"], rtol=1e-9, atol=1e-12)
