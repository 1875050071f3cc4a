"""The IDX file format (MNIST, Fashion-MNIST): read and write, gzip-compressed or raw.

An IDX file is a 4-byte magic number — two zero bytes, a dtype code and the
number of dimensions — followed by one big-endian ``uint32`` per dimension and
then the elements, big-endian, in C order. Every read checks all of it and
names the file when something is wrong: a truncated download must never be
read as a short data set.

Examples:
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "labels-idx1-ubyte.gz")
    >>> write_idx(path, np.array([3, 1, 4], dtype=np.uint8))
    >>> read_idx(path).tolist()
    [3, 1, 4]
"""

from __future__ import annotations

import gzip
import io
import math
import os
import zlib
from pathlib import Path

import numpy as np

from hyperion.tensor.files import write_bytes_atomic

__all__ = ["IDX_DTYPES", "IdxFormatError", "parse_idx", "read_idx", "write_idx"]

#: IDX dtype code → element type (big-endian on disk).
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20


class IdxFormatError(ValueError):
    """An IDX file is malformed: bad magic number, dtype code, dimensions or size."""


def parse_idx(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode the (uncompressed) bytes of an IDX file.

    Args:
        data: the whole file content.
        name: what to call the file in error messages.

    Returns:
        A read-only-safe copy as a native-endian NumPy array with the file's shape.

    Raises:
        IdxFormatError: naming ``name``, when the header is malformed or the number of
            bytes does not match the dimensions it declares.
    """
    if len(data) < 4:
        raise IdxFormatError(f"{name}: not an IDX file: only {len(data)} bytes, shorter than the 4-byte magic number")
    zero0, zero1, code, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0:
        raise IdxFormatError(
            f"{name}: not an IDX file: magic number {data[:4].hex()} does not start with two zero bytes"
        )
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise IdxFormatError(f"{name}: unknown IDX dtype code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise IdxFormatError(f"{name}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IdxFormatError(
            f"{name}: truncated IDX header: {ndim} dimensions need {header} header bytes, file has {len(data)}"
        )
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = IDX_DTYPES[code]
    # Python integers: a NumPy int64 product wraps around for hostile dimensions (4 x 65536 gives 0).
    expected = header + math.prod(shape) * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has trailing bytes"
        raise IdxFormatError(
            f"{name}: {what}: header declares shape {shape} of {dtype.name} "
            f"({expected} bytes with the header) but the file holds {len(data)} bytes"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=True)


def _declared_size(head: bytes) -> int | None:
    """The total size an IDX header declares (header included), or ``None`` if ``head`` is no complete header."""
    if len(head) < 4 or head[0] or head[1] or head[2] not in IDX_DTYPES or head[3] == 0:
        return None
    ndim = head[3]
    if len(head) < 4 + 4 * ndim:
        return None
    dims = np.frombuffer(head, dtype=">u4", count=ndim, offset=4)
    return 4 + 4 * ndim + math.prod(int(d) for d in dims) * IDX_DTYPES[head[2]].itemsize


def _gunzip_bounded(raw: bytes) -> bytes:
    """Decompress at most what the IDX header declares, plus one byte to notice trailing data.

    A small gzip stream can expand to gigabytes (a "gzip bomb"); reading only as much as the
    header promises keeps memory proportional to the array the file claims to hold.
    """
    with gzip.GzipFile(fileobj=io.BytesIO(raw)) as stream:
        head = stream.read(4)
        if len(head) == 4 and head[3]:
            head += stream.read(4 * head[3])
        declared = _declared_size(head)
        if declared is None:  # malformed header: parse_idx explains what is wrong with it
            return head
        parts, remaining = [head], declared + 1 - len(head)
        while remaining > 0:
            block = stream.read(min(remaining, _CHUNK))
            if not block:
                break
            parts.append(block)
            remaining -= len(block)
    return b"".join(parts)


def _read_bytes(path: Path) -> bytes:
    with open(path, "rb") as handle:
        raw = handle.read()
    # Decide by content, not by name: some distributions ship the files uncompressed under .gz names.
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return _gunzip_bounded(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise IdxFormatError(f"{path}: corrupt or truncated gzip stream ({error})") from None


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file, gzip-compressed or raw (detected from the content).

    Args:
        path: the file.

    Returns:
        The array, native byte order, with the shape declared in the header.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        IdxFormatError: naming the file, for a corrupt gzip stream or a malformed IDX structure.
    """
    path = Path(path)
    return parse_idx(_read_bytes(path), name=str(path))


def _encode_idx(array: np.ndarray) -> bytes:
    matches = [
        (code, dtype)
        for code, dtype in IDX_DTYPES.items()
        if dtype.kind == array.dtype.kind and dtype.itemsize == array.dtype.itemsize
    ]
    if not matches:
        supported = ", ".join(sorted({d.newbyteorder("=").name for d in IDX_DTYPES.values()}))
        raise TypeError(f"IDX cannot store dtype {array.dtype} (supported: {supported})")
    code, dtype = matches[0]
    if array.ndim == 0 or array.ndim > 255:
        raise ValueError(f"IDX stores arrays of 1 to 255 dimensions, got shape {array.shape}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=dtype).tobytes()


def write_idx(path: str | os.PathLike[str], array: np.ndarray, compress: bool | None = None) -> None:
    """Write ``array`` as an IDX file, atomically (temporary file in the same folder + rename).

    Args:
        path: destination.
        array: uint8, int8, int16, int32, float32 or float64 data, 1 to 255 dimensions.
        compress: gzip the file; by default, when ``path`` ends in ``.gz``.

    Raises:
        TypeError: for a dtype IDX cannot hold.
    """
    path = Path(path)
    payload = _encode_idx(np.asarray(array))
    if compress if compress is not None else path.suffix == ".gz":
        payload = gzip.compress(payload, mtime=0)
    write_bytes_atomic(path, payload)
