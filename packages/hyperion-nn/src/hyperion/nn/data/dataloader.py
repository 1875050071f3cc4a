"""``DataLoader``: batches of a dataset, shuffled reproducibly.

Shuffling draws from a ``numpy.random.Generator``. With ``seed=s`` the order of
epoch ``e`` is a pure function of ``(s, e)``: two loaders with the same seed
give the same batches, and a run resumed at epoch ``e`` (``set_epoch``) sees the
batches it would have seen. An array-backed dataset (one with ``get_batch``,
such as :class:`~hyperion.nn.data.TensorDataset`) is batched with one
fancy-indexing operation per array — no per-sample Python loop.

Examples:
    >>> import numpy as np
    >>> from hyperion.nn.data import TensorDataset
    >>> loader = DataLoader(TensorDataset(np.arange(5)), batch_size=2)
    >>> [batch.tolist() for (batch,) in loader]
    [[0, 1], [2, 3], [4]]
    >>> len(DataLoader(TensorDataset(np.arange(5)), batch_size=2, drop_last=True))
    2
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

import hyperion.autograd as ag
from hyperion.nn.data.dataset import Dataset, as_numpy, has_batch_access

__all__ = ["DataLoader", "default_collate"]


def _to_tensor(array: np.ndarray) -> ag.Tensor:
    return ag.from_numpy(np.ascontiguousarray(array))


def default_collate(samples: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch of ``hyperion.autograd`` tensors.

    Tuples/lists of fields become a tuple of batched fields, dicts a dict; arrays,
    tensors and numbers are stacked along a new first dimension.

    Raises:
        ValueError: if the samples of a field do not all have the same shape.
    """
    first = samples[0]
    if isinstance(first, Mapping):
        return {key: default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        return tuple(default_collate(list(field)) for field in zip(*samples, strict=True))
    arrays = [as_numpy(s) for s in samples]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"cannot stack samples of different shapes into a batch: {sorted(shapes)}")
    return _to_tensor(np.stack(arrays))


class DataLoader:
    """Iterate over ``dataset`` in batches.

    Args:
        dataset: a :class:`~hyperion.nn.data.Dataset` (anything with ``__len__`` and ``__getitem__``).
        batch_size: samples per batch (the last one may be smaller unless ``drop_last``).
        shuffle: visit the samples in a new random order every epoch.
        drop_last: drop the last batch if it is smaller than ``batch_size``.
        seed: makes each epoch's order a function of ``(seed, epoch)``; drawn from the OS
            when neither ``seed`` nor ``generator`` is given (read it back from ``self.seed``).
        generator: draw every epoch's permutation from this generator instead (the order
            then depends on how many epochs were drawn before).
        collate: turns a list of samples into a batch; by default :func:`default_collate`,
            or, for an array-backed dataset, whole-batch fancy indexing into tensors.

    Raises:
        ValueError: for a non-positive ``batch_size`` or both ``seed`` and ``generator``.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int = 1,
        shuffle: bool = False,
        drop_last: bool = False,
        *,
        seed: int | None = None,
        generator: np.random.Generator | None = None,
        collate: Callable[[list[Any]], Any] | None = None,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if seed is not None and generator is not None:
            raise ValueError("give either seed or generator, not both")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.generator = generator
        self.seed: int | None = None
        if generator is None:
            self.seed = int(seed) if seed is not None else int(np.random.SeedSequence().entropy % (1 << 63))
        self.collate = collate
        self.epoch = 0
        self._fast = collate is None and has_batch_access(dataset)

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Make the next iteration epoch ``epoch`` (e.g. when resuming a run)."""
        self.epoch = int(epoch)

    def order(self, epoch: int | None = None) -> np.ndarray:
        """The sample indices of an epoch (the next one by default), in visiting order.

        With a ``generator``, each call draws a fresh permutation from it.
        """
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        if self.generator is not None:
            return self.generator.permutation(n)
        epoch = self.epoch if epoch is None else epoch
        return np.random.default_rng([self.seed, epoch]).permutation(n)

    def __iter__(self) -> Iterator[Any]:
        indices = self.order()
        self.epoch += 1
        stop = len(self) * self.batch_size if self.drop_last else len(indices)
        for start in range(0, stop, self.batch_size):
            yield self._fetch(indices[start : start + self.batch_size])

    def _fetch(self, indices: np.ndarray) -> Any:
        if self._fast:
            fields = self.dataset.get_batch(indices)  # type: ignore[attr-defined]
            return tuple(_to_tensor(f) for f in fields)
        samples = [self.dataset[int(i)] for i in indices]
        return (self.collate or default_collate)(samples)

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, batches={len(self)})"
        )
