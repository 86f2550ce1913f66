"""Extraction speed and quality on the real saved pages (run on demand).

    python benchmarks/bench_extract.py [--pages 500] [--no-trafilatura]

Prints pages/s of pipeline.extract.extract over the real pages of
../shared/corpora/pages (repeated to about --pages pages), its peak Python
memory (tracemalloc) and max RSS, and a table of title / date / body token-F1
against tests/golden/pages for extract() with and without the per-outlet
rules, and for trafilatura side by side, with the number of the page's
boilerplate phrases (captions, related-article titles, bylines, "Xem thêm"...)
that each system let through. The goldens were re-read from the raw HTML
independently of extract() (tests/golden/README.md).
"""
from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import time
import tracemalloc
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import extract as ex  # noqa: E402
from pipeline.config import shared_corpora  # noqa: E402
from pipeline.text import normalize, syllables  # noqa: E402


def token_f1(got: str, want: str) -> float:
    a, b = Counter(syllables(got)), Counter(syllables(want))
    common = sum((a & b).values())
    return 0.0 if not common else 2 * common / (sum(a.values()) + sum(b.values()))


def trafilatura_extract(raw: bytes) -> dict:
    import trafilatura
    d = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False, include_tables=True)
    if d is None:
        return {"title": "", "published": None, "text": ""}
    d = d.as_dict() if hasattr(d, "as_dict") else dict(d)
    return {"title": normalize(d.get("title") or ""), "published": d.get("date"),
            "text": normalize(d.get("text") or "")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=500)
    ap.add_argument("--no-trafilatura", action="store_true")
    ap.add_argument("--verbose", action="store_true", help="list the boilerplate phrases each system kept")
    args = ap.parse_args()

    pages_dir = shared_corpora() / "pages"
    with open(pages_dir / "INDEX.tsv", encoding="utf-8") as f:
        index = {r["path"]: r for r in csv.DictReader(f, delimiter="\t")}
    pages = [(p, (pages_dir / p).read_bytes(), r["canonical_url"]) for p, r in index.items()]
    size = sum(len(b) for _, b, _ in pages)
    print(f"{len(pages)} real pages, {size / len(pages) / 1024:.0f} KB on average "
          f"({min(len(b) for _, b, _ in pages) // 1024}-{max(len(b) for _, b, _ in pages) // 1024} KB)")

    # -- speed -----------------------------------------------------------
    reps = max(1, args.pages // len(pages))
    for _, raw, url in pages:  # warm-up (imports, regex compilation)
        ex.extract(raw, url)
    t0, c0 = time.perf_counter(), time.process_time()
    n = 0
    for _ in range(reps):
        for _, raw, url in pages:
            ex.extract(raw, url)
            n += 1
    el, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"extract(): {n} pages in {el:.2f} s = {n / el:.1f} pages/s "
          f"({size * reps / el / 1e6:.1f} MB/s), one process, bytes in (decoding included); "
          f"CPU {cpu:.2f} s = {n / cpu:.1f} pages per CPU-second (the machine is shared)")
    tracemalloc.start()
    for _, raw, url in pages:
        ex.extract(raw, url)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak Python allocation during one pass: {peak / 1e6:.1f} MB; "
          f"max RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")

    # -- quality ---------------------------------------------------------
    goldens = [json.loads(p.read_text(encoding="utf-8"))
               for p in sorted((ROOT / "tests" / "golden" / "pages").glob("*.json"))]
    systems = {"extract": lambda raw, url: ex.extract(raw, url)}

    def no_rules(raw, url):
        saved = ex.SITE_RULES
        ex.SITE_RULES = {}
        try:
            return ex.extract(raw)
        finally:
            ex.SITE_RULES = saved
    systems["extract, no site rules, no url"] = no_rules
    if not args.no_trafilatura:
        try:
            import trafilatura  # noqa: F401
            systems["trafilatura 2.3 bare_extraction"] = lambda raw, url: trafilatura_extract(raw)
        except ImportError as e:
            print(f"(trafilatura not importable: {e})")

    print()
    header = f"{'page':36} " + " ".join(f"{s[:28]:>30}" for s in systems)
    print("title ok / date ok / body token-F1 / lead+body token-F1 / boilerplate phrases kept")
    print(header)
    totals = {s: [0, 0, 0.0, 0.0, 0, 0.0] for s in systems}
    for g in goldens:
        raw = (pages_dir / g["page"]).read_bytes()
        url = index[g["page"]]["canonical_url"]
        cells = []
        for s, fn in systems.items():
            t = time.perf_counter()
            r = fn(raw, url)
            totals[s][3] += time.perf_counter() - t
            title_ok = r["title"] == g["title"]
            want_date = (g["published"] or "")[:10]
            date_ok = (r.get("published") or "")[:10] == want_date if s.startswith("trafilatura") \
                else r.get("published") == g["published"]
            f1 = token_f1(r["text"], "\n".join(g["paragraphs"]))
            f1lb = token_f1("\n".join([r.get("lead") or "", r["text"]]), "\n".join([g["lead"], *g["paragraphs"]]))
            whole = "\n".join([r.get("title") or "", r.get("lead") or "", r["text"]]).lower()
            leaked = [b for b in g["absent"] if normalize(b).lower() in whole]
            totals[s][0] += title_ok
            totals[s][1] += date_ok
            totals[s][2] += f1
            totals[s][4] += len(leaked)
            totals[s][5] += f1lb
            cells.append(f"{'T' if title_ok else '-'} {'D' if date_ok else '-'} {f1:5.3f} {f1lb:5.3f} "
                         f"b{len(leaked)}/{len(g['absent'])}")
            if leaked and args.verbose:
                print(f"  [{s}] {g['page']}: boilerplate kept: {leaked}")
        print(f"{g['page'][:36]:36} " + " ".join(f"{c:>30}" for c in cells))
    k = len(goldens)
    nb = sum(len(g["absent"]) for g in goldens)
    print(f"{'TOTAL (sums; F1 means)':36} " + " ".join(
        f"{f'{t[0]}/{k} {t[1]}/{k} {t[2] / k:.3f} {t[5] / k:.3f} b{t[4]}/{nb}':>30}" for t in totals.values()))
    print(f"{'pages/s (this table)':36} " + " ".join(f"{k / t[3]:>30.1f}" for t in totals.values()))
    print("\n(trafilatura's date is compared on the day only: it returns no time; bK/N = K of the page's "
          "N boilerplate phrases (tests/golden/pages 'absent', each verified on the page) found in "
          "title+lead+text; trafilatura has no lead field: on some pages its text "
          "includes the lead (body-only F1 lower, lead+body F1 higher), on others it drops it)")


if __name__ == "__main__":
    main()
