"""Data: Tiny Shakespeare lookup order, checksummed download refusal, uint16 memmaps, 90/10 split, batches."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from hyperion.gpt.data import (
    TINYSHAKESPEARE,
    get_batch,
    load_text,
    locate_tinyshakespeare,
    prepare_tokens,
    split_tokens,
)
from hyperion.gpt.tokenizers import BPETokenizer, CharTokenizer
from hyperion.nn.data.datasets import DatasetNotFoundError


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No $HYPERION_DATA_DIR and an empty home: only what a test creates can be found."""
    monkeypatch.delenv("HYPERION_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def _put(folder: Path, text: str = "to be or not to be\n") -> Path:
    (folder / "tinyshakespeare").mkdir(parents=True, exist_ok=True)
    path = folder / "tinyshakespeare" / "input.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_lookup_order_explicit_then_env_then_cache(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = _put(isolated / "home" / ".cache" / "hyperion")
    assert locate_tinyshakespeare(download=False, system_dir=None) == cache
    env = _put(isolated / "env")
    monkeypatch.setenv("HYPERION_DATA_DIR", str(isolated / "env"))
    assert locate_tinyshakespeare(download=False, system_dir=None) == env
    explicit = _put(isolated / "explicit")
    assert locate_tinyshakespeare(isolated / "explicit", download=False, system_dir=None) == explicit


def test_missing_data_set_lists_the_places_searched(isolated: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="searched: .*cache .*downloading is disabled"):
        locate_tinyshakespeare(download=False, system_dir=None)


def test_a_download_with_a_wrong_checksum_leaves_nothing(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    served = isolated / "served.txt"
    served.write_text("not shakespeare", encoding="utf-8")
    monkeypatch.setattr("hyperion.gpt.data.TINYSHAKESPEARE_URL", served.as_uri())
    with pytest.raises(DatasetNotFoundError, match="checksum mismatch"):
        locate_tinyshakespeare(system_dir=None)
    assert not any((isolated / "home").rglob("input.txt"))
    assert TINYSHAKESPEARE.sha256 and TINYSHAKESPEARE.md5


def test_real_data_set_when_available() -> None:
    if not os.environ.get("HYPERION_DATA_DIR"):
        pytest.skip("HYPERION_DATA_DIR is not set")
    text = load_text("tinyshakespeare")
    assert len(text) == 1_115_394 and text.startswith("First Citizen")


def test_load_text_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such text file"):
        load_text(tmp_path / "missing.txt")
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\xfa")
    with pytest.raises(ValueError, match="not UTF-8"):
        load_text(tmp_path / "bin.txt")


def test_prepare_tokens_writes_uint16_memmaps_split_90_10(tmp_path: Path, text: str) -> None:
    tok = CharTokenizer.train(text)
    splits = prepare_tokens(text, tok, tmp_path / "tokens")
    assert isinstance(splits.train, np.memmap) and splits.train.dtype == np.uint16
    assert len(splits.train) == int(0.9 * len(text)) and len(splits.train) + len(splits.val) == len(text)
    assert tok.decode(np.concatenate([splits.train, splits.val]).tolist()) == text
    stamp = (tmp_path / "tokens" / "train.bin").stat().st_mtime_ns
    prepare_tokens(text, tok, tmp_path / "tokens")  # same text and tokenizer: reused
    assert (tmp_path / "tokens" / "train.bin").stat().st_mtime_ns == stamp
    other = prepare_tokens(text, BPETokenizer.train(text, 280), tmp_path / "tokens")  # other tokenizer: rewritten
    assert len(other.train) < len(splits.train)
    assert not list((tmp_path / "tokens").glob(".*tmp"))


def test_split_tokens() -> None:
    train, val = split_tokens(np.arange(100))
    assert train.tolist() == list(range(90)) and val.tolist() == list(range(90, 100))


def test_get_batch_is_seeded_and_shifted() -> None:
    data = np.arange(1000, dtype=np.uint16)
    x1, y1 = get_batch(data, 4, 16, np.random.default_rng(3))
    x2, _ = get_batch(data, 4, 16, np.random.default_rng(3))
    assert np.array_equal(x1, x2) and x1.dtype == np.int64
    assert np.array_equal(y1, x1 + 1)
    assert (x1[:, 0] + 16 < 1000).all()
    with pytest.raises(ValueError, match="too few"):
        get_batch(data[:10], 1, 16, np.random.default_rng(0))
