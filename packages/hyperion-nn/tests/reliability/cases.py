"""Bad-input cases of every public function of ``hyperion.nn.functional`` and every layer of ``hyperion.nn``.

Layer cases cover both construction (a bad configuration fails where it was written) and the
forward pass (wrong shapes, dtypes, devices, empty batches, non-finite values).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import hyperion.autograd as ag
import hyperion.nn as nn
from hyperion.nn import functional as F
from hyperion.tensor import DeviceError, DTypeError, ShapeError, TensorIndexError
from hyperion.tensor.testing import Case, FakeDeviceTensor, Matches, Raises

# The categories of this suite's cases (summary() reports them in this order).
CATEGORIES = ("shape", "dtype", "device", "empty", "zero-size", "nonfinite", "index", "argument")

NAN, INF = float("nan"), float("inf")


def _x2() -> ag.Tensor:
    return ag.randn(4, 3, seed=0)


def _x4() -> ag.Tensor:
    return ag.randn(2, 3, 5, 5, seed=0)


def _w(*shape: int) -> ag.Tensor:
    return ag.randn(*shape, seed=1)


def _fake(*shape: int) -> ag.Tensor:
    return ag.Tensor._make(FakeDeviceTensor(shape, "cuda"), None)


def _fake_labels(*shape: int) -> ag.Tensor:
    return ag.Tensor._make(FakeDeviceTensor(shape, "cuda", np.int64), None)


def _nan_rows() -> ag.Tensor:
    return ag.tensor([[NAN, 0.0, 1.0], [0.0, 1.0, 2.0]])


def _row_is_nan_other_finite(out: Any) -> list[bool]:
    values = out.detach().numpy()
    return [bool(np.isnan(values[0]).all()), bool(np.isfinite(values[1]).all())]


def _erf(a: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[a.dtype])(a)


def _activation_cases() -> list[Case]:
    cases: list[Case] = []
    refs = {
        "relu": lambda a: np.maximum(a, 0),
        "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
        "tanh": np.tanh,
        "silu": lambda a: a / (1 + np.exp(-a)),
        "leaky_relu": lambda a: np.where(a > 0, a, 0.01 * a),
        "gelu": lambda a: a * 0.5 * (1 + _erf(a / math.sqrt(2))),
        "erf": _erf,
    }
    special = np.array([NAN, INF, -INF, 0.0, -1.5, 2.0], np.float32)
    for name, ref in refs.items():
        fn = getattr(F, name)
        cases += [
            Raises(name, "dtype", lambda fn=fn: fn("x"), TypeError, ("str",)),
            Matches(name, "empty", lambda fn=fn: fn(ag.zeros(0, 3)).shape, lambda: (0, 3)),
            Matches(name, "zero-size", lambda fn=fn: fn(ag.zeros(2, 0)).shape, lambda: (2, 0)),
        ]
        cases.append(
            Matches(name, "nonfinite", lambda fn=fn: fn(ag.tensor(special)), lambda ref=ref: ref(special), rtol=1e-5)
        )
    cases += [
        Raises("gelu", "argument", lambda: F.gelu(_x2(), "fast"), ValueError, ("'fast'",)),
        Raises("swiglu", "shape", lambda: F.swiglu(_x2()), ShapeError, ("(4, 3)", "even")),
        Raises(
            "swiglu",
            "index",
            lambda: F.swiglu(_x2(), 3),
            TensorIndexError,
            ("dim 3",),
        ),
        Matches("swiglu", "empty", lambda: F.swiglu(ag.zeros(0, 4)).shape, lambda: (0, 2)),
        Matches(
            "erf",
            "dtype",
            lambda: F.erf(ag.tensor([1, 2])),
            lambda: _erf(np.array([1.0, 2.0], np.float32)),
            rtol=1e-5,
            label="int-input",
        ),
        Raises("dropout", "argument", lambda: F.dropout(_x2(), 1.5), ValueError, ("1.5",)),
        Raises("dropout", "argument", lambda: F.dropout(_x2(), -0.1), ValueError, ("-0.1",)),
        Matches(
            "dropout",
            "nonfinite",
            lambda: F.dropout(ag.tensor([NAN]), 0.5, training=False),
            lambda: np.array([NAN], "f4"),
        ),
    ]
    return cases


def _softmax_and_loss_cases() -> list[Case]:
    x, big = _x2, lambda: ag.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]])
    labels = lambda: ag.tensor([0, 1, 2, 1])  # noqa: E731 - a table of tiny factories
    cases: list[Case] = []
    for name in ("softmax", "log_softmax"):
        fn = getattr(F, name)
        cases += [
            Raises(name, "index", lambda fn=fn: fn(x(), 2), TensorIndexError, ("dim 2",)),
            Raises(name, "dtype", lambda fn=fn: fn("x"), TypeError, ("str",)),
            Matches(name, "zero-size", lambda fn=fn: fn(ag.zeros(0, 3)).shape, lambda: (0, 3)),
            Matches(
                name,
                "nonfinite",
                lambda fn=fn: np.isfinite(fn(big()).numpy()),
                lambda: np.ones((2, 3), bool),
                label="1e4",
            ),
            Matches(
                name,
                "nonfinite",
                lambda fn=fn: _row_is_nan_other_finite(fn(_nan_rows())),
                lambda: [True, True],
                label="nan",
            ),
        ]
    cases += [
        Raises(
            "cross_entropy",
            "index",
            lambda: F.cross_entropy(x(), ag.tensor([0, 1, 2, 3])),
            IndexError,
            ("target 3", "3 classes"),
        ),
        Raises(
            "cross_entropy", "index", lambda: F.cross_entropy(x(), ag.tensor([0, -2, 1, 1])), IndexError, ("target -2",)
        ),
        Raises("cross_entropy", "shape", lambda: F.cross_entropy(x(), ag.tensor([0, 1])), ShapeError, ("(4,)", "(2,)")),
        Raises(
            "cross_entropy",
            "dtype",
            lambda: F.cross_entropy(x(), ag.tensor([0.0, 1.0, 2.0, 1.0])),
            ShapeError,
            ("(4, 3)", "(4,)"),
        ),
        Raises(
            "cross_entropy", "argument", lambda: F.cross_entropy(x(), labels(), reduction="avg"), ValueError, ("'avg'",)
        ),
        Raises(
            "cross_entropy",
            "argument",
            lambda: F.cross_entropy(x(), labels(), label_smoothing=1.5),
            ValueError,
            ("1.5",),
        ),
        Raises(
            "cross_entropy",
            "device",
            lambda: F.cross_entropy(x(), _fake_labels(4)),
            DeviceError,
            ("cuda",),
        ),
        Matches(
            "cross_entropy",
            "nonfinite",
            lambda: F.cross_entropy(big(), ag.tensor([1, 0])).item(),
            lambda: (2e4 + (np.log(3) - 1e4 + 1e4)) / 2,
            rtol=1e-5,
        ),
        Matches(
            "cross_entropy",
            "empty",
            lambda: np.isnan(F.cross_entropy(ag.zeros(0, 3), ag.tensor([], dtype="int64")).item()),
            lambda: True,
        ),
        Raises("nll_loss", "index", lambda: F.nll_loss(x(), ag.tensor([0, 1, 2, 9])), IndexError, ("target 9",)),
        Raises("nll_loss", "argument", lambda: F.nll_loss(x(), labels(), reduction="x"), ValueError, ("'x'",)),
        Raises("mse_loss", "shape", lambda: F.mse_loss(x(), ag.zeros(3, 4)), ShapeError, ("(4, 3)", "(3, 4)")),
        Raises("mse_loss", "argument", lambda: F.mse_loss(x(), x(), reduction="x"), ValueError, ("'x'",)),
        Raises("mse_loss", "device", lambda: F.mse_loss(x(), _fake(4, 3)), DeviceError, ("cuda",)),
        Matches(
            "mse_loss",
            "nonfinite",
            lambda: F.mse_loss(ag.tensor([NAN, 1.0]), ag.tensor([0.0, 1.0])).item(),
            lambda: NAN,
        ),
        Raises(
            "binary_cross_entropy",
            "shape",
            lambda: F.binary_cross_entropy(ag.tensor([0.5, 0.5]), ag.tensor([1.0])),
            ShapeError,
            ("(2,)", "(1,)"),
        ),
        Raises(
            "binary_cross_entropy",
            "argument",
            lambda: F.binary_cross_entropy(ag.tensor([1.5]), ag.tensor([1.0])),
            ValueError,
            ("[0, 1]",),
        ),
        Raises(
            "binary_cross_entropy",
            "argument",
            lambda: F.binary_cross_entropy(ag.tensor([0.5, 1.5]), ag.tensor([1.0, 1.0])),
            ValueError,
            ("1.5",),
        ),
        Raises(
            "binary_cross_entropy_with_logits",
            "shape",
            lambda: F.binary_cross_entropy_with_logits(ag.tensor([0.5, 0.5]), ag.tensor([1.0, 0.0, 1.0])),
            ShapeError,
            ("(2,)", "(3,)"),
        ),
        Matches(
            "binary_cross_entropy_with_logits",
            "nonfinite",
            lambda: np.isfinite(
                F.binary_cross_entropy_with_logits(ag.tensor([1e4, -1e4]), ag.tensor([0.0, 1.0])).item()
            ),
            lambda: True,
        ),
    ]
    return cases


def _layer_function_cases() -> list[Case]:
    x2, x4 = _x2, _x4
    return [
        Raises("linear", "shape", lambda: F.linear(x2(), _w(5, 4)), ShapeError, ("(4, 3)", "(5, 4)")),
        Raises(
            "linear",
            "device",
            lambda: F.linear(x2(), _fake(5, 3)),
            DeviceError,
            ("cuda",),
        ),
        Matches("linear", "empty", lambda: F.linear(ag.zeros(0, 3), _w(5, 3)).shape, lambda: (0, 5)),
        Matches(
            "linear",
            "nonfinite",
            lambda: np.isnan(F.linear(ag.tensor([[NAN, 0.0, 0.0]]), ag.ones(2, 3)).numpy()),
            lambda: np.ones((1, 2), bool),
        ),
        Raises("conv2d", "shape", lambda: F.conv2d(x4(), _w(4, 2, 3, 3)), ShapeError, ("3 channels", "(4, 2, 3, 3)")),
        Raises("conv2d", "argument", lambda: F.conv2d(x4(), _w(4, 3, 7, 7)), ShapeError, ("(7, 7)", "(5, 5)")),
        Raises("conv2d", "argument", lambda: F.conv2d(x4(), _w(4, 3, 3, 3), stride=0), ValueError, ("stride (0, 0)",)),
        Raises(
            "conv2d", "argument", lambda: F.conv2d(x4(), _w(4, 3, 3, 3), padding=-1), ValueError, ("padding (-1, -1)",)
        ),
        Raises("conv2d", "argument", lambda: F.conv2d(x4(), _w(4, 3, 3, 3), groups=2), ValueError, ("groups=2",)),
        Raises("conv2d", "argument", lambda: F.conv2d(x4(), _w(4, 3, 3, 3), padding="full"), ValueError, ("'full'",)),
        Raises(
            "conv2d",
            "device",
            lambda: F.conv2d(x4(), _fake(4, 3, 3, 3)),
            DeviceError,
            ("cuda",),
        ),
        Matches("conv2d", "empty", lambda: F.conv2d(ag.zeros(0, 3, 5, 5), _w(4, 3, 3, 3)).shape, lambda: (0, 4, 3, 3)),
        Matches(
            "conv2d",
            "nonfinite",
            lambda: np.isnan(F.conv2d(ag.full((1, 1, 3, 3), NAN), ag.ones(1, 1, 2, 2)).numpy()).all(),
            lambda: True,
        ),
        Raises("max_pool2d", "argument", lambda: F.max_pool2d(x4(), 7), ShapeError, ("(7, 7)", "(5, 5)")),
        Raises("max_pool2d", "argument", lambda: F.max_pool2d(x4(), 2, padding=2), ValueError, ("padding (2, 2)",)),
        Raises("max_pool2d", "shape", lambda: F.max_pool2d(ag.zeros(5), 2), ShapeError, ("(5,)",)),
        Matches(
            "max_pool2d",
            "nonfinite",
            lambda: F.max_pool2d(ag.tensor([[[[NAN, 1.0], [2.0, 3.0]]]]), 2).numpy().ravel()[0] != 3.0,
            lambda: True,
            label="nan-not-dropped",
        ),
        Raises("avg_pool2d", "argument", lambda: F.avg_pool2d(x4(), 0), ValueError, ("kernel_size (0, 0)",)),
        Raises("avg_pool2d", "argument", lambda: F.avg_pool2d(x4(), 9), ShapeError, ("(9, 9)",)),
        Raises("adaptive_avg_pool2d", "argument", lambda: F.adaptive_avg_pool2d(x4(), 0), ValueError, ("(0, 0)",)),
        Raises(
            "adaptive_avg_pool2d", "shape", lambda: F.adaptive_avg_pool2d(ag.zeros(5, 5), 1), ShapeError, ("(5, 5)",)
        ),
        Raises("embedding", "index", lambda: F.embedding(ag.tensor([0, 7]), _w(5, 2)), IndexError, ("[0, 5)", "7")),
        Raises("embedding", "index", lambda: F.embedding(ag.tensor([-1]), _w(5, 2)), IndexError, ("-1",)),
        Raises("embedding", "dtype", lambda: F.embedding(ag.tensor([1.0]), _w(5, 2)), TypeError, ("float32",)),
        Matches(
            "embedding", "empty", lambda: F.embedding(ag.tensor([], dtype="int64"), _w(5, 2)).shape, lambda: (0, 2)
        ),
        Raises("layer_norm", "shape", lambda: F.layer_norm(x2(), (4,)), ShapeError, ("(4,)", "(4, 3)")),
        Raises(
            "layer_norm", "shape", lambda: F.layer_norm(x2(), (3,), weight=ag.ones(4)), ShapeError, ("(3,)", "(4,)")
        ),
        Matches(
            "layer_norm",
            "nonfinite",
            lambda: _row_is_nan_other_finite(F.layer_norm(_nan_rows(), (3,))),
            lambda: [True, True],
        ),
        Raises("rms_norm", "shape", lambda: F.rms_norm(x2(), (4,)), ShapeError, ("(4,)", "(4, 3)")),
        Matches(
            "rms_norm",
            "nonfinite",
            lambda: _row_is_nan_other_finite(F.rms_norm(_nan_rows(), (3,))),
            lambda: [True, True],
        ),
        Raises("group_norm", "argument", lambda: F.group_norm(x4(), 2), ValueError, ("num_groups=2", "3")),
        Raises(
            "batch_norm",
            "shape",
            lambda: F.batch_norm(x4(), ag.zeros(4), ag.ones(4)),
            ShapeError,
            ("(4,)", "(2, 3, 5, 5)"),
        ),
        Raises(
            "batch_norm",
            "argument",
            lambda: F.batch_norm(ag.randn(1, 3, seed=0), None, None, training=True),
            ValueError,
            ("(1, 3)",),
        ),
        Raises(
            "scaled_dot_product_attention",
            "shape",
            lambda: F.scaled_dot_product_attention(ag.zeros(2, 4, 8), ag.zeros(2, 5, 7), ag.zeros(2, 5, 8)),
            ShapeError,
            ("(2, 4, 8)", "(2, 5, 7)"),
        ),
        Raises(
            "scaled_dot_product_attention",
            "argument",
            lambda: F.scaled_dot_product_attention(
                ag.zeros(2, 4, 8), ag.zeros(2, 4, 8), ag.zeros(2, 4, 8), dropout_p=2.0
            ),
            ValueError,
            ("2.0",),
        ),
        Raises(
            "scaled_dot_product_attention",
            "shape",
            lambda: F.scaled_dot_product_attention(
                ag.zeros(2, 4, 8), ag.zeros(2, 4, 8), ag.zeros(2, 4, 8), attn_mask=ag.zeros(3, 3)
            ),
            ShapeError,
            ("(3, 3)",),
        ),
    ]


def _layer_cases() -> list[Case]:
    x2, x4 = _x2, _x4
    return [
        Raises("Linear", "argument", lambda: nn.Linear(-1, 3), ShapeError, ("-1",)),
        Raises("Linear", "argument", lambda: nn.Linear(2.5, 3), TypeError, ("2.5",)),
        Raises("Linear", "shape", lambda: nn.Linear(4, 3)(x2()), ShapeError, ("(4, 3)", "expects 4")),
        Raises("Linear", "dtype", lambda: nn.Linear(3, 2, dtype="int64"), DTypeError, ("int64",)),
        Raises("Linear", "device", lambda: nn.Linear(3, 2, device="tpu"), DeviceError, ("'tpu'",)),
        Matches("Linear", "empty", lambda: nn.Linear(3, 2)(ag.zeros(0, 3)).shape, lambda: (0, 2)),
        Raises("Conv2d", "argument", lambda: nn.Conv2d(3, -1, 3), ValueError, ("out_channels", "-1")),
        Raises("Conv2d", "argument", lambda: nn.Conv2d(3, 4, 0), ValueError, ("kernel_size", "0")),
        Raises("Conv2d", "argument", lambda: nn.Conv2d(3, 4, 3, stride=(1, 0)), ValueError, ("stride", "(1, 0)")),
        Raises("Conv2d", "argument", lambda: nn.Conv2d(3, 4, 3, padding=-2), ValueError, ("padding", "-2")),
        Raises("Conv2d", "argument", lambda: nn.Conv2d(3, 4, 3, groups=2), ValueError, ("groups=2",)),
        Raises("Conv2d", "argument", lambda: nn.Conv2d(3, 4, 3, padding_mode="circular"), ValueError, ("'circular'",)),
        Raises("Conv2d", "argument", lambda: nn.Conv2d(3, 4, "3"), TypeError, ("'3'",)),
        Raises("Conv2d", "shape", lambda: nn.Conv2d(3, 4, 7)(x4()), ShapeError, ("(7, 7)", "(5, 5)")),
        Raises("MaxPool2d", "argument", lambda: nn.MaxPool2d(-1), ValueError, ("kernel_size", "-1")),
        Raises("MaxPool2d", "argument", lambda: nn.MaxPool2d(2, padding=-1), ValueError, ("padding", "-1")),
        Raises("MaxPool2d", "shape", lambda: nn.MaxPool2d(7)(x4()), ShapeError, ("(7, 7)",)),
        Raises("AvgPool2d", "argument", lambda: nn.AvgPool2d(-2), ValueError, ("kernel_size", "-2")),
        Raises(
            "AvgPool2d", "argument", lambda: nn.AvgPool2d(2, divisor_override=0), ValueError, ("divisor_override", "0")
        ),
        Raises(
            "AdaptiveAvgPool2d", "argument", lambda: nn.AdaptiveAvgPool2d((0, 2)), ValueError, ("output_size", "(0, 2)")
        ),
        Matches(
            "AdaptiveAvgPool2d", "argument", lambda: nn.AdaptiveAvgPool2d((None, 2))(x4()).shape, lambda: (2, 3, 5, 2)
        ),
        Raises("Embedding", "argument", lambda: nn.Embedding(-2, 3), ShapeError, ("-2",)),
        Raises("Embedding", "argument", lambda: nn.Embedding(5, 3, padding_idx=9), ValueError, ("padding_idx 9",)),
        Raises("Embedding", "index", lambda: nn.Embedding(5, 3)(ag.tensor([5])), IndexError, ("[0, 5)",)),
        Raises("Dropout", "argument", lambda: nn.Dropout(-0.1), ValueError, ("-0.1",)),
        Raises("Dropout", "argument", lambda: nn.Dropout(1.01), ValueError, ("1.01",)),
        Raises("LayerNorm", "argument", lambda: nn.LayerNorm(3, eps=-1.0), ValueError, ("eps", "-1.0")),
        Raises("LayerNorm", "argument", lambda: nn.LayerNorm(-3), ShapeError, ("(-3,)",)),
        Raises("LayerNorm", "shape", lambda: nn.LayerNorm(4)(x2()), ShapeError, ("(4,)", "(4, 3)")),
        Raises("RMSNorm", "argument", lambda: nn.RMSNorm(3, eps=NAN), ValueError, ("eps", "nan")),
        Raises("RMSNorm", "shape", lambda: nn.RMSNorm(4)(x2()), ShapeError, ("(4,)",)),
        Raises("GroupNorm", "argument", lambda: nn.GroupNorm(2, 3), ValueError, ("num_groups=2", "3")),
        Raises("GroupNorm", "argument", lambda: nn.GroupNorm(0, 3), ValueError, ("num_groups", "0")),
        Raises("BatchNorm1d", "argument", lambda: nn.BatchNorm1d(0), ValueError, ("num_features", "0")),
        Raises("BatchNorm1d", "argument", lambda: nn.BatchNorm1d(3, momentum=2.0), ValueError, ("momentum", "2.0")),
        Raises("BatchNorm1d", "argument", lambda: nn.BatchNorm1d(3)(ag.randn(1, 3, seed=0)), ValueError, ("(1, 3)",)),
        Raises("BatchNorm2d", "shape", lambda: nn.BatchNorm2d(3)(x2()), ShapeError, ("4-D", "(4, 3)")),
        Raises("BatchNorm2d", "argument", lambda: nn.BatchNorm2d(3, eps=-1e-5), ValueError, ("eps",)),
        Raises("GELU", "argument", lambda: nn.GELU("fast"), ValueError, ("'fast'",)),
        Raises("LeakyReLU", "argument", lambda: nn.LeakyReLU("a"), TypeError, ("'a'",)),
        Raises("ReLU", "dtype", lambda: nn.ReLU()("x"), TypeError, ("str",)),
        Raises("Sigmoid", "dtype", lambda: nn.Sigmoid()(None), TypeError, ("NoneType",)),
        Raises("Tanh", "dtype", lambda: nn.Tanh()(ag.tensor(["a"])), DTypeError, ("<U1",)),
        Raises("SiLU", "dtype", lambda: nn.SiLU()("x"), TypeError, ("str",)),
        Matches("Identity", "nonfinite", lambda: nn.Identity()(ag.tensor([NAN])), lambda: np.array([NAN], "f4")),
        Raises("Softmax", "index", lambda: nn.Softmax(5)(x2()), TensorIndexError, ("dim 5",)),
        Raises("LogSoftmax", "index", lambda: nn.LogSoftmax(5)(x2()), TensorIndexError, ("dim 5",)),
        Raises("SwiGLU", "argument", lambda: nn.SwiGLU(-1, 3), ShapeError, ("-1",)),
        Raises("SwiGLU", "shape", lambda: nn.SwiGLU(4, 6)(x2()), ShapeError, ("(4, 3)",)),
        Raises("Flatten", "argument", lambda: nn.Flatten(3, 1)(x4()), ShapeError, ("start_dim 3", "end_dim 1")),
        Raises("Unflatten", "shape", lambda: nn.Unflatten(1, (2, 2))(x2()), ShapeError, ("(2, 2)", "size 3")),
        Raises("Residual", "argument", lambda: nn.Residual(3), TypeError, ("int",)),
        Raises("Residual", "shape", lambda: nn.Residual(nn.Linear(3, 2))(x2()), ShapeError, ("(4, 3)", "(4, 2)")),
        Raises("BasicBlock", "argument", lambda: nn.BasicBlock(0, 3), ValueError, ("in_channels", "0")),
        Raises("BasicBlock", "shape", lambda: nn.BasicBlock(4, 4)(x4()), ShapeError, ("3 channels",)),
        Raises(
            "CrossEntropyLoss", "argument", lambda: nn.CrossEntropyLoss(reduction="x"), ValueError, ("reduction", "'x'")
        ),
        Raises(
            "CrossEntropyLoss",
            "argument",
            lambda: nn.CrossEntropyLoss(label_smoothing=-0.5),
            ValueError,
            ("label_smoothing", "-0.5"),
        ),
        Raises("NLLLoss", "argument", lambda: nn.NLLLoss(reduction="x"), ValueError, ("reduction", "'x'")),
        Raises("MSELoss", "argument", lambda: nn.MSELoss(reduction="avg"), ValueError, ("'avg'",)),
        Raises("BCELoss", "argument", lambda: nn.BCELoss(reduction="x"), ValueError, ("'x'",)),
        Raises("BCEWithLogitsLoss", "argument", lambda: nn.BCEWithLogitsLoss(reduction="x"), ValueError, ("'x'",)),
        Raises("Sequential", "argument", lambda: nn.Sequential(3), TypeError, ("'0'", "int")),
        Raises("ModuleList", "argument", lambda: nn.ModuleList([nn.ReLU(), 3]), TypeError, ("'1'", "int")),
        Raises("ModuleDict", "argument", lambda: nn.ModuleDict({"a": 3}), TypeError, ("'a'", "int")),
        Raises("Parameter", "dtype", lambda: nn.Parameter(ag.tensor([1, 2])), DTypeError, ("int64",)),
        Raises("Parameter", "dtype", lambda: nn.Parameter("x"), DTypeError, ("<U1",)),
        Raises("Module", "argument", lambda: nn.Linear(2, 2).load_state_dict({}), KeyError, ("weight", "bias")),
        Raises(
            "Module",
            "shape",
            lambda: nn.Linear(2, 2).load_state_dict({"weight": np.zeros((3, 3)), "bias": np.zeros(2)}),
            ShapeError,
            ("(3, 3)", "(2, 2)"),
        ),
    ]


CASES: list[Case] = _activation_cases() + _softmax_and_loss_cases() + _layer_function_cases() + _layer_cases()

#: Public names with no bad-input case, and why none is needed.
EXEMPT: dict[str, str] = {
    "checkpoint": "a module: corrupt and hostile files are tested in test_corrupt_files.py",
    "data": "a module: malformed IDX files and downloads are tested in test_corrupt_files.py and test_download.py",
    "functional": "a module: its public functions are listed one by one",
    "init": "a module of initialisers that fill a given parameter; shapes come from the layer",
    "optim": "a module: bad hyperparameters are tested in test_optim.py (they raise naming the value)",
}
