"""Bad-input cases of every public name of ``hyperion.autograd`` (see :mod:`hyperion.tensor.testing` for the kinds).

Forward errors come from hyperion-tensor underneath, so the op cases here check that they reach
the user unchanged through the autograd layer; the cases of autograd's own (backward, grad,
gradcheck, the functional API, modes, hooks) check its own messages. ``nonfinite`` cases also
run backward: a NaN/Inf input gives the gradient NumPy's formula gives, without an exception.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import hyperion.autograd as ag
from hyperion.tensor import DeviceError, DTypeError, ShapeError, TensorIndexError
from hyperion.tensor.testing import Case, FakeDeviceTensor, Matches, Raises

# The categories of this suite's cases (summary() reports them in this order).
CATEGORIES = ("shape", "dtype", "device", "empty", "zero-size", "nonfinite", "index", "argument")

NAN, INF = float("nan"), float("inf")
SPECIAL = np.array([NAN, INF, -INF, 0.0, -1.0, 2.5, 0.5])

# op -> (forward reference, derivative reference) in float64; None: no gradient flows (piecewise constant).
UNARY: dict[str, tuple[Any, Any]] = {
    "abs": (np.abs, np.sign),
    "cos": (np.cos, lambda a: -np.sin(a)),
    "exp": (np.exp, np.exp),
    "expm1": (np.expm1, np.exp),
    "log": (np.log, lambda a: 1 / a),
    "log1p": (np.log1p, lambda a: 1 / (1 + a)),
    "neg": (np.negative, lambda a: -np.ones_like(a)),
    "reciprocal": (np.reciprocal, lambda a: -1 / (a * a)),
    "rsqrt": (lambda a: 1 / np.sqrt(a), lambda a: -0.5 / (a * np.sqrt(a))),
    "sigmoid": (lambda a: 1 / (1 + np.exp(-a)), lambda a: (1 / (1 + np.exp(-a))) * (1 - 1 / (1 + np.exp(-a)))),
    "sin": (np.sin, np.cos),
    "sqrt": (np.sqrt, lambda a: 0.5 / np.sqrt(a)),
    "square": (np.square, lambda a: 2 * a),
    "tanh": (np.tanh, lambda a: 1 - np.tanh(a) ** 2),
    "ceil": (np.ceil, None),
    "floor": (np.floor, None),
    "sign": (np.sign, None),
    "isfinite": (np.isfinite, None),
    "isinf": (np.isinf, None),
    "isnan": (np.isnan, None),
    "logical_not": (np.logical_not, None),
}

BINARY: dict[str, Any] = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.true_divide,
    "pow": np.power,
    "maximum": np.maximum,
    "minimum": np.minimum,
}

REDUCTIONS = ("sum", "mean", "prod", "max", "min", "all", "any", "var", "std", "logsumexp", "argmax", "argmin")


def _x(requires_grad: bool = True) -> ag.Tensor:
    return ag.arange(6.0).reshape(2, 3).requires_grad_(requires_grad)


def _fake(shape: tuple[int, ...] = (2,)) -> ag.Tensor:
    """An autograd tensor whose data claims to live on ``cuda`` (see ``FakeDeviceTensor``)."""
    return ag.Tensor._make(FakeDeviceTensor(shape, "cuda"), None)


def _grad_of(fn: Any, values: np.ndarray) -> np.ndarray:
    x = ag.tensor(values, dtype="float64", requires_grad=True)
    fn(x).sum().backward()
    return x.grad.numpy()


def _unary_cases() -> list[Case]:
    cases: list[Case] = []
    for name, (forward, derivative) in UNARY.items():
        fn = getattr(ag, name)
        cases += [
            Raises(name, "dtype", lambda fn=fn: fn("text"), DTypeError, ("<U4",)),
            Raises(name, "shape", lambda fn=fn: fn([[1.0], [2.0, 3.0]]), ShapeError, ("inhomogeneous",)),
            Matches(name, "empty", lambda fn=fn: fn(ag.zeros(0)), lambda f=forward: f(np.zeros(0, np.float32))),
            Matches(
                name,
                "zero-size",
                lambda fn=fn: fn(ag.zeros(2, 0, 3)),
                lambda f=forward: f(np.zeros((2, 0, 3), np.float32)),
            ),
            Matches(
                name, "nonfinite", lambda fn=fn: fn(ag.tensor(SPECIAL)), lambda f=forward: f(SPECIAL), label="forward"
            ),
        ]
        if derivative is not None:
            cases += [
                Matches(
                    name,
                    "nonfinite",
                    lambda fn=fn: _grad_of(fn, SPECIAL),
                    lambda d=derivative: d(SPECIAL),
                    rtol=1e-12,
                    label="backward",
                ),
                Matches(
                    name,
                    "empty",
                    lambda fn=fn: _grad_of(fn, np.zeros((0, 2))),
                    lambda: np.zeros((0, 2)),
                    label="backward",
                ),
                Matches(
                    name,
                    "dtype",
                    lambda fn=fn: _grad_of(lambda x, fn=fn: fn(x.astype("float16")), np.array([0.5, 2.0])),
                    lambda d=derivative: d(np.array([0.5, 2.0], np.float16).astype(np.float64)),
                    rtol=5e-3,
                    label="float16-backward",
                ),
            ]
    cases.append(Raises("neg", "dtype", lambda: ag.neg(ag.tensor([True])), DTypeError, ("neg", "bool")))
    return cases


def _binary_cases() -> list[Case]:
    cases: list[Case] = []
    for name, ref in BINARY.items():
        fn = getattr(ag, name)
        a = np.array([NAN, INF, -INF, 1.0, 2.0], np.float32)
        b = np.array([1.0, INF, 2.0, NAN, 0.5], np.float32)
        cases += [
            Raises(name, "shape", lambda fn=fn: fn(_x(), ag.zeros(4)), ShapeError, ("(2, 3)", "(4,)")),
            Raises(name, "dtype", lambda fn=fn: fn(_x(), "abc"), DTypeError, ("<U3",)),
            Raises(
                name, "device", lambda fn=fn: fn(ag.zeros(2, requires_grad=True), _fake()), DeviceError, ("cpu", "cuda")
            ),
            Matches(
                name,
                "empty",
                lambda fn=fn: fn(ag.zeros(0), ag.ones(0)),
                lambda ref=ref: ref(np.zeros(0, "f4"), np.ones(0, "f4")),
            ),
            Matches(
                name,
                "zero-size",
                lambda fn=fn: _binary_grads(fn, np.zeros((3, 0)), np.ones(1)),
                lambda: [np.zeros((3, 0)), np.zeros(1)],
                label="backward-unbroadcast",
            ),
            Matches(
                name,
                "nonfinite",
                lambda fn=fn, a=a, b=b: fn(ag.tensor(a), ag.tensor(b)),
                lambda ref=ref, a=a, b=b: ref(a, b),
            ),
        ]
    return cases


def _binary_grads(fn: Any, a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    x, y = ag.tensor(a, requires_grad=True), ag.tensor(b, requires_grad=True)
    fn(x, y).sum().backward()
    return [x.grad.numpy(), y.grad.numpy()]


def _reduction_cases() -> list[Case]:
    cases: list[Case] = []
    for name in REDUCTIONS:
        fn = getattr(ag, name)
        cases += [
            Raises(name, "index", lambda fn=fn: fn(_x(), 2), TensorIndexError, ("dim 2",)),
            Raises(name, "argument", lambda fn=fn: fn(_x(), "rows"), TypeError, ("'rows'",)),
        ]
        if name in ("max", "min", "argmax", "argmin"):
            cases.append(Raises(name, "empty", lambda fn=fn: fn(ag.zeros(0, 2), 0), ShapeError, (name, "(0, 2)")))
        else:
            cases.append(
                Matches(name, "zero-size", lambda fn=fn: fn(ag.zeros(3, 0), 1), lambda name=name: _reduce_ref(name))
            )
    return cases


def _reduce_ref(name: str) -> np.ndarray:
    with np.errstate(all="ignore"):
        if name == "logsumexp":
            return np.full(3, -np.inf, np.float32)
        if name in ("var", "std"):
            return getattr(np, name)(np.zeros((3, 0), np.float32), axis=1, ddof=1)
        return getattr(np, name)(np.zeros((3, 0), np.float32), axis=1)


def _view_and_join_cases() -> list[Case]:
    x = _x
    return [
        Raises("reshape", "shape", lambda: ag.reshape(x(), (4, 2)), ShapeError, ("(4, 2)", "size 6")),
        Raises("permute", "argument", lambda: ag.permute(x(), (1, 1)), ShapeError, ("permute(1, 1)",)),
        Raises("transpose", "index", lambda: ag.transpose(x(), 0, 3), TensorIndexError, ("dim 3",)),
        Raises("squeeze", "index", lambda: ag.squeeze(x(), 4), TensorIndexError, ("dim 4",)),
        Raises("unsqueeze", "index", lambda: ag.unsqueeze(x(), 4), TensorIndexError, ("dim 4",)),
        Raises("flatten", "argument", lambda: ag.flatten(x(), 1, 0), ShapeError, ("start_dim 1",)),
        Raises("unflatten", "shape", lambda: ag.unflatten(x(), 1, (2, 2)), ShapeError, ("(2, 2)",)),
        Raises("narrow", "index", lambda: ag.narrow(x(), 1, 2, 5), ShapeError, ("start 2", "length 5")),
        Raises("chunk", "argument", lambda: ag.chunk(x(), 0), ShapeError, ("got 0",)),
        Raises("split", "argument", lambda: ag.split(x(), [2, 2], 1), ShapeError, ("[2, 2]",)),
        Raises("diagonal", "index", lambda: ag.diagonal(ag.zeros(3)), TensorIndexError, ("dim2 1",)),
        Raises("as_strided", "index", lambda: ag.as_strided(x(), (4, 4), (4, 1)), ShapeError, ("(4, 4)",)),
        Raises("broadcast_to", "shape", lambda: ag.broadcast_to(x(), (4, 3)), ShapeError, ("(2, 3)", "(4, 3)")),
        Raises("unbind", "index", lambda: ag.unbind(x(), 5), TensorIndexError, ("dim 5",)),
        Raises("unfold", "argument", lambda: ag.unfold(x(), 1, 5, 1), ShapeError, ("window size 5", "size 3")),
        Raises("unfold", "argument", lambda: ag.unfold(x(), 1, 2, 0), ShapeError, ("step", "0")),
        Raises("clone", "dtype", lambda: ag.clone("a"), DTypeError, ("<U1",)),
        Matches("clone", "zero-size", lambda: ag.clone(ag.zeros(0, 4)), lambda: np.zeros((0, 4), "f4")),
        Raises("matmul", "shape", lambda: ag.matmul(ag.zeros(5, 2), ag.zeros(3, 4)), ShapeError, ("(5, 2)", "(3, 4)")),
        Raises("matmul", "device", lambda: ag.matmul(x(), _fake((3, 2))), DeviceError, ("cpu", "cuda")),
        Matches(
            "matmul",
            "zero-size",
            lambda: _binary_grads(ag.matmul, np.ones((2, 0)), np.ones((0, 3))),
            lambda: [np.zeros((2, 0)), np.zeros((0, 3))],
            label="backward",
        ),
        Raises("cat", "shape", lambda: ag.cat([ag.zeros(2), ag.zeros(2, 2)]), ShapeError, ("(2,)", "(2, 2)")),
        Raises("cat", "device", lambda: ag.cat([ag.zeros(2), _fake()]), DeviceError, ("cpu", "cuda")),
        Raises("stack", "shape", lambda: ag.stack([ag.zeros(2), ag.zeros(3)]), ShapeError, ("(2,)", "(3,)")),
        Raises("one_hot", "index", lambda: ag.one_hot(ag.tensor([5]), 3), ValueError, ("index 5", "num_classes=3")),
        Raises("tril", "shape", lambda: ag.tril(ag.zeros(3)), ShapeError, ("(3,)",)),
        Raises("triu", "shape", lambda: ag.triu(ag.zeros(3)), ShapeError, ("(3,)",)),
        Raises(
            "where",
            "shape",
            lambda: ag.where(ag.zeros(2, dtype="bool"), ag.zeros(3), ag.zeros(3)),
            ShapeError,
            ("(2,)", "(3,)"),
        ),
        Raises(
            "where", "device", lambda: ag.where(ag.ones(2, dtype="bool"), ag.zeros(2), _fake()), DeviceError, ("cuda",)
        ),
        Raises("clamp", "argument", lambda: ag.clamp(x()), ValueError, ("min", "max")),
        Raises("clip", "argument", lambda: ag.clip(x()), ValueError, ("min", "max")),
        Matches(
            "clamp", "nonfinite", lambda: ag.clamp(ag.tensor([NAN, INF]), -1.0, 1.0), lambda: np.array([NAN, 1.0], "f4")
        ),
    ]


def _creation_cases() -> list[Case]:
    cases: list[Case] = []
    for name in ("zeros", "ones", "empty", "randn", "rand"):
        fn = getattr(ag, name)
        cases += [
            Raises(name, "argument", lambda fn=fn: fn(2, -3), ShapeError, ("(2, -3)",)),
            Raises(name, "device", lambda fn=fn: fn(2, device="tpu"), DeviceError, ("'tpu'",)),
            Raises(name, "dtype", lambda fn=fn: fn(2, dtype="int64", requires_grad=True), DTypeError, ("int64",)),
        ]
    for name in ("zeros_like", "ones_like", "empty_like", "full_like"):
        fn = getattr(ag, name)
        args = (0.0,) if name == "full_like" else ()
        cases += [
            Raises(
                name, "dtype", lambda fn=fn, args=args: fn(_x(), *args, dtype="complex64"), DTypeError, ("complex64",)
            ),
            Raises(name, "device", lambda fn=fn, args=args: fn(_x(), *args, device="tpu"), DeviceError, ("'tpu'",)),
        ]
    cases += [
        Raises("full", "argument", lambda: ag.full((-1,), 1.0), ShapeError, ("(-1,)",)),
        Raises("arange", "argument", lambda: ag.arange(0, 3, 0), ValueError, ("step",)),
        Raises("arange", "nonfinite", lambda: ag.arange(0.0, INF), ValueError, ("inf",)),
        Raises("linspace", "argument", lambda: ag.linspace(0, 1, -2), ValueError, ("-2",)),
        Raises("eye", "argument", lambda: ag.eye(-1), ShapeError, ("n=-1",)),
        Raises("randint", "argument", lambda: ag.randint(3, 3, (2,)), ValueError, ("high (3)",)),
        Raises("normal", "argument", lambda: ag.normal(0.0, -2.0, (2,)), ValueError, ("-2.0",)),
        Raises("uniform", "argument", lambda: ag.uniform(1.0, 0.0, (2,)), ValueError, ("high (0.0)",)),
        Raises("tensor", "dtype", lambda: ag.tensor([1, 2], requires_grad=True), DTypeError, ("int64",)),
        Raises("tensor", "dtype", lambda: ag.tensor(["a"]), DTypeError, ("<U1",)),
        Raises("as_tensor", "dtype", lambda: ag.as_tensor({"a": 1}), DTypeError, ("dict",)),
        Raises("from_numpy", "argument", lambda: ag.from_numpy([1.0]), TypeError, ("list",)),
        Raises("from_numpy", "dtype", lambda: ag.from_numpy(np.zeros(2, complex)), DTypeError, ("complex128",)),
    ]
    return cases


def _engine_cases() -> list[Case]:
    x = _x

    def twice() -> None:
        y = (x() * x()).sum()
        y.backward()
        y.backward()

    def inplace() -> None:
        y = x().exp()
        y.mul_(2)
        y.sum().backward()

    def broken_backward() -> None:
        class Broken(ag.Function):
            @staticmethod
            def forward(ctx: Any, a: Any) -> Any:
                return a * 1

            @staticmethod
            def backward(ctx: Any, grad: Any) -> Any:
                return ag.zeros(7)

        Broken.apply(x()).sum().backward()

    def anomaly_forward() -> None:
        with ag.detect_anomaly():
            ag.tensor([-1.0, 1.0], requires_grad=True).log()

    def anomaly_backward() -> None:
        a = ag.tensor([0.0, 4.0], dtype="float64", requires_grad=True)
        with ag.detect_anomaly():
            a.sqrt().sum().backward()

    f = ag.functional
    return [
        Raises("Tensor", "argument", lambda: (x() * 2).backward(), RuntimeError, ("(2, 3)", "one-element")),
        Raises("Tensor", "argument", lambda: ag.zeros(2).sum().backward(), RuntimeError, ("does not require grad",)),
        Raises("Tensor", "shape", lambda: (x() * 2).backward(ag.zeros(3)), ShapeError, ("(3,)", "(2, 3)")),
        Raises("Tensor", "dtype", lambda: ag.arange(3).requires_grad_(), DTypeError, ("int64",)),
        Raises("Tensor", "index", lambda: x()[2], TensorIndexError, ("index 2",)),
        Raises("Tensor", "device", lambda: x().to("mps"), DeviceError, ("'mps'",)),
        Raises("backward", "argument", twice, ag.GraphFreedError, ("SumBackward", "retain_graph")),
        Raises("backward", "argument", inplace, ag.InplaceModificationError, ("ExpBackward", "version 1")),
        Raises("backward", "shape", broken_backward, ShapeError, ("(7,)",)),
        Raises(
            "backward",
            "argument",
            lambda: ag.backward([(x() * 2).sum()], grad_tensors=[1, 2]),
            (ValueError, TypeError),
            ("2",),
        ),
        Raises(
            "grad",
            "argument",
            lambda: ag.grad((x() * 2).sum(), [ag.zeros(2, requires_grad=True)]),
            RuntimeError,
            ("input 0", "allow_unused"),
        ),
        Raises("grad", "argument", lambda: ag.grad((x() * 2).sum(), ["x"]), TypeError, ("str",)),
        Raises(
            "sum_to_shape", "shape", lambda: ag.sum_to_shape(ag.zeros(2, 3).data, (4,)), ShapeError, ("(2, 3)", "(4,)")
        ),
        Raises(
            "gradcheck",
            "dtype",
            lambda: ag.gradcheck(lambda a: a * 2, (ag.tensor([1.0], requires_grad=True),)),
            TypeError,
            ("float32",),
        ),
        Raises(
            "gradcheck",
            "argument",
            lambda: ag.gradcheck(lambda a: a * 2, (ag.tensor([1.0], dtype="float64"),)),
            ValueError,
            ("requires grad",),
        ),
        Raises(
            "gradgradcheck",
            "dtype",
            lambda: ag.gradgradcheck(lambda a: a * a, (ag.tensor([1.0], requires_grad=True),)),
            TypeError,
            ("float32",),
        ),
        Raises("checkpoint", "argument", lambda: ag.checkpoint(3, x()), TypeError, ("int", "3")),
        Raises("export_graph", "argument", lambda: ag.export_graph(3), TypeError, ("int",)),
        Raises("export_graph", "argument", lambda: ag.export_graph([x(), "y"]), TypeError, ("output 1", "str")),
        Raises("set_grad_enabled", "argument", lambda: ag.set_grad_enabled("no"), TypeError, ("'no'",)),
        Raises("detect_anomaly", "argument", lambda: ag.detect_anomaly("off"), TypeError, ("'off'",)),
        Raises("set_detect_anomaly", "argument", lambda: ag.set_detect_anomaly(None), TypeError, ("None",)),
        Raises("observe_ops", "argument", lambda: ag.observe_ops(3), TypeError, ("int",)),
        Raises("set_op_observer", "argument", lambda: ag.set_op_observer("p"), TypeError, ("str",)),
        Raises("Function", "argument", lambda: ag.Function.apply(x()), NotImplementedError, ("forward",)),
        Raises("AnomalyError", "nonfinite", anomaly_forward, ag.AnomalyError, ("Log", "1 nan")),
        Raises("AnomalyError", "nonfinite", anomaly_backward, ag.AnomalyError, ("SqrtBackward", "a.sqrt()")),
        Raises(
            "functional.vjp",
            "shape",
            lambda: f.vjp(lambda a: a * 2, x(), ag.zeros(5)),
            RuntimeError,
            ("(5,)", "(2, 3)"),
        ),
        Raises(
            "functional.jvp",
            "shape",
            lambda: f.jvp(lambda a: a * 2, x(), ag.zeros(5)),
            (RuntimeError, ValueError),
            ("(5,)", "(2, 3)"),
        ),
        Raises("functional.jacobian", "argument", lambda: f.jacobian(lambda a: a * 2, "x"), TypeError, ("str",)),
        Raises(
            "functional.hessian",
            "shape",
            lambda: f.hessian(lambda a: a * 2, ag.tensor([1.0, 2.0])),
            RuntimeError,
            ("(2,)",),
        ),
        Raises(
            "functional.hvp",
            "shape",
            lambda: f.hvp(lambda a: (a * a).sum(), ag.tensor([1.0, 2.0]), ag.zeros(3)),
            (RuntimeError, ValueError),
            ("(3,)",),
        ),
        Raises(
            "functional.vhp",
            "shape",
            lambda: f.vhp(lambda a: (a * a).sum(), ag.tensor([1.0, 2.0]), ag.zeros(3)),
            (RuntimeError, ValueError),
            ("(3,)",),
        ),
    ]


CASES: list[Case] = _unary_cases() + _binary_cases() + _reduction_cases() + _view_and_join_cases()
CASES += _creation_cases() + _engine_cases()

#: Public names with no bad-input case, and why none is needed.
EXEMPT: dict[str, str] = {
    "functional": "a module: its public functions are listed one by one as functional.<name>",
    "is_grad_enabled": "takes no argument",
    "is_anomaly_enabled": "takes no argument",
    "get_op_observer": "takes no argument",
    "no_grad": "takes only an optional function to decorate; misuse is a plain Python TypeError at call time",
    "enable_grad": "takes only an optional function to decorate; misuse is a plain Python TypeError at call time",
    "profile": "a context manager with no argument",
    "RemovableHandle": "returned by register_hook, never built by users",
    "OpObserver": "a typing Protocol (the interface observe_ops checks, tested there)",
    "GradcheckError": "an error type (what gradcheck raises), not an op",
    "GraphFreedError": "an error type (asserted by the backward cases), not an op",
    "InplaceModificationError": "an error type (asserted by the backward cases), not an op",
}
