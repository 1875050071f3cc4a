"""A reader and writer of the safetensors format, written from its specification (data only, never code).

A safetensors file is::

    8 bytes     N, the header length (unsigned 64-bit little-endian)
    N bytes     a JSON object (UTF-8), possibly padded with spaces:
                  {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...,
                   "__metadata__": {"key": "value", ...}}   (optional, strings only)
    the rest    the data: each tensor's bytes, row-major, little-endian, at
                [begin, end) counted from the end of the header

The tensors must tile the data exactly: sorted by offset, each begins where
the previous ends, the first at 0 and the last at the end of the file.

Everything in a file is checked *before* any tensor is read: the header length
against the file size and a cap, the JSON, every dtype, shape and offset
range, that the byte counts agree with the shapes, and the tiling. A hostile
file is therefore rejected with a :class:`SafetensorsError` naming the file,
without reading past its end or allocating more than its size.

Optionally (``digest_key``) the writer stores in the metadata a SHA-256 of
the header's content (canonical JSON, without the digest itself) and of the
data; the reader recomputes it, so a flipped bit anywhere is detected.

Examples:
    >>> import numpy as np, os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "weights.safetensors")
    >>> save_file({"w": np.eye(2, dtype=np.float32)}, path, metadata={"step": "3"})
    >>> tensors, metadata = load_file_with_metadata(path)
    >>> tensors["w"].tolist(), metadata
    ([[1.0, 0.0], [0.0, 1.0]], {'step': '3'})
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

import numpy as np

from hyperion.tensor import HyperionError
from hyperion.tensor.files import atomic_write

MAX_HEADER_BYTES = 100_000_000
"""Headers longer than this are refused (the ``safetensors`` library uses the same cap)."""

METADATA_KEY = "__metadata__"

# safetensors dtype name -> little-endian NumPy dtype.
DTYPES: dict[str, np.dtype] = {
    "BOOL": np.dtype("?"),
    "U8": np.dtype("u1"),
    "I8": np.dtype("i1"),
    "U16": np.dtype("<u2"),
    "I16": np.dtype("<i2"),
    "U32": np.dtype("<u4"),
    "I32": np.dtype("<i4"),
    "U64": np.dtype("<u8"),
    "I64": np.dtype("<i8"),
    "F16": np.dtype("<f2"),
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
}
# bfloat16 has no NumPy dtype: it is read as its 16-bit patterns and widened to float32.
_BF16 = "BF16"
_NAMES = {dtype.newbyteorder("<"): name for name, dtype in DTYPES.items()}


class SafetensorsError(HyperionError, ValueError):
    """A file that is not valid safetensors, or tensors that cannot be written as safetensors."""


class ChecksumError(SafetensorsError):
    """A file whose stored SHA-256 does not match its content (corrupted or altered)."""


# -- writing ---------------------------------------------------------------------------


def _as_array(name: str, value: Any) -> np.ndarray:
    if hasattr(value, "data") and hasattr(value.data, "_arr"):  # an autograd tensor
        value = value.data
    if hasattr(value, "_arr"):  # a raw hyperion tensor, possibly on a GPU
        value = value.to(device="cpu")._arr()
    array = np.asarray(value)
    if array.dtype.newbyteorder("<") not in _NAMES:
        raise SafetensorsError(f"tensor {name!r} has dtype {array.dtype}, which safetensors cannot store")
    # (np.ascontiguousarray would turn a 0-d array into a 1-d one.)
    return np.asarray(array, dtype=array.dtype.newbyteorder("<"), order="C")


def _canonical(header: Mapping[str, Any], digest_key: str | None) -> bytes:
    """The header's content in a fixed form (sorted keys, no padding, digest removed) for hashing."""
    content = dict(header)
    metadata = dict(content.get(METADATA_KEY) or {})
    metadata.pop(digest_key, None)
    if metadata:
        content[METADATA_KEY] = metadata
    else:
        content.pop(METADATA_KEY, None)
    return json.dumps(content, sort_keys=True, separators=(",", ":")).encode()


def _digest(header: Mapping[str, Any], digest_key: str, chunks: Iterator[memoryview | bytes]) -> str:
    sha = hashlib.sha256()
    canonical = _canonical(header, digest_key)
    sha.update(len(canonical).to_bytes(8, "little"))
    sha.update(canonical)
    for chunk in chunks:
        sha.update(chunk)
    return sha.hexdigest()


