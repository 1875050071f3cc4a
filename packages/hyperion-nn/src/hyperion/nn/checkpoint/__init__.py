"""Checkpoints in the safetensors format: a from-scratch reader/writer and model/optimizer/scheduler/RNG save & load.

Examples:
    >>> import numpy as np, os, tempfile
    >>> from hyperion.nn import checkpoint
    >>> path = os.path.join(tempfile.mkdtemp(), "t.safetensors")
    >>> checkpoint.save_file({"x": np.arange(3, dtype=np.int64)}, path)
    >>> checkpoint.load_file(path)["x"].tolist()
    [0, 1, 2]
"""

from hyperion.nn.checkpoint.checkpoint import (
    DIGEST_KEY,
    FORMAT,
    FORMAT_VERSION,
    Checkpoint,
    CheckpointChecksumError,
    CheckpointError,
    load,
    save,
)
from hyperion.nn.checkpoint.safetensors import (
    MAX_HEADER_BYTES,
    ChecksumError,
    SafetensorsError,
    atomic_write,
    load_file,
    load_file_with_metadata,
    read_metadata,
    save_file,
)

__all__ = [
    "DIGEST_KEY",
    "FORMAT",
    "FORMAT_VERSION",
    "MAX_HEADER_BYTES",
    "Checkpoint",
    "CheckpointChecksumError",
    "CheckpointError",
    "ChecksumError",
    "SafetensorsError",
    "atomic_write",
    "load",
    "load_file",
    "load_file_with_metadata",
    "read_metadata",
    "save",
    "save_file",
]
