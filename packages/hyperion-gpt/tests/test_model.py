"""The model's structure: GPT-2 names, tying, initialisation, configuration errors, input checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hyperion.gpt import GPT, GPTConfig


def test_gpt2_parameter_names_and_tied_head() -> None:
    model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8))
    names = set(model.state_dict())
    for expected in (
        "transformer.wte.weight",
        "transformer.wpe.weight",
        "transformer.h.1.ln_1.weight",
        "transformer.h.0.attn.c_attn.weight",
        "transformer.h.0.attn.c_proj.bias",
        "transformer.h.1.mlp.c_fc.weight",
        "transformer.h.1.mlp.c_proj.weight",
        "transformer.ln_f.bias",
        "lm_head.weight",
    ):
        assert expected in names
    assert model.lm_head.weight is model.transformer["wte"].weight
    assert model.num_parameters() == sum(p.numel() for p in model.parameters())


def test_rope_model_has_no_position_table_and_gqa_shrinks_the_projection() -> None:
    model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=4, n_kv_head=1, n_embd=16, positional="rope"))
    assert "transformer.wpe.weight" not in model.state_dict()
    assert model.transformer["h"][0].attn.c_attn.weight.shape == ((4 + 2) * 4, 16)


def test_gpt2_initialisation_scales_residual_projections() -> None:
    config = GPTConfig(vocab_size=50, block_size=32, n_layer=8, n_head=4, n_embd=64)
    model = GPT(config, seed=0)
    state = {k: v.numpy() for k, v in model.state_dict().items()}
    assert abs(state["transformer.h.0.mlp.c_fc.weight"].std() - 0.02) < 0.002
    expected = 0.02 / math.sqrt(2 * config.n_layer)
    assert abs(state["transformer.h.3.attn.c_proj.weight"].std() - expected) < 0.1 * expected
    assert not state["transformer.h.0.attn.c_attn.bias"].any()
    assert (state["transformer.h.0.ln_1.weight"] == 1).all()


def test_same_seed_same_weights() -> None:
    config = GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8)
    a, b, c = GPT(config, seed=1), GPT(config, seed=1), GPT(config, seed=2)
    wa, wb, wc = (m.lm_head.weight.detach().numpy() for m in (a, b, c))
    assert np.array_equal(wa, wb) and not np.array_equal(wa, wc)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"n_embd": 30, "n_head": 4}, "n_embd (30) must be divisible by n_head (4)"),
        ({"n_head": 4, "n_kv_head": 3}, "n_head (4) must be divisible by n_kv_head (3)"),
        ({"positional": "sinusoidal"}, "positional must be one of"),
        ({"dropout": 1.0}, "dropout must be in [0, 1)"),
        ({"vocab_size": 0}, "vocab_size must be a positive integer"),
        ({"n_embd": 12, "n_head": 4, "positional": "rope"}, "head size (3) must be even"),
    ],
)
def test_config_errors_name_the_values(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match="GPTConfig") as info:
        GPTConfig(**overrides)
    assert message in str(info.value)


def test_config_round_trips_through_a_dict() -> None:
    config = GPTConfig(vocab_size=7, n_kv_head=2, positional="rope")
    assert GPTConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="unknown fields"):
        GPTConfig.from_dict({**config.to_dict(), "n_expert": 4})


def test_bad_inputs_are_named() -> None:
    model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8))
    with pytest.raises(ValueError, match=r"token ids must be in \[0, 11\)"):
        model(np.array([[1, 11]]))
    with pytest.raises(ValueError, match="exceed block_size 8"):
        model(np.zeros((1, 9), np.int64))
    with pytest.raises(ValueError, match="2-D"):
        model(np.zeros(4, np.int64))
    with pytest.raises(ValueError, match="integer token ids"):
        model(np.zeros((1, 4)))


def test_attention_weights_are_causal_distributions() -> None:
    model = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8), seed=0)
    weights = model.attention_weights(np.array([[1, 2, 3, 4, 5]]))
    assert weights.shape == (2, 1, 2, 5, 5)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-6)
    assert np.all(np.triu(weights, k=1) == 0)
    assert model.training  # restored
