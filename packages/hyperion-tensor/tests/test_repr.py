"""``repr`` in PyTorch's style: ``tensor(values, [shape=...,] dtype=..., [device=...])``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given

import hyperion.tensor as ht
from hyperion.tensor._repr import format_tensor

from .strategies import pairs


@pytest.mark.parametrize(
    ("t", "text"),
    [
        (ht.tensor([1.0, 2.5]), "tensor([1. , 2.5], dtype=float32)"),
        (ht.tensor(3.0), "tensor(3., dtype=float32)"),
        (ht.tensor(7), "tensor(7, dtype=int64)"),
        (ht.tensor([True, False]), "tensor([ True, False], dtype=bool)"),
        (ht.arange(6).reshape(2, 3).T, "tensor([[0, 3],\n        [1, 4],\n        [2, 5]], dtype=int64)"),
        (ht.tensor([np.nan, np.inf, -np.inf]), "tensor([ nan,  inf, -inf], dtype=float32)"),
        (ht.tensor([0.123456, 100.0], dtype="float64"), "tensor([  0.1235, 100.    ], dtype=float64)"),
        (ht.ones(2, dtype="float16"), "tensor([1., 1.], dtype=float16)"),
        (ht.arange(3, dtype="uint8"), "tensor([0, 1, 2], dtype=uint8)"),
        (ht.zeros(0), "tensor([], shape=(0,), dtype=float32)"),
        (ht.zeros(2, 0, dtype="int8"), "tensor([], shape=(2, 0), dtype=int8)"),
        (
            ht.arange(1001),
            "tensor([   0,    1,    2, ...,  998,  999, 1000], shape=(1001,), dtype=int64)",
        ),
    ],
)
def test_repr_examples(t: ht.Tensor, text: str) -> None:
    assert repr(t) == text
    assert str(t) == text


def test_large_tensors_show_their_corners_and_shape() -> None:
    text = repr(ht.arange(40 * 30).reshape(40, 30))
    assert text.startswith("tensor([[   0,    1,    2, ...,   27,   28,   29],\n        [  30,")
    assert "        ...,\n" in text
    assert text.endswith("[1170, 1171, 1172, ..., 1197, 1198, 1199]], shape=(40, 30), dtype=int64)")


def test_the_device_is_shown_when_not_cpu() -> None:
    values = np.array([1, 2], np.int32)
    assert format_tensor(values, values.dtype, "cuda") == "tensor([1, 2], dtype=int32, device='cuda')"
    assert format_tensor(values, values.dtype, "cpu") == "tensor([1, 2], dtype=int32)"


@given(pair=pairs(max_side=6))
def test_repr_depends_on_values_not_layout(pair: Any) -> None:
    text = repr(pair.t)
    assert text == repr(ht.tensor(pair.a)) == repr(pair.t.contiguous())
    assert text.startswith("tensor(") and text.endswith(f"dtype={pair.a.dtype.name})")
    assert ("shape=" in text) == (pair.a.size == 0 or pair.a.size > 1000)
    assert "device=" not in text
    if pair.a.size:  # NumPy's own rendering of the values, aligned after "tensor("
        options = {"separator": ", ", "prefix": "tensor(", "threshold": 1000, "edgeitems": 3, "precision": 4}
        assert np.array2string(pair.a, floatmode="maxprec", **options) in text
