"""Candidate classifier: is this article a "Người tốt – Việc tốt" story?

The label model is a scikit-learn :class:`~sklearn.pipeline.Pipeline`
(``fit`` / ``predict_proba``) over article dicts (``title``, optional
``lead``, ``text``)::

    features  FeatureUnion of TF-IDF blocks over syllable 1–2-grams of the
              headline (title + lead), body, title, lead and full text (one
              tokenisation, each block at a fixed width), and five
              article-shape numbers (make_view_features)
    clf       StackedViewsLR: logistic regressions per view (label 2; label
              >= 1 on headline+body) combined by a logistic regression fit on
              inner out-of-fold logits; linear in the features overall

(``make_label_pipeline(kind="ordinal")`` is the previous model: headline and
body blocks → OrdinalLR; the Vietnamese labelling-function votes of
:mod:`pipeline.labeling` are an option there, ``lf=True``, that
cross-validated worse), so an analyst can ``GridSearchCV(make_label_pipeline(), {...})`` the
production object. :class:`Model` wraps a trained bundle (label pipeline +
field and deed classifiers + the model card) and scores records: calibrated
``score`` = P(label 2), ``label`` from the card's thresholds, field/deed,
the sentence that best shows the deed (``reason``), the terms that pushed
the score, and — only for flagged stories — exemplars and place.
"""
from __future__ import annotations

import json
import logging
import re
import unicodedata
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, Pipeline

from .text import normalize

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------------
# Text access and fast syllable analysis
# ---------------------------------------------------------------------------

_TOKEN = re.compile(r"[^\W_]+")
_LONG_TITLE = 220  # VNTC Người Lao Động items: title, lead and body run together


def article_parts(rec: dict[str, Any]) -> tuple[str, str, str]:
    """(title, lead, text) of a record; splits a run-together title (NLĐ items)."""
    title = rec.get("title") or ""
    lead = rec.get("lead") or ""
    text = rec.get("text") or ""
    if not text and len(title) > _LONG_TITLE:
        # the first sentence-ish chunk is the headline, the rest is body
        m = re.search(r"(?<=[.!?…])\s+|\s{2,}|\n", title[:_LONG_TITLE])
        cut = m.end() if m and m.start() > 20 else 120
        sp = title.rfind(" ", 0, cut) if not m else cut
        cut = sp if sp > 20 else cut
        title, text = title[:cut].strip(), title[cut:].strip()
    return title, lead, text


def headline(rec: dict[str, Any]) -> str:
    t, l, _ = article_parts(rec)
    return f"{t}\n{l}".strip()


def body(rec: dict[str, Any], limit: int = 6000) -> str:
    return article_parts(rec)[2][:limit]


def full_text(rec: dict[str, Any]) -> str:
    t, l, x = article_parts(rec)
    return "\n".join(p for p in (t, l, x) if p)


_CANON: dict[str, str] = {}


def _canon(syl: str) -> str:
    """One syllable in canonical form (NFC, lower case, one tone placement); cached."""
    c = _CANON.get(syl)
    if c is None:
        c = normalize(syl)
        if len(_CANON) < 500_000:
            _CANON[syl] = c
    return c


def syllable_tokens(text: str) -> list[str]:
    """Lower-cased canonical syllables; fast (per-syllable cache of normalize)."""
    t = unicodedata.normalize("NFC", text or "").lower()
    get = _CANON.get
    return [get(s) or _canon(s) for s in _TOKEN.findall(t)]


def syllable_ngrams(text: str, n: int = 2) -> list[str]:
    """Syllable 1..n-grams (the analyzer of the TF-IDF blocks)."""
    toks = syllable_tokens(text)
    out = list(toks)
    if n >= 2:
        out += [a + " " + b for a, b in zip(toks, toks[1:])]
    if n >= 3:
        out += [a + " " + b + " " + c for a, b, c in zip(toks, toks[1:], toks[2:])]
    return out


def syllable_bigrams(text: str) -> list[str]:
    return syllable_ngrams(text, 2)


def syllable_trigrams(text: str) -> list[str]:
    return syllable_ngrams(text, 3)


class TextOf(BaseEstimator, TransformerMixin):
    """Picks one text view of article dicts: ``headline``, ``body`` or ``full``."""

    def __init__(self, part: str = "full", limit: int = 6000):
        self.part = part
        self.limit = limit

    def fit(self, X, y=None):  # noqa: ANN001
        return self

    def transform(self, X):  # noqa: ANN001
        if self.part == "headline":
            return [headline(r) for r in X]
        if self.part == "body":
            return [body(r, self.limit) for r in X]
        return [full_text(r)[: self.limit] for r in X]

    def get_feature_names_out(self, input_features=None):  # noqa: ANN001
        return np.asarray([self.part], dtype=object)


def tfidf_block(part: str, *, ngram: int = 2, min_df: int = 2, max_features: int | None = 60_000,
                limit: int = 6000) -> Pipeline:
    analyzer = syllable_bigrams if ngram == 2 else (syllable_trigrams if ngram == 3 else syllable_tokens)
    return Pipeline([
        ("text", TextOf(part, limit)),
        ("tfidf", TfidfVectorizer(analyzer=analyzer, min_df=min_df, sublinear_tf=True,
                                  max_features=max_features, dtype=np.float32)),
    ])


