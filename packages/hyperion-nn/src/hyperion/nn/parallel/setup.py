"""One call that makes a training loop data-parallel: the hook the command-line trainers use.

:func:`setup_data_parallel` decides whether this process is part of a multi-rank
MPI job (``--ddp`` on the command line, or a launch by ``mpiexec`` detected from
the environment), wraps the model, makes an uncaught exception on any rank abort
the whole job, and returns a :class:`DataParallelRun` that the loop consults for
the few things that change under data parallelism::

    run = setup_data_parallel(model, enabled=args.ddp or None)
    for step in range(steps):
        x, y = run.shard(x_global), run.shard(y_global)   # or a DistributedDataLoader
        loss = loss_fn(run.model(x), y)
        optimizer.zero_grad()
        loss.backward()
        run.sync_gradients()                               # before clipping / the step
        optimizer.step()
        if run.is_main:
            log(step, run.average(loss.item()))            # average: a collective, call on every rank
    if run.is_main:
        save(run.module)

With one rank every method is a cheap no-op, so the same loop serves both cases.

Examples:
    >>> from hyperion.nn.layers.linear import Linear
    >>> run = setup_data_parallel(Linear(2, 2, seed=0))
    >>> run.world_size, run.is_main, run.model is run.module
    (1, True, True)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from hyperion.nn.module import Module
from hyperion.nn.parallel.collectives import average_scalar
from hyperion.nn.parallel.ddp import DEFAULT_BUCKET_CAP_MB, DistributedDataParallel
from hyperion.nn.parallel.runtime import abort_on_exception, get_comm, launch_world_size
from hyperion.nn.parallel.sampler import shard_batch

__all__ = ["DataParallelRun", "setup_data_parallel"]


@dataclass
class DataParallelRun:
    """What a training loop needs to know about the data-parallel job it is part of.

    Attributes:
        model: what to call in the loop (the :class:`DistributedDataParallel` wrapper,
            or the bare model with one rank).
        module: the bare model (to evaluate, inspect and save).
        world_size: number of ranks.
        rank: this process's rank.
        comm: the communicator (``None`` with one rank and no MPI).
    """

    model: Module
    module: Module
    world_size: int = 1
    rank: int = 0
    comm: Any = None

    @property
    def is_main(self) -> bool:
        """Whether this rank prints progress and writes files (rank 0)."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """Whether gradients are averaged over more than one rank."""
        return isinstance(self.model, DistributedDataParallel)

    def sync_gradients(self) -> bool:
        """Average the gradients over the ranks (call after backward, before clipping and the step)."""
        if isinstance(self.model, DistributedDataParallel):
            return self.model.sync_gradients()
        return True

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Accumulate micro-batch gradients locally (see :meth:`DistributedDataParallel.no_sync`)."""
        if isinstance(self.model, DistributedDataParallel):
            with self.model.no_sync():
                yield
        else:
            yield

    def shard(self, batch: Any) -> Any:
        """This rank's rows of a global batch drawn identically on every rank."""
        if self.world_size == 1:
            return batch
        return shard_batch(batch, num_replicas=self.world_size, rank=self.rank)

    def average(self, value: float) -> float:
        """The mean of ``value`` over the ranks — a collective: every rank must call it."""
        if self.comm is None or self.world_size == 1:
            return float(value)
        return average_scalar(self.comm, value)

    def barrier(self) -> None:
        """Wait until every rank gets here."""
        if self.comm is not None and self.world_size > 1:
            self.comm.Barrier()


def setup_data_parallel(
    model: Module,
    *,
    enabled: bool | None = None,
    bucket_cap_mb: float = DEFAULT_BUCKET_CAP_MB,
    comm: Any = None,
) -> DataParallelRun:
    """Join the MPI job (if any) and wrap ``model`` for data-parallel training.

    Args:
        model: the model, built with the same architecture on every rank (rank 0's
            initial values are broadcast to the others).
        enabled: ``True`` (``--ddp``): use MPI, failing clearly if it is missing;
            ``False``: a single process even under ``mpiexec``; ``None``: use MPI
            when the process was launched by ``mpiexec`` with more than one rank.
        bucket_cap_mb: gradient bucket size, in MiB.
        comm: an mpi4py communicator (``MPI.COMM_WORLD`` by default).

    Returns:
        The :class:`DataParallelRun` for the loop.

    Raises:
        MPIUnavailableError: if MPI is wanted but mpi4py cannot be imported.
        ParameterMismatchError: if the ranks built different models.
    """
    if enabled is None:
        enabled = comm is not None or (launch_world_size() or 1) > 1
    if not enabled:
        return DataParallelRun(model=model, module=model)
    comm = get_comm() if comm is None else comm
    size, rank = int(comm.Get_size()), int(comm.Get_rank())
    abort_on_exception(comm)
    if size == 1:
        return DataParallelRun(model=model, module=model, world_size=1, rank=0, comm=comm)
    wrapped = DistributedDataParallel(model, comm=comm, bucket_cap_mb=bucket_cap_mb)
    return DataParallelRun(model=wrapped, module=model, world_size=size, rank=rank, comm=comm)
