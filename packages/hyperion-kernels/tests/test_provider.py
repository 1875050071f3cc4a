"""The cpu provider: lazy loading, its kernel table, and the path without Numba."""

from __future__ import annotations

import subprocess
import sys

import pytest

from hyperion.kernels.cpu import CpuProvider

OWN_OPS = {
    "nn.softmax_forward", "nn.softmax_backward", "nn.log_softmax_forward", "nn.log_softmax_backward",
    "nn.layer_norm_forward", "nn.layer_norm_backward", "nn.rms_norm_forward", "nn.rms_norm_backward",
    "nn.gelu_forward", "nn.gelu_backward", "nn.cross_entropy_forward", "nn.cross_entropy_backward",
    "nn.im2col", "nn.col2im", "nn.adamw_step",
}  # fmt: skip


def test_provider_offers_every_cpu_kernel() -> None:
    pytest.importorskip("numba")
    table = CpuProvider().kernels()
    assert OWN_OPS <= {op for op, _ in table}
    assert {device for _, device in table} == {"cpu"}
    assert all(callable(fn) for fn in table.values())


def test_importing_the_provider_imports_no_kernel_module() -> None:
    code = (
        "import sys; import hyperion.kernels.cpu as cpu; "
        "print(any(m.startswith('hyperion.kernels.cpu.') for m in sys.modules), 'numba' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "False"]


def test_without_numba_the_provider_offers_nothing_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "numba", None)  # `import numba` now raises ImportError
    provider = CpuProvider()
    assert provider.kernels() == {}
    assert provider.unavailable is not None and "Numba is not installed" in provider.unavailable
    assert "hyperion-kernels[cpu]" in provider.unavailable


def test_require_numba_flag_simulates_the_plain_install() -> None:
    provider = CpuProvider(require_numba=False)
    assert provider.kernels() == {}
    assert "require_numba=False" in provider.unavailable


def test_modules_that_are_not_installed_are_skipped() -> None:
    pytest.importorskip("numba")
    provider = CpuProvider(modules=("softmax", "no_such_module"))
    assert {op for op, _ in provider.kernels()} == {
        "nn.softmax_forward", "nn.softmax_backward", "nn.log_softmax_forward", "nn.log_softmax_backward",
    }  # fmt: skip
    assert provider.missing == ["no_such_module"]


def test_the_entry_point_is_declared() -> None:
    from importlib.metadata import entry_points

    names = {ep.name: ep.value for ep in entry_points(group="hyperion.kernels")}
    assert names.get("cpu") == "hyperion.kernels.cpu:provider"
