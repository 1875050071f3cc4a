"""Atomic writes: all or nothing, ordinary permissions, folders created, nothing left behind."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from hyperion.tensor.files import (
    atomic_path,
    atomic_write,
    default_file_mode,
    write_bytes_atomic,
    write_json_atomic,
    write_text_atomic,
)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_writes_bytes_text_and_json_with_ordinary_permissions(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out.bin"
    assert write_bytes_atomic(target, b"\x00\x01") == target
    assert target.read_bytes() == b"\x00\x01"
    write_text_atomic(tmp_path / "t.txt", "héllo\n")
    assert (tmp_path / "t.txt").read_bytes() == "héllo\n".encode()
    write_json_atomic(tmp_path / "j.json", {"é": [1, 2]})
    assert (tmp_path / "j.json").read_text(encoding="utf-8") == '{\n "é": [\n  1,\n  2\n ]\n}\n'
    assert json.loads((tmp_path / "j.json").read_text(encoding="utf-8")) == {"é": [1, 2]}
    for path in (target, tmp_path / "t.txt", tmp_path / "j.json"):
        assert path.stat().st_mode & 0o777 == default_file_mode()
    assert _leftovers(tmp_path) == [] and _leftovers(target.parent) == []


def test_default_mode_follows_the_umask() -> None:
    previous = os.umask(0o027)
    try:
        assert default_file_mode() == 0o640
    finally:
        os.umask(previous)
    assert default_file_mode() == 0o666 & ~previous


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    write_text_atomic(target, "old")

    def crash(handle: object) -> None:
        handle.write(b"half of the new")  # type: ignore[attr-defined]
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        atomic_write(target, crash)
    assert target.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_atomic_path_for_writers_that_take_a_file_name(tmp_path: Path) -> None:
    target = tmp_path / "figure.png"
    with atomic_path(target, suffix=".png") as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".png" and tmp.exists()
        assert not target.exists()  # nothing visible until the block ends
        tmp.write_bytes(b"png bytes")
    assert target.read_bytes() == b"png bytes"
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as tmp:
        tmp.write_bytes(b"partial")
        raise KeyboardInterrupt
    assert target.read_bytes() == b"png bytes"
    assert _leftovers(tmp_path) == []


def test_docstring_example() -> None:
    import doctest

    from hyperion.tensor import files

    result = doctest.testmod(files)
    assert result.attempted > 0 and result.failed == 0


def test_a_file_where_a_folder_should_be_is_named(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("not a folder")
    with pytest.raises(NotADirectoryError, match="not a folder.*plain"):
        write_text_atomic(tmp_path / "plain" / "out.txt", "x")
