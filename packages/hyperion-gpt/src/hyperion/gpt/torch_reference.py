"""The same GPT written in PyTorch: the oracle of the parity tests and the anchor of the benchmarks.

PyTorch is not a dependency of hyperion-gpt: it is imported when :func:`torch_gpt` is called.
The PyTorch model has the same parameter names and the same maths (pre-norm blocks, tanh
GELU, interleaved-pair RoPE, grouped-query heads repeated, boolean padding masks), so
``torch_model.load_state_dict(torch_state_dict(model))`` makes the two compute the same function.

Examples:
    >>> from hyperion.gpt import GPT, GPTConfig
    >>> config = GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8)
    >>> reference = torch_gpt(config)  # doctest: +SKIP
    >>> _ = reference.load_state_dict(torch_state_dict(GPT(config)))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import numpy as np

from hyperion.gpt.config import GPTConfig
from hyperion.gpt.model import GPT, positions_from_mask

__all__ = ["torch_gpt", "torch_state_dict"]


def torch_state_dict(model: GPT, dtype: Any = None) -> dict[str, Any]:
    """The model's weights as ``torch`` tensors (copies), keyed by the shared GPT-2 names."""
    import torch

    out = {}
    for name, value in model.state_dict().items():
        array = np.array(value.numpy(), copy=True)
        tensor = torch.from_numpy(array)
        out[name] = tensor.to(dtype) if dtype is not None else tensor
    return out


def torch_gpt(config: GPTConfig, dtype: Any = None) -> Any:
    """A ``torch.nn.Module`` computing the same function as ``GPT(config)``.

    Its ``forward(idx, targets=None, attention_mask=None)`` takes ``torch`` integer tensors and
    returns ``(logits, loss)`` like :meth:`hyperion.gpt.GPT.forward`.
    """
    import torch
    from torch import nn
    from torch.nn import functional as tf

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            width = (config.n_head + 2 * config.kv_heads) * config.head_dim
            self.c_attn = nn.Linear(config.n_embd, width, bias=config.bias)
            self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)

        def forward(self, x: Any, rope: Any, mask: Any) -> Any:
            b, t, c = x.shape
            h, k, d = config.n_head, config.kv_heads, config.head_dim
            q, key, value = self.c_attn(x).split([h * d, k * d, k * d], dim=2)
            q = q.view(b, t, h, d).transpose(1, 2)
            key = key.view(b, t, k, d).transpose(1, 2)
            value = value.view(b, t, k, d).transpose(1, 2)
            if rope is not None:
                q, key = _rotate(q, *rope), _rotate(key, *rope)
            key = key.repeat_interleave(h // k, dim=1)
            value = value.repeat_interleave(h // k, dim=1)
            if mask is None:
                y = tf.scaled_dot_product_attention(q, key, value, is_causal=True)
            else:
                y = tf.scaled_dot_product_attention(q, key, value, attn_mask=mask)
            return self.c_proj(y.transpose(1, 2).reshape(b, t, c))

    class Mlp(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
            self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)

        def forward(self, x: Any) -> Any:
            return self.c_proj(tf.gelu(self.c_fc(x), approximate="tanh"))

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
            self.attn = Attention()
            self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
            self.mlp = Mlp()

        def forward(self, x: Any, rope: Any, mask: Any) -> Any:
            x = x + self.attn(self.ln_1(x), rope, mask)
            return x + self.mlp(self.ln_2(x))

    def _rotate(x: Any, cos: Any, sin: Any) -> Any:
        even, odd = x[..., 0::2], x[..., 1::2]
        return torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1).flatten(-2)

    class TorchGPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            parts = {"wte": nn.Embedding(config.vocab_size, config.n_embd)}
            if config.positional == "learned":
                parts["wpe"] = nn.Embedding(config.block_size, config.n_embd)
            parts["h"] = nn.ModuleList([Block() for _ in range(config.n_layer)])
            parts["ln_f"] = nn.LayerNorm(config.n_embd, bias=config.bias)
            self.transformer = nn.ModuleDict(parts)
            self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
            if config.tie_weights:
                self.lm_head.weight = self.transformer.wte.weight

        def forward(self, idx: Any, targets: Any = None, attention_mask: Any = None) -> Any:
            b, t = idx.shape
            if attention_mask is None:
                positions = torch.arange(t).expand(b, t)
                mask = None
            else:
                key_mask = attention_mask.bool()
                positions = torch.from_numpy(positions_from_mask(key_mask.numpy()))
                allowed = torch.tril(torch.ones(t, t, dtype=torch.bool))[None] & key_mask[:, None, :]
                allowed |= torch.eye(t, dtype=torch.bool)[None]
                mask = allowed[:, None]
            x = self.transformer.wte(idx)
            rope = None
            if config.positional == "learned":
                x = x + self.transformer.wpe(positions)
            else:
                inv_freq = config.rope_base ** (-torch.arange(0, config.head_dim, 2, dtype=torch.float64) / config.head_dim)
                angles = positions.to(torch.float64)[..., None] * inv_freq
                rope = (angles.cos().to(x.dtype)[:, None], angles.sin().to(x.dtype)[:, None])
            for block in self.transformer.h:
                x = block(x, rope, mask)
            logits = self.lm_head(self.transformer.ln_f(x))
            loss = None
            if targets is not None:
                loss = tf.cross_entropy(logits.reshape(b * t, -1), targets.reshape(-1), ignore_index=-1)
            return logits, loss

    model = TorchGPT()
    if dtype is not None:
        model = model.to(dtype)
    return model
