#!/usr/bin/env python3
"""Second stage of the labelling design (after scripts/design_bands.py).

1. ``band-low-lf``: the band-low articles of the "other" cell that at least one
   labelling function of ``pipeline.labeling`` votes positive for (rule-based,
   trained on nothing). band-low had no candidate among its ~760 uniform random
   labels, so this sub-band is where its remaining candidates are likeliest;
   it is cut out of band-low (ids kept in design.json, since the functions may
   change later) and sampled at random.
2. ``vocabulary-team``: a simple random sample of the unlabelled articles of
   the vocabulary cell; together with the seed's ``vocabulary`` stratum (itself
   a uniform draw of the cell) it stays a simple random sample of the cell.

Reproducible (``random.Random(20261203)``); writes the picks as JSON lines.

Usage: nice python scripts/design_more.py --picks FILE [--n-lf 170] [--n-vocab 340]
       (third stage: --seed 20261204 --n-lf 0 --n-vocab 510 --n-mid 340)
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

from design_bands import write_picks  # noqa: E402  (scripts/ is on sys.path when run as a script)

from pipeline.config import shared_corpora  # noqa: E402
from pipeline.labeling import apply_lfs, in_vocabulary_stratum  # noqa: E402
from pipeline.train import default_label_paths, load_training_data  # noqa: E402

SEED = 20261203


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--picks", required=True)
    ap.add_argument("--n-lf", type=int, default=170)
    ap.add_argument("--n-vocab", type=int, default=340)
    ap.add_argument("--n-mid", type=int, default=0, help="also draw this many more from band-mid")
    ap.add_argument("--seed", type=int, default=SEED, help="a later draw uses a new seed (20261204, ...)")
    ap.add_argument("--design", default=str(ROOT / "corpora" / "labels" / "design.json"))
    a = ap.parse_args()
    design = json.loads(Path(a.design).read_text(encoding="utf-8"))
    taken = set(design["ids"]["band-high"]) | set(design["ids"]["band-mid"])
    low, vocab, arts = [], [], {}
    with gzip.open(shared_corpora() / "press.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if in_vocabulary_stratum(r):
                vocab.append(r["id"])
            elif r["id"] not in taken and r["id"] not in design["ids"].get("band-low-lf", ()):
                low.append(r)
            arts[r["id"]] = r
    if "band-low-lf" not in design["ids"]:
        votes = (apply_lfs(low) == 1).sum(axis=1)
        lf_ids = sorted(r["id"] for r, v in zip(low, votes) if v >= 1)
        design["ids"]["band-low-lf"] = lf_ids
        design["bands"]["band-low-lf"] = {"rule": ">= 1 positive labelling-function vote, inside band-low",
                                          "size": len(lf_ids)}
        design["bands"]["band-low"]["size"] -= len(lf_ids)
        Path(a.design).write_text(json.dumps(design, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"band-low-lf: {len(lf_ids)} articles; band-low now {design['bands']['band-low']['size']}",
              file=sys.stderr)
    labelled = {r["id"] for r in load_training_data(default_label_paths(), shared_corpora() / "press.jsonl.gz")}
    rng = random.Random(a.seed)
    picks = []
    # every draw excludes all labelled articles, earlier draws included: their union stays a
    # simple random sample of each cell
    for name, pool, n in (("band-low-lf", design["ids"]["band-low-lf"], a.n_lf),
                          ("vocabulary-team", vocab, a.n_vocab),
                          ("band-mid", design["ids"]["band-mid"], a.n_mid)):
        pool = sorted(i for i in pool if i not in labelled)
        picks += [(name, i) for i in rng.sample(pool, min(n, len(pool)))]
    rng.shuffle(picks)
    write_picks(a.picks, picks, arts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
