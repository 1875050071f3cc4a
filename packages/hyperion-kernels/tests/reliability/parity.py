"""Run one call with the kernels enabled and with the reference only, and compare what came out.

An outcome is either the exception raised (type and message) or the arrays returned (the output
and, for differentiable calls, the gradients). The two outcomes must agree: the same exception
type (and the message of the kernel path must name what the reference's names), or arrays of the
same shape and dtype whose NaN and ±Inf sit at the same places and whose finite values agree.

Finite values agree to a relative tolerance of the dtype, with an absolute floor of that tolerance
times the largest magnitude in the whole outcome: at extreme inputs (logits of 1e4, fields of 1e30)
the small entries are differences of large ones, and their rounding is relative to the large ones.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hyperion.tensor import registry

KERNELS_ON, KERNELS_OFF = "cpu", "-cpu,-cuda"
TOL = {np.dtype(np.float32): (2e-5, 1e-6), np.dtype(np.float64): (1e-10, 1e-12)}


@dataclass(frozen=True)
class Case:
    """One call through a public entry point that, on CPU, runs registry op ``op``."""

    op: str
    entry: str
    category: str
    call: Callable[[], Any]
    label: str
    named: tuple[str, ...] = ()
    known_bug: str = ""

    @property
    def id(self) -> str:
        return f"{self.op}-{self.entry}-{self.category}-{self.label}"


@dataclass(frozen=True)
class Outcome:
    error: type[BaseException] | None
    message: str
    arrays: tuple[np.ndarray, ...]


def outcome(call: Callable[[], Any], spec: str) -> Outcome:
    """What ``call`` gives under kernel selection ``spec``."""
    with registry.use_kernels(spec), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            value = call()
        except Exception as exc:  # noqa: BLE001 - the exception is the outcome
            return Outcome(type(exc), str(exc), ())
    return Outcome(None, "", tuple(np.array(a, copy=True) for a in _flatten(value)))


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return [a for v in value for a in _flatten(v)]
    if hasattr(value, "detach"):
        return [value.detach().numpy()]
    if hasattr(value, "numpy"):
        return [value.numpy()]
    return [np.asarray(value)]


def assert_same(kernel: Outcome, reference: Outcome, case: Case) -> None:
    """Kernel and reference outcomes agree (see the module docstring)."""
    assert kernel.error is reference.error, (
        f"{case.id}: kernels -> {kernel.error and kernel.error.__name__}: {kernel.message!r}; "
        f"reference -> {reference.error and reference.error.__name__}: {reference.message!r}"
    )
    if reference.error is not None:
        missing = [name for name in case.named if name not in kernel.message or name not in reference.message]
        assert not missing, f"{case.id}: {kernel.message!r} / {reference.message!r} do not name {missing}"
        return
    assert len(kernel.arrays) == len(reference.arrays), case.id
    finite_values = [np.abs(a[np.isfinite(a)]) for a in reference.arrays if a.dtype.kind == "f" and a.size]
    scale = max((float(v.max()) for v in finite_values if v.size), default=0.0)
    for k, (got, want) in enumerate(zip(kernel.arrays, reference.arrays, strict=True)):
        where = f"{case.id} (array {k})"
        assert got.shape == want.shape and got.dtype == want.dtype, (
            f"{where}: {got.shape} {got.dtype} vs {want.shape} {want.dtype}"
        )
        if got.dtype.kind != "f":
            np.testing.assert_array_equal(got, want, err_msg=where)
            continue
        for name, test in (("NaN", np.isnan), ("+Inf", np.isposinf), ("-Inf", np.isneginf)):
            differ = np.argwhere(test(got) != test(want))
            assert differ.size == 0, f"{where}: {name} at different places, first at {tuple(differ[0])}"
        rtol, atol = TOL.get(got.dtype, (1e-3, 1e-3))
        finite = np.isfinite(want)
        np.testing.assert_allclose(got[finite], want[finite], rtol=rtol, atol=max(atol, rtol * scale), err_msg=where)


def with_grads(fn: Callable[..., Any], *arrays: np.ndarray, probe_seed: int = 7) -> Callable[[], list[Any]]:
    """A call returning ``fn``'s output and the gradients of ``sum(out * probe)`` w.r.t. every float array."""

    def call() -> list[Any]:
        import hyperion.autograd as ag

        inputs = [ag.tensor(a, requires_grad=np.asarray(a).dtype.kind == "f") for a in arrays]
        out = fn(*inputs)
        results: list[Any] = [out.detach().numpy().copy()]
        if out.size:
            probe = np.random.default_rng(probe_seed).standard_normal(out.shape).astype(out.dtype)
            (out * ag.tensor(probe)).sum().backward()
            results += [t.grad.numpy().copy() for t in inputs if t.requires_grad and t.grad is not None]
        return results

    return call


def kernel_ops(device: str = "cpu") -> Sequence[str]:
    """The registry ops a non-reference provider implements on ``device``."""
    return sorted(
        row.op
        for row in registry.ops()
        if row.device == device and any(name not in (registry.REFERENCE, "demo") for name in row.providers)
    )
