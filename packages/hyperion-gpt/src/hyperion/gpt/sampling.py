"""Sampling: greedy, temperature, top-k and nucleus (top-p), and generation with or without a KV cache.

From the last position's logits ``z``:

* greedy takes ``argmax z`` (temperature → 0 is the same thing);
* temperature ``T`` samples from ``softmax(z / T)`` (sharper for ``T < 1``, flatter for ``T > 1``);
* top-k keeps the ``k`` largest logits (ties at the k-th value kept) and renormalises;
* top-p keeps the smallest set of most likely tokens whose probability reaches ``p``.

Examples:
    >>> import numpy as np
    >>> probs = next_token_probs(np.log(np.array([[0.5, 0.3, 0.15, 0.05]])), top_p=0.75)
    >>> probs.round(3).tolist()
    [[0.625, 0.375, 0.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import hyperion.autograd as ag
from hyperion.gpt.model import GPT

__all__ = ["generate", "left_pad", "next_token_probs", "sample_next", "top_k_filter", "top_p_filter"]


def top_k_filter(logits: np.ndarray, k: int) -> np.ndarray:
    """``logits`` with everything below the ``k``-th largest of each row set to ``-inf``.

    Raises:
        ValueError: for ``k < 1``.
    """
    if k < 1:
        raise ValueError(f"top_k must be >= 1, got {k}")
    if k >= logits.shape[-1]:
        return logits
    kth = np.partition(logits, -k, axis=-1)[..., -k, None]
    return np.where(logits < kth, -np.inf, logits)


def top_p_filter(probs: np.ndarray, p: float) -> np.ndarray:
    """Probabilities outside each row's nucleus set to zero (not renormalised).

    The nucleus is the smallest set of most likely tokens whose total reaches ``p``: tokens are
    sorted by probability and kept while the mass *before* them is below ``p``.

    Raises:
        ValueError: for ``p`` outside ``(0, 1]``.
    """
    if not 0.0 < p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1], got {p}")
    order = np.argsort(-probs, axis=-1, kind="stable")
    sorted_probs = np.take_along_axis(probs, order, axis=-1)
    before = np.cumsum(sorted_probs, axis=-1) - sorted_probs
    keep_sorted = before < p
    keep = np.zeros_like(keep_sorted)
    np.put_along_axis(keep, order, keep_sorted, axis=-1)
    return np.where(keep, probs, 0.0)


def next_token_probs(
    logits: np.ndarray, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None
) -> np.ndarray:
    """The distribution sampling draws from: ``softmax(logits / T)``, cut by top-k then top-p, renormalised.

    Args:
        logits: ``(B, V)`` (float64 is used inside).
        temperature: ``T > 0``.
        top_k: keep the ``k`` most likely tokens.
        top_p: keep the nucleus of mass ``p``.

    Raises:
        ValueError: for ``temperature <= 0`` (use greedy decoding), or invalid ``top_k``/``top_p``.
    """
    if not temperature > 0.0:
        raise ValueError(f"temperature must be > 0 (use greedy decoding for 0), got {temperature}")
    z = np.asarray(logits, dtype=np.float64)
    if np.isnan(z).any() or np.isposinf(z).any():
        raise ValueError("next_token_probs: logits hold NaN or +inf; the model's output is not usable")
    if np.isneginf(z).all(axis=-1).any():
        raise ValueError("next_token_probs: a row of logits is entirely -inf")
    if top_k is not None:
        z = top_k_filter(z, top_k)
    # Subtract the row maximum before dividing: huge logits over a small temperature would overflow.
    z = (z - z.max(axis=-1, keepdims=True)) / temperature
    probs = np.exp(z)
    probs /= probs.sum(axis=-1, keepdims=True)
    if top_p is not None:
        probs = top_p_filter(probs, top_p)
        probs /= probs.sum(axis=-1, keepdims=True)
    return probs


def sample_next(
    logits: np.ndarray,
    rng: np.random.Generator,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    greedy: bool = False,
) -> np.ndarray:
    """One token id per row of ``logits`` ``(B, V)``: the argmax when ``greedy`` (or ``temperature == 0``), else a draw."""
    if greedy or temperature == 0.0:
        if np.isnan(logits).any():
            raise ValueError("sample_next: logits hold NaN; the model's output is not usable")
        return np.argmax(logits, axis=-1)
    probs = next_token_probs(logits, temperature, top_k, top_p)
    cumulative = np.cumsum(probs, axis=-1)
    u = rng.random((probs.shape[0], 1)) * cumulative[:, -1:]
    return np.minimum((cumulative <= u).sum(axis=-1), probs.shape[-1] - 1)


def left_pad(prompts: Sequence[Sequence[int]], pad_id: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Prompts of different lengths as one left-padded batch.

    Left padding puts every prompt's last token in the last column, so the next token of every
    row is predicted from the same column and new tokens are appended to all rows at once.

    Returns:
        ``(ids, mask)``: ``(B, T)`` int64 ids and a boolean mask, True for real tokens.

    Raises:
        ValueError: for an empty prompt.
    """
    if not prompts or any(len(p) == 0 for p in prompts):
        raise ValueError("left_pad: every prompt needs at least one token")
    width = max(len(p) for p in prompts)
    ids = np.full((len(prompts), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(prompts), width), dtype=bool)
    for row, prompt in enumerate(prompts):
        ids[row, width - len(prompt) :] = prompt
        mask[row, width - len(prompt) :] = True
    return ids, mask


