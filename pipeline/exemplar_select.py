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
list of candidate dicts), so ``GridSearchCV`` runs on the object ``exemplars`` uses.

``train_selector`` (``nguoitot models exemplars train``) trains one on the team's label-2 items
outside the dev and check sets (``pipeline.exemplar_eval``) plus any label files an analyst
passes, chooses its threshold on dev, and writes it with a card comparing it with the hand-set
rules and with the selector in use on dev, check and the guide's seed items. Versions live in
``<models_dir>/exemplars/`` with their own registry (promote, rollback); with none promoted the
bundled one (``pipeline/data/exemplars/``) is used. The selector reads what the patterns
produce: after changing them, retrain it and compare the cards.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

BUNDLED_DIR = Path(__file__).resolve().parent / "data" / "exemplars"
MODEL_FILE = "model.joblib"  # the registry's name for a version's model (pipeline.registry)
SUBDIR = "exemplars"  # <models_dir>/exemplars/: trained versions and their registry
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


def save_selector(selector: ExemplarSelector, card: dict, out_dir: str | Path) -> Path:
    import joblib

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    joblib.dump(selector, out / MODEL_FILE, compress=3)
    (out / CARD_FILE).write_text(json.dumps(card, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return out


def selector_root(models_dir: str | Path | None = None) -> Path:
    """Where trained selector versions and their registry live: ``<models_dir>/exemplars``."""
    if models_dir is None:
        from .config import Config
        models_dir = Config.load().models_dir
    return Path(models_dir) / SUBDIR


def active_selector_dir(models_dir: str | Path | None = None) -> Path:
    """The promoted selector version, or the bundled one when none is."""
    from .registry import active_path
    try:
        p = active_path(selector_root(models_dir))
    except (OSError, ValueError):
        p = None
    return p if p is not None else BUNDLED_DIR


def load_selector(path: str | Path | None = None) -> ExemplarSelector:
    """The selector saved in ``path`` (default: the promoted version, else the bundled one),
    loaded once per process and path."""
    return _load(str(Path(path) if path is not None else active_selector_dir()))


@lru_cache(maxsize=4)
def _load(path: str) -> ExemplarSelector:
    import joblib

    f = Path(path) / MODEL_FILE
    if not f.is_file():
        raise FileNotFoundError(f"no exemplar selector at {f} (`nguoitot models exemplars train` writes one)")
    return joblib.load(f)


def selector_card(path: str | Path | None = None) -> dict:
    p = Path(path) if path is not None else active_selector_dir()
    return json.loads((p / CARD_FILE).read_text(encoding="utf-8"))


# -- training ------------------------------------------------------------------------------------
def candidates_of(pairs: Sequence[tuple[dict, dict]], progress: Any = None) -> list[list[dict]]:
    """Every article's ``exemplar_candidates`` (the costly part: NER), found once."""
    from .nlp import exemplar_candidates

    out = []
    for _, art in pairs:
        out.append(exemplar_candidates(art.get("title", ""), art.get("text", ""), art.get("lead", "")))
        if progress is not None:
            progress(1)
    return out


def training_rows(pairs: Sequence[tuple[dict, dict]], cands: Sequence[list[dict]]) -> tuple[list, list, list]:
    """Candidates, their labels (the name matches one of the article's gold exemplars, one gold
    name per person) and their article ids."""
    from .exemplar_eval import one_per_person
    from .nlp import same_name

    rows, y, groups = [], [], []
    for (lab, _), cs in zip(pairs, cands):
        gold = one_per_person(lab.get("exemplars") or [])
        for c in cs:
            rows.append(c)
            y.append(int(any(same_name(c["name"], g) for g in gold)))
            groups.append(str(lab["id"]))
    return rows, y, groups


def names_on(pairs: Sequence[tuple[dict, dict]], cands: Sequence[list[dict]], selector: Any = None,
             select: str = "model") -> dict[str, Any]:
    """Exemplar-name precision / recall / F1 (one gold name per person) of ``selector`` (or the
    rules, ``select="rules"``) choosing among the candidates already found."""
    from .exemplar_eval import score_names
    from .nlp import choose_exemplars

    names = {}
    for (lab, art), cs in zip(pairs, cands):
        text = " ".join((art.get("title", ""), art.get("lead", ""), art.get("text", "")))
        names[str(lab["id"])] = [e["name"] for e in choose_exemplars(cs, text, select=select, selector=selector)]
    m = score_names(pairs, lambda art: names[str(art["id"])])
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in m.items()}


THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4)


