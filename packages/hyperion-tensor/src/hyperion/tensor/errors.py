"""Exception types raised by Hyperion.

Each class also derives from the built-in exception a Python user would catch
(``ValueError``, ``TypeError``, ``IndexError``, ``RuntimeError``), so existing
``except`` clauses keep working. Messages always name the offending values.
"""

from __future__ import annotations


class HyperionError(Exception):
    """Base class of every error Hyperion raises on purpose."""


class ShapeError(HyperionError, ValueError):
    """Shapes that cannot work together: broadcasting, reshape, matmul, views."""


class DTypeError(HyperionError, TypeError):
    """A dtype that is not supported, or not allowed for this operation."""


class DeviceError(HyperionError, RuntimeError):
    """Tensors on different devices, or a device that is not available."""


class TensorIndexError(HyperionError, IndexError):
    """An index outside a dimension, or an index of the wrong kind."""
