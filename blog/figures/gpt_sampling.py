"""Figure for the post "Sampling: greedy, temperature, top-k and nucleus".

The character-level GPT trained in the post "Training a GPT on Tiny Shakespeare" reads the
prompt ``PROMPT`` and gives a distribution over the next character. Each panel shows the
distribution sampling draws from (``hyperion.gpt.next_token_probs``) under one setting: the
model's own (temperature 1), sharpened (0.5), flattened (1.5), cut to the 5 most likely
characters (top-k) and to the nucleus of mass 0.9 (top-p). The post also quotes a short
continuation of ``"ROMEO:\\n"`` under each setting, greedy included.

Drawn from ``data/gpt_sampling.json``; re-measure from a trained run folder with::

    python blog/figures/gpt_sampling.py --measure --run RUN_DIR

(``RUN_DIR`` from ``hyperion-gpt train --max-iters 2000 --eval-interval 250``.)
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import _results
import numpy as np
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "gpt_sampling.json"
PROMPT = "ROMEO:\nI will not s"
SHOWN = 14
SETTINGS = (
    ("T = 1", {"temperature": 1.0}),
    ("T = 0.5", {"temperature": 0.5}),
    ("T = 1.5", {"temperature": 1.5}),
    ("top-k = 5", {"temperature": 1.0, "top_k": 5}),
    ("top-p = 0.9", {"temperature": 1.0, "top_p": 0.9}),
)
SAMPLE_SETTINGS = (("greedy", {"greedy": True}),) + SETTINGS
SAMPLE_TOKENS = 160


def measure(run: Path) -> dict[str, Any]:
    """Next-character distributions under each setting, and a sample of each."""
    import hyperion.autograd as ag
    from hyperion.gpt import load_run, next_token_probs, sample_text

    model, tokenizer, _ = load_run(run)
    model.eval()
    with ag.no_grad():
        logits, _ = model(np.array([tokenizer.encode(PROMPT)]), last_only=True)
    logits = logits.numpy()[:, -1].astype(np.float64)
    base = next_token_probs(logits)[0]
    order = np.argsort(-base, kind="stable")[:SHOWN]
    panels = []
    for name, options in SETTINGS:
        probs = next_token_probs(logits, **options)[0]
        nonzero = probs[probs > 0]
        panels.append({
            "name": name,
            "probs": np.round(probs[order], 5).tolist(),
            "support": int((probs > 0).sum()),
            "entropy_bits": round(float(-(nonzero * np.log2(nonzero)).sum()), 4),
            "shown_mass": round(float(probs[order].sum()), 4),
        })
    samples = [{"name": name, "text": sample_text(model, tokenizer, "ROMEO:\n", SAMPLE_TOKENS, seed=0, **options)}
               for name, options in SAMPLE_SETTINGS]
    return {
        "prompt": PROMPT,
        "tokens": [tokenizer.decode([int(i)]) for i in order],
        "vocab_size": tokenizer.vocab_size,
        "panels": panels,
        "samples": samples,
    }


def _label(token: str) -> str:
    return {" ": "␣", "\n": "\\n"}.get(token, token)


def draw(fig: Figure, data: dict[str, Any]) -> None:
    """One bar chart per setting."""
    axes = fig.subplots(1, len(data["panels"]), sharey=True)
    labels = [_label(t) for t in data["tokens"]]
    for n, (ax, panel) in enumerate(zip(axes, data["panels"], strict=True)):
        x = np.arange(len(labels))
        ax.bar(x, panel["probs"], color=f"C{n}")
        ax.set_xticks(x, labels, family="DejaVu Sans Mono")
        ax.set_title(f"{panel['name']}\n{panel['support']} tokens, {panel['entropy_bits']:.2f} bits", fontsize=9)
        ax.grid(alpha=0.3, axis="y")
    axes[0].set_ylabel(f"P(next | {data['prompt']!r})".replace("\\\\n", "\\n"))


def build() -> Figure:
    """Draw the figure from the committed measurements."""
    fig = Figure(figsize=(13, 3.4), layout="constrained")
    draw(fig, _results.load(DATA))
    return fig


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true", help="recompute from a run folder and rewrite the JSON")
    parser.add_argument("--run", type=Path, help="the trained run folder (needed with --measure)")
    options = parser.parse_args()
    if options.measure:
        if options.run is None:
            parser.error("--measure needs --run RUN_DIR")
        _results.save(DATA, measure(options.run), ensure_ascii=False)  # non-ASCII text stays readable
    d = _results.load(DATA)
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    print("tokens", d["tokens"])
    for p in d["panels"]:
        print(p["name"], p["support"], p["entropy_bits"], p["shown_mass"], p["probs"][:6])
    for s in d["samples"]:
        print(f"--- {s['name']} ---\n{s['text']}")
