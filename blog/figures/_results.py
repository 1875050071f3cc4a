"""Reading and writing the measurements that figure scripts keep in ``data/<name>.json``.

A helper for the figure scripts, not a figure: ``import _results`` works from a script run by
hand (its folder is on ``sys.path``) and under the docs build, which skips every module whose
name starts with ``_``. Writes go through hyperion-tensor's atomic writer (a temporary file in
the same folder renamed over the old one), so an interrupted ``--measure`` never leaves half a
file behind; ``write_text_atomic`` is that writer, for scripts that format their own text.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hyperion.tensor.files import write_text_atomic

__all__ = ["load", "save", "write_text_atomic"]


def load(path: Path) -> Any:
    """The JSON value stored in ``path``.

    Args:
        path: A UTF-8 JSON file.

    Returns:
        The decoded value.
    """
    return json.loads(path.read_text(encoding="utf-8"))


def save(path: Path, data: Any, *, indent: int | None = 1, compact: bool = False, ensure_ascii: bool = True) -> None:
    """Write ``data`` to ``path`` as JSON with a trailing newline, atomically.

    Args:
        path: The JSON file to write.
        data: A JSON-serialisable value.
        indent: Spaces per nesting level; ``None`` writes one line with ``json``'s default separators.
        compact: One line without spaces after ``,`` and ``:``, non-ASCII characters kept as
            they are; ``indent`` and ``ensure_ascii`` are ignored.
        ensure_ascii: Escape non-ASCII characters (``False`` keeps sample text readable).
    """
    if compact:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    else:
        text = json.dumps(data, indent=indent, ensure_ascii=ensure_ascii)
    write_text_atomic(path, text + "\n")