def serialize_header(
    tensors: Mapping[str, Any], metadata: Mapping[str, str] | None = None, digest_key: str | None = None
) -> tuple[bytes, list[np.ndarray]]:
    """The encoded header (length prefix included) and the arrays to write after it, in order.

    Raises:
        SafetensorsError: for a non-string name, a reserved name, an unsupported dtype or
            non-string metadata.
    """
    header: dict[str, Any] = {}
    arrays: list[np.ndarray] = []
    offset = 0
    for name, value in tensors.items():
        if not isinstance(name, str) or not name:
            raise SafetensorsError(f"tensor names must be non-empty strings, got {name!r}")
        if name == METADATA_KEY:
            raise SafetensorsError(f"{METADATA_KEY!r} is reserved and cannot name a tensor")
        array = _as_array(name, value)
        header[name] = {
            "dtype": _NAMES[array.dtype],
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        offset += array.nbytes
        arrays.append(array)
    meta: dict[str, str] = {}
    for key, text in (metadata or {}).items():
        if not isinstance(key, str) or not isinstance(text, str):
            raise SafetensorsError(f"metadata must map strings to strings, got {key!r}: {type(text).__name__}")
        meta[key] = text
    if digest_key is not None:
        meta.pop(digest_key, None)
        if meta:
            header[METADATA_KEY] = meta
        meta[digest_key] = _digest(header, digest_key, (memoryview(a).cast("B") for a in arrays if a.nbytes))
    if meta:
        header[METADATA_KEY] = meta
    encoded = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode()
    encoded += b" " * (-len(encoded) % 8)  # keep the data 8-byte aligned, as the reference writer does
    return len(encoded).to_bytes(8, "little") + encoded, arrays


def save_file(
    tensors: Mapping[str, Any],
    path: str | os.PathLike[str],
    metadata: Mapping[str, str] | None = None,
    *,
    digest_key: str | None = None,
) -> None:
    """Write ``tensors`` (name → array or tensor) to ``path`` as safetensors, atomically.

    The file is written to a temporary file in the same directory, flushed to disk
    and renamed over ``path``: a crash leaves either the old file or the new one,
    never a partial one.

    Args:
        tensors: name → NumPy array or hyperion tensor (GPU tensors are copied to the host).
        path: the destination.
        metadata: string → string, stored under ``__metadata__``.
        digest_key: if given, store the SHA-256 of header and data under this metadata key.

    Raises:
        SafetensorsError: for tensors or metadata that cannot be stored.
        OSError: if writing fails (the destination is then left as it was).
    """
    header, arrays = serialize_header(tensors, metadata, digest_key)

    def write(handle: BinaryIO) -> None:
        handle.write(header)
        for array in arrays:
            if array.nbytes:
                handle.write(memoryview(array).cast("B"))

    atomic_write(path, write)


# -- reading ---------------------------------------------------------------------------


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def read_header(handle: BinaryIO, file_size: int, where: str) -> tuple[dict[str, dict[str, Any]], dict[str, str], int]:
    """Read and validate the header of an open file.

    Returns:
        ``(entries, metadata, data_start)``: per-tensor ``{"dtype", "shape", "data_offsets"}``
        (checked against the file size), the metadata, and where the data begins.

    Raises:
        SafetensorsError: naming ``where`` and the first problem found.
    """
    prefix = handle.read(8)
    if len(prefix) < 8:
        raise SafetensorsError(
            f"{where}: file of {file_size} bytes is too short to be safetensors (no 8-byte header length)"
        )
    length = int.from_bytes(prefix, "little")
    if length > MAX_HEADER_BYTES:
        raise SafetensorsError(f"{where}: header length {length} exceeds the limit of {MAX_HEADER_BYTES} bytes")
    if 8 + length > file_size:
        raise SafetensorsError(
            f"{where}: header length {length} runs past the end of the file ({file_size} bytes); the file is truncated or corrupt"
        )
    raw = handle.read(length)
    if len(raw) != length:
        raise SafetensorsError(f"{where}: could not read the {length}-byte header (file truncated while reading?)")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates)
    except (UnicodeDecodeError, ValueError) as exc:
        raise SafetensorsError(f"{where}: the header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{where}: the header must be a JSON object, got {type(header).__name__}")
    metadata = header.pop(METADATA_KEY, None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise SafetensorsError(f"{where}: {METADATA_KEY} must map strings to strings")
    data_size = file_size - 8 - length
    entries = {name: _check_entry(name, entry, where) for name, entry in header.items()}
    _check_tiling(entries, data_size, where)
    return entries, metadata, 8 + length


def _check_entry(name: str, entry: Any, where: str) -> dict[str, Any]:
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise SafetensorsError(
            f"{where}: tensor {name!r} must have exactly 'dtype', 'shape' and 'data_offsets', got {entry!r}"
        )
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in DTYPES and dtype != _BF16:
        known = ", ".join([*DTYPES, _BF16])
        raise SafetensorsError(f"{where}: tensor {name!r} has unknown dtype {dtype!r} (supported: {known})")
    if not isinstance(shape, list) or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape):
        raise SafetensorsError(f"{where}: tensor {name!r} has an invalid shape {shape!r} (a list of sizes >= 0)")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offsets)
        or offsets[1] < offsets[0]
    ):
        raise SafetensorsError(
            f"{where}: tensor {name!r} has invalid data_offsets {offsets!r} (expected [begin, end], 0 <= begin <= end)"
        )
    itemsize = 2 if dtype == _BF16 else DTYPES[dtype].itemsize
    count = 1
    for size in shape:
        count *= size
    if count * itemsize != offsets[1] - offsets[0]:
        raise SafetensorsError(
            f"{where}: tensor {name!r} of dtype {dtype} and shape {shape} needs {count * itemsize} bytes, "
            f"but its data_offsets {offsets} span {offsets[1] - offsets[0]}"
        )
    return {"dtype": dtype, "shape": tuple(shape), "data_offsets": (offsets[0], offsets[1])}


