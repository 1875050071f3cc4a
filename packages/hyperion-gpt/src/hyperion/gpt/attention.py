"""Causal self-attention with padding masks, grouped-query heads, RoPE and a KV cache.

Shapes: ``B`` batch, ``T`` new tokens, ``S`` keys attended to (``T`` plus the cached ones),
``H`` query heads, ``K`` key/value heads (``H % K == 0``), ``D`` head size.

* One projection ``c_attn`` produces ``H`` query heads and ``K`` key and ``K`` value heads.
* With RoPE, queries and keys are rotated by their positions (values are not).
* Grouped-query attention: each key/value head serves ``H/K`` query heads; the K/V heads are
  repeated ``H/K`` times before the attention call (``K = 1`` is multi-query attention).
* The attention itself is :func:`hyperion.nn.functional.scaled_dot_product_attention`, so a
  fused kernel registered for it (hyperion-kernels) is used when installed.

Masks are boolean, ``True`` = may attend: a query at column ``c`` sees key ``j`` when
``j <= c`` and key ``j`` is a real token (or ``j == c``, so a padded query still has one key
and its softmax stays finite; padded outputs are never used).
"""

from __future__ import annotations

import math

import numpy as np

from hyperion.autograd import Tensor
from hyperion.gpt._arrays import constant
from hyperion.gpt.config import GPTConfig
from hyperion.gpt.kv_cache import KVCache
from hyperion.gpt.rope import apply_rope
from hyperion.nn import Dropout, Linear, Module
from hyperion.nn import functional as F

__all__ = ["CausalSelfAttention", "attention_mask"]


def attention_mask(key_mask: np.ndarray, num_queries: int) -> np.ndarray:
    """The boolean mask ``(B, 1, T, S)`` for the last ``T = num_queries`` of ``S`` positions.

    Args:
        key_mask: ``(B, S)``, True where a position holds a real token.
        num_queries: how many of the last positions are queries.
    """
    batch, source = key_mask.shape
    columns = np.arange(source - num_queries, source)[:, None]
    keys = np.arange(source)[None, :]
    causal = keys <= columns
    allowed = causal[None] & key_mask[:, None, :]
    allowed |= (keys == columns)[None]
    return allowed[:, None]


class CausalSelfAttention(Module):
    """Multi-head (or grouped-/multi-query) causal self-attention, GPT-2 parameter names.

    Args:
        config: the model's configuration.
        generator: the dropout generator (shared with the rest of the model).
    """

    def __init__(self, config: GPTConfig, generator: np.random.Generator | None = None) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.n_kv_head = config.kv_heads
        self.head_dim = config.head_dim
        self.dropout_p = config.dropout
        self.generator = generator
        width = (self.n_head + 2 * self.n_kv_head) * self.head_dim
        self.c_attn = Linear(config.n_embd, width, bias=config.bias)
        self.c_proj = Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = Dropout(config.dropout, generator=generator)
        #: Set by :meth:`forward` when asked (``need_weights``): ``(B, H, T, S)`` attention weights.
        self.last_weights: np.ndarray | None = None

    def forward(
        self,
        x: Tensor,
        *,
        batch: int,
        rope: tuple[np.ndarray, np.ndarray] | None = None,
        mask: np.ndarray | None = None,
        causal: bool = True,
        cache: KVCache | None = None,
        layer: int = 0,
        need_weights: bool = False,
    ) -> Tensor:
        """Attend over ``x`` ``(B·T, C)`` (the residual stream is kept 2-D so every linear layer is one GEMM).

        Args:
            x: the normalised residual stream, ``(B·T, C)`` with ``T`` the new tokens.
            batch: ``B``.
            rope: ``(cos, sin)`` ``(B, 1, T, D/2)`` of the new tokens' positions, or ``None``.
            mask: boolean ``(B, 1, T, S)``, or ``None`` for no mask: then ``causal`` says whether the
                ``T`` queries see keys ``j <= i`` (no cache) or every key (one new token after a cache).
            cache: keys/values of earlier tokens; the new ones are appended.
            layer: this layer's index in the cache.
            need_weights: also keep the attention weights in :attr:`last_weights` (no gradient).
        """
        rows, channels = x.shape
        length = rows // batch
        h, k, d = self.n_head, self.n_kv_head, self.head_dim
        # One reshape and one transpose for all heads, then a split into (B, H|K|K, T, D).
        heads = self.c_attn(x).reshape(batch, length, h + 2 * k, d).transpose(1, 2)
        q, key, value = heads.split([h, k, k], dim=1)
        if rope is not None:
            q = apply_rope(q, *rope)
            key = apply_rope(key, *rope)
        if cache is not None:
            all_k, all_v = cache.append(layer, key.detach().numpy(), value.detach().numpy())
            key, value = constant(all_k), constant(all_v)
        key, value = self._repeat_kv(key), self._repeat_kv(value)
        if need_weights:
            self.last_weights = self._weights(q, key, mask, causal)
        dropout_p = self.dropout_p if self.training else 0.0
        if mask is None:
            y = F.scaled_dot_product_attention(q, key, value, is_causal=causal, dropout_p=dropout_p, generator=self.generator)
        else:
            y = F.scaled_dot_product_attention(
                q, key, value, attn_mask=constant(mask), dropout_p=dropout_p, generator=self.generator
            )
        y = y.transpose(1, 2).reshape(rows, channels)
        return self.resid_dropout(self.c_proj(y))

    def _repeat_kv(self, t: Tensor) -> Tensor:
        """``(B, K, S, D)`` → ``(B, H, S, D)``: key/value head ``j`` serves query heads ``j·H/K … (j+1)·H/K − 1``."""
        groups = self.n_head // self.n_kv_head
        if groups == 1:
            return t
        batch, heads, source, dim = t.shape
        return t.unsqueeze(2).expand(batch, heads, groups, source, dim).reshape(batch, heads * groups, source, dim)

    def _weights(self, q: Tensor, key: Tensor, mask: np.ndarray | None, causal: bool) -> np.ndarray:
        """``softmax(q kᵀ/√D + mask)`` in NumPy, for inspection."""
        scores = q.detach().numpy() @ np.swapaxes(key.detach().numpy(), -1, -2) / math.sqrt(self.head_dim)
        length, source = scores.shape[-2:]
        if mask is not None:
            allowed = mask
        else:
            allowed = np.tril(np.ones((length, source), dtype=bool)) if causal else np.ones((length, source), dtype=bool)
        scores = np.where(allowed, scores, -np.inf)
        scores = scores - scores.max(axis=-1, keepdims=True)
        weights = np.exp(scores)
        return weights / weights.sum(axis=-1, keepdims=True)

    def extra_repr(self) -> str:
        return f"n_head={self.n_head}, n_kv_head={self.n_kv_head}, head_dim={self.head_dim}"