def choose_threshold(sweep: dict[float, dict], rules: dict) -> float:
    """The threshold at which the selector names about as many people and collectives on dev as
    the hand-set rules do (ties: the lower). Staff get lists no longer than before, and at the
    same length precision and recall rise or fall together, so the comparison is one of choosing,
    not of list length. ``sweep``: threshold -> ``names_on`` dev; ``rules``: the rules' on dev."""
    return min(sweep, key=lambda t: (abs(sweep[t]["predicted"] - rules["predicted"]), t))


def train_selector(train: Sequence[tuple[dict, dict]], dev: Sequence[tuple[dict, dict]],
                   held_out: dict[str, Sequence[tuple[dict, dict]]] | None = None, *, C: float = 1.0,
                   threshold: float | None = None, compare_with: Any = None, sources: Sequence[str] = (),
                   log: Any = None, progress: Any = None) -> tuple[ExemplarSelector, dict]:
    """Fit a selector on ``train``, choose its threshold on ``dev`` (``choose_threshold``, unless
    given) and report, on dev and every ``held_out`` set, exemplar-name P/R/F1 of the new selector,
    of the hand-set rules and of ``compare_with`` (the selector in use), all choosing among the
    same candidates. Items are (label line, article) pairs (``pipeline.exemplar_eval``). Returns
    the selector and its card."""
    import hashlib
    import sys
    import time

    import sklearn

    say = log or (lambda m: None)
    held_out = dict(held_out or {})
    t0 = time.time()
    sets = {"train": list(train), "dev": list(dev), **{k: list(v) for k, v in held_out.items()}}
    cands = {k: candidates_of(v, progress) for k, v in sets.items()}
    rows, y, groups = training_rows(sets["train"], cands["train"])
    if not rows or sum(y) == 0 or sum(y) == len(y):
        raise ValueError(f"{len(sets['train'])} training articles give {len(rows)} candidates, {sum(y)} of them "
                         "exemplars: not enough to learn from (label files with label-2 items and their exemplars)")
    say(f"{len(sets['train'])} training articles: {len(rows)} candidates, {sum(y)} exemplars "
        f"({time.time() - t0:.0f}s to find them)")
    sel = ExemplarSelector(C=C).fit(rows, y, groups)
    sweep = {}
    for t in THRESHOLDS:
        sel.threshold = t
        sweep[t] = names_on(sets["dev"], cands["dev"], sel)
    rules_dev = names_on(sets["dev"], cands["dev"], select="rules")
    sel.threshold = threshold if threshold is not None else choose_threshold(sweep, rules_dev)
    say(f"threshold {sel.threshold}")
    report = {}
    for name in ["dev", *held_out]:
        report[name] = {"articles": len(sets[name]), "selector": names_on(sets[name], cands[name], sel),
                        "rules": names_on(sets[name], cands[name], select="rules")}
        if compare_with is not None:
            report[name]["in_use"] = names_on(sets[name], cands[name], compare_with)
        say(f"{name}: " + "; ".join(f"{k} P {v['precision']:.3f} R {v['recall']:.3f} F1 {v['f1']:.3f}"
                                     for k, v in report[name].items() if isinstance(v, dict)))
    ids = "\n".join(sorted(str(lab["id"]) for lab, _ in sets["train"]))
    ids_hash = hashlib.sha256(ids.encode()).hexdigest()
    params = sel.get_params()
    version = time.strftime("%Y-%m-%d") + "-" + hashlib.sha256(
        json.dumps([ids_hash, params, int(sum(y))], sort_keys=True).encode()).hexdigest()[:8]
    card = {
        "version": version,
        "what": "exemplar selector: which candidates of pipeline.nlp.exemplar_candidates are a story's exemplars",
        "trained_on": {"articles": len(sets["train"]), "candidates": len(rows), "exemplars": int(sum(y)),
                       "items": "label-2 items of the team's label files outside the check and dev sets "
                                "(pipeline.exemplar_eval), and of the label files given",
                       "label_files": list(sources), "ids_sha256": ids_hash},
        "threshold": sel.threshold,
        "threshold_chosen": "given" if threshold is not None else
        "on dev: as many names as the hand-set rules give there",
        "params": params, "features": list(FEATURES) + ["context_probability"],
        "names_one_gold_per_person": report, "dev_threshold_sweep": {str(k): v for k, v in sweep.items()},
        "versions": {"scikit-learn": sklearn.__version__, "python": sys.version.split()[0]},
        "trained": time.strftime("%Y-%m-%d"), "train_seconds": round(time.time() - t0, 1),
    }
    return sel, card


