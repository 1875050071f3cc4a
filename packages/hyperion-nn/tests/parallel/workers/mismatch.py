"""Worker: rank 1 builds a wider hidden layer than rank 0; wrapping must fail on every rank."""

from __future__ import annotations

from hyperion.nn.containers import Sequential
from hyperion.nn.layers.linear import Linear
from hyperion.nn.parallel import DistributedDataParallel, ParameterMismatchError, get_comm


def main() -> None:
    comm = get_comm()
    hidden = 8 if comm.Get_rank() == 0 else 9
    model = Sequential(Linear(4, hidden, seed=0), Linear(hidden, 2, seed=1))
    try:
        DistributedDataParallel(model, comm=comm)
    except ParameterMismatchError as error:
        print(f"rank {comm.Get_rank()}: ParameterMismatchError: {error}", flush=True)
        return
    print(f"rank {comm.Get_rank()}: no error", flush=True)


if __name__ == "__main__":
    main()
