"""Row helpers shared by the CPU kernels: a vectorisable ``exp`` of non-positive arguments, row maxima.

Without Intel's SVML, LLVM turns ``math.exp`` into one libm call per element,
which no loop vectoriser can widen; an exponential over a row then costs more
than reading the row from memory. :func:`exp_shifted` computes
``exp(x - shift)`` for ``x <= shift`` with only arithmetic that vectorises:

* range reduction (Cody–Waite): ``t = k·ln 2 + r`` with an integer ``k`` and
  ``|r| <= ln2/2``, where ``k·ln2`` is subtracted in two parts (a short ``hi``
  that is exact in the product and a ``lo`` correction) so ``r`` keeps full precision;
* ``exp(r)`` by its Taylor polynomial (degree 7 for float32, 12 for float64:
  truncation below half an ulp);
* ``2^k`` by writing ``k + bias`` into the exponent field of an integer and
  reinterpreting its bits as a float (an LLVM ``bitcast``, emitted by a small
  Numba intrinsic; it vectorises like any other instruction).

Arguments below ``(emin - 0.5)·ln2`` are clamped there, where ``k`` reaches the
smallest exponent and the exponent field is 0: the result is exactly 0 (as
for ``-inf`` inputs, i.e. masked entries) instead of a subnormal. Rows whose
maximum is not finite are left to the caller (they need libm's NaN/inf rules).

Rounding ``t/ln 2`` to the integer ``k`` is done by adding ``1.5·2^23`` and reading
the sum's bits (no float-to-int64 conversion, which would halve the vector width).
:func:`exp_approx` is the same exponential for one scalar of any sign (clamped),
for kernels such as GELU that need ``exp`` elementwise.

Sums are accumulated in float64 whatever the input dtype. The kernels are
compiled with ``fastmath={"reassoc", "contract"}`` only: reassociation is what
lets LLVM vectorise a sum or a maximum, and contraction allows FMAs; NaN and
infinity semantics (``nnan``/``ninf``) are *not* relaxed.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from numba import njit
from numba.core import types
from numba.extending import intrinsic, overload

__all__ = ["FASTMATH", "MAX_ARG_32", "MAX_ARG_64", "PARALLEL_MIN_ELEMENTS", "exp_approx", "exp_shifted", "like", "max_exp_arg", "row_max", "run"]

FASTMATH = {"reassoc", "contract"}
"""Numba ``fastmath`` flags of the row kernels: reorder sums, fuse multiply-adds; nothing else."""

PARALLEL_MIN_ELEMENTS = 1 << 21
"""Below this many elements (8 MiB of float32) a kernel runs on the calling thread: waking Numba's
worker threads costs tens of microseconds on an idle machine and whole scheduler time slices on
a busy one, which measured more than the work of the activations of a small model (im2col of a
LeNet batch ran 2-3x slower in parallel than serially on two shared cores)."""


def run(size: int, parallel: Callable[..., None], part: Callable[..., None], *args: object) -> None:
    """Run a kernel: its ``prange`` driver ``parallel(*args)`` for ``size`` elements or more, else the
    serial ``part(*args, 0, -1)`` over everything (``lo=0``, ``hi=-1``: to the end)."""
    if size >= PARALLEL_MIN_ELEMENTS:
        parallel(*args)
    else:
        part(*args, 0, -1)


_LOG2E = 1.4426950408889634
# ln 2 split so that k·_LN2_HI is exact for the k that occur (|k| < 2^10).
_LN2_HI_32 = 0.693145751953125
_LN2_LO_32 = 1.428606765330187e-06
_LN2_HI_64 = 0.6931471803691238
_LN2_LO_64 = 1.9082149292705877e-10
_MIN_ARG_32 = -127.49 * 0.6931471805599453  # k = -127: exponent field 0 -> exactly 0.0
_MIN_ARG_64 = -1023.49 * 0.6931471805599453  # k = -1023: exponent field 0 -> exactly 0.0
MAX_ARG_32 = 88.0
"""Largest argument :func:`exp_approx` takes in float32 (``k = 127``, the largest finite exponent); larger ones are clamped."""
MAX_ARG_64 = 709.0
"""Largest argument :func:`exp_approx` takes in float64 (``k = 1023``); larger ones are clamped."""
# Round-to-nearest by addition: adding 1.5·2^23 (1.5·2^52) to a float32 (float64) of magnitude below
# 2^22 (2^51) leaves round(y) in the low bits of the sum's mantissa, so the sum's bits minus the bits of
# the constant are the integer k — with integer instructions of the float's width only.
_ROUND_32 = 12582912.0
_ROUND_BITS_32 = 0x4B400000
_ROUND_64 = 6755399441055744.0
_ROUND_BITS_64 = 0x4338000000000000
_LANES = 16
# 1/11!, 1/10!, ..., 1/1!, 1/0!: Horner coefficients of exp(r) after the leading 1/12!.
_TAYLOR_64 = tuple(1.0 / math.factorial(i) for i in range(11, -1, -1))


_BITCAST = {types.int32: types.float32, types.float32: types.int32, types.int64: types.float64, types.float64: types.int64}


@intrinsic
def _bitcast(typingctx, value):
    """Reinterpret the bits of an int32/float32 (int64/float64) as the float32/int32 (float64/int64)."""
    target = _BITCAST.get(value)
    if target is None:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(target))

    return target(value), codegen


def exp_approx(t):  # pragma: no cover - replaced by the overload inside jitted code
    """``exp(t)`` of a float32 or float64 scalar, in its own dtype, with vectorisable arithmetic only.

    ``t`` is clamped to ``[(emin - 0.5)·ln 2, MAX_ARG]`` first: below, the result is exactly 0;
    above, it is ``exp(MAX_ARG)`` (callers that can overflow test ``t`` themselves). Not for NaN.
    Only callable from Numba-compiled code.
    """
    raise NotImplementedError("exp_approx is only available inside @njit functions")


def exp_shifted(src, shift, dst):  # pragma: no cover - replaced by the overload inside jitted code
    """``dst[j] = exp(src[j] - shift)`` for a 1-D row with ``src <= shift``; returns ``Σ dst`` in float64.

    Only callable from Numba-compiled code.
    """
    raise NotImplementedError("exp_shifted is only available inside @njit functions")


def row_max(src):  # pragma: no cover - replaced by the overload inside jitted code
    """The maximum of a 1-D row, NaN if the row holds a NaN. Only callable from Numba-compiled code."""
    raise NotImplementedError("row_max is only available inside @njit functions")


def like(src, value):  # pragma: no cover - replaced by the overload inside jitted code
    """``value`` converted to the dtype of the array ``src``. Only callable from Numba-compiled code."""
    raise NotImplementedError("like is only available inside @njit functions")


def max_exp_arg(src):  # pragma: no cover - replaced by the overload inside jitted code
    """The largest argument :func:`exp_approx` takes in the dtype of the array ``src``."""
    raise NotImplementedError("max_exp_arg is only available inside @njit functions")


@overload(max_exp_arg)
def _max_exp_arg_impl(src):
    if src.dtype == types.float32:
        return lambda src: np.float32(MAX_ARG_32)
    return lambda src: np.float64(MAX_ARG_64)


@overload(like)
def _like_impl(src, value):
    if src.dtype == types.float32:
        return lambda src, value: np.float32(value)
    return lambda src, value: np.float64(value)


@overload(row_max, jit_options={"fastmath": FASTMATH})
def _row_max_impl(src):
    # A NaN of the row's own dtype: a float64 NaN would promote the maximum (and everything
    # computed from it) to float64 and halve the vector width of float32 rows.
    nan_value = np.float32(np.nan) if src.dtype == types.float32 else np.float64(np.nan)

    def impl(src):
        # Sixteen running maxima, one per lane: each lane's compare-and-select is independent of
        # the others, so the loop vectorises without reassociating anything (a single running
        # maximum is a serial chain that LLVM may not reorder while NaNs are possible).
        n = src.shape[0]
        lanes = np.empty(_LANES, src.dtype)
        for lane in range(_LANES):
            lanes[lane] = src[0]
        nan = False
        full = n - n % _LANES
        for j in range(0, full, _LANES):
            for lane in range(_LANES):
                v = src[j + lane]
                a = lanes[lane]
                lanes[lane] = v if v > a else a
                nan |= v != v
        m = lanes[0]
        for lane in range(_LANES):
            m = lanes[lane] if lanes[lane] > m else m
        for j in range(full, n):
            v = src[j]
            m = v if v > m else m
            nan |= v != v
        return nan_value if nan else m

    return impl


@overload(exp_approx, inline="always", jit_options={"fastmath": FASTMATH})
def _exp_approx_impl(t):
    if t == types.float32:

        def impl32(t):
            t = min(max(t, np.float32(_MIN_ARG_32)), np.float32(MAX_ARG_32))
            k = np.int32(_bitcast(t * np.float32(_LOG2E) + np.float32(_ROUND_32)) - np.int32(_ROUND_BITS_32))
            kf = np.float32(k)
            r = (t - kf * np.float32(_LN2_HI_32)) - kf * np.float32(_LN2_LO_32)
            p = np.float32(1 / 5040)
            p = p * r + np.float32(1 / 720)
            p = p * r + np.float32(1 / 120)
            p = p * r + np.float32(1 / 24)
            p = p * r + np.float32(1 / 6)
            p = p * r + np.float32(0.5)
            p = p * r + np.float32(1.0)
            p = p * r + np.float32(1.0)
            # Numba widens int32 arithmetic to int64: narrow back so the bit pattern is a float32's.
            return p * _bitcast(np.int32((k + np.int32(127)) << np.int32(23)))

        return impl32
    if t == types.float64:

        def impl64(t):
            t = min(max(t, _MIN_ARG_64), MAX_ARG_64)
            k = _bitcast(t * _LOG2E + _ROUND_64) - np.int64(_ROUND_BITS_64)
            kf = np.float64(k)
            r = (t - kf * _LN2_HI_64) - kf * _LN2_LO_64
            p = 1 / 479001600
            for c in _TAYLOR_64:
                p = p * r + c
            return p * _bitcast((k + np.int64(1023)) << np.int64(52))

        return impl64
    return None


@overload(exp_shifted, jit_options={"fastmath": FASTMATH})
def _exp_shifted_impl(src, shift, dst):
    if dst.dtype == types.float32:

        def impl32(src, shift, dst):
            total = 0.0
            for j in range(src.shape[0]):
                v = exp_approx(np.float32(src[j] - shift))
                dst[j] = v
                total += v
            return total

        return impl32

    def impl64(src, shift, dst):
        total = 0.0
        for j in range(src.shape[0]):
            v = exp_approx(np.float64(src[j] - shift))
            dst[j] = v
            total += v
        return total

    return impl64


@njit(cache=True)
def _self_check(x: np.ndarray) -> np.ndarray:
    """``exp(x - x.max())`` through :func:`exp_shifted` (used by the tests)."""
    out = np.empty_like(x)
    exp_shifted(x, row_max(x), out)
    return out
