"""Reading and writing graphs as JSON traces.

A trace is one JSON object (UTF-8) in the ``hyperion-graph`` format, version 1::

    {
      "format": "hyperion-graph",
      "version": 1,
      "nodes": [
        {"id": "n0", "op": "matmul", "inputs": ["x", "w"], "outputs": ["h"]},
        {"id": "n1", "op": "relu", "inputs": ["h"], "outputs": ["y"]}
      ],
      "tensors": [
        {"id": "x", "bytes": 4096, "shape": [32, 32], "dtype": "float32"},
        {"id": "w", "bytes": 4096},
        {"id": "h", "bytes": 4096},
        {"id": "y", "bytes": 4096}
      ],
      "outputs": ["y"]
    }

Field by field:

* ``format`` (string, required): exactly ``"hyperion-graph"``.
* ``version`` (integer, required): ``1``.
* ``nodes`` (array, required): one object per op, in any order, with ``id`` (string, unique
  among nodes), ``op`` (string), ``inputs`` and ``outputs`` (arrays of tensor ids). A tensor
  may be listed twice in ``inputs``; it is one dependency.
* ``tensors`` (array, required): one object per tensor with ``id`` (string, unique among
  tensors), ``bytes`` (integer ``>= 0``), and optionally ``shape`` (array of integers
  ``>= 0``) and ``dtype`` (string). A tensor that no node outputs is a graph input.
* ``outputs`` (array, required): ids of the tensors that must stay live until the end.

Keys not listed here are ignored, so exporters may attach metadata. Loading never evaluates
anything from the file: it is parsed with :func:`json.loads` (``NaN`` and ``Infinity``
rejected), checked field by field, then validated as a graph (unknown ids, a tensor produced
twice, a cycle). Every problem raises :class:`~hyperion.autograd.scheduler.graph.GraphError`
naming the JSON location or the ids involved, e.g. ``tensors[2].bytes: expected an integer,
got the number 1.5`` or ``unknown tensor id 'h9' in the inputs of node 'n3'``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from hyperion.tensor.files import write_text_atomic

from .graph import Graph, GraphError, Node, TensorInfo

__all__ = [
    "TRACE_FORMAT",
    "TRACE_VERSION",
    "dump_trace",
    "dumps_trace",
    "graph_from_dict",
    "graph_to_dict",
    "load_trace",
    "loads_trace",
]

TRACE_FORMAT = "hyperion-graph"
TRACE_VERSION = 1


def graph_to_dict(graph: Graph) -> dict[str, Any]:
    """The trace object of ``graph`` (JSON-serialisable, keys in the documented order)."""
    tensors: list[dict[str, Any]] = []
    for info in graph.tensors:
        entry: dict[str, Any] = {"id": info.id, "bytes": info.nbytes}
        if info.shape is not None:
            entry["shape"] = list(info.shape)
        if info.dtype is not None:
            entry["dtype"] = info.dtype
        tensors.append(entry)
    return {
        "format": TRACE_FORMAT,
        "version": TRACE_VERSION,
        "nodes": [{"id": n.id, "op": n.op, "inputs": list(n.inputs), "outputs": list(n.outputs)} for n in graph.nodes],
        "tensors": tensors,
        "outputs": list(graph.outputs),
    }


def graph_from_dict(obj: Any) -> Graph:
    """Build a :class:`Graph` from a parsed trace object.

    Raises:
        GraphError: If the object does not follow the format, naming the JSON location.
    """
    if not isinstance(obj, dict):
        raise GraphError(f"a trace must be a JSON object, got {_json_type(obj)}")
    if obj.get("format") != TRACE_FORMAT:
        raise GraphError(f"format must be {TRACE_FORMAT!r}, got {obj.get('format')!r}")
    version = obj.get("version")
    if not _is_int(version) or version != TRACE_VERSION:
        raise GraphError(f"unsupported trace version {version!r} (this reader reads version 1)")
    raw_nodes = _field(obj, "nodes", list, "trace")
    raw_tensors = _field(obj, "tensors", list, "trace")
    outputs = _id_list(_field(obj, "outputs", list, "trace"), "outputs")

    tensors: list[TensorInfo] = []
    for i, raw in enumerate(raw_tensors):
        where = f"tensors[{i}]"
        if not isinstance(raw, dict):
            raise GraphError(f"{where}: expected an object, got {_json_type(raw)}")
        ident = _field(raw, "id", str, where)
        nbytes = _field(raw, "bytes", int, where)
        if nbytes < 0:
            raise GraphError(f"{where}: tensor {ident!r} has negative bytes: {nbytes}")
        shape = raw.get("shape")
        if shape is not None:
            if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
                raise GraphError(f"{where}.shape: expected a list of integers >= 0, got {shape!r}")
            shape = tuple(shape)
        dtype = raw.get("dtype")
        if dtype is not None and not isinstance(dtype, str):
            raise GraphError(f"{where}.dtype: expected a string, got {_json_type(dtype)}")
        tensors.append(TensorInfo(ident, nbytes, shape, dtype))

    nodes: list[Node] = []
    for i, raw in enumerate(raw_nodes):
        where = f"nodes[{i}]"
        if not isinstance(raw, dict):
            raise GraphError(f"{where}: expected an object, got {_json_type(raw)}")
        nodes.append(
            Node(
                _field(raw, "id", str, where),
                _field(raw, "op", str, where),
                _id_list(_field(raw, "inputs", list, where), f"{where}.inputs"),
                _id_list(_field(raw, "outputs", list, where), f"{where}.outputs"),
            )
        )
    return Graph(nodes, tensors, outputs)


def dumps_trace(graph: Graph, indent: int | None = None) -> str:
    """Serialise ``graph`` to trace text."""
    return json.dumps(graph_to_dict(graph), indent=indent)


def loads_trace(text: str | bytes) -> Graph:
    """Parse and validate trace text.

    Raises:
        GraphError: If the text is not JSON or not a valid trace.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            raise GraphError(f"not UTF-8 text: {err.reason} at byte {err.start}") from None
    try:
        obj = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as err:
        raise GraphError(f"not valid JSON: {err.msg} (line {err.lineno}, column {err.colno})") from None
    except RecursionError:
        raise GraphError("not a trace: JSON nested too deeply") from None
    return graph_from_dict(obj)


def load_trace(path: str | os.PathLike[str]) -> Graph:
    """Read and validate the trace file at ``path``.

    Raises:
        OSError: If the file cannot be read.
        GraphError: If its content is not a valid trace.
    """
    return loads_trace(Path(path).read_bytes())


def dump_trace(graph: Graph, path: str | os.PathLike[str], indent: int | None = None) -> None:
    """Write ``graph`` to ``path`` atomically (a temporary file in the same folder, renamed)."""
    write_text_atomic(path, dumps_trace(graph, indent=indent) + "\n")


def _reject_constant(name: str) -> Any:
    raise GraphError(f"not valid JSON: {name} is not a JSON number")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"the number {value!r}"
    return names.get(type(value), type(value).__name__)


def _field(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in obj:
        raise GraphError(f"{where}: missing key {key!r}")
    value = obj[key]
    ok = _is_int(value) if kind is int else isinstance(value, kind)
    if not ok:
        wanted = {int: "an integer", str: "a string", list: "an array"}[kind]
        raise GraphError(f"{where}.{key}: expected {wanted}, got {_json_type(value)}")
    return value


def _id_list(values: list[Any], where: str) -> tuple[str, ...]:
    for i, value in enumerate(values):
        if not isinstance(value, str):
            raise GraphError(f"{where}[{i}]: expected a tensor id string, got {_json_type(value)}")
    return tuple(values)
