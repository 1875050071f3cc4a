"""Training checkpoints: model, optimizer, scheduler, RNG state and extras in one safetensors file.

Layout of a checkpoint file:

* tensors: the model's ``state_dict`` under its own names (so the file is also a
  plain weights file any safetensors reader can use), and the optimizer's state
  tensors as ``optimizer/<param index>/<name>``;
* ``__metadata__`` (strings holding JSON): ``format``, ``format_version``, the
  optimizer's hyperparameters and scalar state, the scheduler's state, the RNG
  bit-generator states and the caller's ``extra`` dict (iteration, best loss, ...);
* ``hyperion.sha256``: a SHA-256 of all of the above, verified on every load.

Files are written atomically (temporary file, fsync, rename), so a crash while
saving leaves the previous checkpoint intact. Loading checks everything that
can be checked before changing anything: a truncated, bit-flipped or altered
file raises :class:`CheckpointError` naming the file. A plain safetensors file
(for example written by ``safetensors.torch.save_file``) loads into a model.

Examples:
    >>> import numpy as np, os, tempfile
    >>> import hyperion.autograd as ag
    >>> from hyperion.nn import Module, Parameter
    >>> from hyperion.nn.optim import SGD
    >>> class Line(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = Parameter(ag.tensor(np.array([1.0, 2.0])))
    >>> model = Line()
    >>> opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
    >>> save(path, model=model, optimizer=opt, extra={"iteration": 7})
    >>> load(path, model=Line(), optimizer=opt).extra
    {'iteration': 7}
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import hyperion.tensor as ht
from hyperion.nn.checkpoint.safetensors import (
    ChecksumError,
    SafetensorsError,
    load_file_with_metadata,
    read_metadata,
    save_file,
)
from hyperion.nn.module import Module
from hyperion.nn.optim.lr_scheduler import LRScheduler
from hyperion.nn.optim.optimizer import Optimizer

FORMAT = "hyperion.checkpoint"
FORMAT_VERSION = 1
DIGEST_KEY = "hyperion.sha256"
OPTIMIZER_PREFIX = "optimizer/"

RngLike = np.random.Generator | Sequence[np.random.Generator] | Mapping[str, np.random.Generator]


class CheckpointError(SafetensorsError):
    """A checkpoint that cannot be written or loaded; the message names the file and the reason."""


class CheckpointChecksumError(CheckpointError, ChecksumError):
    """A checkpoint whose content does not match its stored SHA-256 (or that has none)."""


@dataclass
class Checkpoint:
    """What :func:`load` returns besides the state it loaded into the objects it was given.

    Attributes:
        extra: the ``extra`` dict given to :func:`save` (empty if none).
        rng_states: the saved ``bit_generator.state`` (one, a list or a dict, as saved), or ``None``.
        metadata: the raw ``__metadata__`` strings of the file.
        tensors: every tensor of the file by name (NumPy arrays).
    """

    extra: dict[str, Any] = field(default_factory=dict)
    rng_states: Any = None
    metadata: dict[str, str] = field(default_factory=dict)
    tensors: dict[str, np.ndarray] = field(default_factory=dict, repr=False)


# -- saving ------------------------------------------------------------------------------


def save(
    path: str | os.PathLike[str],
    *,
    model: Module | None = None,
    optimizer: Optimizer | None = None,
    scheduler: LRScheduler | None = None,
    rng: RngLike | None = None,
    extra: Mapping[str, Any] | None = None,
) -> None:
    """Write a checkpoint to ``path`` atomically.

    Args:
        path: the destination (replaced atomically if it exists).
        model: its ``state_dict`` is saved under the parameter names.
        optimizer: its state tensors and hyperparameters.
        scheduler: its ``state_dict``.
        rng: a NumPy ``Generator``, or a list or dict of them; their bit-generator states are saved.
        extra: JSON-serialisable values to keep (iteration, epoch, best loss, configuration, ...).

    Raises:
        CheckpointError: for names that collide, values that cannot be stored, or an ``extra``
            that is not JSON-serialisable.
        OSError: if writing fails (an existing file at ``path`` is then left as it was).
    """
    where = os.fspath(path)
    tensors: dict[str, Any] = {}
    metadata = {"format": FORMAT, "format_version": str(FORMAT_VERSION)}
    if model is not None:
        for name, value in model.state_dict().items():
            if name.startswith(OPTIMIZER_PREFIX):
                raise CheckpointError(
                    f"{where}: model tensor name {name!r} collides with the optimizer's prefix {OPTIMIZER_PREFIX!r}"
                )
            tensors[name] = value.data
    if optimizer is not None:
        state = optimizer.state_dict()
        scalars: dict[str, dict[str, Any]] = {}
        for index, entries in state["state"].items():
            scalars[str(index)] = {}
            for key, value in entries.items():
                if isinstance(value, ht.Tensor):
                    tensors[f"{OPTIMIZER_PREFIX}{index}/{key}"] = value
                else:
                    scalars[str(index)][key] = value
        document = {"class": type(optimizer).__name__, "param_groups": state["param_groups"], "state": scalars}
        metadata["optimizer"] = _dumps(document, "optimizer state", where)
    if scheduler is not None:
        document = {"class": type(scheduler).__name__, "state": scheduler.state_dict()}
        metadata["scheduler"] = _dumps(document, "scheduler state", where)
    if rng is not None:
        metadata["rng"] = _dumps(_rng_states(rng, where), "RNG state", where)
    if extra is not None:
        if not isinstance(extra, Mapping):
            raise CheckpointError(f"{where}: extra must be a dict, got {type(extra).__name__}")
        metadata["extra"] = _dumps(dict(extra), "extra", where)
    try:
        save_file(tensors, where, metadata, digest_key=DIGEST_KEY)
    except CheckpointError:
        raise
    except SafetensorsError as exc:
        raise CheckpointError(f"{where}: {exc}") from exc


def _dumps(value: Any, what: str, where: str) -> str:
    try:
        return json.dumps(value, default=_json_default, allow_nan=True)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{where}: cannot store the {what} as JSON: {exc}") from exc


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _rng_states(rng: RngLike, where: str) -> Any:
    def one(generator: Any, label: str) -> Any:
        if not isinstance(generator, np.random.Generator):
            raise CheckpointError(
                f"{where}: rng {label} must be a numpy.random.Generator, got {type(generator).__name__}"
            )
        return generator.bit_generator.state

    if isinstance(rng, np.random.Generator):
        return {"kind": "single", "states": one(rng, "")}
    if isinstance(rng, Mapping):
        return {"kind": "dict", "states": {str(k): one(g, repr(k)) for k, g in rng.items()}}
    if isinstance(rng, Sequence):
        return {"kind": "list", "states": [one(g, str(i)) for i, g in enumerate(rng)]}
    raise CheckpointError(f"{where}: rng must be a Generator or a list/dict of them, got {type(rng).__name__}")


# -- loading -------------------------------------------------------------------------------


def load(
    path: str | os.PathLike[str],
    *,
    model: Module | None = None,
    optimizer: Optimizer | None = None,
    scheduler: LRScheduler | None = None,
    rng: RngLike | None = None,
    strict: bool = True,
) -> Checkpoint:
    """Read a checkpoint and restore the state of the objects given.

    The file is validated (structure and checksum) and every piece is checked against
    the objects before any of them changes; if one piece fails, the ones already restored
    are rolled back.

    Args:
        path: a file written by :func:`save`, or any safetensors file (then only ``model``).
        model: receives the weights (``strict``: exactly the same names).
        optimizer: receives hyperparameters and state (it must be built over the same parameters).
        scheduler: receives its state (it must be of the same class).
        rng: Generator(s) whose states are restored in place (same structure as saved).
        strict: require the model's names to match the file's exactly.

    Returns:
        A :class:`Checkpoint` with ``extra``, the RNG states and the raw metadata.

    Raises:
        CheckpointError: (a ``ValueError``) naming the file: invalid or corrupt content, a
            checksum mismatch, state that does not fit the objects given, or state asked for
            that the file does not hold.
        OSError: if the file cannot be read.
    """
    where = os.fspath(path)
    try:
        _, metadata = read_metadata(where)
        ours = "format" in metadata or DIGEST_KEY in metadata
        tensors, metadata = load_file_with_metadata(where, digest_key=DIGEST_KEY if ours else None)
    except CheckpointError:
        raise
    except ChecksumError as exc:
        raise CheckpointChecksumError(str(exc)) from exc
    except SafetensorsError as exc:
        raise CheckpointError(str(exc)) from exc
    if ours and (metadata.get("format") != FORMAT or metadata.get("format_version") != str(FORMAT_VERSION)):
        raise CheckpointError(
            f"{where}: unsupported checkpoint format {metadata.get('format')!r} version {metadata.get('format_version')!r} "
            f"(this version reads {FORMAT!r} version {FORMAT_VERSION})"
        )
    result = Checkpoint(metadata=metadata, tensors=tensors)
    result.extra = _section(metadata, "extra", where) or {}
    if not isinstance(result.extra, dict):
        raise CheckpointError(f"{where}: the 'extra' metadata must be a JSON object, got {type(result.extra).__name__}")
    rng_document = _section(metadata, "rng", where)
    model_tensors = {name: value for name, value in tensors.items() if not name.startswith(OPTIMIZER_PREFIX)}

    if model is not None:
        model_tensors = _precheck_model(model, model_tensors, strict, where)
    if rng is not None:
        if rng_document is None:
            raise CheckpointError(f"{where}: holds no RNG state, but rng was given")
        pending_rng = _match_rng(rng, rng_document, where)
    optimizer_state = None
    if optimizer is not None:
        optimizer_state = _optimizer_state(optimizer, tensors, _section(metadata, "optimizer", where), where)
    scheduler_document = None
    if scheduler is not None:
        scheduler_document = _section(metadata, "scheduler", where)
        if scheduler_document is None:
            raise CheckpointError(f"{where}: holds no scheduler state, but a scheduler was given")
        if not isinstance(scheduler_document, dict) or not isinstance(scheduler_document.get("state"), dict):
            raise CheckpointError(f"{where}: the scheduler metadata is malformed")
        if scheduler_document.get("class") != type(scheduler).__name__:
            raise CheckpointError(
                f"{where}: the scheduler state is for {scheduler_document.get('class')!r}, not {type(scheduler).__name__}"
            )

    previous_optimizer = optimizer.state_dict() if optimizer is not None else None
    try:
        if optimizer is not None:
            optimizer.load_state_dict(optimizer_state)
        if scheduler is not None:
            scheduler.load_state_dict(scheduler_document["state"])
    except (ValueError, TypeError, KeyError) as exc:
        if optimizer is not None:
            optimizer.load_state_dict(previous_optimizer)
        raise CheckpointError(f"{where}: {exc}") from exc
    if rng is not None:
        for generator, state in pending_rng:
            generator.bit_generator.state = state
    if model is not None:
        model.load_state_dict(model_tensors, strict=strict)
    result.rng_states = None if rng_document is None else rng_document.get("states")
    return result


def _section(metadata: Mapping[str, str], key: str, where: str) -> Any:
    text = metadata.get(key)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError as exc:
        raise CheckpointError(f"{where}: the {key!r} metadata is not valid JSON ({exc})") from None


def _precheck_model(
    model: Module, tensors: Mapping[str, np.ndarray], strict: bool, where: str
) -> dict[str, np.ndarray]:
    """Check names, shapes and dtypes against the model; return the tensors it takes, in its dtypes."""
    own = model.state_dict()
    missing = [key for key in own if key not in tensors]
    unexpected = [key for key in tensors if key not in own]
    if strict and (missing or unexpected):
        raise CheckpointError(
            f"{where}: the weights do not match {type(model).__name__}: missing keys {missing}, unexpected keys {unexpected}"
        )
    mismatched = [
        f"{key}: file {tuple(tensors[key].shape)} vs model {own[key].shape}"
        for key in own
        if key in tensors and tuple(tensors[key].shape) != own[key].shape
    ]
    if mismatched:
        raise CheckpointError(f"{where}: tensor shapes do not match the model: " + "; ".join(mismatched))
    unreadable = [
        f"{key} ({tensors[key].dtype})" for key in own if key in tensors and tensors[key].dtype.kind not in "biuf"
    ]
    if unreadable:
        raise CheckpointError(f"{where}: tensors of unsupported dtype: {', '.join(unreadable)}")
    # Converted here (e.g. a U16 buffer, which hyperion.tensor has no dtype for) so the copy cannot fail later.
    return {key: tensors[key].astype(own[key].dtype, copy=False) for key in own if key in tensors}


def _optimizer_state(
    optimizer: Optimizer, tensors: Mapping[str, np.ndarray], document: Any, where: str
) -> dict[str, Any]:
    if document is None:
        raise CheckpointError(f"{where}: holds no optimizer state, but an optimizer was given")
    if not isinstance(document, dict) or document.get("class") != type(optimizer).__name__:
        found = document.get("class") if isinstance(document, dict) else None
        raise CheckpointError(f"{where}: the optimizer state is for {found!r}, not {type(optimizer).__name__}")
    state: dict[str, dict[str, Any]] = {}
    scalars = document.get("state")
    if not isinstance(scalars, dict):
        raise CheckpointError(f"{where}: the optimizer state has no per-parameter 'state' dict")
    for index, entries in scalars.items():
        if not isinstance(entries, dict):
            raise CheckpointError(f"{where}: the optimizer state of parameter {index} is not a dict")
        state[index] = dict(entries)
    for name, array in tensors.items():
        if not name.startswith(OPTIMIZER_PREFIX):
            continue
        index, _, key = name[len(OPTIMIZER_PREFIX) :].partition("/")
        if not key:
            raise CheckpointError(f"{where}: optimizer tensor {name!r} is not named optimizer/<index>/<name>")
        state.setdefault(index, {})[key] = array
    return {"state": state, "param_groups": document.get("param_groups")}


def _match_rng(rng: RngLike, document: Any, where: str) -> list[tuple[np.random.Generator, Any]]:
    if not isinstance(document, dict) or "kind" not in document or "states" not in document:
        raise CheckpointError(f"{where}: the RNG metadata is malformed")
    kind, states = document["kind"], document["states"]
    if isinstance(rng, np.random.Generator):
        pairs = [(rng, states)] if kind == "single" else None
    elif isinstance(rng, Mapping):
        pairs = (
            [(g, states[str(k)]) for k, g in rng.items()]
            if kind == "dict" and isinstance(states, dict) and set(states) == {str(k) for k in rng}
            else None
        )
    else:
        rng = list(rng)
        pairs = (
            list(zip(rng, states)) if kind == "list" and isinstance(states, list) and len(states) == len(rng) else None
        )
    if pairs is None:
        saved = len(states) if isinstance(states, list | dict) else 1
        raise CheckpointError(
            f"{where}: the file holds RNG state of kind {kind!r} ({saved}), which does not match the rng given"
        )
    for generator, state in pairs:
        if not isinstance(generator, np.random.Generator):
            raise CheckpointError(
                f"{where}: rng must hold numpy.random.Generator objects, got {type(generator).__name__}"
            )
        expected = type(generator.bit_generator).__name__
        if not isinstance(state, dict) or state.get("bit_generator") != expected:
            found = state.get("bit_generator") if isinstance(state, dict) else state
            raise CheckpointError(
                f"{where}: the saved RNG state is for {found!r}, but the generator given uses {expected}"
            )
        # Validate by restoring into a scratch generator of the same kind (the given one stays untouched).
        try:
            type(generator.bit_generator)().state = state
        except (TypeError, ValueError, KeyError) as exc:
            raise CheckpointError(f"{where}: invalid saved RNG state ({exc})") from exc
    return pairs
