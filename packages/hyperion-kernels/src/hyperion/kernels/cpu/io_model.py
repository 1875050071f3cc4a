"""A two-level memory simulator: count slow-memory traffic of attention algorithms as they run.

The FlashAttention paper's IO analysis (Theorem 2) uses a machine with a *fast* memory of
``M`` elements (GPU SRAM; on a CPU, a cache) in front of a large *slow* memory (HBM; DRAM).
Arithmetic happens only on data in fast memory; moving an element between the two costs one
access. :class:`TwoLevelMemory` enforces that model: an algorithm *loads* blocks (each
element counts one slow read and occupies fast memory), computes on them, *stores* results
(one slow write per element) and *frees* them. A load that would overflow ``M`` raises, so
the counts are those of an algorithm that really fits.

Two algorithms run on it, computing real outputs (checked against ``softmax(q kᵀ·s) v``):

* :func:`standard_attention` (the paper's Algorithm 0): ``S = Q Kᵀ`` written to slow memory,
  ``P = softmax(S)`` read and written back, ``O = P V`` — Θ(N d + N²) accesses;
* :func:`flash_attention` (Algorithm 1): for each key block ``K_j, V_j`` (``B_c`` rows), for
  each query block ``Q_i`` (``B_r`` rows), load ``Q_i, O_i, ℓ_i, m_i``, update them with the
  online softmax and write them back — ``2Nd`` + ``T_c (3Nd + 4N)`` accesses with
  ``T_c = ⌈N / B_c⌉`` and ``B_c = Θ(M / d)``: Θ(N² d² / M).

Examples:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> q, k, v = (rng.standard_normal((64, 8)) for _ in range(3))
    >>> o_std, std = standard_attention(q, k, v, memory=256)
    >>> o_fla, fla = flash_attention(q, k, v, memory=256)
    >>> bool(np.allclose(o_std, o_fla)), fla.accesses < std.accesses
    (True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["FastMemoryOverflow", "IOCounts", "TwoLevelMemory", "flash_attention", "flash_blocks", "standard_attention"]


class FastMemoryOverflow(RuntimeError):
    """A load asked for more fast memory than the simulator has."""


@dataclass
class IOCounts:
    """Slow-memory traffic of one run.

    Attributes:
        reads: elements moved slow → fast.
        writes: elements moved fast → slow.
        peak_fast: the most elements ever resident in fast memory.
        blocks: the block sizes used (``{"B_r": …, "B_c": …}`` or ``{"b": …}``).
    """

    reads: int = 0
    writes: int = 0
    peak_fast: int = 0
    blocks: dict[str, int] = field(default_factory=dict)

    @property
    def accesses(self) -> int:
        """Reads plus writes."""
        return self.reads + self.writes


class TwoLevelMemory:
    """Fast memory of ``capacity`` elements in front of an unbounded slow memory.

    Args:
        capacity: ``M``, elements that fit in fast memory at once.

    Raises:
        ValueError: for a capacity below 1.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"fast memory must hold at least one element, got capacity={capacity}")
        self.capacity = capacity
        self.counts = IOCounts()
        self._resident: dict[str, int] = {}

    @property
    def used(self) -> int:
        """Elements resident in fast memory now."""
        return sum(self._resident.values())

    def _hold(self, name: str, size: int) -> None:
        used = self.used - self._resident.get(name, 0) + size
        if used > self.capacity:
            raise FastMemoryOverflow(
                f"holding {name!r} ({size} elements) needs {used} elements of fast memory; M = {self.capacity}"
            )
        self._resident[name] = size
        self.counts.peak_fast = max(self.counts.peak_fast, used)

    def load(self, name: str, block: np.ndarray) -> np.ndarray:
        """Read ``block`` from slow memory into fast buffer ``name`` (counts ``block.size`` reads)."""
        self._hold(name, block.size)
        self.counts.reads += block.size
        return np.array(block, copy=True)

    def scratch(self, name: str, shape: tuple[int, ...], fill: float = 0.0) -> np.ndarray:
        """A buffer that lives only in fast memory (no slow traffic)."""
        self._hold(name, math.prod(shape))
        return np.full(shape, fill)

    def store(self, block: np.ndarray, dest: np.ndarray, index: tuple[slice, ...] | slice) -> None:
        """Write ``block`` to ``dest[index]`` in slow memory (counts ``block.size`` writes)."""
        dest[index] = block
        self.counts.writes += block.size

    def free(self, *names: str) -> None:
        """Release fast buffers."""
        for name in names:
            self._resident.pop(name, None)


def flash_blocks(memory: int, n: int, d: int) -> tuple[int, int]:
    """``(B_r, B_c)`` for Algorithm 1 that fit in ``memory`` elements.

    Starts from the paper's ``B_c = ⌈M / 4d⌉``, ``B_r = min(B_c, d)`` and shrinks ``B_c``
    until the working set — ``K_j, V_j`` (``2 B_c d``), ``Q_i, O_i`` (``2 B_r d``), the score
    tile (``B_r B_c``) and ``ℓ_i, m_i`` (``2 B_r``) — fits.

    Raises:
        ValueError: if not even ``B_r = B_c = 1`` fits (``M < 4d + 3``).
    """
    bc = min(n, math.ceil(memory / (4 * d)))
    while bc >= 1:
        br = min(bc, d, n)
        if 2 * bc * d + 2 * br * d + br * bc + 2 * br <= memory:
            return br, bc
        bc -= 1
    raise ValueError(f"fast memory M = {memory} cannot hold one row of each block for d = {d} (needs {4 * d + 3})")


