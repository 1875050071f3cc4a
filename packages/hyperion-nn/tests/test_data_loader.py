"""Dataset, TensorDataset, Subset and DataLoader: batching, seeded shuffling, drop_last, collation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperion.autograd as ag
from hyperion.nn.data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split


class Squares(Dataset):
    """A dataset without batch access: forces the per-sample path."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> tuple[np.ndarray, int]:
        return np.array([index, index * index], dtype=np.float32), index


def _labels(loader: DataLoader) -> list[list[int]]:
    return [batch[-1].tolist() for batch in loader]


def test_tensor_dataset_indexing_and_errors() -> None:
    ds = TensorDataset(np.arange(12).reshape(6, 2), ag.tensor([0, 1, 2, 3, 4, 5]))
    assert len(ds) == 6
    x, y = ds[-1]
    assert x.tolist() == [10, 11] and int(y) == 5
    with pytest.raises(IndexError, match="index 6 out of range for a dataset of 6 samples"):
        ds[6]
    with pytest.raises(ValueError, match="same length"):
        TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="at least one array"):
        TensorDataset()


def test_subset_maps_indices_and_batches_through_parent() -> None:
    ds = TensorDataset(np.arange(10) * 10)
    sub = Subset(ds, [7, -1, 2])
    assert len(sub) == 3 and [int(sub[i][0]) for i in range(3)] == [70, 90, 20]
    assert sub.get_batch(np.array([2, 0]))[0].tolist() == [20, 70]
    with pytest.raises(IndexError, match=r"Subset indices \[10\] out of range"):
        Subset(ds, [10])


def test_batches_in_order_with_last_partial_batch() -> None:
    loader = DataLoader(TensorDataset(np.arange(10), np.arange(10) * 2), batch_size=4)
    assert len(loader) == 3
    batches = list(loader)
    assert [tuple(x.shape) for x, _ in batches] == [(4,), (4,), (2,)]
    assert batches[2][1].tolist() == [16, 18]
    assert isinstance(batches[0][0], ag.Tensor)


def test_drop_last() -> None:
    loader = DataLoader(TensorDataset(np.arange(10)), batch_size=4, drop_last=True, shuffle=True, seed=1)
    assert len(loader) == 2
    batches = _labels(loader)
    assert [len(b) for b in batches] == [4, 4]
    assert len(set(sum(batches, []))) == 8
    assert len(DataLoader(TensorDataset(np.arange(3)), batch_size=4, drop_last=True)) == 0
    assert list(DataLoader(TensorDataset(np.arange(3)), batch_size=4, drop_last=True)) == []


def test_seeded_shuffle_is_reproducible_and_changes_per_epoch() -> None:
    ds = TensorDataset(np.arange(50))
    a = DataLoader(ds, batch_size=8, shuffle=True, seed=123)
    b = DataLoader(ds, batch_size=8, shuffle=True, seed=123)
    a1, a2 = _labels(a), _labels(a)
    assert a1 == _labels(b) and a2 == _labels(b)
    assert a1 != a2
    assert sorted(sum(a1, [])) == list(range(50))
    assert _labels(DataLoader(ds, batch_size=8, shuffle=True, seed=124)) != a1
    # Resuming at epoch 1 replays epoch 1 exactly.
    c = DataLoader(ds, batch_size=8, shuffle=True, seed=123)
    c.set_epoch(1)
    assert _labels(c) == a2


def test_generator_draws_sequentially() -> None:
    ds = TensorDataset(np.arange(20))
    first = _labels(DataLoader(ds, batch_size=5, shuffle=True, generator=np.random.default_rng(7)))
    again = _labels(DataLoader(ds, batch_size=5, shuffle=True, generator=np.random.default_rng(7)))
    assert first == again
    with pytest.raises(ValueError, match="either seed or generator"):
        DataLoader(ds, seed=1, generator=np.random.default_rng(1))


def test_unseeded_shuffle_records_its_seed() -> None:
    ds = TensorDataset(np.arange(30))
    loader = DataLoader(ds, batch_size=30, shuffle=True)
    replay = DataLoader(ds, batch_size=30, shuffle=True, seed=loader.seed)
    assert _labels(loader) == _labels(replay)


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True])
def test_bad_batch_size(batch_size: object) -> None:
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DataLoader(TensorDataset(np.arange(3)), batch_size=batch_size)  # type: ignore[arg-type]


def test_per_sample_path_matches_fast_path() -> None:
    slow = DataLoader(Squares(11), batch_size=4, shuffle=True, seed=5)
    fast_ds = TensorDataset(np.stack([Squares(11)[i][0] for i in range(11)]), np.arange(11))
    fast = DataLoader(fast_ds, batch_size=4, shuffle=True, seed=5)
    for (xs, ys), (xf, yf) in zip(slow, fast, strict=True):
        np.testing.assert_array_equal(xs.numpy(), xf.numpy())
        np.testing.assert_array_equal(ys.numpy(), yf.numpy())
        assert xs.dtype == np.float32


def test_fast_path_does_not_call_getitem() -> None:
    class Counting(TensorDataset):
        calls = 0

        def __getitem__(self, index: int) -> tuple[object, ...]:
            Counting.calls += 1
            return super().__getitem__(index)

    list(DataLoader(Counting(np.zeros((100, 3))), batch_size=10))
    assert Counting.calls == 0


def test_custom_collate_and_dicts() -> None:
    loader = DataLoader(Squares(5), batch_size=2, collate=lambda samples: [s[1] for s in samples])
    assert list(loader) == [[0, 1], [2, 3], [4]]
    batch = default_collate([{"x": np.ones(2), "y": 1}, {"x": np.zeros(2), "y": 0}])
    assert batch["x"].shape == (2, 2) and batch["y"].tolist() == [1, 0]
    with pytest.raises(ValueError, match="different shapes"):
        default_collate([np.ones(2), np.ones(3)])


def test_random_split() -> None:
    parts = random_split(TensorDataset(np.arange(10)), [7, 3], seed=0)
    values = sorted(int(p[i][0]) for p in parts for i in range(len(p)))
    assert [len(p) for p in parts] == [7, 3] and values == list(range(10))
    with pytest.raises(ValueError, match="sum to 10"):
        random_split(TensorDataset(np.arange(10)), [5, 4])


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 40), batch_size=st.integers(1, 12), drop_last=st.booleans(), seed=st.integers(0, 2**32))
def test_every_sample_once_per_epoch(n: int, batch_size: int, drop_last: bool, seed: int) -> None:
    loader = DataLoader(
        TensorDataset(np.arange(n)), batch_size=batch_size, shuffle=True, drop_last=drop_last, seed=seed
    )
    batches = _labels(loader)
    assert len(batches) == len(loader)
    assert all(len(b) == batch_size for b in batches[:-1] or [[0] * batch_size])
    seen = sum(batches, [])
    assert len(seen) == len(set(seen))
    expected = (n // batch_size) * batch_size if drop_last else n
    assert len(seen) == expected
