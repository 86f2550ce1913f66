#!/usr/bin/env python3
"""Score bands of the press's "other" cell, for a stratified labelling design.

Why: the press's natural stream is ~90% articles outside the seed's
vocabulary rule (the "other" cell, 54,235 articles), and about a third of its
candidates sit there. Uniform random labels find ~1 candidate per 100
articles, so the natural-rate estimates rest on a handful of positives and
their intervals are wide. A stratified design labels the other cell more
densely where a model ranks articles high, with known inclusion rates, so
every labelled article still counts with a correct weight (N_band / n_band).

How (reproducible, fixed seeds):

1. A *design model* (``make_label_pipeline(kind="ordinal", seed=0)``) is trained on every
   labelled article EXCEPT the other cell's probability samples (strata
   ``random``, ``random-team``, ``nonvocabulary`` outside the vocabulary rule)
   and their duplicate texts. So the design never saw those articles' labels:
   inside each band they remain a simple random sample of the band.
2. The design model scores every press article; the other cell is cut by
   rank: ``band-high`` = top 1,000, ``band-mid`` = ranks 1,001-4,000,
   ``band-low`` = the rest. ``hard-novocab`` team labels (chosen by another
   model, all labelled) form their own census stratum.
3. New picks: simple random samples of unlabelled articles in band-high and
   band-mid (shuffled together with a fixed seed: any labelled prefix is
   still a random sample of each band).

Writes ``corpora/labels/design.json`` (design model data hash, band sizes,
the ids of band-high and band-mid) and, with ``--picks FILE``, the picks as
JSON lines (id, stratum, title, lead, text[:2500]) for the labellers.

Usage: nice python scripts/design_bands.py [--picks FILE] [--n-high 140] [--n-mid 110]
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.classify import make_label_pipeline  # noqa: E402
from pipeline.config import shared_corpora  # noqa: E402
from pipeline.labeling import in_vocabulary_stratum  # noqa: E402
from pipeline.train import (RANDOM_STRATA, data_hash, default_label_paths, groups_of,  # noqa: E402
                            load_training_data)

HIGH, MID = 1000, 3000  # band-high: ranks 1..1000; band-mid: the next 3000
SEED = 20261202
PROB_OTHER = set(RANDOM_STRATA) | {"nonvocabulary"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--picks", help="write the picks (JSON lines) here")
    ap.add_argument("--n-high", type=int, default=140)
    ap.add_argument("--n-mid", type=int, default=110)
    ap.add_argument("--extra-high", type=int, default=100, help="second draw from the rest of band-high")
    ap.add_argument("--extra-mid", type=int, default=60, help="second draw from the rest of band-mid")
    ap.add_argument("--out", default=str(ROOT / "corpora" / "labels" / "design.json"))
    a = ap.parse_args()

    press_path = shared_corpora() / "press.jsonl.gz"
    recs = load_training_data(default_label_paths(), press_path)
    prob = [r for r in recs if r["stratum"] in PROB_OTHER and not in_vocabulary_stratum(r)]
    groups = groups_of(recs)
    held_groups = {g for r, g in zip(recs, groups) if r["stratum"] in PROB_OTHER and not in_vocabulary_stratum(r)}
    train = [r for r, g in zip(recs, groups) if g not in held_groups]
    print(f"design model: {len(train)} labelled articles (held out: {len(prob)} other-cell probability samples "
          f"and their duplicates)", file=sys.stderr)
    y = np.asarray([1 if r["label"] == 2 else 0 for r in train])
    model = make_label_pipeline(kind="ordinal", seed=0).fit(train, y)

    ids, other, arts = [], [], {}
    with gzip.open(press_path, "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if not in_vocabulary_stratum(r):
                ids.append(r["id"])
                arts[r["id"]] = r
    print(f"scoring {len(ids)} other-cell articles", file=sys.stderr)
    scores = np.concatenate([model.predict_proba([arts[i] for i in ids[k:k + 2000]])[:, 1]
                             for k in range(0, len(ids), 2000)])
    order = np.argsort(-scores, kind="stable")
    high = [ids[k] for k in order[:HIGH]]
    mid = [ids[k] for k in order[HIGH:HIGH + MID]]
    design = {
        "design_model": "pipeline.classify.make_label_pipeline(kind=\"ordinal\", seed=0)",
        "design_data_hash": data_hash(train),
        "held_out_strata": sorted(PROB_OTHER),
        "cell": "other",
        "cell_size": len(ids),
        "bands": {"band-high": {"ranks": [1, HIGH], "size": len(high), "min_score": round(float(scores[order[HIGH - 1]]), 4)},
                  "band-mid": {"ranks": [HIGH + 1, HIGH + MID], "size": len(mid),
                               "min_score": round(float(scores[order[HIGH + MID - 1]]), 4)},
                  "band-low": {"size": len(ids) - len(high) - len(mid)}},
        "census_strata": ["hard-novocab"],
        "ids": {"band-high": high, "band-mid": mid},
    }
    Path(a.out).write_text(json.dumps(design, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {a.out}", file=sys.stderr)

    if a.picks:
        labelled = {r["id"] for r in recs}
        rng = random.Random(SEED)
        picks = []
        for name, band, n in (("band-high", high, a.n_high), ("band-mid", mid, a.n_mid)):
            pool = sorted(i for i in band if i not in labelled)
            picks += [(name, i) for i in rng.sample(pool, min(n, len(pool)))]
        rng.shuffle(picks)
        # the second draw (made after the first was handed out): the rest of each band, same rng stream,
        # so first + second draw is still a simple random sample of each band's unlabelled articles
        taken = {i for _, i in picks}
        extra = []
        for name, band, n in (("band-high", high, a.extra_high), ("band-mid", mid, a.extra_mid)):
            pool = sorted(i for i in band if i not in labelled and i not in taken)
            extra += [(name, i) for i in rng.sample(pool, min(n, len(pool)))]
        rng.shuffle(extra)
        # the third draw: the whole rest of band-high in random order (labelled in full, band-high is a census)
        taken |= {i for _, i in extra}
        rest = [("band-high", i) for i in sorted(i for i in high if i not in labelled and i not in taken)]
        rng.shuffle(rest)
        for path, rows in ((a.picks, picks), (a.picks + ".extra", extra), (a.picks + ".rest", rest)):
            write_picks(path, rows, arts)
    return 0


def write_picks(path: str, rows: list[tuple[str, str]], arts: dict[str, dict]) -> None:
    """The labellers' file: one article a line (id, stratum, title, lead, text), in draw order."""
    with open(path, "w", encoding="utf-8") as f:
        for name, i in rows:
            r = arts[i]
            f.write(json.dumps({"id": i, "stratum": name, "title": r.get("title", ""), "lead": r.get("lead", ""),
                                "text": r.get("text") or ""}, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} picks to {path}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
