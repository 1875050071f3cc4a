"""Put ``numba.cuda`` in the right mode before any CUDA test module imports it.

``NUMBA_ENABLE_CUDASIM`` is read once, when ``numba.cuda`` is first imported.
On a machine without a GPU this conftest imports ``numba.cuda`` with the
variable set, so the kernels run on Numba's CUDA simulator, then restores the
environment: nothing else in the test session (subprocesses included) sees
the variable, and no other kernels test imports ``numba.cuda``. On a machine
with a GPU it leaves ``numba.cuda`` alone: the same tests then launch the
kernels on the device, and the ``gpu``-marked tests run too.

The PTX tests need the compiler, not the simulator, so they run in a
subprocess (see ``test_ptx.py``).
"""

from __future__ import annotations

import importlib.util
import os
import sys

import pytest

SIM_VAR = "NUMBA_ENABLE_CUDASIM"


def gpu_present() -> bool:
    """Whether CuPy is installed and sees a CUDA device."""
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # no driver, no device: CuPy raises its own errors
        return False


# --8<-- [start:simulator]
def _prepare_numba_cuda() -> str | None:
    """Import numba.cuda in simulator mode when there is no GPU; say why kernels cannot run."""
    if importlib.util.find_spec("numba_cuda") is None:
        return "numba-cuda is not installed (pip install 'hyperion-kernels[cuda]')"
    if "numba.cuda" not in sys.modules and not gpu_present():
        previous = os.environ.get(SIM_VAR)
        os.environ[SIM_VAR] = "1"
        try:
            import numba.cuda  # noqa: F401 - the import is what fixes the mode
        finally:
            if previous is None:
                del os.environ[SIM_VAR]
            else:
                os.environ[SIM_VAR] = previous
    from hyperion.kernels.cuda.device import simulator_enabled

    if not simulator_enabled() and not gpu_present():
        return "numba.cuda was imported without the simulator before these tests ran, and there is no GPU"
    return None


# --8<-- [end:simulator]


KERNEL_SKIP_REASON = _prepare_numba_cuda()


@pytest.fixture
def cuda_kernels() -> None:
    """Skip a test that launches kernels when they cannot run in this process."""
    if KERNEL_SKIP_REASON is not None:
        pytest.skip(KERNEL_SKIP_REASON)
