"""Worker: the hand-written ring all-reduce against MPI's, over sizes and dtypes; rank 0 prints JSON."""

from __future__ import annotations

import json

import numpy as np
from mpi4py import MPI

from hyperion.nn.parallel import ring_allreduce


def main() -> None:
    comm = MPI.COMM_WORLD
    me = comm.Get_rank()
    report = []
    for dtype in (np.float64, np.float32):
        for n in (1, 2, 3, 7, 64, 1001):
            values = np.random.default_rng([n, me]).standard_normal(n).astype(dtype)
            expected = values.copy()
            comm.Allreduce(MPI.IN_PLACE, expected, op=MPI.SUM)
            ours = ring_allreduce(comm, values.copy())
            everyone = np.empty((comm.Get_size(), n), dtype=dtype)
            comm.Allgather(ours, everyone)
            report.append({
                "dtype": np.dtype(dtype).name,
                "n": n,
                "max_error": float(np.abs(ours.astype(np.float64) - expected).max()),
                "ranks_identical": bool((everyone.view(np.uint8) == everyone[:1].view(np.uint8)).all()),
            })
    if me == 0:
        print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
