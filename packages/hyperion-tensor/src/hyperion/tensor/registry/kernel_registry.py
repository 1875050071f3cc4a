"""The :class:`KernelRegistry`: ``(op, device) -> implementation``, resolved by selection."""

from __future__ import annotations

import contextlib
import difflib
import os
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import TYPE_CHECKING

from hyperion.tensor.registry.errors import (
    DuplicateProviderError,
    KernelNotFoundError,
    KernelSelectionError,
    ProviderLoadWarning,
)
from hyperion.tensor.registry.providers import (
    DEVICES,
    RUNTIME,
    Kernel,
    OpInfo,
    ProviderInfo,
    ProviderRecord,
    check_kernels,
    discover,
    duplicate_error,
)
from hyperion.tensor.registry.selection import REFERENCE, Selection

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from hyperion.tensor.registry.providers import KernelProvider

ENTRY_POINT_GROUP = "hyperion.kernels"
ENV_VAR = "HYPERION_KERNELS"


class KernelRegistry:
    """A table of kernels, the providers that fill it, and the selection among them.

    Creating one does nothing else: entry points and the environment variable
    are read the first time a lookup or listing needs them. The module-level
    functions of :mod:`hyperion.tensor.registry` use one shared instance; tests
    can make their own.

    Args:
        group: The entry-point group providers are discovered from.
        env_var: The environment variable holding the default selection spec.
        entry_points: Where to discover providers from instead of the installed
            distributions (a callable returning entry points), e.g. ``lambda: []``
            for a registry that sees no installed providers.

    Examples:
        >>> reg = KernelRegistry(entry_points=lambda: [])
        >>> reg.register_reference("double", lambda x: 2 * x)
        >>> reg.lookup("double", "cpu")(21)
        42
    """

    def __init__(
        self,
        *,
        group: str = ENTRY_POINT_GROUP,
        env_var: str = ENV_VAR,
        entry_points: Callable[[], Iterable[EntryPoint]] | None = None,
    ) -> None:
        self._group = group
        self._env_var = env_var
        self._entry_points = entry_points
        self._lock = threading.RLock()
        self._references: dict[tuple[str, str], Kernel] = {}
        self._providers: dict[str, ProviderRecord] = {}
        self._discovered = False
        self._default: Selection | None = None  # None: not yet read from the environment
        self._selections: dict[str, Selection] = {}  # canonical spec -> parsed, for contexts
        self._context: ContextVar[str | None] = ContextVar(f"hyperion_kernels_{id(self):x}", default=None)
        # (op, device, context spec or None) -> kernel; replaced wholesale on any change.
        self._cache: dict[tuple[str, str, str | None], Kernel] = {}
        self._generation = 0

    # -- registration ---------------------------------------------------------------

    def register_reference(self, op: str, fn: Kernel, devices: Iterable[str] = DEVICES) -> None:
        """Register the reference implementation of ``op``; replaces an earlier one.

        Replacing (rather than rejecting) lets the defining module be reloaded.
        """
        devices = (devices,) if isinstance(devices, str) else tuple(devices)
        if not isinstance(op, str) or not op:
            raise ValueError(f"op must be a non-empty string, got {op!r}")
        if not callable(fn):
            raise TypeError(f"reference for op {op!r} must be callable, got {fn!r}")
        for device in devices:
            if device not in DEVICES:
                raise ValueError(f"op {op!r}: unknown device {device!r}; devices are {', '.join(DEVICES)}")
        with self._lock:
            for device in devices:
                self._references[op, device] = fn
            self._invalidate()

    def reference(self, op: str, devices: Iterable[str] = DEVICES) -> Callable[[Kernel], Kernel]:
        """Decorator form of :meth:`register_reference`; returns the function unchanged."""

        def decorate(fn: Kernel) -> Kernel:
            self.register_reference(op, fn, devices)
            return fn

        return decorate

    def register_provider(self, provider: KernelProvider) -> None:
        """Add a provider object directly, as if it were discovered.

        Its ``kernels()`` is called (and checked) now.

        Raises:
            DuplicateProviderError: if a provider of that name exists.
            KernelSelectionError: for a name that cannot appear in a spec.
            TypeError, ValueError: if ``kernels()`` does not return a valid mapping.
        """
        name = getattr(provider, "name", None)
        if not isinstance(name, str) or not name or name.startswith("-") or any(c in name for c in ", \t\n"):
            raise KernelSelectionError(
                f"provider name must be a non-empty string without commas, spaces or a leading '-', got {name!r}"
            )
        if not callable(getattr(provider, "kernels", None)):
            raise TypeError(f"provider {name!r} has no kernels() method")
        record = ProviderRecord(
            name, distribution=RUNTIME, provider=provider, kernels=check_kernels(name, provider.kernels())
        )
        self._ensure_discovered()
        with self._lock:
            if name == REFERENCE:
                raise DuplicateProviderError(
                    f"provider name {REFERENCE!r} is reserved for the reference implementations",
                    name=name,
                    distributions=("hyperion-tensor", RUNTIME),
                )
            if name in self._providers:
                raise duplicate_error(self._providers[name], record)
            self._providers[name] = record
            self._invalidate()

    def unregister_provider(self, name: str) -> None:
        """Forget a provider (runtime or discovered) for the life of this registry.

        Raises:
            ValueError: for ``"reference"`` or an unknown name.
        """
        self._ensure_discovered()
        with self._lock:
            if name not in self._providers:
                raise ValueError(
                    f"cannot unregister kernel provider {name!r}; known providers: {', '.join(self._known())}"
                )
            del self._providers[name]
            self._invalidate()

    # -- selection ------------------------------------------------------------------

    def use_kernels(self, spec: str) -> contextlib.AbstractContextManager[None]:
        """A context manager applying ``spec`` over the enclosing selection.

        The spec is checked immediately; the selection lives in a context
        variable, so threads and asyncio tasks each see their own.

        Raises:
            KernelSelectionError: for a malformed spec or an unknown provider.
        """
        selection = Selection.parse(spec, source="use_kernels spec")
        self._ensure_discovered()
        selection.validate(self._known(), source="use_kernels spec")
        return self._activate(selection)

    @contextlib.contextmanager
    def _activate(self, selection: Selection) -> Iterator[None]:
        outer = self._context.get()
        if outer is not None:
            selection = selection.over(self._selections[outer])
        spec = self._selections.setdefault(selection.spec, selection).spec
        token = self._context.set(spec)
        try:
            yield
        finally:
            self._context.reset(token)

    def set_default_kernels(self, spec: str | None) -> None:
        """Set the default selection; ``None`` goes back to the environment variable.

        Raises:
            KernelSelectionError: for a malformed spec or an unknown provider.
        """
        selection = None
        if spec is not None:
            selection = Selection.parse(spec, source="default kernel selection")
            self._ensure_discovered()
            selection.validate(self._known(), source="default kernel selection")
        with self._lock:
            self._default = selection
            self._invalidate()

    # -- lookup ---------------------------------------------------------------------

    def lookup(self, op: str, device: str) -> Kernel:
        """The implementation of ``op`` on ``device`` under the current selection.

        Raises:
            KernelNotFoundError: if no enabled provider implements it.
            KernelSelectionError: if the environment variable's spec is invalid.
            DuplicateProviderError: if two installed providers share a name.
        """
        context = self._context.get()
        cached = self._cache.get((op, device, context))
        if cached is not None:
            return cached
        generation = self._generation
        fn = self._resolve(op, device, context)[1]
        with self._lock:
            if generation == self._generation:
                self._cache[op, device, context] = fn
        return fn

    def which(self, op: str, device: str) -> str:
        """The name of the provider :meth:`lookup` would use."""
        return self._resolve(op, device, self._context.get())[0]

    # -- introspection --------------------------------------------------------------

    def providers(self) -> list[ProviderInfo]:
        """Every provider: enabled ones in priority order, then disabled ones. Imports nothing."""
        self._ensure_discovered()
        order = self._order(self._current_selection())
        names = order + sorted(set(self._known()) - set(order))
        infos = []
        for name in names:
            record = self._providers.get(name)
            if record is None:
                infos.append(ProviderInfo(name, "builtin", None, None, True, False, None, name in order))
            else:
                loaded = record.kernels is not None
                infos.append(
                    ProviderInfo(
                        name,
                        record.source,
                        record.distribution,
                        record.value,
                        loaded,
                        record.error is not None,
                        record.error,
                        name in order,
                    )
                )
        return infos

    def ops(self) -> list[OpInfo]:
        """Every ``(op, device)`` known to the reference or an enabled provider, sorted.

        Loads the enabled providers (not the disabled ones).
        """
        order = self._order(self._current_selection())
        tables = {name: self._kernels_of(name) or {} for name in order}
        with self._lock:
            tables = {name: dict(table) for name, table in tables.items()}
            keys = set(self._references)
        for name in order:
            keys.update(tables[name])
        return [
            OpInfo(op, device, tuple(name for name in order if (op, device) in tables[name]))
            for op, device in sorted(keys)
        ]

    # -- internals ------------------------------------------------------------------

    def _invalidate(self) -> None:
        # Caller holds the lock. A new dict (not clear()) so lock-free readers never
        # see a half-cleared table; the generation stops in-flight resolutions from
        # caching a stale answer.
        self._cache = {}
        self._generation += 1

    def _ensure_discovered(self) -> None:
        if self._discovered:
            return
        with self._lock:
            if self._discovered:
                return
            if self._entry_points is not None:
                found = list(self._entry_points())
            else:
                from importlib.metadata import entry_points

                found = list(entry_points(group=self._group))
            self._providers = {**discover(found), **self._providers}
            self._discovered = True

    def _known(self) -> list[str]:
        """All provider names in default priority order.

        Providers sort by name (entry-point iteration order depends on sys.path,
        so it would not be reproducible); the reference comes last.
        """
        with self._lock:  # a snapshot: another thread may be registering
            return [*sorted(self._providers), REFERENCE]

    def _current_selection(self) -> Selection:
        default = self._default_selection()
        context = self._context.get()
        return default if context is None else self._selections[context].over(default)

    def _default_selection(self) -> Selection:
        default = self._default
        if default is None:
            # Read when first needed, never at import; set_default_kernels(None) re-arms it.
            self._ensure_discovered()
            source = f"environment variable {self._env_var}"
            selection = Selection.parse(os.environ.get(self._env_var, ""), source=source)
            selection.validate(self._known(), source=source)
            with self._lock:
                if self._default is None:
                    self._default = selection
                default = self._default
        return default

    def _order(self, selection: Selection) -> list[str]:
        self._ensure_discovered()
        known = self._known()
        selection.validate(known, source="kernel selection")
        return selection.order(known)

    def _kernels_of(self, name: str) -> dict[tuple[str, str], Kernel] | None:
        """A provider's kernels, loading it on first use; None if it failed or vanished."""
        if name == REFERENCE:
            return self._references
        record = self._providers.get(name)
        if record is None or record.error is not None:
            return None
        if record.kernels is None:
            # Import outside the lock: the provider's module may itself register
            # references, possibly from another thread holding the import lock.
            try:
                provider, kernels = record.load()
            except Exception as exc:  # noqa: BLE001 - any failure disables only this provider
                with self._lock:
                    if record.kernels is None and record.error is None:
                        record.error = f"{type(exc).__name__}: {exc}"
                        warnings.warn(
                            f"kernel provider {record.describe()} failed to load and is skipped: "
                            f"{record.error}. Disable it with {self._env_var}=-{name} to silence this warning.",
                            ProviderLoadWarning,
                            stacklevel=4,
                        )
                return None
            with self._lock:
                if record.kernels is None and record.error is None:
                    record.provider, record.kernels = provider, kernels
        return record.kernels

    def _resolve(self, op: str, device: str, context: str | None) -> tuple[str, Kernel]:
        if device not in DEVICES:
            raise KernelNotFoundError(
                f"no kernel for op {op!r} on device {device!r}: unknown device; devices are {', '.join(DEVICES)}",
                op=op,
                device=device,
            )
        self._ensure_discovered()
        selection = self._default_selection()
        if context is not None:
            selection = self._selections[context].over(selection)
        order = self._order(selection)
        for name in order:
            table = self._kernels_of(name)
            if table is not None and (op, device) in table:
                return name, table[op, device]
        raise self._not_found(op, device, selection, order)

    def _not_found(self, op: str, device: str, selection: Selection, order: list[str]) -> KernelNotFoundError:
        with self._lock:
            tables = {REFERENCE: dict(self._references)}
            tables.update({name: r.kernels for name, r in self._providers.items() if r.kernels is not None})
            records = list(self._providers.values())
        known_ops = sorted({key[0] for table in tables.values() for key in table})
        head = f"no kernel for op {op!r} on device {device!r}"
        if op not in known_ops:
            close = difflib.get_close_matches(op, known_ops, n=3)
            hint = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
            shown = ", ".join(known_ops[:30]) + (f", … ({len(known_ops) - 30} more)" if len(known_ops) > 30 else "")
            message = f"{head}: neither the reference nor an enabled provider implements it.{hint}"
            message += f" Known ops: {shown or 'none'}"
            unsearched = sorted(r.name for r in records if r.name not in order and r.kernels is None)
            if unsearched:
                message += f". Disabled providers (not searched): {', '.join(unsearched)}"
        else:
            implementers = [name for name, table in tables.items() if (op, device) in table]
            if not implementers:
                devices = sorted({d for table in tables.values() for o, d in table if o == op})
                message = f"{head}: it is only implemented for {', '.join(devices)}"
            else:
                enabled = ", ".join(order) or "none"
                if REFERENCE in implementers:
                    reason = (
                        "the reference implementation is disabled ('-reference') and no enabled provider implements it"
                    )
                else:
                    reason = f"only disabled providers implement it ({', '.join(sorted(implementers))})"
                message = (
                    f"{head} under the kernel selection {selection.spec!r}: {reason} (enabled providers: {enabled})"
                )
        failed = [r.describe() + f": {r.error}" for r in records if r.error is not None]
        if failed:
            message += ". Providers that failed to load: " + "; ".join(failed)
        return KernelNotFoundError(message, op=op, device=device)
