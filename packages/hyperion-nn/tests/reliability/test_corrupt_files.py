"""Corrupt and hostile files: clear errors, no out-of-bounds reads, no absurd allocations, no pickle.

Safetensors files are built by hand (8-byte little-endian header length, JSON header, data) with
every field an attacker controls set to something hostile; IDX files likewise. Each load runs
under ``tracemalloc`` and its peak must stay far below what the file *claims* to hold.
"""

from __future__ import annotations

import gzip
import json
import re
import struct
import tracemalloc
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hyperion.autograd as ag
from hyperion.nn import Linear, checkpoint
from hyperion.nn.checkpoint import CheckpointError, SafetensorsError
from hyperion.nn.data.idx import IdxFormatError, read_idx
from hyperion.nn.optim import SGD

PEAK_LIMIT = 4 << 20  # 4 MiB: every file here is tiny, whatever it claims


def _file(
    tmp_path: Path, header: Any, data: bytes = b"", *, length: int | None = None, raw: bytes | None = None
) -> Path:
    text = raw if raw is not None else json.dumps(header).encode()
    path = tmp_path / "hostile.safetensors"
    path.write_bytes(struct.pack("<Q", len(text) if length is None else length) + text + data)
    return path


def _load_bounded(load: Callable[[], Any]) -> BaseException:
    """Run ``load``, which must raise; return the exception after checking the allocation peak."""
    tracemalloc.start()
    try:
        load()
    except Exception as exc:  # noqa: BLE001 - returned to the caller, which checks its type
        error = exc
    else:
        error = AssertionError("the hostile file loaded")
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < PEAK_LIMIT, f"loading a tiny hostile file allocated {peak} bytes at peak"
    return error