class LFVotes(BaseEstimator, TransformerMixin):
    """The labelling functions of :mod:`pipeline.labeling` as features (+1/−1/0 each)."""

    def __init__(self, scale: float = 1.0):
        self.scale = scale

    def fit(self, X, y=None):  # noqa: ANN001
        from .labeling import LABELING_FUNCTIONS
        self.names_ = [f.__name__ for f in LABELING_FUNCTIONS]
        return self

    def transform(self, X):  # noqa: ANN001
        from .labeling import apply_lfs
        return np.asarray(apply_lfs(X), dtype=np.float32) * self.scale

    def get_feature_names_out(self, input_features=None):  # noqa: ANN001
        return np.asarray([f"lf:{n}" for n in self.names_], dtype=object)


def make_features(*, lf: bool = False, headline_weight: float = 1.0) -> FeatureUnion:
    blocks: list[tuple[str, Any]] = [
        ("head", tfidf_block("headline", max_features=30_000)),
        ("body", tfidf_block("body", max_features=60_000)),
    ]
    weights = {"head": headline_weight, "body": 1.0}
    if lf:
        blocks.append(("lf", LFVotes()))
        weights["lf"] = 0.5
    return FeatureUnion(blocks, transformer_weights=weights)


def _calibrated_lr(C: float, calibration_folds: int, seed: int) -> CalibratedClassifierCV:
    lr = LogisticRegression(C=C, class_weight="balanced", max_iter=3000, solver="liblinear")
    return CalibratedClassifierCV(lr, method="sigmoid", ensemble=False,
                                  cv=StratifiedKFold(calibration_folds, shuffle=True, random_state=seed))


class OrdinalLR(ClassifierMixin, BaseEstimator):
    """P(label 2) that also learns from label 1 (LABELING.md's borderline stories).

    Two calibrated logistic regressions on the same features, one for
    "label 2" and one for "label ≥ 1"; the score is their weighted geometric
    mean ``P2^(1-a) · P1^a``. ``y`` may be the 0/1/2 labels or a binary label-2
    target (then both models see the same target and ``a`` only smooths).
    Measured (benchmarks/compare_models.py, grouped 5-fold CV, 11,465 labels):
    natural PR-AUC 0.835 against 0.830 for the label-2 model alone (``a=0``);
    on 6,470 labels 0.823 against 0.818, on 3,920 labels 0.773 against 0.763."""

    ordinal_labels = True  # fit on the 0/1/2 labels (see fit_target)

    def __init__(self, C: float = 16.0, a: float = 0.3, calibration_folds: int = 3, seed: int = 0):
        self.C = C
        self.a = a
        self.calibration_folds = calibration_folds
        self.seed = seed

    def fit(self, X, y, sample_weight=None):  # noqa: ANN001
        y = np.asarray(y)
        y2, y1 = (y == 2).astype(int), (y >= 1).astype(int)
        if y.max() <= 1:  # a binary target: label 2 vs the rest
            y2 = y1 = y.astype(int)
        self.m2_ = _calibrated_lr(self.C, self.calibration_folds, self.seed).fit(X, y2, sample_weight=sample_weight)
        self.m1_ = (self.m2_ if y1 is y2 or self.a == 0 else
                    _calibrated_lr(self.C, self.calibration_folds, self.seed).fit(X, y1, sample_weight=sample_weight))
        self.classes_ = np.array([0, 1])
        e2, e1 = self.m2_.calibrated_classifiers_[0].estimator, self.m1_.calibrated_classifiers_[0].estimator
        # for explanations: the linear evidence of the blend (log P ≈ linear in each model's logit)
        self.coef_ = (1 - self.a) * e2.coef_ + self.a * e1.coef_
        self.intercept_ = (1 - self.a) * e2.intercept_ + self.a * e1.intercept_
        return self

    def predict_proba(self, X):  # noqa: ANN001
        p2 = np.clip(self.m2_.predict_proba(X)[:, 1], 1e-9, 1.0)
        p1 = np.clip(self.m1_.predict_proba(X)[:, 1], 1e-9, 1.0)
        s = np.exp((1 - self.a) * np.log(p2) + self.a * np.log(p1))
        return np.c_[1 - s, s]

    def predict(self, X):  # noqa: ANN001
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


