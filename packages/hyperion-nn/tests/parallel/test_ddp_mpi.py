"""Data-parallel training on 2 MPI ranks (``mpiexec -n 2``): identical replicas, exact equivalence, no hangs."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

WORKERS = Path(__file__).parent / "workers"
STEPS, BATCH, SAMPLES = 100, 8, 96
RUNS = [("sgd", 1), ("adamw", 1), ("sgd", 2)]  # (optimizer, micro-batches per step)


def _load_worker(name: str):
    spec = importlib.util.spec_from_file_location(f"_parallel_worker_{name}", WORKERS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def trained(run_mpi, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One 2-rank job training the MLP 100 steps in every configuration of ``RUNS``."""
    folder = tmp_path_factory.mktemp("ddp")
    runs = ",".join(f"{optimizer}:{micro}" for optimizer, micro in RUNS)
    proc = run_mpi(["train_mlp.py", str(folder), "--steps", str(STEPS), "--batch", str(BATCH), "--runs", runs], timeout=300)
    assert proc.returncode == 0, proc.stderr
    return folder


def _rank_params(folder: Path, run: tuple[str, int], rank: int) -> dict[str, np.ndarray]:
    with np.load(folder / f"{run[0]}-{run[1]}-rank{rank}.npz", allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


# --8<-- [start:bitwise]
@pytest.mark.parametrize("run", RUNS)
def test_replicas_bitwise_identical_after_100_steps(trained: Path, run: tuple[str, int]) -> None:
    rank0, rank1 = _rank_params(trained, run, 0), _rank_params(trained, run, 1)
    assert rank0["__buckets__"][0] > 1, "the tiny bucket cap should split the model into several buckets"
    assert rank0["__syncs__"][0] == STEPS, "one all-reduce per step, however many micro-batches"
    names = [n for n in rank0 if not n.startswith("__")]
    assert names == [n for n in rank1 if not n.startswith("__")]
    for name in names:
        # Compare the bit patterns: equal floats are not enough (e.g. -0.0 == 0.0).
        assert np.array_equal(rank0[name].view(np.uint64), rank1[name].view(np.uint64)), name
    start = _load_worker("train_mlp").make_model(0)
    moved = [n for n, p in start.named_parameters() if not np.array_equal(p.detach().numpy(), rank0[n])]
    assert moved == names, "training should have changed every parameter"
# --8<-- [end:bitwise]


# --8<-- [start:equivalence]
@pytest.mark.parametrize("run", RUNS)
def test_two_ranks_of_batch_b_equal_one_process_of_batch_2b(trained: Path, run: tuple[str, int]) -> None:
    optimizer, micro = run
    distributed = _rank_params(trained, run, 0)
    worker = _load_worker("train_mlp")
    single = worker.reference(STEPS, 2 * BATCH, samples=SAMPLES, optimizer=optimizer, micro=micro)
    initial = {n: p.detach().numpy() for n, p in worker.make_model(0).named_parameters()}
    for name, expected in single.items():
        assert np.abs(expected - initial[name]).max() > 1e-3, f"{name} barely moved: the comparison would be vacuous"
        np.testing.assert_allclose(distributed[name], expected, rtol=0, atol=1e-10, err_msg=name)
# --8<-- [end:equivalence]


# --8<-- [start:crash]
def test_a_crashed_rank_ends_the_job_with_an_error(run_mpi) -> None:
    proc = run_mpi(["crash.py"], timeout=60)
    assert proc.returncode != 0
    assert "rank 1 failed on purpose" in proc.stderr
    assert "aborting all 2 ranks" in proc.stderr
    assert "finished without noticing" not in proc.stdout
# --8<-- [end:crash]


def test_ranks_with_different_models_fail_on_every_rank(run_mpi) -> None:
    proc = run_mpi(["mismatch.py"], timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = sorted(line for line in proc.stdout.splitlines() if "ParameterMismatchError" in line)
    assert [line.split(":")[0] for line in lines] == ["rank 0", "rank 1"]
    assert "'0.weight' shape (8, 4)" in lines[0] and "'0.weight' shape (9, 4)" in lines[0]


@pytest.mark.parametrize("ranks", [2, 3])
def test_ring_allreduce_sums_like_mpi(run_mpi, ranks: int) -> None:
    proc = run_mpi(["ring.py"], ranks=ranks, timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(report) == 12
    for case in report:
        tolerance = 1e-12 if case["dtype"] == "float64" else 1e-5
        assert case["max_error"] <= tolerance, case
        assert case["ranks_identical"], case
