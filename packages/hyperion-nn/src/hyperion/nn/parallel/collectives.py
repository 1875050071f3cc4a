"""Small collectives on plain buffers: no pickled Python objects cross the wire.

mpi4py's lower-case methods (``comm.bcast(obj)``) pickle arbitrary objects; these
helpers move only NumPy buffers and JSON text, so a rank never unpickles what
another sent.

Examples:
    >>> from hyperion.nn.parallel.runtime import get_comm
    >>> allgather_json(get_comm(), {"rank": 0})  # one process: a world of one
    [{'rank': 0}]
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

__all__ = ["allgather_json", "average_scalar", "broadcast_array", "broadcast_int", "ring_allreduce"]


def allgather_json(comm: Any, value: Any) -> list[Any]:
    """Every rank's ``value`` (anything ``json`` can write), in rank order, on every rank."""
    payload = np.frombuffer(json.dumps(value, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    lengths = np.zeros(comm.Get_size(), dtype=np.int64)
    comm.Allgather(np.array([payload.size], dtype=np.int64), lengths)
    received = np.empty(int(lengths.sum()), dtype=np.uint8)
    comm.Allgatherv(payload, (received, lengths.tolist()))
    values, start = [], 0
    for length in lengths.tolist():
        values.append(json.loads(received[start : start + length].tobytes().decode("utf-8")))
        start += length
    return values


def broadcast_int(comm: Any, value: int, root: int = 0) -> int:
    """The root's integer (a signed 64-bit value), on every rank."""
    buffer = np.array([value if comm.Get_rank() == root else 0], dtype=np.int64)
    comm.Bcast(buffer, root=root)
    return int(buffer[0])


def broadcast_array(comm: Any, array: np.ndarray, root: int = 0) -> None:
    """Overwrite ``array`` (C-contiguous, same shape and dtype on every rank) with the root's, in place.

    Raises:
        ValueError: if ``array`` is not C-contiguous (MPI needs one flat buffer).
    """
    if not array.flags.c_contiguous:
        raise ValueError(f"broadcast_array needs a C-contiguous array, got strides {array.strides}")
    comm.Bcast(array, root=root)


def average_scalar(comm: Any, value: float) -> float:
    """The mean of ``value`` over the ranks (e.g. a loss to log), on every rank."""
    buffer = np.array([value], dtype=np.float64)
    result = np.empty_like(buffer)
    comm.Allreduce(buffer, result)
    return float(result[0]) / comm.Get_size()


def ring_allreduce(comm: Any, buffer: np.ndarray, scratch: np.ndarray | None = None) -> np.ndarray:
    """Sum ``buffer`` over the ranks in place with the ring algorithm (reduce-scatter, then all-gather).

    The buffer is cut into ``P`` chunks. In ``P − 1`` steps of the reduce-scatter each
    rank sends one chunk to its right neighbour and adds the chunk arriving from its
    left one, so that each chunk ends fully summed on one rank; ``P − 1`` steps of the
    all-gather then pass the summed chunks around the ring. Each rank sends (and
    receives) ``2(P − 1)/P`` times the buffer — independent of ``P`` for large ``P``,
    which is why the ring is bandwidth-optimal. Every element is summed on exactly one
    rank and copied to the others, so all ranks end with bitwise-identical results.

    This is the textbook algorithm, written out with ``Sendrecv`` to be read and
    measured; :class:`~hyperion.nn.parallel.DistributedDataParallel` calls the MPI
    library's ``Iallreduce``, which picks its own algorithm per message size.

    Args:
        comm: an mpi4py communicator.
        buffer: a C-contiguous 1-D array, the same size and dtype on every rank.
        scratch: receive space of at least ``ceil(size / P)`` elements (allocated if ``None``).

    Returns:
        ``buffer``, now holding the sum.

    Raises:
        ValueError: for a buffer that is not 1-D and C-contiguous, or a scratch array too small.
    """
    if buffer.ndim != 1 or not buffer.flags.c_contiguous:
        raise ValueError(f"ring_allreduce needs a C-contiguous 1-D buffer, got shape {buffer.shape}")
    size, me = comm.Get_size(), comm.Get_rank()
    if size == 1:
        return buffer
    bounds = [buffer.size * k // size for k in range(size + 1)]
    longest = max(b - a for a, b in zip(bounds, bounds[1:], strict=False))
    if scratch is None:
        scratch = np.empty(longest, dtype=buffer.dtype)
    elif scratch.size < longest or scratch.dtype != buffer.dtype:
        raise ValueError(f"scratch needs {longest} elements of {buffer.dtype}, got {scratch.size} of {scratch.dtype}")
    right, left = (me + 1) % size, (me - 1) % size

    def chunk(k: int) -> np.ndarray:
        k %= size
        return buffer[bounds[k] : bounds[k + 1]]

    for step in range(size - 1):  # reduce-scatter: afterwards rank r owns the sum of chunk r + 1
        outgoing, incoming = chunk(me - step), chunk(me - step - 1)
        received = scratch[: incoming.size]
        comm.Sendrecv(outgoing, dest=right, recvbuf=received, source=left)
        incoming += received
    for step in range(size - 1):  # all-gather: pass the summed chunks around
        comm.Sendrecv(chunk(me - step + 1), dest=right, recvbuf=chunk(me - step), source=left)
    return buffer
