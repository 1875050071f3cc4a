"""Validation of the solver against analytic results; each function returns its numbers."""

from hyperion.physics.validation.cavity import cavity_modes
from hyperion.physics.validation.dispersion import anisotropy_3d, magic_step_error, phase_velocity_error
from hyperion.physics.validation.fresnel import fresnel
from hyperion.physics.validation.gradient import gradient_check, peak_memory
from hyperion.physics.validation.pml import pml_reflection_db
from hyperion.physics.validation.stability import energy_drift, instability_growth, refuses_above_limit

__all__ = [
    "anisotropy_3d",
    "cavity_modes",
    "energy_drift",
    "fresnel",
    "gradient_check",
    "instability_growth",
    "magic_step_error",
    "peak_memory",
    "phase_velocity_error",
    "pml_reflection_db",
    "refuses_above_limit",
]
