"""The IDX reader/writer: round trips and every kind of malformed file, with the file named in the error."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from hyperion.nn.data.idx import IdxFormatError, parse_idx, read_idx, write_idx

DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_round_trip(tmp_path: Path, dtype: type, suffix: str) -> None:
    rng = np.random.default_rng(0)
    array = (rng.standard_normal((3, 4, 5)) * 50).astype(dtype)
    path = tmp_path / f"a-idx3{suffix}"
    write_idx(path, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype).newbyteorder("=")
    assert back.shape == (3, 4, 5)
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable


def test_compression_detected_from_content_not_name(tmp_path: Path) -> None:
    array = np.arange(7, dtype=np.uint8)
    raw_named_gz = tmp_path / "labels.gz"
    write_idx(raw_named_gz, array, compress=False)
    gz_named_raw = tmp_path / "labels"
    write_idx(gz_named_raw, array, compress=True)
    assert gz_named_raw.read_bytes()[:2] == b"\x1f\x8b"
    np.testing.assert_array_equal(read_idx(raw_named_gz), array)
    np.testing.assert_array_equal(read_idx(gz_named_raw), array)


def test_header_is_big_endian_uint32_dims() -> None:
    data = bytes([0, 0, 0x08, 2]) + (2).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes(range(6))
    np.testing.assert_array_equal(parse_idx(data), np.arange(6, dtype=np.uint8).reshape(2, 3))
    ints = (
        bytes([0, 0, 0x0C, 1])
        + (2).to_bytes(4, "big")
        + (258).to_bytes(4, "big")
        + (-1).to_bytes(4, "big", signed=True)
    )
    assert parse_idx(ints).tolist() == [258, -1]


def _write(path: Path, payload: bytes, gz: bool = True) -> Path:
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


GOOD = bytes([0, 0, 0x08, 1]) + (4).to_bytes(4, "big") + bytes([1, 2, 3, 4])


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\x00\x00", "shorter than the 4-byte magic"),
        (bytes([1, 0, 0x08, 1]) + GOOD[4:], "does not start with two zero bytes"),
        (bytes([0, 0, 0x07, 1]) + GOOD[4:], "unknown IDX dtype code 0x07"),
        (bytes([0, 0, 0x08, 0]), "0 dimensions"),
        (bytes([0, 0, 0x08, 3]) + (4).to_bytes(4, "big"), "truncated IDX header"),
        (GOOD[:-1], "truncated"),
        (GOOD + b"\x00", "trailing bytes"),
        (bytes([0, 0, 0x08, 1]) + (5).to_bytes(4, "big") + bytes([1, 2, 3, 4]), "declares shape (5,)"),
    ],
)
def test_malformed_files_name_the_file(tmp_path: Path, payload: bytes, message: str) -> None:
    path = _write(tmp_path / "broken-idx1-ubyte.gz", payload)
    with pytest.raises(IdxFormatError, match="broken-idx1-ubyte.gz") as info:
        read_idx(path)
    assert message in str(info.value)


def test_truncated_gzip_stream(tmp_path: Path) -> None:
    compressed = gzip.compress(GOOD * 1)
    path = tmp_path / "cut.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(IdxFormatError, match=r"cut\.gz: corrupt or truncated gzip"):
        read_idx(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "nope.gz")


def test_write_rejects_unsupported_dtype(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="cannot store dtype"):
        write_idx(tmp_path / "x", np.zeros(3, dtype=np.complex64))
    assert list(tmp_path.iterdir()) == []
