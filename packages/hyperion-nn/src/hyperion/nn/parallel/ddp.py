"""``DistributedDataParallel``: the same model on every rank, gradients averaged by all-reduce.

Data parallelism keeps one full copy of the model per process (rank). Each rank
runs forward and backward on its own shard of the batch; averaging the
gradients over the ranks then gives every rank the gradient of the *whole*
batch, so identical optimizers take identical steps and the copies never drift
apart. Three things make that true, and this wrapper does all three:

1. **Same start**: at construction the parameters and buffers of rank 0 are
   broadcast to every rank (after checking, with one ``allgather``, that all
   ranks built the same parameter names, shapes and dtypes).
2. **Same gradient**: :meth:`DistributedDataParallel.sync_gradients`, called
   after ``backward`` and before the optimizer step, sums the gradients over
   the ranks with ``MPI_Allreduce`` and divides by the number of ranks. The
   gradients travel in flat *buckets* (see :mod:`hyperion.nn.parallel.buckets`)
   so that one collective moves many tensors; the buckets' non-blocking
   all-reduces are all started before the first is waited for. (The autograd
   engine hands leaves their gradients at the end of backward, so unlike
   PyTorch's DDP there is no backward computation left to overlap them with.)
3. **Same step**: the optimizer is deterministic, so equal parameters and equal
   gradients give equal updates — bitwise.

Gradient accumulation over micro-batches: inside :meth:`no_sync`, backward
accumulates into ``.grad`` locally and ``sync_gradients`` does nothing; the
first call outside it reduces the accumulated sum once.

Examples:
    A single process (no ``mpiexec``) is a world of one rank; the loop is the one
    a job of many ranks runs:

    >>> import numpy as np
    >>> import hyperion.autograd as ag
    >>> from hyperion.nn.layers.linear import Linear
    >>> from hyperion.nn.optim import SGD
    >>> model = DistributedDataParallel(Linear(3, 1, seed=0))
    >>> opt = SGD(model.parameters(), lr=0.1)
    >>> x = ag.tensor(np.ones((4, 3), dtype=np.float32))
    >>> opt.zero_grad()
    >>> model(x).sum().backward()
    >>> model.sync_gradients()
    True
    >>> opt.step()
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np

from hyperion.nn.module import Module
from hyperion.nn.parallel.buckets import Bucket, plan_buckets
from hyperion.nn.parallel.collectives import allgather_json, broadcast_array
from hyperion.nn.parallel.runtime import get_comm
from hyperion.tensor.errors import DeviceError, HyperionError

__all__ = ["DEFAULT_BUCKET_CAP_MB", "DistributedDataParallel", "ParameterMismatchError"]

#: Default bucket size in MiB (PyTorch's default is 25 as well).
DEFAULT_BUCKET_CAP_MB = 25.0


class ParameterMismatchError(HyperionError, ValueError):
    """The ranks built models whose parameters differ in names, shapes or dtypes."""


def _signature(module: Module) -> list[list[Any]]:
    """What must be equal on every rank: each parameter's name, shape, dtype and trainability."""
    return [[n, list(p.shape), str(np.dtype(p.dtype)), bool(p.requires_grad)] for n, p in module.named_parameters()]


def _describe_difference(reference: list[Any], other: list[Any], other_rank: int) -> str:
    for position, (a, b) in enumerate(zip(reference, other, strict=False)):
        if a != b:
            return (
                f"parameter #{position}: rank 0 has {a[0]!r} shape {tuple(a[1])} dtype {a[2]} requires_grad={a[3]}, "
                f"rank {other_rank} has {b[0]!r} shape {tuple(b[1])} dtype {b[2]} requires_grad={b[3]}"
            )
    return f"rank 0 has {len(reference)} parameters, rank {other_rank} has {len(other)}"


