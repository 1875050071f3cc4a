"""The examples in the docstrings of the data pipeline, models and training loop run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "hyperion.nn.data",
    "hyperion.nn.data.dataset",
    "hyperion.nn.data.dataloader",
    "hyperion.nn.data.idx",
    "hyperion.nn.data.datasets",
    "hyperion.nn.models",
    "hyperion.nn.train",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
