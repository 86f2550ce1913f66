"""Experiment, not shipped: a stack of per-view logistic regressions against the shipped model.

    nice python benchmarks/stacked_views.py [--limit N] [--no-full-view] [--boot 1000]

``StackedViewsLR`` fits raw liblinear logistic regressions (C=16, balanced) on
several syllable 1–2-gram TF-IDF views of an article -- the shipped
headline+body features for label 2 and for label >= 1, the headline block
alone, the body block alone, title, lead and full text (first 6,000
characters) -- and combines their inner-5-fold out-of-fold logits with a
small standardised logistic regression (C=1), together with five numeric
features (vocabulary-rule flag, log body length, log sentence count, has-lead,
log title length) and vocabulary-flag x logit interactions. Nothing leaks: the
combiner only ever sees inner out-of-fold logits.

Measured on 2026-12-02 with 6,470 labels (same grouped folds as
``nguoitot train``): natural PR-AUC 0.835 [0.813-0.855] against 0.823 for the
shipped model, paired bootstrap difference +0.012 [+0.003, +0.020]; without the
full-text view +0.009. Not shipped because it trains about 4x slower and
scores about 445 articles/s on 2 cores (target 500), and because it was the
best of about 15 stacking variants tried on the same scores. This script
re-runs the paired comparison on the current labels; with 11,465 labels
(2026-12-02): stacked 0.849 against 0.835, +0.0138 [+0.0087, +0.0196], five
folds in 813 s against 313 s (``--limit`` for a quick check on a subset).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.classify import (article_parts, full_text, make_features, make_label_pipeline,  # noqa: E402
                               split_sentences, syllable_bigrams)
from pipeline.labeling import in_vocabulary_stratum  # noqa: E402
from pipeline.train import (cells_of, cv_folds, default_label_paths, groups_of,  # noqa: E402
                            load_training_data, natural_weights, oof_scores)

BASES = (("union", "p2"), ("union", "p1"), ("title", "p2"), ("lead", "p2"), ("head", "p2"),
         ("body", "p2"), ("full", "p2"))
EXTRA_VIEWS = (("title", 20_000), ("lead", 30_000), ("full", 80_000))


def dense_features(records) -> np.ndarray:  # noqa: ANN001
    rows = []
    for r in records:
        t, lead, body = article_parts(r)
        rows.append([float(in_vocabulary_stratum(r)), np.log1p(len(body)), np.log1p(len(split_sentences(body))),
                     float(bool(lead)), np.log1p(len(t))])
    return np.asarray(rows)


class StackedViewsLR(ClassifierMixin, BaseEstimator):
    """P(label 2) from a logistic-regression stack over text views (fit on the 0/1/2 labels)."""

    ordinal_labels = True

    def __init__(self, C: float = 16.0, C_stack: float = 1.0, inner_folds: int = 5, seed: int = 0,
                 bases: tuple | None = None):
        self.C = C
        self.C_stack = C_stack
        self.inner_folds = inner_folds
        self.seed = seed
        self.bases = bases

    def _views(self, recs, fit: bool = False) -> dict:  # noqa: ANN001
        if fit:
            self.union_ = make_features().fit(recs)
            self.n_head_ = len(self.union_.transformer_list[0][1].named_steps["tfidf"].vocabulary_)
            self.vec_ = {v: TfidfVectorizer(analyzer=syllable_bigrams, min_df=2, sublinear_tf=True,
                                            max_features=mf, dtype=np.float32) for v, mf in EXTRA_VIEWS}
        U = self.union_.transform(recs).tocsr()
        parts = [article_parts(r) for r in recs]
        docs = {"title": [p[0] for p in parts], "lead": [p[1] for p in parts],
                "full": [full_text(r)[:6000] for r in recs]}
        out = {"union": U, "head": U[:, :self.n_head_], "body": U[:, self.n_head_:]}
        for v, vec in self.vec_.items():
            out[v] = (vec.fit_transform(docs[v]) if fit else vec.transform(docs[v])).tocsr()
        return out

    def _lr(self) -> LogisticRegression:
        return LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000, solver="liblinear")

    @staticmethod
    def _stack_input(Z: np.ndarray, D: np.ndarray) -> np.ndarray:
        return np.c_[Z, D, Z * D[:, :1]]

    def fit(self, X, y, sample_weight=None):  # noqa: ANN001
        recs, lab = list(X), np.asarray(y)
        target = {"p2": (lab == 2).astype(int), "p1": (lab >= 1).astype(int)}
        V = self._views(recs, fit=True)
        bases = self.bases or BASES
        inner = list(StratifiedGroupKFold(self.inner_folds, shuffle=True, random_state=self.seed)
                     .split(np.zeros(len(lab)), lab, groups_of(recs)))
        Z = np.zeros((len(recs), len(bases)))
        self.models_ = []
        for j, (view, t) in enumerate(bases):
            for a, b in inner:
                Z[b, j] = self._lr().fit(V[view][a], target[t][a]).decision_function(V[view][b])
            self.models_.append(self._lr().fit(V[view], target[t]))
        S = self._stack_input(Z, dense_features(recs))
        self.scaler_ = StandardScaler().fit(S)
        self.stack_ = LogisticRegression(C=self.C_stack, max_iter=2000).fit(self.scaler_.transform(S), target["p2"])
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):  # noqa: ANN001
        recs = list(X)
        V = self._views(recs)
        Z = np.column_stack([m.decision_function(V[view]) for m, (view, _) in zip(self.models_, self.bases or BASES)])
        p = self.stack_.predict_proba(self.scaler_.transform(self._stack_input(Z, dense_features(recs))))[:, 1]
        return np.c_[1 - p, p]


def paired_difference(y, a, b, w, cells, n_boot: int = 1000, seed: int = 0):  # noqa: ANN001
    """Natural-weighted PR-AUC of ``b`` minus ``a`` and its 95% interval (the same items resampled
    within each cell for both)."""
    def diff(ix):  # noqa: ANN001
        return (average_precision_score(y[ix], b[ix], sample_weight=w[ix])
                - average_precision_score(y[ix], a[ix], sample_weight=w[ix]))
    rng = np.random.default_rng(seed)
    by_cell = [np.flatnonzero(cells == c) for c in np.unique(cells)]
    draws = [diff(ix) for ix in (np.concatenate([rng.choice(c, len(c)) for c in by_cell]) for _ in range(n_boot))
             if y[ix].any()]
    return diff(np.arange(len(y))), np.percentile(draws, [2.5, 97.5])


def main(argv=None) -> int:  # noqa: ANN001
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="a random subset of this many labels (quick check)")
    ap.add_argument("--no-full-view", action="store_true", help="the cheaper stack without the full-text view")
    ap.add_argument("--boot", type=int, default=1000)
    a = ap.parse_args(argv)
    from pipeline.config import shared_corpora
    recs = load_training_data(default_label_paths(), shared_corpora() / "press.jsonl.gz")
    if a.limit:
        keep = np.sort(np.random.default_rng(0).choice(len(recs), a.limit, replace=False))
        recs = [recs[i] for i in keep]
    folds = cv_folds(recs, 5, 0)
    bases = tuple(b for b in BASES if b[0] != "full") if a.no_full_view else None
    y = np.asarray([1 if r["label"] == 2 else 0 for r in recs])
    cells, w = cells_of(recs), natural_weights(recs)
    ev = cells != ""
    scores = {}
    for name, make in (("shipped", lambda: make_label_pipeline(seed=0)),
                       ("stacked", lambda: StackedViewsLR(bases=bases))):
        t0 = time.time()
        scores[name] = oof_scores(make, recs, folds)
        print(f"{name}: natural PR-AUC {average_precision_score(y[ev], scores[name][ev], sample_weight=w[ev]):.4f}"
              f"  ({time.time() - t0:.0f}s for 5 folds)", flush=True)
    d, ci = paired_difference(y[ev], scores["shipped"][ev], scores["stacked"][ev], w[ev], cells[ev], a.boot)
    print(f"{len(recs)} labels, {int(y.sum())} label 2: stacked - shipped = {d:+.4f} [{ci[0]:+.4f}, {ci[1]:+.4f}]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
