"""Errors and warnings raised by the kernel registry.

Each error also derives from the built-in exception a caller would naturally
catch (``LookupError``, ``ValueError``), like the rest of
:mod:`hyperion.tensor.errors`.
"""

from __future__ import annotations

from hyperion.tensor.errors import HyperionError


class KernelNotFoundError(HyperionError, LookupError):
    """No implementation of an op on a device under the current selection.

    Attributes:
        op: The op that was looked up.
        device: The device it was looked up for.
    """

    def __init__(self, message: str, *, op: str, device: str) -> None:
        super().__init__(message)
        self.op = op
        self.device = device


class DuplicateProviderError(HyperionError, ValueError):
    """Two kernel providers claim the same name.

    Attributes:
        name: The contested provider name.
        distributions: Where each claimant comes from (distribution names, or
            ``"<registered at runtime>"`` for :func:`register_provider`).
    """

    def __init__(self, message: str, *, name: str, distributions: tuple[str, str]) -> None:
        super().__init__(message)
        self.name = name
        self.distributions = distributions


class KernelSelectionError(HyperionError, ValueError):
    """A selection spec (``use_kernels``, ``HYPERION_KERNELS``) that cannot be used."""


class ProviderLoadWarning(RuntimeWarning):
    """A kernel provider could not be loaded and is skipped (issued once per provider)."""
