"""The GPT: token embedding, learned or rotary positions, pre-LayerNorm blocks, a tied LM head.

Parameter names follow GPT-2 (``transformer.wte``, ``transformer.wpe``, ``transformer.h.{i}.ln_1``,
``.attn.c_attn``, ``.attn.c_proj``, ``.ln_2``, ``.mlp.c_fc``, ``.mlp.c_proj``, ``transformer.ln_f``,
``lm_head``). Initialisation follows GPT-2: every weight matrix and embedding ``N(0, 0.02)``,
biases zero, and the two residual projections of each block ``N(0, 0.02/√(2·n_layer))`` so the
residual stream's variance does not grow with depth.

Examples:
    >>> import numpy as np
    >>> model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8), seed=0)
    >>> logits, loss = model(np.zeros((2, 5), dtype=np.int64), targets=np.ones((2, 5), dtype=np.int64))
    >>> logits.shape, round(loss.item(), 1)
    ((2, 5, 11), 2.4)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

import hyperion.autograd as ag
from hyperion.autograd import Tensor
from hyperion.gpt._arrays import constant
from hyperion.gpt.attention import CausalSelfAttention, attention_mask
from hyperion.gpt.config import GPTConfig
from hyperion.gpt.kv_cache import KVCache
from hyperion.gpt.rope import rope_angles
from hyperion.nn import Dropout, Embedding, LayerNorm, Linear, Module, ModuleDict, ModuleList, init
from hyperion.nn import functional as F

__all__ = ["GPT", "MLP", "Block", "positions_from_mask"]


class MLP(Module):
    """``c_proj(gelu(c_fc(x)))`` with a 4× hidden width, then dropout."""

    def __init__(self, config: GPTConfig, generator: np.random.Generator | None = None) -> None:
        super().__init__()
        self.c_fc = Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.c_proj = Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = Dropout(config.dropout, generator=generator)

    def forward(self, x: Tensor) -> Tensor:
        """The feed-forward branch."""
        return self.dropout(self.c_proj(F.gelu(self.c_fc(x), approximate="tanh")))


class Block(Module):
    """Pre-norm transformer block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, config: GPTConfig, generator: np.random.Generator | None = None) -> None:
        super().__init__()
        self.ln_1 = LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config, generator)
        self.ln_2 = LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config, generator)

    def forward(self, x: Tensor, **attention: Any) -> Tensor:
        """One block; ``attention`` goes to :meth:`CausalSelfAttention.forward` (rope, mask, cache, layer)."""
        x = x + self.attn(self.ln_1(x), **attention)
        return x + self.mlp(self.ln_2(x))


def positions_from_mask(mask: np.ndarray, start: np.ndarray | int = 0) -> np.ndarray:
    """Positions of the tokens of a (left-)padded batch: real tokens count ``start, start+1, …``.

    Args:
        mask: ``(B, T)``, True/1 for real tokens.
        start: ``(B,)`` or a number: real tokens already seen per sequence (from a KV cache).

    Returns:
        ``(B, T)`` int64; padding gets the position of the next real token (it is masked anyway).
    """
    mask = np.asarray(mask, dtype=np.int64)
    before = np.cumsum(mask, axis=1) - mask
    return before + np.asarray(start, dtype=np.int64).reshape(-1, 1)


