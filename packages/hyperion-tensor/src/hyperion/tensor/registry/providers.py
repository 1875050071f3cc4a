"""Kernel providers: what one is, how entry points are found and loaded.

A provider is any object with a ``name`` and a ``kernels()`` method returning
a mapping ``(op, device) -> implementation``. Third-party packages publish one
under the entry-point group ``hyperion.kernels``; the entry point's name is the
provider's name::

    [project.entry-points."hyperion.kernels"]
    cpu = "hyperion.kernels.cpu:provider"

Discovery reads only metadata. A provider's module is imported the first time
a lookup needs it (:meth:`ProviderRecord.load`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from hyperion.tensor.registry.errors import DuplicateProviderError
from hyperion.tensor.registry.selection import REFERENCE

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

Kernel = Callable[..., Any]
"""An implementation: an opaque callable the registry hands out but never calls."""

DEVICES = ("cpu", "cuda")
"""The devices a kernel can be registered for."""

RUNTIME = "<registered at runtime>"
"""The distribution reported for providers given to ``register_provider``."""


@runtime_checkable
class KernelProvider(Protocol):
    """What an entry point in ``hyperion.kernels`` must load.

    Examples:
        >>> class Doubler:
        ...     name = "doubler"
        ...     def kernels(self):
        ...         return {("double", "cpu"): lambda x: 2 * x}
        >>> isinstance(Doubler(), KernelProvider)
        True
    """

    name: str

    def kernels(self) -> Mapping[tuple[str, str], Kernel]:
        """Return the implementations this provider offers, keyed by ``(op, device)``."""
        ...


@dataclass(frozen=True)
class ProviderInfo:
    """One row of :func:`providers`.

    Attributes:
        name: The provider name used in selection specs.
        source: ``"builtin"`` (the reference), ``"entry point"`` or ``"runtime"``.
        distribution: The installed distribution that declares it (``None`` for
            the reference, ``"<registered at runtime>"`` for runtime providers).
        value: The entry point's ``module:attribute`` (``None`` if not an entry point).
        loaded: Whether its kernels are available (imported successfully).
        failed: Whether loading was tried and failed; it is then skipped.
        error: Why loading failed, else ``None``.
        enabled: Whether the current selection uses it.
    """

    name: str
    source: str
    distribution: str | None
    value: str | None
    loaded: bool
    failed: bool
    error: str | None
    enabled: bool


class OpInfo(NamedTuple):
    """One row of :func:`ops`.

    Attributes:
        op: The op name.
        device: The device.
        providers: The enabled providers implementing it, highest priority first;
            ``providers[0]`` is what ``lookup`` returns. Empty when only disabled
            providers implement it.
    """

    op: str
    device: str
    providers: tuple[str, ...]


def check_kernels(provider_name: str, table: object) -> dict[tuple[str, str], Kernel]:
    """Validate what a provider's ``kernels()`` returned and copy it into a dict.

    Raises:
        TypeError: if it is not a mapping of ``(op, device)`` pairs to callables.
        ValueError: for a device other than ``"cpu"``/``"cuda"``.
    """
    if not isinstance(table, Mapping):
        raise TypeError(f"provider {provider_name!r}: kernels() must return a mapping, got {type(table).__name__}")
    checked: dict[tuple[str, str], Kernel] = {}
    for key, fn in table.items():
        if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, str) for k in key)):
            raise TypeError(f"provider {provider_name!r}: kernel keys must be (op, device) string pairs, got {key!r}")
        if key[1] not in DEVICES:
            raise ValueError(
                f"provider {provider_name!r}: kernel {key!r} has unknown device {key[1]!r}; "
                f"devices are {', '.join(DEVICES)}"
            )
        if not callable(fn):
            raise TypeError(f"provider {provider_name!r}: kernel {key!r} is not callable: {fn!r}")
        checked[key] = fn
    return checked


class ProviderRecord:
    """What the registry knows about one provider (not the reference).

    ``kernels`` is ``None`` until loaded; ``error`` is set if loading failed.
    """

    def __init__(
        self,
        name: str,
        *,
        distribution: str,
        entry_point: EntryPoint | None = None,
        provider: object | None = None,
        kernels: dict[tuple[str, str], Kernel] | None = None,
    ) -> None:
        self.name = name
        self.distribution = distribution
        self.entry_point = entry_point
        self.provider = provider
        self.kernels = kernels
        self.error: str | None = None

    @property
    def source(self) -> str:
        """``"entry point"`` or ``"runtime"``."""
        return "runtime" if self.entry_point is None else "entry point"

    @property
    def value(self) -> str | None:
        """The entry point's ``module:attribute``, if any."""
        return None if self.entry_point is None else self.entry_point.value

    def describe(self) -> str:
        """``'name' (distribution 'd', entry point 'm:a')`` for messages."""
        where = f"distribution {self.distribution!r}"
        if self.value is not None:
            where += f", entry point {self.value!r}"
        return f"{self.name!r} ({where})"

    def load(self) -> tuple[object, dict[tuple[str, str], Kernel]]:
        """Import the entry point and fetch its kernels. Does not modify the record.

        Raises:
            Exception: whatever importing or calling the provider raised, or a
                TypeError/ValueError if it does not follow :class:`KernelProvider`.
        """
        assert self.entry_point is not None, "runtime providers are loaded at registration"
        provider = self.entry_point.load()
        name = getattr(provider, "name", None)
        if name != self.name:
            raise ValueError(f"entry point {self.name!r} loaded a provider whose name is {name!r}; they must match")
        if not callable(getattr(provider, "kernels", None)):
            raise TypeError(f"entry point {self.name!r} loaded {provider!r}, which has no kernels() method")
        return provider, check_kernels(self.name, provider.kernels())


def distribution_of(entry_point: EntryPoint) -> str:
    """The name of the distribution that declares an entry point."""
    dist = getattr(entry_point, "dist", None)
    name = getattr(dist, "name", None) if dist is not None else None
    return str(name) if name else "<unknown distribution>"


def discover(entry_points: Iterable[EntryPoint]) -> dict[str, ProviderRecord]:
    """Turn entry points into unloaded provider records, rejecting duplicate names.

    Raises:
        DuplicateProviderError: if two entry points share a name (or one is
            named ``reference``), naming both distributions.
    """
    records: dict[str, ProviderRecord] = {}
    for entry_point in entry_points:
        record = ProviderRecord(entry_point.name, distribution=distribution_of(entry_point), entry_point=entry_point)
        if record.name == REFERENCE:
            raise DuplicateProviderError(
                f"kernel provider {record.describe()} uses the name {REFERENCE!r}, which is reserved for "
                "hyperion-tensor's built-in reference implementations",
                name=REFERENCE,
                distributions=("hyperion-tensor", record.distribution),
            )
        first = records.get(record.name)
        if first is not None:
            if (first.distribution, first.value) == (record.distribution, record.value):
                continue  # the same distribution seen twice on sys.path
            raise duplicate_error(first, record)
        records[record.name] = record
    return records


def duplicate_error(first: ProviderRecord, second: ProviderRecord) -> DuplicateProviderError:
    """The error for two providers named alike."""
    return DuplicateProviderError(
        f"two kernel providers are named {first.name!r}: {first.describe()} and {second.describe()}. "
        "Provider names must be unique; uninstall or rename one of them.",
        name=first.name,
        distributions=(first.distribution, second.distribution),
    )
