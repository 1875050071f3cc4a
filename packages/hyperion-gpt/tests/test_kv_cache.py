"""KV cache: cached logits equal uncached ones at every step; padded batches equal each prompt alone."""

from __future__ import annotations

import numpy as np
import pytest

from hyperion.gpt import GPT, GPTConfig, generate, left_pad
from hyperion.gpt.kv_cache import KVCacheFullError

CONFIGS = {
    "learned": {},
    "rope-gqa": {"positional": "rope", "n_kv_head": 2},
}


def _model(variant: str, block_size: int = 24) -> GPT:
    config = GPTConfig(vocab_size=19, block_size=block_size, n_layer=2, n_head=4, n_embd=16, **CONFIGS[variant])
    return GPT(config, seed=3).double().eval()


@pytest.mark.parametrize("variant", sorted(CONFIGS))
def test_cached_logits_equal_uncached_at_every_step(variant: str) -> None:
    model = _model(variant)
    tokens = np.random.default_rng(0).integers(0, 19, (2, 20))
    cache = model.new_kv_cache(2)
    first, _ = model(tokens[:, :5], kv_cache=cache)  # a prompt of 5, then one token at a time
    full, _ = model(tokens[:, :5])
    np.testing.assert_allclose(first.detach().numpy(), full.detach().numpy(), atol=1e-12)
    for t in range(5, 20):
        step, _ = model(tokens[:, t : t + 1], kv_cache=cache)
        full, _ = model(tokens[:, : t + 1])
        np.testing.assert_allclose(step.detach().numpy()[:, 0], full.detach().numpy()[:, -1], atol=1e-12, err_msg=f"step {t}")
    assert cache.length == 20


@pytest.mark.parametrize("variant", sorted(CONFIGS))
def test_greedy_generation_is_identical_with_and_without_cache(variant: str) -> None:
    model = _model(variant, block_size=12)
    prompt = np.array([[1, 2, 3]])
    cached = generate(model, prompt, 20, greedy=True)  # runs past block_size: the window slides
    uncached = generate(model, prompt, 20, greedy=True, use_kv_cache=False)
    assert cached.shape == (1, 23)
    np.testing.assert_array_equal(cached, uncached)


@pytest.mark.parametrize("variant", sorted(CONFIGS))
def test_batched_padded_prompts_continue_as_each_prompt_alone(variant: str) -> None:
    model = _model(variant)
    prompts = [[4, 5, 6, 7, 8, 9], [1], [3, 3, 2]]
    ids, mask = left_pad(prompts)
    for use_cache in (True, False):
        together = generate(model, ids, 8, attention_mask=mask, greedy=True, use_kv_cache=use_cache)
        for row, prompt in enumerate(prompts):
            alone = generate(model, np.array([prompt]), 8, greedy=True, use_kv_cache=use_cache)
            np.testing.assert_array_equal(together[row, -8:], alone[0, -8:])


def test_batched_padded_logits_equal_each_prompt_alone_with_cache() -> None:
    model = _model("learned")
    prompts = [[4, 5, 6, 7], [1, 2]]
    ids, mask = left_pad(prompts)
    cache = model.new_kv_cache(2)
    logits, _ = model(ids, attention_mask=mask, kv_cache=cache)
    nxt = np.array([[7], [9]])
    step, _ = model(nxt, attention_mask=np.ones((2, 1), bool), kv_cache=cache)
    for row, prompt in enumerate(prompts):
        alone, _ = model(np.array([[*prompt, int(nxt[row, 0])]]))
        np.testing.assert_allclose(logits.detach().numpy()[row, -1], alone.detach().numpy()[0, -2], atol=1e-12)
        np.testing.assert_allclose(step.detach().numpy()[row, 0], alone.detach().numpy()[0, -1], atol=1e-12)


def test_cache_refuses_to_overflow() -> None:
    model = _model("learned", block_size=8)
    cache = model.new_kv_cache(1)
    model(np.zeros((1, 6), np.int64), kv_cache=cache)
    with pytest.raises(ValueError, match="exceed block_size 8"):
        model(np.zeros((1, 3), np.int64), kv_cache=cache)
    with pytest.raises(KVCacheFullError):
        cache.extend_mask(np.ones((1, 3), bool))


def test_left_pad_layout() -> None:
    ids, mask = left_pad([[5, 6], [7]], pad_id=0)
    assert ids.tolist() == [[5, 6], [0, 7]]
    assert mask.tolist() == [[True, True], [False, True]]
    with pytest.raises(ValueError, match="at least one token"):
        left_pad([[1], []])
