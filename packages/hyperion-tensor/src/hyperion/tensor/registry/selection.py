"""Selection specs: which kernel providers are used, in which order.

A spec is a comma-separated list of provider names, highest priority first;
``-name`` disables a provider. Providers the spec does not mention keep their
place in the default order (after the listed ones) and stay enabled:

    >>> s = Selection.parse("cuda,cpu,-reference")
    >>> s.order(["cpu", "cuda", "demo", "reference"])
    ['cuda', 'cpu', 'demo']

Specs compose: an inner ``use_kernels`` block is applied *over* the enclosing
selection, so what the inner spec does not mention keeps the outer setting:

    >>> Selection.parse("cpu").over(Selection.parse("-demo")).spec
    'cpu,-demo'
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from hyperion.tensor.registry.errors import KernelSelectionError

REFERENCE = "reference"
"""The name of the built-in provider made of the reference implementations."""


@dataclass(frozen=True)
class Selection:
    """A parsed selection spec.

    Attributes:
        preferred: Providers named without ``-``, highest priority first.
        disabled: Providers named with ``-``.
    """

    preferred: tuple[str, ...] = ()
    disabled: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, spec: str, *, source: str = "kernel selection") -> Selection:
        """Parse a spec such as ``"cuda,cpu,-reference"``.

        Blank items and surrounding whitespace are ignored, so ``""`` is the
        default selection.

        Args:
            spec: The spec string.
            source: Where the spec came from, for error messages.

        Raises:
            KernelSelectionError: for a bare ``-`` or a name mentioned twice.

        Examples:
            >>> Selection.parse(" cpu , -reference ")
            Selection(preferred=('cpu',), disabled=frozenset({'reference'}))
        """
        if not isinstance(spec, str):
            raise KernelSelectionError(f"{source} must be a string like 'cpu,-reference', got {spec!r}")
        preferred: list[str] = []
        disabled: set[str] = set()
        for item in (part.strip() for part in spec.split(",")):
            if not item:
                continue
            name = item[1:].strip() if item.startswith("-") else item
            if not name:
                raise KernelSelectionError(f"{source} {spec!r} has a '-' without a provider name")
            if name in preferred or name in disabled:
                raise KernelSelectionError(f"{source} {spec!r} mentions provider {name!r} more than once")
            if item.startswith("-"):
                disabled.add(name)
            else:
                preferred.append(name)
        return cls(tuple(preferred), frozenset(disabled))

    @property
    def spec(self) -> str:
        """The canonical spec string (listed names, then sorted ``-name`` entries)."""
        return ",".join([*self.preferred, *(f"-{name}" for name in sorted(self.disabled))])

    def names(self) -> set[str]:
        """Every provider name the spec mentions."""
        return {*self.preferred, *self.disabled}

    def validate(self, known: Collection[str], *, source: str = "kernel selection") -> None:
        """Check that every name is a known provider.

        Raises:
            KernelSelectionError: naming the unknown provider(s) and the known ones.
        """
        unknown = sorted(self.names() - set(known))
        if unknown:
            which = ", ".join(repr(name) for name in unknown)
            plural = "s" if len(unknown) > 1 else ""
            raise KernelSelectionError(
                f"{source} {self.spec!r} names unknown kernel provider{plural} {which}; "
                f"known providers: {', '.join(known)}"
            )

    def over(self, outer: Selection) -> Selection:
        """Apply this selection on top of ``outer``; this one wins on conflicts."""
        mine = self.names()
        preferred = self.preferred + tuple(name for name in outer.preferred if name not in mine)
        disabled = self.disabled | (outer.disabled - set(self.preferred))
        return Selection(preferred, frozenset(disabled))

    def order(self, default_order: Sequence[str]) -> list[str]:
        """The enabled providers, highest priority first.

        Args:
            default_order: Every known provider in default priority order.
        """
        ranked = [*self.preferred, *(name for name in default_order if name not in self.preferred)]
        return [name for name in ranked if name not in self.disabled]
