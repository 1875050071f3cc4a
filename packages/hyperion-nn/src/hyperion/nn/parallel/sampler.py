"""``DistributedSampler`` and ``DistributedDataLoader``: each rank sees its own shard of every batch.

All ranks draw the **same** permutation of the data set for an epoch — the one a
single-process :class:`~hyperion.nn.data.DataLoader` with the same seed draws,
``default_rng([seed, epoch]).permutation(n)`` — and rank ``r`` of ``P`` keeps
positions ``r, r + P, r + 2P, …``. Cut into batches of ``B`` per rank, the ``k``-th
batches of all ranks together are exactly the ``k``-th batch of ``P·B`` samples
that one process would see. With mean losses and averaged gradients, ``P`` ranks
with batch ``B`` therefore train the same model as one process with batch ``P·B``.

The permutation is padded (by wrapping around to its start) to a multiple of
``P`` so that every rank takes the same number of steps — a rank with one step
more would wait forever in an all-reduce the others never join — or, with
``drop_last=True``, its tail is dropped.

Examples:
    >>> sampler = DistributedSampler(10, num_replicas=3, rank=1, shuffle=False)
    >>> list(sampler), len(sampler)
    ([1, 4, 7, 0], 4)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from hyperion.nn.data.dataloader import DataLoader
from hyperion.nn.data.dataset import Dataset

__all__ = ["DistributedDataLoader", "DistributedSampler", "shard_batch"]


def _check_index(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


class DistributedSampler:
    """The indices one rank visits in an epoch.

    Args:
        num_samples: size of the data set.
        num_replicas: number of ranks (the communicator's size by default).
        rank: this rank (the communicator's rank by default).
        shuffle: a new permutation every epoch (else the natural order).
        seed: the shared seed. With a communicator and ``seed=None``, rank 0 draws
            one from the OS and broadcasts it, so the ranks always agree.
        drop_last: drop the tail that does not divide evenly instead of padding.
        comm: the mpi4py communicator that provides the defaults above.

    Raises:
        ValueError: for a negative ``num_samples``, ``rank`` outside ``[0, num_replicas)``,
            or nothing left to visit after ``drop_last``.
    """

    def __init__(
        self,
        num_samples: int,
        *,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int | None = None,
        drop_last: bool = False,
        comm: Any = None,
    ) -> None:
        self.num_samples = _check_index("num_samples", num_samples, 0)
        if comm is None and (num_replicas is None or rank is None or seed is None):
            from hyperion.nn.parallel.runtime import get_comm, is_mpi_launch

            comm = get_comm() if is_mpi_launch() else None
        if num_replicas is None:
            num_replicas = 1 if comm is None else comm.Get_size()
        if rank is None:
            rank = 0 if comm is None else comm.Get_rank()
        self.num_replicas = _check_index("num_replicas", num_replicas, 1)
        self.rank = _check_index("rank", rank, 0)
        if self.rank >= self.num_replicas:
            raise ValueError(f"rank {self.rank} is out of range for {self.num_replicas} replicas")
        if seed is None:
            seed = int(np.random.SeedSequence().entropy % (1 << 62))
            if comm is not None:
                from hyperion.nn.parallel.collectives import broadcast_int

                seed = broadcast_int(comm, seed)
        self.seed = int(seed)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.epoch = 0
        if self.drop_last:
            self.per_rank = self.num_samples // self.num_replicas
        else:
            self.per_rank = -(-self.num_samples // self.num_replicas)
        if self.num_samples and self.per_rank == 0:
            raise ValueError(
                f"{self.num_samples} samples with drop_last leave nothing for {self.num_replicas} replicas"
            )

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration epoch ``epoch`` (call it with the same value on every rank)."""
        self.epoch = int(epoch)

    def global_order(self, epoch: int | None = None) -> np.ndarray:
        """The permutation all ranks share for ``epoch`` (the current one by default), before sharding."""
        epoch = self.epoch if epoch is None else int(epoch)
        if not self.shuffle:
            return np.arange(self.num_samples)
        return np.random.default_rng([self.seed, epoch]).permutation(self.num_samples)

    def indices(self, epoch: int | None = None) -> np.ndarray:
        """This rank's indices for ``epoch``, in visiting order."""
        order = self.global_order(epoch)
        total = self.per_rank * self.num_replicas
        if total > order.size and order.size:
            order = np.resize(order, total)  # wraps around: the first samples are visited twice
        return order[:total][self.rank :: self.num_replicas]

    def __iter__(self) -> Iterator[int]:
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.per_rank


class DistributedDataLoader(DataLoader):
    """A :class:`~hyperion.nn.data.DataLoader` over one rank's shard (from a :class:`DistributedSampler`).

    Each iteration is the next epoch, as with a shuffled ``DataLoader``; ``set_epoch`` resumes at one.

    Args:
        dataset: the whole data set (the same on every rank).
        batch_size: samples per batch **on this rank**.
        sampler: which indices this rank visits.
        drop_last: drop this rank's last, smaller batch.
        collate: as for ``DataLoader``.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int,
        sampler: DistributedSampler,
        *,
        drop_last: bool = False,
        collate: Any = None,
    ) -> None:
        if len(dataset) != sampler.num_samples:
            raise ValueError(f"the sampler covers {sampler.num_samples} samples, the dataset has {len(dataset)}")
        super().__init__(dataset, batch_size, shuffle=sampler.shuffle, drop_last=drop_last, seed=sampler.seed, collate=collate)
        self.sampler = sampler

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration epoch ``epoch``."""
        super().set_epoch(epoch)
        self.sampler.set_epoch(epoch)

    def order(self, epoch: int | None = None) -> np.ndarray:
        """This rank's indices for the epoch (the next one by default)."""
        return self.sampler.indices(self.epoch if epoch is None else epoch)

    def __repr__(self) -> str:
        return (
            f"DistributedDataLoader({type(self.dataset).__name__} of {len(self.dataset)}, rank "
            f"{self.sampler.rank}/{self.sampler.num_replicas}, batch_size={self.batch_size}, batches={len(self)})"
        )


def shard_batch(batch: Any, *, num_replicas: int, rank: int) -> Any:
    """This rank's contiguous slice of a global batch (first axis), for loops that draw whole batches.

    A trainer that samples a batch of ``P·B`` rows with a generator seeded the same on
    every rank keeps rows ``[rank·B, (rank+1)·B)``.

    Raises:
        ValueError: if the batch's first dimension is not divisible by ``num_replicas``.

    Example:
        >>> shard_batch(np.arange(6), num_replicas=2, rank=1)
        array([3, 4, 5])
    """
    rows = batch.shape[0]
    if rows % num_replicas:
        raise ValueError(f"a global batch of {rows} rows does not split evenly over {num_replicas} ranks")
    size = rows // num_replicas
    return batch[rank * size : (rank + 1) * size]
