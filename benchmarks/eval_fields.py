"""Cross-validated field and deed classification on the seed labels.

    nice python benchmarks/eval_fields.py [--folds 5] [--repeats 3] [--deed] [--C 4] [--rule]
                                          [--team] [--team-weight 0.5] [--team-holdout]
                                          [--nested-team-weight 0.3,0.5,0.7,1] [--first-shuffle K]
                                          [--set who_weight=0.3 ...]

Items: seed labels with label 2 or 1 (they carry a field and a deed). Folds
are StratifiedGroupKFold grouped by ``content_hash`` of title+lead+text, so a
duplicate text never sits on both sides. Prints per-class P/R/F1, macro-F1
and the confusion matrix.

``--team`` adds the project's own label-1/2 items (corpora/labels/team*.jsonl)
to every training fold; the measurement stays on the seed items of the
held-out fold, and a team item whose text equals a test item's is dropped
from that fold's training. ``--team-holdout`` also trains on all seed items
and scores the team items (labels the lexicons were never tuned on).
``--nested-team-weight 0.3,0.5,0.7,1`` measures the choice of the team items'
weight honestly: each outer fold picks it by an inner grouped CV over its own
training seed items, then is scored with it (``--first-shuffle K`` runs shuffle
K, so shuffles can go to separate processes).
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.config import shared_corpora  # noqa: E402
from pipeline.text import content_hash  # noqa: E402
from pipeline.train import TEAM_FIELD_WEIGHT, TEAM_LABEL_FILES  # noqa: E402


TEAM_FILES = TEAM_LABEL_FILES


def load_seed(labels=(2, 1), paths=None) -> list[tuple[dict, dict]]:
    """(label record, article) pairs for the seed labels (or the label files
    ``paths``, later files winning for the same id) with the given label values.
    The article dict carries the record's ``label`` (as ``nguoitot train``
    passes records); the classifiers never read ``field`` or ``deed`` from it."""
    corpora = shared_corpora()
    paths = paths or [corpora / "labels" / "seed.jsonl"]
    by_id: dict[str, dict] = {}
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    rec = json.loads(line)
                    by_id[rec["id"]] = rec
    seed = [s for s in by_id.values() if s["label"] in labels]
    want = {s["id"] for s in seed}
    arts = {}
    with gzip.open(corpora / "press.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            # cheap prefilter before json parsing
            i = line.find('"id": "')
            rec_id = line[i + 7:line.find('"', i + 7)] if i >= 0 else None
            if rec_id is not None and rec_id not in want:
                continue
            rec = json.loads(line)
            if rec["id"] in want:
                arts[rec["id"]] = rec
    return [(s, dict(arts[s["id"]], label=s["label"])) for s in seed if s["id"] in arts]


def load_team(labels=(2, 1)) -> list[tuple[dict, dict]]:
    root = Path(__file__).resolve().parents[1] / "corpora" / "labels"
    return load_seed(labels, [root / n for n in TEAM_FILES if (root / n).is_file()])


def groups_of(articles) -> list[str]:
    return [content_hash(a.get("title", ""), a.get("lead", ""), a.get("text", "")) for a in articles]


def cross_val_predict_grouped(make, X, y, groups, folds=5, seed=0, extra=None, extra_weight=1.0):
    """Out-of-fold predictions on X; ``extra`` = (X2, y2, groups2) is added to
    every training fold (each item weighing ``extra_weight``) minus any item
    whose group (text) is in the test fold."""
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.asarray(y)
    pred = np.empty(len(y), dtype=object)
    conf = np.zeros(len(y))
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for tr, te in cv.split(X, y, groups):
        Xtr, ytr = [X[i] for i in tr], list(y[tr])
        w = [1.0] * len(Xtr)
        if extra is not None:
            test_groups = {groups[i] for i in te}
            keep = [j for j, g in enumerate(extra[2]) if g not in test_groups]
            Xtr += [extra[0][j] for j in keep]
            ytr += [extra[1][j] for j in keep]
            w += [extra_weight] * len(keep)
        m = make().fit(Xtr, np.asarray(ytr), sample_weight=np.asarray(w))
        p = m.predict_proba([X[i] for i in te])
        pred[te] = m.classes_[p.argmax(1)]
        conf[te] = p.max(1)
    return pred, conf


def nested_team_weight(make, X, y, groups, extra, weights, folds=5, seed=0, inner_folds=3):
    """Out-of-fold predictions where each outer fold's team weight is CHOSEN, not given: an inner
    grouped CV over that fold's training seed items (team items in every inner training fold)
    picks the weight of ``weights`` with the best inner macro-F1, then the fold is fit with it.
    The outer score thus measures the selection procedure, with no peek at the test items.
    Returns (predictions, the weight chosen per fold)."""
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedGroupKFold

    y = np.asarray(y)
    pred = np.empty(len(y), dtype=object)
    chosen = []
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    for tr, te in cv.split(X, y, groups):
        test_groups = {groups[i] for i in te}
        keep = [j for j, g in enumerate(extra[2]) if g not in test_groups]
        ex = ([extra[0][j] for j in keep], [extra[1][j] for j in keep], [extra[2][j] for j in keep])
        Xtr, ytr, gtr = [X[i] for i in tr], y[tr], [groups[i] for i in tr]
        inner = {}
        for wt in weights:
            p, _ = cross_val_predict_grouped(make, Xtr, ytr, gtr, inner_folds, seed=seed, extra=ex, extra_weight=wt)
            inner[wt] = f1_score(ytr, list(p), average="macro", zero_division=0)
        best = max(weights, key=lambda wt: (inner[wt], -abs(wt - 1.0)))  # ties: nearer equal weight
        chosen.append(best)
        print("  outer fold: inner macro-F1 " + " ".join(f"{wt:g}:{v:.3f}" for wt, v in inner.items())
              + f" -> {best:g}", flush=True)
        m = make().fit(Xtr + ex[0], np.asarray(list(ytr) + ex[1]),
                       sample_weight=np.asarray([1.0] * len(Xtr) + [best] * len(ex[0])))
        pred[te] = m.predict([X[i] for i in te])
    return pred, chosen


def report(y, pred, title=""):
    from sklearn.metrics import classification_report, confusion_matrix, f1_score

    labels = sorted(set(y))
    print(f"== {title}")
    print(classification_report(y, pred, labels=labels, digits=3, zero_division=0))
    cm = confusion_matrix(y, pred, labels=labels)
    short = [c[:6] for c in labels]
    print("confusion (rows = true, cols = predicted):")
    print(" " * 20 + " ".join(f"{s:>6}" for s in short))
    for c, row in zip(labels, cm):
        print(f"{c:>20}" + " ".join(f"{v:>6}" for v in row))
    f1 = f1_score(y, pred, labels=labels, average="macro", zero_division=0)
    print(f"macro-F1 {f1:.3f}   accuracy {np.mean(np.asarray(y) == np.asarray(pred)):.3f}   n={len(y)}")
    return f1


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=1, help="repeat CV with different shuffles")
    ap.add_argument("--first-shuffle", type=int, default=0, help="seed of the first shuffle (to split repeats over processes)")
    ap.add_argument("--deed", action="store_true", help="evaluate deeds instead of fields")
    ap.add_argument("--C", type=float, default=None)
    ap.add_argument("--lexicon-weight", type=float, default=None)
    ap.add_argument("--prior-weight", type=float, default=None)
    ap.add_argument("--labels", default="2,1", help="which seed labels to use, e.g. 2 or 2,1")
    ap.add_argument("--rule", action="store_true", help="also score the lexicon rule alone")
    ap.add_argument("--team", action="store_true", help="train on seed + team label files (measure on seed)")
    ap.add_argument("--team-weight", type=float, default=TEAM_FIELD_WEIGHT,
                    help=f"weight of each team item in training (default {TEAM_FIELD_WEIGHT}, as nguoitot train)")
    ap.add_argument("--nested-team-weight", default=None, metavar="W1,W2,...",
                    help="choose the team weight per outer fold by inner CV among these (implies --team)")
    ap.add_argument("--team-holdout", action="store_true", help="also train on all seed, score the team items")
    ap.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                    help="other constructor arguments, e.g. who_weight=0 actor_weight=0.1")
    a = ap.parse_args(argv)

    from pipeline.fields import DeedClassifier, FieldClassifier, rule_code

    t0 = time.time()
    pairs = load_seed(tuple(int(v) for v in a.labels.split(",")))
    X = [art for _, art in pairs]
    key = "deed" if a.deed else "field"
    y = [lab[key] for lab, _ in pairs]
    groups = groups_of(X)
    print(f"{len(X)} items, {len(set(groups))} distinct texts, loaded in {time.time() - t0:.1f}s")
    cls = DeedClassifier if a.deed else FieldClassifier
    params = {k: v for k, v in (("C", a.C), ("lexicon_weight", a.lexicon_weight),
                                ("prior_weight", a.prior_weight)) if v is not None}
    for kv in a.set:
        k, v = kv.split("=", 1)
        params[k] = None if v == "None" else v if v.isalpha() else float(v)
    extra = None
    if a.nested_team_weight:
        a.team = True
    if a.team or a.team_holdout:
        team = load_team(tuple(int(v) for v in a.labels.split(",")))
        TX = [art for _, art in team]
        extra = (TX, [lab[key] for lab, _ in team], groups_of(TX))
        print(f"team label files: {len(TX)} items")
    if a.rule:
        report(y, [rule_code(x, key)[0] for x in X], f"{key}: lexicon rule alone (no training)")
    f1s = []
    if a.nested_team_weight:
        weights = [float(v) for v in a.nested_team_weight.split(",")]
        for r in range(a.repeats):
            t0 = time.time()
            pred, chosen = nested_team_weight(lambda: cls(**params), X, y, groups, extra, weights, a.folds,
                                              seed=a.first_shuffle + r)
            f1s.append(report(y, list(pred), f"{key}: team weight chosen by inner CV among {weights} "
                                             f"(chosen {chosen}), shuffle {a.first_shuffle + r}"))
            print(f"nested cv time {time.time() - t0:.1f}s")
        print(f"nested macro-F1 over {a.repeats} repeats: mean {np.mean(f1s):.3f}  "
              f"per shuffle {' '.join(f'{v:.3f}' for v in f1s)}")
        return
    for r in range(a.repeats):
        t0 = time.time()
        pred, conf = cross_val_predict_grouped(lambda: cls(**params), X, y, groups, a.folds, seed=a.first_shuffle + r,
                                               extra=extra if a.team else None, extra_weight=a.team_weight)
        f1s.append(report(y, list(pred), f"{key}: {cls.__name__}({params}) {a.folds}-fold grouped CV"
                                         f"{' + team labels' if a.team else ''}, shuffle {a.first_shuffle + r}"))
        print(f"cv time {time.time() - t0:.1f}s")
    if a.repeats > 1:
        print(f"macro-F1 over {a.repeats} repeats: mean {np.mean(f1s):.3f}  min {np.min(f1s):.3f}  max {np.max(f1s):.3f}"
              f"  per shuffle {' '.join(f'{v:.3f}' for v in f1s)}")
    if a.team_holdout:
        m = cls(**params).fit(X, y)
        report(extra[1], list(m.predict(extra[0])), f"{key}: trained on all seed items, scored on the team items")
    # speed of predict on one article at a time
    m = cls(**params).fit(X, y)
    t0 = time.time()
    for x in X[:200]:
        m.predict_proba([x])
    print(f"predict_proba one at a time: {200 / (time.time() - t0):.0f} articles/s")


if __name__ == "__main__":
    main()
