"""Load a scenario under a cap on the address space and report what happened, as one JSON line.

Usage: ``python load_limited.py SCENARIO.toml LIMIT_BYTES``. The cap (``RLIMIT_AS``) turns an absurd
allocation into a ``MemoryError`` instead of swapping the machine; ``tracemalloc`` measures the peak
of the allocations made while loading.
"""

from __future__ import annotations

import json
import resource
import sys
import tracemalloc


def main(path: str, limit: int) -> None:
    from hyperion.physics.scenario import load_scenario

    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    tracemalloc.start()
    outcome = {"error": None, "message": ""}
    try:
        load_scenario(path)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, whatever it is
        outcome = {"error": type(exc).__name__, "message": str(exc)}
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps({**outcome, "peak": peak}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
