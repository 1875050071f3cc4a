"""Training: AdamW, warmup + cosine, gradient clipping, periodic evaluation, checkpoints, exact resume.

A run lives in one folder (``out_dir``):

* ``ckpt.safetensors`` — model, AdamW state, scheduler, the data and dropout generators, the
  iteration, the model and training configuration, the tokenizer and the history (hyperion-nn's
  checkpoint format: safetensors with a SHA-256, written atomically);
* ``history.json`` — per iteration ``loss`` and ``lr``; per evaluation ``train_loss``/``val_loss``
  (and a sample when ``sample_tokens_at_eval`` > 0); ``tokens_per_second``;
* ``config.json``, ``tokenizer.json`` and ``tokens/`` (the ``uint16`` token files).

Resuming restores every piece of state, so the iterations after a resume compute exactly what
an uninterrupted run computes. Evaluation batches come from their own generator, seeded by
``(seed, iteration)``, so evaluating never shifts the training batches.

Examples:
    >>> import tempfile
    >>> text = "to be or not to be, that is the question. " * 40
    >>> config = TrainConfig(data=text, from_text=True, out_dir=tempfile.mkdtemp(), max_iters=3,
    ...                      batch_size=2, block_size=8, n_layer=1, n_head=2, n_embd=16, eval_interval=3,
    ...                      eval_iters=1, warmup_iters=1, sample_tokens=0)
    >>> result = train(config, progress=False)
    >>> result.iters, len(result.history["loss"])
    (3, 3)
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import hyperion.autograd as ag
from hyperion.gpt.config import GPTConfig
from hyperion.gpt.data import TokenSplits, get_batch, load_text, prepare_tokens
from hyperion.gpt.model import GPT
from hyperion.gpt.progress import ProgressBar
from hyperion.gpt.sampling import generate
from hyperion.gpt.tokenizers import Tokenizer, from_dict, train_tokenizer
from hyperion.gpt.tokenizers import save as save_tokenizer
from hyperion.nn import checkpoint
from hyperion.nn.optim import AdamW, WarmupCosineLR, clip_grad_norm_, weight_decay_groups
from hyperion.nn.parallel import setup_data_parallel
from hyperion.tensor.files import write_json_atomic

__all__ = ["CHECKPOINT_NAME", "TrainConfig", "TrainResult", "estimate_loss", "load_run", "train"]

CHECKPOINT_NAME = "ckpt.safetensors"


@dataclass
class TrainConfig:
    """Everything a training run needs; the defaults are the demo (nanoGPT's CPU recipe, shortened).

    Attributes:
        data: ``"tinyshakespeare"``, a path to a UTF-8 text file, or the text itself (``from_text``).
        from_text: ``data`` is the training text itself (tests, notebooks).
        data_dir: an explicit folder to look for the data set in first.
        tokenizer: ``"char"`` or ``"bpe"``.
        bpe_vocab_size: the BPE vocabulary size.
        out_dir: the run folder.
        n_layer: see :class:`GPTConfig` (also ``n_head``, ``n_kv_head``, ``n_embd``, ``block_size``,
            ``dropout``, ``bias``, ``positional``).
        batch_size: sequences per step.
        max_iters: the last iteration.
        lr: the peak learning rate.
        min_lr: the rate at the end of the cosine.
        warmup_iters: linear warmup steps.
        lr_decay_iters: where the cosine reaches ``min_lr`` (default ``max_iters``).
        weight_decay: AdamW decay of the ≥2-D weights (biases and LayerNorm gains are not decayed).
        beta1: AdamW's β₁.
        beta2: AdamW's β₂ (0.99 as nanoGPT's Shakespeare config: few tokens per step).
        grad_clip: the largest gradient norm (0 disables clipping).
        eval_interval: evaluate and checkpoint every this many iterations (and at the end).
        eval_iters: batches per loss estimate.
        seed: seeds initialisation, data order, dropout and evaluation batches.
        sample_tokens: tokens of the sample printed at the end (0: none).
        sample_tokens_at_eval: tokens of a sample kept in the history at each evaluation (0: none).
        dtype: ``"float32"`` or ``"float64"``.
    """

    data: str = "tinyshakespeare"
    from_text: bool = False
    data_dir: str | None = None
    tokenizer: str = "char"
    bpe_vocab_size: int = 512
    out_dir: str = "out-shakespeare-char"
    n_layer: int = 4
    n_head: int = 4
    n_kv_head: int | None = None
    n_embd: int = 128
    block_size: int = 64
    dropout: float = 0.0
    bias: bool = True
    positional: str = "learned"
    batch_size: int = 12
    max_iters: int = 600
    lr: float = 1e-3
    min_lr: float = 1e-4
    warmup_iters: int = 100
    lr_decay_iters: int | None = None
    weight_decay: float = 0.1
    beta1: float = 0.9
    beta2: float = 0.99
    grad_clip: float = 1.0
    eval_interval: int = 200
    eval_iters: int = 20
    seed: int = 1337
    sample_tokens: int = 300
    sample_tokens_at_eval: int = 0
    dtype: str = "float32"

    def __post_init__(self) -> None:
        for name in ("batch_size", "max_iters", "eval_interval", "eval_iters"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"TrainConfig: {name} must be a positive integer, got {value!r}")
        for name in ("warmup_iters", "sample_tokens", "sample_tokens_at_eval"):
            if getattr(self, name) < 0:
                raise ValueError(f"TrainConfig: {name} must be >= 0, got {getattr(self, name)!r}")
        if not self.lr > 0 or not 0 <= self.min_lr <= self.lr:
            raise ValueError(f"TrainConfig: need lr > 0 and 0 <= min_lr <= lr, got lr={self.lr}, min_lr={self.min_lr}")
        if not (math.isfinite(self.weight_decay) and self.weight_decay >= 0) or not (
            math.isfinite(self.grad_clip) and self.grad_clip >= 0
        ):
            raise ValueError(
                f"TrainConfig: weight_decay and grad_clip must be finite and >= 0, got {self.weight_decay}, {self.grad_clip}"
            )
        if self.decay_iters <= self.warmup_iters:
            raise ValueError(
                f"TrainConfig: the cosine must end after the warmup: lr_decay_iters ({self.decay_iters}) "
                f"<= warmup_iters ({self.warmup_iters}); lower --warmup-iters"
            )
        if self.tokenizer not in ("char", "bpe"):
            raise ValueError(f"TrainConfig: tokenizer must be 'char' or 'bpe', got {self.tokenizer!r}")
        if self.dtype not in ("float32", "float64"):
            raise ValueError(f"TrainConfig: dtype must be 'float32' or 'float64', got {self.dtype!r}")

    @property
    def decay_iters(self) -> int:
        """Where the cosine ends (``lr_decay_iters`` or ``max_iters``)."""
        return self.lr_decay_iters if self.lr_decay_iters is not None else self.max_iters

    def model_config(self, vocab_size: int) -> GPTConfig:
        """The :class:`GPTConfig` these settings describe, for a vocabulary of ``vocab_size``."""
        return GPTConfig(
            vocab_size=vocab_size,
            block_size=self.block_size,
            n_layer=self.n_layer,
            n_head=self.n_head,
            n_kv_head=self.n_kv_head,
            n_embd=self.n_embd,
            dropout=self.dropout,
            bias=self.bias,
            positional=self.positional,
        )

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-ready dict (the text itself is left out when ``from_text``)."""
        values = dataclasses.asdict(self)
        if self.from_text:
            values["data"] = f"<text of {len(self.data)} characters>"
        return values