def _check_tiling(entries: Mapping[str, dict[str, Any]], data_size: int, where: str) -> None:
    position = 0
    previous = None
    for name, entry in sorted(entries.items(), key=lambda item: item[1]["data_offsets"]):
        begin, end = entry["data_offsets"]
        if end > data_size:
            raise SafetensorsError(
                f"{where}: tensor {name!r} has data_offsets {[begin, end]} beyond the {data_size} bytes of data "
                "(file truncated or header corrupt)"
            )
        if begin < position:
            raise SafetensorsError(f"{where}: tensors {previous!r} and {name!r} overlap (data_offsets {[begin, end]})")
        if begin > position:
            raise SafetensorsError(f"{where}: there are unused bytes {position}..{begin} before tensor {name!r}")
        position, previous = end, name
    if position != data_size:
        raise SafetensorsError(
            f"{where}: the tensors cover {position} bytes but the file holds {data_size} bytes of data "
            "(trailing bytes, or a truncated header)"
        )


def load_file_with_metadata(
    path: str | os.PathLike[str], *, digest_key: str | None = None
) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Read every tensor of a safetensors file, and its metadata.

    Args:
        path: the file.
        digest_key: if given, the metadata key of a SHA-256 written by :func:`save_file`;
            it must be present and match, or :class:`ChecksumError` is raised.

    Returns:
        ``(tensors, metadata)``: name → NumPy array (native byte order, writable;
        ``BF16`` widened to float32) in file order, and the metadata.

    Raises:
        SafetensorsError: if the file is not valid safetensors (the message names the file).
        ChecksumError: if ``digest_key`` is given and the content does not match it.
        OSError: if the file cannot be opened.
    """
    where = os.fspath(path)
    with open(where, "rb") as handle:
        file_size = os.fstat(handle.fileno()).st_size
        entries, metadata, start = read_header(handle, file_size, where)
        data = np.empty(file_size - start, dtype=np.uint8)
        read = handle.readinto(memoryview(data))
        if read != data.size:
            raise SafetensorsError(
                f"{where}: expected {data.size} bytes of data, read {read} (file changed while reading?)"
            )
    if digest_key is not None:
        stored = metadata.get(digest_key)
        if stored is None:
            raise ChecksumError(f"{where}: no checksum under {digest_key!r} in the metadata; cannot verify the file")
        header = {
            name: {"dtype": e["dtype"], "shape": list(e["shape"]), "data_offsets": list(e["data_offsets"])}
            for name, e in entries.items()
        }
        if metadata:
            header[METADATA_KEY] = metadata
        actual = _digest(header, digest_key, iter([memoryview(data)]))
        if actual != stored:
            raise ChecksumError(
                f"{where}: checksum mismatch (stored sha256 {stored[:16]}…, content {actual[:16]}…); the file is corrupt or was altered"
            )
    tensors = {}
    for name, entry in sorted(entries.items(), key=lambda item: item[1]["data_offsets"]):
        begin, end = entry["data_offsets"]
        raw = data[begin:end]
        if entry["dtype"] == _BF16:
            bits = raw.view("<u2").astype(np.uint32) << 16
            array = bits.view(np.float32)
        else:
            array = raw.view(DTYPES[entry["dtype"]]).astype(DTYPES[entry["dtype"]].newbyteorder("="), copy=True)
        tensors[name] = array.reshape(entry["shape"])
    return tensors, dict(metadata)


def load_file(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """Read every tensor of a safetensors file as NumPy arrays (see :func:`load_file_with_metadata`)."""
    return load_file_with_metadata(path)[0]


def read_metadata(path: str | os.PathLike[str]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The validated header of a file (per-tensor dtype/shape/offsets, and metadata), without reading the data."""
    where = os.fspath(path)
    with open(where, "rb") as handle:
        entries, metadata, _ = read_header(handle, os.fstat(handle.fileno()).st_size, where)
    return entries, metadata