def generate(
    model: GPT,
    prompt: Any,
    max_new_tokens: int,
    *,
    attention_mask: Any = None,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    greedy: bool = False,
    rng: np.random.Generator | None = None,
    use_kv_cache: bool = True,
) -> np.ndarray:
    """Extend ``prompt`` ``(B, T)`` by ``max_new_tokens`` tokens.

    With the KV cache each step feeds only the new token; without it each step re-runs the
    model over the whole (cropped) context. Both give the same logits, so greedy outputs are
    identical. When the context would exceed ``block_size``, it is cropped to the last
    ``block_size`` positions and (with the cache) the cache is rebuilt from that window — the
    same computation the uncached path does.

    Args:
        model: the model (switched to evaluation mode for the call, then restored).
        prompt: token ids ``(B, T)``; left-padded when ``attention_mask`` is given (see :func:`left_pad`).
        max_new_tokens: tokens to add.
        attention_mask: ``(B, T)``, True for real tokens.
        temperature: see :func:`next_token_probs`.
        top_k: see :func:`next_token_probs`.
        top_p: see :func:`next_token_probs`.
        greedy: take the most likely token each step.
        rng: the sampling generator (default: a new one seeded with 0).
        use_kv_cache: use the cache (default) or recompute everything each step.

    Returns:
        ``(B, T + max_new_tokens)`` int64: the prompt (with its padding) and the new tokens.
    """
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int | np.integer) or max_new_tokens < 0:
        raise ValueError(f"generate: max_new_tokens must be an integer >= 0, got {max_new_tokens!r}")
    raw_prompt = prompt.detach().numpy() if hasattr(prompt, "detach") else np.asarray(prompt)
    if raw_prompt.dtype.kind not in "iu":
        raise ValueError(f"generate: prompt must hold integer token ids, got dtype {raw_prompt.dtype}")
    ids = np.array(raw_prompt, dtype=np.int64, copy=True)
    if ids.ndim != 2 or ids.shape[1] == 0:
        raise ValueError(f"generate: prompt must be (batch, time) with at least one token, got shape {ids.shape}")
    mask = np.ones(ids.shape, bool) if attention_mask is None else np.array(attention_mask, dtype=bool)
    if mask.shape != ids.shape:
        raise ValueError(f"generate: attention_mask shape {mask.shape} differs from the prompt's {ids.shape}")
    rng = rng if rng is not None else np.random.default_rng(0)
    block = model.config.block_size
    was_training = model.training
    model.eval()
    cache = None
    try:
        with ag.no_grad():
            for _ in range(max_new_tokens):
                if use_kv_cache and cache is not None and cache.length < block:
                    logits, _ = model(ids[:, -1:], attention_mask=mask[:, -1:], kv_cache=cache, last_only=True)
                else:
                    window, window_mask = ids[:, -block:], mask[:, -block:]
                    padded = None if window_mask.all() else window_mask
                    if use_kv_cache:
                        cache = model.new_kv_cache(ids.shape[0])
                        logits, _ = model(window, attention_mask=window_mask, kv_cache=cache, last_only=True)
                    else:
                        logits, _ = model(window, attention_mask=padded, last_only=True)
                nxt = sample_next(
                    logits.numpy()[:, -1, :], rng, temperature=temperature, top_k=top_k, top_p=top_p, greedy=greedy
                )
                ids = np.concatenate([ids, nxt[:, None]], axis=1)
                mask = np.concatenate([mask, np.ones((ids.shape[0], 1), bool)], axis=1)
    finally:
        model.train(was_training)
    return ids