def flash_attention(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    memory: int,
    blocks: tuple[int, int] | None = None,
    scale: float | None = None,
) -> tuple[np.ndarray, IOCounts]:
    """Algorithm 1 of the paper on a :class:`TwoLevelMemory`; returns ``(o, counts)``.

    Args:
        q: ``(N, d)`` queries (slow memory).
        k: ``(N, d)`` keys (slow memory).
        v: ``(N, d)`` values (slow memory).
        memory: ``M``.
        blocks: ``(B_r, B_c)``; default :func:`flash_blocks`.
        scale: score scale (default ``1/√d``).
    """
    n, d = q.shape
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    br, bc = blocks or flash_blocks(memory, n, d)
    mem = TwoLevelMemory(memory)
    mem.counts.blocks = {"B_r": br, "B_c": bc}
    o = np.zeros((n, v.shape[1]))  # slow memory, initialised as in the paper (not counted: a memset)
    ell = np.zeros(n)
    m = np.full(n, -np.inf)
    for j0 in range(0, k.shape[0], bc):
        kj = mem.load("K_j", k[j0 : j0 + bc])
        vj = mem.load("V_j", v[j0 : j0 + bc])
        for i0 in range(0, n, br):
            rows = slice(i0, i0 + br)
            qi, oi = mem.load("Q_i", q[rows]), mem.load("O_i", o[rows])
            li, mi = mem.load("l_i", ell[rows]), mem.load("m_i", m[rows])
            s = mem.scratch("S_ij", (qi.shape[0], kj.shape[0]))
            s[:] = scale * (qi @ kj.T)
            m_tile = s.max(axis=1)
            p = np.exp(s - m_tile[:, None])  # P̃_ij overwrites S_ij in place (same buffer)
            l_tile = p.sum(axis=1)
            m_new = np.maximum(mi, m_tile)
            alpha, beta = np.exp(mi - m_new), np.exp(m_tile - m_new)
            l_new = alpha * li + beta * l_tile
            oi = ((li * alpha)[:, None] * oi + beta[:, None] * (p @ vj)) / l_new[:, None]
            mem.store(oi, o, rows)
            mem.store(l_new, ell, rows)
            mem.store(m_new, m, rows)
            mem.free("Q_i", "O_i", "l_i", "m_i", "S_ij")
        mem.free("K_j", "V_j")
    return o, mem.counts


def _standard_block(memory: int, n: int, d: int) -> int:
    """Side ``b`` of the square tiles of Algorithm 0's matmuls: ``2 b d + b² <= M``."""
    b = int(math.isqrt(d * d + memory)) - d
    if b < 1:
        raise ValueError(f"fast memory M = {memory} cannot hold a tile for d = {d}")
    return min(b, n)


def standard_attention(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, memory: int, scale: float | None = None
) -> tuple[np.ndarray, IOCounts]:
    """Algorithm 0 (materialise ``S`` and ``P`` in slow memory) on a :class:`TwoLevelMemory`.

    ``S = Q Kᵀ`` and ``O = P V`` are tiled matmuls with ``b × b`` output tiles (``2bd + b² <= M``);
    the row softmax streams each row of ``S`` through fast memory in chunks of at most ``M/2``
    elements: one pass for the maximum and the sum (online), one to write ``P``.
    """
    n, d = q.shape
    scale = 1.0 / math.sqrt(d) if scale is None else scale
    b = _standard_block(memory, n, d)
    mem = TwoLevelMemory(memory)
    mem.counts.blocks = {"b": b}
    s_mat = np.empty((n, k.shape[0]))
    for i0 in range(0, n, b):
        qi = mem.load("Q_i", q[i0 : i0 + b])
        for j0 in range(0, k.shape[0], b):
            kj = mem.load("K_j", k[j0 : j0 + b])
            tile = mem.scratch("S_ij", (qi.shape[0], kj.shape[0]))
            tile[:] = scale * (qi @ kj.T)
            mem.store(tile, s_mat, (slice(i0, i0 + b), slice(j0, j0 + b)))
            mem.free("K_j", "S_ij")
        mem.free("Q_i")
    p_mat = np.empty_like(s_mat)
    chunk = max(1, memory // 2)
    for r in range(n):
        mx, total = -np.inf, 0.0
        for c0 in range(0, s_mat.shape[1], chunk):
            part = mem.load("row", s_mat[r, c0 : c0 + chunk])
            new = max(mx, float(part.max()))
            total = total * math.exp(mx - new) + float(np.exp(part - new).sum())
            mx = new
            mem.free("row")
        for c0 in range(0, s_mat.shape[1], chunk):
            part = mem.load("row", s_mat[r, c0 : c0 + chunk])
            mem.store(np.exp(part - mx) / total, p_mat, (r, slice(c0, c0 + chunk)))
            mem.free("row")
    o = np.empty((n, v.shape[1]))
    ev = v.shape[1]
    bo = max(1, int(math.isqrt(ev * ev + memory)) - ev)  # P tile b×b, V tile b×ev, O tile b×ev
    bo = min(bo, n)
    for i0 in range(0, n, bo):
        oi = mem.scratch("O_i", (min(bo, n - i0), ev))
        for j0 in range(0, k.shape[0], bo):
            pij = mem.load("P_ij", p_mat[i0 : i0 + bo, j0 : j0 + bo])
            vj = mem.load("V_j", v[j0 : j0 + bo])
            oi += pij @ vj
            mem.free("P_ij", "V_j")
        mem.store(oi, o, slice(i0, i0 + bo))
        mem.free("O_i")
    return o, mem.counts
