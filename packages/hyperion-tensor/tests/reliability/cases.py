"""Bad-input cases of every public function of ``hyperion.tensor`` (see :mod:`hyperion.tensor.testing` for the kinds)."""

from __future__ import annotations

from typing import Any

import numpy as np

import hyperion.tensor as ht
from hyperion.tensor import DeviceError, DTypeError, ShapeError, TensorIndexError
from hyperion.tensor.testing import Case, FakeDeviceTensor, Matches, Raises

# The categories of this suite's cases (summary() reports them in this order).
CATEGORIES = ("shape", "dtype", "device", "empty", "zero-size", "nonfinite", "index", "argument")

NAN, INF = float("nan"), float("inf")
SPECIAL = [NAN, INF, -INF, 0.0, -1.0, 2.5]

UNARY_REFERENCE: dict[str, Any] = {
    "abs": np.abs,
    "ceil": np.ceil,
    "cos": np.cos,
    "exp": np.exp,
    "expm1": np.expm1,
    "floor": np.floor,
    "isfinite": np.isfinite,
    "isinf": np.isinf,
    "isnan": np.isnan,
    "log": np.log,
    "log1p": np.log1p,
    "logical_not": np.logical_not,
    "neg": np.negative,
    "reciprocal": np.reciprocal,
    "rsqrt": lambda a: np.reciprocal(np.sqrt(a)),
    "sigmoid": lambda a: (1 / (1 + np.exp(-a.astype(np.float64)))).astype(a.dtype),
    "sign": np.sign,
    "sin": np.sin,
    "sqrt": np.sqrt,
    "square": np.square,
    "tanh": np.tanh,
}

BINARY_REFERENCE: dict[str, Any] = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.true_divide,
    "pow": np.power,
    "maximum": np.maximum,
    "minimum": np.minimum,
}

# Reductions: reference, and whether an empty input has an identity (else a ShapeError).
REDUCTION_REFERENCE: dict[str, tuple[Any, bool]] = {
    "sum": (np.sum, True),
    "mean": (np.mean, True),
    "prod": (np.prod, True),
    "max": (np.max, False),
    "min": (np.min, False),
    "all": (np.all, True),
    "any": (np.any, True),
    "var": (np.var, True),
    "std": (np.std, True),
    "logsumexp": (lambda a, axis=None: np.logaddexp.reduce(a, axis=axis), True),
    "argmax": (np.argmax, False),
    "argmin": (np.argmin, False),
}


def _x() -> ht.Tensor:
    return ht.arange(6.0).reshape(2, 3)


def _unary_cases() -> list[Case]:
    cases: list[Case] = []
    for name, ref in UNARY_REFERENCE.items():
        fn = getattr(ht, name)
        special = np.array(SPECIAL, dtype=np.float32)
        cases += [
            Raises(name, "dtype", lambda fn=fn: fn("text"), DTypeError, ("<U4",)),
            Raises(name, "dtype", lambda fn=fn: fn(None), DTypeError, ("NoneType",)),
            Raises(name, "shape", lambda fn=fn: fn([[1.0, 2.0], [3.0]]), ShapeError, ("inhomogeneous",)),
            Matches(name, "empty", lambda fn=fn: fn(ht.zeros(0)), lambda ref=ref: ref(np.zeros(0, np.float32))),
            Matches(
                name,
                "zero-size",
                lambda fn=fn: fn(ht.zeros(3, 0, 2)),
                lambda ref=ref: ref(np.zeros((3, 0, 2), np.float32)),
            ),
            Matches(
                name,
                "nonfinite",
                lambda fn=fn, s=special: fn(ht.from_numpy(s.copy())),
                lambda ref=ref, s=special: ref(s),
            ),
            Matches(
                name,
                "dtype",
                lambda fn=fn: fn(ht.tensor([0.5, -2.0, 3.0], dtype="float16")),
                lambda ref=ref: ref(np.array([0.5, -2.0, 3.0], np.float16)),
                rtol=2e-3,
                label="float16",
            ),
        ]
    cases.append(Raises("neg", "dtype", lambda: ht.neg(ht.tensor([True])), DTypeError, ("neg", "bool")))
    # Found by fuzzing (test_fuzz.py): ``~`` of an integer tensor; a documented refusal, now a DTypeError.
    cases.append(Raises("logical_not", "dtype", lambda: ~ht.tensor([14], dtype="int8"), DTypeError, ("~", "int8")))
    return cases


