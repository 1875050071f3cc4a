"""The MPI runtime: finding mpi4py, the world communicator, who is rank 0, aborting a broken job.

``hyperion.nn`` never needs MPI to import or to train in one process. This module
imports :mod:`mpi4py` only when a parallel feature is first used, and the helpers
:func:`world_size`, :func:`rank` and :func:`is_main_process` answer ``1``, ``0``
and ``True`` in a process that was not launched by ``mpiexec`` — so code written
for data-parallel training runs unchanged as a single process.

A launch by ``mpiexec``/``mpirun`` is recognised from the environment its
process manager sets for every rank (``PMI_SIZE`` for MPICH's Hydra,
``OMPI_COMM_WORLD_SIZE`` for Open MPI, ``PMIX_RANK`` for PMIx launchers).

Examples:
    >>> world_size(), rank(), is_main_process()  # a plain ``python`` process
    (1, 0, True)
"""

from __future__ import annotations

import os
import sys
import threading
import time
from types import ModuleType, TracebackType
from typing import Any

from hyperion.tensor.errors import HyperionError

__all__ = [
    "MPIUnavailableError",
    "abort_on_exception",
    "get_comm",
    "is_main_process",
    "is_mpi_launch",
    "launch_world_size",
    "rank",
    "world_size",
]

#: Environment variables a process manager sets with the number of ranks it launched.
_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "MPI_LOCALNRANKS")
#: Variables that are present in a launched rank even when no size variable is.
_RANK_VARIABLES = ("PMI_RANK", "OMPI_COMM_WORLD_RANK", "PMIX_RANK")

_INSTALL_HINT = (
    "install the MPI extra: pip install 'hyperion-nn[distributed]' "
    "(mpi4py with the MPICH library from PyPI), or mpi4py against a system MPI (apt install libopenmpi-dev)"
)

_lock = threading.Lock()
_hook_installed = False


class MPIUnavailableError(HyperionError, RuntimeError):
    """Data-parallel training was asked for, but mpi4py (or an MPI library) cannot be loaded."""


def launch_world_size() -> int | None:
    """The number of ranks the process manager says it launched, or ``None`` outside ``mpiexec``.

    Reads the environment only; MPI is not initialised.
    """
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name)
        if value is not None and value.strip().isdigit():
            return int(value)
    if any(name in os.environ for name in _RANK_VARIABLES):
        return 1
    return None


def is_mpi_launch() -> bool:
    """Whether this process was started by an MPI process manager (``mpiexec -n N ...``)."""
    return launch_world_size() is not None


def _import_mpi() -> ModuleType:
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise MPIUnavailableError(f"data-parallel training needs mpi4py, which cannot be imported ({error}); {_INSTALL_HINT}") from None
    except RuntimeError as error:  # mpi4py present but its MPI library missing or broken
        raise MPIUnavailableError(f"mpi4py cannot load an MPI library ({error}); {_INSTALL_HINT}") from None
    return MPI


def get_comm() -> Any:
    """``MPI.COMM_WORLD``, initialising MPI on first use.

    Raises:
        MPIUnavailableError: if mpi4py or its MPI library is not installed, naming how to install it.
    """
    return _import_mpi().COMM_WORLD


def _mpi_if_running() -> Any:
    """The world communicator if MPI is (or must be) in use, else ``None`` (no import)."""
    if "mpi4py.MPI" in sys.modules:
        MPI = sys.modules["mpi4py.MPI"]
        if MPI.Is_initialized() and not MPI.Is_finalized():
            return MPI.COMM_WORLD
    if is_mpi_launch():
        return get_comm()
    return None


def world_size() -> int:
    """The number of ranks in the job (1 outside ``mpiexec``)."""
    comm = _mpi_if_running()
    return 1 if comm is None else int(comm.Get_size())


def rank() -> int:
    """This process's rank in the job, ``0 ≤ rank < world_size()`` (0 outside ``mpiexec``)."""
    comm = _mpi_if_running()
    return 0 if comm is None else int(comm.Get_rank())


def is_main_process() -> bool:
    """Whether this is rank 0, the one that prints progress and writes checkpoints."""
    return rank() == 0


ABORT_GRACE_SECONDS = 0.5
"""Pause between printing an uncaught exception and aborting the job (lets the output through)."""


def abort_on_exception(comm: Any = None) -> None:
    """Make an uncaught exception on any rank end the whole job with an error instead of a hang.

    Without it, a rank that dies from an exception leaves the others blocked forever in
    their next collective (an all-reduce waits for every rank). The hook prints the
    traceback as usual, then calls ``comm.Abort(1)``, which makes the process manager
    kill every rank and ``mpiexec`` exit with a non-zero status. Installing it twice is
    harmless; a single-rank job keeps Python's normal behaviour.

    Args:
        comm: the communicator to abort (``MPI.COMM_WORLD`` by default).
    """
    global _hook_installed
    comm = get_comm() if comm is None else comm
    if comm.Get_size() == 1:
        return
    with _lock:
        if _hook_installed:
            return
        previous = sys.excepthook

        def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
            previous(kind, value, tb)
            sys.stderr.write(f"rank {comm.Get_rank()}: uncaught {kind.__name__}: aborting all {comm.Get_size()} ranks\n")
            sys.stderr.flush()
            # Abort makes the process manager kill every rank at once; give it a moment to
            # forward what this rank just wrote, or the traceback can be cut off mid-line.
            time.sleep(ABORT_GRACE_SECONDS)
            comm.Abort(1)

        sys.excepthook = hook
        _hook_installed = True
