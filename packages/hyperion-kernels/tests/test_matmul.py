"""Every rung of the matmul ladder equals ``np.matmul``, on sizes that leave partial tiles."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

numba = pytest.importorskip("numba")

from hyperion.kernels.cpu import matmul  # noqa: E402
from hyperion.kernels.cpu.cache_info import CacheSizes, cache_sizes, parse_size  # noqa: E402
from hyperion.kernels.cpu.matmul import KERNELS, LADDER, MR, NR, panel_sizes, simd_sizes, tile_side, tiled  # noqa: E402
from hyperion.tensor.errors import DTypeError, ShapeError  # noqa: E402

TOL = {np.float32: 1e-5, np.float64: 1e-12}


def check(fn, a: np.ndarray, b: np.ndarray) -> None:  # noqa: ANN001
    got = fn(a, b)
    want = a.astype(np.float64) @ b.astype(np.float64)
    assert got.dtype == a.dtype and got.shape == want.shape
    scale = np.abs(a).astype(np.float64) @ np.abs(b).astype(np.float64)  # the size of the sum's terms
    assert np.all(np.abs(got - want) <= TOL[a.dtype.type] * (scale + 1e-30)), fn.__name__


@pytest.mark.parametrize("name", list(LADDER))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_rung_matches_matmul_on_odd_sizes(name, dtype):  # noqa: ANN001, ANN201
    rng = np.random.default_rng(0)
    # k = 300 and 1537 leave a vector tail (300 % 16) and unequal k-blocks; n = 1037 a partial panel
    for m, k, n in [(1, 1, 1), (MR + 3, 300, 17), (29, 31, 1037), (2 * MR + 1, 1537, NR + 1), (3, 0, 4), (0, 5, 3)]:
        check(LADDER[name], rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype))


@settings(max_examples=10, deadline=None)
@given(m=st.integers(1, 40), k=st.integers(1, 40), n=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_random_shapes_all_rungs(m, k, n, seed):  # noqa: ANN001, ANN201
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((m, k)), rng.standard_normal((k, n))
    for fn in LADDER.values():
        check(fn, a, b)


def test_small_tiles_and_non_contiguous_input():  # noqa: ANN201
    rng = np.random.default_rng(1)
    a = rng.standard_normal((50, 70))[:, ::2]  # non-contiguous (50, 35)
    b = rng.standard_normal((35, 23))
    np.testing.assert_allclose(tiled(a, b, side=16), a @ b, rtol=1e-12, atol=1e-12)
    for fn in LADDER.values():
        check(fn, a, b)


def test_block_sizes_follow_the_caches():  # noqa: ANN201
    sizes = cache_sizes()
    side = tile_side(4)
    assert side % 16 == 0 and side * side * 4 <= max(sizes.l2 // 2, 16 * 16 * 4)
    kc, nc = panel_sizes(4)
    assert kc % 64 == 0 and nc % 64 == 0
    assert kc * nc * 4 <= max(sizes.l2 // 2, kc * 64 * 4)
    assert MR * kc * 4 <= max(sizes.l1d * 3 // 4, MR * 64 * 4) and kc <= 1024
    assert parse_size("48K") == 48 * 1024 and parse_size("2M") == 2 * 1024**2 and parse_size("512") == 512
    with pytest.raises(ValueError, match="cache size"):
        parse_size("big")


def test_cache_fallback(tmp_path):  # noqa: ANN001, ANN201
    assert cache_sizes.__wrapped__(tmp_path / "missing") == CacheSizes(l1d=32 * 1024, l2=1024 * 1024, source="fallback")
    index = tmp_path / "index0"
    index.mkdir()
    (index / "level").write_text("1\n")
    (index / "type").write_text("Data\n")
    (index / "size").write_text("64K\n")
    index2 = tmp_path / "index2"
    index2.mkdir()
    (index2 / "level").write_text("2\n")
    (index2 / "type").write_text("Unified\n")
    (index2 / "size").write_text("1280K\n")
    assert cache_sizes.__wrapped__(tmp_path) == CacheSizes(l1d=64 * 1024, l2=1280 * 1024, source="sysfs")


def test_errors_and_registry_table():  # noqa: ANN201
    with pytest.raises(ShapeError, match=r"\(2, 3\) and \(2, 3\)"):
        LADDER["naive"](np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(DTypeError, match="int64"):
        LADDER["packed"](np.zeros((2, 2), dtype=np.int64), np.zeros((2, 2), dtype=np.int64))
    assert KERNELS == {}
    assert list(LADDER) == ["naive", "reordered", "tiled", "packed", "simd", "parallel"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_micro_kernels_and_their_fmas(dtype):  # noqa: ANN001, ANN201
    """Both micro-kernels compute their block of ``C``; their loops compile to vector FMAs."""
    rng = np.random.default_rng(2)
    kc = 16 * 3 + 5
    suffix = "ps" if dtype == np.float32 else "pd"
    # rung 4: an MR × NR block of dot products of packed rows of A and of Bᵀ (at offset jj = NR)
    ap, bt = rng.standard_normal((MR, kc)).astype(dtype), rng.standard_normal((3 * NR, kc)).astype(dtype)
    tile = np.full((MR, NR), np.nan, dtype)
    matmul._micro(ap, bt, NR, kc, tile)
    want = ap.astype(np.float64) @ bt[NR : 2 * NR].astype(np.float64).T
    np.testing.assert_allclose(tile, want, rtol=TOL[dtype] * 10, atol=TOL[dtype] * 10)
    fresh = numba.njit(fastmath=matmul._MICRO_FLAGS, boundscheck=False, error_model="numpy")(matmul._micro.py_func)
    fresh(ap, bt, NR, kc, tile)  # uncached copy: cached code has no assembly to inspect
    assert f"vfmadd231{suffix}" in fresh.inspect_asm(fresh.signatures[0]) or "fma" not in _cpu_flags()
    # rung 5: the MR × NR_SIMD block Σ_k outer(ap[k], bp[k]) of k-major panels
    kc_simd, nr = simd_sizes(np.dtype(dtype).itemsize)
    assert nr * np.dtype(dtype).itemsize == 2 * matmul.VECTOR_BYTES and kc_simd % 64 == 0
    ap, bp = rng.standard_normal((kc, MR)).astype(dtype), rng.standard_normal((kc, nr)).astype(dtype)
    tile = np.full((MR, nr), np.nan, dtype)
    matmul._micro_simd(ap, bp, kc, tile)
    want = ap.astype(np.float64).T @ bp.astype(np.float64)
    np.testing.assert_allclose(tile, want, rtol=TOL[dtype] * 10, atol=TOL[dtype] * 10)
    fresh = numba.njit(boundscheck=False, error_model="numpy")(matmul._micro_simd.py_func)
    fresh(ap, bp, kc, tile)
    asm = fresh.inspect_asm(fresh.signatures[0])
    assert f"vfmadd231{suffix}" in asm or "fma" not in _cpu_flags()
    if "avx512f" in _cpu_flags():
        assert re.search(rf"vfmadd231{suffix}\s[^\n]*%zmm", asm), "512-bit FMAs expected with AVX-512"


def test_simd_intrinsic_rejects_strided_panels():  # noqa: ANN201
    a = np.zeros((8, 16), np.float32)[:, ::2]  # not C-contiguous
    with pytest.raises(numba.core.errors.TypingError):
        matmul._micro_simd(a, np.zeros((8, 32), np.float32), 8, np.zeros((8, 32), np.float32))


def _cpu_flags() -> str:
    try:
        with open("/proc/cpuinfo") as handle:
            return handle.read()
    except OSError:
        return ""
