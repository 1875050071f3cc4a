"""Bad-input cases of every public name of ``hyperion.gpt``: the configuration, the model, the
tokenizers, sampling, rotary positions, the KV cache and training settings.

Model and sampling cases use one tiny model (built once) so the table stays fast.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np

import hyperion.autograd as ag
import hyperion.gpt as gpt
from hyperion.gpt import (
    GPT,
    BPETokenizer,
    CharTokenizer,
    GPTConfig,
    KVCache,
    TrainConfig,
    apply_rope,
    generate,
    left_pad,
    load_run,
    next_token_probs,
    rope_angles,
    sample_next,
    sample_text,
    train,
)
from hyperion.gpt.tokenizers import UnknownCharacterError
from hyperion.tensor import ShapeError
from hyperion.tensor.testing import Case, Matches, Raises

# The categories of this suite's cases (summary() reports them in this order).
CATEGORIES = ("shape", "dtype", "empty", "nonfinite", "index", "argument", "config", "file")

NAN, INF = float("nan"), float("inf")

#: Public names that need no bad-input case, with the reason.
EXEMPT = {
    "TrainResult": "a plain record returned by train(); it validates nothing by design",
    "__version__": "a string",
}

TINY = {"vocab_size": 11, "block_size": 8, "n_layer": 1, "n_head": 2, "n_embd": 8}


@cache
def model(positional: str = "learned") -> GPT:
    return GPT(GPTConfig(**TINY, positional=positional), seed=0)


def _ids(*shape: int, high: int = 11) -> np.ndarray:
    return np.random.default_rng(0).integers(0, high, shape)


def _config_cases() -> list[Case]:
    bad: list[tuple[dict[str, Any], tuple[str, ...]]] = [
        ({"vocab_size": 0}, ("vocab_size", "0")),
        ({"vocab_size": -3}, ("vocab_size", "-3")),
        ({"vocab_size": 2.5}, ("vocab_size", "2.5")),
        ({"vocab_size": True}, ("vocab_size", "True")),
        ({"block_size": 0}, ("block_size", "0")),
        ({"block_size": "64"}, ("block_size", "'64'")),
        ({"n_layer": 0}, ("n_layer", "0")),
        ({"n_head": 0}, ("n_head", "0")),
        ({"n_embd": -128}, ("n_embd", "-128")),
        ({"n_embd": 100, "n_head": 3}, ("n_embd (100)", "n_head (3)")),
        ({"n_kv_head": 0}, ("n_kv_head", "0")),
        ({"n_kv_head": 3}, ("n_head (4)", "n_kv_head (3)")),
        ({"n_kv_head": 1.0}, ("n_kv_head", "1.0")),
        ({"dropout": 1.0}, ("dropout", "1.0")),
        ({"dropout": -0.1}, ("dropout", "-0.1")),
        ({"dropout": NAN}, ("dropout", "nan")),
        ({"dropout": "0.1"}, ("dropout", "'0.1'")),
        ({"positional": "alibi"}, ("positional", "'alibi'")),
        ({"positional": "rope", "n_embd": 12, "n_head": 4}, ("head size (3)", "even")),
        ({"bias": 1}, ("bias", "1")),
        ({"tie_weights": "yes"}, ("tie_weights", "'yes'")),
        ({"rope_base": 1.0}, ("rope_base", "1.0")),
        ({"rope_base": NAN}, ("rope_base", "nan")),
        ({"rope_base": -INF}, ("rope_base", "-inf")),
    ]
    cases: list[Case] = [
        Raises("GPTConfig", "config", lambda kw=kw: GPTConfig(**kw), ValueError, names) for kw, names in bad
    ]
    cases += [
        Raises(
            "GPTConfig",
            "config",
            lambda: GPTConfig.from_dict({"vocab_size": 5, "n_embed": 8}),
            ValueError,
            ("unknown fields", "'n_embed'"),
        ),
        Raises("GPTConfig", "config", lambda: GPTConfig.from_dict({"n_layer": -1}), ValueError, ("n_layer", "-1")),
        Raises(
            "GPTConfig",
            "config",
            lambda: GPTConfig(rope_base="big"),
            (ValueError, TypeError),
            ("rope_base", "'big'"),
        ),
    ]
    return cases


def _model_cases() -> list[Case]:
    m = model()
    cases: list[Case] = [
        Raises("GPT", "index", lambda: m(np.array([[0, 11]])), ValueError, ("[0, 11)", "[0, 11]")),
        Raises("GPT", "index", lambda: m(np.array([[-1, 3]])), ValueError, ("[0, 11)", "[-1, 3]")),
        Raises("GPT", "dtype", lambda: m(np.array([[0.0, 1.0]])), ValueError, ("integer", "float64")),
        Raises("GPT", "dtype", lambda: m(np.array([["a", "b"]])), ValueError, ("integer", "<U1")),
        Raises("GPT", "dtype", lambda: m(ag.tensor([[1.0, 2.0]])), ValueError, ("integer", "float32")),
        Raises("GPT", "shape", lambda: m(np.array([1, 2, 3])), ValueError, ("2-D", "(3,)")),
        Raises("GPT", "shape", lambda: m(_ids(1, 2, 3)), ValueError, ("2-D", "(1, 2, 3)")),
        Raises("GPT", "shape", lambda: m(_ids(2, 9)), ValueError, ("9 positions", "block_size 8")),
        Raises("GPT", "shape", lambda: model("rope")(_ids(1, 12)), ValueError, ("12 positions", "block_size 8")),
        Raises("GPT", "shape", lambda: m(_ids(2, 4), _ids(2, 5)), ValueError, ("(2, 5)", "(2, 4)")),
        Raises("GPT", "dtype", lambda: m(_ids(2, 4), np.zeros((2, 4))), ValueError, ("targets", "float64")),
        Raises("GPT", "index", lambda: m(_ids(1, 4), np.array([[0, 1, 2, 11]])), (ValueError, IndexError), ("11",)),
        Raises("GPT", "index", lambda: m(_ids(1, 4), np.array([[0, 1, 2, -2]])), (ValueError, IndexError), ("-2",)),
        Raises(
            "GPT",
            "shape",
            lambda: m(_ids(2, 4), attention_mask=np.ones((2, 3))),
            ValueError,
            ("attention_mask", "(2, 3)", "(2, 4)"),
        ),
        Raises("GPT", "config", lambda: GPT({"vocab_size": 5}), (TypeError, AttributeError, ValueError), ("dict",)),
        Raises(
            "GPT",
            "shape",
            lambda: m(_ids(1, 6), kv_cache=_full_cache(m)),
            ValueError,
            ("6 new", "block_size 8"),
        ),
        Raises(
            "GPT",
            "shape",
            lambda: m.attention_weights(_ids(1, 9)),
            ValueError,
            ("9 positions", "block_size 8"),
        ),
        Matches(
            "GPT",
            "empty",
            lambda: m(np.zeros((0, 4), np.int64))[0].shape,
            lambda: (0, 4, 11),
            "empty-batch",
        ),
        Matches("GPT", "empty", lambda: m(np.zeros((2, 0), np.int64))[0].shape, lambda: (2, 0, 11), "zero-length"),
        Matches(
            "GPT",
            "index",
            lambda: m(_ids(1, 4), np.array([[-1, -1, -1, -1]]))[1].item(),
            lambda: np.float64(NAN),
            "all-ignored-targets",
        ),
    ]
    return cases


def _full_cache(m: GPT) -> KVCache:
    cache_ = m.new_kv_cache(1)
    m(_ids(1, 4), kv_cache=cache_)
    return cache_


def _tokenizer_cases() -> list[Case]:
    char = CharTokenizer.train("hello world")
    bpe = BPETokenizer.train("aaab aaab aaab abab", 260)
    return [
        Raises("CharTokenizer", "index", lambda: char.encode("hellq"), UnknownCharacterError, ("'q'",)),
        Raises("CharTokenizer", "index", lambda: char.encode("zaq"), UnknownCharacterError, ("'a'", "'q'", "'z'")),
        Raises("CharTokenizer", "index", lambda: char.decode([0, 8]), ValueError, ("id 8", "[0, 8)")),
        Raises("CharTokenizer", "index", lambda: char.decode([-1]), ValueError, ("id -1",)),
        Raises("CharTokenizer", "argument", lambda: CharTokenizer(["a", "bc"]), ValueError, ("single character",)),
        Raises("CharTokenizer", "argument", lambda: CharTokenizer(["a", "a"]), ValueError, ("repeated",)),
        Raises("CharTokenizer", "argument", lambda: CharTokenizer([1, 2]), ValueError, ("single character",)),
        Raises("CharTokenizer", "index", lambda: char.encode_array("hi!"), UnknownCharacterError, ("'!'", "'i'")),
        Matches("CharTokenizer", "empty", lambda: char.encode(""), lambda: np.zeros(0, np.float64), "encode-empty"),
        Matches("CharTokenizer", "empty", lambda: char.decode([]), lambda: np.asarray(""), "decode-empty"),
        Raises("BPETokenizer", "argument", lambda: BPETokenizer.train("abc", 255), ValueError, ("at least 256", "255")),
        Raises("BPETokenizer", "index", lambda: bpe.decode([bpe.vocab_size]), ValueError, (f"id {bpe.vocab_size}",)),
        Raises("BPETokenizer", "index", lambda: bpe.decode([-5]), ValueError, ("id -5",)),
        Raises("BPETokenizer", "argument", lambda: BPETokenizer([(0, 300)]), ValueError, ("merge 0", "(0, 300)")),
        Raises("BPETokenizer", "argument", lambda: BPETokenizer([(-1, 5)]), ValueError, ("merge 0", "(-1, 5)")),
        Raises("BPETokenizer", "argument", lambda: BPETokenizer([(97, 97), (257, 97)]), ValueError, ("merge 1",)),
        Matches("BPETokenizer", "empty", lambda: bpe.encode(""), lambda: np.zeros(0, np.float64), "encode-empty"),
        Matches(
            "BPETokenizer",
            "argument",
            lambda: bpe.decode(bpe.encode("é\x00 aaab\U0001f600")),
            lambda: np.asarray("é\x00 aaab\U0001f600"),
            "unicode-roundtrip",
        ),
    ]


def _sampling_cases() -> list[Case]:
    m = model()
    logits = np.array([[0.0, 1.0, 2.0]])
    rng = np.random.default_rng
    return [
        Raises(
            "next_token_probs", "argument", lambda: next_token_probs(logits, 0.0), ValueError, ("temperature", "0.0")
        ),
        Raises("next_token_probs", "argument", lambda: next_token_probs(logits, -1.0), ValueError, ("-1.0",)),
        Raises("next_token_probs", "argument", lambda: next_token_probs(logits, NAN), ValueError, ("nan",)),
        Raises("next_token_probs", "argument", lambda: next_token_probs(logits, top_k=0), ValueError, ("top_k", "0")),
        Raises(
            "next_token_probs", "argument", lambda: next_token_probs(logits, top_p=0.0), ValueError, ("top_p", "0.0")
        ),
        Raises("next_token_probs", "argument", lambda: next_token_probs(logits, top_p=1.5), ValueError, ("1.5",)),
        Raises("next_token_probs", "argument", lambda: next_token_probs(logits, top_p=NAN), ValueError, ("nan",)),
        Matches(
            "next_token_probs",
            "nonfinite",
            lambda: next_token_probs(np.array([[0.0, -INF, 0.0]])),
            lambda: np.array([[0.5, 0.0, 0.5]]),
            "minus-inf-logit",
        ),
        Matches(
            "next_token_probs",
            "nonfinite",
            lambda: next_token_probs(np.array([[1e308, 0.0]]), 1e-3),
            lambda: np.array([[1.0, 0.0]]),
            "huge-logit",
        ),
        Raises(
            "next_token_probs",
            "nonfinite",
            lambda: next_token_probs(np.array([[NAN, 0.0]])),
            ValueError,
            ("NaN",),
        ),
        Raises(
            "next_token_probs",
            "nonfinite",
            lambda: next_token_probs(np.array([[INF, 0.0]])),
            ValueError,
            ("+inf",),
        ),
        Raises(
            "next_token_probs",
            "nonfinite",
            lambda: next_token_probs(np.array([[-INF, -INF]])),
            ValueError,
            ("entirely -inf",),
        ),
        Raises("sample_next", "argument", lambda: sample_next(logits, rng(0), temperature=-2.0), ValueError, ("-2.0",)),
        Raises("sample_next", "argument", lambda: sample_next(logits, rng(0), top_k=-1), ValueError, ("top_k", "-1")),
        Matches(
            "sample_next", "argument", lambda: sample_next(logits, rng(0), greedy=True), lambda: np.array([2]), "greedy"
        ),
        Raises("left_pad", "empty", lambda: left_pad([[1, 2], []]), ValueError, ("at least one token",)),
        Raises("left_pad", "empty", lambda: left_pad([]), ValueError, ("at least one token",)),
        Matches(
            "left_pad",
            "shape",
            lambda: list(left_pad([[1], [2, 3]])),
            lambda: [np.array([[0, 1], [2, 3]]), np.array([[False, True], [True, True]])],
            "ragged",
        ),
        Raises("generate", "shape", lambda: generate(m, np.zeros((1, 0), np.int64), 2), ValueError, ("(1, 0)",)),
        Raises("generate", "shape", lambda: generate(m, np.array([1, 2]), 2), ValueError, ("(2,)",)),
        Raises("generate", "index", lambda: generate(m, np.array([[1, 99]]), 2), ValueError, ("[1, 99]",)),
        Raises(
            "generate",
            "shape",
            lambda: generate(m, _ids(2, 3), 1, attention_mask=np.ones((2, 4))),
            ValueError,
            ("(2, 4)", "(2, 3)"),
        ),
        Raises("generate", "argument", lambda: generate(m, _ids(1, 3), 2, temperature=-1.0), ValueError, ("-1.0",)),
        Raises(
            "generate",
            "argument",
            lambda: generate(m, _ids(1, 3), -1),
            ValueError,
            ("max_new_tokens", "-1"),
        ),
        Raises(
            "generate",
            "dtype",
            lambda: generate(m, np.array([[0.5, 1.5]]), 2),
            ValueError,
            ("integer",),
        ),
        Matches(
            "generate",
            "shape",
            lambda: generate(m, _ids(1, 7), 3, greedy=True).shape,
            lambda: (1, 10),
            "past-block",
        ),
        Matches(
            "generate",
            "argument",
            lambda: generate(m, _ids(1, 7), 3, greedy=True, use_kv_cache=False),
            lambda: generate(m, _ids(1, 7), 3, greedy=True),
            "cache-free-equal",
        ),
        Raises(
            "sample_text",
            "index",
            lambda: sample_text(m, CharTokenizer.train("ab"), "abc", 2),
            UnknownCharacterError,
            ("'c'",),
        ),
    ]


def _rope_cache_cases() -> list[Case]:
    x = ag.randn(1, 2, 4, 6, seed=0)
    cos, sin = rope_angles(np.arange(4), 6)
    return [
        Raises("rope_angles", "argument", lambda: rope_angles(np.arange(4), 5), ValueError, ("head_dim", "5")),
        Raises("apply_rope", "shape", lambda: apply_rope(x, cos[:3], sin[:3]), ShapeError, ("(3, 3)", "(1, 2, 4, 6)")),
        Raises("apply_rope", "shape", lambda: apply_rope(x, cos, sin[:, :2]), ShapeError, ("(4, 3)", "(4, 2)")),
        Matches(
            "rope_angles",
            "empty",
            lambda: [a.shape for a in rope_angles(np.zeros(0, np.int64), 4)],
            lambda: [np.array((0, 2)), np.array((0, 2))],
            "no-positions",
        ),
        Raises(
            "KVCache",
            "shape",
            lambda: _full_cache(model()).extend_mask(np.ones((2, 1), bool)),
            ValueError,
            ("2 sequences", "1"),
        ),
        Raises("KVCache", "shape", lambda: _full_cache(model()).extend_mask(np.ones((1, 5), bool)), ValueError, ("8",)),
    ]


def _train_cases() -> list[Case]:
    bad: list[tuple[dict[str, Any], tuple[str, ...]]] = [
        ({"batch_size": 0}, ("batch_size", "0")),
        ({"max_iters": -5}, ("max_iters", "-5")),
        ({"eval_interval": 0}, ("eval_interval", "0")),
        ({"eval_iters": 1.5}, ("eval_iters", "1.5")),
        ({"warmup_iters": -1}, ("warmup_iters", "-1")),
        ({"lr": 0.0}, ("lr=0.0",)),
        ({"lr": NAN}, ("lr=nan",)),
        ({"lr": 1e-3, "min_lr": 1e-2}, ("min_lr=0.01",)),
        ({"weight_decay": -0.1}, ("weight_decay", "-0.1")),
        ({"grad_clip": -1.0}, ("grad_clip", "-1.0")),
        ({"warmup_iters": 600}, ("lr_decay_iters (600)", "warmup_iters (600)")),
        ({"tokenizer": "word"}, ("tokenizer", "'word'")),
        ({"dtype": "float16"}, ("dtype", "'float16'")),
        ({"weight_decay": NAN}, ("weight_decay", "nan")),
        ({"grad_clip": INF}, ("grad_clip", "inf")),
    ]
    cases: list[Case] = []
    for kw, names in bad:
        cases.append(Raises("TrainConfig", "config", lambda kw=kw: TrainConfig(**kw), ValueError, names))
    cases += [
        Raises("train", "config", lambda: _train_bad_model(), ValueError, ("n_embd (10)", "n_head (4)")),
        Raises(
            "train",
            "file",
            lambda: train(TrainConfig(data="/nonexistent/x.txt", out_dir=_tmp()), progress=False),
            FileNotFoundError,
            ("/nonexistent/x.txt",),
        ),
        Raises(
            "train",
            "file",
            lambda: train(TrainConfig(out_dir=_tmp()), resume=True, progress=False),
            FileNotFoundError,
            ("--resume", "ckpt.safetensors"),
        ),
        Raises("train", "shape", lambda: _train_short_text(), ValueError, ("block_size 64",)),
        Raises("load_run", "file", lambda: load_run("/nonexistent/run"), FileNotFoundError, ("/nonexistent/run",)),
    ]
    return cases


def _tmp() -> str:
    import tempfile

    return tempfile.mkdtemp(prefix="gpt-reliability-")


def _train_bad_model() -> Any:
    config = TrainConfig(
        data="abcdefgh" * 200, from_text=True, out_dir=_tmp(), n_embd=10, n_head=4, max_iters=2, warmup_iters=1
    )
    return train(config, progress=False)


def _train_short_text() -> Any:
    config = TrainConfig(data="abcdefgh" * 5, from_text=True, out_dir=_tmp(), max_iters=2, warmup_iters=1)
    return train(config, progress=False)


CASES: list[Case] = [
    *_config_cases(),
    *_model_cases(),
    *_tokenizer_cases(),
    *_sampling_cases(),
    *_rope_cache_cases(),
    *_train_cases(),
]

PUBLIC = [name for name in gpt.__all__ if not name.startswith("_") or name in EXEMPT]