def _binary_cases() -> list[Case]:
    cases: list[Case] = []
    for name, ref in BINARY_REFERENCE.items():
        fn = getattr(ht, name)
        a = np.array([NAN, INF, -INF, 1.0, 0.0, -2.0], np.float32)
        b = np.array([1.0, INF, 2.0, NAN, 0.0, 0.5], np.float32)
        cases += [
            Raises(name, "shape", lambda fn=fn: fn(ht.zeros(2, 3), ht.zeros(4)), ShapeError, ("(2, 3)", "(4,)")),
            Raises(name, "dtype", lambda fn=fn: fn(ht.zeros(2), "abc"), DTypeError, ("'abc'",)),
            Raises(name, "dtype", lambda fn=fn: fn(ht.zeros(2), {"k": 1}), DTypeError, ("dict",)),
            Raises(
                name,
                "device",
                lambda fn=fn: fn(ht.zeros(2), FakeDeviceTensor((2,), "cuda")),
                DeviceError,
                ("cpu", "cuda"),
            ),
            Matches(
                name,
                "empty",
                lambda fn=fn: fn(ht.zeros(0), ht.ones(0)),
                lambda ref=ref: ref(np.zeros(0, "f4"), np.ones(0, "f4")),
            ),
            Matches(
                name,
                "zero-size",
                lambda fn=fn: fn(ht.zeros(3, 0), ht.ones(1)),
                lambda ref=ref: ref(np.zeros((3, 0), "f4"), np.ones(1, "f4")),
            ),
            Matches(
                name,
                "nonfinite",
                lambda fn=fn, a=a, b=b: fn(ht.from_numpy(a.copy()), ht.from_numpy(b.copy())),
                lambda ref=ref, a=a, b=b: ref(a, b),
            ),
            Matches(
                name,
                "dtype",
                lambda fn=fn: fn(ht.tensor([1.5, -2.0], dtype="float16"), ht.tensor([2.0, 4.0], dtype="float16")),
                lambda ref=ref: ref(np.array([1.5, -2.0], np.float16), np.array([2.0, 4.0], np.float16)),
                rtol=2e-3,
                label="float16",
            ),
        ]
    cases += [
        Raises("sub", "dtype", lambda: ht.sub(ht.tensor([True]), ht.tensor([False])), DTypeError, ("subtract", "bool")),
        Raises("pow", "argument", lambda: ht.pow(ht.tensor([2]), ht.tensor([-1])), ValueError, ("power", "int64")),
    ]
    return cases


def _reduction_cases() -> list[Case]:
    cases: list[Case] = []
    for name, (ref, has_identity) in REDUCTION_REFERENCE.items():
        fn = getattr(ht, name)
        special = np.array([[1.0, NAN, 3.0], [INF, -1.0, 2.0]], np.float32)
        cases += [
            Raises(name, "index", lambda fn=fn: fn(_x(), 2), TensorIndexError, ("dim 2", "2 dimension")),
            Raises(name, "index", lambda fn=fn: fn(_x(), -3), TensorIndexError, ("dim -3",)),
            Raises(name, "argument", lambda fn=fn: fn(_x(), "rows"), TypeError, ("'rows'",)),
            Matches(
                name,
                "zero-size",
                lambda fn=fn: fn(ht.zeros(3, 0), 0),
                lambda ref=ref: ref(np.zeros((3, 0), np.float32), axis=0),
            ),
            Matches(
                name,
                "nonfinite",
                lambda fn=fn, s=special: fn(ht.from_numpy(s.copy()), 1),
                lambda ref=ref, s=special: ref(s, axis=1),
            ),
        ]
        if has_identity:
            cases.append(
                Matches(name, "empty", lambda fn=fn: fn(ht.zeros(0)), lambda ref=ref: ref(np.zeros(0, np.float32)))
            )
        else:
            cases.append(Raises(name, "empty", lambda fn=fn: fn(ht.zeros(0)), ShapeError, (name, "(0,)")))
            cases.append(Raises(name, "empty", lambda fn=fn: fn(ht.zeros(0, 3), 0), ShapeError, (name, "(0, 3)")))
    return cases


