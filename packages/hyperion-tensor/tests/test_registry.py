"""Tests of the kernel registry.

Most tests use the test-only distribution in ``tests/fixtures/demo_provider``
(``hyperion-demo-provider``), which declares the provider ``demo`` through a
real entry point in ``hyperion.kernels``; they are skipped if it is not
installed. Each test builds its own :class:`KernelRegistry`, so nothing here
depends on, or changes, the selection of the registry the tensor ops use.
Duplicate names and broken providers are declared with hand-written
``*.dist-info`` folders in a temporary directory, seen by a subprocess.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import os
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from hyperion.tensor import registry
from hyperion.tensor.registry import (
    DuplicateProviderError,
    KernelNotFoundError,
    KernelRegistry,
    KernelSelectionError,
    OpInfo,
    ProviderLoadWarning,
)

DEMO_DIST = "hyperion-demo-provider"
DEMO_MODULE = "hyperion_demo_provider"


def _installed(dist: str) -> bool:
    try:
        importlib.metadata.distribution(dist)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


needs_demo = pytest.mark.skipif(
    not _installed(DEMO_DIST),
    reason=f"the test distribution {DEMO_DIST} is not installed; "
    "install it with: pip install packages/hyperion-tensor/tests/fixtures/demo_provider",
)


class CountingReference:
    """The tests' reference for ``demo.override``: ``x + 1``, counting calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, x: Any) -> Any:
        self.calls += 1
        return x + 1


class RuntimeProvider:
    """A provider object for ``register_provider``."""

    def __init__(self, name: str, table: dict[tuple[str, str], Callable[..., Any]]) -> None:
        self.name = name
        self.table = table

    def kernels(self) -> dict[tuple[str, str], Callable[..., Any]]:
        return self.table


@pytest.fixture(autouse=True)
def no_env_selection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HYPERION_KERNELS", raising=False)


@pytest.fixture
def ref() -> CountingReference:
    return CountingReference()


@pytest.fixture
def reg(ref: CountingReference) -> KernelRegistry:
    """A fresh registry over the installed entry points, with a reference for demo.override."""
    fresh = KernelRegistry()
    fresh.register_reference("demo.override", ref)
    return fresh


@pytest.fixture
def isolated() -> KernelRegistry:
    """A fresh registry that sees no installed providers."""
    return KernelRegistry(entry_points=lambda: [])


