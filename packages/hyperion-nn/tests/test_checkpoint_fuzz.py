"""Property-based tests of the safetensors reader/writer (Hypothesis): fuzzed headers, random round trips."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hyperion.nn import checkpoint
from hyperion.nn.checkpoint import SafetensorsError

hypothesis = pytest.importorskip("hypothesis")
st = pytest.importorskip("hypothesis.strategies")

_JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), st.text(max_size=6)
)
_JSON = st.recursive(
    _JSON_LEAF,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_ENTRY = st.fixed_dictionaries(
    {
        "dtype": st.sampled_from(["F32", "F64", "I64", "U8", "BOOL", "BF16", "F8", "x"]),
        "shape": st.lists(st.integers(-2, 6), max_size=3),
        "data_offsets": st.lists(st.integers(-4, 200), min_size=0, max_size=3),
    }
)


@hypothesis.settings(
    max_examples=150, deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
@hypothesis.given(
    header=st.one_of(_JSON, st.dictionaries(st.text(max_size=5), _ENTRY, max_size=4)),
    data=st.binary(max_size=200),
    length_delta=st.integers(-3, 3),
)
def test_fuzzed_headers_only_ever_raise_safetensors_error(
    tmp_path: Path, header: Any, data: bytes, length_delta: int
) -> None:
    encoded = json.dumps(header).encode()
    path = tmp_path / "fuzz.safetensors"
    path.write_bytes(max(0, len(encoded) + length_delta).to_bytes(8, "little") + encoded + data)
    try:
        tensors = checkpoint.load_file(path)
    except SafetensorsError as exc:
        assert "fuzz.safetensors" in str(exc)
    else:
        assert isinstance(tensors, dict)


@hypothesis.settings(
    max_examples=60, deadline=None, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
@hypothesis.given(
    arrays=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(lambda s: s != "__metadata__"),
        st.tuples(
            st.sampled_from(["<f4", "<f8", ">f8", "<i8", "<i2", "u1", "?", "<f2"]),
            st.lists(st.integers(0, 4), max_size=3),
        ),
        max_size=5,
    ),
    seed=st.integers(0, 2**16),
)
def test_random_tensor_sets_round_trip_and_stay_checksummed(tmp_path: Path, arrays: dict[str, Any], seed: int) -> None:
    rng = np.random.default_rng(seed)
    tensors = {name: (rng.standard_normal(shape) * 100).astype(dtype) for name, (dtype, shape) in arrays.items()}
    path = tmp_path / "rt.safetensors"
    checkpoint.save_file(tensors, path, metadata={"k": "v"}, digest_key="sha")
    loaded, metadata = checkpoint.load_file_with_metadata(path, digest_key="sha")
    assert set(loaded) == set(tensors) and metadata["k"] == "v"
    for name, array in tensors.items():
        np.testing.assert_array_equal(loaded[name], array)
        assert loaded[name].shape == array.shape
