"""Worker: rank 1 raises in the middle of training while rank 0 waits in an all-reduce.

Without :func:`hyperion.nn.parallel.abort_on_exception` rank 0 would wait forever;
with it, the job ends with a non-zero status. ``--no-hook`` leaves the hook out
(used to show the hang the hook prevents — only with a short timeout).
"""

from __future__ import annotations

import sys

import numpy as np

import hyperion.autograd as ag
from hyperion.nn.layers.linear import Linear
from hyperion.nn.parallel import DistributedDataParallel, abort_on_exception, get_comm


def main() -> None:
    comm = get_comm()
    if "--no-hook" not in sys.argv:
        abort_on_exception(comm)
    model = DistributedDataParallel(Linear(4, 2, seed=0).double(), comm=comm)
    x = ag.tensor(np.ones((3, 4)))
    for step in range(1000):
        if comm.Get_rank() == 1 and step == 3:
            raise RuntimeError("rank 1 failed on purpose at step 3")
        model(x).sum().backward()
        model.sync_gradients()
    print("finished without noticing the crash", flush=True)


if __name__ == "__main__":
    main()
