"""``KVCache``: the keys and values of the tokens already seen, so each new token costs one position.

Without a cache, generating token ``t`` re-runs the model over all ``t`` tokens (``O(t)`` work per
token, ``O(n²)`` in all); with it, only the new token's query, key and value are computed and
its query attends to the stored keys. The cache also remembers, per sequence, which stored
positions are real tokens (``key_mask``) and how many real tokens it holds (``counts``), so
left-padded batches of prompts of different lengths get the right masks and positions.

Buffers are allocated once at ``capacity`` (the model's ``block_size``) and filled in place.

Examples:
    >>> import numpy as np
    >>> cache = KVCache(n_layer=1, batch=1, n_kv_head=1, head_dim=2, capacity=4)
    >>> k = v = np.ones((1, 1, 3, 2), np.float32)
    >>> cache.extend_mask(np.ones((1, 3), bool))
    >>> cache.append(0, k, v)[0].shape
    (1, 1, 3, 2)
    >>> cache.commit(3); cache.length
    3
"""

from __future__ import annotations

import numpy as np

__all__ = ["KVCache", "KVCacheFullError"]


class KVCacheFullError(ValueError):
    """More tokens than the cache (the model's ``block_size``) can hold."""


class KVCache:
    """Per-layer key/value buffers ``(B, n_kv_head, capacity, head_dim)`` plus the padding bookkeeping.

    One forward step: :meth:`extend_mask` with the new tokens' mask, :meth:`append` per layer,
    then :meth:`commit` with the number of new tokens. :class:`~hyperion.gpt.GPT` does this.

    Args:
        n_layer: number of attention layers.
        batch: sequences in the batch.
        n_kv_head: key/value heads per layer.
        head_dim: size of one head.
        capacity: the most positions it holds.
        dtype: the dtype of the stored keys and values.
    """

    def __init__(
        self, n_layer: int, batch: int, n_kv_head: int, head_dim: int, capacity: int, dtype: np.dtype = np.float32
    ) -> None:
        shape = (batch, n_kv_head, capacity, head_dim)
        self.keys = [np.zeros(shape, dtype) for _ in range(n_layer)]
        self.values = [np.zeros(shape, dtype) for _ in range(n_layer)]
        self.capacity = capacity
        self.batch = batch
        #: Positions filled so far (the same for every sequence: padding occupies positions too).
        self.length = 0
        #: ``(B, length + pending)`` — True where a stored position is a real token.
        self.key_mask = np.zeros((batch, 0), dtype=bool)
        #: ``(B,)`` — real tokens stored per sequence (the next token's position).
        self.counts = np.zeros(batch, dtype=np.int64)

    def extend_mask(self, new_mask: np.ndarray) -> None:
        """Record which of the new tokens ``(B, T)`` are real; call once per step, before :meth:`append`.

        Raises:
            KVCacheFullError: if the new tokens do not fit.
        """
        new_mask = np.asarray(new_mask, dtype=bool)
        if new_mask.shape[0] != self.batch:
            raise ValueError(f"KVCache: mask for {new_mask.shape[0]} sequences, but the cache holds {self.batch}")
        if self.length + new_mask.shape[1] > self.capacity:
            raise KVCacheFullError(
                f"KVCache: {self.length} cached + {new_mask.shape[1]} new positions exceed the capacity {self.capacity}"
            )
        self.key_mask = np.concatenate([self.key_mask[:, : self.length], new_mask], axis=1)

    def append(self, layer: int, k: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Store layer ``layer``'s new keys/values ``(B, n_kv_head, T, head_dim)``; return all of them so far."""
        end = self.length + k.shape[2]
        self.keys[layer][:, :, self.length : end] = k
        self.values[layer][:, :, self.length : end] = v
        return self.keys[layer][:, :, :end], self.values[layer][:, :, :end]

    def commit(self, new_tokens: int) -> None:
        """Advance past the ``new_tokens`` positions just appended to every layer."""
        self.counts = self.counts + self.key_mask[:, self.length : self.length + new_tokens].sum(axis=1)
        self.length += new_tokens
