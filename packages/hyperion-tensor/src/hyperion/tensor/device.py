"""Devices and their array modules.

A tensor lives on ``"cpu"`` (storage is a NumPy array) or ``"cuda"`` (a CuPy
array). Code that does math asks for ``xp = array_module(device)`` and calls
``xp.exp`` etc., so one code path serves both. CuPy is imported the first
time a CUDA tensor is needed, never at import time.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

import numpy as np

from hyperion.tensor.errors import DeviceError

DEVICES = ("cpu", "cuda")
_cupy: ModuleType | None = None

INSTALL_HINT = "install the CUDA extra: pip install 'hyperion-tensor[cuda]'"


def to_device(device: Any) -> str:
    """Normalize a device name (``"cpu"``, ``"cuda"``, ``"cuda:0"``).

    Raises:
        DeviceError: for anything else, naming it.
    """
    name = str(getattr(device, "type", device) if not isinstance(device, str) else device).lower()
    if name in ("cuda:0", "gpu"):
        name = "cuda"
    if name not in DEVICES:
        raise DeviceError(f"unknown device {device!r}; expected one of {', '.join(DEVICES)}")
    return name


def cupy() -> ModuleType:
    """Import CuPy and check that a GPU is visible.

    Raises:
        DeviceError: if CuPy is missing (with the install command) or no CUDA device exists.
    """
    global _cupy
    if _cupy is None:
        try:
            module = importlib.import_module("cupy")
        except ImportError as exc:
            raise DeviceError(f"device 'cuda' needs CuPy, which is not installed; {INSTALL_HINT}") from exc
        try:
            count = module.cuda.runtime.getDeviceCount()
        except Exception as exc:  # CUDARuntimeError, missing driver, ...
            raise DeviceError(f"device 'cuda' requested but no CUDA device is available ({exc})") from exc
        if count < 1:
            raise DeviceError("device 'cuda' requested but no CUDA device is available")
        _cupy = module
    return _cupy


def cuda_available() -> bool:
    """Whether CuPy is installed and can see a GPU."""
    try:
        cupy()
    except DeviceError:
        return False
    return True


def array_module(device: str) -> ModuleType:
    """``numpy`` for ``"cpu"``, ``cupy`` for ``"cuda"``."""
    return np if device == "cpu" else cupy()


def device_of_array(array: Any) -> str:
    """The device an array lives on, by its type (no CuPy import needed)."""
    return "cpu" if isinstance(array, np.ndarray | np.generic) else "cuda"
