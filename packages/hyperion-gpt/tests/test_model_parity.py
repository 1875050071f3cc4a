"""Logits, loss and every parameter gradient equal the same GPT written in PyTorch (same weights)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hyperion.gpt import GPT, GPTConfig  # noqa: E402
from hyperion.gpt.torch_reference import torch_gpt, torch_state_dict  # noqa: E402

VARIANTS = {
    "learned": {},
    "rope": {"positional": "rope"},
    "learned-gqa": {"n_kv_head": 2},
    "rope-mqa": {"positional": "rope", "n_kv_head": 1},
    "untied-nobias": {"tie_weights": False, "bias": False},
}
TOLERANCES = {"float64": (1e-10, torch.float64), "float32": (1e-5, torch.float32)}


def _batch(rng: np.random.Generator, vocab: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = rng.integers(0, vocab, (3, 11))
    y = rng.integers(0, vocab, (3, 11))
    mask = np.ones((3, 11), dtype=bool)
    mask[1, :4] = False  # left padding of different lengths
    mask[2, :9] = False
    y[~mask] = -1  # no targets on padding
    return x, y, mask


@pytest.mark.parametrize("dtype", sorted(TOLERANCES))
@pytest.mark.parametrize("padded", [False, True], ids=["unpadded", "padded"])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_logits_loss_and_gradients_match_pytorch(variant: str, padded: bool, dtype: str) -> None:
    tol, torch_dtype = TOLERANCES[dtype]
    config = GPTConfig(vocab_size=23, block_size=16, n_layer=2, n_head=4, n_embd=16, **VARIANTS[variant])
    model = GPT(config, seed=5)
    if dtype == "float64":
        model.double()
    reference = torch_gpt(config, torch_dtype)
    reference.load_state_dict(torch_state_dict(model))
    x, y, mask = _batch(np.random.default_rng(1), config.vocab_size)
    am = mask if padded else None

    logits, loss = model(x, y, attention_mask=am)
    loss.backward()
    t_logits, t_loss = reference(
        torch.from_numpy(x), torch.from_numpy(y), None if am is None else torch.from_numpy(am)
    )
    t_loss.backward()

    scale = max(1.0, float(np.abs(t_logits.detach().numpy()).max()))
    np.testing.assert_allclose(logits.detach().numpy(), t_logits.detach().numpy(), rtol=0, atol=tol * scale)
    assert abs(loss.item() - t_loss.item()) <= tol * max(1.0, abs(t_loss.item()))
    theirs = dict(reference.named_parameters())
    names = [name for name, _ in model.named_parameters()]
    assert sorted(names) == sorted(theirs)
    for name, param in model.named_parameters():
        expected = theirs[name].grad.numpy()
        bound = tol * max(1.0, float(np.abs(expected).max()))
        np.testing.assert_allclose(param.grad.numpy(), expected, rtol=0, atol=bound, err_msg=name)


def test_padding_does_not_change_real_positions_logits() -> None:
    """A left-padded row's real tokens get exactly the logits they get alone."""
    config = GPTConfig(vocab_size=23, block_size=16, n_layer=2, n_head=4, n_embd=16, positional="learned")
    model = GPT(config, seed=2).double()
    tokens = np.array([[3, 7, 1, 9, 4]])
    alone, _ = model(tokens)
    padded = np.concatenate([np.zeros((1, 3), np.int64), tokens], axis=1)
    mask = np.array([[False] * 3 + [True] * 5])
    together, _ = model(padded, attention_mask=mask)
    np.testing.assert_allclose(together.detach().numpy()[:, 3:], alone.detach().numpy(), atol=1e-12)
