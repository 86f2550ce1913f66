"""A second, blind reading of 240 labelled articles agrees with the labels (benchmarks/agreement.py)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from agreement import agreement  # noqa: E402

from pipeline.train import cell_populations, default_label_paths, load_training_data  # noqa: E402


def test_second_reader_agrees_and_the_weights_follow_the_cells(corpora):
    recheck = [json.loads(line) for line in open(ROOT / "corpora" / "labels" / "recheck.jsonl", encoding="utf-8")]
    recs = load_training_data(default_label_paths(), corpora / "press.jsonl.gz")
    labels = {r["id"]: r for r in recs}
    assert len(recheck) == 240 and all(r["id"] in labels for r in recheck)
    res = agreement(recheck, labels, cell_populations(recs))
    # measured 2026-12-02: kappa(label 2) 0.91, natural-rate precision 0.87 / recall 0.99
    assert res["kappa_label2"] >= 0.85
    assert res["second_reader_precision_natural"] >= 0.8 and res["second_reader_recall_natural"] >= 0.9
    # the function really compares: a reader who says "2" everywhere is far off
    always2 = [{**r, "label": 2} for r in recheck]
    bad = agreement(always2, labels, cell_populations(recs))
    assert bad["second_reader_precision_natural"] < 0.3 and bad["kappa_label2"] < 0.1
