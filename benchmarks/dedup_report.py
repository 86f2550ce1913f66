"""Duplicate detection on the real corpora (run on demand).

    python benchmarks/dedup_report.py [--limit N] [--dump DIR] [--sample 60] [--only press|rss|store]

For ../shared/corpora/press.jsonl.gz (60k articles with ~800 repeated texts)
and rss-items.jsonl.gz (154k feed items, title+summary only, with dates) it
prints: records, pairs found by kind (exact content hash, same article URL,
near-duplicate), stories of two or more, docs/s of the batch function, and
the precision of the near-duplicate pairs on the hand-checked sample in
tests/golden/dedup_checked.tsv (pairs that are no longer found are reported,
not counted). ``store`` times assign_stories over a SQLite store of the
press file: all at once, then 500 new with the index rebuilt from the store,
then 500 more with it cached. ``--dump DIR`` writes every pair as TSV and a random sample
of near pairs to read (how the checked sample was drawn).
"""
from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import dedup  # noqa: E402
from pipeline.config import shared_corpora  # noqa: E402

CHECKED = ROOT / "tests" / "golden" / "dedup_checked.tsv"


def load(name: str, limit: int | None) -> list[dict]:
    out = []
    with gzip.open(shared_corpora() / name, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if name.startswith("rss"):
                r = {"id": r["id"], "title": r["title"], "lead": r.get("summary") or "",
                     "url": r["link"], "published": r.get("published"), "outlet": r.get("source")}
            out.append(r)
            if limit and len(out) >= limit:
                break
    return out


def checked() -> dict[tuple[str, str], str]:
    if not CHECKED.exists():
        return {}
    with open(CHECKED, encoding="utf-8") as f:
        rows = [r for r in csv.DictReader((l for l in f if not l.startswith("#")), delimiter="\t")]
    return {(r["id_a"], r["id_b"]): r["verdict"] for r in rows}


def run(name: str, limit: int | None, dump: Path | None, sample: int) -> None:
    recs = load(name, limit)
    t0, c0 = time.perf_counter(), time.process_time()
    index = dedup.StoryIndex()
    pairs = dedup.candidate_pairs(recs, index=index)
    el, cpu = time.perf_counter() - t0, time.process_time() - c0
    stories = {rid: index.story(rid) for rid in index.info}
    groups = dedup.groups(stories)
    kinds = Counter(k for _, _, k, _ in pairs)
    print(f"\n== {name}: {len(recs)} records, {el:.1f} s = {len(recs) / el:.0f} docs/s (batch, one process); "
          f"CPU {cpu:.1f} s = {len(recs) / cpu:.0f} docs per CPU-second (the machine is shared)")
    print(f"pairs: {dict(kinds)}; stories with 2+ articles: {len(groups)} "
          f"holding {sum(len(g) for g in groups.values())} articles; largest: {max(map(len, groups.values()), default=0)}")
    near = [p for p in pairs if p[2] == "near"]
    if near:
        hist = Counter(min(9, int(j * 10)) / 10 for _, _, _, j in near)
        print("near pairs by estimated Jaccard: " + ", ".join(f"{k:.1f}+: {v}" for k, v in sorted(hist.items())))
    verdicts = checked()
    found = {(str(a), str(b)) for a, b, _, _ in pairs} | {(str(b), str(a)) for a, b, _, _ in pairs}
    ids = {str(r["id"]) for r in recs}
    mine = {k: v for k, v in verdicts.items() if k[0] in ids}
    if mine:
        still = {k: v for k, v in mine.items() if k in found}
        same = sum(v == "same" for v in still.values())
        unsure = sum(v == "unsure" for v in still.values())
        print(f"hand-checked near pairs from this corpus: {len(mine)}; still found: {len(still)}; "
              f"judged the same story: {same}, unsure: {unsure} -> precision {same / max(1, len(still)):.2f} "
              f"(unsure counted wrong), {same / max(1, len(still) - unsure):.2f} (unsure left out)")
    if dump:
        dump.mkdir(parents=True, exist_ok=True)
        stem = name.split(".")[0]
        with open(dump / f"{stem}_pairs.tsv", "w", encoding="utf-8") as f:
            for a, b, k, j in pairs:
                f.write(f"{a}\t{b}\t{k}\t{j}\n")
        by_id = {r["id"]: r for r in recs}
        rnd = random.Random(7)
        with open(dump / f"{stem}_sample.txt", "w", encoding="utf-8") as f:
            for a, b, k, j in rnd.sample(near, min(sample, len(near))):
                f.write(f"### {a}\t{b}\tJ={j}\n")
                for r in (by_id[a], by_id[b]):
                    f.write(f"  [{r.get('outlet')} {r.get('published') or ''}] {r['title']}\n"
                            f"    L: {r.get('lead', '')[:300]}\n    X: {r.get('text', '')[:500]}\n")


def store_bench(n: int) -> None:
    """assign_stories over a fresh SQLite store: everything at once, then 1,000 new
    articles with the index rebuilt from the store (a new process) and with it cached."""
    import tempfile

    from pipeline.store import Store
    recs = load("press.jsonl.gz", n)
    first, rest = recs[:-1000], recs[-1000:]
    with tempfile.TemporaryDirectory() as d:
        store = Store(f"sqlite:///{d}/bench.db")

        def insert(rs):
            t = time.perf_counter()
            with store.begin() as c:
                for r in rs:
                    store.upsert_article({"uid": f"press:{r['id']}", "title": r["title"], "lead": r.get("lead") or "",
                                          "text": r.get("text") or "", "outlet": r.get("outlet"),
                                          "collected": "2026-03-02T10:00:00+07:00"}, conn=c)
            return time.perf_counter() - t
        el = insert(first)
        print(f"\n== store: {len(first)} press articles inserted in {el:.0f} s")
        dedup._CACHE.clear()
        c0 = time.process_time()
        st = dedup.assign_stories(store)
        cpu = time.process_time() - c0
        print(f"assign_stories, all at once: {st['seconds']} s = {st['new'] / st['seconds']:.0f} docs/s "
              f"(CPU {cpu:.0f} s = {st['new'] / cpu:.0f} docs per CPU-second); {st}")
        insert(rest[:500])
        dedup._CACHE.clear()
        st = dedup.assign_stories(store)
        print(f"500 new, index rebuilt from the store ({st['indexed']} articles) in {st['index_seconds']} s: "
              f"{st['seconds']} s in all")
        insert(rest[500:])
        st = dedup.assign_stories(store)
        print(f"500 new, index cached in the process: {st['seconds']} s; {st}")
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=None, help="first N records of each corpus")
    ap.add_argument("--dump", type=Path, default=None)
    ap.add_argument("--sample", type=int, default=60)
    ap.add_argument("--only", choices=["press", "rss", "store"], default=None)
    args = ap.parse_args()
    print(f"thresholds: long {dedup.THRESHOLD_LONG}, short {dedup.THRESHOLD_SHORT} "
          f"(< {dedup.SHORT} shingles), window {dedup.WINDOW_DAYS} days, {dedup.NUM_PERM} permutations, "
          f"{dedup.SHINGLE}-syllable shingles")
    if args.only in (None, "press"):
        run("press.jsonl.gz", args.limit, args.dump, args.sample)
    if args.only in (None, "rss"):
        run("rss-items.jsonl.gz", args.limit, args.dump, args.sample)
    if args.only in (None, "store"):
        store_bench(args.limit or 60625)


if __name__ == "__main__":
    main()