class SyllableViews(BaseEstimator, TransformerMixin):
    """Syllable 1–2-gram TF-IDF of several views of an article, from one tokenisation.

    ``layout`` lists the views as (name, parts, width): a view is the sum of
    the article's parts (``title``, ``lead``, ``body`` — the first ``limit``
    characters). Each view gets what its own ``TfidfVectorizer`` would give:
    its vocabulary (terms in at least ``min_df`` articles, the ``width`` most
    frequent), idf, sublinear tf and l2-normalised rows, in a block of exactly
    ``width`` columns (empty ones appended), so the classifier after it knows
    where each view lies. Each part is tokenised once for all views."""

    PARTS = ("title", "lead", "body")

    def __init__(self, layout: Sequence[tuple[str, tuple[str, ...], int]] | None = None, min_df: int = 2,
                 limit: int = 6000):
        self.layout = layout
        self.min_df = min_df
        self.limit = limit

    def _layout(self) -> Sequence[tuple[str, tuple[str, ...], int]]:
        return self.layout if self.layout is not None else VIEW_LAYOUT

    def _grams(self, X: Sequence[dict[str, Any]]) -> list[list[list[str]]]:
        out = []
        for r in X:
            t, lead, text = article_parts(r)
            out.append([syllable_bigrams(t), syllable_bigrams(lead), syllable_bigrams(text[: self.limit])])
        return out

    @staticmethod
    def _counts(grams: list[list[list[str]]], vocab: dict[str, int], grow: bool) -> list[Any]:
        """One count matrix per part over ``vocab`` (grown with new terms when ``grow``)."""
        import scipy.sparse as sp
        from itertools import repeat
        out = []
        for k in range(len(SyllableViews.PARTS)):
            if grow:  # every term gets an index (fit)
                ids = [vocab.setdefault(g, len(vocab)) for doc in grams for g in doc[k]]
            else:  # known terms only; unknown ones are -1, dropped below (scoring's hot loop)
                get = vocab.get
                ids = [j for doc in grams for j in map(get, doc[k], repeat(-1))]
            idx = np.asarray(ids, dtype=np.int64)
            ends = np.cumsum([len(doc[k]) for doc in grams])
            known = np.r_[0, np.cumsum(idx >= 0)]
            indptr = np.r_[0, known[ends]]
            out.append((idx[idx >= 0], indptr))
        mats = []
        for idx, indptr in out:  # the vocabulary is complete only now
            m = sp.csr_matrix((np.ones(len(idx), dtype=np.float32), idx, indptr), shape=(len(grams), len(vocab)))
            m.sum_duplicates()
            mats.append(m)
        return mats

    def _view(self, counts: list[Any], parts: tuple[str, ...]) -> Any:
        m = counts[self.PARTS.index(parts[0])]
        for p in parts[1:]:
            m = m + counts[self.PARTS.index(p)]
        return m

    def fit(self, X, y=None):  # noqa: ANN001
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None):  # noqa: ANN001
        from sklearn.feature_extraction.text import TfidfTransformer
        X = list(X)
        vocab: dict[str, int] = {}
        counts = self._counts(self._grams(X), vocab, grow=True)
        chosen = []
        for name, parts, width in self._layout():
            C = self._view(counts, parts).tocsc()
            df = np.diff(C.indptr)
            tf = np.asarray(C.sum(axis=0)).ravel()
            ok = np.flatnonzero(df >= self.min_df)
            chosen.append(ok[np.argsort(-tf[ok], kind="stable")[:width]])
        keep = np.unique(np.concatenate(chosen)) if chosen else np.zeros(0, int)
        terms = np.empty(len(vocab), dtype=object)
        for g, j in vocab.items():
            terms[j] = g
        self.vocabulary_ = {terms[j]: i for i, j in enumerate(keep)}
        self.view_columns_ = [np.searchsorted(keep, c) for c in chosen]
        counts = [m[:, keep] for m in counts]
        self.tfidf_ = [TfidfTransformer(sublinear_tf=True).fit(self._view(counts, parts)[:, cols])
                       for (_n, parts, _w), cols in zip(self._layout(), self.view_columns_)]
        return self._blocks(counts)

    def transform(self, X):  # noqa: ANN001
        return self._blocks(self._counts(self._grams(list(X)), self.vocabulary_, grow=False))

    def _blocks(self, counts: list[Any]) -> Any:
        import scipy.sparse as sp
        blocks = []
        for (_n, parts, width), cols, tfidf in zip(self._layout(), self.view_columns_, self.tfidf_):
            M = tfidf.transform(self._view(counts, parts)[:, cols]).astype(np.float32).tocsr()
            blocks.append(sp.csr_matrix((M.data, M.indices, M.indptr), shape=(M.shape[0], width)))
        return sp.hstack(blocks, format="csr")

    def get_feature_names_out(self, input_features=None):  # noqa: ANN001
        terms = np.empty(len(self.vocabulary_), dtype=object)
        for t, j in self.vocabulary_.items():
            terms[j] = t
        names: list[str] = []
        for (_n, _p, width), cols in zip(self._layout(), self.view_columns_):
            names += list(terms[cols]) + ["~pad"] * (width - len(cols))
        return np.asarray(names, dtype=object)


class ArticleShape(BaseEstimator, TransformerMixin):
    """Five numbers about an article: the seed's vocabulary rule fires, log body length, log
    sentence count, has a lead, log title length (inputs of :class:`StackedViewsLR`'s combiner)."""

    names = ("vocabulary_rule", "log_body_chars", "log_sentences", "has_lead", "log_title_chars")

    def fit(self, X, y=None):  # noqa: ANN001
        self.n_features_out_ = len(self.names)  # stateless; the attribute marks it fitted for sklearn
        return self

    def transform(self, X):  # noqa: ANN001
        import scipy.sparse as sp
        from .labeling import in_vocabulary_stratum
        rows = []
        for r in X:
            t, lead, text = article_parts(r)
            rows.append([float(in_vocabulary_stratum(r)), np.log1p(len(text)),
                         np.log1p(len(split_sentences(text))), float(bool(lead)), np.log1p(len(t))])
        return sp.csr_matrix(np.asarray(rows, dtype=np.float32).reshape(-1, len(self.names)))

    def get_feature_names_out(self, input_features=None):  # noqa: ANN001
        return np.asarray(list(self.names), dtype=object)


# The text views of the stacked model: (name, parts, width), the layout of make_view_features
VIEW_LAYOUT: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("head", ("title", "lead"), 30_000), ("body", ("body",), 60_000), ("title", ("title",), 20_000),
    ("lead", ("lead",), 30_000), ("full", ("title", "lead", "body"), 80_000))
SHAPE_BLOCK = "shape"
# (views, target) of each base logistic regression: p2 = label 2, p1 = label >= 1; views of one
# base must be adjacent in the layout
STACK_BASES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("head", "body"), "p2"), (("head", "body"), "p1"), (("title",), "p2"), (("lead",), "p2"),
    (("head",), "p2"), (("body",), "p2"), (("full",), "p2"))


