"""The registered reference of an op, for inputs a kernel does not treat as the reference does.

The attention kernels keep a running maximum and clamp their exponentials, so a NaN score
becomes a weight of 0 where the composed softmax of hyperion-nn propagates it. Rather than
slowing every call down with NaN bookkeeping, the registered attention entries check their
inputs once (O(N·d), next to the O(N²·d) of the attention) and hand non-finite ones to the
reference implementation registered for the op.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hyperion.tensor import registry
from hyperion.tensor.registry import KernelNotFoundError

__all__ = ["registered_reference"]


def registered_reference(op: str, device: str) -> Callable[..., Any] | None:
    """The reference implementation registered for ``op`` on ``device``, or ``None`` if there is none.

    ``None`` means hyperion-nn (which registers the references) has not been imported; the
    caller then runs its kernel anyway.
    """
    try:
        with registry.use_kernels("reference"):
            return registry.lookup(op, device)
    except KernelNotFoundError:
        return None
