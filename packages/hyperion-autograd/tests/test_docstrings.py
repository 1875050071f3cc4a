"""The examples in the docstrings run and print what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "hyperion.autograd",
    "hyperion.autograd.anomaly",
    "hyperion.autograd.checkpoint",
    "hyperion.autograd.creation",
    "hyperion.autograd.engine",
    "hyperion.autograd.function",
    "hyperion.autograd.functional",
    "hyperion.autograd.grad_mode",
    "hyperion.autograd.gradcheck",
    "hyperion.autograd.graph_export",
    "hyperion.autograd.hooks",
    "hyperion.autograd.profiler",
    "hyperion.autograd.tensor",
    "hyperion.autograd.ops.elementwise",
    "hyperion.autograd.ops.join",
    "hyperion.autograd.ops.linalg",
    "hyperion.autograd.ops.reduce",
]


@pytest.mark.parametrize("name", MODULES)
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) failed in {name}"
