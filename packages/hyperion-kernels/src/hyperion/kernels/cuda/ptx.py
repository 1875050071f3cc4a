"""Compile every CUDA kernel to PTX without a GPU, and read its resource usage.

:func:`compile_kernel` runs numba-cuda's ``compile_ptx`` for a chosen compute
capability (``sm_80``, ``sm_90``, ...): the same typing and code generation a
launch on that GPU would run. :func:`resource_usage` then assembles the PTX
to machine code with the nvJitLink library shipped with the same CUDA release
as the NVVM that wrote the PTX (``ptxas`` from an older toolkit rejects a
newer PTX ISA version), falling back to a ``ptxas`` binary on ``PATH``, and
parses the registers, shared memory and spills it reports.
:func:`occupancy` turns those into the theoretical occupancy.

numba-cuda compiles a kernel's ``cuda.jit(device=True)`` callees by asking the
driver for the current device's compute capability, which fails on a machine
without a driver. While compiling, :func:`compile_kernel` answers that one
question with the target capability requested (see :func:`_target_device`).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ARCH_LIMITS = {
    # Per-SM limits from the CUDA C++ Programming Guide's table of compute
    # capabilities: 64K 32-bit registers, 2048 resident threads (64 warps),
    # 32 resident blocks; shared memory 164 KB (8.0) / 228 KB (9.0) per SM,
    # of which the runtime reserves 1 KB per resident block.
    "sm_80": {"registers": 65536, "threads": 2048, "blocks": 32, "smem": 164 * 1024},
    "sm_90": {"registers": 65536, "threads": 2048, "blocks": 32, "smem": 228 * 1024},
}
RESERVED_SMEM_PER_BLOCK = 1024
"""The runtime's per-block shared-memory reservation. For ``sm_90`` the
assembler's figure already includes it (the same kernel reports exactly 1024
bytes more for ``sm_90`` than for ``sm_80``), so it is added for ``sm_80`` only."""
REGISTER_GRANULE = 256  # registers are allocated to a warp in chunks of 256
WARP_SIZE = 32


@dataclass(frozen=True)
class KernelSpec:
    """One kernel in the catalogue.

    Attributes:
        name: Stable name used in reports.
        source: ``dtype_name -> Python function`` (the kernel's source function).
        signature: ``dtype_name -> numba signature string`` matching a real launch.
        threads_per_block: What the launch wrapper uses (for occupancy).
    """

    name: str
    source: Callable[[str], Callable[..., Any]]
    signature: Callable[[str], str]
    threads_per_block: int


def _jit_source(name: str) -> Callable[[str], Callable[..., Any]]:
    """``dtype -> py_func`` for a module-level ``@cuda.jit`` kernel ``module:attr``."""

    def source(dtype: str) -> Callable[..., Any]:
        import importlib

        module, attr = name.split(":")
        return importlib.import_module(f"hyperion.kernels.cuda.{module}").__dict__[attr].py_func

    return source


def _factory_source(name: str) -> Callable[[str], Callable[..., Any]]:
    def source(dtype: str) -> Callable[..., Any]:
        import importlib

        module, attr = name.split(":")
        return getattr(importlib.import_module(f"hyperion.kernels.cuda.{module}"), attr)(dtype)

    return source


def catalog() -> list[KernelSpec]:
    """Every CUDA kernel of the package with the signature its launch wrapper produces."""

    def a(dtype: str, ndim: int) -> str:
        return f"{dtype}[{', '.join([':'] * (ndim - 1) + ['::1'])}]"

    mask = "b1[:, :, ::1]"
    return [
        KernelSpec(
            "softmax_forward",
            _jit_source("softmax:softmax_forward_kernel"),
            lambda t: f"void({a(t, 2)}, {a(t, 2)})",
            256,
        ),
        KernelSpec(
            "softmax_backward",
            _jit_source("softmax:softmax_backward_kernel"),
            lambda t: f"void({a(t, 2)}, {a(t, 2)}, {a(t, 2)})",
            256,
        ),
        KernelSpec(
            "layer_norm_forward",
            _jit_source("layernorm:layer_norm_forward_kernel"),
            lambda t: (
                f"void({a(t, 2)}, {a(t, 1)}, {a(t, 1)}, boolean, boolean, float64, {a(t, 2)}, {a(t, 1)}, {a(t, 1)})"
            ),
            256,
        ),
        KernelSpec(
            "layer_norm_backward",
            _jit_source("layernorm:layer_norm_backward_kernel"),
            lambda t: f"void({a(t, 2)}, {a(t, 2)}, {a(t, 1)}, {a(t, 1)}, {a(t, 1)}, boolean, {a(t, 2)})",
            256,
        ),
        KernelSpec(
            "layer_norm_param_grad",
            _jit_source("layernorm:layer_norm_param_grad_kernel"),
            lambda t: f"void({a(t, 2)}, {a(t, 2)}, {a(t, 1)}, {a(t, 1)}, {a(t, 1)}, {a(t, 1)})",
            128,
        ),
        KernelSpec(
            "matmul_tiled",
            _factory_source("matmul:matmul_kernel_source"),
            lambda t: f"void({a(t, 2)}, {a(t, 2)}, {a(t, 2)}, boolean)",
            256,
        ),
        KernelSpec(
            "attention_forward",
            _factory_source("attention:forward_kernel_source"),
            lambda t: f"void({a(t, 3)}, {a(t, 3)}, {a(t, 3)}, {mask}, boolean, boolean, float64, {a(t, 3)}, {a(t, 2)})",
            32,
        ),
        KernelSpec(
            "attention_backward_q",
            _factory_source("attention_backward:backward_q_kernel_source"),
            lambda t: (
                f"void({a(t, 3)}, {a(t, 3)}, {a(t, 3)}, {mask}, boolean, boolean, float64, "
                f"{a(t, 3)}, {a(t, 2)}, {a(t, 2)}, {a(t, 3)})"
            ),
            32,
        ),
        KernelSpec(
            "attention_backward_kv",
            _factory_source("attention_backward:backward_kv_kernel_source"),
            lambda t: (
                f"void({a(t, 3)}, {a(t, 3)}, {a(t, 3)}, {mask}, boolean, boolean, float64, "
                f"{a(t, 3)}, {a(t, 2)}, {a(t, 2)}, {a(t, 3)}, {a(t, 3)})"
            ),
            32,
        ),
        KernelSpec(
            "fdtd_h_update",
            _jit_source("fdtd:fdtd_h_kernel"),
            lambda t: f"void({', '.join([a(t, 3)] * 8)}, {', '.join([a(t, 4)] * 3)}, int32[::1])",
            128,
        ),
        KernelSpec(
            "fdtd_e_update",
            _jit_source("fdtd:fdtd_e_kernel"),
            lambda t: f"void({', '.join([a(t, 3)] * 9)}, {', '.join([a(t, 4)] * 3)}, int32[::1])",
            128,
        ),
    ]


@contextlib.contextmanager
def _target_device(cc: tuple[int, int]) -> Iterator[None]:
    """Make numba-cuda's device-function compiler see compute capability ``cc``.

    ``numba.cuda.dispatcher`` asks ``get_current_device()`` for the capability
    when it compiles a device function called from the kernel being compiled;
    without a driver that call fails. Inside this context it returns a stand-in
    with the requested capability; nothing else is affected.
    """
    from unittest import mock

    import numba.cuda.dispatcher as dispatcher

    class _Target:
        compute_capability = cc

    with mock.patch.object(dispatcher, "get_current_device", lambda: _Target()):
        yield


def compile_kernel(spec: KernelSpec, dtype: str, arch: str) -> str:
    """PTX of ``spec`` for ``dtype`` (``"float32"``/``"float64"``) and ``arch`` (``"sm_80"``).

    Raises:
        RuntimeError: if ``numba.cuda`` is the simulator (it cannot compile).
        Exception: whatever numba-cuda raises when the kernel does not compile.
    """
    from numba.cuda import compile_ptx

    from hyperion.kernels.cuda.device import simulator_enabled

    if simulator_enabled():
        raise RuntimeError("numba.cuda is the simulator in this process (NUMBA_ENABLE_CUDASIM); PTX needs the compiler")
    cc = (int(arch[3:-1]), int(arch[-1]))
    with _target_device(cc):
        ptx, _ = compile_ptx(spec.source(dtype), spec.signature(dtype), cc=cc)
    return ptx


def ptx_version(ptx: str) -> str | None:
    """The ``.version`` (PTX ISA) line of a PTX module."""
    match = re.search(r"^\.version\s+(\S+)", ptx, re.MULTILINE)
    return match.group(1) if match else None


def _nvjitlink_log(ptx: str, arch: str) -> str:
    from cuda.bindings import nvjitlink

    options = [f"-arch={arch}", "-verbose"]
    handle = nvjitlink.create(len(options), options)
    try:
        data = ptx.encode()
        nvjitlink.add_data(handle, nvjitlink.InputType.PTX, data, len(data), "kernel")
        nvjitlink.complete(handle)
        size = nvjitlink.get_info_log_size(handle)
        log = bytearray(size)
        nvjitlink.get_info_log(handle, log)
    finally:
        nvjitlink.destroy(handle)
    return log.decode(errors="replace")


def _ptxas_log(ptx: str, arch: str) -> str:
    ptxas = shutil.which("ptxas") or "/usr/local/cuda/bin/ptxas"
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "kernel.ptx"
        source.write_text(ptx)
        done = subprocess.run(
            [ptxas, f"-arch={arch}", "-v", str(source), "-o", str(Path(tmp) / "kernel.cubin")],
            capture_output=True,
            text=True,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(f"{ptxas} failed: {done.stderr.strip()}")
    return done.stderr


def assembler_versions() -> dict[str, str | None]:
    """Versions of the assemblers :func:`resource_usage` can use (``None`` if absent)."""
    versions: dict[str, str | None] = {"nvjitlink": None, "ptxas": None}
    try:
        from cuda.bindings import nvjitlink

        versions["nvjitlink"] = ".".join(map(str, nvjitlink.version()))
    except Exception:  # not installed or its library cannot load
        pass
    ptxas = shutil.which("ptxas") or "/usr/local/cuda/bin/ptxas"
    if Path(ptxas).exists():
        out = subprocess.run([ptxas, "--version"], capture_output=True, text=True, check=False).stdout
        match = re.search(r"release (\S+),", out)
        versions["ptxas"] = match.group(1) if match else None
    return versions


def resource_usage(ptx: str, arch: str) -> dict[str, Any]:
    """Registers, static shared memory, spills of the (single) kernel in ``ptx``.

    Returns:
        ``{"assembler", "registers", "smem_bytes", "spill_bytes", "stack_bytes"}``;
        ``{"assembler": None, "error": ...}`` when no assembler accepted the PTX.
    """
    errors = []
    for assembler, run in (("nvjitlink", _nvjitlink_log), ("ptxas", _ptxas_log)):
        try:
            log = run(ptx, arch)
        except Exception as exc:  # try the next assembler; report all failures
            errors.append(f"{assembler}: {type(exc).__name__}: {exc}".strip())
            continue
        registers = re.search(r"Used (\d+) registers", log)
        if registers is None:
            errors.append(f"{assembler}: no register count in its log")
            continue
        smem = re.search(r"(\d+) bytes smem", log)
        spills = re.search(r"(\d+) bytes spill stores", log)
        stack = re.search(r"(\d+) bytes stack frame", log)
        return {
            "assembler": assembler,
            "registers": int(registers.group(1)),
            "smem_bytes": int(smem.group(1)) if smem else 0,
            "spill_bytes": int(spills.group(1)) if spills else 0,
            "stack_bytes": int(stack.group(1)) if stack else 0,
        }
    return {"assembler": None, "error": "; ".join(errors)}


def occupancy(registers: int, smem_bytes: int, threads_per_block: int, arch: str) -> dict[str, Any]:
    """Theoretical occupancy: resident warps per SM over the maximum (64).

    Each limit gives a number of resident blocks; the smallest wins:
    registers (``65536 / (registers rounded up per warp to 256 * warps)``),
    threads (``2048 / threads``), blocks (32) and shared memory
    (``smem per SM / (smem per block + 1 KB reserved)``; see
    :data:`RESERVED_SMEM_PER_BLOCK`).

    Examples:
        >>> occupancy(32, 0, 256, "sm_80")["occupancy"]
        1.0
        >>> occupancy(128, 0, 256, "sm_80")["limiter"]
        'registers'
    """
    limits = ARCH_LIMITS[arch]
    warps = -(-threads_per_block // WARP_SIZE)
    regs_per_warp = -(-max(registers, 1) * WARP_SIZE // REGISTER_GRANULE) * REGISTER_GRANULE
    smem_per_block = smem_bytes + (RESERVED_SMEM_PER_BLOCK if arch == "sm_80" else 0)
    by = {  # on a tie the first limit listed is named
        "threads": limits["threads"] // (warps * WARP_SIZE),
        "blocks": limits["blocks"],
        "registers": (limits["registers"] // regs_per_warp) // warps,
        "shared memory": limits["smem"] // smem_per_block if smem_per_block else limits["blocks"],
    }
    limiter = min(by, key=lambda key: by[key])
    blocks = by[limiter]
    max_warps = limits["threads"] // WARP_SIZE
    return {"blocks_per_sm": blocks, "occupancy": blocks * warps / max_warps, "limiter": limiter}
