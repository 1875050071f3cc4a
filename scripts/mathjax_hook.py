"""MkDocs hook: serve MathJax from the site itself, not from a CDN.

The formulas of the blog are typeset by MathJax 3 in the reader's browser. Loading it from a
CDN would make every page depend on a third-party host (and the browser test, which runs with
no network, could never see a typeset formula). MathJax's distribution is installed by pip as
the data of the ``django-static-mathjax`` package (requirements-docs.txt; nothing from Django is
used or needed) and this hook copies the parts a page loads into ``javascripts/mathjax/`` of
the built site: the ``tex-mml-chtml`` component, the TeX extensions it loads on demand, the
CommonHTML fonts, the accessibility and menu components.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError

TARGET = Path("javascripts") / "mathjax"
# What tex-mml-chtml.js loads, relative to MathJax's es5/ folder.
PARTS = ("tex-mml-chtml.js", "input", "output/chtml", "output/chtml.js", "a11y", "ui", "sre", "adaptors")


def mathjax_es5() -> Path:
    """The ``es5/`` folder of the installed MathJax distribution."""
    spec = importlib.util.find_spec("mathjax")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        es5 = Path(location) / "static" / "mathjax" / "es5"
        if (es5 / "tex-mml-chtml.js").is_file():
            return es5
    raise PluginError(
        "MathJax is not installed: `python3 -m pip install -r requirements-docs.txt` installs it "
        "(package django-static-mathjax)"
    )


def on_post_build(config: MkDocsConfig) -> None:
    """Copy MathJax into the built site."""
    source = mathjax_es5()
    target = Path(config.site_dir) / TARGET
    for part in PARTS:
        src = source / part
        dst = target / part
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        elif src.is_file():
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
        else:
            raise PluginError(f"MathJax distribution at {source} has no {part}")
