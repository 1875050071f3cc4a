"""Every misuse raises a Hyperion error that names the offending shapes, dtypes, devices or values."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import hyperion.tensor as ht
from hyperion.tensor import DeviceError, DTypeError, HyperionError, ShapeError, TensorIndexError


def test_error_classes_are_also_the_builtin_ones() -> None:
    assert issubclass(ShapeError, ValueError)
    assert issubclass(DTypeError, TypeError)
    assert issubclass(DeviceError, RuntimeError)
    assert issubclass(TensorIndexError, IndexError)
    for cls in (ShapeError, DTypeError, DeviceError, TensorIndexError):
        assert issubclass(cls, HyperionError)


# (misuse, error class, the exact message) -- one line each, so the messages are reviewed together.
MISUSES: list[tuple[str, Callable[[], Any], type[Exception], str]] = [
    (
        "broadcast",
        lambda: ht.zeros(2, 3) - ht.ones(3, 2),
        ShapeError,
        "shapes (2, 3) and (3, 2) cannot be broadcast together: size 2 vs 3 at dimension -2",
    ),
    (
        "broadcast_to",
        lambda: ht.zeros(3).broadcast_to((2, 4)),
        ShapeError,
        "cannot broadcast shape (3,) to (2, 4): size 3 at dimension 0 is neither 1 nor 4",
    ),
    (
        "impossible view",
        lambda: ht.zeros(4, 6)[:, :3].view(12),
        ShapeError,
        "view (12,) is not compatible with shape (4, 3) and strides (6, 1) without a copy; use .reshape(...) instead",
    ),
    ("reshape size", lambda: ht.zeros(2, 3).reshape(4, 2), ShapeError, "shape (4, 2) is invalid for input of size 6"),
    ("view size", lambda: ht.zeros(2, 3).view(-1, 4), ShapeError, "shape (-1, 4) is invalid for input of size 6"),
    ("index", lambda: ht.zeros(2, 3)[1, 3], TensorIndexError, "index 3 is out of range for dimension 1 with size 3"),
    (
        "negative index",
        lambda: ht.zeros(5)[-6],
        TensorIndexError,
        "index -6 is out of range for dimension 0 with size 5",
    ),
    (
        "matmul",
        lambda: ht.zeros(5, 2) @ ht.zeros(3, 4),
        ShapeError,
        "matmul: shapes (5, 2) and (3, 4) do not align: 2 (last dim of the first) != 3 (second-to-last dim of the second)",
    ),
    (
        "matmul batch",
        lambda: ht.zeros(2, 1, 3) @ ht.zeros(5, 3, 1),
        ShapeError,
        "matmul: the batch dimensions of shapes (2, 1, 3) and (5, 3, 1) differ: "
        "shapes (2,) and (5,) cannot be broadcast together: size 2 vs 5 at dimension -1",
    ),
    (
        "dtype",
        lambda: ht.ones(2, dtype="complex64"),
        DTypeError,
        "unsupported dtype 'complex64'; supported dtypes are bool, int8, int16, int32, int64, uint8, float16, float32, float64",
    ),
    (
        "unknown device",
        lambda: ht.zeros(2, device="tpu"),
        DeviceError,
        "unknown device 'tpu'; expected one of cpu, cuda",
    ),
    (
        "unknown device in to()",
        lambda: ht.zeros(2).to(device="mps"),
        DeviceError,
        "unknown device 'mps'; expected one of cpu, cuda",
    ),
    (
        "second GPU",
        lambda: ht.zeros(2).to(device="cuda:1"),
        DeviceError,
        "unknown device 'cuda:1'; expected one of cpu, cuda",
    ),
    ("item", lambda: ht.zeros(2).item(), ShapeError, "item() needs a tensor with one element, got shape (2,)"),
    (
        "truth value",
        lambda: bool(ht.zeros(2, 2)),
        ValueError,
        "the truth value of a tensor with 4 elements (shape (2, 2)) is ambiguous; use .any() or .all()",
    ),
    ("len of scalar", lambda: len(ht.tensor(1.0)), TypeError, "len() of a 0-d tensor"),
    ("iterate scalar", lambda: iter(ht.tensor(1.0)), TypeError, "iteration over a 0-d tensor"),
    (
        "float as index",
        lambda: [0, 1][ht.tensor(1.0)],
        TypeError,
        "only one-element integer tensors can be used as an index, got float32 shape ()",
    ),
    (
        "storage",
        lambda: ht.Tensor(np.zeros((2, 2)), (4,)),
        ShapeError,
        "storage must be a 1-D array, got ndarray with shape (2, 2)",
    ),
    (
        "layout outside storage",
        lambda: ht.Tensor(np.zeros(4), (2, 3)),
        ShapeError,
        "layout shape=(2, 3) strides=(3, 1) offset=0 reaches storage positions 0..5, outside a storage of 4 elements",
    ),
    (
        "negative size",
        lambda: ht.Tensor(np.zeros(4), (-1,), (1,)),
        ShapeError,
        "invalid layout: shape (-1,) with strides (1,)",
    ),
    ("from_numpy type", lambda: ht.from_numpy([1, 2]), TypeError, "from_numpy expects a numpy.ndarray, got list"),
    (
        "from_numpy strides",
        lambda: ht.from_numpy(np.zeros(3, dtype=[("a", "f4"), ("b", "i1")])["a"]),
        ShapeError,
        "array strides (5,) are not multiples of the item size 4",
    ),
]


@pytest.mark.parametrize(("misuse", "error", "message"), [m[1:] for m in MISUSES], ids=[m[0] for m in MISUSES])
def test_misuse_messages(misuse: Callable[[], Any], error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        misuse()


def test_writing_into_a_read_only_array_says_so() -> None:
    t = ht.from_numpy(np.broadcast_to(np.arange(3.0), (2, 3)))
    with pytest.raises(ValueError, match="read-only"):
        t[0, 0] = 1.0


# -- devices --------------------------------------------------------------------------------


@pytest.mark.skipif(ht.cuda_available(), reason="a CUDA device is available")
@pytest.mark.parametrize(
    "move",
    [
        lambda: ht.zeros(2).to("cuda"),
        lambda: ht.zeros(2).cuda(),
        lambda: ht.zeros(2, device="cuda"),
        lambda: ht.rand(2, seed=0, device="cuda:0"),
        lambda: ht.tensor([1, 2], device="gpu"),
    ],
)
def test_cuda_without_cupy_or_gpu_says_how_to_get_it(move: Callable[[], Any]) -> None:
    with pytest.raises(DeviceError) as info:
        move()
    if importlib.util.find_spec("cupy") is None:
        assert str(info.value) == (
            "device 'cuda' needs CuPy, which is not installed; install the CUDA extra: pip install 'hyperion-tensor[cuda]'"
        )
    else:
        assert str(info.value).startswith("device 'cuda' requested but no CUDA device is available")
    assert not ht.cuda_available()


class ForeignStorage:
    """A 1-D buffer that is not a NumPy array: a Tensor over it reports device ``"cuda"``.

    It lets the device checks run without a GPU: they must fire before any data is touched.
    """

    ndim = 1
    base = None

    def __init__(self, size: int, dtype: str) -> None:
        self.shape = (size,)
        self.dtype = np.dtype(dtype)


@pytest.fixture
def foreign() -> ht.Tensor:
    t = ht.Tensor(ForeignStorage(3, "float32"), (3,))
    assert t.device == "cuda"
    return t


def test_mixing_devices_is_an_error_that_names_both(foreign: ht.Tensor) -> None:
    cpu = ht.zeros(3)
    same = "expected all tensors on the same device, got cpu and cuda"
    for op in (
        lambda: cpu + foreign,
        lambda: cpu * foreign,
        lambda: cpu < foreign,
        lambda: cpu.maximum(foreign),
        lambda: ht.where(cpu > 0, cpu, foreign),
        lambda: cpu.clip(foreign, 1.0),
        lambda: cpu @ foreign,
    ):
        with pytest.raises(DeviceError, match=f"^{same}$"):
            op()
    with pytest.raises(
        DeviceError, match=re.escape("cat: expected all tensors on the same device, got ['cpu', 'cuda']")
    ):
        ht.cat([cpu, foreign])
    with pytest.raises(
        DeviceError, match=re.escape("stack: expected all tensors on the same device, got ['cpu', 'cuda']")
    ):
        ht.stack([cpu, foreign])
    with pytest.raises(TensorIndexError, match="index tensor is on cuda but the indexed tensor is on cpu"):
        cpu[ht.Tensor(ForeignStorage(1, "int64"), (1,))]
    with pytest.raises(TensorIndexError, match="cannot assign a tensor on cuda into a tensor on cpu"):
        cpu[0:3] = foreign
