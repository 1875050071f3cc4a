"""Text data: find Tiny Shakespeare (or read a file), tokenize it once into ``uint16`` memmaps, sample batches.

Tiny Shakespeare is looked for, in order, in an explicit ``data_dir``, ``$HYPERION_DATA_DIR``,
``/usr/share/datasets``, ``~/.cache/hyperion`` (each as ``<dir>/tinyshakespeare/input.txt``),
and is otherwise downloaded from its canonical URL into the cache, verified against its
published MD5 and SHA-256 (hyperion-nn's downloader: temporary file, check, rename).

The first 90 % of the tokens are the training split and the last 10 % the validation split
(as nanoGPT's ``shakespeare_char``). Token arrays are written atomically as raw ``uint16``
files and opened with ``np.memmap``, so a large corpus is not held in memory twice.

Examples:
    >>> import numpy as np
    >>> data = np.arange(100, dtype=np.uint16)
    >>> x, y = get_batch(data, batch_size=2, block_size=4, rng=np.random.default_rng(0))
    >>> x.shape, bool((y[:, :-1] == x[:, 1:]).all())
    ((2, 4), True)
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hyperion.gpt.tokenizers import Tokenizer
from hyperion.nn.data.datasets import (
    SYSTEM_DATA_DIR,
    DatasetNotFoundError,
    DownloadError,
    RemoteFile,
    download_file,
    search_locations,
)
from hyperion.tensor.files import write_bytes_atomic, write_json_atomic

__all__ = [
    "TINYSHAKESPEARE",
    "TINYSHAKESPEARE_URL",
    "TokenSplits",
    "get_batch",
    "load_text",
    "locate_tinyshakespeare",
    "prepare_tokens",
    "split_tokens",
]

TINYSHAKESPEARE_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
TINYSHAKESPEARE = RemoteFile(
    "input.txt",
    md5="6fb458f1232090904fb40fe944165e91",
    sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
)
DATASET_NAME = "tinyshakespeare"
TRAIN_FRACTION = 0.9


def locate_tinyshakespeare(
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    system_dir: str | os.PathLike[str] | None = SYSTEM_DATA_DIR,
    cache_dir: str | os.PathLike[str] | None = None,
    log: Callable[[str], None] | None = None,
) -> Path:
    """The path of Tiny Shakespeare's ``input.txt``, found in the lookup order or downloaded.

    Raises:
        DatasetNotFoundError: listing every place searched (and why no download happened).
    """
    places = search_locations(DATASET_NAME, data_dir, system_dir=system_dir, cache_dir=cache_dir)
    for _, folder in places:
        candidate = folder / TINYSHAKESPEARE.name
        if candidate.is_file():
            return candidate
    searched = "; ".join(f"{label} {folder}" for label, folder in places)
    if not download:
        raise DatasetNotFoundError(f"Tiny Shakespeare (input.txt) not found; searched: {searched}; downloading is disabled")
    try:
        return download_file(TINYSHAKESPEARE_URL, places[-1][1] / TINYSHAKESPEARE.name, TINYSHAKESPEARE, log=log)
    except DownloadError as error:
        raise DatasetNotFoundError(
            f"Tiny Shakespeare (input.txt) not found; searched: {searched}; download failed: {error}"
        ) from None


def load_text(source: str | os.PathLike[str], data_dir: str | os.PathLike[str] | None = None) -> str:
    """The text of the named data set ``"tinyshakespeare"`` or of a UTF-8 file.

    Raises:
        FileNotFoundError: for a path that does not exist (named), or a data set not found.
        ValueError: for a file that is not UTF-8 text, or an empty one.
    """
    path = locate_tinyshakespeare(data_dir) if os.fspath(source) == DATASET_NAME else Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"no such text file: {os.fspath(path)} (give a path or 'tinyshakespeare')")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{os.fspath(path)} is not UTF-8 text ({exc})") from None
    if len(text) < 2:
        raise ValueError(f"{os.fspath(path)} holds {len(text)} characters: too little text to train on")
    return text


def split_tokens(tokens: np.ndarray, train_fraction: float = TRAIN_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """The first ``train_fraction`` of the tokens and the rest."""
    cut = int(len(tokens) * train_fraction)
    return tokens[:cut], tokens[cut:]


@dataclass
class TokenSplits:
    """The tokenized train and validation splits (``uint16`` memmaps) and where they live."""

    train: np.ndarray
    val: np.ndarray
    folder: Path


def _encode(tokenizer: Tokenizer, text: str) -> np.ndarray:
    encode_array = getattr(tokenizer, "encode_array", None)
    ids = encode_array(text) if encode_array is not None else np.asarray(tokenizer.encode(text), dtype=np.int64)
    return ids


def prepare_tokens(text: str, tokenizer: Tokenizer, folder: str | os.PathLike[str]) -> TokenSplits:
    """Tokenize ``text`` once into ``folder/{train,val}.bin`` (``uint16``) and open them as memmaps.

    The files are reused when ``folder/meta.json`` says they were made from the same text and
    tokenizer (SHA-256 of both); otherwise they are rewritten, atomically.

    Raises:
        ValueError: if the vocabulary does not fit ``uint16``, or a split would be too short.
    """
    if tokenizer.vocab_size > 1 << 16:
        raise ValueError(f"vocabulary of {tokenizer.vocab_size} ids does not fit the uint16 token files")
    folder = Path(folder)
    digest = hashlib.sha256(text.encode("utf-8", errors="surrogatepass"))
    digest.update(json.dumps(tokenizer.to_dict(), sort_keys=True).encode("utf-8"))
    key = digest.hexdigest()
    meta_path = folder / "meta.json"
    meta = None
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except ValueError:
            meta = None
    if not (isinstance(meta, dict) and meta.get("key") == key and all((folder / f"{s}.bin").is_file() for s in ("train", "val"))):
        tokens = _encode(tokenizer, text).astype(np.uint16)
        train, val = split_tokens(tokens)
        for name, part in (("train", train), ("val", val)):
            write_bytes_atomic(folder / f"{name}.bin", part.tobytes())
        write_json_atomic(meta_path, {"key": key, "train_tokens": len(train), "val_tokens": len(val), "dtype": "uint16"})
    train_map = np.memmap(folder / "train.bin", dtype=np.uint16, mode="r")
    val_map = np.memmap(folder / "val.bin", dtype=np.uint16, mode="r")
    return TokenSplits(train=train_map, val=val_map, folder=folder)


def get_batch(
    data: np.ndarray, batch_size: int, block_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``batch_size`` random windows of ``block_size`` tokens and the same windows shifted by one.

    Returns:
        ``(x, y)``, ``int64`` arrays ``(batch_size, block_size)`` with ``y[:, t] = data[i + t + 1]``.

    Raises:
        ValueError: if ``data`` is not longer than ``block_size``.
    """
    if len(data) <= block_size:
        raise ValueError(f"get_batch: {len(data)} tokens are too few for windows of block_size {block_size} (+1)")
    starts = rng.integers(0, len(data) - block_size, size=batch_size)
    offsets = starts[:, None] + np.arange(block_size + 1)[None, :]
    windows = np.asarray(data[offsets], dtype=np.int64)
    return windows[:, :-1], windows[:, 1:]
