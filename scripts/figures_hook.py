"""MkDocs hook: every figure of the blog is rendered from its committed script at build time.

The convention
--------------
- A figure is a script ``blog/figures/<name>.py`` that defines ``build() -> Figure``. It builds a
  ``matplotlib.figure.Figure`` directly (never pyplot, so no global state and no GUI backend),
  seeds every random number it uses, and reads no clock. It may import the hyperion packages.
- Run by hand, it saves ``<name>.png`` beside itself, and only then::

      if __name__ == "__main__":
          build().savefig(Path(__file__).with_suffix(".png"))

- At build time this hook imports each script, renders ``build()`` to PNG in memory under fixed
  rcParams with no ``Software`` metadata (so the bytes depend only on the script), and adds the
  result to the site as ``figures/<name>.png``. Nothing is written into ``blog/``; a PNG saved
  there by hand is replaced by the freshly rendered one.
- A post (``blog/posts/*.md``) shows the figure with ``![what it shows](../figures/<name>.png)``.
- A module whose name starts with ``_`` (``blog/figures/_results.py``) is a helper, not a figure:
  it is not rendered. Scripts import it by name (``import _results``); the figures folder is on
  ``sys.path`` while a script is imported here, as it is when a script is run by hand.
"""

from __future__ import annotations

import importlib.util
import io
import logging
import sys
from pathlib import Path
from types import ModuleType

import matplotlib
from matplotlib.figure import Figure
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.figures")

FIGURES_DIR = "figures"

# Fixed on top of matplotlib's defaults, whatever matplotlibrc the machine has.
RC_PARAMS = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.family": "DejaVu Sans",
    "svg.hashsalt": "hyperion",
}


def _load(script: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"hyperion_blog_figure_{script.stem}", script)
    if spec is None or spec.loader is None:
        raise PluginError(f"cannot import figure script {script}")
    module = importlib.util.module_from_spec(spec)
    saved_path = list(sys.path)
    sys.path.insert(0, str(script.parent))  # so that `import _results` finds the helper beside the script
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = saved_path
    return module


def render(script: Path) -> bytes:
    """Run the script's ``build()`` and return the figure as PNG bytes."""
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(RC_PARAMS)
        try:
            figure = _load(script).build()
        except Exception as error:
            raise PluginError(f"figure script {script} failed: {error!r}") from error
        if not isinstance(figure, Figure):
            raise PluginError(f"build() in {script} returned {type(figure).__name__}, not a matplotlib Figure")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    for script in sorted((Path(config.docs_dir) / FIGURES_DIR).glob("*.py")):
        if script.name.startswith("_"):
            continue  # a helper module, not a figure
        uri = f"{FIGURES_DIR}/{script.stem}.png"
        if (stale := files.get_file_from_path(uri)) is not None:
            files.remove(stale)
        files.append(File.generated(config, uri, content=render(script)))
        log.debug("rendered %s from %s", uri, script.name)
    return files
