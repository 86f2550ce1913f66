"""The exemplar selector: the scikit-learn contract, the bundled model and its card."""
from __future__ import annotations

import random

import numpy as np
import pytest

from pipeline.exemplar_select import FEATURES, ExemplarSelector, load_selector, numbers, selector_card


def _candidate(rng: random.Random, hero: bool, article: int) -> dict:
    """A synthetic candidate: heroes are named often, with deed words after them; others are quoted
    ("cho biết") or are victims ("nạn nhân" before the name)."""
    n = rng.randint(2, 6) if hero else rng.randint(1, 3)
    left = ["anh" if hero else rng.choice(["nạn nhân là anh", "ông", "bà"]) for _ in range(n)]
    right = [rng.choice(["đã lao xuống cứu", "dũng cảm cứu người"]) if hero else "cho biết" for _ in range(n)]
    return {"kind": "person", "name": "Nguyễn Văn " + rng.choice("ABCDEGHK"), "score": n * (1.5 if hero else 0.8),
            "top": 9.0, "first": rng.randint(0, 5), "rank": rng.randint(0, 4), "n": n, "neg": 0 if hero else 1,
            "maxw": 1.5, "pref": n, "damped": 0, "role": "", "unit": "", "place": "", "n_people": 5, "n_units": 1,
            "rule": 0, "left": left, "right": right, "article": article}


def _data(seed: int, n_articles: int = 80):
    rng = random.Random(seed)
    rows, y, groups = [], [], []
    for a in range(n_articles):
        for hero in (True, False, False):
            rows.append(_candidate(rng, hero, a))
            y.append(int(hero))
            groups.append(f"a{a}")
    return rows, y, groups


def test_the_selector_follows_the_fit_predict_contract_and_learns():
    from sklearn.base import clone
    from sklearn.metrics import roc_auc_score

    rows, y, groups = _data(0)
    sel = clone(ExemplarSelector(C=0.5, min_df=1, folds=3, n_estimators=50)).fit(rows, y, groups)
    test_rows, test_y, _ = _data(1, 30)
    p = sel.predict_proba(test_rows)
    assert p.shape == (len(test_rows), 2) and np.allclose(p.sum(axis=1), 1.0)
    assert roc_auc_score(test_y, p[:, 1]) > 0.95
    assert set(sel.predict(test_rows)) <= {0, 1}
    assert sel.predict_proba([]).shape == (0, 2)
    assert numbers(test_rows[:1]).shape == (1, len(FEATURES))


def test_grid_search_runs_on_the_selector():
    from sklearn.model_selection import GridSearchCV, GroupKFold

    rows, y, groups = _data(2, 40)
    gs = GridSearchCV(ExemplarSelector(min_df=1, folds=2, n_estimators=30), {"C": [0.3, 1.0]}, cv=GroupKFold(2),
                      scoring="roc_auc").fit(rows, y, groups=groups)
    assert gs.best_params_["C"] in (0.3, 1.0) and gs.best_score_ > 0.9


def test_the_bundled_selector_and_its_card_agree():
    sel = load_selector()
    card = selector_card()
    assert sel.threshold == card["threshold"]
    assert card["features"][:-1] == list(FEATURES)
    # measured on articles it never saw, and better than the hand-set rules on each held-out set
    for split in ("dev", "seed", "check"):
        got = card["names_one_gold_per_person"][split]
        assert got["selector"]["f1"] > got["rules"]["f1"], split
    rows, _, _ = _data(3, 5)
    p = sel.predict_proba(rows)[:, 1]
    assert ((0 <= p) & (p <= 1)).all()


def test_exemplars_select_by_model_or_rules():
    from pipeline.nlp import exemplars

    text = ("Anh Nguyễn Văn Hùng đã dũng cảm lao xuống sông cứu sống hai em nhỏ bị đuối nước. "
            "Anh Nguyễn Văn Hùng được UBND tỉnh khen thưởng vì hành động dũng cảm cứu người.")
    for how in ("model", "rules"):
        assert [e["name"] for e in exemplars("Cứu hai em nhỏ", text, select=how)] == ["Nguyễn Văn Hùng"], how
    with pytest.raises(ValueError, match="select"):
        exemplars("x", text, select="both")
