"""The ``cuda`` kernel provider: numba.cuda kernels on CuPy device arrays.

Importing this package imports neither CuPy nor numba-cuda, and never touches
a GPU: the registry may load the provider on any machine. The first
:meth:`CudaProvider.kernels` call checks what is needed (CuPy, numba-cuda, a
CUDA device, and that ``numba.cuda`` is not Numba's simulator) and, if all is
there, imports the kernel modules and merges their ``KERNELS`` tables. If
anything is missing it offers no kernels, and :attr:`CudaProvider.unavailable`
says why (``hyperion-kernels list`` shows it).

Modules: :mod:`.softmax`, :mod:`.layernorm`, :mod:`.attention` and
:mod:`.attention_backward` register ABI ops, :mod:`.fdtd` the Yee update of
hyperion-physics (``physics.fdtd3d_step``); :mod:`.matmul` is the tiled
shared-memory matmul for teaching and benchmarks (CuPy's cuBLAS stays the
default); :mod:`.reductions` holds the warp-shuffle and block reductions;
:mod:`.ptx` compiles every kernel to PTX without a GPU (see
``python -m hyperion.kernels.cuda.ptx_report``).

Examples:
    >>> from hyperion.kernels.cuda import provider
    >>> provider.name
    'cuda'
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable, Mapping
from typing import Any

KERNEL_MODULES = ("softmax", "layernorm", "attention_ops", "fdtd")
"""Modules of this package whose ``KERNELS`` the provider merges."""


def _truthy(value: str | None) -> bool:
    return value is not None and value.strip() not in ("", "0")


def find_unavailable_reason() -> str | None:
    """Why the CUDA kernels cannot run here, or ``None`` if they can.

    Checks, in order, without importing anything heavy until the cheap checks
    pass: the simulator switch, CuPy, numba-cuda, then a visible CUDA device.
    """
    if _truthy(os.environ.get("NUMBA_ENABLE_CUDASIM")):
        return "NUMBA_ENABLE_CUDASIM is set: numba.cuda is the CPU simulator, which cannot run kernels on CuPy arrays"
    if importlib.util.find_spec("cupy") is None:
        return "CuPy is not installed (pip install 'hyperion-kernels[cuda]')"
    if importlib.util.find_spec("numba_cuda") is None:
        return "numba-cuda is not installed (pip install 'hyperion-kernels[cuda]')"
    try:
        import cupy

        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # CuPy raises its own runtime errors when no driver is present
        return f"no usable CUDA device: {type(exc).__name__}: {exc}"
    if count == 0:
        return "no CUDA device is visible"
    from numba import cuda

    if not cuda.is_available():
        return "numba.cuda cannot use the CUDA driver (cuda.is_available() is False)"
    return None


class CudaProvider:
    """The provider the ``cuda`` entry point loads.

    Attributes:
        name: ``"cuda"``.
        unavailable: After the first :meth:`kernels` call, why no
            kernels are offered (``None`` when they are).
    """

    name = "cuda"

    def __init__(self) -> None:
        self.unavailable: str | None = None
        self._kernels: dict[tuple[str, str], Callable[..., Any]] | None = None

    def kernels(self) -> Mapping[tuple[str, str], Callable[..., Any]]:
        """The ``(op, "cuda")`` implementations, or an empty mapping if they cannot run."""
        if self._kernels is None:
            self.unavailable = find_unavailable_reason()
            table: dict[tuple[str, str], Callable[..., Any]] = {}
            if self.unavailable is None:
                for name in KERNEL_MODULES:
                    module = importlib.import_module(f"{__name__}.{name}")
                    table.update(module.KERNELS)
            self._kernels = table
        return dict(self._kernels)


provider = CudaProvider()

__all__ = ["CudaProvider", "find_unavailable_reason", "provider"]