def _view_cases() -> list[Case]:
    x = _x
    return [
        Raises("reshape", "shape", lambda: ht.reshape(x(), (4, 2)), ShapeError, ("(4, 2)", "size 6")),
        Raises("reshape", "argument", lambda: ht.reshape(x(), (-1, -1)), ShapeError, ("(-1, -1)",)),
        Raises("reshape", "argument", lambda: ht.reshape(x(), (-2, -3)), ShapeError, ("(-2, -3)",)),
        Matches("reshape", "zero-size", lambda: ht.reshape(ht.zeros(0, 3), (3, 0)), lambda: np.zeros((3, 0), "f4")),
        Raises("permute", "argument", lambda: ht.permute(x(), (0, 0)), ShapeError, ("permute(0, 0)",)),
        Raises("permute", "argument", lambda: ht.permute(x(), (0,)), ShapeError, ("permute(0,)",)),
        Raises("transpose", "index", lambda: ht.transpose(x(), 0, 5), TensorIndexError, ("dim 5",)),
        Raises("squeeze", "index", lambda: ht.squeeze(x(), 5), TensorIndexError, ("dim 5",)),
        Raises("unsqueeze", "index", lambda: ht.unsqueeze(x(), 4), TensorIndexError, ("dim 4",)),
        Raises("flatten", "argument", lambda: ht.flatten(x(), 1, 0), ShapeError, ("start_dim 1", "end_dim 0")),
        Raises("unflatten", "shape", lambda: ht.unflatten(x(), 1, (2, 2)), ShapeError, ("(2, 2)", "size 3")),
        Raises("narrow", "index", lambda: ht.narrow(x(), 1, 2, 5), ShapeError, ("start 2", "length 5", "size 3")),
        Raises("narrow", "argument", lambda: ht.narrow(x(), 1, 0, -1), ShapeError, ("length -1",)),
        Raises("chunk", "argument", lambda: ht.chunk(x(), 0), ShapeError, ("got 0",)),
        Matches("chunk", "empty", lambda: ht.chunk(ht.zeros(0), 2), lambda: [np.zeros(0, "f4")] * 2),
        Raises("split", "argument", lambda: ht.split(x(), 0), ShapeError, ("got 0",)),
        Raises("split", "argument", lambda: ht.split(x(), [1, 1], 1), ShapeError, ("[1, 1]", "size 3")),
        Raises("diagonal", "index", lambda: ht.diagonal(ht.zeros(3)), TensorIndexError, ("dim2 1",)),
        Raises("as_strided", "index", lambda: ht.as_strided(x(), (3, 3), (3, 1)), ShapeError, ("(3, 3)", "6 elements")),
        Raises("as_strided", "argument", lambda: ht.as_strided(x(), (2,), (-1,)), ShapeError, ("(-1,)",)),
        Raises("broadcast_to", "shape", lambda: ht.broadcast_to(x(), (3,)), ShapeError, ("(2, 3)", "(3,)")),
        Raises("broadcast_to", "shape", lambda: ht.broadcast_to(ht.zeros(3), (2, 4)), ShapeError, ("(3,)", "(2, 4)")),
        Matches(
            "broadcast_to", "zero-size", lambda: ht.broadcast_to(ht.zeros(1), (0, 2)), lambda: np.zeros((0, 2), "f4")
        ),
    ]


