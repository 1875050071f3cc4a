"""Atomic file writes, shared by every Hyperion package that saves something.

A reader of a file written here sees the old content or the new, never a part: the bytes go to
a temporary file in the same folder (same file system, so the rename is atomic), which is
flushed to disk and then renamed over the target. On any exception the temporary file is
removed and the target is untouched. The new file gets the permissions a plain ``open()``
would give it (``0o666`` less the umask), not the owner-only ``0o600`` of ``mkstemp``.

:func:`atomic_path` is the general form, for libraries that write to a file name themselves
(``Figure.savefig``, ``numpy.savez``, an animation writer); the others write bytes, text or
JSON.

Examples:
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> write_json_atomic(folder / "run" / "metrics.json", {"loss": 0.5}).name
    'metrics.json'
    >>> json.loads((folder / "run" / "metrics.json").read_text())
    {'loss': 0.5}
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

__all__ = [
    "atomic_path",
    "atomic_write",
    "default_file_mode",
    "write_bytes_atomic",
    "write_json_atomic",
    "write_text_atomic",
]


def default_file_mode() -> int:
    """The permissions ``open()`` gives a new file: ``0o666`` less the process's umask.

    Reading the umask means setting it; it is set to the most private value meanwhile, so a
    file another thread creates in that instant errs on the private side.
    """
    mask = os.umask(0o077)
    os.umask(mask)
    return 0o666 & ~mask


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (best effort: not every platform can open a folder)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):  # some file systems refuse it; the rename has happened anyway
            os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = ".tmp") -> Iterator[Path]:
    """A temporary path beside ``path``; when the block ends without an exception it replaces ``path``.

    The caller writes the temporary file (by name) inside the block. On success it is flushed
    to disk, given :func:`default_file_mode` and renamed over ``path``; on any exception it is
    deleted and ``path`` is left as it was. Missing parent folders are created.

    Args:
        path: The file to (re)place.
        suffix: The temporary name's ending, for writers that infer a format from it
            (``".png"``, ``".gif"``).

    Yields:
        The temporary file's path (it exists, empty).
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # the parent (or one above it) is a file: say so, not "File exists"
        raise NotADirectoryError(errno.ENOTDIR, "not a folder", os.fspath(target.parent)) from None
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)  # a no-op after the rename
    _fsync_directory(target.parent)


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(handle)`` on a binary file that atomically replaces ``path``; returns ``path``."""
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        write(handle)
    return Path(path)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Replace ``path`` with ``data`` atomically; returns ``path``."""
    return atomic_write(path, lambda handle: handle.write(data))


def write_text_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Replace ``path`` with ``text`` (UTF-8) atomically; returns ``path``."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike[str], value: Any, *, indent: int | None = 1) -> Path:
    """Replace ``path`` with ``value`` as JSON (non-ASCII kept as is, a final newline) atomically."""
    return write_text_atomic(path, json.dumps(value, indent=indent, ensure_ascii=False) + "\n")