def make_view_features(layout: Sequence[tuple[str, tuple[str, ...], int]] = VIEW_LAYOUT) -> FeatureUnion:
    """:class:`SyllableViews` (TF-IDF per view, fixed widths), then :class:`ArticleShape`."""
    return FeatureUnion([("views", SyllableViews(layout)), (SHAPE_BLOCK, ArticleShape())])


def _row_groups(X: Any) -> np.ndarray:
    """One group id per distinct feature row (duplicate texts share a row, hence a group)."""
    import hashlib
    X = X.tocsr()
    ids: dict[bytes, int] = {}
    out = np.empty(X.shape[0], dtype=int)
    for i in range(X.shape[0]):
        a, b = X.indptr[i], X.indptr[i + 1]
        h = hashlib.blake2b(X.indices[a:b].tobytes() + X.data[a:b].tobytes(), digest_size=16).digest()
        out[i] = ids.setdefault(h, len(ids))
    return out


class StackedViewsLR(ClassifierMixin, BaseEstimator):
    """P(label 2) from logistic regressions on several text views, combined by a small one.

    Over the columns of :func:`make_view_features`: raw logistic regressions
    (liblinear, C, balanced) of label 2 on headline+body, headline, body, title,
    lead and full text, and of label >= 1 on headline+body (``bases``); a standardised
    logistic regression (``C_stack``) combines their logits with the
    :class:`ArticleShape` numbers. The combiner is fit on inner out-of-fold
    logits (folds grouped by identical feature rows, i.e. duplicate texts), so
    it learns how far to trust each view on unseen text; the bases are then
    refit on everything. The whole model stays linear in the features:
    ``coef_``/``intercept_`` give its exact log-odds, which the explanations use.
    Fit on the 0/1/2 labels (a binary target makes every base predict it).
    Measured (benchmarks/compare_models.py, grouped 5-fold CV, 11,465 labels):
    see the model card's comparison table."""

    ordinal_labels = True

    def __init__(self, C: float = 16.0, C_stack: float = 1.0, inner_folds: int = 5, seed: int = 0,
                 layout: Sequence[tuple[str, tuple[str, ...], int]] = VIEW_LAYOUT,
                 bases: Sequence[tuple[tuple[str, ...], str]] = STACK_BASES, n_jobs: int = 1):
        self.C = C
        self.C_stack = C_stack
        self.inner_folds = inner_folds
        self.seed = seed
        self.layout = layout
        self.bases = bases
        self.n_jobs = n_jobs

    def _slices(self) -> dict[str, slice]:
        out, at = {}, 0
        for name, _part, width in self.layout:
            out[name] = slice(at, at + width)
            at += width
        out[SHAPE_BLOCK] = slice(at, at + len(ArticleShape.names))
        return out

    def _cols(self, blocks: Sequence[str]) -> slice:
        sl = self._slices()
        for a, b in zip(blocks, blocks[1:]):
            if sl[a].stop != sl[b].start:
                raise ValueError(f"blocks {a} and {b} are not adjacent in the layout")
        return slice(sl[blocks[0]].start, sl[blocks[-1]].stop)

    def _lr(self) -> LogisticRegression:
        # the dual problem: same solution, ~3x faster with far more features than articles
        return LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000, solver="liblinear", dual=True)

    def fit(self, X, y, sample_weight=None):  # noqa: ANN001
        from joblib import Parallel, delayed
        from sklearn.model_selection import StratifiedGroupKFold
        from sklearn.preprocessing import StandardScaler
        X = X.tocsr()
        y = np.asarray(y)
        targets = {"p2": (y == 2).astype(int), "p1": (y >= 1).astype(int)}
        if y.max() <= 1:
            targets = {"p2": y.astype(int), "p1": y.astype(int)}
        sw = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        inner = list(StratifiedGroupKFold(self.inner_folds, shuffle=True, random_state=self.seed)
                     .split(np.zeros(len(y)), y, _row_groups(X)))
        views = [X[:, self._cols(blocks)] for blocks, _t in self.bases]

        def fit_one(j: int, rows: np.ndarray | None) -> LogisticRegression:
            Xv, t = views[j], targets[self.bases[j][1]]
            if rows is None:
                return self._lr().fit(Xv, t, sample_weight=sw)
            return self._lr().fit(Xv[rows], t[rows], sample_weight=None if sw is None else sw[rows])

        jobs = [(j, a) for j in range(len(self.bases)) for a, _b in inner] + \
               [(j, None) for j in range(len(self.bases))]
        fitted = Parallel(n_jobs=self.n_jobs, prefer="threads")(delayed(fit_one)(j, a) for j, a in jobs)
        Z = np.zeros((len(y), len(self.bases)))
        for (j, a), m in zip(jobs, fitted):
            if a is not None:
                b = np.setdiff1d(np.arange(len(y)), a, assume_unique=True)
                Z[b, j] = m.decision_function(views[j][b])
        self.bases_ = fitted[-len(self.bases):]
        S = np.c_[Z, X[:, self._slices()[SHAPE_BLOCK]].toarray()]
        self.scaler_ = StandardScaler().fit(S)
        self.stack_ = LogisticRegression(C=self.C_stack, max_iter=2000).fit(
            self.scaler_.transform(S), targets["p2"], sample_weight=sw)
        self._fold_linear(X.shape[1])
        self.classes_ = np.array([0, 1])
        return self

    def _fold_linear(self, n_features: int) -> None:
        """The combiner's weights folded into one weight per feature (exact: every step is linear)."""
        beta = self.stack_.coef_.ravel() / self.scaler_.scale_
        mu = self.scaler_.mean_
        coef = np.zeros(n_features)
        intercept = float(self.stack_.intercept_[0]) - float(beta @ mu)
        for j, ((blocks, _t), m) in enumerate(zip(self.bases, self.bases_)):
            coef[self._cols(blocks)] += beta[j] * m.coef_.ravel()
            intercept += beta[j] * float(m.intercept_[0])
        coef[self._slices()[SHAPE_BLOCK]] = beta[len(self.bases):]
        # float32 halves the bundle; scores move by ~1e-7
        self.coef_ = coef.reshape(1, -1).astype(np.float32)
        self.intercept_ = np.array([intercept])
        for m in self.bases_:  # kept for inspection only: the folded weights score
            m.coef_ = m.coef_.astype(np.float32)

    def decision_function(self, X):  # noqa: ANN001
        return np.asarray(X @ self.coef_.ravel(), dtype=float).ravel() + self.intercept_[0]

    def predict_proba(self, X):  # noqa: ANN001
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.c_[1 - p, p]

    def predict(self, X):  # noqa: ANN001
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(int)


