"""Figure for the post "Tokenization: characters and byte-level BPE".

Left: compression (UTF-8 bytes per token) of Tiny Shakespeare's validation text against the
vocabulary size of a byte-level BPE tokenizer trained on its training text, with the character
tokenizer as a reference point. BPE learns its merges greedily and in order, so the tokenizer
with ``256 + n`` ids is the first ``n`` merges of one long training run: one run gives the whole
curve. Right: one line of the play cut into tokens by the character tokenizer and by BPE at a few
vocabulary sizes.

Drawn from ``data/gpt_tokenization.json``; re-measure (about a minute; it rewrites the JSON and
prints the numbers the post quotes) with::

    python blog/figures/gpt_tokenization.py --measure

Tiny Shakespeare is found by ``hyperion.gpt.data.load_text`` (``$HYPERION_DATA_DIR``).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import _results
from matplotlib.figure import Figure

DATA = Path(__file__).parent / "data" / "gpt_tokenization.json"
MAX_VOCAB = 2048
SIZES = (256, 260, 288, 320, 384, 448, 512, 640, 768, 1024, 1280, 1536, 2048)
SHOWN = (256, 512, 2048)
LINE = "ROMEO:\nBut, soft! what light through yonder window breaks?"
TRAIN_FRACTION = 0.9


def measure() -> dict[str, Any]:
    """Train one BPE run up to ``MAX_VOCAB`` ids; encode the held-out text with every prefix of its merges."""
    from hyperion.gpt import BPETokenizer, CharTokenizer
    from hyperion.gpt.data import load_text

    text = load_text("tinyshakespeare")
    cut = int(len(text) * TRAIN_FRACTION)
    train_text, val_text = text[:cut], text[cut:]
    start = time.perf_counter()
    full = BPETokenizer.train(train_text, MAX_VOCAB)
    train_seconds = time.perf_counter() - start
    val_bytes = len(val_text.encode("utf-8"))
    curve = []
    for size in SIZES:
        tok = BPETokenizer(full.merges[: size - 256])
        curve.append({"vocab_size": size, "bytes_per_token": round(val_bytes / len(tok.encode(val_text)), 4)})
    char = CharTokenizer.train(text)
    pieces = {}
    for size in SHOWN:
        tok = BPETokenizer(full.merges[: size - 256])
        pieces[str(size)] = [tok.decode([i]) for i in tok.encode(LINE)]
    return {
        "characters": len(text),
        "train_characters": len(train_text),
        "val_bytes": val_bytes,
        "char_vocab_size": char.vocab_size,
        "char_bytes_per_token": round(val_bytes / len(char.encode(val_text)), 4),
        "bpe_train_seconds": round(train_seconds, 1),
        "curve": curve,
        "first_merges": [full.vocab[256 + n].decode("utf-8", errors="replace") for n in range(24)],
        "last_merges": [full.vocab[-n].decode("utf-8", errors="replace") for n in range(12, 0, -1)],
        "line": LINE,
        "pieces": pieces,
    }


def _show(token: str) -> str:
    return token.replace("\n", "\\n").replace(" ", "␣")


def draw(fig: Figure, data: dict[str, Any]) -> None:
    """The compression curve and the segmented line."""
    left, right = fig.subplots(1, 2, width_ratios=(1, 1.5))
    sizes = [p["vocab_size"] for p in data["curve"]]
    ratios = [p["bytes_per_token"] for p in data["curve"]]
    left.plot(sizes, ratios, "o-", label="byte-level BPE")
    left.plot([data["char_vocab_size"]], [data["char_bytes_per_token"]], "s", color="C3", label="characters")
    left.set_xscale("log", base=2)
    left.set(xlabel="vocabulary size", ylabel="bytes per token (validation text)",
             title="Compression of Tiny Shakespeare")
    left.grid(alpha=0.3)
    left.legend(loc="upper left")
    rows = [("characters", list(data["line"]))] + [(f"BPE, {k} ids", v) for k, v in data["pieces"].items()]
    right.set_xlim(0, 1)
    right.set_ylim(-len(rows) * 2 + 0.5, 1)
    right.axis("off")
    right.set_title("One line, cut into tokens")
    for r, (name, tokens) in enumerate(rows):
        y = -2 * r
        right.text(0, y + 0.35, f"{name}: {len(tokens)} tokens", fontsize=9, weight="bold")
        x, line = 0.0, 0
        for n, token in enumerate(tokens):
            label = _show(token)
            width = 0.0155 * len(label) + 0.008
            if x + width > 1.0:
                x, line = 0.0, line + 1
            right.text(x, y - 0.45 - 0.55 * line, label, fontsize=8, family="DejaVu Sans Mono",
                       bbox={"boxstyle": "square,pad=0.12", "fc": f"C{n % 2}", "alpha": 0.25, "lw": 0})
            x += width


def build() -> Figure:
    """Draw the figure from the committed measurements."""
    fig = Figure(figsize=(11, 4.2), layout="constrained")
    draw(fig, _results.load(DATA))
    return fig


def summary(data: dict[str, Any]) -> str:
    """The numbers the post quotes."""
    lines = [f"{data['characters']} characters; char vocab {data['char_vocab_size']}, "
             f"{data['char_bytes_per_token']} bytes/token; BPE training to {MAX_VOCAB}: {data['bpe_train_seconds']} s"]
    lines += [f"  vocab {p['vocab_size']:5d}: {p['bytes_per_token']:.3f} bytes/token" for p in data["curve"]]
    lines.append("first merges: " + " | ".join(_show(m) for m in data["first_merges"]))
    lines.append("last merges: " + " | ".join(_show(m) for m in data["last_merges"]))
    for k, v in data["pieces"].items():
        lines.append(f"{k}: {len(v)} tokens: " + " | ".join(_show(t) for t in v))
    return "\n".join(lines)


if __name__ == "__main__":
    import matplotlib

    matplotlib.use("Agg")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true", help="retrain the tokenizer and rewrite the JSON")
    options = parser.parse_args()
    if options.measure:
        _results.save(DATA, measure(), ensure_ascii=False)  # non-ASCII text stays readable
    measured = _results.load(DATA)
    build().savefig(Path(__file__).with_suffix(".png"), metadata={"Software": None})
    print(summary(measured))