@dataclass
class TrainResult:
    """What :func:`train` returns (and ``--json`` prints, see :meth:`summary`)."""

    iters: int
    train_loss: float
    val_loss: float
    seconds: float
    tokens_per_second: float
    params: int
    out_dir: Path
    history: dict[str, Any] = field(repr=False)
    sample: str | None = None
    ranks: int = 1
    is_main: bool = True

    def summary(self) -> dict[str, Any]:
        """``{"iters", "train_loss", "val_loss", "seconds", "tokens_per_second", "params"}`` (+ ``"ranks"`` with MPI)."""
        out = {
            "iters": self.iters,
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
            "seconds": self.seconds,
            "tokens_per_second": self.tokens_per_second,
            "params": self.params,
        }
        if self.ranks > 1:
            out["ranks"] = self.ranks
        return out


def estimate_loss(model: GPT, splits: TokenSplits, batch_size: int, eval_iters: int, rng: np.random.Generator) -> dict[str, float]:
    """Mean loss over ``eval_iters`` random batches of each split, in evaluation mode, without a graph."""
    was_training = model.training
    model.eval()
    out = {}
    try:
        with ag.no_grad():
            for name, data in (("train", splits.train), ("val", splits.val)):
                losses = []
                for _ in range(eval_iters):
                    x, y = get_batch(data, batch_size, model.config.block_size, rng)
                    losses.append(model(x, y)[1].item())
                out[name] = float(np.mean(losses))
    finally:
        model.train(was_training)
    return out