def _creation_cases() -> list[Case]:
    cases: list[Case] = []
    for name in ("zeros", "ones", "empty", "randn", "rand"):
        fn = getattr(ht, name)
        cases += [
            Raises(name, "argument", lambda fn=fn: fn(2, -3), ShapeError, ("(2, -3)",)),
            Raises(name, "argument", lambda fn=fn: fn(2.5), TypeError, ("2.5",)),
            Raises(name, "device", lambda fn=fn: fn(2, device="tpu"), DeviceError, ("'tpu'",)),
        ]
    for name in ("zeros", "ones", "empty"):
        fn = getattr(ht, name)
        cases.append(Raises(name, "dtype", lambda fn=fn: fn(2, dtype="complex64"), DTypeError, ("'complex64'",)))
        cases.append(Matches(name, "zero-size", lambda fn=fn: fn(0, 4).shape, lambda: (0, 4)))
    for name in ("zeros_like", "ones_like", "empty_like"):
        fn = getattr(ht, name)
        cases += [
            Raises(name, "argument", lambda fn=fn: fn([1, 2]), TypeError, (name, "list")),
            Raises(name, "dtype", lambda fn=fn: fn(_x(), dtype="str"), DTypeError, ("'str'",)),
            Raises(name, "device", lambda fn=fn: fn(_x(), device="tpu"), DeviceError, ("'tpu'",)),
        ]
    cases += [
        Raises("full", "argument", lambda: ht.full((-1,), 1.0), ShapeError, ("(-1,)",)),
        Raises("full", "dtype", lambda: ht.full((2,), "x"), DTypeError, ("<U1",)),
        Raises("full", "dtype", lambda: ht.full((2,), "x", dtype="float32"), DTypeError, ("'x'", "float32")),
        Matches("full", "nonfinite", lambda: ht.full((2,), NAN), lambda: np.full(2, NAN, np.float32)),
        Raises("full_like", "dtype", lambda: ht.full_like(_x(), "a"), DTypeError, ("'a'",)),
        Raises("full_like", "argument", lambda: ht.full_like((1, 2), 0.0), TypeError, ("tuple",)),
        Raises("arange", "argument", lambda: ht.arange(0, 5, 0), ValueError, ("step",)),
        Raises("arange", "nonfinite", lambda: ht.arange(0, NAN), ValueError, ("end", "nan")),
        Raises("arange", "nonfinite", lambda: ht.arange(0, INF), ValueError, ("end", "inf")),
        Raises("arange", "argument", lambda: ht.arange("5"), ValueError, ("'5'",)),
        Matches("arange", "empty", lambda: ht.arange(5, 0), lambda: np.arange(5, 0)),
        Raises("linspace", "argument", lambda: ht.linspace(0, 1, -1), ValueError, ("-1",)),
        Raises("eye", "argument", lambda: ht.eye(-2), ShapeError, ("n=-2",)),
        Raises("eye", "argument", lambda: ht.eye(2, -1), ShapeError, ("m=-1",)),
        Raises("randint", "argument", lambda: ht.randint(5, 1, (3,)), ValueError, ("high (1)", "low (5)")),
        Raises("randint", "argument", lambda: ht.randint(0, 5, (-3,)), ShapeError, ("(-3,)",)),
        Raises("rand", "dtype", lambda: ht.rand(2, dtype="int64"), DTypeError, ("int64",)),
        Raises("uniform", "argument", lambda: ht.uniform(2.0, 1.0, (3,)), ValueError, ("high (1.0)", "low (2.0)")),
        Raises("normal", "argument", lambda: ht.normal(0.0, -1.0, (3,)), ValueError, ("-1.0",)),
        Raises("normal", "argument", lambda: ht.normal(0.0, 1.0, (2,), generator=42), TypeError, ("int",)),
        Raises("tensor", "shape", lambda: ht.tensor([[1, 2], [3]]), ShapeError, ("inhomogeneous",)),
        Raises("tensor", "dtype", lambda: ht.tensor(["a"]), DTypeError, ("<U1",)),
        Raises("tensor", "dtype", lambda: ht.tensor([1j]), DTypeError, ("complex128",)),
        Raises("tensor", "device", lambda: ht.tensor([1.0], device="cuda:1"), DeviceError, ("'cuda:1'",)),
        Matches("tensor", "nonfinite", lambda: ht.tensor([NAN, INF]), lambda: np.array([NAN, INF], np.float32)),
        Matches("tensor", "empty", lambda: ht.tensor([]), lambda: np.array([], np.float32)),
        Raises("as_tensor", "dtype", lambda: ht.as_tensor({"a": 1}), DTypeError, ("dict",)),
        Raises("from_numpy", "argument", lambda: ht.from_numpy([1, 2]), TypeError, ("list",)),
        Raises("from_numpy", "dtype", lambda: ht.from_numpy(np.array([object()])), DTypeError, ("'O'",)),
        Raises("from_numpy", "dtype", lambda: ht.from_numpy(np.zeros(2, complex)), DTypeError, ("complex128",)),
        Matches("from_numpy", "zero-size", lambda: ht.from_numpy(np.zeros((2, 0, 3))), lambda: np.zeros((2, 0, 3))),
        Raises("from_dlpack", "argument", lambda: ht.from_dlpack(3), TypeError, ("int", "__dlpack__")),
        Raises("result_type", "dtype", lambda: ht.result_type("complex64"), DTypeError, ("complex64",)),
    ]
    if not ht.cuda_available():  # the path a user without a GPU (or without CuPy) meets
        cases += [
            Raises("zeros", "device", lambda: ht.zeros(2, device="cuda"), DeviceError, ("'cuda'",)),
            Raises("tensor", "device", lambda: ht.tensor([1.0], device="cuda"), DeviceError, ("'cuda'",)),
        ]
    return cases


