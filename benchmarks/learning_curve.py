"""How much would more labels help? Stage 1's learning curve on the project's real labels.

    python benchmarks/learning_curve.py [--fractions 0.25,0.5,1.0] [--seed 0]

On the grouped folds ``nguoitot train`` uses (``pipeline.train.cv_folds``), fits the production
label pipeline on a random fraction of each fold's training articles (whole duplicate groups, so
the folds' design holds) and scores the same test articles every time. Prints natural-rate
PR-AUC (cells reweighted to the press, as on the model card) and recall at the threshold chosen
for precision 0.85, per fraction. A curve still rising at 1.0 says labels are worth more; the
step per doubling says by how much. About 2 minutes per fraction on 2 cores at 11,000 labels.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.classify import make_label_pipeline  # noqa: E402
from pipeline.config import shared_corpora  # noqa: E402
from pipeline.train import (cv_folds, default_label_paths, groups_of, load_training_data,  # noqa: E402
                            natural_operating_point, oof_scores)


def learning_curve(records: list[dict], fractions: list[float], n_folds: int = 5, seed: int = 0) -> list[dict]:
    """Out-of-fold stage-1 metrics per fraction of each fold's training groups."""
    groups = groups_of(records)
    folds = cv_folds(records, n_folds, seed)
    rng = np.random.default_rng(seed)
    rows = []
    for frac in fractions:
        t = time.time()
        sub_folds = []
        for tr, te in folds:
            own = np.unique(groups[tr])
            keep = set(rng.choice(own, max(1, round(len(own) * frac)), replace=False).tolist())
            sub_folds.append((np.array([i for i in tr if groups[i] in keep]), te))
        oof = oof_scores(lambda: make_label_pipeline(seed=seed), records, sub_folds)
        m = natural_operating_point(records, oof)
        rows.append({"fraction": frac, "train_articles": int(np.mean([len(tr) for tr, _ in sub_folds])),
                     "pr_auc": m["pr_auc"], "precision": m["precision"], "recall": m["recall"],
                     "seconds": time.time() - t})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fractions", default="0.25,0.5,1.0")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    records = load_training_data(default_label_paths(), shared_corpora() / "press.jsonl.gz")
    print(f"{len(records)} labelled articles, {sum(r['label'] == 2 for r in records)} label 2; 5 grouped folds")
    print(f"{'fraction':>8s} {'train/fold':>10s} {'nat. PR-AUC':>11s} {'P@t':>6s} {'R@t':>6s} {'seconds':>8s}")
    for row in learning_curve(records, [float(f) for f in a.fractions.split(",")], seed=a.seed):
        print(f"{row['fraction']:8.2f} {row['train_articles']:10d} {row['pr_auc']:11.4f} {row['precision']:6.3f} "
              f"{row['recall']:6.3f} {row['seconds']:8.0f}", flush=True)


if __name__ == "__main__":
    main()