def fit_target(records: Sequence[dict[str, Any]], estimator: Any) -> np.ndarray:
    """What ``estimator.fit`` wants as ``y``: the 0/1/2 labels for an ordinal model (a pipeline
    ending in one), else the binary label-2 target."""
    final = estimator.steps[-1][1] if isinstance(estimator, Pipeline) else estimator
    if getattr(final, "ordinal_labels", False):
        return np.asarray([int(r["label"]) for r in records])
    return np.asarray([1 if r["label"] == 2 else 0 for r in records])


def make_label_pipeline(*, kind: str = "stacked", C: float = 16.0, lf: bool = False, headline_weight: float = 1.0,
                        calibration_folds: int = 3, seed: int = 0, a: float = 0.3, n_jobs: int = 1) -> Pipeline:
    """The production label model (unfitted; fit it on the 0/1/2 labels, see :func:`fit_target`).

    ``kind="stacked"`` (the default): :func:`make_view_features` → :class:`StackedViewsLR`.
    ``kind="ordinal"``: headline and body TF-IDF → :class:`OrdinalLR` (the model shipped until
    2026-12-02; ``a=0`` is the plain calibrated logistic regression of label 2; ``lf`` and
    ``headline_weight`` apply to it only)."""
    if kind == "stacked":
        return Pipeline([("features", make_view_features()),
                         ("clf", StackedViewsLR(C=C, seed=seed, n_jobs=n_jobs))])
    if kind != "ordinal":
        raise ValueError(f"unknown label model kind {kind!r} (stacked or ordinal)")
    if a == 0:
        clf: Any = _calibrated_lr(C, calibration_folds, seed)
    else:
        clf = OrdinalLR(C=C, a=a, calibration_folds=calibration_folds, seed=seed)
    return Pipeline([("features", make_features(lf=lf, headline_weight=headline_weight)), ("clf", clf)])


def describe_label_model(pipe: Pipeline) -> str:
    """One line for the model card: what the label pipeline is."""
    clf = pipe.steps[-1][1]
    if isinstance(clf, StackedViewsLR):
        views = ", ".join("+".join(b) + ("" if t == "p2" else " (label >= 1)") for b, t in clf.bases)
        return ("FeatureUnion(TF-IDF syllable 1-2-grams of " + ", ".join(n for n, _p, _w in clf.layout)
                + "; article shape) -> StackedViewsLR: logistic regressions on " + views
                + ", combined with the article-shape numbers by a logistic regression fit on inner "
                  "out-of-fold logits")
    if isinstance(clf, OrdinalLR):
        return ("FeatureUnion(TF-IDF syllable 1-2-grams of headline and of body) -> OrdinalLR: "
                "P(label 2)^(1-a) * P(label >= 1)^a, each a CalibratedClassifierCV(LogisticRegression, sigmoid)")
    return f"{type(pipe.steps[0][1]).__name__} -> {type(clf).__name__}"


class TextClassifier(BaseEstimator, ClassifierMixin):
    """Fallback multi-class classifier for field/deed (TF-IDF + logistic regression).

    Used only when :mod:`pipeline.fields` is not available."""

    def __init__(self, C: float = 5.0):
        self.C = C

    def fit(self, X, y, sample_weight=None):  # noqa: ANN001
        self.pipe_ = Pipeline([
            ("features", FeatureUnion([("head", tfidf_block("headline", max_features=20_000)),
                                       ("body", tfidf_block("body", max_features=40_000))])),
            ("lr", LogisticRegression(C=self.C, max_iter=3000, class_weight="balanced")),
        ]).fit(X, y, lr__sample_weight=sample_weight)
        self.classes_ = self.pipe_.classes_
        return self

    def predict_proba(self, X):  # noqa: ANN001
        return self.pipe_.predict_proba(X)

    def predict(self, X):  # noqa: ANN001
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def field_estimators() -> tuple[Any, Any, str]:
    """(field estimator, deed estimator, where from): pipeline.fields when present."""
    try:
        from .fields import DeedClassifier, FieldClassifier  # type: ignore
        return FieldClassifier(), DeedClassifier(), "pipeline.fields"
    except Exception:  # not there yet, or broken: degrade to our own
        return TextClassifier(), TextClassifier(), "pipeline.classify.TextClassifier"


# ---------------------------------------------------------------------------
# Explanation helpers over a fitted label pipeline
# ---------------------------------------------------------------------------

