"""The op observer hook and the profiler built on it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import hyperion.autograd as ag


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, Any]] = []

    def on_forward(self, fn_name: str, inputs: Any, outputs: Any, seconds: float) -> None:
        self.events.append(("forward", fn_name, [getattr(t, "shape", None) for t in inputs]))

    def on_backward(self, fn_name: str, grad_outputs: Any, grad_inputs: Any, seconds: float) -> None:
        self.events.append(("backward", fn_name, [g.shape for g in grad_outputs]))


def test_observer_sees_forward_and_backward() -> None:
    recorder = Recorder()
    x = ag.ones(2, 3, requires_grad=True)
    with ag.observe_ops(recorder):
        assert ag.get_op_observer() is recorder
        loss = (x * 2).sum()
        loss.backward()
    assert ag.get_op_observer() is None
    assert recorder.events[:2] == [("forward", "Mul", [(2, 3), None]), ("forward", "Sum", [(2, 3), None, None])]
    backward = [e for e in recorder.events if e[0] == "backward"]
    assert backward == [("backward", "Sum", [()]), ("backward", "Mul", [(2, 3)])]


def test_set_op_observer_returns_the_previous_one() -> None:
    recorder = Recorder()
    assert ag.set_op_observer(recorder) is None
    try:
        ag.ones(1) * 2
    finally:
        assert ag.set_op_observer(None) is recorder
    assert recorder.events and ag.get_op_observer() is None


def test_an_observer_needs_both_methods() -> None:
    with pytest.raises(TypeError, match="on_forward"):
        ag.observe_ops(object())


def test_profile_records_summary_and_chrome_trace(tmp_path: Path) -> None:
    x = ag.randn(32, 32, seed=0, requires_grad=True)
    with ag.profile() as prof:
        (x @ x).tanh().sum().backward()
    phases = {(r.name, r.phase) for r in prof.records}
    assert {("Matmul", "forward"), ("Tanh", "forward"), ("Matmul", "backward"), ("Tanh", "backward")} <= phases
    matmul = next(r for r in prof.records if r.name == "Matmul" and r.phase == "forward")
    assert matmul.input_shapes == ((32, 32), (32, 32)) and matmul.dtype == "float32" and matmul.device == "cpu"
    assert matmul.bytes == 32 * 32 * 4 and matmul.duration > 0

    table = prof.summary().splitlines()
    assert table[0].split()[:3] == ["op", "phase", "calls"]
    totals = [float(line.split()[3]) for line in table[2:]]
    assert totals == sorted(totals, reverse=True)

    path = prof.export_chrome_trace(tmp_path / "trace.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trace.json"]  # no temporary file left
    events = json.loads(path.read_text())["traceEvents"]
    assert len(events) == len(prof.records)
    for event in events:
        assert event["ph"] == "X" and event["dur"] >= 0 and isinstance(event["ts"], float)
        assert event["cat"] in ("forward", "backward")
    assert {"Matmul", "MatmulBackward", "TanhBackward"} <= {e["name"] for e in events}


def test_nested_ops_are_subtracted_from_self_time() -> None:
    x = ag.randn(16, 16, seed=0, requires_grad=True)
    with ag.profile() as prof:
        (x @ x).sum().backward()
    own = prof.self_times()
    for record, self_time in zip(prof.records, own, strict=True):
        assert self_time <= record.duration + 1e-12
    backward = next(k for k, r in enumerate(prof.records) if r.name == "Matmul" and r.phase == "backward")
    assert own[backward] < prof.records[backward].duration  # the matmuls inside it were subtracted


def test_nothing_is_recorded_outside_the_block() -> None:
    with ag.profile() as prof:
        pass
    ag.ones(2, requires_grad=True).exp().sum().backward()
    assert prof.records == []
