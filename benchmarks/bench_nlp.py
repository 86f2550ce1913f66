"""Speed of the NLP stages, and place accuracy on the hand-checked sample.

    nice python benchmarks/bench_nlp.py [--n 60]

Measures on real seed articles (label 2, the ones the pipeline runs the full
NLP on): exemplars(), entities(), detect_place(), FieldClassifier /
DeedClassifier predict one article at a time; and detect_place's province
accuracy on tests/golden/places_checked.jsonl (hand-checked).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_fields import load_seed  # noqa: E402

from pipeline.gazetteer import detect_place_article  # noqa: E402
from pipeline.nlp import entities, exemplars  # noqa: E402


def ner_speed(arts) -> None:  # noqa: ANN001
    """underthesea.ner against pipeline.nlp.tag_ner (same models, linear-time features)."""
    from underthesea import ner

    from pipeline.nlp import tag_ner
    from pipeline.text import sentences
    sents = [s for a in arts for s in [a["title"], *sentences(a.get("text", ""))[:4]] if s]
    ner(sents[0])
    rates, outs = [], []
    for fn in (ner, tag_ner):
        t0 = time.time()
        outs.append([fn(s) for s in sents])
        rates.append(len(sents) / (time.time() - t0))
    same = sum(a == b for a, b in zip(*outs))
    print(f"{'underthesea.ner':<38} {rates[0]:8.1f} sentences/s")
    print(f"{'nlp.tag_ner':<38} {rates[1]:8.1f} sentences/s   ({rates[1] / rates[0]:.1f}x; "
          f"same output on {same}/{len(sents)} sentences)")


def timed(label, fn, items):
    fn(items[0])  # warm-up: regex compilation, model loading
    t0 = time.time()
    for x in items:
        fn(x)
    dt = time.time() - t0
    print(f"{label:<38} {len(items) / dt:8.1f} articles/s   ({dt:.1f}s for {len(items)})")
    return dt


def place_accuracy(arts_by_id) -> tuple[int, int, list]:
    rows = [json.loads(line) for line in (ROOT / "tests" / "golden" / "places_checked.jsonl")
            .read_text(encoding="utf-8").splitlines() if line.strip()]
    ok, wrong = 0, []
    for r in rows:
        p = detect_place_article(arts_by_id[r["id"]])
        got = p["province"] if p else None
        if got == r["province"] or got in r["also_ok"]:
            ok += 1
        else:
            wrong.append((r["id"], r["province"], got))
    return ok, len(rows), wrong


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=60, help="articles for the speed runs")
    a = ap.parse_args(argv)
    pairs = load_seed((2, 1))
    arts = [art for lab, art in pairs if lab["label"] == 2][:a.n]
    by_id = {art["id"]: art for _, art in pairs}

    ok, n, wrong = place_accuracy(by_id)
    print(f"detect_place province accuracy on hand-checked sample: {ok}/{n} = {ok / n:.3f}")
    for w in wrong:
        print("   wrong:", w)

    timed("detect_place", detect_place_article, arts)
    ner_speed(arts)
    timed("exemplars (NER on <=12 key sentences)",
          lambda x: exemplars(x["title"], x.get("text", ""), x.get("lead", "")), arts)
    import pipeline.nlp as nlp

    nlp.ner_spans.cache_clear()  # entities must not reuse the NER results of exemplars
    timed("entities (NER on <=60 sentences)",
          lambda x: entities("\n".join([x["title"], x.get("lead", ""), x.get("text", "")])), arts[:20])

    from pipeline.fields import DeedClassifier, FieldClassifier

    X = [art for _, art in pairs]
    t0 = time.time()
    fm = FieldClassifier().fit(X, [lab["field"] for lab, _ in pairs])
    print(f"FieldClassifier.fit on {len(X)} items: {time.time() - t0:.1f}s")
    dm = DeedClassifier().fit(X, [lab["deed"] for lab, _ in pairs])
    fresh = [dict(x, title=x["title"] + " ") for x in arts]  # defeat the per-text cache
    timed("FieldClassifier.predict_proba (one by one)", lambda x: fm.predict_proba([x]), fresh)
    fresh = [dict(x, title=x["title"] + "  ") for x in arts]
    timed("DeedClassifier.predict_proba (one by one)", lambda x: dm.predict_proba([x]), fresh)
    fresh = [dict(x, title=x["title"] + "   ") for x in arts]
    t0 = time.time()
    fm.predict_proba(fresh)
    print(f"{'FieldClassifier.predict_proba (batch)':<38} {len(fresh) / (time.time() - t0):8.1f} articles/s")


if __name__ == "__main__":
    main()
