"""Calls through the public entry points of every registry op the CPU kernels implement.

Each op has bad-input calls (which must raise the reference's error type, naming the value) and
non-finite or edge inputs (which must give the reference's result, NaN for NaN). Inputs are built
fresh inside each call so that kernel and reference runs never share a buffer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .parity import Case, with_grads

NAN, INF = float("nan"), float("inf")


def _rand(*shape: int, dtype: Any = np.float32, seed: int = 0, scale: float = 1.0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(shape) * scale).astype(dtype)


def _poisoned(*shape: int, dtype: Any = np.float32) -> np.ndarray:
    """Random values with a NaN, a +Inf and a -Inf in different rows (and one clean row)."""
    x = _rand(*shape, dtype=dtype)
    flat = x.reshape(-1, shape[-1])
    flat[0, 1], flat[1, 0], flat[2, -1] = NAN, INF, -INF
    return x


def _F() -> Any:
    from hyperion.nn import functional

    return functional


def _ag() -> Any:
    import hyperion.autograd as ag

    return ag


def _row_ops() -> list[Case]:
    cases: list[Case] = []
    for name, op in (("softmax", "nn.softmax_forward"), ("log_softmax", "nn.log_softmax_forward")):
        backward = op.replace("forward", "backward")
        fn = lambda t, name=name, dim=-1: getattr(_F(), name)(t, dim=dim)  # noqa: E731
        for dtype in (np.float32, np.float64):
            tag = np.dtype(dtype).name
            cases += [
                Case(op, name, "nonfinite", with_grads(fn, _poisoned(4, 6, dtype=dtype)), f"nan-inf-{tag}"),
                Case(op, name, "nonfinite", with_grads(fn, np.full((2, 5), NAN, dtype)), f"all-nan-{tag}"),
                Case(op, name, "nonfinite", with_grads(fn, np.full((2, 5), -INF, dtype)), f"all-minus-inf-{tag}"),
                Case(backward, name, "extreme", with_grads(fn, _rand(3, 7, dtype=dtype, scale=1e4)), f"1e4-{tag}"),
            ]
        cases += [
            Case(op, name, "empty", with_grads(fn, np.zeros((0, 5), np.float32)), "no-rows"),
            Case(op, name, "empty", with_grads(fn, np.zeros((3, 0), np.float32)), "no-columns"),
            Case(
                op,
                name,
                "index",
                lambda name=name: getattr(_F(), name)(_ag().tensor(_rand(2, 3)), dim=2),
                "dim-2",
                ("2",),
            ),
            Case(
                op,
                name,
                "index",
                lambda name=name: getattr(_F(), name)(_ag().tensor(_rand(2, 3)), dim=-3),
                "dim--3",
                ("-3",),
            ),
            Case(op, name, "dtype", lambda name=name: getattr(_F(), name)(_ag().tensor([[1, 2, 3]])), "int-input"),
        ]
    return cases


def _norm_ops() -> list[Case]:
    F = _F
    cases: list[Case] = []
    for name, op in (("layer_norm", "nn.layer_norm_forward"), ("rms_norm", "nn.rms_norm_forward")):
        norm = lambda t, w, name=name: getattr(F(), name)(t, (6,), w)  # noqa: E731
        plain = lambda t, name=name: getattr(F(), name)(t, 6)  # noqa: E731
        for dtype in (np.float32, np.float64):
            tag = np.dtype(dtype).name
            cases += [
                Case(
                    op,
                    name,
                    "nonfinite",
                    with_grads(norm, _poisoned(4, 6, dtype=dtype), _rand(6, dtype=dtype, seed=3)),
                    f"nan-inf-{tag}",
                ),
                Case(
                    op.replace("forward", "backward"),
                    name,
                    "extreme",
                    with_grads(plain, _rand(3, 6, dtype=dtype, scale=1e4)),
                    f"1e4-{tag}",
                ),
                Case(op, name, "nonfinite", with_grads(plain, np.full((2, 6), 3.0, dtype)), f"constant-row-{tag}"),
            ]
        cases += [
            Case(
                op,
                name,
                "shape",
                lambda name=name: getattr(F(), name)(_ag().tensor(_rand(2, 5)), (6,)),
                "wrong-normalized-shape",
                ("(6,)",),
            ),
            Case(
                op,
                name,
                "shape",
                lambda name=name: getattr(F(), name)(_ag().tensor(_rand(2, 6)), (6,), _ag().tensor(_rand(5))),
                "wrong-weight",
                ("(5,)",),
            ),
            Case(op, name, "empty", with_grads(plain, np.zeros((0, 6), np.float32)), "no-rows"),
        ]
    cases.append(
        Case(
            "nn.layer_norm_forward",
            "layer_norm",
            "argument",
            lambda: F().layer_norm(_ag().tensor(_rand(2, 6)), 6, eps=-1.0),
            "negative-eps",
            ("-1.0",),
        )
    )
    return cases


def _gelu() -> list[Case]:
    cases: list[Case] = []
    for approximate in ("none", "tanh"):
        fn = lambda t, a=approximate: _F().gelu(t, approximate=a)  # noqa: E731
        for dtype in (np.float32, np.float64):
            special = np.array([NAN, INF, -INF, 0.0, -1e4, 1e4, 3.0], dtype)
            cases.append(
                Case(
                    "nn.gelu_forward",
                    "gelu",
                    "nonfinite",
                    with_grads(fn, special),
                    f"{approximate}-{np.dtype(dtype).name}",
                )
            )
        cases.append(
            Case(
                "nn.gelu_backward",
                "gelu",
                "empty",
                with_grads(fn, np.zeros((0, 4), np.float32)),
                f"{approximate}-empty",
            )
        )
    cases.append(
        Case(
            "nn.gelu_forward",
            "gelu",
            "argument",
            lambda: _F().gelu(_ag().tensor(_rand(3)), "fast"),
            "bad-approximate",
            ("'fast'",),
        )
    )
    return cases


def _cross_entropy() -> list[Case]:
    F = _F
    target = np.array([0, 2, 1, 3], np.int64)

    def ce(logits: np.ndarray, labels: np.ndarray = target, **kw: Any) -> Any:
        return with_grads(lambda t: F().cross_entropy(t, _ag().tensor(labels), **kw), logits)

    cases: list[Case] = []
    for dtype in (np.float32, np.float64):
        tag = np.dtype(dtype).name
        cases += [
            Case(
                "nn.cross_entropy_forward",
                "cross_entropy",
                "nonfinite",
                ce(_poisoned(4, 5, dtype=dtype)),
                f"nan-inf-{tag}",
            ),
            Case(
                "nn.cross_entropy_backward",
                "cross_entropy",
                "extreme",
                ce(_rand(4, 5, dtype=dtype, scale=1e4)),
                f"1e4-{tag}",
            ),
            Case(
                "nn.cross_entropy_forward",
                "cross_entropy",
                "nonfinite",
                ce(_rand(4, 5, dtype=dtype), reduction="none"),
                f"reduction-none-{tag}",
            ),
            Case(
                "nn.cross_entropy_forward",
                "cross_entropy",
                "index",
                ce(_rand(4, 5, dtype=dtype), np.array([0, -100, 1, -100]), ignore_index=-100),
                f"ignored-{tag}",
            ),
        ]
    cases += [
        Case(
            "nn.cross_entropy_forward",
            "cross_entropy",
            "index",
            lambda: F().cross_entropy(_ag().tensor(_rand(4, 5)), _ag().tensor(np.array([0, 5, 1, 2]))),
            "target-5",
            ("5",),
        ),
        Case(
            "nn.cross_entropy_forward",
            "cross_entropy",
            "index",
            lambda: F().cross_entropy(_ag().tensor(_rand(4, 5)), _ag().tensor(np.array([0, -2, 1, 2]))),
            "target--2",
            ("-2",),
        ),
        Case(
            "nn.cross_entropy_forward",
            "cross_entropy",
            "shape",
            lambda: F().cross_entropy(_ag().tensor(_rand(4, 5)), _ag().tensor(np.array([0, 1, 2]))),
            "target-length",
            ("(3,)",),
        ),
        Case(
            "nn.cross_entropy_forward",
            "cross_entropy",
            "dtype",
            lambda: F().cross_entropy(_ag().tensor(_rand(4, 5)), _ag().tensor(np.zeros(4, np.float32))),
            "float-target",
        ),
        Case(
            "nn.cross_entropy_forward",
            "cross_entropy",
            "argument",
            lambda: F().cross_entropy(_ag().tensor(_rand(4, 5)), _ag().tensor(target), reduction="avg"),
            "reduction",
            ("'avg'",),
        ),
        Case(
            "nn.cross_entropy_forward",
            "cross_entropy",
            "empty",
            ce(np.zeros((0, 5), np.float32), np.zeros(0, np.int64)),
            "no-rows",
        ),
        Case(
            "nn.cross_entropy_forward",
            "cross_entropy",
            "empty",
            ce(_rand(2, 5), np.array([-100, -100]), ignore_index=-100),
            "all-ignored",
        ),
    ]
    return cases


def _attention() -> list[Case]:
    F = _F

    def sdpa(*arrays: np.ndarray, **kw: Any) -> Any:
        return with_grads(lambda q, k, v: F().scaled_dot_product_attention(q, k, v, **kw), *arrays)

    q, k, v = (_rand(1, 2, 5, 4, seed=s) for s in (1, 2, 3))
    cases: list[Case] = []
    for dtype in (np.float32, np.float64):
        tag = np.dtype(dtype).name
        qn = q.astype(dtype)
        qn[0, 0, 2, 1] = NAN
        cases += [
            Case(
                "nn.attention_forward",
                "scaled_dot_product_attention",
                "nonfinite",
                sdpa(qn, k.astype(dtype), v.astype(dtype)),
                f"nan-query-{tag}",
            ),
            Case(
                "nn.attention_forward",
                "scaled_dot_product_attention",
                "nonfinite",
                sdpa(qn, k.astype(dtype), v.astype(dtype), is_causal=True),
                f"nan-query-causal-{tag}",
            ),
            Case(
                "nn.attention_backward",
                "scaled_dot_product_attention",
                "extreme",
                sdpa(q.astype(dtype) * 100, k.astype(dtype) * 100, v.astype(dtype)),
                f"large-scores-{tag}",
            ),
        ]
    cases += [
        Case(
            "nn.attention_forward",
            "scaled_dot_product_attention",
            "shape",
            lambda: F().scaled_dot_product_attention(*(_ag().tensor(a) for a in (q, k[..., :3], v))),
            "head-dim",
            ("(1, 2, 5, 3)",),
        ),
        Case(
            "nn.attention_forward",
            "scaled_dot_product_attention",
            "shape",
            lambda: F().scaled_dot_product_attention(*(_ag().tensor(a) for a in (q, k, v[:, :, :4]))),
            "kv-length",
            ("(1, 2, 4, 4)",),
        ),
        Case(
            "nn.attention_forward",
            "scaled_dot_product_attention",
            "empty",
            sdpa(q[:, :, :0], k[:, :, :0], v[:, :, :0]),
            "no-tokens",
        ),
        Case(
            "nn.attention_forward",
            "scaled_dot_product_attention",
            "argument",
            lambda: F().scaled_dot_product_attention(*(_ag().tensor(a) for a in (q, k, v)), dropout_p=1.5),
            "dropout",
            ("1.5",),
        ),
    ]
    return cases


def _conv() -> list[Case]:
    F = _F
    x, w = _rand(2, 3, 6, 6), _rand(4, 3, 3, 3, seed=1)
    xn = x.copy()
    xn[0, 1, 2, 3] = NAN
    xn[1, 0, 0, 0] = INF
    conv = lambda a, b, **kw: with_grads(lambda t, u: F().conv2d(t, u, **kw), a, b)  # noqa: E731
    return [
        Case("nn.im2col", "conv2d", "nonfinite", conv(xn, w, padding=1), "nan-inf"),
        Case("nn.col2im", "conv2d", "nonfinite", conv(xn, w, stride=2), "nan-inf-stride"),
        Case(
            "nn.im2col",
            "conv2d",
            "nonfinite",
            conv(x.astype(np.float64), w.astype(np.float64), dilation=2),
            "dilated-f64",
        ),
        Case(
            "nn.im2col",
            "conv2d",
            "shape",
            lambda: F().conv2d(_ag().tensor(x), _ag().tensor(_rand(4, 2, 3, 3))),
            "channels",
            ("3", "2"),
        ),
        Case(
            "nn.im2col",
            "conv2d",
            "shape",
            lambda: F().conv2d(_ag().tensor(x[:, :, :2, :2]), _ag().tensor(w)),
            "kernel-larger",
            ("3",),
        ),
        Case(
            "nn.im2col",
            "conv2d",
            "argument",
            lambda: F().conv2d(_ag().tensor(x), _ag().tensor(w), stride=0),
            "stride-0",
            ("0",),
        ),
        Case(
            "nn.im2col",
            "conv2d",
            "argument",
            lambda: F().conv2d(_ag().tensor(x), _ag().tensor(w), padding=-1),
            "padding--1",
            ("-1",),
        ),
        Case("nn.im2col", "conv2d", "empty", conv(x[:0], w), "no-images"),
    ]


def _adamw() -> list[Case]:
    def steps(param: np.ndarray, grad: np.ndarray, **kw: Any) -> Any:
        def call() -> list[np.ndarray]:
            from hyperion.nn import Parameter
            from hyperion.nn.optim import AdamW

            p = Parameter(_ag().tensor(param.copy()))
            opt = AdamW([p], **{"lr": 1e-2, **kw})
            out = []
            for _ in range(3):
                p.grad = _ag().tensor(grad.copy())
                opt.step()
                out.append(p.detach().numpy().copy())
            return out

        return call

    g = _rand(5, 4, seed=4)
    gn = g.copy()
    gn[1, 2], gn[3, 0] = NAN, INF
    return [
        Case("nn.adamw_step", "AdamW", "nonfinite", steps(_rand(5, 4), gn), "nan-inf-grad"),
        Case("nn.adamw_step", "AdamW", "nonfinite", steps(_rand(5, 4), g, amsgrad=True), "amsgrad"),
        Case("nn.adamw_step", "AdamW", "extreme", steps(_rand(5, 4), g * 1e30), "huge-grad"),
        Case(
            "nn.adamw_step",
            "AdamW",
            "nonfinite",
            steps(_rand(5, 4).astype(np.float64), g.astype(np.float64), maximize=True),
            "maximize-f64",
        ),
        Case(
            "nn.adamw_step",
            "AdamW",
            "empty",
            steps(np.zeros((0, 4), np.float32), np.zeros((0, 4), np.float32)),
            "empty-param",
        ),
        Case("nn.adamw_step", "AdamW", "argument", steps(_rand(2), _rand(2), lr=-1.0), "negative-lr", ("-1.0",)),
        Case("nn.adamw_step", "AdamW", "argument", steps(_rand(2), _rand(2), betas=(1.0, 0.999)), "beta1-1", ("1.0",)),
        Case("nn.adamw_step", "AdamW", "shape", steps(_rand(2, 3), _rand(3, 2)), "grad-shape", ("(3, 2)",)),
    ]


def _fdtd() -> list[Case]:
    def run(shape: tuple[int, int, int], poison: float | None = None, **grid: Any) -> Any:
        def call() -> list[np.ndarray]:
            from hyperion.physics import Gaussian, Grid, PointSource, Simulation

            g = Grid(shape, **{"dx": 1e-3, "boundary": "pec", "dtype": "float32", **grid})
            sim = Simulation(g, sources=[PointSource(tuple(n // 2 for n in shape), Gaussian(width=5 * g.dt))])
            sim.run(3)
            if poison is not None:
                sim.fields["ex"][1, 1, 1] = poison
            sim.run(3)
            return [sim.field(c) for c in ("ex", "ey", "ez", "hx", "hy", "hz")]

        return call

    return [
        Case("physics.fdtd3d_step", "Simulation", "nonfinite", run((8, 8, 8), NAN), "nan-field"),
        Case("physics.fdtd3d_step", "Simulation", "nonfinite", run((8, 8, 8), INF), "inf-field"),
        Case("physics.fdtd3d_step", "Simulation", "extreme", run((8, 8, 8), 1e30), "huge-field"),
        Case(
            "physics.fdtd3d_step",
            "Simulation",
            "nonfinite",
            run((9, 7, 6), dtype="float64", boundary="periodic"),
            "periodic-f64",
        ),
        Case("physics.fdtd3d_step", "Simulation", "nonfinite", run((24, 24, 24), boundary="pml", pml_cells=6), "pml"),
        Case("physics.fdtd3d_step", "Simulation", "courant", run((8, 8, 8), courant=0.7), "courant", ("0.7",)),
    ]


CASES: list[Case] = [
    *_row_ops(),
    *_norm_ops(),
    *_gelu(),
    *_cross_entropy(),
    *_attention(),
    *_conv(),
    *_adamw(),
    *_fdtd(),
]
