"""The cost of all-reduce on this machine, the α–β model, and data-parallel scaling of a training step.

Run it as a plain script: it launches itself on 2 MPI ranks (``mpiexec -n 2``), once with
MPICH's default busy-polling progress loop and once with ``MPIR_CVAR_ENABLE_HEAVY_YIELD=1``
(ranks yield the CPU while they wait: what you want when ranks share cores with other work).

For message sizes from 8 B to 32 MiB it measures, interleaved:

- ``p2p``: one-way time of a message (half a ping-pong round trip), fitted to the α–β
  model ``t(M) = α + M/β`` (weighted least squares on relative error);
- ``mpi``: ``MPI_Allreduce`` (sum, float64) as the library implements it;
- ``ring``: the textbook ring all-reduce (``hyperion.nn.parallel.ring_allreduce``),
  whose predicted cost from the fitted α and β is
  ``2(P−1)·α + 2(P−1)/P · M/β + (P−1)/P · M·γ`` (γ: time per byte of the local
  ``+=``, measured here too).

Then the scaling of one training step (forward, backward, gradient averaging, AdamW) of an
MLP (784-256-128-10, float32, global batch 256) and, when ``hyperion.gpt`` is installed, a
small GPT (2 layers, width 64, 32 tokens, global batch 16): 1 rank doing the whole batch vs
2 ranks doing half each plus the all-reduce, interleaved in the same job (while rank 0 runs
the 1-rank step, rank 1 waits in a barrier).

    python bench/allreduce.py            # full run (a few minutes)
    python bench/allreduce.py --quick    # smoke run (seconds)
    python bench/allreduce.py --json     # ... and one JSON object as the last line

Timings from a machine whose cores are shared with other work are noisy, and the noise only
ever adds time: the collectives report the fastest of the interleaved repeats (and the
median), the training steps the median; the machine's load average is recorded.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from _common import emit, format_machine, format_table, machine_description, parser

RANKS = 2
MODES = {"spin": {}, "yield": {"MPIR_CVAR_ENABLE_HEAVY_YIELD": "1"}}
WORKER_ENV = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
GLOBAL_BATCH = 256
GPT_GLOBAL_BATCH = 16


# -- the α–β model ------------------------------------------------------------------------------


def fit_alpha_beta(sizes: list[int], seconds: list[float]) -> tuple[float, float]:
    """Least-squares fit of ``t = α + M/β`` weighted by ``1/t`` (every size counts alike).

    When noise makes a coefficient come out non-positive, α falls back to the median
    time of the three smallest messages and β to the slope over the three largest.

    Returns:
        ``(α in seconds, β in bytes per second)``.
    """
    m = np.asarray(sizes, dtype=np.float64)
    t = np.asarray(seconds, dtype=np.float64)
    design = np.stack([np.ones_like(m), m], axis=1) / t[:, None]
    (alpha, inverse_beta), *_ = np.linalg.lstsq(design, np.ones_like(t), rcond=None)
    if alpha <= 0 or inverse_beta <= 0:
        order = np.argsort(m)
        alpha = float(np.median(t[order[:3]]))
        large = order[-3:]
        inverse_beta = float(np.sum((t[large] - alpha) * m[large]) / np.sum(m[large] ** 2))
    return float(alpha), float(1.0 / inverse_beta)


def ring_prediction(nbytes: float, ranks: int, alpha: float, beta: float, gamma: float) -> float:
    """Predicted seconds of a ring all-reduce of ``nbytes`` over ``ranks`` ranks."""
    return 2 * (ranks - 1) * alpha + 2 * (ranks - 1) / ranks * nbytes / beta + (ranks - 1) / ranks * nbytes * gamma


# -- the worker (runs on every rank under mpiexec) ---------------------------------------------------


def _timed(comm: Any, body: Callable[[], None], number: int) -> float:
    """Seconds per call of ``body`` over ``number`` calls, the slowest rank's (all ranks call this)."""
    from mpi4py import MPI

    comm.Barrier()
    start = time.perf_counter()
    for _ in range(number):
        body()
    elapsed = np.array([(time.perf_counter() - start) / number])
    comm.Allreduce(MPI.IN_PLACE, elapsed, op=MPI.MAX)
    return float(elapsed[0])


