"""Train the project's static embedding (pipeline/data/embed/static.npz) from the shared corpora.

A sentence-transformers ``StaticEmbedding`` (one vector per token, mean-pooled) over
folded Vietnamese syllables and frequent syllable bigrams, trained with in-batch
negatives (MultipleNegativesRankingLoss) on natural positive pairs:

- press.jsonl.gz: title ↔ lead (sapo), lead ↔ first paragraph of the body;
- rss-items.jsonl.gz: title ↔ summary, for items published before ``--rss-before``
  (later items are kept for the same-story retrieval benchmark) and never an item of
  tests/golden/merge_pairs.jsonl.

It is written as int8 with a per-row scale, so the model ships in a few MB and loads with
numpy alone (pipeline.embed.StaticEmbedder); torch and sentence-transformers are only
needed here. Deterministic given ``--seed`` (same data, same vectors, CPU).

    HF_HUB_OFFLINE=1 nice python scripts/train_static_embedding.py [--dim 96] [--epochs 2]

The shipped model (card.json: static-vi-syl12-96-v1) was made, on a busy 2-core machine in
~17 minutes, with:

    HF_HUB_OFFLINE=1 nice python scripts/train_static_embedding.py --epochs 1 --max-pairs 120000
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from pipeline.config import shared_corpora  # noqa: E402
from pipeline.embed import STATIC_MODEL_DIR, syllable_tokens  # noqa: E402

_PARA = re.compile(r"\n+")


def pairs_from_corpora(corpora: Path, rss_before: str, exclude: set[str], max_chars: int = 600):
    out = []
    with gzip.open(corpora / "press.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            title, lead, text = r.get("title") or "", r.get("lead") or "", r.get("text") or ""
            paras = [p.strip() for p in _PARA.split(text) if len(p.strip()) > 40]
            if title and lead:
                out.append((title, lead[:max_chars]))
            elif title and paras:
                out.append((title, paras[0][:max_chars]))
            if lead and paras:
                out.append((lead[:max_chars], paras[0][:max_chars]))
    with gzip.open(corpora / "rss-items.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r["id"] in exclude or not r.get("summary") or (r.get("published") or "9") >= rss_before:
                continue
            out.append((r["title"], r["summary"][:max_chars]))
    return out


def build_vocab(texts, min_uni: int, min_bi: int, max_uni: int, max_bi: int) -> list[str]:
    uni, bi = Counter(), Counter()
    for t in texts:
        s = syllable_tokens(t)
        uni.update(s)
        bi.update(a + "_" + b for a, b in zip(s, s[1:]))
    u = [w for w, c in uni.most_common(max_uni) if c >= min_uni]
    b = [w for w, c in bi.most_common(max_bi) if c >= min_bi]
    return u + b


def to_tokens(text: str, vocab: set[str]) -> str:
    s = syllable_tokens(text)
    toks = [w for w in s if w in vocab] + [b for b in (a + "_" + c for a, c in zip(s, s[1:])) if b in vocab]
    return " ".join(toks)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(STATIC_MODEL_DIR))
    ap.add_argument("--dim", type=int, default=96)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=0.2)
    ap.add_argument("--max-uni", type=int, default=20000)
    ap.add_argument("--max-bi", type=int, default=30000)
    ap.add_argument("--rss-before", default="2026-03-01")
    ap.add_argument("--max-pairs", type=int, default=0, help="0: all")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    a = ap.parse_args(argv)

    try:
        import torch
        from tokenizers import Tokenizer
        from tokenizers.models import WordLevel
        from tokenizers.pre_tokenizers import WhitespaceSplit
        from sentence_transformers import SentenceTransformer
        from sentence_transformers.losses import MultipleNegativesRankingLoss
        try:
            from sentence_transformers.sentence_transformer.modules import StaticEmbedding
        except ImportError:
            from sentence_transformers.models import StaticEmbedding
    except ImportError as e:
        raise SystemExit(f"training needs the st extra: pip install torch==2.13.0 && pip install "
                         f"'nguoitot[st]' ({e})")
    torch.set_num_threads(a.threads)
    random.seed(a.seed)
    np.random.seed(a.seed)
    torch.manual_seed(a.seed)

    corpora = shared_corpora()
    gold = ROOT / "tests" / "golden" / "merge_pairs.jsonl"
    exclude = set()
    if gold.is_file():
        for line in gold.read_text(encoding="utf-8").splitlines():
            g = json.loads(line)
            exclude |= {g["a"]["id"], g["b"]["id"]}
    t0 = time.time()
    pairs = pairs_from_corpora(corpora, a.rss_before, exclude)
    random.shuffle(pairs)
    if a.max_pairs:
        pairs = pairs[: a.max_pairs]
    vocab_list = build_vocab((x for p in pairs for x in p), 3, 15, a.max_uni, a.max_bi)
    vocab = set(vocab_list)
    print(f"{len(pairs)} pairs, vocab {len(vocab_list)} ({time.time() - t0:.0f}s)", flush=True)
    tok_pairs = [(to_tokens(x, vocab), to_tokens(y, vocab)) for x, y in pairs]
    tok_pairs = [(x, y) for x, y in tok_pairs if x and y]

    wl = {"[UNK]": 0, **{w: i + 1 for i, w in enumerate(vocab_list)}}
    tk = Tokenizer(WordLevel(vocab=wl, unk_token="[UNK]"))
    tk.pre_tokenizer = WhitespaceSplit()
    static = StaticEmbedding(tk, embedding_dim=a.dim)
    model = SentenceTransformer(modules=[static], device="cpu")
    loss = MultipleNegativesRankingLoss(model)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    steps = a.epochs * (len(tok_pairs) // a.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=max(1, steps), pct_start=0.05)
    model.train()
    step = 0
    for ep in range(a.epochs):
        random.shuffle(tok_pairs)
        for i in range(0, len(tok_pairs) - a.batch + 1, a.batch):
            batch = tok_pairs[i:i + a.batch]
            fa = model.tokenize([x for x, _ in batch])
            fb = model.tokenize([y for _, y in batch])
            value = loss([fa, fb], None)
            opt.zero_grad()
            value.backward()
            opt.step()
            sched.step()
            step += 1
            if step % 50 == 0:
                print(f"epoch {ep} step {step}/{steps} loss {value.item():.3f} ({time.time() - t0:.0f}s)", flush=True)

    w = static.embedding.weight.detach().cpu().numpy()[1:].astype(np.float32)  # drop [UNK]
    scale = np.abs(w).max(axis=1, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    q = np.round(w / scale).astype(np.int8)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / "static.npz", vectors_q=q, scale=scale.astype(np.float32),
                        vocab=np.array(vocab_list))
    card = {
        "name": f"static-vi-syl12-{a.dim}-v1",
        "kind": "sentence-transformers StaticEmbedding, mean of syllable and bigram vectors",
        "trained_with": {"pairs": len(tok_pairs), "epochs": a.epochs, "batch": a.batch, "lr": a.lr,
                         "loss": "MultipleNegativesRankingLoss", "seed": a.seed,
                         "data": "press title-lead, lead-first paragraph; rss title-summary before "
                                 + a.rss_before + " (gold merge items excluded)"},
        "vocab": len(vocab_list), "dim": a.dim, "storage": "int8 with per-row float32 scale",
        "script": "scripts/train_static_embedding.py",
        "train_seconds": round(time.time() - t0),
    }
    (out / "card.json").write_text(json.dumps(card, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {out / 'static.npz'} ({(out / 'static.npz').stat().st_size / 1e6:.1f} MB) in {time.time() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
