"""``repr`` in PyTorch's style: values (abbreviated when large), then dtype and device."""

from __future__ import annotations

import numpy as np

_THRESHOLD = 1000
_EDGE = 3


def format_tensor(values: np.ndarray, dtype: np.dtype, device: str) -> str:
    """Format ``tensor([...], dtype=..., device=...)``; large tensors show their corners and shape.

    Example:
        >>> format_tensor(np.array([1.0, 2.5], np.float32), np.dtype("float32"), "cpu")
        'tensor([1. , 2.5], dtype=float32)'
    """
    prefix = "tensor("
    body = np.array2string(
        values, separator=", ", prefix=prefix, threshold=_THRESHOLD, edgeitems=_EDGE, floatmode="maxprec", precision=4
    )
    extras = [f"dtype={dtype.name}"]
    if device != "cpu":
        extras.append(f"device='{device}'")
    if values.size > _THRESHOLD or values.size == 0:
        extras.insert(0, f"shape={values.shape}")
    return f"{prefix}{body}, {', '.join(extras)})"
