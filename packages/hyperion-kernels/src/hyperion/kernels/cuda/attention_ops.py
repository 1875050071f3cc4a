"""The attention entries of the ``cuda`` provider's table (forward and backward)."""

from __future__ import annotations

from hyperion.kernels.cuda.attention import attention_forward
from hyperion.kernels.cuda.attention_backward import attention_backward

KERNELS = {
    ("nn.attention_forward", "cuda"): attention_forward,
    ("nn.attention_backward", "cuda"): attention_backward,
}