def _new_history() -> dict[str, Any]:
    return {"iter": [], "loss": [], "lr": [], "evals": [], "samples": [], "train_seconds": 0.0, "tokens": 0}


class _Run:
    """The state of one run: model, optimizer, schedule, generators, data, history."""

    def __init__(self, config: TrainConfig, tokenizer: Tokenizer, splits: TokenSplits, model_config: GPTConfig) -> None:
        self.config = config
        self.tokenizer = tokenizer
        self.splits = splits
        self.data_rng = np.random.default_rng(config.seed)
        self.model = GPT(model_config, seed=config.seed, generator=np.random.default_rng(config.seed + 1))
        if config.dtype == "float64":
            self.model.double()
        groups = weight_decay_groups(self.model.parameters(), config.weight_decay)
        self.optimizer = AdamW(groups, lr=config.lr, betas=(config.beta1, config.beta2))
        self.scheduler = WarmupCosineLR(self.optimizer, config.warmup_iters, config.decay_iters, min_lr=config.min_lr)
        self.iteration = 0
        self.history = _new_history()

    @property
    def rngs(self) -> dict[str, np.random.Generator]:
        return {"data": self.data_rng, "dropout": self.model.generator}

    def save(self, out_dir: Path) -> None:
        extra = {
            "iteration": self.iteration,
            "model_config": self.model.config.to_dict(),
            "train_config": self.config.to_dict(),
            "tokenizer": self.tokenizer.to_dict(),
            "history": self.history,
        }
        checkpoint.save(
            out_dir / CHECKPOINT_NAME, model=self.model, optimizer=self.optimizer, scheduler=self.scheduler, rng=self.rngs, extra=extra
        )
        write_json_atomic(out_dir / "history.json", self.history)


def load_run(out_dir: str | os.PathLike[str]) -> tuple[GPT, Tokenizer, dict[str, Any]]:
    """The trained model, its tokenizer and the checkpoint's ``extra`` (configs, history) from a run folder.

    Raises:
        FileNotFoundError: if the folder holds no checkpoint.
        hyperion.nn.checkpoint.CheckpointError: for a corrupt or altered checkpoint.
    """
    path = Path(out_dir) / CHECKPOINT_NAME if Path(out_dir).is_dir() else Path(out_dir)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {os.fspath(path)} (train with --out {os.fspath(out_dir)} first)")
    extra = checkpoint.load(path).extra
    missing = [key for key in ("model_config", "tokenizer") if key not in extra]
    if missing:
        raise checkpoint.CheckpointError(
            f"{os.fspath(path)} is not a hyperion-gpt run checkpoint: its metadata lacks {', '.join(missing)}"
        )
    model = GPT(GPTConfig.from_dict(extra["model_config"]))
    if extra.get("train_config", {}).get("dtype") == "float64":
        model.double()
    checkpoint.load(path, model=model)
    model.eval()
    return model, from_dict(extra["tokenizer"]), extra


