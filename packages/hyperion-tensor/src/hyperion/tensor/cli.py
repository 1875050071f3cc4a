"""Command-line plumbing shared by the ``hyperion-<package>`` commands.

Every command reports a mistake in one line on stderr, ``<prog>: error: <what> (see --help)``,
with exit status 2 and no traceback: :class:`ArgumentParser` does so for bad flags, and a
command raises :class:`UserError` for a bad value it finds later (a missing file, an
inconsistent pair of flags), which its ``main`` turns into the same line. The ``type=``
converters below check a flag's value while parsing and name what was expected.

Examples:
    >>> parser = ArgumentParser(prog="demo")
    >>> _ = parser.add_argument("--steps", type=positive_int, default=10)
    >>> parser.parse_args(["--steps", "3"]).steps
    3
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any, NoReturn

__all__ = [
    "ArgumentParser",
    "UserError",
    "nonnegative_float",
    "nonnegative_int",
    "positive_float",
    "positive_int",
    "probability",
]


class UserError(Exception):
    """A mistake the user can fix (a bad value, a missing file): reported in one line, no traceback."""


class ArgumentParser(argparse.ArgumentParser):
    """An ``argparse.ArgumentParser`` whose errors are one line (``--help`` still shows the usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _number(text: str, kind: type, expected: str, accept: Callable[[Any], bool]) -> Any:
    """``kind(text)`` if it parses and ``accept`` s it; otherwise an error quoting the text as typed."""
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or (kind is float and not math.isfinite(value)) or not accept(value):
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    return _number(text, int, "a positive integer", lambda v: v >= 1)


def nonnegative_int(text: str) -> int:
    """An integer >= 0."""
    return _number(text, int, "an integer >= 0", lambda v: v >= 0)


def positive_float(text: str) -> float:
    """A finite number > 0."""
    return _number(text, float, "a positive number", lambda v: v > 0)


def nonnegative_float(text: str) -> float:
    """A finite number >= 0."""
    return _number(text, float, "a finite number >= 0", lambda v: v >= 0)


def probability(text: str) -> float:
    """A number in (0, 1]."""
    return _number(text, float, "a probability in (0, 1]", lambda v: 0 < v <= 1)