def _join_and_misc_cases() -> list[Case]:
    x = _x
    return [
        Raises("cat", "argument", lambda: ht.cat([]), ValueError, ("at least one",)),
        Raises("cat", "shape", lambda: ht.cat([ht.zeros(2, 3), ht.zeros(2, 4)]), ShapeError, ("(2, 3)", "(2, 4)")),
        Raises("cat", "index", lambda: ht.cat([ht.zeros(2), ht.zeros(2)], 1), TensorIndexError, ("dim 1",)),
        Raises("cat", "device", lambda: ht.cat([ht.zeros(2), FakeDeviceTensor((2,))]), DeviceError, ("cpu", "cuda")),
        Matches("cat", "empty", lambda: ht.cat([ht.zeros(0), ht.ones(2)]), lambda: np.ones(2, "f4")),
        Raises("stack", "shape", lambda: ht.stack([ht.zeros(2), ht.zeros(3)]), ShapeError, ("(2,)", "(3,)")),
        Raises("stack", "argument", lambda: ht.stack([]), ValueError, ("at least one",)),
        Raises(
            "stack", "device", lambda: ht.stack([ht.zeros(2), FakeDeviceTensor((2,))]), DeviceError, ("cpu", "cuda")
        ),
        Raises("one_hot", "index", lambda: ht.one_hot(ht.tensor([0, 5]), 3), ValueError, ("index 5", "num_classes=3")),
        Raises("one_hot", "index", lambda: ht.one_hot(ht.tensor([-1]), 3), ValueError, ("index -1",)),
        Raises("one_hot", "dtype", lambda: ht.one_hot(ht.tensor([1.0]), 3), TypeError, ("float32",)),
        Matches(
            "one_hot", "empty", lambda: ht.one_hot(ht.tensor([], dtype="int64"), 3), lambda: np.zeros((0, 3), np.int64)
        ),
        Raises("tril", "shape", lambda: ht.tril(ht.zeros(3)), ShapeError, ("(3,)",)),
        Raises("triu", "shape", lambda: ht.triu(ht.zeros(3)), ShapeError, ("(3,)",)),
        Raises(
            "where",
            "shape",
            lambda: ht.where(ht.zeros(2, dtype="bool"), ht.zeros(3), ht.zeros(3)),
            ShapeError,
            ("(2,)", "(3,)"),
        ),
        Raises(
            "where",
            "device",
            lambda: ht.where(ht.ones(2, dtype="bool"), ht.zeros(2), FakeDeviceTensor((2,))),
            DeviceError,
            ("cuda",),
        ),
        Raises("matmul", "shape", lambda: ht.matmul(ht.zeros(5, 2), ht.zeros(3, 4)), ShapeError, ("(5, 2)", "(3, 4)")),
        Raises("matmul", "shape", lambda: ht.matmul(ht.tensor(1.0), x()), ShapeError, ("()", "(2, 3)")),
        Raises("matmul", "device", lambda: ht.matmul(x(), FakeDeviceTensor((3, 2))), DeviceError, ("cpu", "cuda")),
        Matches(
            "matmul", "zero-size", lambda: ht.matmul(ht.zeros(2, 0), ht.zeros(0, 3)), lambda: np.zeros((2, 3), "f4")
        ),
        Matches(
            "matmul",
            "nonfinite",
            lambda: ht.matmul(ht.tensor([[NAN, 1.0], [INF, 0.0]]), ht.tensor([[0.0], [1.0]])),
            lambda: np.array([[NAN, 1.0], [INF, 0.0]], "f4") @ np.array([[0.0], [1.0]], "f4"),
        ),
        Raises("clip", "argument", lambda: ht.clip(x()), ValueError, ("min", "max")),
        Raises("clamp", "argument", lambda: ht.clamp(x()), ValueError, ("min", "max")),
        Raises("clamp", "dtype", lambda: ht.clamp(x(), "a", None), DTypeError, ("'a'",)),
        Matches(
            "clamp",
            "nonfinite",
            lambda: ht.clamp(ht.tensor([NAN, INF, -INF]), -1.0, 1.0),
            lambda: np.clip(np.array([NAN, INF, -INF], "f4"), -1.0, 1.0),
        ),
        Raises("Tensor", "index", lambda: x()[1, 3], TensorIndexError, ("index 3", "size 3")),
        Raises("Tensor", "index", lambda: x()[-3], TensorIndexError, ("index -3",)),
        Raises("Tensor", "index", lambda: x()[ht.tensor([5])], TensorIndexError, ("index 5", "(2, 3)")),
        Raises("Tensor", "index", lambda: x()[1.5], TensorIndexError, ("(2, 3)",)),
        Raises("Tensor", "shape", lambda: x().__setitem__(0, ht.zeros(5)), ShapeError, ("(5,)", "(2, 3)")),
        Raises("Tensor", "argument", lambda: ht.Tensor(np.zeros(4), (-1,)), ShapeError, ("(-1,)",)),
        Raises("Tensor", "shape", lambda: ht.Tensor(np.zeros(4), (2, 3)), ShapeError, ("(2, 3)", "4 elements")),
        Raises("Tensor", "dtype", lambda: ht.Tensor(np.zeros(4, complex), (4,)), DTypeError, ("complex128",)),
        Raises("Tensor", "shape", lambda: ht.zeros(2).item(), ShapeError, ("(2,)",)),
        Raises("Tensor", "device", lambda: ht.zeros(2).to(device="mps"), DeviceError, ("'mps'",)),
    ]


CASES: list[Case] = _unary_cases() + _binary_cases() + _reduction_cases() + _view_cases() + _creation_cases()
CASES += _join_and_misc_cases()

#: Public names of ``hyperion.tensor`` with no bad-input case, and why none is needed.
EXEMPT: dict[str, str] = {
    "cuda_available": "takes no argument: there is no bad input to give it",
    "layout": "a module of pure layout functions over tuples; their errors are tested in test_layout.py",
    "registry": "a module (the kernel registry); its errors are tested in test_registry.py",
    "DTypeError": "an error type (what the cases assert), not an op",
    "DeviceError": "an error type (what the cases assert), not an op",
    "HyperionError": "an error type (what the cases assert), not an op",
    "ShapeError": "an error type (what the cases assert), not an op",
    "TensorIndexError": "an error type (what the cases assert), not an op",
}
