"""Data-set downloads are atomic and checksummed: a local HTTP server serves good and damaged files.

The server (a thread, on 127.0.0.1) serves one small MNIST-format split under several prefixes:

- ``good/``: the files as published;
- ``cut/``: announces the full ``Content-Length`` but closes the connection half way;
- ``short/``: a truncated body with an honest (short) ``Content-Length`` — only the checksum can tell;
- ``altered/``: every byte there, one of them flipped;
- ``html/``: an error page served with status 200 (a captive portal).

The downloader is pointed at it through :class:`DatasetSource` ``mirrors`` (a parameter, no
environment variable). A bad file must be rejected with an error naming the URL and the reason,
and nothing may be left in the cache — neither under the real name nor as a ``.part`` file.
"""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from hyperion.nn.data import idx
from hyperion.nn.data.datasets import (
    DatasetNotFoundError,
    DatasetSource,
    DownloadError,
    RemoteFile,
    download_file,
    load_image_classification,
    mnist,
)

FILES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")


def _damage(kind: str, body: bytes) -> bytes:
    if kind == "short":
        return body[: len(body) // 2]
    if kind == "altered":
        return body[:40] + bytes([body[40] ^ 0x01]) + body[41:]
    if kind == "html":
        return b"<html><body>Please log in to the network</body></html>"
    return body


class _Handler(http.server.BaseHTTPRequestHandler):
    root: Path

    def log_message(self, *args: object) -> None:  # keep test output clean
        return

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        kind, _, name = self.path.strip("/").partition("/")
        path = self.root / name
        if not path.is_file():
            self.send_error(404)
            return
        body = _damage(kind, path.read_bytes())
        self.send_response(200)
        self.send_header("Content-Length", str(len(path.read_bytes()) if kind == "cut" else len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if kind == "cut" else body)
        self.wfile.flush()
        self.close_connection = True


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str], np.ndarray, np.ndarray]:
    """Small MNIST-format files: (folder, name -> sha256, images, labels)."""
    folder = tmp_path_factory.mktemp("www")
    rng = np.random.default_rng(7)
    images = rng.integers(0, 256, (12, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, 12, dtype=np.uint8)
    idx.write_idx(folder / FILES[0], images)
    idx.write_idx(folder / FILES[1], labels)
    sha = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in FILES}
    return folder, sha, images, labels


@pytest.fixture(scope="module")
def server(published: tuple[Path, dict[str, str], np.ndarray, np.ndarray]) -> Iterator[str]:
    handler = type("Handler", (_Handler,), {"root": published[0]})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def _source(mirrors: tuple[str, ...], sha: dict[str, str]) -> DatasetSource:
    return DatasetSource(
        name="tiny-mnist",
        title="Tiny MNIST",
        mirrors=mirrors,
        splits={"train": (RemoteFile(FILES[0], sha256=sha[FILES[0]]), RemoteFile(FILES[1], sha256=sha[FILES[1]]))},
        classes=tuple(str(d) for d in range(10)),
    )


def _everything_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def test_a_good_download_is_verified_then_loaded(tmp_path: Path, server: str, published: tuple) -> None:
    _, sha, images, labels = published
    got_images, got_labels = load_image_classification(
        _source((server + "good/",), sha), "train", system_dir=None, cache_dir=tmp_path, timeout=10
    )
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    assert _everything_in(tmp_path) == [f"tiny-mnist/{name}" for name in FILES]


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("cut", "(truncated|failed)"),
        ("short", "checksum mismatch"),
        ("altered", "checksum mismatch"),
        ("html", "checksum mismatch"),
    ],
)
def test_a_bad_download_is_rejected_and_leaves_nothing(
    tmp_path: Path, server: str, published: tuple, kind: str, reason: str
) -> None:
    sha = published[1]
    url = f"{server}{kind}/{FILES[0]}"
    destination = tmp_path / "cache" / FILES[0]
    with pytest.raises(DownloadError, match=f"download of {url} .*{reason}"):
        download_file(url, destination, RemoteFile(FILES[0], sha256=sha[FILES[0]]), timeout=10)
    assert _everything_in(tmp_path) == [], "a rejected download left a file behind"


def test_the_loader_falls_back_to_a_good_mirror_and_names_every_failure(
    tmp_path: Path, server: str, published: tuple
) -> None:
    sha = published[1]
    bad = (server + "altered/", server + "cut/")
    with pytest.raises(DatasetNotFoundError) as info:
        load_image_classification(_source(bad, sha), "train", system_dir=None, cache_dir=tmp_path, timeout=10)
    message = str(info.value)
    assert "altered/" in message and "cut/" in message and "checksum mismatch" in message
    assert _everything_in(tmp_path) == []
    images, _ = load_image_classification(
        _source((*bad, server + "good/"), sha), "train", system_dir=None, cache_dir=tmp_path, timeout=10
    )
    assert images.shape == (12, 28, 28)
    assert _everything_in(tmp_path) == [f"tiny-mnist/{name}" for name in FILES]


def test_a_missing_file_is_a_clear_error(tmp_path: Path, server: str, published: tuple) -> None:
    url = f"{server}good/no-such-file.gz"
    with pytest.raises(DownloadError, match=f"download of {url} failed: HTTP Error 404"):
        download_file(url, tmp_path / "x.gz", RemoteFile("no-such-file.gz", sha256="0" * 64), timeout=10)
    assert _everything_in(tmp_path) == []


def test_mnist_downloads_from_a_given_mirror_and_still_checks_the_published_checksums(
    tmp_path: Path, server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``mnist(mirrors=...)`` points the real downloader at the test server: our tiny files are not
    MNIST, so the published MD5s reject even the intact ones — and nothing is left in the cache."""
    monkeypatch.delenv("HYPERION_DATA_DIR", raising=False)
    with pytest.raises(DatasetNotFoundError) as info:
        mnist("train", system_dir=None, cache_dir=tmp_path, mirrors=[server + "good/", server + "cut/"])
    message = str(info.value)
    assert f"download of {server}good/{FILES[0]} rejected: checksum mismatch (md5" in message
    assert f"{server}cut/{FILES[0]}" in message
    assert _everything_in(tmp_path) == []
    with pytest.raises(TypeError, match="mirrors must be a sequence of base URLs"):
        mnist("train", system_dir=None, cache_dir=tmp_path, mirrors=server)
