"""The examples in the package's docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "hyperion.gpt",
    "hyperion.gpt.config",
    "hyperion.gpt.model",
    "hyperion.gpt.rope",
    "hyperion.gpt.kv_cache",
    "hyperion.gpt.sampling",
    "hyperion.gpt.data",
    "hyperion.gpt.tokenizers",
    "hyperion.gpt.tokenizers.char",
    "hyperion.gpt.tokenizers.bpe",
    "hyperion.gpt.train",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