def _prepare(config: TrainConfig, out_dir: Path, tokenizer: Tokenizer | None, log: Callable[[str], None]) -> tuple[Tokenizer, TokenSplits]:
    text = config.data if config.from_text else load_text(config.data, config.data_dir)
    if tokenizer is None:
        if config.tokenizer == "bpe":
            log(f"training a byte-level BPE tokenizer ({config.bpe_vocab_size} ids)")
        tokenizer = train_tokenizer(config.tokenizer, text, config.bpe_vocab_size)
    splits = prepare_tokens(text, tokenizer, out_dir / "tokens")
    for name, data in (("train", splits.train), ("val", splits.val)):
        if len(data) <= config.block_size:
            raise ValueError(
                f"the {name} split has {len(data)} tokens, too few for block_size {config.block_size}: use more text"
            )
    return tokenizer, splits


def train(
    config: TrainConfig,
    *,
    resume: bool = False,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    stop_after: int | None = None,
    ddp: bool | None = False,
) -> TrainResult:
    """Train (or resume) a GPT as ``config`` says; checkpoints and history go to ``config.out_dir``.

    With ``ddp`` (``True``: required; ``None``: when launched by ``mpiexec`` with several ranks)
    the run is data-parallel over MPI (hyperion-nn's ``distributed`` extra): every rank draws
    the same global batch of ``batch_size`` rows from the same generator and trains on its
    share, gradients are averaged before clipping, and only rank 0 evaluates, samples, prints
    and writes files.

    Args:
        config: the run's settings. When resuming, the model and optimisation settings come
            from the checkpoint; ``max_iters`` and the evaluation/sampling settings from ``config``.
        resume: continue the run in ``out_dir`` from its checkpoint.
        progress: draw a progress bar on stderr.
        log: where messages go (default: stderr through the progress bar).
        stop_after: stop (with a checkpoint) after this iteration, as if interrupted.
        ddp: data-parallel training over MPI (see above).

    Returns:
        The final losses, throughput and history.

    Raises:
        FileNotFoundError: resuming without a checkpoint, or missing data.
        ValueError: for settings that do not fit the data.
    """
    started = time.perf_counter()
    out_dir = Path(config.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    bar = ProgressBar(config.max_iters, enabled=progress)
    say = log if log is not None else bar.message
    if resume:
        path = out_dir / CHECKPOINT_NAME
        if not path.is_file():
            raise FileNotFoundError(f"--resume: no checkpoint at {os.fspath(path)}")
        extra = checkpoint.load(path).extra
        saved = dict(extra["train_config"])
        keep = {"max_iters", "eval_interval", "eval_iters", "sample_tokens", "sample_tokens_at_eval", "out_dir"}
        merged = {k: v for k, v in saved.items() if k not in keep}
        if merged.get("lr_decay_iters") is None:  # keep the original schedule when the run is extended
            merged["lr_decay_iters"] = saved["max_iters"]
        merged.update({k: getattr(config, k) for k in keep})
        merged["data"], merged["from_text"], merged["data_dir"] = config.data, config.from_text, config.data_dir
        config = TrainConfig(**merged)
        tokenizer, splits = _prepare(config, out_dir, from_dict(extra["tokenizer"]), say)
        run = _Run(config, tokenizer, splits, GPTConfig.from_dict(extra["model_config"]))
        loaded = checkpoint.load(path, model=run.model, optimizer=run.optimizer, scheduler=run.scheduler, rng=run.rngs)
        run.iteration = int(loaded.extra["iteration"])
        run.history = loaded.extra["history"]
        say(f"resumed {os.fspath(path)} at iteration {run.iteration}")
    else:
        tokenizer, splits = _prepare(config, out_dir, None, say)
        run = _Run(config, tokenizer, splits, config.model_config(tokenizer.vocab_size))
    parallel = setup_data_parallel(run.model, enabled=ddp)
    if config.batch_size % parallel.world_size:
        raise ValueError(
            f"--batch-size {config.batch_size} must be a multiple of the number of ranks ({parallel.world_size})"
        )
    if not parallel.is_main:
        bar.close()
        bar = ProgressBar(config.max_iters, enabled=False)
        say = _silent
    elif not resume:
        save_tokenizer(tokenizer, out_dir / "tokenizer.json")
        write_json_atomic(out_dir / "config.json", {"model": run.model.config.to_dict(), "train": config.to_dict()})
    model, params = run.model, run.model.num_parameters()
    bar.start = run.iteration
    tokens_per_step = config.batch_size * config.block_size
    last = run.history["evals"][-1] if run.history["evals"] else None
    stop = config.max_iters if stop_after is None else min(stop_after, config.max_iters)
    model.train()
    while run.iteration < stop:
        step_began = time.perf_counter()
        x, y = get_batch(splits.train, config.batch_size, config.block_size, run.data_rng)
        lr = run.optimizer.param_groups[0]["lr"]
        _, loss = parallel.model(parallel.shard(x), parallel.shard(y))
        loss_value = parallel.average(loss.item())  # every rank sees the same value, so all stop together
        if not math.isfinite(loss_value):
            # Stop before the bad step reaches the weights: the checkpoint on disk stays the last good one.
            raise FloatingPointError(
                f"training diverged: the loss is {loss_value} at iteration {run.iteration + 1}; "
                f"{os.fspath(out_dir / CHECKPOINT_NAME)} holds the last good state (try a smaller --lr)"
            )
        run.optimizer.zero_grad()
        loss.backward()
        parallel.sync_gradients()
        if config.grad_clip > 0:
            clip_grad_norm_(model.parameters(), config.grad_clip)
        run.optimizer.step()
        run.scheduler.step()
        run.iteration += 1
        elapsed = time.perf_counter() - step_began
        history = run.history
        history["iter"].append(run.iteration)
        history["loss"].append(loss_value)
        history["lr"].append(lr)
        history["train_seconds"] += elapsed
        history["tokens"] += tokens_per_step
        speed = history["tokens"] / max(history["train_seconds"], 1e-9)
        bar.update(run.iteration, f"loss {loss_value:.4f} | {speed / 1000:.1f}k tok/s")
        if parallel.is_main and (run.iteration % config.eval_interval == 0 or run.iteration == stop):
            losses = estimate_loss(model, splits, config.batch_size, config.eval_iters, np.random.default_rng((config.seed, run.iteration)))
            last = {"iter": run.iteration, "train_loss": losses["train"], "val_loss": losses["val"], "lr": lr}
            history["evals"].append(last)
            say(f"iter {run.iteration}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
            if config.sample_tokens_at_eval:
                text = sample_text(model, tokenizer, "\n", config.sample_tokens_at_eval, seed=config.seed)
                history["samples"].append({"iter": run.iteration, "text": text})
            history["tokens_per_second"] = speed
            run.save(out_dir)
    bar.close()
    if not parallel.is_main:  # rank 0 evaluates and reports; the others only trained
        nan = float("nan")
        last = {"train_loss": nan, "val_loss": nan} if last is None else last
    elif last is None:  # resumed at or past max_iters: report the checkpoint's state
        losses = estimate_loss(model, splits, config.batch_size, config.eval_iters, np.random.default_rng((config.seed, run.iteration)))
        last = {"iter": run.iteration, "train_loss": losses["train"], "val_loss": losses["val"]}
    sample = None
    if config.sample_tokens and stop_after is None and parallel.is_main:
        sample = sample_text(model, tokenizer, "\n", config.sample_tokens, seed=config.seed)
    history = run.history
    return TrainResult(
        iters=run.iteration,
        train_loss=float(last["train_loss"]),
        val_loss=float(last["val_loss"]),
        seconds=time.perf_counter() - started,
        tokens_per_second=history["tokens"] / max(history["train_seconds"], 1e-9),
        params=params,
        out_dir=out_dir,
        history=history,
        sample=sample,
        ranks=parallel.world_size,
        is_main=parallel.is_main,
    )


def _silent(message: str) -> None:
    """Where the messages of ranks other than 0 go."""


def sample_text(model: GPT, tokenizer: Tokenizer, prompt: str, max_new_tokens: int, *, seed: int = 0, **options: Any) -> str:
    """Generate ``max_new_tokens`` after ``prompt`` and return the whole text (KV cache, seeded sampling)."""
    ids = np.asarray([tokenizer.encode(prompt)], dtype=np.int64)
    out = generate(model, ids, max_new_tokens, rng=np.random.default_rng(seed), **options)
    return tokenizer.decode(out[0].tolist())