class DistributedDataParallel(Module):
    """Wrap ``module`` for data-parallel training over MPI ranks.

    Calling the wrapper calls ``module``. The training loop adds one line:
    ``model.sync_gradients()`` between ``loss.backward()`` and clipping / the
    optimizer step. Save checkpoints from ``model.module`` on rank 0 only. Cast or
    move the model *before* wrapping it: the buckets keep the parameters they found.

    Args:
        module: the model, built identically (same architecture) on every rank.
        comm: an mpi4py communicator (``MPI.COMM_WORLD`` by default).
        bucket_cap_mb: target size of one gradient bucket, in MiB.
        broadcast_buffers: also copy rank 0's buffers (e.g. BatchNorm running
            statistics) at construction.

    Raises:
        MPIUnavailableError: if mpi4py cannot be imported.
        ParameterMismatchError: (on every rank) if the ranks' parameters differ in
            names, shapes, dtypes or ``requires_grad``.
        DeviceError: if a parameter is not on the CPU (MPI moves host memory here).
        ValueError: for a non-positive ``bucket_cap_mb``.
    """

    def __init__(
        self,
        module: Module,
        *,
        comm: Any = None,
        bucket_cap_mb: float = DEFAULT_BUCKET_CAP_MB,
        broadcast_buffers: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps a hyperion.nn.Module, got {type(module).__name__}")
        if not (isinstance(bucket_cap_mb, (int, float)) and np.isfinite(bucket_cap_mb) and bucket_cap_mb > 0):
            raise ValueError(f"bucket_cap_mb must be a positive number, got {bucket_cap_mb!r}")
        for name, param in module.named_parameters():
            if param.device != "cpu":
                raise DeviceError(f"parameter {name!r} is on {param.device}; DistributedDataParallel reduces CPU arrays")
        self.module = module
        object.__setattr__(self, "comm", get_comm() if comm is None else comm)
        self.world_size = int(self.comm.Get_size())
        self.rank = int(self.comm.Get_rank())
        self.bucket_cap_bytes = max(1, int(bucket_cap_mb * (1 << 20)))
        self._sync_enabled = True
        self.sync_count = 0
        self._check_same_parameters()
        trainable = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self.buckets: list[Bucket] = plan_buckets(trainable, self.bucket_cap_bytes)
        self._broadcast_state(broadcast_buffers)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Run the wrapped module."""
        return self.module(*args, **kwargs)

    # -- construction -----------------------------------------------------------------------------

    def _check_same_parameters(self) -> None:
        signatures = allgather_json(self.comm, _signature(self.module))
        reference = signatures[0]
        for other_rank, other in enumerate(signatures[1:], start=1):
            if other != reference:
                raise ParameterMismatchError(
                    f"the {self.world_size} ranks built different models: "
                    f"{_describe_difference(reference, other, other_rank)}"
                )

    def _broadcast_state(self, broadcast_buffers: bool) -> None:
        if self.world_size == 1:
            return
        everything = plan_buckets(list(self.module.named_parameters()), self.bucket_cap_bytes)
        for bucket in everything:
            if self.rank == 0:
                bucket.pack_params()
            self.comm.Bcast(bucket.buffer, root=0)
            if self.rank != 0:
                bucket.unpack_params()
        if broadcast_buffers:
            named = [(name, buffer.numpy()) for name, buffer in self.module.named_buffers() if buffer is not None]
            layouts = allgather_json(self.comm, [[name, list(a.shape), str(a.dtype)] for name, a in named])
            for other_rank, layout in enumerate(layouts[1:], start=1):
                if layout != layouts[0]:
                    raise ParameterMismatchError(
                        f"the ranks' buffers differ: rank 0 has {layouts[0]}, rank {other_rank} has {layout}"
                    )
            for _, array in named:
                flat = np.ascontiguousarray(array)
                broadcast_array(self.comm, flat, root=0)
                array[...] = flat

    # -- training -----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Accumulate gradients locally: :meth:`sync_gradients` does nothing inside this block.

        Example (4 micro-batches, one all-reduce)::

            optimizer.zero_grad()
            with model.no_sync():
                for x, y in micro_batches[:-1]:
                    (loss_fn(model(x), y) / 4).backward()
            x, y = micro_batches[-1]
            (loss_fn(model(x), y) / 4).backward()
            model.sync_gradients()
            optimizer.step()
        """
        previous = self._sync_enabled
        self._sync_enabled = False
        try:
            yield
        finally:
            self._sync_enabled = previous

    def sync_gradients(self) -> bool:
        """Replace every gradient by its mean over the ranks (bucketed, non-blocking all-reduces).

        Call it on every rank after ``backward`` and before clipping and the optimizer
        step. A parameter with no gradient on some rank counts as a zero gradient there,
        and every trainable parameter has a gradient afterwards.

        Returns:
            ``True`` if gradients were reduced, ``False`` inside :meth:`no_sync`.
        """
        if not self._sync_enabled:
            return False
        if self.world_size == 1:
            self.sync_count += 1
            return True
        from mpi4py import MPI

        requests = []
        for bucket in self.buckets:
            requests.append(self.comm.Iallreduce(MPI.IN_PLACE, bucket.pack_grads(), op=MPI.SUM))
        for bucket, request in zip(self.buckets, requests, strict=True):
            request.Wait()
            bucket.unpack_grads(self.world_size)
        self.sync_count += 1
        return True

    def extra_repr(self) -> str:
        sizes = ", ".join(f"{b.nbytes / (1 << 20):.2f}" for b in self.buckets)
        return f"world_size={self.world_size}, rank={self.rank}, buckets=[{sizes}] MiB"
