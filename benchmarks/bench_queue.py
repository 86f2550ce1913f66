"""Review-desk load: the queue's first page with 5,000 candidates in the store.

Builds a fresh SQLite store with N candidates in one week (titles, reasons and
leads cut from real articles of press.jsonl.gz; 1–3 evidence articles each,
scores, exemplars, places), logs in through the real app (argon2, session,
CSRF) and times ``GET /queue`` (first page, 25 candidates with all their
evidence) end to end through the ASGI stack, plus the library call alone and
a few heavier variants (search, a field, "most uncertain first", page 100).

Usage: nice python benchmarks/bench_queue.py [--candidates 5000] [--runs 30]
Target (issue 7): first page in < 300 ms on this machine (median and p95 printed;
the load average is printed because 9 processes share 2 cores).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa  # noqa: E402

from pipeline.config import shared_corpora  # noqa: E402
from pipeline.store import Store, articles, candidate_evidence, candidates, now_iso, scores  # noqa: E402
from pipeline.taxonomy import DEEDS, FIELDS  # noqa: E402

WEEK = "2026-W49"


def real_texts(n: int) -> list[dict]:
    out = []
    with gzip.open(shared_corpora() / "press.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r.get("title") and (r.get("text") or r.get("lead")):
                out.append(r)
                if len(out) >= n:
                    break
    return out


def build(store: Store, n: int, seed: int = 0) -> None:
    rnd = random.Random(seed)
    texts = real_texts(min(n * 2, 12000))
    fields, deeds = list(FIELDS), list(DEEDS)
    t = now_iso()
    arts, scs, cands, ev = [], [], [], []
    aid = 0
    for i in range(n):
        k = rnd.choice((1, 1, 2, 3))
        field, deed = rnd.choice(fields), rnd.choice(deeds)
        sc = round(rnd.random(), 4)
        src = texts[i % len(texts)]
        sents = re.split(r"(?<=[.!?])\s+", src.get("text") or src.get("lead") or src["title"])
        reason = (sents[min(1, len(sents) - 1)] or src["title"])[:400]
        name = f"Nguyễn Văn {chr(65 + i % 26)}{i}"
        for j in range(k):
            aid += 1
            arts.append(dict(id=aid, uid=f"https://bao{j}.example.vn/{i}", kind="press" if j < 2 else "report",
                             url=f"https://bao{j}.example.vn/{i}", outlet=f"Báo {j}", title=src["title"][:300],
                             lead=(src.get("lead") or "")[:600], text=(src.get("text") or "")[:5000],
                             published=f"2026-12-0{1 + j}T08:00:00+07:00", collected=t, week=WEEK,
                             content_hash=f"h{aid}", source_file="baocao.docx" if j == 2 else None,
                             location="đoạn 3" if j == 2 else None))
            scs.append(dict(article_id=aid, model_version="bench", content_hash=f"h{aid}", score=sc, label=2,
                            field=field, deed=deed, exemplars="[]", reason=reason, scored=t))
            ev.append(dict(candidate_id=i + 1, article_id=aid))
        cands.append(dict(id=i + 1, key=f"{WEEK}:{i}", name=name,
                          exemplars=json.dumps([{"name": name, "kind": "person", "role": "tài xế", "place": "phường Láng Hạ"}],
                                               ensure_ascii=False),
                          title=src["title"][:300], field=field, field_conf=0.8, deed=deed, score=sc,
                          label=2 if sc > 0.5 else 1, reason=reason,
                          place=json.dumps({"ward": "Láng Hạ", "district": "Đống Đa", "province": "Hà Nội"},
                                           ensure_ascii=False),
                          week=WEEK, model_version="bench", created=t, updated=t))
    with store.begin() as c:
        c.execute(sa.insert(articles), arts)
        c.execute(sa.insert(scores), scs)
        c.execute(sa.insert(candidates), cands)
        c.execute(sa.insert(candidate_evidence), ev)


def timed(fn, runs: int) -> list[float]:
    fn()  # warm
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def summary(name: str, ms: list[float]) -> dict:
    ms = sorted(ms)
    p95 = ms[min(len(ms) - 1, int(round(0.95 * (len(ms) - 1))))]
    row = {"case": name, "median_ms": round(statistics.median(ms), 1), "p95_ms": round(p95, 1),
           "min_ms": round(ms[0], 1), "runs": len(ms)}
    print(json.dumps(row, ensure_ascii=False))
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--candidates", type=int, default=5000)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()

    from fastapi.testclient import TestClient

    from pipeline import review
    from pipeline.web.app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{tmp}/bench.db")
        t0 = time.perf_counter()
        build(store, args.candidates)
        print(json.dumps({"built": args.candidates, "articles": store.count(articles),
                          "seconds": round(time.perf_counter() - t0, 1),
                          "loadavg": [round(x, 2) for x in os.getloadavg()]}))
        review.add_user(store, "bench", "analyst", "bench-password")
        app = create_app(store, None)
        c = TestClient(app)
        tok = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
        r = c.post("/login", data={"csrf": tok, "name": "bench", "password": "bench-password", "next": "/queue"})
        assert r.status_code == 200, r.status_code

        def page(url):
            def f():
                resp = c.get(url)
                assert resp.status_code == 200 and resp.text.count('class="cand card"') == 25, url
            return f

        rows = [
            summary("GET /queue first page (25 of 5000, evidence)", timed(page(f"/queue?week={WEEK}"), args.runs)),
            summary("review.queue() library call", timed(lambda: review.queue(store, WEEK), args.runs)),
            summary("GET /queue uncertain first", timed(page(f"/queue?week={WEEK}&order=uncertain"), args.runs)),
            summary("GET /queue one field", timed(page(f"/queue?week={WEEK}&field=cong-dong"), args.runs)),
            summary("GET /queue search 'Văn A'", timed(page(f"/queue?week={WEEK}&q=V%C4%83n%20A&status=all"), args.runs)),
            summary("GET /queue page 100", timed(page(f"/queue?week={WEEK}&page=100"), args.runs)),
        ]
        first = rows[0]
        ok = first["median_ms"] < 300
        print(json.dumps({"target": "first page < 300 ms", "median_ms": first["median_ms"], "p95_ms": first["p95_ms"],
                          "ok": ok, "loadavg": [round(x, 2) for x in os.getloadavg()]}))
        store.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
