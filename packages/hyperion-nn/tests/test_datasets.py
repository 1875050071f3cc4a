"""MNIST-style loaders: lookup order, checksummed downloads from a local HTTP server, structure checks."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from hyperion.nn.data import (
    MNIST,
    DatasetNotFoundError,
    DatasetSource,
    IdxFormatError,
    RemoteFile,
    TensorDataset,
    fashion_mnist,
    load_image_classification,
    mnist,
    search_locations,
    source_by_name,
    write_idx,
)

TRAIN_FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")


def _write_split(folder: Path, n: int, seed: int = 0, prefix: str = "train") -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", images)
    write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", labels)
    return images, labels


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No $HYPERION_DATA_DIR, and a fresh $HOME (so ~/.cache/hyperion is empty)."""
    monkeypatch.delenv("HYPERION_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def test_lookup_order(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit, env, system = isolated / "explicit", isolated / "env", isolated / "system"
    cache = isolated / "home" / ".cache" / "hyperion"
    sizes = {explicit: 3, env: 4, system: 5, cache: 6}
    for root, n in sizes.items():
        _write_split(root / "mnist", n)
    monkeypatch.setenv("HYPERION_DATA_DIR", str(env))

    def count(**kwargs: object) -> int:
        images, labels = mnist("train", download=False, system_dir=system, **kwargs)  # type: ignore[arg-type]
        assert len(images) == len(labels)
        return len(images)

    assert count(data_dir=explicit) == 3
    assert count() == 4
    monkeypatch.delenv("HYPERION_DATA_DIR")
    assert count() == 5
    assert len(mnist("train", download=False, system_dir=None)[0]) == 6
    for root in sizes:
        for name in TRAIN_FILES:
            (root / "mnist" / name).unlink()
    monkeypatch.setenv("HYPERION_DATA_DIR", str(env))
    with pytest.raises(DatasetNotFoundError) as info:
        mnist("train", data_dir=explicit, download=False, system_dir=system)
    message = str(info.value)
    for place in (explicit / "mnist", env / "mnist", system / "mnist", cache / "mnist"):
        assert str(place) in message
    assert "downloading is disabled" in message and "train-images-idx3-ubyte.gz" in message


def test_explicit_dir_may_hold_the_files_directly_and_uncompressed(isolated: Path) -> None:
    folder = isolated / "flat"
    images, labels = _write_split(folder, 4, prefix="t10k")
    for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        (folder / name).rename(folder / name.removesuffix(".gz"))
    got_images, got_labels = fashion_mnist("test", data_dir=folder, download=False, system_dir=None)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)


def test_split_needs_both_files_in_one_place(isolated: Path) -> None:
    (isolated / "a" / "mnist").mkdir(parents=True)
    _write_split(isolated / "b" / "mnist", 3)
    (isolated / "b" / "mnist" / TRAIN_FILES[1]).rename(isolated / "a" / "mnist" / TRAIN_FILES[1])
    with pytest.raises(DatasetNotFoundError):
        mnist("train", data_dir=isolated / "a", download=False, system_dir=isolated / "b")


def test_as_dataset_and_unknown_split(isolated: Path) -> None:
    images, labels = _write_split(isolated / "mnist", 5)
    ds = mnist("train", data_dir=isolated, as_dataset=True, download=False, system_dir=None)
    assert isinstance(ds, TensorDataset) and len(ds) == 5
    assert ds.arrays[1].dtype == np.int64
    np.testing.assert_array_equal(ds[2][0], images[2])
    with pytest.raises(ValueError, match="unknown MNIST split 'validation'"):
        mnist("validation", data_dir=isolated, download=False)


def test_search_locations_labels(isolated: Path) -> None:
    places = search_locations("mnist", "/d", system_dir="/sys-data", cache_dir="/c")
    assert places == [
        ("data_dir", Path("/d/mnist")),
        ("data_dir", Path("/d")),
        ("system", Path("/sys-data/mnist")),
        ("cache", Path("/c/mnist")),
    ]
    assert search_locations("mnist")[-1] == ("cache", isolated / "home" / ".cache" / "hyperion" / "mnist")


def test_source_by_name() -> None:
    assert source_by_name("fashion_mnist").title == "Fashion-MNIST"
    with pytest.raises(ValueError, match="known: mnist, fashion-mnist"):
        source_by_name("cifar")


# -- structure checks on every load ---------------------------------------------------------------


def test_count_mismatch_is_reported(isolated: Path) -> None:
    folder = isolated / "mnist"
    _write_split(folder, 5)
    write_idx(folder / TRAIN_FILES[1], np.zeros(4, dtype=np.uint8))
    with pytest.raises(IdxFormatError, match="5 images in .* but 4 labels in"):
        mnist("train", data_dir=isolated, download=False, system_dir=None)


def test_wrong_image_size_and_label_range(isolated: Path) -> None:
    folder = isolated / "mnist"
    _write_split(folder, 3)
    write_idx(folder / TRAIN_FILES[0], np.zeros((3, 28, 27), dtype=np.uint8))
    with pytest.raises(IdxFormatError, match=r"expected uint8 images of shape \(N, 28, 28\), got uint8 \(3, 28, 27\)"):
        mnist("train", data_dir=isolated, download=False, system_dir=None)
    _write_split(folder, 3)
    write_idx(folder / TRAIN_FILES[1], np.array([1, 10, 2], dtype=np.uint8))
    with pytest.raises(IdxFormatError, match="label 10 out of range for 10 classes"):
        mnist("train", data_dir=isolated, download=False, system_dir=None)


