"""The shared command-line plumbing: one-line errors, checked number flags."""

from __future__ import annotations

import argparse
import doctest

import pytest

from hyperion.tensor import cli
from hyperion.tensor.cli import (
    ArgumentParser,
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
    probability,
)


@pytest.mark.parametrize(
    ("convert", "text", "message"),
    [
        (positive_int, "0", "expected a positive integer, got '0'"),
        (positive_int, "many", "expected a positive integer, got 'many'"),
        (positive_int, "1.5", "expected a positive integer, got '1.5'"),
        (nonnegative_int, "-1", "expected an integer >= 0, got '-1'"),
        (positive_float, "-1", "expected a positive number, got '-1'"),
        (positive_float, "nan", "expected a positive number, got 'nan'"),
        (nonnegative_float, "inf", "expected a finite number >= 0, got 'inf'"),
        (nonnegative_float, "-0.5", "expected a finite number >= 0, got '-0.5'"),
        (probability, "0", "expected a probability in (0, 1], got '0'"),
        (probability, "1.01", "expected a probability in (0, 1], got '1.01'"),
    ],
)
def test_bad_values_name_what_was_expected(convert, text, message) -> None:  # noqa: ANN001
    with pytest.raises(argparse.ArgumentTypeError) as info:
        convert(text)
    assert str(info.value) == message


def test_good_values_convert() -> None:
    assert positive_int("7") == 7 and nonnegative_int("0") == 0
    assert positive_float("1e-3") == 1e-3 and nonnegative_float("0") == 0.0 and probability("1") == 1.0


def test_parser_errors_are_one_line_with_status_2(capsys: pytest.CaptureFixture[str]) -> None:
    parser = ArgumentParser(prog="demo")
    parser.add_argument("--steps", type=positive_int)
    with pytest.raises(SystemExit) as info:
        parser.parse_args(["--steps", "0"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err == "demo: error: argument --steps: expected a positive integer, got '0' (see --help)\n"


def test_docstring_example() -> None:
    result = doctest.testmod(cli)
    assert result.attempted > 0 and result.failed == 0
