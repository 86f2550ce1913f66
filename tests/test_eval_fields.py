"""benchmarks/eval_fields.py: extra training items never share a text with the test fold."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

_spec = importlib.util.spec_from_file_location(
    "eval_fields", Path(__file__).resolve().parents[1] / "benchmarks" / "eval_fields.py")
eval_fields = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(eval_fields)


class _Recorder:
    """Predicts the majority class; remembers what each fit saw."""
    seen: list = []
    weights: list = []

    def fit(self, X, y, sample_weight=None):
        _Recorder.seen.append([x["g"] for x in X])
        _Recorder.weights.append(list(sample_weight))
        vals, counts = np.unique(y, return_counts=True)
        self.classes_ = vals
        self._p = counts / counts.sum()
        return self

    def predict_proba(self, X):
        return np.tile(self._p, (len(X), 1))


def test_extra_items_with_a_test_text_are_dropped_from_training():
    X = [{"g": f"g{i % 20}"} for i in range(40)]  # 20 texts, each twice
    y = ["a" if i % 2 else "b" for i in range(40)]
    groups = [x["g"] for x in X]
    extra = ([{"g": "g3"}, {"g": "new"}], ["a", "b"], ["g3", "new"])
    _Recorder.seen, _Recorder.weights = [], []
    pred, conf = eval_fields.cross_val_predict_grouped(_Recorder, X, y, groups, folds=5, seed=0, extra=extra,
                                                       extra_weight=0.5)
    assert len(_Recorder.seen) == 5 and all(p is not None for p in pred)
    test_sets = []
    from sklearn.model_selection import StratifiedGroupKFold
    for tr, te in StratifiedGroupKFold(5, shuffle=True, random_state=0).split(X, y, groups):
        test_sets.append({groups[i] for i in te})
    for seen, w, test in zip(_Recorder.seen, _Recorder.weights, test_sets):
        assert not set(seen) & test  # neither a seed duplicate nor an extra item of a test text
        assert "new" in seen
        # seed items weigh 1, the extra items kept weigh extra_weight
        n_extra = 2 if "g3" not in test else 1
        assert w == [1.0] * (len(seen) - n_extra) + [0.5] * n_extra


class _WeightedMajority:
    """Predicts the class with the most training weight; remembers the texts of every fit."""
    seen: list = []

    def fit(self, X, y, sample_weight=None):
        _WeightedMajority.seen.append({x["g"] for x in X})
        w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, float)
        self.classes_ = np.unique(y)
        mass = np.asarray([w[np.asarray(y) == c].sum() for c in self.classes_])
        self._p = mass / mass.sum()
        return self

    def predict_proba(self, X):
        return np.tile(self._p, (len(X), 1))

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def test_nested_team_weight_chooses_inside_the_training_fold():
    """The weight is chosen by inner CV on the outer fold's training items, and no fit, inner
    or outer, ever sees a text of the outer test fold."""
    X = [{"g": f"g{i % 20}"} for i in range(40)]  # 20 texts, each twice; all class "a"
    y = ["a"] * 40
    groups = [x["g"] for x in X]
    # 40 extra items of class "b": weighing 1 they outvote the ~20 training items, weighing 0.2 they do not
    extra = ([{"g": f"e{j}"} for j in range(39)] + [{"g": "g5"}], ["b"] * 40, [f"e{j}" for j in range(39)] + ["g5"])
    _WeightedMajority.seen = []
    pred, chosen = eval_fields.nested_team_weight(_WeightedMajority, X, y, groups, extra, [0.2, 1.0], folds=4,
                                                  seed=0, inner_folds=2)
    assert chosen == [0.2] * 4  # weight 1 would predict "b" everywhere: inner macro-F1 0
    assert list(pred) == ["a"] * 40
    from sklearn.model_selection import StratifiedGroupKFold
    outer = [{groups[i] for i in te} for _tr, te in
             StratifiedGroupKFold(4, shuffle=True, random_state=0).split(X, y, groups)]
    # each outer fold makes 2 weights x 2 inner fits + 1 outer fit
    assert len(_WeightedMajority.seen) == 4 * 5
    for k, test in enumerate(outer):
        for seen in _WeightedMajority.seen[5 * k:5 * k + 5]:
            assert not seen & test