def _linear_parts(pipe: Pipeline) -> tuple[np.ndarray, float, list[str]]:
    """(coefficients, intercept, feature names) of the fitted label pipeline."""
    clf = pipe.named_steps["clf"]
    est = clf.calibrated_classifiers_[0].estimator if hasattr(clf, "calibrated_classifiers_") else clf  # OrdinalLR: its blend
    coef = np.asarray(est.coef_, dtype=float).ravel().copy()
    names = list(pipe.named_steps["features"].get_feature_names_out())
    # only words are evidence a reviewer can check: the article-shape numbers are not terms
    coef[[i for i, n in enumerate(names) if n.startswith(SHAPE_BLOCK + "__")]] = 0.0
    return coef, float(np.ravel(est.intercept_)[0]), names


_SENT_SPLIT = re.compile(r"(?<=[.!?…])\s+|\n+")


# photo captions and credits ("… - Ảnh: XUÂN LONG", "(Ảnh minh họa)", "Nguồn: …") are not reasons
_CAPTION = re.compile(r"(?:^|[\s(\-–—])(?:Ảnh|ẢNH|Ảnh minh họa|Ảnh minh hoạ|Video|Clip|Nguồn)\s*:|\(Ảnh[^)]*\)|Ảnh minh h",
                      re.UNICODE)
_QUOTES = "\"“”'‘’«"


def split_sentences(text: str) -> list[str]:
    """Cheap sentence split (punctuation + newlines) for explanations."""
    return [s.strip() for s in _SENT_SPLIT.split(text or "") if len(s.strip()) > 2]


# ---------------------------------------------------------------------------
# The model bundle
# ---------------------------------------------------------------------------

BUNDLE_FILE = "model.joblib"
CARD_FILE = "card.json"


def fit_natural_calibration(scores: np.ndarray, y: np.ndarray, w: np.ndarray) -> dict[str, float]:
    """Platt scaling of out-of-fold scores toward the natural stream: ``sigmoid(a·logit(p) + b)``
    fitted with each labelled article's natural-rate weight, so a score is P(label 2) for an
    article drawn from the press, not from the (enriched) labelled mix."""
    from sklearn.linear_model import LogisticRegression
    z = _logit(np.asarray(scores, dtype=float)).reshape(-1, 1)
    ww = np.asarray(w, dtype=float)
    lr = LogisticRegression(C=1e4, max_iter=1000).fit(z, np.asarray(y), sample_weight=ww / ww.mean())
    return {"a": round(float(lr.coef_[0, 0]), 6), "b": round(float(lr.intercept_[0]), 6)}


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def apply_calibration(scores: np.ndarray, cal: dict[str, float] | None) -> np.ndarray:
    """The calibrated score (identity without a calibration)."""
    s = np.asarray(scores, dtype=float)
    if not cal:
        return s
    return 1.0 / (1.0 + np.exp(-(cal["a"] * _logit(s) + cal["b"])))


