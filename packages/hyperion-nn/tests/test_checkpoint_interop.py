"""Interoperability with the reference ``safetensors`` library, in both directions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hyperion.autograd as ag
from hyperion.nn import Module, Parameter, Sequential, checkpoint, optim

safetensors_numpy = pytest.importorskip("safetensors.numpy")


class Affine(Module):
    def __init__(self, n_in: int, n_out: int) -> None:
        super().__init__()
        self.weight = Parameter(ag.tensor(np.zeros((n_out, n_in))))
        self.bias = Parameter(ag.tensor(np.zeros(n_out)))


def make_model() -> Sequential:
    return Sequential(Affine(4, 3), Affine(3, 2))


def test_numpy_file_from_the_library_loads(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    tensors = {
        "a": rng.standard_normal((3, 4)),
        "b": np.arange(5, dtype=np.int32),
        "c": np.array([True, False]),
        "d": rng.standard_normal(7).astype(np.float16),
        "e": np.zeros((0, 2), dtype=np.float32),
    }
    path = tmp_path / "lib.safetensors"
    safetensors_numpy.save_file(tensors, str(path), metadata={"who": "library"})
    loaded, metadata = checkpoint.load_file_with_metadata(path)
    assert metadata == {"who": "library"}
    assert sorted(loaded) == sorted(tensors)
    for name, array in tensors.items():
        assert loaded[name].dtype == array.dtype
        np.testing.assert_array_equal(loaded[name], array)


def test_our_file_loads_in_the_library(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    tensors = {
        "weights.0": rng.standard_normal((2, 3)),
        "ids": np.arange(6, dtype=np.int64).reshape(3, 2),
        "mask": np.array([[True], [False]]),
        "half": rng.standard_normal(3).astype(np.float16),
        "u": np.array([7], dtype=np.uint16),
        "scalar": np.array(2.5, dtype=np.float32),
    }
    path = tmp_path / "ours.safetensors"
    checkpoint.save_file(tensors, path, metadata={"a": "b"})
    loaded = safetensors_numpy.load_file(str(path))
    assert sorted(loaded) == sorted(tensors)
    for name, array in tensors.items():
        np.testing.assert_array_equal(loaded[name], array)
        assert loaded[name].dtype == array.dtype and loaded[name].shape == array.shape


def test_torch_state_dict_saved_by_the_library_loads_into_a_model(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    torch.manual_seed(0)
    reference = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2)).double()
    path = tmp_path / "torch.safetensors"
    safetensors_torch.save_file(reference.state_dict(), str(path))

    model = make_model()
    restored = checkpoint.load(path, model=model)
    assert restored.extra == {}
    for name, value in reference.state_dict().items():
        np.testing.assert_array_equal(model.state_dict()[name].numpy(), value.numpy())
    x = np.random.default_rng(0).standard_normal((5, 4))
    ours = ag.tensor(x)
    for layer in model:
        ours = ours @ layer.weight.detach().T + layer.bias.detach()
    np.testing.assert_allclose(ours.numpy(), reference(torch.tensor(x)).detach().numpy(), rtol=1e-12)

    with pytest.raises(checkpoint.CheckpointError, match="holds no optimizer state"):
        checkpoint.load(path, model=make_model(), optimizer=optim.SGD(make_model().parameters(), lr=0.1))


def test_bfloat16_from_torch_is_widened_to_float32(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    value = torch.randn(3, 5, generator=torch.Generator().manual_seed(0)).to(torch.bfloat16)
    path = tmp_path / "bf16.safetensors"
    safetensors_torch.save_file({"w": value}, str(path))
    loaded = checkpoint.load_file(path)["w"]
    assert loaded.dtype == np.float32
    np.testing.assert_array_equal(loaded, value.float().numpy())


def test_our_checkpoint_opens_in_the_library_and_its_weights_load_into_torch(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    safetensors_torch = pytest.importorskip("safetensors.torch")
    from safetensors import safe_open

    model = make_model()
    rng = np.random.default_rng(2)
    for p in model.parameters():
        p.data[...] = ag.tensor(rng.standard_normal(p.shape)).data
    opt = optim.AdamW(model.parameters(), lr=1e-3)
    for p in model.parameters():
        p.grad = ag.tensor(np.ones(p.shape))
    opt.step()
    path = tmp_path / "ckpt.safetensors"
    checkpoint.save(path, model=model, optimizer=opt, extra={"iteration": 1})

    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
        keys = set(handle.keys())
    assert metadata["format"] == checkpoint.FORMAT and checkpoint.DIGEST_KEY in metadata
    assert "optimizer/0/exp_avg" in keys

    tensors = safetensors_torch.load_file(str(path))
    weights = {k: v for k, v in tensors.items() if not k.startswith("optimizer/")}
    reference = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2)).double()
    reference.load_state_dict(weights)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(reference.state_dict()[name].numpy(), value.numpy())
    np.testing.assert_array_equal(tensors["optimizer/0/exp_avg"].numpy(), opt.state[model[0].weight]["exp_avg"].numpy())
