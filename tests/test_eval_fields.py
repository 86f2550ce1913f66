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