def test_truncated_file_found_on_disk_is_rejected(isolated: Path) -> None:
    folder = isolated / "mnist"
    _write_split(folder, 3)
    raw = gzip.decompress((folder / TRAIN_FILES[0]).read_bytes())
    (folder / TRAIN_FILES[0]).write_bytes(gzip.compress(raw[:-100]))
    with pytest.raises(IdxFormatError, match="train-images-idx3-ubyte.gz: truncated"):
        mnist("train", data_dir=isolated, download=False, system_dir=None)


# -- downloads from a local HTTP server -------------------------------------------------------------


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        pass


class _LyingLength(_Quiet):
    """Announces twice the real length, then closes: a connection cut mid-download."""

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(2 * len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A server on 127.0.0.1 serving tmp_path/www; yields (www, {"plain": url, "lying": url})."""
    www = tmp_path / "www"
    www.mkdir()
    servers = []
    urls = {}
    for kind, handler in (("plain", _Quiet), ("lying", _LyingLength)):

        def factory(*args: object, _handler: type = handler) -> http.server.BaseHTTPRequestHandler:
            return _handler(*args, directory=str(www))  # type: ignore[arg-type]

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), factory)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(server)
        urls[kind] = f"http://127.0.0.1:{server.server_address[1]}/"
    yield www, urls
    for server in servers:
        server.shutdown()
        server.server_close()


def _publish(www: Path, n: int = 7) -> tuple[dict[str, str], np.ndarray, np.ndarray]:
    """Write good files under www/good/ and return their md5s and contents."""
    images, labels = _write_split(www / "good", n, seed=3)
    md5 = {name: hashlib.md5((www / "good" / name).read_bytes()).hexdigest() for name in TRAIN_FILES}
    return md5, images, labels


def _source(mirrors: list[str], md5: dict[str, str]) -> DatasetSource:
    files = tuple(RemoteFile(name, md5=md5[name]) for name in TRAIN_FILES)
    return dataclasses.replace(MNIST, name="tiny", title="Tiny", mirrors=tuple(mirrors), splits={"train": files})


def _cache_files(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.rglob("*") if p.is_file())


def test_good_download_is_verified_cached_and_reused(isolated: Path, served: tuple[Path, dict[str, str]]) -> None:
    www, urls = served
    md5, images, labels = _publish(www)
    cache = isolated / "cache"
    log: list[str] = []
    source = _source([urls["plain"] + "good/"], md5)
    got = load_image_classification(source, "train", system_dir=None, cache_dir=cache, log=log.append)
    np.testing.assert_array_equal(got[0], images)
    np.testing.assert_array_equal(got[1], labels)
    assert _cache_files(cache) == sorted(TRAIN_FILES)
    assert len(log) == 2 and log[0].startswith("downloading http://127.0.0.1:")
    # Cached now: found in the cache even though the server no longer has the files.
    for name in TRAIN_FILES:
        (www / "good" / name).unlink()
    again = load_image_classification(source, "train", system_dir=None, cache_dir=cache, log=log.append)
    np.testing.assert_array_equal(again[0], images)
    assert len(log) == 2


@pytest.mark.parametrize("damage", ["truncated", "altered"])
def test_bad_download_is_rejected_and_deleted(isolated: Path, served: tuple[Path, dict[str, str]], damage: str) -> None:
    www, urls = served
    md5, _, _ = _publish(www)
    (www / damage).mkdir()
    for name in TRAIN_FILES:
        body = bytearray((www / "good" / name).read_bytes())
        if damage == "truncated":
            body = body[: len(body) // 2]
        else:
            body[len(body) // 2] ^= 0xFF
        (www / damage / name).write_bytes(bytes(body))
    cache = isolated / "cache"
    with pytest.raises(DatasetNotFoundError, match="checksum mismatch") as info:
        load_image_classification(
            _source([urls["plain"] + damage + "/"], md5), "train", system_dir=None, cache_dir=cache
        )
    assert "download failed" in str(info.value)
    assert _cache_files(cache) == []


def test_connection_cut_mid_download_is_rejected(isolated: Path, served: tuple[Path, dict[str, str]]) -> None:
    www, urls = served
    md5, _, _ = _publish(www)
    cache = isolated / "cache"
    with pytest.raises(DatasetNotFoundError, match="download of http://127.0.0.1:.* (failed|truncated)"):
        load_image_classification(_source([urls["lying"] + "good/"], md5), "train", system_dir=None, cache_dir=cache)
    assert _cache_files(cache) == []


def test_falls_back_to_the_next_mirror(isolated: Path, served: tuple[Path, dict[str, str]]) -> None:
    www, urls = served
    md5, images, _ = _publish(www)
    cache = isolated / "cache"
    source = _source([urls["plain"] + "missing/", urls["plain"] + "good/"], md5)
    got, _ = load_image_classification(source, "train", system_dir=None, cache_dir=cache)
    np.testing.assert_array_equal(got, images)


def test_unreachable_mirror_gives_a_clear_error(isolated: Path) -> None:
    source = _source(["http://127.0.0.1:9/"], dict.fromkeys(TRAIN_FILES, "0" * 32))
    with pytest.raises(DatasetNotFoundError, match=r"Tiny train files .* not found; searched: .*download failed"):
        load_image_classification(source, "train", system_dir=None, cache_dir=isolated / "c", timeout=5)


# -- the real files, when the shared data folder is there -------------------------------------------


@pytest.mark.skipif(not os.environ.get("HYPERION_DATA_DIR"), reason="HYPERION_DATA_DIR is not set")
@pytest.mark.parametrize("loader", [mnist, fashion_mnist])
def test_real_test_split(loader: object) -> None:
    try:
        images, labels = loader("test", download=False)  # type: ignore[operator]
    except DatasetNotFoundError:
        pytest.skip("data set not in HYPERION_DATA_DIR")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and set(np.unique(labels).tolist()) == set(range(10))
