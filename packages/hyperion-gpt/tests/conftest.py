"""Shared fixtures: a small bundled text (so no test needs the data set) and tiny configurations."""

from __future__ import annotations

import numpy as np
import pytest

from hyperion.gpt import GPTConfig


def bundled_text(repeats: int = 60) -> str:
    """A few lines of verse, repeated: enough structure for a tiny model to learn quickly."""
    lines = [
        "First Citizen: before we proceed any further, hear me speak.",
        "All: speak, speak.",
        "First Citizen: you are all resolved rather to die than to famish?",
        "All: resolved. resolved.",
        "Second Citizen: one word, good citizens.",
    ]
    return ("\n".join(lines) + "\n") * repeats


@pytest.fixture
def text() -> str:
    return bundled_text()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def tiny_config(**overrides: object) -> GPTConfig:
    values = {"vocab_size": 19, "block_size": 16, "n_layer": 2, "n_head": 4, "n_embd": 16}
    values.update(overrides)
    return GPTConfig(**values)  # type: ignore[arg-type]
