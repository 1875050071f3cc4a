"""The CPU's data-cache sizes, read from Linux's sysfs, with documented fallbacks.

The tiled kernels (the matmul ladder, the flash attention kernel) size their blocks
from the level-1 and level-2 data caches of one core. Linux describes them under
``/sys/devices/system/cpu/cpu0/cache/index*/`` (files ``level``, ``type`` and ``size``,
e.g. ``1``, ``Data``, ``48K``). Where that is missing (macOS, Windows, containers that
hide sysfs) the fallbacks are 32 KiB of L1d and 1 MiB of L2: the L1d of every x86 core
of the last decade is at least 32 KiB, and 1 MiB is a conservative L2 (Skylake-SP and
later have 1-2 MiB, Zen 2-4 have 512 KiB-1 MiB), so blocks sized from it still fit.

Examples:
    >>> sizes = cache_sizes()
    >>> sizes.l1d >= 16 * 1024 and sizes.l2 >= sizes.l1d
    True
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FALLBACK_L1D", "FALLBACK_L2", "CacheSizes", "cache_sizes", "parse_size"]

FALLBACK_L1D = 32 * 1024
"""Bytes of L1 data cache assumed when sysfs does not say."""

FALLBACK_L2 = 1024 * 1024
"""Bytes of L2 cache assumed when sysfs does not say."""

_SYSFS = Path("/sys/devices/system/cpu/cpu0/cache")


@dataclass(frozen=True)
class CacheSizes:
    """Per-core data-cache sizes in bytes.

    Attributes:
        l1d: Level-1 data cache.
        l2: Level-2 (unified) cache.
        source: ``"sysfs"`` when read from the system, ``"fallback"`` otherwise.
    """

    l1d: int
    l2: int
    source: str


def parse_size(text: str) -> int:
    """Bytes from a sysfs size such as ``"48K"``, ``"2048K"``, ``"2M"`` or ``"512"``.

    Raises:
        ValueError: for text that is not a size.
    """
    text = text.strip().upper()
    units = {"K": 1024, "M": 1024**2, "G": 1024**3}
    factor = units.get(text[-1:], 1)
    digits = text[:-1] if text[-1:] in units else text
    if not digits.isdigit():
        raise ValueError(f"not a cache size: {text!r}")
    return int(digits) * factor


def _read_sysfs(root: Path) -> tuple[int | None, int | None]:
    l1d = l2 = None
    for index in sorted(root.glob("index*")):
        try:
            level = int((index / "level").read_text())
            kind = (index / "type").read_text().strip()
            size = parse_size((index / "size").read_text())
        except (OSError, ValueError):
            continue
        if level == 1 and kind in ("Data", "Unified"):
            l1d = size
        elif level == 2 and kind in ("Data", "Unified"):
            l2 = size
    return l1d, l2


@functools.cache
def cache_sizes(root: Path = _SYSFS) -> CacheSizes:
    """The L1d and L2 sizes of the first core (read once, then remembered)."""
    l1d, l2 = _read_sysfs(root) if root.is_dir() else (None, None)
    if l1d is None or l2 is None:
        return CacheSizes(l1d=l1d or FALLBACK_L1D, l2=l2 or FALLBACK_L2, source="fallback")
    return CacheSizes(l1d=l1d, l2=l2, source="sysfs")
