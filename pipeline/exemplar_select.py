"""Which of the people and collectives a story names are its exemplars: a learned selector.

``pipeline.nlp.exemplar_candidates`` finds every person and collective with the evidence the
patterns gather (a weighted score, how often and where each is named, whether a victim, suspect,
kin or commenting-official pattern fired, role, unit and place, what the hand-set thresholds
keep). ``ExemplarSelector`` learns from the team's exemplars which candidates the readers name:

* a context model: TF-IDF over the words just before and just after each mention (case-folded
  syllables and pairs, "L_" and "R_" marked) plus the scaled numbers, into a logistic regression;
* a boosted-tree model (``GradientBoostingClassifier``: single-threaded, so scoring workers do
  not fight over OpenMP threads as ``HistGradientBoostingClassifier`` did, 80 articles/s instead
  of 600 in ``bench_score``) over the numbers and the context model's out-of-fold probability
  (folds grouped by article, so no candidate is scored by a context model that saw its article).

It follows the scikit-learn contract (``fit(X, y, groups)``, ``predict_proba(X)``; ``X`` is a
list of candidate dicts), so ``GridSearchCV`` runs on the object ``exemplars`` uses. The bundled
selector (``pipeline/data/exemplars/``) and its card are written by
``benchmarks/train_exemplar_selector.py``, which also prints how it compares with the rules. The
selector reads what the patterns produce: after changing them, retrain it and compare the card.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

BUNDLED_DIR = Path(__file__).resolve().parent / "data" / "exemplars"
MODEL_FILE = "selector.joblib"
CARD_FILE = "card.json"

FEATURES = ("is_person", "score", "relative_score", "rank", "first", "mentions", "negative_mentions",
            "max_weight", "titled_mentions", "damped_mentions", "official", "unit_of_a_person", "has_role",
            "has_unit", "has_place", "name_syllables", "people_in_article", "units_in_article", "top_score",
            "kept_by_rules")
_WINDOW = 6  # words either side of a mention read by the context model


def numbers(rows: Sequence[dict]) -> np.ndarray:
    """The numeric evidence of each candidate, in ``FEATURES`` order."""
    out = np.zeros((len(rows), len(FEATURES)))
    for i, r in enumerate(rows):
        person = r["kind"] == "person"
        top = r.get("top") or 0.0
        first = r.get("first", 0) - (0 if person else 100)
        out[i] = (person, r["score"], r["score"] / top if top > 0 else 0.0, r.get("rank", 0), min(first, 30),
                  r.get("n", 0), r.get("neg", 0), r.get("maxw", 0.0), r.get("pref", 0), r.get("damped", 0),
                  bool(r.get("official")), bool(r.get("excluded")), bool(r.get("role")), bool(r.get("unit")),
                  bool(r.get("place")), len(r["name"].split()), r.get("n_people", 0), r.get("n_units", 0), top,
                  bool(r.get("rule")))
    return out


def _side(rows: Sequence[dict], side: str) -> list[str]:
    key, mark = ("left", "L_") if side == "left" else ("right", "R_")
    docs = []
    for r in rows:
        words = []
        for seg in r.get(key) or ():
            toks = seg.split()
            words += [mark + w for w in (toks[-_WINDOW:] if side == "left" else toks[:_WINDOW])]
        docs.append(" ".join(words))
    return docs


class _ContextModel:
    """Logistic regression over the words around the mentions and the scaled numbers."""

    def __init__(self, C: float, min_df: int):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        self.left = TfidfVectorizer(ngram_range=(1, 2), min_df=min_df, sublinear_tf=True, token_pattern=r"\S+")
        self.right = TfidfVectorizer(ngram_range=(1, 2), min_df=min_df, sublinear_tf=True, token_pattern=r"\S+")
        self.scale = StandardScaler()
        self.model = LogisticRegression(C=C, max_iter=3000)

    def _matrix(self, rows: Sequence[dict], nums: np.ndarray, fit: bool) -> Any:
        from scipy.sparse import csr_matrix, hstack

        how = "fit_transform" if fit else "transform"
        parts = [getattr(self.left, how)(_side(rows, "left")), getattr(self.right, how)(_side(rows, "right")),
                 csr_matrix(getattr(self.scale, how)(nums))]
        return hstack(parts).tocsr()

    def fit(self, rows: Sequence[dict], nums: np.ndarray, y: Sequence[int]) -> "_ContextModel":
        """``nums``: ``numbers(rows)``, computed once by the caller."""
        self.model.fit(self._matrix(rows, nums, True), np.asarray(y))
        return self

    def predict_proba(self, rows: Sequence[dict], nums: np.ndarray) -> np.ndarray:
        return self.model.predict_proba(self._matrix(rows, nums, False))[:, 1]


class ExemplarSelector(ClassifierMixin, BaseEstimator):
    """P(a candidate is one of the story's exemplars); candidates at or above ``threshold`` are kept."""

    def __init__(self, C: float = 1.0, min_df: int = 3, folds: int = 5, learning_rate: float = 0.05,
                 n_estimators: int = 200, max_leaf_nodes: int = 15, threshold: float = 0.3, random_state: int = 0):
        self.C = C
        self.min_df = min_df
        self.folds = folds
        self.learning_rate = learning_rate
        self.n_estimators = n_estimators
        self.max_leaf_nodes = max_leaf_nodes
        self.threshold = threshold
        self.random_state = random_state

    def fit(self, X: Sequence[dict], y: Sequence[int], groups: Sequence[str] | None = None) -> "ExemplarSelector":
        from sklearn.ensemble import GradientBoostingClassifier
        from sklearn.model_selection import GroupKFold

        rows, y = list(X), np.asarray(y, dtype=int)
        groups = list(groups) if groups is not None else [r.get("article", i) for i, r in enumerate(rows)]
        nums = numbers(rows)
        oof = np.zeros(len(rows))
        for tr, te in GroupKFold(n_splits=self.folds).split(rows, y, groups):
            part = _ContextModel(self.C, self.min_df).fit([rows[i] for i in tr], nums[tr], y[tr])
            oof[te] = part.predict_proba([rows[i] for i in te], nums[te])
        self.context_ = _ContextModel(self.C, self.min_df).fit(rows, nums, y)
        self.booster_ = GradientBoostingClassifier(
            learning_rate=self.learning_rate, n_estimators=self.n_estimators, max_leaf_nodes=self.max_leaf_nodes,
            random_state=self.random_state).fit(np.column_stack([nums, oof]), y)
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: Sequence[dict]) -> np.ndarray:
        rows = list(X)
        if not rows:
            return np.zeros((0, 2))
        nums = numbers(rows)
        return self.booster_.predict_proba(np.column_stack([nums, self.context_.predict_proba(rows, nums)]))

    def predict(self, X: Sequence[dict]) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= self.threshold).astype(int)


def save_selector(selector: ExemplarSelector, card: dict, out_dir: str | Path = BUNDLED_DIR) -> Path:
    import joblib

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(selector, out / MODEL_FILE, compress=3)
    (out / CARD_FILE).write_text(json.dumps(card, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return out


@lru_cache(maxsize=4)
def load_selector(path: str | Path = BUNDLED_DIR) -> ExemplarSelector:
    """The selector saved in ``path`` (default: the bundled one), loaded once per process."""
    import joblib

    f = Path(path) / MODEL_FILE
    if not f.is_file():
        raise FileNotFoundError(f"no exemplar selector at {f}: the package is incomplete "
                                "(benchmarks/train_exemplar_selector.py writes it)")
    return joblib.load(f)


def selector_card(path: str | Path = BUNDLED_DIR) -> dict:
    return json.loads((Path(path) / CARD_FILE).read_text(encoding="utf-8"))
