"""``hyperion-gpt``: ``train``, ``sample``, ``eval`` and ``attention`` subcommands.

Every subcommand has ``--help``; ``train`` and ``eval`` (and ``sample``) take ``--json``, which
prints one JSON object as the last line of stdout. Bad input exits with status 2 and one line
on stderr naming the problem.

Examples:
    >>> main(["train", "--max-iters", "0"])  # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, TextIO

import numpy as np

from hyperion.gpt.__about__ import __version__
from hyperion.gpt.data import DatasetNotFoundError, prepare_tokens
from hyperion.gpt.sampling import generate
from hyperion.gpt.tokenizers import UnknownCharacterError
from hyperion.gpt.train import TrainConfig, TrainResult, estimate_loss, load_run, train
from hyperion.nn.checkpoint import CheckpointError
from hyperion.tensor.cli import ArgumentParser, UserError, nonnegative_float, nonnegative_int, positive_int, probability

__all__ = ["build_parser", "main"]


class _Parser(ArgumentParser):
    """Raises :class:`UserError` instead of exiting, so that :func:`main` writes to the stream it was given."""

    def error(self, message: str) -> NoReturn:
        raise UserError(f"{self.prog}: {message}")


def _add_train(sub: argparse._SubParsersAction) -> None:
    d = TrainConfig()
    p = sub.add_parser(
        "train",
        help="train a GPT (default: a small char-level model on Tiny Shakespeare, a few minutes on a CPU)",
        description="Train a GPT; checkpoints, history.json and the tokenizer go to --out.",
    )
    p.add_argument("--data", default=d.data, help="'tinyshakespeare' or a path to a UTF-8 text file (default: %(default)s)")
    p.add_argument("--data-dir", default=None, help="look for the data set here first")
    p.add_argument("--tokenizer", choices=("char", "bpe"), default=d.tokenizer, help="(default: %(default)s)")
    p.add_argument("--bpe-vocab-size", type=positive_int, default=d.bpe_vocab_size, help="(default: %(default)s)")
    p.add_argument("--out", default=d.out_dir, help="the run folder (default: %(default)s)")
    p.add_argument("--n-layer", type=positive_int, default=d.n_layer, help="(default: %(default)s)")
    p.add_argument("--n-head", type=positive_int, default=d.n_head, help="(default: %(default)s)")
    p.add_argument("--n-kv-head", type=positive_int, default=None, help="key/value heads (default: --n-head)")
    p.add_argument("--n-embd", type=positive_int, default=d.n_embd, help="(default: %(default)s)")
    p.add_argument("--block-size", type=positive_int, default=d.block_size, help="(default: %(default)s)")
    p.add_argument("--batch-size", type=positive_int, default=d.batch_size, help="(default: %(default)s)")
    p.add_argument("--dropout", type=nonnegative_float, default=d.dropout, help="(default: %(default)s)")
    p.add_argument("--positional", choices=("learned", "rope"), default=d.positional, help="(default: %(default)s)")
    p.add_argument("--no-bias", action="store_true", help="no biases in the linear layers and LayerNorms (as nanoGPT)")
    p.add_argument(
        "--ddp", action="store_true",
        help="data-parallel over MPI ranks (mpiexec -n N hyperion-gpt train --ddp; on by itself under mpiexec); "
        "--batch-size is the global batch",
    )
    p.add_argument("--max-iters", type=positive_int, default=d.max_iters, help="(default: %(default)s)")
    p.add_argument("--lr", type=nonnegative_float, default=d.lr, help="peak learning rate (default: %(default)s)")
    p.add_argument("--min-lr", type=nonnegative_float, default=d.min_lr, help="(default: %(default)s)")
    p.add_argument("--warmup-iters", type=nonnegative_int, default=d.warmup_iters, help="(default: %(default)s)")
    p.add_argument("--lr-decay-iters", type=positive_int, default=None, help="end of the cosine (default: --max-iters)")
    p.add_argument("--weight-decay", type=nonnegative_float, default=d.weight_decay, help="(default: %(default)s)")
    p.add_argument("--grad-clip", type=nonnegative_float, default=d.grad_clip, help="0 disables (default: %(default)s)")
    p.add_argument("--eval-interval", type=positive_int, default=d.eval_interval, help="(default: %(default)s)")
    p.add_argument("--eval-iters", type=positive_int, default=d.eval_iters, help="(default: %(default)s)")
    p.add_argument("--seed", type=nonnegative_int, default=d.seed, help="(default: %(default)s)")
    p.add_argument("--sample-tokens", type=nonnegative_int, default=d.sample_tokens, help="sample printed at the end (default: %(default)s)")
    p.add_argument("--sample-tokens-at-eval", type=nonnegative_int, default=0, help="keep a sample in the history at each evaluation")
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out from its checkpoint (model and optimiser settings come from the checkpoint; "
        "--max-iters may extend it)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the final metrics as one JSON line")


def _add_sample(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="generate text from a trained model", description="Generate text from a checkpoint.")
    p.add_argument("--ckpt", required=True, help="a run folder (or its ckpt.safetensors)")
    p.add_argument("--prompt", default="\n", help="the text to continue (default: a newline)")
    p.add_argument("--max-new-tokens", type=nonnegative_int, default=300, help="(default: %(default)s)")
    p.add_argument("--temperature", type=nonnegative_float, default=1.0, help="0 is greedy (default: %(default)s)")
    p.add_argument("--top-k", type=positive_int, default=None, help="sample among the k most likely tokens")
    p.add_argument("--top-p", type=probability, default=None, help="sample from the nucleus of mass p")
    p.add_argument("--greedy", action="store_true", help="always take the most likely token")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="(default: %(default)s)")
    p.add_argument("--no-kv-cache", action="store_true", help="recompute the whole context at each step")
    p.add_argument("--json", action="store_true", help="print the text and timing as one JSON line")


def _add_eval(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="validation loss and perplexity of a checkpoint", description="Evaluate a checkpoint.")
    p.add_argument("--ckpt", required=True, help="a run folder (or its ckpt.safetensors)")
    p.add_argument("--data", default=None, help="the text it was trained on (default: the run's)")
    p.add_argument("--data-dir", default=None, help="look for the data set here first")
    p.add_argument("--eval-iters", type=positive_int, default=None, help="batches (default: the run's)")
    p.add_argument("--seed", type=nonnegative_int, default=0, help="(default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print the metrics as one JSON line")


def _add_attention(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("attention", help="draw attention maps of a trained model", description="Attention maps as a PNG.")
    p.add_argument("--ckpt", required=True, help="a run folder (or its ckpt.safetensors)")
    p.add_argument("--text", required=True, help="the text to look at")
    p.add_argument("--out", required=True, help="the PNG to write")
    p.add_argument("--layer", type=nonnegative_int, default=None, help="one layer (default: all)")
    p.add_argument("--head", type=nonnegative_int, default=None, help="one head (default: all)")
    p.add_argument("--json", action="store_true", help="print what was drawn as one JSON line")


def build_parser() -> argparse.ArgumentParser:
    """The ``hyperion-gpt`` argument parser."""
    parser = _Parser(prog="hyperion-gpt", description="Train, sample, evaluate and inspect a GPT built on hyperion-nn.")
    parser.add_argument("--version", action="version", version=f"hyperion-gpt {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_train(sub)
    _add_sample(sub)
    _add_eval(sub)
    _add_attention(sub)
    return parser


def _run_train(args: argparse.Namespace, stdout: TextIO) -> dict | None:
    try:
        if args.resume:  # the model and optimisation settings come from the checkpoint
            config = TrainConfig(
                data=args.data, data_dir=args.data_dir, out_dir=args.out, max_iters=args.max_iters, warmup_iters=0,
                eval_interval=args.eval_interval, eval_iters=args.eval_iters, sample_tokens=args.sample_tokens,
                sample_tokens_at_eval=args.sample_tokens_at_eval,
            )
            result = train(config, resume=True, progress=not args.no_progress, ddp=True if args.ddp else None)
            return _report_train(result, args, stdout)
        config = TrainConfig(
            data=args.data, data_dir=args.data_dir, tokenizer=args.tokenizer, bpe_vocab_size=args.bpe_vocab_size,
            out_dir=args.out, n_layer=args.n_layer, n_head=args.n_head, n_kv_head=args.n_kv_head, n_embd=args.n_embd,
            block_size=args.block_size, dropout=args.dropout, bias=not args.no_bias, positional=args.positional,
            batch_size=args.batch_size,
            max_iters=args.max_iters, lr=args.lr, min_lr=args.min_lr, warmup_iters=args.warmup_iters,
            lr_decay_iters=args.lr_decay_iters, weight_decay=args.weight_decay, grad_clip=args.grad_clip,
            eval_interval=args.eval_interval, eval_iters=args.eval_iters, seed=args.seed, sample_tokens=args.sample_tokens,
            sample_tokens_at_eval=args.sample_tokens_at_eval,
        )
        config.model_config(2)  # validate the architecture before reading any data
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return _report_train(train(config, progress=not args.no_progress, ddp=True if args.ddp else None), args, stdout)


def _report_train(result: TrainResult, args: argparse.Namespace, stdout: TextIO) -> dict | None:
    if not result.is_main:  # only rank 0 reports
        return None
    if result.sample is not None and not args.json:
        stdout.write(f"--- sample after {result.iters} iterations ---\n{result.sample}\n")
    if not args.json:
        stdout.write(
            f"iters {result.iters}: train loss {result.train_loss:.4f}, val loss {result.val_loss:.4f}, "
            f"{result.seconds:.1f}s, {result.tokens_per_second:.0f} tokens/s, {result.params} parameters; run in {result.out_dir}\n"
        )
    return result.summary()


def _run_sample(args: argparse.Namespace, stdout: TextIO) -> dict:
    model, tokenizer, _ = load_run(args.ckpt)
    ids = np.asarray([tokenizer.encode(args.prompt)], dtype=np.int64)
    if ids.shape[1] == 0:
        raise UserError("--prompt must hold at least one token")
    began = time.perf_counter()
    out = generate(
        model, ids, args.max_new_tokens, temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
        greedy=args.greedy, rng=np.random.default_rng(args.seed), use_kv_cache=not args.no_kv_cache,
    )
    seconds = time.perf_counter() - began
    text = tokenizer.decode(out[0].tolist())
    if not args.json:
        stdout.write(text + "\n")
    return {"text": text, "new_tokens": args.max_new_tokens, "seconds": seconds,
            "tokens_per_second": args.max_new_tokens / max(seconds, 1e-9), "kv_cache": not args.no_kv_cache}


def _run_eval(args: argparse.Namespace, stdout: TextIO) -> dict:
    model, tokenizer, extra = load_run(args.ckpt)
    saved = extra.get("train_config", {})
    source = args.data if args.data is not None else saved.get("data", "tinyshakespeare")
    if str(source).startswith("<text of"):
        raise UserError("this run was trained on in-memory text: give --data PATH")
    from hyperion.gpt.data import load_text

    text = load_text(source, args.data_dir if args.data_dir is not None else saved.get("data_dir"))
    folder = Path(args.ckpt) if Path(args.ckpt).is_dir() else Path(args.ckpt).parent
    splits = prepare_tokens(text, tokenizer, folder / "tokens")
    eval_iters = args.eval_iters or int(saved.get("eval_iters", 20))
    batch = int(saved.get("batch_size", 12))
    losses = estimate_loss(model, splits, batch, eval_iters, np.random.default_rng(args.seed))
    result = {"train_loss": losses["train"], "val_loss": losses["val"], "val_perplexity": float(np.exp(losses["val"])),
              "eval_iters": eval_iters, "iteration": extra.get("iteration")}
    if not args.json:
        stdout.write(f"val loss {losses['val']:.4f} (perplexity {result['val_perplexity']:.2f}), train loss {losses['train']:.4f}\n")
    return result


def _run_attention(args: argparse.Namespace, stdout: TextIO) -> dict:
    from hyperion.gpt.attention_maps import attention_figure

    model, tokenizer, _ = load_run(args.ckpt)
    ids = tokenizer.encode(args.text)
    if not 0 < len(ids) <= model.config.block_size:
        raise UserError(f"--text must be 1..{model.config.block_size} tokens, got {len(ids)}")
    for name, value, limit in (("--layer", args.layer, model.config.n_layer), ("--head", args.head, model.config.n_head)):
        if value is not None and value >= limit:
            raise UserError(f"{name} {value} is out of range: the model has {limit}")
    weights = model.attention_weights(np.asarray([ids]))[:, 0]
    labels = [tokenizer.decode([i]) for i in ids]
    figure = attention_figure(weights, labels, layer=args.layer, head=args.head)
    from hyperion.gpt.attention_maps import save_figure

    save_figure(figure, args.out)
    if not args.json:
        stdout.write(f"wrote {args.out}\n")
    return {"out": args.out, "tokens": len(ids), "layer": args.layer, "head": args.head}


def main(argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 bad input, 1 other failure)."""
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    try:
        args = build_parser().parse_args(argv)
        runner = {"train": _run_train, "sample": _run_sample, "eval": _run_eval, "attention": _run_attention}[args.command]
        result = runner(args, stdout)
    except UserError as exc:
        stderr.write(f"{exc}\n")
        return 2
    except (OSError, DatasetNotFoundError, CheckpointError, UnknownCharacterError, ValueError) as exc:
        stderr.write(f"hyperion-gpt: error: {exc}\n")
        return 2
    except FloatingPointError as exc:
        stderr.write(f"hyperion-gpt: error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        stderr.write("hyperion-gpt: interrupted (the last checkpoint is intact)\n")
        return 130
    if args.json and result is not None:
        stdout.write(json.dumps(result) + "\n")
    stdout.flush()
    return 0