class GPT(Module):
    """A decoder-only transformer language model.

    Args:
        config: the architecture.
        seed: seed of the initialisation (a ``numpy.random.Generator``).
        generator: dropout's generator (default: one seeded with ``seed + 1``); it is part of the
            training state that a checkpoint saves.

    Examples:
        >>> GPT(GPTConfig(vocab_size=65), seed=0).num_parameters()
        809856
    """

    def __init__(self, config: GPTConfig, seed: int = 0, generator: np.random.Generator | None = None) -> None:
        super().__init__()
        self.config = config
        self.generator = generator if generator is not None else np.random.default_rng(seed + 1)
        parts: dict[str, Module] = {"wte": Embedding(config.vocab_size, config.n_embd)}
        if config.positional == "learned":
            parts["wpe"] = Embedding(config.block_size, config.n_embd)
        parts["drop"] = Dropout(config.dropout, generator=self.generator)
        parts["h"] = ModuleList([Block(config, self.generator) for _ in range(config.n_layer)])
        parts["ln_f"] = LayerNorm(config.n_embd, bias=config.bias)
        self.transformer = ModuleDict(parts)
        self.lm_head = Linear(config.n_embd, config.vocab_size, bias=False)
        self.reset_parameters(np.random.default_rng(seed))
        if config.tie_weights:
            self.lm_head.weight = self.transformer["wte"].weight

    def reset_parameters(self, generator: np.random.Generator) -> None:
        """GPT-2 initialisation (see the module docstring), drawn from ``generator``."""
        residual_std = 0.02 / math.sqrt(2 * self.config.n_layer)
        for name, param in self.named_parameters():
            if name.endswith("c_proj.weight"):
                init.normal_(param, 0.0, residual_std, generator=generator)
            elif name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name.endswith("ln_f.weight"):
                init.ones_(param)
            elif param.ndim >= 2:
                init.normal_(param, 0.0, 0.02, generator=generator)
            else:
                init.zeros_(param)

    def num_parameters(self, trainable_only: bool = False, exclude_positions: bool = False) -> int:
        """Parameter count (a tied matrix counted once); ``exclude_positions`` leaves out ``wpe`` as nanoGPT reports."""
        total = super().num_parameters(trainable_only)
        if exclude_positions and "wpe" in self.transformer:
            total -= self.transformer["wpe"].weight.numel()
        return total

    def forward(
        self,
        idx: Any,
        targets: Any = None,
        *,
        attention_mask: Any = None,
        kv_cache: KVCache | None = None,
        last_only: bool = False,
        need_weights: bool = False,
    ) -> tuple[Tensor, Tensor | None]:
        """Logits for every position (and the loss when ``targets`` are given).

        Args:
            idx: token ids ``(B, T)`` (array or tensor of integers).
            targets: next-token ids ``(B, T)``; ``-1`` marks positions without a target.
            attention_mask: ``(B, T)``, 1/True for real tokens, 0/False for (left) padding.
                With ``kv_cache`` it covers the new tokens only.
            kv_cache: keys/values of earlier tokens (generation); the new ones are appended.
            last_only: compute logits for the last position only (generation).
            need_weights: keep each layer's attention weights (see :meth:`attention_weights`).

        Returns:
            ``(logits, loss)``: logits ``(B, T, vocab)`` (``(B, 1, vocab)`` with ``last_only``),
            loss a scalar tensor or ``None``.

        Raises:
            ValueError: for token ids outside the vocabulary, too long inputs, or a mask of the wrong shape.
        """
        tokens = _as_int_array(idx, "idx")
        batch, length = tokens.shape
        cfg = self.config
        if batch == 0 or length == 0:
            if targets is not None:
                raise ValueError(f"GPT: no tokens to compute a loss on (idx has shape {tokens.shape})")
            return constant(np.zeros((batch, length, cfg.vocab_size), dtype=self.lm_head.weight.dtype)), None
        if tokens.size and (tokens.min() < 0 or tokens.max() >= cfg.vocab_size):
            raise ValueError(f"GPT: token ids must be in [0, {cfg.vocab_size}), got [{tokens.min()}, {tokens.max()}]")
        past = kv_cache.length if kv_cache is not None else 0
        if past + length > cfg.block_size:
            raise ValueError(
                f"GPT: {past + length} positions ({past} cached + {length} new) exceed block_size {cfg.block_size}"
            )
        padded = attention_mask is not None
        mask_new = np.ones((batch, length), bool) if attention_mask is None else np.asarray(attention_mask, dtype=bool)
        if mask_new.shape != (batch, length):
            raise ValueError(f"GPT: attention_mask has shape {mask_new.shape}, expected {(batch, length)}")
        if kv_cache is not None:
            start = kv_cache.counts
            kv_cache.extend_mask(mask_new)
            key_mask = kv_cache.key_mask
        else:
            start = np.zeros(batch, np.int64)
            key_mask = mask_new
        positions = positions_from_mask(mask_new, start)
        # Masks only where needed: no padding and no cache is plain causal attention; one new token
        # after a cache of real tokens sees every key; anything else gets the explicit boolean mask.
        all_real = bool(key_mask.all())
        causal = True
        if kv_cache is None or past == 0:
            needs_mask = padded and not all_real
        else:
            needs_mask = not (length == 1 and all_real)
            causal = needs_mask
        mask = attention_mask_of(key_mask, length) if needs_mask else None

        # The residual stream is (B·T, C): every linear layer is then a single matrix product.
        x = self.transformer["wte"](constant(tokens.reshape(-1)))
        rope = None
        if cfg.positional == "learned":
            x = x + self.transformer["wpe"](constant(positions.reshape(-1)))
        else:
            cos, sin = rope_angles(positions, cfg.head_dim, cfg.rope_base, dtype=x.dtype)
            rope = (cos[:, None], sin[:, None])
        x = self.transformer["drop"](x)
        for layer, block in enumerate(self.transformer["h"]):
            x = block(x, batch=batch, rope=rope, mask=mask, causal=causal, cache=kv_cache, layer=layer, need_weights=need_weights)
        if kv_cache is not None:
            kv_cache.commit(length)
        if last_only:
            x = x.reshape(batch, length, cfg.n_embd)[:, length - 1, :]
        logits = self.lm_head(self.transformer["ln_f"](x))
        if targets is None:
            return logits.reshape(batch, 1 if last_only else length, cfg.vocab_size), None
        target_array = _as_int_array(targets, "targets")
        if target_array.shape != tokens.shape or last_only:
            raise ValueError(f"GPT: targets of shape {target_array.shape} do not match idx {tokens.shape}")
        loss = F.cross_entropy(logits, constant(target_array.reshape(-1)), ignore_index=-1)
        return logits.reshape(batch, length, cfg.vocab_size), loss

    def new_kv_cache(self, batch: int) -> KVCache:
        """An empty cache for ``batch`` sequences, sized for ``block_size`` positions."""
        cfg = self.config
        dtype = self.lm_head.weight.dtype
        return KVCache(cfg.n_layer, batch, cfg.kv_heads, cfg.head_dim, cfg.block_size, dtype=dtype)

    def attention_weights(self, idx: Any, attention_mask: Any = None) -> np.ndarray:
        """Every head's attention weights on ``idx``: ``(n_layer, B, n_head, T, T)``, rows summing to 1.

        Runs in evaluation mode without recording a graph; row ``i`` of head ``h`` in layer ``l``
        is how much position ``i`` attends to each earlier position.
        """
        was_training = self.training
        self.eval()
        try:
            with ag.no_grad():
                self.forward(idx, attention_mask=attention_mask, need_weights=True)
            blocks = list(self.transformer["h"])
            return np.stack([block.attn.last_weights for block in blocks])
        finally:
            for block in self.transformer["h"]:
                block.attn.last_weights = None
            self.train(was_training)


def attention_mask_of(key_mask: np.ndarray, num_queries: int) -> np.ndarray:
    """The boolean ``(B, 1, T, S)`` attention mask (see :func:`hyperion.gpt.attention.attention_mask`)."""
    return attention_mask(key_mask, num_queries)


def _as_int_array(value: Any, name: str) -> np.ndarray:
    array = value.numpy() if isinstance(value, Tensor) else np.asarray(value)
    if array.ndim != 2:
        raise ValueError(f"GPT: {name} must be 2-D (batch, time), got shape {array.shape}")
    if array.dtype.kind not in "iu":
        raise ValueError(f"GPT: {name} must hold integer token ids, got dtype {array.dtype}")
    return array.astype(np.int64, copy=False)
