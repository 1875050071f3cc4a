"""The pieces of data parallelism that need no second process: sharding, buckets, launch detection, errors."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hyperion.autograd as ag
from hyperion.nn.containers import Sequential
from hyperion.nn.data import DataLoader, TensorDataset
from hyperion.nn.layers.linear import Linear
from hyperion.nn.parallel import (
    DistributedDataLoader,
    DistributedSampler,
    MPIUnavailableError,
    get_comm,
    is_main_process,
    is_mpi_launch,
    launch_world_size,
    plan_buckets,
    rank,
    setup_data_parallel,
    shard_batch,
    world_size,
)

HAS_MPI4PY = importlib.util.find_spec("mpi4py") is not None
LAUNCH_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS", "PMI_RANK",
                    "OMPI_COMM_WORLD_RANK", "PMIX_RANK")


@pytest.fixture
def no_launch(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in LAUNCH_VARIABLES:
        monkeypatch.delenv(name, raising=False)


# -- sampler ------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 60),
    replicas=st.integers(1, 5),
    seed=st.integers(0, 2**31),
    epoch=st.integers(0, 3),
    shuffle=st.booleans(),
    drop_last=st.booleans(),
)
def test_shards_partition_the_shared_permutation(n, replicas, seed, epoch, shuffle, drop_last) -> None:
    samplers = [
        DistributedSampler(n, num_replicas=replicas, rank=r, seed=seed, shuffle=shuffle, drop_last=drop_last)
        for r in range(replicas)
    ] if not (drop_last and 0 < n < replicas) else []
    if not samplers:
        with pytest.raises(ValueError, match="leave nothing"):
            DistributedSampler(n, num_replicas=replicas, rank=0, seed=seed, drop_last=True)
        return
    shards = [s.indices(epoch) for s in samplers]
    assert len({len(s) for s in shards}) == 1, "every rank must take the same number of steps"
    assert all(len(s) == len(sampler) for s, sampler in zip(shards, samplers, strict=True))
    merged = np.empty(len(shards[0]) * replicas, dtype=np.int64)
    for r, shard in enumerate(shards):
        merged[r::replicas] = shard
    order = samplers[0].global_order(epoch)
    if drop_last:
        assert np.array_equal(merged, order[: merged.size])
    else:
        assert np.array_equal(merged[:n], order)
        assert set(merged[n:].tolist()) <= set(order.tolist())  # padding repeats real samples
    if shuffle:
        expected = DataLoader(TensorDataset(np.arange(n)), batch_size=1, shuffle=True, seed=seed).order(epoch)
        assert np.array_equal(order, expected), "the same order a single-process DataLoader draws"


@settings(max_examples=30, deadline=None)
@given(batch=st.integers(1, 6), replicas=st.integers(1, 4), seed=st.integers(0, 1000), steps=st.integers(1, 5))
def test_rank_batches_together_are_the_single_process_batch(batch, replicas, seed, steps) -> None:
    n = batch * replicas * steps
    data = TensorDataset(np.arange(n))
    single = [b.numpy() for (b,) in DataLoader(data, batch_size=batch * replicas, shuffle=True, seed=seed)]
    per_rank = [
        [b.numpy() for (b,) in DistributedDataLoader(data, batch, DistributedSampler(n, num_replicas=replicas, rank=r, seed=seed))]
        for r in range(replicas)
    ]
    assert all(len(batches) == steps for batches in per_rank)
    for k, global_batch in enumerate(single):
        together = np.concatenate([per_rank[r][k] for r in range(replicas)])
        assert sorted(together.tolist()) == sorted(global_batch.tolist())


def test_sampler_epochs_differ_and_set_epoch_resumes() -> None:
    data = TensorDataset(np.arange(40))
    loader = DistributedDataLoader(data, 4, DistributedSampler(40, num_replicas=2, rank=1, seed=3))
    first = np.concatenate([b.numpy() for (b,) in loader])
    second = np.concatenate([b.numpy() for (b,) in loader])
    assert not np.array_equal(first, second)
    loader.set_epoch(1)
    assert np.array_equal(np.concatenate([b.numpy() for (b,) in loader]), second)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_replicas": 2, "rank": 2}, "rank 2 is out of range for 2 replicas"),
        ({"num_replicas": 0, "rank": 0}, "num_replicas must be an integer >= 1, got 0"),
        ({"num_replicas": 2, "rank": -1}, "rank must be an integer >= 0, got -1"),
    ],
)
def test_sampler_rejects_bad_ranks(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        DistributedSampler(10, seed=0, **kwargs)


def test_loader_needs_a_sampler_of_the_dataset_size() -> None:
    with pytest.raises(ValueError, match="covers 9 samples, the dataset has 10"):
        DistributedDataLoader(TensorDataset(np.arange(10)), 2, DistributedSampler(9, num_replicas=1, rank=0, seed=0))


def test_shard_batch_slices_rows_and_rejects_uneven_batches() -> None:
    batch = np.arange(12).reshape(6, 2)
    parts = [shard_batch(batch, num_replicas=3, rank=r) for r in range(3)]
    assert np.array_equal(np.concatenate(parts), batch)
    with pytest.raises(ValueError, match="6 rows does not split evenly over 4 ranks"):
        shard_batch(batch, num_replicas=4, rank=0)


# -- buckets ------------------------------------------------------------------------------------


def _mixed_model() -> Sequential:
    model = Sequential(Linear(5, 7, seed=0), Linear(7, 3, seed=1), Linear(3, 2, seed=2))
    model[1].double()
    return model


@pytest.mark.parametrize("cap", [1, 40, 100, 1 << 20])
def test_buckets_hold_one_dtype_within_the_cap(cap) -> None:
    named = list(_mixed_model().named_parameters())
    buckets = plan_buckets(named, cap)
    seen = [name for bucket in buckets for name in bucket.names]
    assert sorted(seen) == sorted(n for n, _ in named)
    for bucket in buckets:
        assert len({np.dtype(p.dtype) for p in bucket.params}) == 1
        assert bucket.buffer.dtype == np.dtype(bucket.params[0].dtype)
        assert bucket.buffer.size == sum(p.numel() for p in bucket.params)
        assert len(bucket.params) == 1 or bucket.nbytes <= cap
        ends = [o + p.numel() for o, p in zip(bucket.offsets, bucket.params, strict=True)]
        assert bucket.offsets == [0, *ends[:-1]]


def test_bucket_round_trip_averages_and_creates_missing_grads() -> None:
    model = _mixed_model()
    for bucket in plan_buckets(list(model.named_parameters()), 64):
        for i, param in enumerate(bucket.params):
            if i % 2 == 0:
                param.grad = ag.tensor(np.full(param.shape, 6.0, dtype=param.dtype))
        buffer = bucket.pack_grads()
        buffer *= 2  # what a sum over two equal ranks gives
        bucket.unpack_grads(4)
        for i, param in enumerate(bucket.params):
            assert np.all(param.grad.numpy() == (3.0 if i % 2 == 0 else 0.0))


def test_plan_buckets_rejects_a_bad_cap() -> None:
    with pytest.raises(ValueError, match="positive number of bytes, got 0"):
        plan_buckets([], 0)


# -- runtime ------------------------------------------------------------------------------------


def test_launch_detection_reads_the_process_manager(monkeypatch, no_launch) -> None:
    assert launch_world_size() is None and not is_mpi_launch()
    monkeypatch.setenv("OMPI_COMM_WORLD_SIZE", "4")
    assert launch_world_size() == 4 and is_mpi_launch()
    monkeypatch.delenv("OMPI_COMM_WORLD_SIZE")
    monkeypatch.setenv("PMI_RANK", "0")
    assert launch_world_size() == 1


def test_helpers_outside_mpi_do_not_need_mpi(monkeypatch, no_launch) -> None:
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "mpi4py.MPI", raising=False)
    assert (world_size(), rank(), is_main_process()) == (1, 0, True)
    run = setup_data_parallel(Linear(2, 2, seed=0))
    assert run.world_size == 1 and not run.distributed and run.shard(np.arange(3)).tolist() == [0, 1, 2]


def test_missing_mpi4py_is_a_clear_error(monkeypatch, no_launch) -> None:
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(MPIUnavailableError, match=r"needs mpi4py.*hyperion-nn\[distributed\]"):
        get_comm()
    with pytest.raises(MPIUnavailableError):
        setup_data_parallel(Linear(2, 2, seed=0), enabled=True)


@pytest.mark.skipif(not HAS_MPI4PY, reason="needs mpi4py (pip install 'hyperion-nn[distributed]')")
def test_ddp_rejects_bad_arguments() -> None:
    from hyperion.nn.parallel import DistributedDataParallel

    with pytest.raises(TypeError, match="wraps a hyperion.nn.Module, got ndarray"):
        DistributedDataParallel(np.zeros(3))
    with pytest.raises(ValueError, match="bucket_cap_mb must be a positive number, got 0"):
        DistributedDataParallel(Linear(2, 2, seed=0), bucket_cap_mb=0)


DOCTESTED = [
    "hyperion.nn.parallel",
    "hyperion.nn.parallel.buckets",
    "hyperion.nn.parallel.collectives",
    "hyperion.nn.parallel.ddp",
    "hyperion.nn.parallel.runtime",
    "hyperion.nn.parallel.sampler",
    "hyperion.nn.parallel.setup",
]


@pytest.mark.parametrize("name", DOCTESTED)
def test_docstring_examples(name: str, no_launch) -> None:
    if name.endswith(("collectives", "ddp")) and not HAS_MPI4PY:
        pytest.skip("these examples call MPI (pip install 'hyperion-nn[distributed]')")
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