def _calibrate(comm: Any, body: Callable[[], None], target_s: float) -> int:
    """A loop count (rank 0's, shared) making one sample last about ``target_s``."""
    from hyperion.nn.parallel import broadcast_int

    body()
    number = 1
    while True:
        per_call = _timed(comm, body, number)
        if per_call * number >= target_s or number >= 1 << 16:
            return broadcast_int(comm, number)
        number = max(number + 1, min(number * 10, int(1.2 * target_s / max(per_call, 1e-9))))


def _interleaved(
    comm: Any, bodies: dict[str, Callable[[], None]], repeats: int, target_s: float
) -> dict[str, list[float]]:
    """Samples (seconds per call) of every body, taken in rotating order so that load hits all alike."""
    numbers = {name: _calibrate(comm, body, target_s) for name, body in bodies.items()}
    samples: dict[str, list[float]] = {name: [] for name in bodies}
    names = list(bodies)
    for r in range(repeats):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            samples[name].append(_timed(comm, bodies[name], numbers[name]))
    return samples


def measure_collectives(comm: Any, sizes: list[int], repeats: int, target_s: float) -> list[dict[str, float]]:
    from mpi4py import MPI

    from hyperion.nn.parallel import ring_allreduce

    me = comm.Get_rank()
    rows = []
    for nbytes in sizes:
        n = max(1, nbytes // 8)
        data = np.ones(n)
        reply = np.empty(n)
        scratch = np.empty(-(-n // comm.Get_size()))
        other = 1 - me

        def ping_pong(data: np.ndarray = data, reply: np.ndarray = reply, other: int = other) -> None:
            if me == 0:
                comm.Send(data, dest=other)
                comm.Recv(reply, source=other)
            elif me == 1:
                comm.Recv(reply, source=other)
                comm.Send(reply, dest=other)

        def mpi_allreduce(data: np.ndarray = data) -> None:
            comm.Allreduce(MPI.IN_PLACE, data, op=MPI.SUM)
            data *= 0.5  # keep the values bounded over many calls

        def ring(data: np.ndarray = data, scratch: np.ndarray = scratch) -> None:
            ring_allreduce(comm, data, scratch)
            data *= 0.5

        def add(data: np.ndarray = data, reply: np.ndarray = reply) -> None:
            np.add(data, reply, out=data)

        samples = _interleaved(comm, {"p2p": ping_pong, "mpi": mpi_allreduce, "ring": ring, "add": add}, repeats, target_s)
        samples["p2p"] = [t / 2 for t in samples["p2p"]]  # one way: half the round trip
        row: dict[str, float] = {"bytes": n * 8}
        for name, values in samples.items():
            row[name] = min(values)  # noise from other work only ever adds time
            row[f"{name}_median"] = statistics.median(values)
        rows.append(row)
    return rows


def _mlp_step_factory(rank_batch: int, sync: bool, comm: Any) -> Callable[[], None]:
    import hyperion.autograd as ag
    from hyperion.nn.functional.loss import cross_entropy
    from hyperion.nn.models import build_model
    from hyperion.nn.optim import AdamW
    from hyperion.nn.parallel import DistributedDataParallel

    model = build_model("mlp", seed=0)
    runner = DistributedDataParallel(model, comm=comm) if sync else model
    optimizer = AdamW(model.parameters(), lr=1e-4)
    rng = np.random.default_rng(comm.Get_rank())
    x = ag.tensor(rng.standard_normal((rank_batch, 1, 28, 28)).astype(np.float32))
    y = ag.tensor(rng.integers(0, 10, rank_batch))

    def step() -> None:
        optimizer.zero_grad()
        cross_entropy(runner(x), y).backward()
        if sync:
            runner.sync_gradients()
        optimizer.step()

    step.parameters = model.num_parameters()  # type: ignore[attr-defined]
    step.sync = runner.sync_gradients if sync else None  # type: ignore[attr-defined]
    return step


def _gpt_step_factory(rank_batch: int, sync: bool, comm: Any) -> Callable[[], None] | None:
    try:
        from hyperion.gpt import GPT, GPTConfig
    except ImportError:
        return None
    from hyperion.nn.optim import AdamW
    from hyperion.nn.parallel import DistributedDataParallel

    config = GPTConfig(vocab_size=65, block_size=32, n_layer=2, n_head=4, n_embd=64)
    model = GPT(config, seed=0)
    runner = DistributedDataParallel(model, comm=comm) if sync else model
    optimizer = AdamW(model.parameters(), lr=1e-4)
    rng = np.random.default_rng(comm.Get_rank())
    tokens = rng.integers(0, 65, (rank_batch, config.block_size + 1))

    def step() -> None:
        optimizer.zero_grad()
        _, loss = runner(tokens[:, :-1], tokens[:, 1:])
        loss.backward()
        if sync:
            runner.sync_gradients()
        optimizer.step()

    step.parameters = model.num_parameters()  # type: ignore[attr-defined]
    step.sync = runner.sync_gradients if sync else None  # type: ignore[attr-defined]
    return step


def measure_scaling(comm: Any, name: str, global_batch: int, repeats: int, target_s: float) -> dict[str, Any] | None:
    factory = _mlp_step_factory if name == "mlp" else _gpt_step_factory
    size, me = comm.Get_size(), comm.Get_rank()
    alone = factory(global_batch, False, comm)
    together = factory(global_batch // size, True, comm)
    if alone is None or together is None:
        return None

    def one_rank() -> None:  # rank 0 does the whole batch; the others wait for it
        if me == 0:
            alone()

    samples = _interleaved(comm, {"one": one_rank, "two": together, "sync": together.sync}, repeats, target_s)
    times = {name: statistics.median(values) for name, values in samples.items()}
    nbytes = together.parameters * 4
    return {
        "model": name,
        "parameters": together.parameters,
        "gradient_bytes": nbytes,
        "global_batch": global_batch,
        "step_1_rank": times["one"],
        "step_2_ranks": times["two"],
        "sync_2_ranks": times["sync"],
        "speedup": times["one"] / times["two"],
        "efficiency": times["one"] / (size * times["two"]),
    }


def worker(quick: bool, repeats: int) -> None:
    from hyperion.nn.parallel import abort_on_exception, get_comm

    comm = get_comm()
    abort_on_exception(comm)
    if comm.Get_size() != RANKS:
        raise SystemExit(f"run with mpiexec -n {RANKS}, got {comm.Get_size()} ranks")
    sizes = [8 * 4**k for k in range(8 if quick else 12)]
    target = 0.01 if quick else 0.05
    result: dict[str, Any] = {"collectives": measure_collectives(comm, sizes, repeats, target)}
    batches = {"mlp": 64 if quick else GLOBAL_BATCH, "gpt": 8 if quick else GPT_GLOBAL_BATCH}
    result["scaling"] = [s for s in (measure_scaling(comm, m, batches[m], repeats, target) for m in batches) if s]
    if comm.Get_rank() == 0:
        print(json.dumps(result), flush=True)


# -- the launcher ----------------------------------------------------------------------------------


def _mpiexec() -> str:
    local = Path(sys.executable).parent / "mpiexec"
    return str(local) if local.exists() else "mpiexec"


def launch(mode: str, quick: bool, repeats: int) -> dict[str, Any]:
    env = {**os.environ, **WORKER_ENV, **MODES[mode]}
    command = [_mpiexec(), "-n", str(RANKS), sys.executable, __file__, "--worker", "--repeats", str(repeats)]
    if quick:
        command.append("--quick")
    proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"the {RANKS}-rank job ({mode}) failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def analyse(raw: dict[str, Any]) -> dict[str, Any]:
    rows = raw["collectives"]
    sizes = [r["bytes"] for r in rows]
    alpha, beta = fit_alpha_beta(sizes, [r["p2p"] for r in rows])
    big = [r for r in rows if r["bytes"] >= 1 << 20] or rows[-1:]
    gamma = statistics.median(r["add"] / r["bytes"] for r in big)
    for r in rows:
        r["ring_predicted"] = ring_prediction(r["bytes"], RANKS, alpha, beta, gamma)
    mpi_alpha, mpi_beta = fit_alpha_beta(sizes, [r["mpi"] for r in rows])
    for scaling in raw["scaling"]:
        scaling["sync_predicted"] = ring_prediction(scaling["gradient_bytes"], RANKS, alpha, beta, gamma)
    return {
        "alpha_s": alpha,
        "beta_bytes_per_s": beta,
        "gamma_s_per_byte": gamma,
        "mpi_allreduce_alpha_s": mpi_alpha,
        "mpi_allreduce_beta_bytes_per_s": mpi_beta,
        "collectives": rows,
        "scaling": raw["scaling"],
    }


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:.1f}"


def report(results: dict[str, Any]) -> str:
    parts = [
        format_machine(results["machine"]),
        f"load average at start: {results['load_average']}, HYPERION_KERNELS={results['kernels']}",
        "collectives: fastest of the interleaved repeats; training steps: medians",
    ]
    for mode, data in results["modes"].items():
        parts.append(
            f"\n[{mode}] α = {_us(data['alpha_s'])} µs, β = {data['beta_bytes_per_s'] / 1e9:.2f} GB/s, "
            f"γ (+=) = {data['gamma_s_per_byte'] * 1e9:.3f} ns/B; MPI_Allreduce fit: "
            f"α = {_us(data['mpi_allreduce_alpha_s'])} µs, β = {data['mpi_allreduce_beta_bytes_per_s'] / 1e9:.2f} GB/s"
        )
        rows = [
            [f"{r['bytes']:,}", _us(r["p2p"]), _us(r["mpi"]), _us(r["ring"]), _us(r["ring_predicted"]),
             f"{r['ring'] / r['ring_predicted']:.2f}"]
            for r in data["collectives"]
        ]
        parts.append(format_table(["bytes", "p2p µs", "MPI µs", "ring µs", "ring model µs", "ring/model"], rows))
        for s in data["scaling"]:
            parts.append(
                f"{s['model']} ({s['parameters']:,} parameters, global batch {s['global_batch']}): step 1 rank "
                f"{s['step_1_rank'] * 1e3:.2f} ms, 2 ranks {s['step_2_ranks'] * 1e3:.2f} ms (all-reduce "
                f"{s['sync_2_ranks'] * 1e3:.2f} ms, model {s['sync_predicted'] * 1e3:.2f} ms): speedup "
                f"{s['speedup']:.2f}, efficiency {100 * s['efficiency']:.0f}%"
            )
    return "\n".join(parts)


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--worker", action="store_true", help="(internal) run as one rank of the MPI job")
    args = p.parse_args()
    repeats = args.repeats or (3 if args.quick else 9)
    if args.worker:
        worker(args.quick, repeats)
        return
    results: dict[str, Any] = {
        "benchmark": "allreduce",
        "ranks": RANKS,
        "machine": machine_description(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "kernels": os.environ.get("HYPERION_KERNELS", "default"),
        "worker_env": {**WORKER_ENV, **{f"{mode}": env for mode, env in MODES.items()}},
        "modes": {},
    }
    for mode in MODES:
        results["modes"][mode] = analyse(launch(mode, args.quick, repeats))
    emit(args, report(results), results)


if __name__ == "__main__":
    main()