def run_python(code: str, *path_dirs: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with ``path_dirs`` first on its path."""
    child_env = {k: v for k, v in os.environ.items() if k != "HYPERION_KERNELS"}
    child_env["PYTHONPATH"] = os.pathsep.join([*map(str, path_dirs), os.environ.get("PYTHONPATH", "")]).rstrip(
        os.pathsep
    )
    child_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=child_env, timeout=120, check=False
    )


def write_dist_info(root: Path, dist: str, entry_points: dict[str, str]) -> None:
    """Declare an installed distribution with ``hyperion.kernels`` entry points, by hand."""
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    lines = "".join(f"{name} = {value}\n" for name, value in entry_points.items())
    (info / "entry_points.txt").write_text(f"[hyperion.kernels]\n{lines}")


# -- discovery and lazy loading ---------------------------------------------------------


def test_importing_reads_no_environment_and_loads_no_provider() -> None:
    code = (
        "import sys\n"
        "import hyperion.tensor, hyperion.tensor.registry as r\n"
        f"assert {DEMO_MODULE!r} not in sys.modules, 'provider imported at import time'\n"
        "try:\n"
        "    r.lookup('anything', 'cpu')\n"
        "except r.KernelSelectionError as exc:\n"
        "    print('LOOKUP:', exc)\n"
    )
    result = run_python(code, env={"HYPERION_KERNELS": "no-such-provider"})
    assert result.returncode == 0, f"import failed with an invalid HYPERION_KERNELS:\n{result.stderr}"
    assert "LOOKUP:" in result.stdout, f"the invalid spec was not reported at first lookup:\n{result.stdout}"
    assert "HYPERION_KERNELS" in result.stdout and "'no-such-provider'" in result.stdout, result.stdout


@needs_demo
def test_demo_is_discovered_through_its_entry_point(reg: KernelRegistry) -> None:
    infos = {info.name: info for info in reg.providers()}
    assert "demo" in infos, f"demo provider not discovered; providers: {sorted(infos)}"
    demo = infos["demo"]
    assert (demo.source, demo.distribution, demo.value) == ("entry point", DEMO_DIST, f"{DEMO_MODULE}:provider"), demo
    assert demo.enabled and not demo.failed, demo
    assert [info.name for info in reg.providers()][-1] == "reference", "reference must come last by default"


@needs_demo
def test_provider_module_is_imported_only_on_first_lookup(reg: KernelRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, DEMO_MODULE, raising=False)
    assert not {info.name: info for info in reg.providers()}["demo"].loaded
    assert DEMO_MODULE not in sys.modules, "listing providers imported the provider module"
    with reg.use_kernels("-demo"):
        reg.lookup("demo.override", "cpu")
    assert DEMO_MODULE not in sys.modules, "a disabled provider was imported"
    reg.lookup("demo.override", "cpu")
    assert DEMO_MODULE in sys.modules, "the first lookup did not load the provider"
    assert {info.name: info for info in reg.providers()}["demo"].loaded


# -- selection ---------------------------------------------------------------------------


@needs_demo
def test_demo_is_selected_by_default(reg: KernelRegistry, ref: CountingReference) -> None:
    assert reg.which("demo.override", "cpu") == "demo"
    kernel = reg.lookup("demo.override", "cpu")
    demo = kernel.__self__
    demo.reset()
    assert kernel(41) == 42
    assert demo.calls["demo.override"] == 1 and ref.calls == 0, "the reference ran instead of the demo kernel"
    # demo only implements cpu; cuda falls through to the reference.
    assert reg.which("demo.override", "cuda") == "reference"
    assert reg.lookup("demo.override", "cuda") is ref
    assert reg.lookup("demo.scale", "cpu")(3) == 6 and demo.calls["demo.scale"] == 1


@needs_demo
def test_use_kernels_disables_a_provider(reg: KernelRegistry, ref: CountingReference) -> None:
    with reg.use_kernels("-demo"):
        assert reg.which("demo.override", "cpu") == "reference"
        assert reg.lookup("demo.override", "cpu")(1) == 2 and ref.calls == 1
        assert not {info.name: info for info in reg.providers()}["demo"].enabled
        # demo was never loaded (it is disabled), so the error can only say it was not searched...
        with pytest.raises(
            KernelNotFoundError, match=r"'demo\.scale'.*'cpu'.*Disabled providers \(not searched\): demo"
        ):
            reg.lookup("demo.scale", "cpu")
    reg.lookup("demo.scale", "cpu")
    with reg.use_kernels("-demo"):
        # ...and once loaded, that demo implements it.
        with pytest.raises(
            KernelNotFoundError, match=r"'demo\.scale'.*'cpu'.*only disabled providers implement it \(demo\)"
        ):
            reg.lookup("demo.scale", "cpu")
    assert reg.which("demo.override", "cpu") == "demo", "the selection leaked out of the with block"


@needs_demo
def test_priority_order_puts_listed_providers_first(reg: KernelRegistry) -> None:
    with reg.use_kernels("reference"):
        assert reg.which("demo.override", "cpu") == "reference"
        assert reg.which("demo.scale", "cpu") == "demo", "unlisted providers must stay enabled after the listed ones"
        names = [info.name for info in reg.providers()]  # other installed providers (cpu, cuda) may follow too
        assert names[0] == "reference" and "demo" in names[1:], names


@needs_demo
def test_nested_contexts_compose_and_restore(reg: KernelRegistry) -> None:
    with reg.use_kernels("-demo"):
        with reg.use_kernels("reference"):
            assert reg.which("demo.override", "cpu") == "reference"
            assert not {i.name: i for i in reg.providers()}["demo"].enabled, "inner block forgot the outer '-demo'"
            with reg.use_kernels("demo"):
                assert reg.which("demo.override", "cpu") == "demo", "an inner block could not re-enable demo"
            assert reg.which("demo.override", "cpu") == "reference"
        assert reg.which("demo.override", "cpu") == "reference"
    assert reg.which("demo.override", "cpu") == "demo"


@needs_demo
def test_environment_variable_sets_the_default(reg: KernelRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    # Set after the registry exists: it is read when first needed, not before.
    monkeypatch.setenv("HYPERION_KERNELS", " -demo ")
    assert reg.which("demo.override", "cpu") == "reference"
    with reg.use_kernels("demo"):
        assert reg.which("demo.override", "cpu") == "demo", "use_kernels must override the environment default"
    monkeypatch.setenv("HYPERION_KERNELS", "")
    assert reg.which("demo.override", "cpu") == "reference", "the variable must be read once, not on every lookup"
    reg.set_default_kernels(None)  # re-read the environment
    assert reg.which("demo.override", "cpu") == "demo"


@needs_demo
def test_set_default_kernels(reg: KernelRegistry, ref: CountingReference) -> None:
    demo_kernel = reg.lookup("demo.override", "cpu")
    assert demo_kernel.__self__.name == "demo" and reg.lookup("demo.override", "cpu") is demo_kernel  # cached
    reg.set_default_kernels("-demo")
    assert reg.lookup("demo.override", "cpu") is ref, "the cached resolution survived a new default"
    assert reg.which("demo.override", "cpu") == "reference"
    with reg.use_kernels("demo,-reference"):
        assert reg.lookup("demo.override", "cpu") is demo_kernel
    reg.set_default_kernels(None)
    assert reg.lookup("demo.override", "cpu") is demo_kernel


@needs_demo
def test_threads_see_their_own_selection(reg: KernelRegistry) -> None:
    both_inside = threading.Barrier(2, timeout=10)

    def worker(spec: str) -> str:
        with reg.use_kernels(spec):
            both_inside.wait()  # both threads now hold different selections
            seen = reg.which("demo.override", "cpu")
            both_inside.wait()
            return seen

    with reg.use_kernels("reference"), ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(worker, "-demo"), pool.submit(worker, "demo")]
        seen = [future.result(timeout=20) for future in futures]
        assert reg.which("demo.override", "cpu") == "reference", "a thread changed the main thread's selection"
    assert seen == ["reference", "demo"], f"threads saw each other's selections: {seen}"


@needs_demo
def test_asyncio_tasks_see_their_own_selection(reg: KernelRegistry) -> None:
    async def task(spec: str) -> str:
        with reg.use_kernels(spec):
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            return reg.which("demo.override", "cpu")

    async def main() -> list[str]:
        return list(await asyncio.gather(task("-demo"), task("demo"), task("reference,demo")))

    assert asyncio.run(main()) == ["reference", "demo", "reference"]


def test_default_order_is_by_name_then_reference(isolated: KernelRegistry) -> None:
    isolated.register_reference("op", lambda: "reference")
    for name in ("zeta", "alpha"):
        isolated.register_provider(RuntimeProvider(name, {("op", "cpu"): lambda name=name: name}))
    assert [info.name for info in isolated.providers()] == ["alpha", "zeta", "reference"]
    assert isolated.which("op", "cpu") == "alpha"
    with isolated.use_kernels("zeta"):
        assert isolated.lookup("op", "cpu")() == "zeta"
    with isolated.use_kernels("-alpha,-zeta"):
        assert isolated.lookup("op", "cpu")() == "reference"


# -- errors ------------------------------------------------------------------------------


@needs_demo
def test_unknown_provider_names_are_rejected(reg: KernelRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(
        KernelSelectionError, match=r"unknown kernel provider 'nosuch'; known providers: .*demo.*reference"
    ) as err:
        reg.use_kernels("demo,nosuch")
    assert isinstance(err.value, ValueError)
    with pytest.raises(ValueError, match=r"default kernel selection.*'nosuch'"):
        reg.set_default_kernels("-nosuch")
    monkeypatch.setenv("HYPERION_KERNELS", "cuda-typo")
    with pytest.raises(
        ValueError, match=r"environment variable HYPERION_KERNELS 'cuda-typo' names unknown kernel provider"
    ):
        reg.lookup("demo.override", "cpu")


@pytest.mark.parametrize(
    ("spec", "message"),
    [("-", r"'-' without a provider name"), ("reference,-reference", r"mentions provider 'reference' more than once")],
)
def test_malformed_specs_are_rejected(isolated: KernelRegistry, spec: str, message: str) -> None:
    with pytest.raises(KernelSelectionError, match=message):
        isolated.use_kernels(spec)


@needs_demo
def test_disabling_the_reference_without_a_provider_is_an_error(reg: KernelRegistry) -> None:
    with reg.use_kernels("-reference"):
        assert reg.which("demo.override", "cpu") == "demo", "demo still implements the op on cpu"
        with pytest.raises(KernelNotFoundError) as err:
            reg.lookup("demo.override", "cuda")
    message = str(err.value)
    assert "'demo.override'" in message and "'cuda'" in message, message
    assert "reference implementation is disabled" in message and "-reference" in message, message
    assert (err.value.op, err.value.device) == ("demo.override", "cuda")


def test_unknown_op_lists_close_matches(isolated: KernelRegistry) -> None:
    isolated.register_reference("softmax", lambda x: x)
    isolated.register_reference("log_softmax", lambda x: x)
    with pytest.raises(KernelNotFoundError) as err:
        isolated.lookup("sofmax", "cpu")
    message = str(err.value)
    assert "'sofmax'" in message and "'cpu'" in message, message
    assert "Did you mean 'softmax'" in message, message
    assert "Known ops: log_softmax, softmax" in message, message
    assert isinstance(err.value, LookupError)


def test_wrong_or_unknown_device_is_named(isolated: KernelRegistry) -> None:
    isolated.register_reference("only_cpu", lambda x: x, devices=["cpu"])
    with pytest.raises(KernelNotFoundError, match=r"'only_cpu' on device 'cuda': it is only implemented for cpu"):
        isolated.lookup("only_cpu", "cuda")
    with pytest.raises(KernelNotFoundError, match=r"device 'tpu': unknown device; devices are cpu, cuda"):
        isolated.lookup("only_cpu", "tpu")
    with pytest.raises(ValueError, match=r"unknown device 'tpu'"):
        isolated.register_reference("only_cpu", lambda x: x, devices=["tpu"])


def test_failing_provider_warns_once_and_is_skipped(isolated: KernelRegistry) -> None:
    broken = importlib.metadata.EntryPoint(
        name="broken", value="hyperion_no_such_module:provider", group="hyperion.kernels"
    )
    reg = KernelRegistry(entry_points=lambda: [broken])
    reg.register_reference("op", lambda: "reference")
    with pytest.warns(
        ProviderLoadWarning, match=r"'broken'.*failed to load.*No module named 'hyperion_no_such_module'"
    ):
        assert reg.which("op", "cpu") == "reference"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second warning would raise here
        assert reg.lookup("op", "cpu")() == "reference"
        info = {info.name: info for info in reg.providers()}["broken"]
    assert info.failed and not info.loaded and "ModuleNotFoundError" in (info.error or ""), info
    with reg.use_kernels("broken"):  # still a known name, just skipped
        assert reg.which("op", "cpu") == "reference"


def test_real_entry_point_that_fails_to_load(tmp_path: Path) -> None:
    write_dist_info(tmp_path, "hyperion-broken-provider", {"broken": "hyperion_no_such_module:provider"})
    code = (
        "import json, warnings\n"
        "from hyperion.tensor import registry as r\n"
        "r.register_reference('test.op', lambda: 1)\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    used = [r.which('test.op', 'cpu'), r.which('test.op', 'cuda')]\n"
        "info = [p for p in r.providers() if p.name == 'broken'][0]\n"
        "print(json.dumps({'used': used, 'warnings': [str(w.message) for w in caught\n"
        "    if issubclass(w.category, r.ProviderLoadWarning)], 'failed': info.failed, 'error': info.error}))\n"
    )
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["used"] == ["reference", "reference"]
    assert len(report["warnings"]) == 1, f"expected one warning, got {report['warnings']}"
    assert "'hyperion-broken-provider'" in report["warnings"][0] and "HYPERION_KERNELS=-broken" in report["warnings"][0]
    assert report["failed"] and "No module named 'hyperion_no_such_module'" in report["error"], report


DUPLICATE_PROBE = (
    "from hyperion.tensor import registry as r\n"
    "try:\n"
    "    r.lookup('anything', 'cpu')\n"
    "except r.DuplicateProviderError as exc:\n"
    "    print('DUPLICATE', exc.name, sorted(exc.distributions))\n"
    "    print(exc)\n"
)


def test_duplicate_entry_point_names_are_rejected(tmp_path: Path) -> None:
    write_dist_info(tmp_path, "hyperion-twin-a", {"twin": "twin_a:provider"})
    write_dist_info(tmp_path, "hyperion-twin-b", {"twin": "twin_b:provider"})
    result = run_python(DUPLICATE_PROBE, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "DUPLICATE twin ['hyperion-twin-a', 'hyperion-twin-b']" in result.stdout, result.stdout
    assert "two kernel providers are named 'twin'" in result.stdout, result.stdout


@needs_demo
def test_duplicate_of_the_installed_demo_is_rejected(tmp_path: Path) -> None:
    write_dist_info(tmp_path, "hyperion-demo-impostor", {"demo": "impostor:provider"})
    result = run_python(DUPLICATE_PROBE, tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"DUPLICATE demo {sorted([DEMO_DIST, 'hyperion-demo-impostor'])}" in result.stdout, result.stdout
    assert f"'{DEMO_MODULE}:provider'" in result.stdout and "'impostor:provider'" in result.stdout, result.stdout


@needs_demo
def test_register_provider_rejects_a_taken_name(reg: KernelRegistry) -> None:
    with pytest.raises(DuplicateProviderError, match=rf"named 'demo'.*{DEMO_DIST}.*<registered at runtime>"):
        reg.register_provider(RuntimeProvider("demo", {}))
    with pytest.raises(DuplicateProviderError, match=r"'reference' is reserved"):
        reg.register_provider(RuntimeProvider("reference", {}))


def test_register_provider_checks_the_kernel_table(isolated: KernelRegistry) -> None:
    with pytest.raises(TypeError, match=r"provider 'bad': kernel keys must be \(op, device\) string pairs, got 'op'"):
        isolated.register_provider(RuntimeProvider("bad", {"op": len}))  # type: ignore[dict-item]
    with pytest.raises(ValueError, match=r"provider 'bad': kernel \('op', 'gpu'\) has unknown device 'gpu'"):
        isolated.register_provider(RuntimeProvider("bad", {("op", "gpu"): len}))
    with pytest.raises(KernelSelectionError, match=r"got '-bad'"):
        isolated.register_provider(RuntimeProvider("-bad", {}))
    with pytest.raises(ValueError, match=r"cannot unregister kernel provider 'bad'; known providers: reference"):
        isolated.unregister_provider("bad")


# -- caching -----------------------------------------------------------------------------


def test_registration_invalidates_cached_resolutions(isolated: KernelRegistry) -> None:
    def first(x: int) -> int:
        return x

    def second(x: int) -> int:
        return -x

    def fast(x: int) -> int:
        return x * 10

    isolated.register_reference("op", first)
    assert isolated.lookup("op", "cpu") is first and isolated.lookup("op", "cpu") is first  # now cached
    isolated.register_reference("op", second)  # e.g. the defining module was reloaded
    assert isolated.lookup("op", "cpu") is second, "re-registering the reference did not replace it"
    isolated.register_provider(RuntimeProvider("fast", {("op", "cpu"): fast}))
    assert isolated.which("op", "cpu") == "fast" and isolated.lookup("op", "cpu") is fast
    with isolated.use_kernels("-fast"):
        assert isolated.lookup("op", "cpu") is second
    isolated.unregister_provider("fast")
    assert isolated.lookup("op", "cpu") is second, "a removed provider is still served from the cache"


# -- listings and the module-level API ------------------------------------------------


@needs_demo
def test_ops_lists_implementers_in_priority_order(reg: KernelRegistry) -> None:
    rows = {(row.op, row.device): row for row in reg.ops()}
    assert rows["demo.override", "cpu"] == OpInfo("demo.override", "cpu", ("demo", "reference"))
    assert rows["demo.override", "cuda"].providers == ("reference",)
    assert rows["demo.scale", "cpu"].providers == ("demo",)
    with reg.use_kernels("reference,-demo"):
        rows = {(row.op, row.device): row for row in reg.ops()}
        assert rows["demo.override", "cpu"].providers == ("reference",)
        assert ("demo.scale", "cpu") not in rows, "ops of disabled providers are not listed"


def test_module_level_functions_use_the_default_registry() -> None:
    @registry.reference("test_registry.triple", devices=["cpu"])
    def triple(x: int) -> int:
        return 3 * x

    assert triple(2) == 6, "the decorator must return the function unchanged"
    assert registry.lookup("test_registry.triple", "cpu") is triple
    assert registry.which("test_registry.triple", "cpu") == "reference"
    assert OpInfo("test_registry.triple", "cpu", ("reference",)) in registry.ops()
    provider = RuntimeProvider("test-registry-triple", {("test_registry.triple", "cpu"): lambda x: 3 * x})
    registry.register_provider(provider)
    try:
        assert registry.which("test_registry.triple", "cpu") == "test-registry-triple"
        with registry.use_kernels("-test-registry-triple"):
            assert registry.lookup("test_registry.triple", "cpu") is triple
    finally:
        registry.unregister_provider("test-registry-triple")
    assert registry.lookup("test_registry.triple", "cpu") is triple
