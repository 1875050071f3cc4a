"""Gradient buckets: many parameters' gradients packed into one flat buffer per collective.

An all-reduce costs a fixed latency ``α`` plus ``bytes/β``. Reducing each of a
model's tensors on its own pays ``α`` once per tensor — hundreds of times for a
transformer — while one huge buffer would have to wait for every gradient. A
bucket is the middle way: parameters (all of one dtype) are grouped, in reverse
registration order (roughly the order backward produces their gradients), until
the group reaches ``cap_bytes``; each group is reduced as one contiguous buffer.

Examples:
    >>> import numpy as np
    >>> from hyperion.nn.layers.linear import Linear
    >>> layer = Linear(4, 3, seed=0)
    >>> [b.names for b in plan_buckets(list(layer.named_parameters()), cap_bytes=1 << 20)]
    [['bias', 'weight']]
    >>> [b.names for b in plan_buckets(list(layer.named_parameters()), cap_bytes=8)]
    [['bias'], ['weight']]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

import hyperion.autograd as ag
from hyperion.nn.module import Parameter

__all__ = ["Bucket", "plan_buckets"]


@dataclass
class Bucket:
    """Parameters of one dtype whose gradients travel together in one flat buffer.

    Attributes:
        names: the parameters' qualified names, in buffer order.
        params: the parameters, in buffer order.
        offsets: where each parameter's elements start in :attr:`buffer`.
        buffer: the flat send/receive buffer (allocated once, reused every step).
    """

    names: list[str] = field(default_factory=list)
    params: list[Parameter] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    buffer: np.ndarray = field(default_factory=lambda: np.empty(0))

    @property
    def nbytes(self) -> int:
        """Size of the flat buffer in bytes."""
        return int(self.buffer.nbytes)

    def pack_grads(self) -> np.ndarray:
        """Copy every gradient into the buffer (zeros for a parameter without one); return the buffer."""
        buffer = self.buffer
        for param, start in zip(self.params, self.offsets, strict=True):
            stop = start + param.numel()
            grad = param.grad
            if grad is None:
                buffer[start:stop] = 0
            else:
                buffer[start:stop] = grad.numpy().reshape(-1)
        return buffer

    def unpack_grads(self, divisor: int) -> None:
        """Write the buffer divided by ``divisor`` back into the gradients (creating missing ones)."""
        buffer = self.buffer
        if divisor != 1:
            buffer /= buffer.dtype.type(divisor)
        for param, start in zip(self.params, self.offsets, strict=True):
            piece = buffer[start : start + param.numel()].reshape(param.shape)
            grad = param.grad
            if grad is None or not grad.data.is_contiguous():
                param.grad = ag.tensor(piece.copy())
            else:
                grad.numpy()[...] = piece

    def pack_params(self) -> np.ndarray:
        """Copy every parameter's values into the buffer; return it."""
        for param, start in zip(self.params, self.offsets, strict=True):
            self.buffer[start : start + param.numel()] = param.detach().numpy().reshape(-1)
        return self.buffer

    def unpack_params(self) -> None:
        """Overwrite every parameter's values with its slice of the buffer."""
        for param, start in zip(self.params, self.offsets, strict=True):
            target = param.detach().numpy()
            target[...] = self.buffer[start : start + param.numel()].reshape(param.shape)
            counter = param._vc  # an in-place write: a graph that saved the old value must refuse to run
            if counter is not None:
                counter.value += 1


def plan_buckets(named_params: Sequence[tuple[str, Parameter]], cap_bytes: int) -> list[Bucket]:
    """Group parameters into buckets of one dtype and at most ``cap_bytes`` (a larger tensor gets its own).

    Args:
        named_params: ``(name, parameter)`` pairs in registration order.
        cap_bytes: the target bucket size in bytes (``>= 1``).

    Returns:
        The buckets, in the order their gradients are expected (reverse registration order).

    Raises:
        ValueError: if ``cap_bytes`` is not a positive integer.
    """
    if isinstance(cap_bytes, bool) or not isinstance(cap_bytes, (int, np.integer)) or cap_bytes < 1:
        raise ValueError(f"bucket cap must be a positive number of bytes, got {cap_bytes!r}")
    open_buckets: dict[np.dtype, tuple[Bucket, int]] = {}
    done: list[Bucket] = []
    for name, param in reversed(named_params):
        dtype = np.dtype(param.dtype)
        size = param.numel() * dtype.itemsize
        bucket, used = open_buckets.get(dtype, (None, 0))
        if bucket is not None and used + size > cap_bytes:
            done.append(bucket)
            bucket, used = None, 0
        if bucket is None:
            bucket = Bucket()
        bucket.names.append(name)
        bucket.params.append(param)
        bucket.offsets.append(used // dtype.itemsize)
        open_buckets[dtype] = (bucket, used + size)
    done.extend(bucket for bucket, _ in open_buckets.values())
    for bucket in done:
        dtype = np.dtype(bucket.params[0].dtype)
        total = bucket.offsets[-1] + bucket.params[-1].numel()
        bucket.buffer = np.zeros(total, dtype=dtype)
    return done
