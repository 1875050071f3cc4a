"""Fit the complementary error function table of ``hyperion.nn.functional.activation``.

For ``z >= 0`` write ``erfc(z) = t·exp(P(u) - z²)`` with ``t = 1/(1 + z/2)`` (the form of
Numerical Recipes' ``erfcc``, whose ten coefficients give 1.2e-7) and ``u`` the linear map of
``t`` onto ``[-1, 1]`` over ``z ∈ [0, Z_MAX]``. ``P`` is fitted by least squares at Chebyshev
nodes as a Chebyshev series (well conditioned), then written out as an ordinary polynomial in
``u`` for Horner's rule (two in-place array passes per degree in NumPy; its coefficients stay
below 0.63, so nothing cancels).

The fitted function is ``log(erfcx(z)/t)``, ``erfcx(z) = e^{z²}·erfc(z)``, computed without
forming ``z²`` next to ``log(erfc(z)) ≈ -z²``, whose rounding (1e-13 at ``z = 26``) would be
noise in the data: below ``z = 3`` from Python's ``math.erfc`` and ``math.exp``, beyond from
the continued fraction ``√π·erfcx(z) = 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …))))``, which
converges fast there. ``Z_MAX = 26`` is where ``erfc`` leaves the normal float64 range
(``erfc(26) ≈ 5.7e-296``). Degree 22 gives a relative error of ``erfcx`` near 2e-15.

Run it to print the table and its measured error::

    python scripts/fit_erfc.py
"""

from __future__ import annotations

import math

import numpy as np
from numpy.polynomial import chebyshev

Z_MAX = 26.0
DEGREE = 22
NODES = 2000
T_MIN = 1.0 / (1.0 + Z_MAX / 2.0)


def erfcx(z: float) -> float:
    """``e^{z²}·erfc(z)`` for ``z >= 0``, to float64 accuracy."""
    if z < 3.0:
        return math.erfc(z) * math.exp(z * z)
    k = z
    for n in range(200, 0, -1):
        k = z + (n / 2.0) / k
    return 1.0 / (math.sqrt(math.pi) * k)


def u_of_t(t: np.ndarray) -> np.ndarray:
    """``t ∈ [T_MIN, 1]`` mapped onto ``u ∈ [-1, 1]``."""
    return t * (2.0 / (1.0 - T_MIN)) - (1.0 + T_MIN) / (1.0 - T_MIN)


def fit() -> tuple[float, ...]:
    """The coefficients of ``P`` as a polynomial in ``u``, lowest order first."""
    u = np.cos(np.pi * (np.arange(NODES) + 0.5) / NODES)
    t = T_MIN + (1.0 - T_MIN) * (u + 1.0) / 2.0
    z = 2.0 * (1.0 / t - 1.0)
    target = np.array([math.log(erfcx(zi) / ti) for zi, ti in zip(z, t, strict=True)])
    return tuple(float(c) for c in chebyshev.cheb2poly(chebyshev.chebfit(u, target, DEGREE)))


def horner(coefficients: tuple[float, ...], u: np.ndarray) -> np.ndarray:
    """``P(u)`` by Horner's rule, as the library evaluates it."""
    p = np.full_like(u, coefficients[-1])
    for c in coefficients[-2::-1]:
        p = p * u + c
    return p


def main() -> None:
    coefficients = fit()
    z = np.linspace(0.0, Z_MAX, 100_001)
    t = 1.0 / (1.0 + z / 2.0)
    approx = t * np.exp(horner(coefficients, u_of_t(t)))
    exact = np.array([erfcx(zi) for zi in z])
    print(f"Z_MAX = {Z_MAX}, degree {DEGREE}: max relative error of erfcx {np.max(np.abs(approx / exact - 1.0)):.2e}")
    print("_ERFC_POLYNOMIAL = (")
    for c in coefficients:
        print(f"    {c!r},")
    print(")")


if __name__ == "__main__":
    main()
