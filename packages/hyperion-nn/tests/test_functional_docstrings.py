"""The ``Examples:`` in the docstrings of the layers, functional ops and initialisers run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "hyperion.nn.functional",
    "hyperion.nn.functional.activation",
    "hyperion.nn.functional.attention",
    "hyperion.nn.functional.conv",
    "hyperion.nn.functional.im2col",
    "hyperion.nn.functional.dropout",
    "hyperion.nn.functional.embedding",
    "hyperion.nn.functional.linear",
    "hyperion.nn.functional.loss",
    "hyperion.nn.functional.normalization",
    "hyperion.nn.functional.pooling",
    "hyperion.nn.functional.softmax",
    "hyperion.nn.init",
    "hyperion.nn.layers.activation",
    "hyperion.nn.layers.conv",
    "hyperion.nn.layers.dropout",
    "hyperion.nn.layers.embedding",
    "hyperion.nn.layers.linear",
    "hyperion.nn.layers.loss",
    "hyperion.nn.layers.normalization",
    "hyperion.nn.layers.pooling",
    "hyperion.nn.layers.residual",
    "hyperion.nn.layers.shape",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
