"""The attention entries of the ``cuda`` provider's table (forward and backward).

Like the CPU provider's pair, the registered entries send inputs holding a NaN or an infinity
to the reference implementation registered for the op (see :mod:`hyperion.kernels.fallback`):
the kernels' online softmax would turn a NaN score into a weight of 0. The check is one
``isfinite(...).all()`` reduction per input on the device, O(N·d).
"""

from __future__ import annotations

from typing import Any

from hyperion.kernels.cuda import attention, attention_backward
from hyperion.kernels.cuda.device import array_module
from hyperion.kernels.fallback import registered_reference

__all__ = ["KERNELS", "attention_backward_checked", "attention_forward_checked"]


def _finite(*arrays: Any) -> bool:
    xp = array_module(*arrays)
    return all(bool(xp.isfinite(a).all()) for a in arrays)


def attention_forward_checked(q: Any, k: Any, v: Any, mask: Any | None, is_causal: bool, scale: float) -> tuple[Any, Any]:
    """The registered ``nn.attention_forward``: the flash kernel, or the reference for non-finite inputs."""
    if not _finite(q, k, v) and (reference := registered_reference("nn.attention_forward", "cuda")) is not None:
        return reference(q, k, v, mask, is_causal, scale)
    return attention.attention_forward(q, k, v, mask, is_causal, scale)


def attention_backward_checked(
    q: Any, k: Any, v: Any, mask: Any | None, is_causal: bool, scale: float, o: Any, lse: Any, go: Any
) -> tuple[Any, Any, Any]:
    """The registered ``nn.attention_backward``: the flash kernels, or the reference as in the forward."""
    if not _finite(q, k, v, go) and (reference := registered_reference("nn.attention_backward", "cuda")) is not None:
        return reference(q, k, v, mask, is_causal, scale, o, lse, go)
    return attention_backward.attention_backward(q, k, v, mask, is_causal, scale, o, lse, go)


KERNELS = {
    ("nn.attention_forward", "cuda"): attention_forward_checked,
    ("nn.attention_backward", "cuda"): attention_backward_checked,
}
