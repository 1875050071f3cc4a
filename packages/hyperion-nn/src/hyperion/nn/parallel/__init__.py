"""Data-parallel training over MPI (``pip install 'hyperion-nn[distributed]'``).

Launch the same script on ``P`` ranks (``mpiexec -n P python train.py``); each rank
holds the whole model and trains on its own shard of every batch, and the gradients
are averaged with all-reduce so the copies stay identical:

- :class:`DistributedDataParallel` — broadcast rank 0's initial parameters, check the
  ranks built the same model, average gradients in bucketed all-reduces, ``no_sync()``
  for gradient accumulation;
- :class:`DistributedSampler` / :class:`DistributedDataLoader` — every rank's shard of a
  shared, seeded permutation;
- :func:`setup_data_parallel` — the one-call hook for trainers and CLIs (``--ddp``);
- :func:`world_size`, :func:`rank`, :func:`is_main_process` — 1, 0, ``True`` outside MPI;
- :func:`abort_on_exception` — an uncaught exception on one rank ends the job instead of hanging it.

mpi4py is imported only when a parallel feature is used, so importing this module
never needs MPI.

Examples:
    >>> from hyperion.nn.parallel import is_main_process, world_size
    >>> world_size(), is_main_process()
    (1, True)
"""

from hyperion.nn.parallel.buckets import Bucket, plan_buckets
from hyperion.nn.parallel.collectives import (
    allgather_json,
    average_scalar,
    broadcast_array,
    broadcast_int,
    ring_allreduce,
)
from hyperion.nn.parallel.ddp import DEFAULT_BUCKET_CAP_MB, DistributedDataParallel, ParameterMismatchError
from hyperion.nn.parallel.runtime import (
    MPIUnavailableError,
    abort_on_exception,
    get_comm,
    is_main_process,
    is_mpi_launch,
    launch_world_size,
    rank,
    world_size,
)
from hyperion.nn.parallel.sampler import DistributedDataLoader, DistributedSampler, shard_batch
from hyperion.nn.parallel.setup import DataParallelRun, setup_data_parallel

__all__ = [
    "DEFAULT_BUCKET_CAP_MB",
    "Bucket",
    "DataParallelRun",
    "DistributedDataLoader",
    "DistributedDataParallel",
    "DistributedSampler",
    "MPIUnavailableError",
    "ParameterMismatchError",
    "abort_on_exception",
    "allgather_json",
    "average_scalar",
    "broadcast_array",
    "broadcast_int",
    "get_comm",
    "is_main_process",
    "is_mpi_launch",
    "launch_world_size",
    "plan_buckets",
    "rank",
    "ring_allreduce",
    "setup_data_parallel",
    "shard_batch",
    "world_size",
]
