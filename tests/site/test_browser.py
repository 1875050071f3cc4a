"""The built blog renders in a real browser: MathJax typesets the formulas, no page logs errors.

The site is built first (``mkdocs build``, see the ``docs`` environment of tox.ini) into the
folder named by ``HYPERION_SITE_DIR``. The test serves it on 127.0.0.1 and opens pages in
headless Chromium driven by Playwright (the browser is the system's ``chromium``; Playwright
downloads nothing). Without Chromium the test is skipped, saying how to install it.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

playwright_sync = pytest.importorskip("playwright.sync_api")

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The home page, and posts dense in display and inline math.
PAGES = ["", "posts/log-sum-exp/", "posts/softmax-jacobian/", "posts/adam-vs-adamw/"]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("Chromium is not installed (Debian/Ubuntu: `sudo apt-get install chromium`)")


@pytest.fixture(scope="module")
def site() -> Path:
    folder = os.environ.get("HYPERION_SITE_DIR")
    if not folder or not (Path(folder) / "index.html").is_file():
        pytest.fail(f"HYPERION_SITE_DIR={folder!r} is not a built site: run `mkdocs build` first")
    return Path(folder)


@pytest.fixture(scope="module")
def server(site: Path) -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base-class name
        return


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = _chromium()
    with playwright_sync.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield instance
        finally:
            instance.close()


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_math_without_errors(browser: object, server: str, path: str) -> None:
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on("requestfailed", lambda req: errors.append(f"request failed: {req.url} ({req.failure})"))
    response = page.goto(server + path, wait_until="load")
    assert response is not None and response.ok, f"{path or 'home'}: HTTP {response and response.status}"
    formulas = page.locator(".arithmatex").count()
    if path:
        assert formulas > 0, f"{path}: the post has no formulas to typeset"
        # MathJax replaces each TeX source by an <mjx-container>; wait until all are done.
        page.wait_for_function(
            "n => document.querySelectorAll('.arithmatex mjx-container').length >= n", arg=formulas, timeout=30_000
        )
        unrendered = page.locator("mjx-merror").count()
        assert unrendered == 0, f"{path}: {unrendered} formulas failed to typeset"
    page.close()
    assert not errors, f"{path or 'home'}: " + "; ".join(errors)
