"""Hostile and damaged safetensors files are refused with clear errors, without reading or allocating much."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import hyperion.autograd as ag
from hyperion.nn import Module, Parameter, checkpoint, optim
from hyperion.nn.checkpoint import CheckpointError, SafetensorsError


class Pair(Module):
    def __init__(self) -> None:
        super().__init__()
        rng = np.random.default_rng(0)
        self.weight = Parameter(ag.tensor(rng.standard_normal((6, 5))))
        self.bias = Parameter(ag.tensor(rng.standard_normal(5)))


@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, bytes]:
    model = Pair()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    for p in model.parameters():
        p.grad = ag.tensor(np.ones(p.shape))
    opt.step()
    sched = optim.lr_scheduler.StepLR(opt, 3)
    path = tmp_path / "good.safetensors"
    checkpoint.save(path, model=model, optimizer=opt, scheduler=sched, rng=np.random.default_rng(1), extra={"it": 1})
    return path, path.read_bytes()


def load_everything(path: Path) -> Any:
    model = Pair()
    opt = optim.Adam(model.parameters(), lr=1e-3)
    return checkpoint.load(
        path, model=model, optimizer=opt, scheduler=optim.lr_scheduler.StepLR(opt, 3), rng=np.random.default_rng()
    )


def test_the_intact_file_loads(saved: tuple[Path, bytes]) -> None:
    assert load_everything(saved[0]).extra == {"it": 1}


@pytest.mark.parametrize("keep", [0, 5, 8, 20, "half-header", "header", "header+3", "minus-1"])
def test_truncated_files_are_rejected_naming_the_file(saved: tuple[Path, bytes], keep: Any) -> None:
    path, content = saved
    header_end = 8 + int.from_bytes(content[:8], "little")
    length = {
        "half-header": header_end // 2,
        "header": header_end,
        "header+3": header_end + 3,
        "minus-1": len(content) - 1,
    }.get(keep, keep)
    path.write_bytes(content[:length])
    with pytest.raises(CheckpointError, match="good.safetensors: ") as info:
        load_everything(path)
    message = str(info.value)
    assert any(
        text in message
        for text in ("too short", "runs past the end", "beyond the", "truncated", "cover", "not valid JSON")
    ), message


def test_every_sampled_bit_flip_is_detected(saved: tuple[Path, bytes]) -> None:
    """A single flipped bit anywhere (length prefix, header, metadata, data) is caught."""
    path, content = saved
    rng = np.random.default_rng(0)
    header_end = 8 + int.from_bytes(content[:8], "little")
    positions = (
        list(range(8))
        + list(rng.choice(np.arange(8, header_end), 120))
        + list(rng.choice(np.arange(header_end, len(content)), 80))
    )
    for position in positions:
        damaged = bytearray(content)
        damaged[position] ^= 1 << int(rng.integers(8))
        path.write_bytes(bytes(damaged))
        with pytest.raises(CheckpointError, match="good.safetensors"):
            load_everything(path)


def test_a_flipped_data_bit_is_a_checksum_error(saved: tuple[Path, bytes]) -> None:
    path, content = saved
    damaged = bytearray(content)
    damaged[-3] ^= 0x10
    path.write_bytes(bytes(damaged))
    with pytest.raises(checkpoint.ChecksumError, match="good.safetensors: checksum mismatch"):
        checkpoint.load(path, model=Pair())


def test_an_altered_hyperparameter_is_a_checksum_error(saved: tuple[Path, bytes]) -> None:
    """Editing a value inside the metadata (keeping the JSON valid and the length) is caught."""
    path, content = saved
    altered = content.replace(b'\\"lr\\": 0.001', b'\\"lr\\": 0.003')
    assert altered != content
    path.write_bytes(altered)
    with pytest.raises(checkpoint.ChecksumError, match="checksum mismatch"):
        load_everything(path)


def write_raw(path: Path, header: Any, data: bytes = b"", length: int | None = None) -> Path:
    encoded = header if isinstance(header, bytes) else json.dumps(header).encode()
    prefix = (len(encoded) if length is None else length).to_bytes(8, "little")
    path.write_bytes(prefix + encoded + data)
    return path


def entry(dtype: str, shape: list[int], begin: int, end: int) -> dict[str, Any]:
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


MALICIOUS = {
    "huge-length": (b"{}", b"", 2**63, "header length 9223372036854775808 exceeds the limit of 100000000 bytes"),
    "length-past-end": (b"{}", b"", 4096, "header length 4096 runs past the end of the file"),
    "not-json": (b"{not json", b"", None, "the header is not valid JSON"),
    "not-utf8": (b'{"\xff": 1}', b"", None, "the header is not valid JSON"),
    "not-object": (b"[1, 2]", b"", None, "the header must be a JSON object, got list"),
    "duplicate-key": (b'{"a": {}, "a": {}}', b"", None, "duplicate key 'a'"),
    "missing-field": (
        {"a": {"dtype": "F32", "shape": [1]}},
        b"\0" * 4,
        None,
        "must have exactly 'dtype', 'shape' and 'data_offsets'",
    ),
    "unknown-dtype": ({"a": entry("F128", [1], 0, 16)}, b"\0" * 16, None, "unknown dtype 'F128'"),
    "negative-shape": ({"a": entry("F32", [-1], 0, 4)}, b"\0" * 4, None, r"invalid shape \[-1\]"),
    "bool-shape": (
        {"a": entry("F32", [True], 0, 4)},
        b"\0" * 4,
        None,
        r"invalid shape \[true\]|invalid shape \[True\]",
    ),
    "reversed-offsets": ({"a": entry("F32", [0], 8, 4)}, b"\0" * 8, None, r"invalid data_offsets \[8, 4\]"),
    "bytes-mismatch": (
        {"a": entry("F32", [3], 0, 8)},
        b"\0" * 8,
        None,
        r"shape \[3\] needs 12 bytes, but its data_offsets \[0, 8\] span 8",
    ),
    "out-of-range": ({"a": entry("F64", [2**40], 0, 2**43)}, b"\0" * 8, None, "beyond the 8 bytes of data"),
    "overlap": (
        {"a": entry("F32", [2], 0, 8), "b": entry("F32", [2], 4, 12)},
        b"\0" * 12,
        None,
        "tensors 'a' and 'b' overlap",
    ),
    "gap": (
        {"a": entry("F32", [1], 0, 4), "b": entry("F32", [1], 8, 12)},
        b"\0" * 12,
        None,
        "unused bytes 4..8 before tensor 'b'",
    ),
    "trailing": (
        {"a": entry("F32", [1], 0, 4)},
        b"\0" * 12,
        None,
        "the tensors cover 4 bytes but the file holds 12 bytes",
    ),
    "bad-metadata": ({"__metadata__": {"a": 1}}, b"", None, "__metadata__ must map strings to strings"),
}


@pytest.mark.parametrize("case", sorted(MALICIOUS))
def test_malicious_headers_are_rejected(tmp_path: Path, case: str) -> None:
    header, data, length, message = MALICIOUS[case]
    path = write_raw(tmp_path / "evil.safetensors", header, data, length)
    tracemalloc.start()
    try:
        with pytest.raises(SafetensorsError, match=message) as info:
            checkpoint.load_file(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "evil.safetensors" in str(info.value)
    assert peak < 1_000_000, f"allocated {peak} bytes to reject a {path.stat().st_size}-byte file"
    with pytest.raises(CheckpointError, match="evil.safetensors"):
        checkpoint.load(path, model=Pair())


def test_empty_and_tiny_files(tmp_path: Path) -> None:
    path = tmp_path / "tiny.safetensors"
    path.write_bytes(b"")
    with pytest.raises(SafetensorsError, match="tiny.safetensors: file of 0 bytes is too short"):
        checkpoint.load_file(path)
    write_raw(path, b"{}")
    assert checkpoint.load_file(path) == {}


def test_checksum_missing_from_a_hyperion_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "nosum.safetensors"
    checkpoint.save_file(
        {"weight": np.zeros((6, 5)), "bias": np.zeros(5)},
        path,
        metadata={"format": checkpoint.FORMAT, "format_version": "1"},
    )
    with pytest.raises(checkpoint.ChecksumError, match="no checksum under 'hyperion.sha256'"):
        checkpoint.load(path, model=Pair())


def test_unsupported_format_version(tmp_path: Path) -> None:
    path = tmp_path / "v9.safetensors"
    checkpoint.save_file(
        {}, path, metadata={"format": checkpoint.FORMAT, "format_version": "9"}, digest_key=checkpoint.DIGEST_KEY
    )
    with pytest.raises(CheckpointError, match="unsupported checkpoint format 'hyperion.checkpoint' version '9'"):
        checkpoint.load(path)


def test_no_pickle_in_the_checkpoint_code() -> None:
    import hyperion.nn.checkpoint as package

    for source in Path(package.__file__).parent.glob("*.py"):
        text = source.read_text()
        assert "import pickle" not in text and "allow_pickle=True" not in text, source


def test_malformed_sections_of_a_plain_file(tmp_path: Path) -> None:
    """Files without a checksum (plain safetensors) are still parsed defensively."""
    path = tmp_path / "plain.safetensors"
    checkpoint.save_file({"weight": np.zeros((6, 5)), "bias": np.zeros(5)}, path, metadata={"extra": "[1, 2]"})
    with pytest.raises(CheckpointError, match="'extra' metadata must be a JSON object, got list"):
        checkpoint.load(path)
    checkpoint.save_file({}, path, metadata={"scheduler": "[1]"})
    opt = optim.SGD(Pair().parameters(), lr=0.1)
    with pytest.raises(CheckpointError, match="scheduler metadata is malformed"):
        checkpoint.load(path, scheduler=optim.lr_scheduler.StepLR(opt, 2))
    checkpoint.save_file({}, path, metadata={"optimizer": "{not json"})
    with pytest.raises(CheckpointError, match="'optimizer' metadata is not valid JSON"):
        checkpoint.load(path, optimizer=opt)
