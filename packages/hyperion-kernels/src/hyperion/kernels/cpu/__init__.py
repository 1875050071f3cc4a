"""The ``cpu`` kernel provider: Numba-compiled fused kernels on NumPy arrays.

The entry point ``cpu = "hyperion.kernels.cpu:provider"`` loads :data:`provider`.
Importing this module imports neither Numba nor any kernel module: the
provider imports them the first time the registry asks for its kernels, and
each kernel is compiled for a dtype the first time it runs on that dtype
(``cache=True`` keeps the machine code on disk for the next process).

Without Numba (``hyperion-kernels`` installed without its ``[cpu]`` extra) the
provider still loads and offers no kernels; :attr:`CpuProvider.unavailable`
says why, and ``hyperion-kernels list`` shows it.

Examples:
    >>> from hyperion.kernels.cpu import provider
    >>> provider.name
    'cpu'
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["MODULES", "CpuProvider", "provider"]

MODULES = ("softmax", "normalization", "activation", "cross_entropy", "im2col", "adamw", "attention_dense", "matmul", "fdtd")
"""The kernel modules of this package, each with a ``KERNELS`` dict; a module that is not present is skipped."""

Kernel = Callable[..., Any]


class CpuProvider:
    """Merges the ``KERNELS`` tables of the CPU kernel modules, lazily.

    Args:
        modules: The module names under ``hyperion.kernels.cpu`` to merge.
        require_numba: Set to ``False`` to behave as if Numba were missing
            (the package without its ``[cpu]`` extra); for tests and comparisons.

    Attributes:
        unavailable: Why no kernels are offered (Numba missing), else ``None``.
        missing: Kernel modules that are not part of this installation.
        errors: ``module -> error`` for kernel modules that failed to import (skipped, with a warning).
    """

    name = "cpu"

    def __init__(self, modules: tuple[str, ...] = MODULES, *, require_numba: bool = True) -> None:
        self._modules = tuple(modules)
        self._simulate_missing_numba = not require_numba
        self._lock = threading.Lock()
        self._kernels: dict[tuple[str, str], Kernel] | None = None
        self.unavailable: str | None = None
        self.missing: list[str] = []
        self.errors: dict[str, str] = {}

    def kernels(self) -> Mapping[tuple[str, str], Kernel]:
        """Every ``(op, "cpu") -> kernel`` of the available modules (empty without Numba)."""
        with self._lock:
            if self._kernels is None:
                self._kernels = self._load()
            return dict(self._kernels)

    def _load(self) -> dict[tuple[str, str], Kernel]:
        reason = self._numba_missing()
        if reason is not None:
            self.unavailable = reason
            return {}
        merged: dict[tuple[str, str], Kernel] = {}
        for name in self._modules:
            qualified = f"{__name__}.{name}"
            if importlib.util.find_spec(qualified) is None:
                self.missing.append(name)
                continue
            try:
                module = importlib.import_module(qualified)
                table = module.KERNELS
            except Exception as exc:  # one broken module must not take the others down
                self.errors[name] = f"{type(exc).__name__}: {exc}"
                warnings.warn(f"hyperion-kernels: cpu module {name!r} failed to load and is skipped: {exc}", RuntimeWarning, stacklevel=3)
                continue
            for key, fn in table.items():
                if key in merged:
                    raise ValueError(f"cpu kernel modules define {key!r} twice (again in {qualified})")
                merged[key] = fn
        return merged

    def _numba_missing(self) -> str | None:
        if self._simulate_missing_numba:
            return "Numba is disabled for this provider (require_numba=False)"
        try:
            import numba  # noqa: F401
        except ImportError as exc:
            return f"Numba is not installed ({exc}); install hyperion-kernels[cpu] for the CPU kernels"
        return None


provider = CpuProvider()
"""The provider object the ``cpu`` entry point loads."""