class Model:
    """A trained bundle: label pipeline, field and deed classifiers, card."""

    def __init__(self, label_pipeline: Pipeline, field_model: Any = None, deed_model: Any = None,
                 card: dict[str, Any] | None = None, path: Path | None = None, rerank: bool = True):
        self.label_pipeline = label_pipeline
        self.field_model = field_model
        self.deed_model = deed_model
        self.card = card or {}
        self.path = path
        self.version: str = self.card.get("version", "unversioned")
        # the exemplar selector's folder (pipeline.exemplar_select); None: the one in use by default
        self.selector_dir: Path | None = None
        # a two-stage card (pipeline.train.add_reranker): stage 1's calibration and thresholds under
        # "stage1", the combined ones at the top; without the encoder (no torch, or rerank=False)
        # the model scores with stage 1's alone
        rr = self.card.get("reranker") or None
        self.rerank_t0: float | None = None
        self._cal1 = self.card.get("natural_calibration")
        self._cal2 = None
        self._reranker_obj: Any = None
        self.rerank_threads: int | None = None
        th = self.card.get("thresholds") or {}
        if rr:
            stage1 = self.card.get("stage1") or {}
            from . import encoder
            usable = rerank and path is not None and (Path(path) / rr["file"]).is_file() and encoder.available()
            self._cal1 = stage1.get("natural_calibration")
            if usable:
                self.rerank_t0, self._cal2 = float(rr["t0"]), self.card.get("natural_calibration")
            else:
                th = stage1.get("thresholds") or {}
                if rerank:
                    log.warning("model %s: second stage unavailable (%s); scoring with stage 1 (%s) alone",
                                self.version, "no " + rr["file"] if path is None or not (Path(path) / rr["file"]).is_file()
                                else "the rerank extra is not installed", stage1.get("version"))
        self.thresholds: dict[str, float] = {"label2": float(th.get("label2", 0.5)),
                                             "label1": float(th.get("label1", 0.2))}
        self._explainer: tuple[np.ndarray, float, list[str]] | None = None

    # -- persistence ----------------------------------------------------
    def save(self, out_dir: str | Path) -> Path:
        import joblib
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        joblib.dump({"label": self.label_pipeline, "field": self.field_model, "deed": self.deed_model,
                     "version": self.version}, out / BUNDLE_FILE, compress=("xz", 6))  # ~25% smaller than zlib
        (out / CARD_FILE).write_text(json.dumps(self.card, ensure_ascii=False, indent=2) + "\n",
                                     encoding="utf-8")
        return out

    @classmethod
    def load(cls, path: str | Path, rerank: bool = True) -> "Model":
        import joblib
        p = Path(path)
        bundle = joblib.load(p / BUNDLE_FILE)
        card = json.loads((p / CARD_FILE).read_text(encoding="utf-8")) if (p / CARD_FILE).is_file() else {}
        card.setdefault("version", bundle.get("version", p.name))
        return cls(bundle["label"], _upgrade(bundle.get("field")), _upgrade(bundle.get("deed")), card, p,
                   rerank=rerank)

    @property
    def two_stage(self) -> bool:
        """Whether scores pass through the fine-tuned encoder (card with a reranker, extra installed)."""
        return self.rerank_t0 is not None

    def _reranker(self) -> Any:
        if self._reranker_obj is None:
            from .encoder import load_reranker
            self._reranker_obj = load_reranker(Path(self.path) / self.card["reranker"]["file"])
            self._reranker_obj.threads = self.rerank_threads
            self._reranker_obj.sentence_scorer = self.sentence_scores  # window="key" reads by them
        return self._reranker_obj

    def stage1_scores(self, records: Sequence[dict[str, Any]]) -> np.ndarray:
        """The label model's calibrated P(label 2) alone (what a two-stage model re-reads from)."""
        if not records:
            return np.zeros(0)
        return apply_calibration(self.label_pipeline.predict_proba(list(records))[:, 1], self._cal1)

    def _final_scores(self, raw: np.ndarray, records: Sequence[dict[str, Any]]) -> np.ndarray:
        """Stage-1 probabilities -> the card's scores: natural calibration, and for a two-stage model
        the encoder's second reading of the articles at or above its ``t0``."""
        s = apply_calibration(raw, self._cal1)
        if not self.two_stage or not len(s):
            return s
        idx = np.where(s >= self.rerank_t0)[0]
        if len(idx):
            from .encoder import combine_logits
            p2 = self._reranker().predict_proba([records[i] for i in idx])[:, 1]
            s = s.copy()
            s[idx] = combine_logits(s[idx], p2)
        return apply_calibration(s, self._cal2)

    # -- scoring --------------------------------------------------------
    def predict_score(self, records: Sequence[dict[str, Any]]) -> np.ndarray:
        """P(label 2) for each record, calibrated to the natural stream when the card carries
        ``natural_calibration`` (:meth:`score` without the explanations; a two-stage model re-reads
        the articles at or above its ``t0`` with the encoder)."""
        if not records:
            return np.zeros(0)
        records = list(records)
        return self._final_scores(self.label_pipeline.predict_proba(records)[:, 1], records)

    def label_of(self, score: float) -> int:
        if score >= self.thresholds["label2"]:
            return 2
        if score >= self.thresholds["label1"]:
            return 1
        return 0

    def _parts(self) -> tuple[np.ndarray, float, list[str]]:
        if self._explainer is None:
            self._explainer = _linear_parts(self.label_pipeline)
        return self._explainer

    def explain_terms(self, records: Sequence[dict[str, Any]], k: int = 8, Xf: Any = None) -> list[list[str]]:
        """The k terms (features) that pushed each record's score up most."""
        coef, _, names = self._parts()
        if Xf is None:
            Xf = self.label_pipeline[:-1].transform(list(records))
        Xf = Xf.tocsr()
        out = []
        for i in range(Xf.shape[0]):
            row = Xf.getrow(i)
            contrib = row.data * coef[row.indices]
            order = np.argsort(-contrib)[:k]
            terms = []
            for j in order:
                if contrib[j] <= 0:
                    break
                n = names[row.indices[j]].split("__", 1)[-1]
                if n not in terms:
                    terms.append(n)
            out.append(terms)
        return out

    def sentence_scores(self, groups: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """How deed-like each sentence reads to the label model, per group (one group per article;
        all sentences go through the features at once, ~9x faster than a call per article): its
        linear score, nudged: never a photo caption or credit, rather not a heading or a quote, a
        little for the group's first three."""
        flat = [x for g in groups for x in g]
        if not flat:
            return [np.zeros(0) for _ in groups]
        coef, _, _ = self._parts()
        Xf = self.label_pipeline.named_steps["features"].transform([{"title": "", "lead": "", "text": x} for x in flat])
        raw = np.asarray(Xf @ coef, dtype=float).ravel()
        out, at = [], 0
        for g in groups:
            s, at = raw[at:at + len(g)].copy(), at + len(g)
            if not len(g):
                out.append(s)
                continue
            # nudges in units of the scores' spread, so they mean the same for any model's scale
            spread = float(np.std(s)) or 1.0
            lens = np.array([len(x) for x in g])
            nudge = np.where(lens < 40, -0.25, 0.0) + np.where(np.arange(len(g)) < 3, 0.075, 0.0)
            nudge = nudge + np.array([-0.15 if x[:1] in _QUOTES else 0.0 for x in g])
            s = s + spread * nudge
            s[[bool(_CAPTION.search(x)) for x in g]] -= 1e6
            out.append(s)
        return out

    def reasons(self, records: Sequence[dict[str, Any]]) -> list[str]:
        """For each article, the sentence the model finds most deed-like (the title if none)."""
        parts = [article_parts(r) for r in records]
        groups = [(split_sentences(lead) + split_sentences(text))[:80] for _, lead, text in parts]
        return [g[int(np.argmax(s))] if g else title.strip()
                for (title, _, _), g, s in zip(parts, groups, self.sentence_scores(groups))]

    def reason(self, rec: dict[str, Any]) -> str:
        return self.reasons([rec])[0]

    def score(self, records: Sequence[dict[str, Any]], *, explain: bool = True,
              details: bool = True) -> list[dict[str, Any]]:
        """Score records (``title``, optional ``lead``, ``text``); one dict per record.

        ``score`` is the calibrated probability of label 2; ``label`` follows
        the card's thresholds; field, deed, exemplars and place only for
        label ≥ 1 (field/deed "" for 0); ``reason`` and ``terms`` for every
        record when ``explain`` (the reason sentence only for label ≥ 1)."""
        records = [_clean(r) for r in records]
        Xf = self.label_pipeline[:-1].transform(records) if records else None
        scores = (self._final_scores(self.label_pipeline[-1].predict_proba(Xf)[:, 1], records)
                  if records else np.zeros(0))
        labels = [self.label_of(float(s)) for s in scores]
        out: list[dict[str, Any]] = [
            {"score": round(float(s), 6), "label": lab, "field": "", "deed": "", "field_conf": None,
             "exemplars": [], "reason": "", "terms": [], "place": None}
            for s, lab in zip(scores, labels)]
        flagged = [i for i, lab in enumerate(labels) if lab >= 1]
        if explain and records:
            for i, terms in enumerate(self.explain_terms(records, Xf=Xf)):
                out[i]["terms"] = terms
        if not flagged:
            return out
        frecs = [records[i] for i in flagged]
        for key, est in (("field", self.field_model), ("deed", self.deed_model)):
            for i, (code, conf) in zip(flagged, _predict_codes(est, frecs, key)):
                out[i][key] = code
                if key == "field":
                    out[i]["field_conf"] = conf
        if explain:
            for i, why in zip(flagged, self.reasons(frecs)):
                out[i]["reason"] = why
        if details:
            for i, found in zip(flagged, _exemplars_of([records[i] for i in flagged],
                                                       [out[i]["label"] for i in flagged], self.selector_dir)):
                out[i]["exemplars"] = found
                out[i]["place"] = _place(records[i])
        return out


def _upgrade(est: Any) -> Any:
    """Give an unpickled estimator the constructor parameters its class gained since it was saved."""
    if est is None or not hasattr(est, "get_params"):
        return est
    try:
        fresh = type(est)()
        for k, v in fresh.get_params(deep=False).items():
            if k not in est.__dict__:
                setattr(est, k, v)
    except Exception:  # a class that cannot be built without arguments: leave it
        pass
    return est


def _predict_codes(est: Any, recs: list[dict[str, Any]], key: str) -> list[tuple[str, float | None]]:
    """(code, confidence) per record from the bundled field/deed model; if it cannot run
    (e.g. saved by an older pipeline.fields), pipeline.fields' own default predictor."""
    if est is not None:
        try:
            P = est.predict_proba(recs)
            cls = list(est.classes_)
            return [(str(cls[int(np.argmax(r))]), round(float(np.max(r)), 4)) for r in P]
        except Exception as e:  # noqa: BLE001
            import logging
            logging.getLogger(__name__).warning("bundled %s model failed (%s); using pipeline.fields", key, e)
    try:
        from . import fields
        fn = fields.predict_field if key == "field" else fields.predict_deed
        return [(str(c), round(float(p), 4)) for c, p in (fn(r) for r in recs)]
    except Exception:
        return [("khac", None) for _ in recs]


def _clean(rec: dict[str, Any]) -> dict[str, Any]:
    return {"title": str(rec.get("title") or ""), "lead": str(rec.get("lead") or ""),
            "text": str(rec.get("text") or "")}


# Borderline (label 1) stories get NER on their title and lead only: NER is nearly all of
# the scoring time, and label-1 stories are most of the flagged ones.
LABEL1_NER_BUDGET = 0


def _exemplars_of(recs: Sequence[dict[str, Any]], labels: Sequence[int],
                  selector_dir: str | Path | None = None) -> list[list[dict[str, Any]]]:
    """Exemplars of the flagged records (``nlp.exemplars_many``: one selector call for them all,
    the one in ``selector_dir``, default the one in use); a record whose names cannot be found
    gets none, and the log says which."""
    from .exemplar_select import load_selector
    from .nlp import exemplars_many
    parts = [article_parts(r) for r in recs]
    arts = [(title, text, lead, None if label >= 2 else LABEL1_NER_BUDGET)
            for (title, lead, text), label in zip(parts, labels)]

    def failed(k: int, e: Exception) -> None:  # one odd text must not stop a batch; say which
        log.warning("exemplars failed on %r: %s", recs[k].get("id") or parts[k][0][:60], e)
    try:
        return exemplars_many(arts, selector=load_selector(selector_dir), on_error=failed)
    except Exception as e:
        log.warning("exemplars failed on a batch of %d: %s", len(recs), e)
        return [[] for _ in recs]



def _place(rec: dict[str, Any]) -> dict[str, Any] | None:
    try:
        from .gazetteer import detect_place  # type: ignore
    except Exception:
        return None
    try:
        return detect_place(full_text(rec)[:4000])
    except Exception:
        return None


def load_model(path: str | Path | None = None, rerank: bool = True,
               models_dir: str | Path | None = None) -> Model:
    """A model by path; ``None`` = the promoted version of ``models_dir`` (default: the
    configuration's), else the bundled default. Its exemplar selector is the one promoted in
    ``models_dir``'s ``exemplars/``, else the bundled one. ``rerank=False``: a two-stage model
    scores with its stage 1 alone (faster, no torch)."""
    from .exemplar_select import active_selector_dir
    model = None
    if path is not None:
        model = Model.load(path, rerank=rerank)
    else:
        try:
            from .config import Config
            from .registry import active_path
            p = active_path(models_dir if models_dir is not None else Config.load().models_dir)
            if p is not None:
                model = Model.load(p, rerank=rerank)
        except Exception:
            pass
    if model is None:
        from .config import BUNDLED_MODEL_DIR
        model = Model.load(BUNDLED_MODEL_DIR, rerank=rerank)
    model.selector_dir = active_selector_dir(models_dir)
    return model
