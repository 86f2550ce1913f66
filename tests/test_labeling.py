"""Labelling functions, the vocabulary stratum, the active-learning queue and the team's labels."""
from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from pipeline.config import REPO_DIR
from pipeline.labeling import (ABSTAIN, LABELING_FUNCTIONS, POS, PRESS_POPULATION, R_PERSON, active_queue, apply_lfs,
                               combine, in_vocabulary_stratum, lf_dedication_person, lf_report, lf_weights,
                               population_counts)
from pipeline.taxonomy import DEEDS, FIELDS

TEAM = REPO_DIR / "corpora" / "labels" / "team.jsonl"


@pytest.fixture(scope="module")
def seed_recs(press_by_id, seed_labels):
    return [press_by_id[s["id"]] for s in seed_labels], [s["label"] for s in seed_labels]


def test_vocabulary_rule_reproduces_the_seed_stratum(press_by_id, seed_labels):
    voc = [s for s in seed_labels if s["stratum"] == "vocabulary"]
    hit = sum(in_vocabulary_stratum(press_by_id[s["id"]]) for s in voc)
    assert hit / len(voc) > 0.93  # the README's rule, as we read it
    rnd = [s for s in seed_labels if s["stratum"] == "random"]
    share = sum(in_vocabulary_stratum(press_by_id[s["id"]]) for s in rnd) / len(rnd)
    assert 0.0 < share < 0.2  # about a tenth of the press matches


@pytest.mark.slow
def test_population_counts_match_the_press(press_by_id):
    assert population_counts(press_by_id.values()) == PRESS_POPULATION


def test_lf_report_on_the_seed_labels(seed_recs):
    recs, gold = seed_recs
    L = apply_lfs(recs)
    assert L.shape == (len(recs), len(LABELING_FUNCTIONS))
    rep = {r["name"]: r for r in lf_report(recs, gold, L=L)}
    for r in rep.values():
        assert 0 < r["coverage"] < 0.6, r
        assert 0 <= r["conflict"] <= r["overlap"] <= r["coverage"]
    # negative functions are precise on real labels (they are what keeps precision up)
    for name in ("lf_business", "lf_sports", "lf_crime_only", "lf_foreign", "lf_no_vocabulary", "lf_movement_meeting"):
        assert rep[name]["polarity"] == -1 and rep[name]["accuracy"] >= 0.9, rep[name]
    # combined with accuracy weights, the functions beat chance on the positives they vote on
    y = combine(L, lf_weights(L, gold))
    g = np.asarray(gold)
    assert (g[y == 2] == 2).mean() > 2 * (g == 2).mean()
    assert (g[y == 0] == 2).mean() < 0.5 * (g == 2).mean()


def test_person_pattern_takes_capitalised_names_not_lower_case_words():
    # "[A-ZĐÀ-Ỹ]" took "ấ", "đ", "ơ" for capitals: "anh ấy", "cô đã", "chiến sĩ ơi" counted as named people
    assert R_PERSON.findall("anh ấy nói, cô đã đến, ông được khen, chiến sĩ ơi, cụ ông") == []
    assert R_PERSON.findall("anh Hùng, chị Ánh, ông Đức và chiến sĩ Ước") == [
        "anh Hùng", "chị Ánh", "ông Đức", "chiến sĩ Ước"]
    pronouns = {"title": "Người thầy tận tụy", "lead": "",
                "text": "Suốt 20 năm, ông ấy miệt mài với học trò, cô ấy kể lại. Anh đã về làng."}
    assert lf_dedication_person(pronouns) == ABSTAIN
    named = {"title": "Người thầy tận tụy", "lead": "",
             "text": "Suốt 20 năm, thầy Ánh miệt mài với học trò, em Đào kể lại."}
    assert lf_dedication_person(named) == POS


class _Stub:
    thresholds = {"label2": 0.5, "label1": 0.2}

    def predict_score(self, recs):
        return np.asarray([0.5 if "trả lại" in r["title"] else 0.01 for r in recs])


def test_active_queue_orders_uncertain_first_and_skips_labelled(press_by_id, seed_labels):
    labelled = {s["id"] for s in seed_labels}
    pool = [r for r in list(press_by_id.values())[:3000]]
    q = active_queue(_Stub(), pool, 10, exclude=labelled)
    assert len(q) == 10
    assert not {r["id"] for r in q} & labelled
    assert q[0]["margin"] <= q[-1]["margin"]
    assert len({(r["title"], r["text"]) for r in q}) == 10


def test_team_labels_are_valid(press_by_id, seed_labels):
    rows = [json.loads(line) for line in TEAM.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 100
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids))
    assert not set(ids) & {s["id"] for s in seed_labels}
    for r in rows:
        assert r["id"] in press_by_id
        assert r["label"] in (0, 1, 2) and r["why"].strip()
        assert r["stratum"] in ("nonvocabulary", "active", "random")
        if r["label"] == 0:
            assert r["field"] == "" and r["deed"] == "" and r["exemplars"] == []
        else:
            assert r["field"] in FIELDS and r["deed"] in DEEDS
        if r["stratum"] == "nonvocabulary":
            assert not in_vocabulary_stratum(press_by_id[r["id"]])
    assert Counter(r["label"] for r in rows)[2] >= 1
