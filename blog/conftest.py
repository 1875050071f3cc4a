"""Run the Python in the blog posts as tests (Sybil): a post whose code fails, fails CI.

- Every ```` ```python ```` block of ``posts/*.md`` runs, in order, in one namespace per post;
  a failure is reported at the line of the ``.md`` file. Attributes after the language
  (```` ```python title="…" ````) are allowed.
- ``<!-- skip: next -->`` skips the next block; ``<!-- skip: next if(not HAS_TORCH,
  reason="needs PyTorch") -->`` skips it when PyTorch is not installed. ``HAS_TORCH`` is in
  every post's namespace.
- A block that only includes a test file (``--8<-- "packages/…/tests/test_x.py:parity"``,
  pymdownx.snippets) is not run here: pytest collects that test file in its package's own run.
"""

import importlib.util
from collections.abc import Iterable

from sybil import Document, Region, Sybil
from sybil.parsers.markdown import CodeBlockParser, PythonCodeBlockParser, SkipParser

SNIPPET_MARK = "--8<--"


def only_includes(source: str) -> bool:
    """True when a code block holds nothing but pymdownx.snippets include lines."""
    lines = [line.strip() for line in source.splitlines() if line.strip()]
    if not lines:
        return False
    one_per_line = all(line.startswith(SNIPPET_MARK) for line in lines)  # --8<-- "file:section"
    block = len(lines) >= 2 and lines[0] == lines[-1] == SNIPPET_MARK  # --8<-- / files / --8<--
    return one_per_line or block


class _PythonBlocks(CodeBlockParser):
    def __call__(self, document: Document) -> Iterable[Region]:
        for region in self.lexers(document):
            language = str(region.lexemes["arguments"]).split()[:1]
            if language == ["python"] and not only_includes(region.lexemes["source"]):
                region.parsed = region.lexemes["source"]
                region.evaluator = self._evaluator
                yield region


class PostCodeBlockParser(PythonCodeBlockParser):
    codeblock_parser_class = _PythonBlocks


def _setup(namespace: dict[str, object]) -> None:
    namespace["HAS_TORCH"] = importlib.util.find_spec("torch") is not None


pytest_collect_file = Sybil(
    parsers=[PostCodeBlockParser(), SkipParser()],
    patterns=["posts/*.md"],
    setup=_setup,
).pytest()
