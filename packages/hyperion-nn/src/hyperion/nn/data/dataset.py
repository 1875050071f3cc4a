"""Datasets: indexable collections of samples.

A :class:`Dataset` has ``__len__`` and ``__getitem__``. One that is backed by
arrays also implements ``get_batch(indices)``, returning the whole batch with
one fancy-indexing operation per array; :class:`~hyperion.nn.data.DataLoader`
uses it instead of a per-sample Python loop.

Examples:
    >>> import numpy as np
    >>> ds = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
    >>> len(ds), ds[1]
    (5, (array([2., 3.]), np.int64(1)))
    >>> [a.tolist() for a in ds.get_batch(np.array([4, 0]))]
    [[[8.0, 9.0], [0.0, 1.0]], [4, 0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["Dataset", "Subset", "TensorDataset", "as_numpy", "has_batch_access", "random_split"]


class Dataset:
    """Base class: a map from an index ``0 <= i < len(self)`` to a sample.

    Subclasses define ``__len__`` and ``__getitem__``; array-backed ones also define
    ``get_batch(indices)`` returning a tuple of stacked arrays (see :class:`TensorDataset`).
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


def as_numpy(value: Any) -> np.ndarray:
    """A NumPy view/copy of an array, a ``hyperion.tensor``/``hyperion.autograd`` tensor or a nested list."""
    if isinstance(value, np.ndarray):
        return value
    numpy_method = getattr(value, "numpy", None)
    if callable(numpy_method):
        return np.asarray(numpy_method())
    return np.asarray(value)


class TensorDataset(Dataset):
    """Samples are the rows of one or more arrays of equal length.

    Args:
        *arrays: NumPy arrays, hyperion tensors or nested lists, all with the same first
            dimension; sample ``i`` is ``tuple(a[i] for a in arrays)``.

    Raises:
        ValueError: if no array is given, one is 0-dimensional, or their lengths differ.
    """

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset needs at least one array")
        self.arrays: tuple[np.ndarray, ...] = tuple(as_numpy(a) for a in arrays)
        shapes = [a.shape for a in self.arrays]
        if any(len(s) == 0 for s in shapes):
            raise ValueError(f"TensorDataset arrays must have a first (sample) dimension, got shapes {shapes}")
        if len({s[0] for s in shapes}) != 1:
            raise ValueError(f"TensorDataset arrays must have the same length, got shapes {shapes}")

    def __len__(self) -> int:
        return int(self.arrays[0].shape[0])

    def __getitem__(self, index: int) -> tuple[Any, ...]:
        index = _check_index(index, len(self))
        return tuple(a[index] for a in self.arrays)

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        """The samples at ``indices`` (an integer array), stacked: one array per field."""
        return tuple(a[indices] for a in self.arrays)

    def __repr__(self) -> str:
        fields = ", ".join(f"{a.dtype}{list(a.shape)}" for a in self.arrays)
        return f"TensorDataset({fields})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    Args:
        dataset: the full dataset.
        indices: positions in ``dataset`` (each in ``[-len(dataset), len(dataset))``).

    Raises:
        IndexError: if an index is out of range.
    """

    def __init__(self, dataset: Dataset, indices: Sequence[int] | np.ndarray) -> None:
        positions = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        bad = positions[(positions < -n) | (positions >= n)]
        if bad.size:
            raise IndexError(f"Subset indices {bad[:5].tolist()} out of range for a dataset of {n} samples")
        self.dataset = dataset
        self.indices = np.where(positions < 0, positions + n, positions)

    def __len__(self) -> int:
        return int(self.indices.shape[0])

    def __getitem__(self, index: int) -> Any:
        return self.dataset[int(self.indices[_check_index(index, len(self))])]

    def get_batch(self, indices: np.ndarray) -> tuple[np.ndarray, ...]:
        """Batch access through the parent's ``get_batch`` (only when the parent has one)."""
        parent = getattr(self.dataset, "get_batch", None)
        if parent is None:
            raise AttributeError(f"{type(self.dataset).__name__} has no get_batch")
        return parent(self.indices[indices])

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {self.dataset!r})"


def has_batch_access(dataset: Dataset) -> bool:
    """Whether ``dataset`` can return whole batches by fancy indexing."""
    if isinstance(dataset, Subset):
        return has_batch_access(dataset.dataset)
    return callable(getattr(dataset, "get_batch", None))


def random_split(dataset: Dataset, lengths: Sequence[int], seed: int | None = None) -> list[Subset]:
    """Split ``dataset`` at random into non-overlapping subsets of the given lengths.

    Args:
        dataset: what to split.
        lengths: sizes that add up to ``len(dataset)``.
        seed: seeds the ``numpy.random.Generator`` that draws the permutation.

    Raises:
        ValueError: if the lengths do not add up.
    """
    if sum(lengths) != len(dataset) or any(k < 0 for k in lengths):
        raise ValueError(f"random_split lengths {list(lengths)} must be non-negative and sum to {len(dataset)}")
    order = np.random.default_rng(seed).permutation(len(dataset))
    bounds = np.cumsum([0, *lengths])
    return [Subset(dataset, order[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def _check_index(index: Any, n: int) -> int:
    if not isinstance(index, (int, np.integer)):
        raise TypeError(f"dataset index must be an integer, got {type(index).__name__}")
    index = int(index)
    if not -n <= index < n:
        raise IndexError(f"index {index} out of range for a dataset of {n} samples")
    return index + n if index < 0 else index
