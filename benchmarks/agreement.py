"""How often a second careful reader agrees with the labels: the ceiling the classifier is measured against.

    python benchmarks/agreement.py [--recheck corpora/labels/recheck.jsonl]

``corpora/labels/recheck.jsonl``: 240 labelled articles drawn at random inside
the evaluation cells (vocabulary 100, band-high 60, band-mid 40, band-low 20,
band-low-lf 20; ``random.Random(777)``) and labelled again, blind, by two
readers who saw only LABELING.md and the team's rules. Each line keeps its
cell, so the second reader's precision and recall of label 2 against the
labels can be weighted to the natural stream exactly as the classifier's are
(an item stands for its cell's press articles / the items drawn from the cell).

Prints raw agreement, Cohen's kappa (3 classes and label 2 vs the rest), the
second reader's natural-rate precision/recall of label 2, and field agreement.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.metrics import cohen_kappa_score  # noqa: E402

from pipeline.config import shared_corpora  # noqa: E402
from pipeline.train import cell_populations, default_label_paths, load_training_data  # noqa: E402


def agreement(recheck: list[dict], labels: dict[str, dict], populations: dict[str, int]) -> dict:
    drawn = Counter(r["cell"] for r in recheck)
    A = np.array([labels[r["id"]]["label"] for r in recheck])
    B = np.array([r["label"] for r in recheck])
    W = np.array([populations[r["cell"]] / drawn[r["cell"]] for r in recheck])
    tp = W[(A == 2) & (B == 2)].sum()
    fp = W[(A != 2) & (B == 2)].sum()
    fn = W[(A == 2) & (B != 2)].sum()
    both = [(labels[r["id"]]["field"], r["field"]) for r in recheck if labels[r["id"]]["label"] >= 1 and r["label"] >= 1]
    return {"n": len(recheck), "agreement": round(float((A == B).mean()), 3),
            "kappa_3class": round(float(cohen_kappa_score(A, B)), 3),
            "kappa_label2": round(float(cohen_kappa_score(A == 2, B == 2)), 3),
            "second_reader_precision_natural": round(float(tp / (tp + fp)), 3) if tp + fp else None,
            "second_reader_recall_natural": round(float(tp / (tp + fn)), 3) if tp + fn else None,
            "field_agreement": f"{sum(a == b for a, b in both)}/{len(both)}",
            "pairs": {f"{a}->{b}": n for (a, b), n in sorted(Counter(zip(A.tolist(), B.tolist())).items())}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recheck", default=str(ROOT / "corpora" / "labels" / "recheck.jsonl"))
    a = ap.parse_args(argv)
    recheck = [json.loads(line) for line in open(a.recheck, encoding="utf-8") if line.strip()]
    recs = load_training_data(default_label_paths(), shared_corpora() / "press.jsonl.gz")
    labels = {r["id"]: r for r in recs}
    res = agreement(recheck, labels, cell_populations(recs))
    for k, v in res.items():
        print(f"{k:34s} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