F32 = {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}
HOSTILE: dict[str, tuple[dict[str, Any], str]] = {
    # name: (how to build the file, the message must match)
    "length 2**63": ({"header": {}, "length": 2**63}, r"header length 9223372036854775808 exceeds the limit"),
    "length past the end": (
        {"header": {"x": F32}, "data": b"\0" * 8, "length": 5000},
        r"header length 5000 runs past the end",
    ),
    "length of the limit": ({"header": {}, "length": checkpoint.MAX_HEADER_BYTES}, r"runs past the end"),
    "non-JSON": ({"raw": b"{'x': not json", "header": None}, r"not valid JSON"),
    "not UTF-8": ({"raw": b"\xff\xfe{}", "header": None}, r"not valid JSON"),
    "JSON list": ({"header": [1, 2, 3]}, r"must be a JSON object, got list"),
    "duplicate name": (
        {
            "raw": b'{"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "x": {}}',
            "header": None,
            "data": b"\0" * 4,
        },
        r"duplicate key 'x'",
    ),
    "offsets out of range": ({"header": {"x": {**F32, "data_offsets": [0, 10**12]}}, "data": b"\0" * 8}, r"'x'"),
    "offsets reversed": ({"header": {"x": {**F32, "data_offsets": [8, 0]}}, "data": b"\0" * 8}, r"'x'"),
    "negative offset": ({"header": {"x": {**F32, "data_offsets": [-8, 0]}}, "data": b"\0" * 8}, r"'x'"),
    "overlap": (
        {"header": {"a": {**F32, "data_offsets": [0, 8]}, "b": {**F32, "data_offsets": [4, 12]}}, "data": b"\0" * 12},
        r"overlap",
    ),
    "gap": ({"header": {"a": {**F32, "data_offsets": [4, 12]}}, "data": b"\0" * 12}, r"unused bytes 0\.\.4"),
    "shape vs bytes": (
        {"header": {"x": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 8]}}, "data": b"\0" * 8},
        r"'x'",
    ),
    "huge shape": (
        {"header": {"x": {"dtype": "F64", "shape": [2**40, 2**40], "data_offsets": [0, 8]}}, "data": b"\0" * 8},
        r"'x'",
    ),
    "negative size": (
        {"header": {"x": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, "data": b"\0" * 8},
        r"invalid shape \[-2\]",
    ),
    "shape of strings": (
        {"header": {"x": {"dtype": "F32", "shape": ["2"], "data_offsets": [0, 8]}}, "data": b"\0" * 8},
        r"invalid shape",
    ),
    "shape of bools": (
        {"header": {"x": {"dtype": "F32", "shape": [True, True], "data_offsets": [0, 4]}}, "data": b"\0" * 4},
        r"invalid shape",
    ),
    "unknown dtype": (
        {"header": {"x": {"dtype": "PICKLE", "shape": [1], "data_offsets": [0, 4]}}, "data": b"\0" * 4},
        r"unknown dtype 'PICKLE'",
    ),
    "missing field": ({"header": {"x": {"dtype": "F32", "shape": [1]}}, "data": b"\0" * 4}, r"'x'"),
    "metadata not strings": ({"header": {"__metadata__": {"a": 1}}}, r"__metadata__ must map strings to strings"),
    "data missing": ({"header": {"x": F32}, "data": b"\0" * 3}, r"'x'|data"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_safetensors_headers_are_refused_cheaply(tmp_path: Path, case: str) -> None:
    spec, pattern = HOSTILE[case]
    path = _file(tmp_path, spec.get("header"), spec.get("data", b""), length=spec.get("length"), raw=spec.get("raw"))
    for load in (lambda: checkpoint.load_file(path), lambda: checkpoint.load(path, model=Linear(2, 2))):
        error = _load_bounded(load)
        assert isinstance(error, SafetensorsError), f"{case}: {type(error).__name__}: {error}"
        assert str(path) in str(error), f"{case}: the message does not name the file: {error}"
        assert re.search(pattern, str(error)), f"{case}: {error}"


@pytest.fixture
def good_checkpoint(tmp_path: Path) -> Path:
    model = Linear(8, 4, dtype="float64", seed=0)
    optimizer = SGD(model.parameters(), lr=0.1, momentum=0.9)
    (model(ag.ones(2, 8, dtype="float64")).sum()).backward()
    optimizer.step()
    path = tmp_path / "good.safetensors"
    checkpoint.save(path, model=model, optimizer=optimizer, extra={"step": 3})
    return path


def _restore(path: Path) -> Any:
    model = Linear(8, 4, dtype="float64")
    return checkpoint.load(path, model=model, optimizer=SGD(model.parameters(), lr=0.1, momentum=0.9))


def test_every_truncation_of_a_checkpoint_is_refused(good_checkpoint: Path, tmp_path: Path) -> None:
    content = good_checkpoint.read_bytes()
    for keep in sorted({0, 1, 7, 8, 9, len(content) // 3, len(content) // 2, len(content) - 8, len(content) - 1}):
        broken = tmp_path / f"cut{keep}.safetensors"
        broken.write_bytes(content[:keep])
        error = _load_bounded(lambda broken=broken: _restore(broken))
        assert isinstance(error, CheckpointError), f"truncated to {keep} bytes: {type(error).__name__}: {error}"
        assert str(broken) in str(error)


def test_bit_flips_anywhere_are_refused(good_checkpoint: Path, tmp_path: Path) -> None:
    content = bytearray(good_checkpoint.read_bytes())
    rng = np.random.default_rng(11)
    for position in rng.choice(len(content), size=40, replace=False):
        flipped = bytearray(content)
        flipped[position] ^= 1 << int(rng.integers(8))
        broken = tmp_path / "flipped.safetensors"
        broken.write_bytes(bytes(flipped))
        error = _load_bounded(lambda broken=broken: _restore(broken))
        assert isinstance(error, CheckpointError), f"bit flip at byte {position}: {type(error).__name__}: {error}"


# -- IDX -------------------------------------------------------------------------------------------


def _idx_header(code: int, dims: tuple[int, ...]) -> bytes:
    return bytes([0, 0, code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)


IDX_CASES: dict[str, tuple[bytes, str]] = {
    "empty": (b"", r"only 0 bytes"),
    "bad magic": (b"\x01\x02\x08\x01" + b"\0" * 8, r"magic number 01020801"),
    "unknown dtype": (bytes([0, 0, 0x42, 1]) + b"\0" * 8, r"unknown IDX dtype code 0x42"),
    "zero dims": (bytes([0, 0, 8, 0]), r"declares 0 dimensions"),
    "truncated header": (bytes([0, 0, 8, 3]) + b"\0" * 5, r"truncated IDX header: 3 dimensions need 16"),
    "truncated data": (_idx_header(8, (10,)) + b"\0" * 9, r"truncated: header declares shape \(10,\)"),
    "trailing bytes": (_idx_header(8, (10,)) + b"\0" * 11, r"has trailing bytes"),
    "absurd dims": (_idx_header(0x0E, (2**32 - 1, 2**32 - 1, 2**32 - 1)), r"truncated: header declares shape"),
    # 65536**4 wraps to 0 in int64: the header would "match" an empty payload (a fixed bug).
    "dims overflowing int64": (
        _idx_header(8, (65536, 65536, 65536, 65536)),
        r"truncated: header declares shape \(65536, 65536, 65536, 65536\)",
    ),
}


@pytest.mark.parametrize("case", sorted(IDX_CASES))
@pytest.mark.parametrize("compressed", [False, True])
def test_malformed_idx_files_are_refused_naming_the_file(tmp_path: Path, case: str, compressed: bool) -> None:
    payload, pattern = IDX_CASES[case]
    path = tmp_path / ("bad-idx1-ubyte.gz" if compressed else "bad-idx1-ubyte")
    path.write_bytes(gzip.compress(payload, mtime=0) if compressed else payload)
    error = _load_bounded(lambda: read_idx(path))
    assert isinstance(error, IdxFormatError), f"{case}: {type(error).__name__}: {error}"
    assert str(path) in str(error) and re.search(pattern, str(error)), str(error)


def test_a_gzip_bomb_is_not_decompressed_beyond_what_the_header_declares(tmp_path: Path) -> None:
    """64 MiB of zeros after a header declaring 10 bytes: refused after reading ~11 bytes of data."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(_idx_header(8, (10,)) + bytes(10))]
    zeros = bytes(1 << 20)
    parts += [packer.compress(zeros) for _ in range(64)]
    parts.append(packer.flush())
    path = tmp_path / "bomb-idx1-ubyte.gz"
    path.write_bytes(b"".join(parts))
    assert path.stat().st_size < 1 << 20
    error = _load_bounded(lambda: read_idx(path))
    assert isinstance(error, IdxFormatError) and "has trailing bytes" in str(error), str(error)


def test_a_truncated_gzip_stream_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "cut-idx1-ubyte.gz"
    noise = np.random.default_rng(5).integers(0, 256, 1000, dtype=np.uint8).tobytes()  # incompressible
    whole = gzip.compress(_idx_header(8, (1000,)) + noise)
    path.write_bytes(whole[: len(whole) // 2])
    error = _load_bounded(lambda: read_idx(path))
    assert isinstance(error, IdxFormatError) and "corrupt or truncated gzip stream" in str(error), str(error)


# -- no pickle anywhere -------------------------------------------------------------------------------

PICKLE_USE = re.compile(
    r"\b(import\s+(c?pickle|dill|joblib|shelve|marshal)|from\s+(c?pickle|dill|joblib|shelve)\s+import"
    r"|allow_pickle\s*=\s*True|torch\.load\()",
    re.IGNORECASE,
)
NP_LOAD = re.compile(r"\bnp\.load\((?P<args>[^)]*)\)")


def _package_sources() -> list[Path]:
    packages = Path(__file__).resolve().parents[3]
    return sorted(packages.glob("hyperion-*/src/**/*.py"))


def test_no_package_loads_pickles() -> None:
    sources = _package_sources()
    if not sources:
        pytest.skip("the sources of the packages are not beside this test (installed without the repository)")
    offenders = []
    for path in sources:
        text = path.read_text(encoding="utf-8")
        offenders += [f"{path}: {m.group(0)}" for m in PICKLE_USE.finditer(text)]
        offenders += [
            f"{path}: {m.group(0)}" for m in NP_LOAD.finditer(text) if "allow_pickle=False" not in m.group("args")
        ]
    assert not offenders, "pickle (or np.load without allow_pickle=False) in package code:\n" + "\n".join(offenders)


def test_the_pickle_scan_catches_what_it_should() -> None:
    for bad in ("import pickle", "from cPickle import loads", "np.load(f, allow_pickle=True)", "import joblib"):
        assert PICKLE_USE.search(bad) or NP_LOAD.search(bad), bad
    assert next(NP_LOAD.finditer("np.load(path)"))
    assert "allow_pickle=False" in next(NP_LOAD.finditer("np.load(path, allow_pickle=False)")).group("args")
