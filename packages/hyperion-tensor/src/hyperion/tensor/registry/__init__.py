"""The kernel registry: ``(op, device) -> implementation``.

Every op has a *reference* implementation, registered by the module that
defines the op (composed NumPy/CuPy code; it is the oracle faster kernels are
tested against). *Providers* — installed packages declaring an entry point in
the group ``hyperion.kernels`` — may offer faster implementations of some ops.
On every call an op asks :func:`lookup` which implementation to run.

Which providers are used, in which order, is the *selection*, written as a
spec: comma-separated provider names, highest priority first; ``-name``
disables one; ``reference`` is the built-in provider of reference
implementations. Names not mentioned keep their default place and stay
enabled. The default order is every discovered provider sorted by name
(entry-point iteration order depends on ``sys.path``, so it is not used),
then ``reference``. The selection comes from, innermost first:

1. :func:`use_kernels` blocks (a context variable: per thread, per asyncio
   task, nestable; an inner spec is applied over the outer one);
2. :func:`set_default_kernels`;
3. the environment variable ``HYPERION_KERNELS``, read the first time it is
   needed (never at import).

Nothing is discovered or imported when this module is imported. Entry-point
metadata is read once, on the first lookup or listing; a provider's module is
imported only when a lookup first reaches it in the priority order. A provider
that fails to load is skipped with one :class:`ProviderLoadWarning` and shown as
failed by :func:`providers`. Installing or removing a provider takes effect in
a new process.

Resolutions are cached per ``(op, device, selection)``; registering anything
or changing the default clears the cache.

Examples:
    >>> from hyperion.tensor import registry
    >>> @registry.reference("example.double")
    ... def double(x):
    ...     return 2 * x
    >>> registry.lookup("example.double", "cpu")(21)
    42
    >>> registry.which("example.double", "cpu")
    'reference'
    >>> with registry.use_kernels("-reference"):  # doctest: +ELLIPSIS
    ...     registry.lookup("example.double", "cpu")
    Traceback (most recent call last):
    ...
    hyperion.tensor.registry.errors.KernelNotFoundError: no kernel for op 'example.double' on device 'cpu' ...
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable

from hyperion.tensor.registry.errors import (
    DuplicateProviderError,
    KernelNotFoundError,
    KernelSelectionError,
    ProviderLoadWarning,
)
from hyperion.tensor.registry.kernel_registry import ENTRY_POINT_GROUP, ENV_VAR, KernelRegistry
from hyperion.tensor.registry.providers import DEVICES, Kernel, KernelProvider, OpInfo, ProviderInfo
from hyperion.tensor.registry.selection import REFERENCE

__all__ = [
    "DEVICES",
    "ENTRY_POINT_GROUP",
    "ENV_VAR",
    "REFERENCE",
    "DuplicateProviderError",
    "Kernel",
    "KernelNotFoundError",
    "KernelProvider",
    "KernelRegistry",
    "KernelSelectionError",
    "OpInfo",
    "ProviderInfo",
    "ProviderLoadWarning",
    "default_registry",
    "lookup",
    "ops",
    "providers",
    "reference",
    "register_provider",
    "register_reference",
    "set_default_kernels",
    "unregister_provider",
    "use_kernels",
    "which",
]

default_registry = KernelRegistry()
"""The registry the module-level functions use (and the tensor ops)."""


def register_reference(op: str, fn: Kernel, devices: Iterable[str] = DEVICES) -> None:
    """Register the reference implementation of ``op`` on ``devices``.

    Registering again replaces the earlier function, so a module that defines
    ops can be reloaded.

    Args:
        op: The op name, e.g. ``"softmax"``.
        fn: The implementation; the registry never calls it.
        devices: The devices it serves (default: ``"cpu"`` and ``"cuda"``).

    Raises:
        ValueError: for an empty op name or an unknown device.
        TypeError: if ``fn`` is not callable.

    Examples:
        >>> register_reference("example.neg", lambda x: -x, devices=["cpu"])
        >>> lookup("example.neg", "cpu")(3)
        -3
    """
    default_registry.register_reference(op, fn, devices)


def reference(op: str, devices: Iterable[str] = DEVICES) -> Callable[[Kernel], Kernel]:
    """Decorator that registers the function as the reference for ``op``.

    The function is returned unchanged.

    Examples:
        >>> @reference("example.square")
        ... def square(x):
        ...     return x * x
        >>> square(3)
        9
    """
    return default_registry.reference(op, devices)


def lookup(op: str, device: str) -> Kernel:
    """The implementation of ``op`` on ``device`` under the current selection.

    Called on every tensor op; a repeated lookup is one dictionary access.

    Raises:
        KernelNotFoundError: naming the op and device, with close matches for an
            unknown op or the reason nothing enabled implements it.
        KernelSelectionError: if ``HYPERION_KERNELS`` holds an invalid spec.
        DuplicateProviderError: if two installed providers share a name.

    Examples:
        >>> register_reference("example.inc", lambda x: x + 1)
        >>> lookup("example.inc", "cuda")(1)
        2
    """
    return default_registry.lookup(op, device)


def which(op: str, device: str) -> str:
    """The name of the provider whose implementation :func:`lookup` would return.

    Examples:
        >>> register_reference("example.dec", lambda x: x - 1)
        >>> which("example.dec", "cpu")
        'reference'
    """
    return default_registry.which(op, device)


def use_kernels(spec: str) -> contextlib.AbstractContextManager[None]:
    """Use the selection ``spec`` inside a ``with`` block.

    The spec is applied over the enclosing selection (names it does not
    mention keep their outer setting). The selection is held in a context
    variable: other threads and asyncio tasks are unaffected.

    Args:
        spec: e.g. ``"cuda,cpu"`` (priority order) or ``"-cpu"`` (disable).

    Raises:
        KernelSelectionError: (a ``ValueError``) for a malformed spec or a name
            that is not a known provider, listing the known ones.

    Examples:
        >>> register_reference("example.half", lambda x: x / 2)
        >>> with use_kernels("reference"):
        ...     which("example.half", "cpu")
        'reference'
    """
    return default_registry.use_kernels(spec)


def set_default_kernels(spec: str | None) -> None:
    """Set the selection used outside :func:`use_kernels` blocks.

    Args:
        spec: A selection spec, or ``None`` to fall back to ``HYPERION_KERNELS``
            (read again the next time it is needed).

    Raises:
        KernelSelectionError: for a malformed spec or an unknown provider.

    Examples:
        >>> set_default_kernels("reference")
        >>> set_default_kernels(None)
    """
    default_registry.set_default_kernels(spec)


def register_provider(provider: KernelProvider) -> None:
    """Add a provider object at runtime, as if discovered from an entry point.

    Raises:
        DuplicateProviderError: if a provider of that name is already known.

    Examples:
        >>> class Tripler:
        ...     name = "example-tripler"
        ...     def kernels(self):
        ...         return {("example.triple", "cpu"): lambda x: 3 * x}
        >>> register_provider(Tripler())
        >>> which("example.triple", "cpu")
        'example-tripler'
        >>> unregister_provider("example-tripler")
    """
    default_registry.register_provider(provider)


def unregister_provider(name: str) -> None:
    """Forget the provider ``name`` (mainly for tests).

    Raises:
        ValueError: if no such provider is known (``reference`` cannot be removed).
    """
    default_registry.unregister_provider(name)


def providers() -> list[ProviderInfo]:
    """Every known provider, enabled ones first in priority order. Imports nothing.

    Examples:
        >>> [(p.name, p.source, p.enabled) for p in providers() if p.name == "reference"]
        [('reference', 'builtin', True)]
    """
    return default_registry.providers()


def ops() -> list[OpInfo]:
    """Every ``(op, device)`` with the enabled providers implementing it, in priority order.

    Loads the enabled providers (never the disabled ones). ``providers`` of each
    row is empty when only disabled providers implement the op.

    Examples:
        >>> register_reference("example.id", lambda x: x, devices=["cpu"])
        >>> [row for row in ops() if row.op == "example.id"]
        [OpInfo(op='example.id', device='cpu', providers=('reference',))]
    """
    return default_registry.ops()
