"""hyperion.gpt — a GPT built from scratch on hyperion-nn, trained on Tiny Shakespeare.

Main pieces:

* :class:`GPTConfig`, :class:`GPT` — the model (learned or rotary positions, grouped-query
  attention, padding masks, weight tying, GPT-2 names and initialisation);
  :meth:`GPT.attention_weights` gives every head's attention map.
* :mod:`hyperion.gpt.tokenizers` — :class:`CharTokenizer` and the byte-level :class:`BPETokenizer`.
* :mod:`hyperion.gpt.data` — Tiny Shakespeare lookup/download, ``uint16`` memmaps, batches.
* :func:`train` with :class:`TrainConfig` — AdamW, warmup + cosine, clipping, evaluation,
  checkpoints, exact resume; :func:`load_run` reads a run folder back.
* :func:`generate` (KV cache, greedy/temperature/top-k/top-p) and :mod:`hyperion.gpt.sampling`.
* ``hyperion-gpt train|sample|eval|attention`` (or ``python -m hyperion.gpt``).

Examples:
    >>> import numpy as np
    >>> model = GPT(GPTConfig(vocab_size=10, block_size=16, n_layer=1, n_head=2, n_embd=8), seed=0)
    >>> generate(model, np.zeros((1, 3), dtype=np.int64), 4, greedy=True).shape
    (1, 7)
"""

from hyperion.gpt.__about__ import __version__
from hyperion.gpt.config import GPTConfig
from hyperion.gpt.kv_cache import KVCache
from hyperion.gpt.model import GPT
from hyperion.gpt.rope import apply_rope, rope_angles
from hyperion.gpt.sampling import generate, left_pad, next_token_probs, sample_next
from hyperion.gpt.tokenizers import BPETokenizer, CharTokenizer
from hyperion.gpt.train import TrainConfig, TrainResult, load_run, sample_text, train

__all__ = [
    "GPT",
    "BPETokenizer",
    "CharTokenizer",
    "GPTConfig",
    "KVCache",
    "TrainConfig",
    "TrainResult",
    "__version__",
    "apply_rope",
    "generate",
    "left_pad",
    "load_run",
    "next_token_probs",
    "rope_angles",
    "sample_next",
    "sample_text",
    "train",
]
