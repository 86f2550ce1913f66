"""How many of the model's most confident errors are errors of the labels? A blind re-reading.

    python benchmarks/audit_labels.py [--audit corpora/labels/audit.jsonl] [--model models/<version>] [--refit]

``corpora/labels/audit.jsonl`` holds team-labelled articles (never the seed: the guide's own
labels are the definition) chosen from a model's out-of-fold scores, each read again by two
readers who saw only the text, LABELING.md and the team's conventions (not the label, not the
score, not each other):

- ``suspect-fn``: label 2 with the lowest scores (the model's surest misses);
- ``suspect-fp``: label 0/1 with the highest scores (its surest false alarms);
- ``control-2`` / ``control-1``: random label-2 articles the model scores high and label-1
  articles it scores low, where model and label agree. Readers cannot tell the groups apart,
  so the control's disagreement rate is what re-reading alone produces.

A line's ``label`` is the majority of the three readings (first label, reader A, reader B); with
no majority the first label stays. Prints, per group, how often each reader agrees with the first
label and how often both overturn it, then the model's natural PR-AUC and recall at precision
0.85 (out-of-fold scores of ``--model``, bundled by default) with the first labels and with the
audited ones. Only the suspects were re-read at scale, so the second figure is an upper bound of
what cleaner labels would show; the control's overturn rate says how much noise remains unread.

``--refit`` also asks whether a model learns better from the audited labels: stage 1 (the
production label pipeline) is fit on the card's grouped folds (those of the first labels, so both
runs split alike) once on the first labels and once on the audited ones, and both out-of-fold
scores are judged against the audited labels, with a paired bootstrap interval (~10 minutes).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.audit import AUDIT_FILE, read_audit, relabel, summary  # noqa: E402
from pipeline.config import BUNDLED_MODEL_DIR, shared_corpora  # noqa: E402
from pipeline.train import (cv_folds, default_label_paths, load_training_data, natural_operating_point,  # noqa: E402
                            oof_scores, paired_pr_auc_difference, read_oof)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--audit", type=Path, default=AUDIT_FILE)
    ap.add_argument("--model", type=Path, default=None, help="model folder with oof.jsonl (default: bundled)")
    ap.add_argument("--refit", action="store_true", help="fit stage 1 on the first and on the audited labels")
    a = ap.parse_args(argv)
    rows = read_audit(a.audit)
    print(f"{len(rows)} re-read articles in {a.audit}")
    print(f"\n{'group':12s} {'n':>4s} {'reader A = first':>16s} {'reader B = first':>16s} {'A = B':>6s} "
          f"{'overturned':>10s}  first -> audited")
    for g, s in summary(rows).items():
        print(f"{g:12s} {s['n']:4d} {s['reader_agrees'][0]:16.2f} {s['reader_agrees'][1]:16.2f} "
              f"{s['readers_agree']:6.2f} {s['overturned']:10.2f}  "
              + ", ".join(f"{k} {v}" for k, v in sorted(s["moves"].items())))
    model_dir = a.model or BUNDLED_MODEL_DIR
    card = json.loads((model_dir / "card.json").read_text(encoding="utf-8"))
    oof = {i: row["score"] for i, row in read_oof(model_dir).items()}
    records = [r for r in load_training_data(default_label_paths(), shared_corpora() / "press.jsonl.gz")
               if r["id"] in oof]
    scores = np.array([oof[r["id"]] for r in records])
    print(f"\n{card.get('version', model_dir.name)}, out of fold, {len(records)} labelled articles:")
    print(f"{'labels':34s} {'nat. PR-AUC':>11s} {'P@t':>6s} {'R@t':>6s}")
    for name, recs in (("first labels", records), ("audited (suspects re-read)", relabel(records, rows))):
        m = natural_operating_point(recs, scores)
        print(f"{name:34s} {m['pr_auc']:11.4f} {m['precision']:6.3f} {m['recall']:6.3f}")
    if a.refit:
        refit(records, rows, n_folds=int(card.get("cv", {}).get("folds", 5)), seed=int(card.get("cv", {}).get("seed", 0)))


def refit(records: list[dict[str, Any]], rows: Sequence[dict[str, Any]], n_folds: int = 5, seed: int = 0) -> None:
    """Stage 1 fit on the first labels and on the audited ones, judged on the audited ones."""
    from pipeline.classify import make_label_pipeline
    audited = relabel(records, rows)
    folds = cv_folds(records, n_folds, seed)
    first = oof_scores(lambda: make_label_pipeline(seed=seed), records, folds)
    fixed = oof_scores(lambda: make_label_pipeline(seed=seed), audited, folds)
    print(f"\nstage 1 refit on the same {n_folds} grouped folds, judged on the audited labels:")
    print(f"{'trained on':34s} {'nat. PR-AUC':>11s} {'P@t':>6s} {'R@t':>6s}")
    for name, s in (("first labels", first), ("audited labels", fixed)):
        m = natural_operating_point(audited, s)
        print(f"{name:34s} {m['pr_auc']:11.4f} {m['precision']:6.3f} {m['recall']:6.3f}")
    d = paired_pr_auc_difference(audited, first, fixed, n_boot=1000)
    print(f"audited - first: {d['difference']:+.4f} [{d['ci'][0]:+.4f}, {d['ci'][1]:+.4f}] (paired bootstrap, 95%)")


if __name__ == "__main__":
    main()