def train_cli(*, models_dir: str | Path | None = None, extra_labels: Sequence[str | Path] = (),
              threshold: float | None = None, promote: bool = False, out_dir: str | Path | None = None,
              log: Any = None, progress: Any = None) -> dict:
    """``nguoitot models exemplars train``: train on the team's label files (outside dev and check)
    and ``extra_labels``, report against the hand-set rules and the selector in use, save the new
    version under ``<models_dir>/exemplars/`` (or in ``out_dir``) and (``promote``) make it the one
    in use."""
    from . import registry
    from .exemplar_eval import label2_items, seed_items, split, team_items

    team = team_items()
    train, dev, check = split(team)
    held = {lab["id"] for lab, _ in dev + check}
    seed = seed_items()
    held |= {lab["id"] for lab, _ in seed}
    if extra_labels:
        extra = [p for p in label2_items(list(extra_labels)) if p[0]["id"] not in held]
        by_id = {lab["id"]: (lab, art) for lab, art in train}
        by_id.update({lab["id"]: (lab, art) for lab, art in extra})  # a later file wins, as in training
        train = sorted(by_id.values(), key=lambda p: p[0]["id"])
    in_use = active_selector_dir(models_dir)
    sel, card = train_selector(train, dev, {"check": check, "seed": seed}, threshold=threshold,
                               compare_with=load_selector(in_use), sources=[str(p) for p in extra_labels],
                               log=log, progress=progress)
    card["compared_with"] = {"in_use": in_use.name if in_use != BUNDLED_DIR else "bundled"}
    root = selector_root(models_dir)
    out = save_selector(sel, card, out_dir if out_dir is not None else root / card["version"])
    card["path"] = str(out)
    if promote and out_dir is None:
        registry.promote(card["version"], root)
        card["promoted"] = True
    return card


def list_selectors(models_dir: str | Path | None = None) -> list[dict]:
    """Trained selector versions (``pipeline.registry`` on ``<models_dir>/exemplars``) with what
    their cards say; ``active`` marks the one in use (none: the bundled selector)."""
    from .registry import list_models

    out = []
    for m in list_models(selector_root(models_dir)):
        c = selector_card(m["path"]) if (Path(m["path"]) / CARD_FILE).is_file() else {}
        check = ((c.get("names_one_gold_per_person") or {}).get("check") or {}).get("selector") or {}
        out.append({"version": m["version"], "active": m["active"], "trained": c.get("trained"),
                    "articles": (c.get("trained_on") or {}).get("articles"), "threshold": c.get("threshold"),
                    "check_precision": check.get("precision"), "check_recall": check.get("recall"),
                    "check_f1": check.get("f1")})
    return out
