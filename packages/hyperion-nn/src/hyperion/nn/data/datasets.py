"""MNIST and Fashion-MNIST: find the IDX files, or download them with checksums, and load them.

The files are looked for in this order (the first place holding both files of
the split wins):

1. the explicit ``data_dir`` argument (``data_dir/<name>/`` or ``data_dir`` itself),
2. ``$HYPERION_DATA_DIR/<name>/``,
3. the system location ``/usr/share/datasets/<name>/`` (Debian's ``dataset-fashion-mnist``),
4. the user cache ``~/.cache/hyperion/<name>/``,
5. a download from the canonical URL into the user cache.

A download is streamed into a temporary file next to its destination, its
MD5/SHA-256 checked against the published checksum, and only then renamed into
place: a partial or altered file is deleted, never left where a later load
would find it. Checksums are verified on download only — distributions may
re-compress the files (Debian does) — while the structure (magic numbers, image
size, image/label counts, label range) is validated on every load.

Examples:
    >>> images, labels = mnist("test")  # doctest: +SKIP
    >>> images.shape, images.dtype, labels.shape  # doctest: +SKIP
    ((10000, 28, 28), dtype('uint8'), (10000,))
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hyperion.nn.data.dataset import TensorDataset
from hyperion.nn.data.idx import IdxFormatError, read_idx
from hyperion.tensor.files import atomic_path

__all__ = [
    "FASHION_MNIST",
    "MNIST",
    "SYSTEM_DATA_DIR",
    "DatasetNotFoundError",
    "DatasetSource",
    "DownloadError",
    "RemoteFile",
    "download_file",
    "fashion_mnist",
    "load_image_classification",
    "locate_split",
    "mnist",
    "search_locations",
    "source_by_name",
]

#: Where distributions install data sets (Debian's ``dataset-fashion-mnist`` uses it).
SYSTEM_DATA_DIR = Path("/usr/share/datasets")
SPLITS = ("train", "test")
_CHUNK = 1 << 20


class DatasetNotFoundError(FileNotFoundError):
    """The files of a data set are in none of the places searched and could not be downloaded."""


class DownloadError(OSError):
    """A download failed or its checksum did not match (the partial file has been deleted)."""


@dataclass(frozen=True)
class RemoteFile:
    """One published file and its checksums (either may be ``None``; at least one should be set)."""

    name: str
    md5: str | None = None
    sha256: str | None = None


@dataclass(frozen=True)
class DatasetSource:
    """Where a data set lives and what its files are.

    Attributes:
        name: the folder name searched for (``mnist``, ``fashion-mnist``).
        title: the human name used in messages.
        mirrors: base URLs tried in order; a file's URL is ``mirror + file.name``.
        splits: split → ``(images file, labels file)``.
        classes: the class names, index = label.
        image_shape: the shape of one image.
    """

    name: str
    title: str
    mirrors: tuple[str, ...]
    splits: dict[str, tuple[RemoteFile, RemoteFile]]
    classes: tuple[str, ...]
    image_shape: tuple[int, ...] = (28, 28)


MNIST = DatasetSource(
    name="mnist",
    title="MNIST",
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    splits={
        "train": (
            RemoteFile("train-images-idx3-ubyte.gz", md5="f68b3c2dcbeaaa9fbdd348bbdeb94873"),
            RemoteFile("train-labels-idx1-ubyte.gz", md5="d53e105ee54ea40749a09fcbcd1e9432"),
        ),
        "test": (
            RemoteFile("t10k-images-idx3-ubyte.gz", md5="9fb629c4189551a2d022fa330f9573f3"),
            RemoteFile("t10k-labels-idx1-ubyte.gz", md5="ec29112dd5afa0611ce80d1b7f02629c"),
        ),
    },
    classes=tuple(str(d) for d in range(10)),
)

FASHION_MNIST = DatasetSource(
    name="fashion-mnist",
    title="Fashion-MNIST",
    mirrors=(
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
        "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    ),
    splits={
        "train": (
            RemoteFile("train-images-idx3-ubyte.gz", md5="8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
            RemoteFile("train-labels-idx1-ubyte.gz", md5="25c81989df183df01b3e8a0aad5dffbe"),
        ),
        "test": (
            RemoteFile("t10k-images-idx3-ubyte.gz", md5="bef4ecab320f06d8554ea6380940ec79"),
            RemoteFile("t10k-labels-idx1-ubyte.gz", md5="bb300cfdad3c16e7a12a480ee83cd310"),
        ),
    },
    classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
)


def default_cache_dir() -> Path:
    """The user cache, ``~/.cache/hyperion`` (``$HOME`` is read when called, not at import)."""
    return Path.home() / ".cache" / "hyperion"


def search_locations(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    system_dir: str | os.PathLike[str] | None = SYSTEM_DATA_DIR,
    cache_dir: str | os.PathLike[str] | None = None,
) -> list[tuple[str, Path]]:
    """The folders searched for data set ``name``, in order, each with a label saying why.

    Args:
        name: the data set's folder name.
        data_dir: an explicit folder (its ``<name>/`` sub-folder is tried first, then itself).
        system_dir: the system data folder (``None`` skips it).
        cache_dir: the user cache folder (default :func:`default_cache_dir`).

    Returns:
        ``[(label, folder), ...]``; the last entry is the cache, where downloads go.
    """
    places: list[tuple[str, Path]] = []
    if data_dir is not None:
        explicit = Path(data_dir).expanduser()
        places += [("data_dir", explicit / name), ("data_dir", explicit)]
    env = os.environ.get("HYPERION_DATA_DIR")
    if env:
        places.append(("$HYPERION_DATA_DIR", Path(env).expanduser() / name))
    if system_dir is not None:
        places.append(("system", Path(system_dir) / name))
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    places.append(("cache", cache / name))
    return places


def _find_file(folder: Path, remote: RemoteFile) -> Path | None:
    """``folder/<name>`` or its uncompressed twin (``.gz`` dropped), whichever exists."""
    candidates = [remote.name]
    if remote.name.endswith(".gz"):
        candidates.append(remote.name[: -len(".gz")])
    for candidate in candidates:
        path = folder / candidate
        if path.is_file():
            return path
    return None


def _hash_matches(path: Path, remote: RemoteFile) -> str | None:
    """``None`` if the file matches every checksum ``remote`` publishes, else a description of the mismatch."""
    digests = {"md5": hashlib.md5(usedforsecurity=False), "sha256": hashlib.sha256()}
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            for digest in digests.values():
                digest.update(block)
    for algorithm in ("md5", "sha256"):
        expected = getattr(remote, algorithm)
        got = digests[algorithm].hexdigest()
        if expected is not None and got != expected.lower():
            return f"{algorithm} {got} != expected {expected}"
    return None


def download_file(
    url: str,
    destination: str | os.PathLike[str],
    remote: RemoteFile,
    *,
    timeout: float = 30.0,
    log: Callable[[str], None] | None = None,
) -> Path:
    """Download ``url`` to ``destination``, verified against ``remote``'s checksums, atomically.

    The bytes go to a temporary file in the destination's folder; only when the
    checksums match is it renamed to ``destination``. On any failure (network,
    truncation, wrong checksum, interruption) the temporary file is deleted.

    Raises:
        DownloadError: naming the URL, for a network failure or a checksum mismatch.
    """
    destination = Path(destination)
    with atomic_path(destination, suffix=".part") as tmp:
        if log is not None:
            log(f"downloading {url}")
        try:
            with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
                expected_length = response.headers.get("Content-Length")
                received = 0
                for block in iter(lambda: response.read(_CHUNK), b""):
                    out.write(block)
                    received += len(block)
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as error:
            raise DownloadError(f"download of {url} failed: {error}") from None
        if expected_length is not None and int(expected_length) != received:
            raise DownloadError(f"download of {url} truncated: {received} of {expected_length} bytes")
        mismatch = _hash_matches(tmp, remote)
        if mismatch is not None:
            raise DownloadError(f"download of {url} rejected: checksum mismatch ({mismatch}); file deleted")
    return destination


def locate_split(
    source: DatasetSource,
    split: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    system_dir: str | os.PathLike[str] | None = SYSTEM_DATA_DIR,
    cache_dir: str | os.PathLike[str] | None = None,
    timeout: float = 30.0,
    log: Callable[[str], None] | None = None,
) -> tuple[Path, Path]:
    """The ``(images, labels)`` files of ``split``, found in the lookup order or downloaded.

    Raises:
        ValueError: for an unknown split.
        DatasetNotFoundError: listing every place searched (and why the download did not happen).
    """
    if split not in source.splits:
        raise ValueError(f"unknown {source.title} split {split!r}; expected one of {sorted(source.splits)}")
    remotes = source.splits[split]
    places = search_locations(source.name, data_dir, system_dir=system_dir, cache_dir=cache_dir)
    for _, folder in places:
        found = [_find_file(folder, remote) for remote in remotes]
        if all(path is not None for path in found):
            return found[0], found[1]  # type: ignore[return-value]
    searched = "; ".join(f"{label} {folder}" for label, folder in places)
    wanted = " and ".join(remote.name for remote in remotes)
    if not download:
        raise DatasetNotFoundError(
            f"{source.title} {split} files ({wanted}) not found; searched: {searched}; downloading is disabled"
        )
    cache = places[-1][1]
    paths: list[Path] = []
    for remote in remotes:
        existing = _find_file(cache, remote)
        if existing is not None:
            paths.append(existing)
            continue
        failures: list[str] = []
        for mirror in source.mirrors:
            try:
                paths.append(download_file(mirror + remote.name, cache / remote.name, remote, timeout=timeout, log=log))
                break
            except DownloadError as error:
                failures.append(str(error))
        else:
            raise DatasetNotFoundError(
                f"{source.title} {split} files ({wanted}) not found; searched: {searched}; "
                f"download failed: {' | '.join(failures) or 'no mirrors configured'}"
            )
    return paths[0], paths[1]


def load_image_classification(
    source: DatasetSource,
    split: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    system_dir: str | os.PathLike[str] | None = SYSTEM_DATA_DIR,
    cache_dir: str | os.PathLike[str] | None = None,
    timeout: float = 30.0,
    log: Callable[[str], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Locate and load one split of an MNIST-style data set, validating its structure.

    Returns:
        ``(images, labels)``: ``uint8`` arrays of shape ``(N, *image_shape)`` and ``(N,)``.

    Raises:
        DatasetNotFoundError: when the files are nowhere and cannot be downloaded.
        IdxFormatError: naming the file, when a file is malformed, has the wrong rank, image
            size or dtype, when image and label counts differ, or a label is out of range.
    """
    images_path, labels_path = locate_split(
        source, split, data_dir, download=download, system_dir=system_dir, cache_dir=cache_dir, timeout=timeout, log=log
    )
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.dtype != np.uint8 or images.shape[1:] != source.image_shape or images.ndim != 1 + len(source.image_shape):
        raise IdxFormatError(
            f"{images_path}: expected uint8 images of shape (N, {', '.join(map(str, source.image_shape))}), "
            f"got {images.dtype} {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise IdxFormatError(f"{labels_path}: expected a 1-D uint8 label array, got {labels.dtype} {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise IdxFormatError(
            f"{source.title} {split}: {images.shape[0]} images in {images_path} but {labels.shape[0]} labels in {labels_path}"
        )
    if labels.size and int(labels.max()) >= len(source.classes):
        raise IdxFormatError(f"{labels_path}: label {int(labels.max())} out of range for {len(source.classes)} classes")
    return images, labels


def _load(
    source: DatasetSource,
    split: str,
    data_dir: str | os.PathLike[str] | None,
    as_dataset: bool,
    download: bool,
    system_dir: str | os.PathLike[str] | None,
    cache_dir: str | os.PathLike[str] | None,
    log: Callable[[str], None] | None,
    mirrors: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray] | TensorDataset:
    if mirrors is not None:
        if isinstance(mirrors, str) or not all(isinstance(m, str) for m in mirrors):
            raise TypeError(f"mirrors must be a sequence of base URLs (strings), got {mirrors!r}")
        source = dataclasses.replace(source, mirrors=tuple(mirrors))
    images, labels = load_image_classification(
        source, split, data_dir, download=download, system_dir=system_dir, cache_dir=cache_dir, log=log
    )
    if as_dataset:
        return TensorDataset(images, labels.astype(np.int64))
    return images, labels


def mnist(
    split: str = "train",
    data_dir: str | os.PathLike[str] | None = None,
    *,
    as_dataset: bool = False,
    download: bool = True,
    system_dir: str | os.PathLike[str] | None = SYSTEM_DATA_DIR,
    cache_dir: str | os.PathLike[str] | None = None,
    log: Callable[[str], None] | None = None,
    mirrors: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray] | TensorDataset:
    """MNIST handwritten digits, one split.

    Args:
        split: ``"train"`` or ``"test"``.
        data_dir: an explicit folder searched first (see the module docstring for the order).
        as_dataset: return a :class:`TensorDataset` of ``(uint8 image, int64 label)``
            instead of the two arrays.
        download: fetch the canonical files (checksummed) into the cache when not found.
        system_dir: the system data folder (``None`` skips it).
        cache_dir: the user cache (default ``~/.cache/hyperion``).
        log: called with a line of text before each download.
        mirrors: base URLs to download from instead of the canonical ones (a local mirror, a
            test server); a file's URL is ``mirror + file name``, and the published checksums
            still apply.

    Returns:
        ``(images, labels)``: ``uint8`` ``(N, 28, 28)`` and ``uint8`` ``(N,)``, or a dataset.

    Raises:
        DatasetNotFoundError: listing the places searched, when the files cannot be had.
        IdxFormatError: when a file is malformed (see :func:`load_image_classification`).
    """
    return _load(MNIST, split, data_dir, as_dataset, download, system_dir, cache_dir, log, mirrors)


def fashion_mnist(
    split: str = "train",
    data_dir: str | os.PathLike[str] | None = None,
    *,
    as_dataset: bool = False,
    download: bool = True,
    system_dir: str | os.PathLike[str] | None = SYSTEM_DATA_DIR,
    cache_dir: str | os.PathLike[str] | None = None,
    log: Callable[[str], None] | None = None,
    mirrors: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray] | TensorDataset:
    """Fashion-MNIST (Zalando's article images), one split; arguments as :func:`mnist`."""
    return _load(FASHION_MNIST, split, data_dir, as_dataset, download, system_dir, cache_dir, log, mirrors)


def source_by_name(name: str, sources: Sequence[DatasetSource] = (MNIST, FASHION_MNIST)) -> DatasetSource:
    """The :class:`DatasetSource` called ``name`` (``mnist``, ``fashion-mnist``; ``_`` works for ``-``).

    Raises:
        ValueError: listing the known names.
    """
    wanted = name.lower().replace("_", "-")
    for source in sources:
        if source.name == wanted:
            return source
    raise ValueError(f"unknown data set {name!r}; known: {', '.join(s.name for s in sources)}")
