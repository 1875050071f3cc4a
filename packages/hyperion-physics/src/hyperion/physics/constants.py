"""Physical constants (SI) used by the solver.

Fields are stored as ``E`` (V/m) and ``η₀·H`` (also V/m), so both have the same
scale and the update coefficients are plain Courant numbers over ε_r and μ_r.
"""

C0: float = 299_792_458.0
"""Speed of light in vacuum (m/s)."""
MU0: float = 1.25663706212e-6
"""Vacuum permeability (H/m)."""
EPS0: float = 1.0 / (MU0 * C0 * C0)
"""Vacuum permittivity (F/m)."""
ETA0: float = MU0 * C0
"""Impedance of free space (Ω)."""
