"""Themes a reviewer can scan, on the 203 real label-2 articles of the seed set as one 'week'."""
from __future__ import annotations

import gzip
import json
from collections import Counter

import numpy as np
import pytest
import sqlalchemy as sa

from pipeline.embed import get_embedder
from pipeline.themes import (LABEL_STOPWORDS, OUTLIER_LABEL, assign_themes, ctfidf_labels, hdbscan_clusters,
                             label_words, segment, themes)


@pytest.fixture(scope="module")
def week(corpora):
    labels = {}
    for line in open(corpora / "labels" / "seed.jsonl", encoding="utf-8"):
        r = json.loads(line)
        if r["label"] == 2:
            labels[r["id"]] = r
    out = []
    with gzip.open(corpora / "press.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            i = line[8:line.find('"', 8)]
            if i in labels:
                r = json.loads(line)
                out.append({"id": i, "title": r["title"], "deed": labels[i]["deed"],
                            "reason": (r.get("lead") or r.get("text") or "")[:300]})
    return sorted(out, key=lambda c: c["id"])


@pytest.fixture(scope="module")
def week_themes(week):
    return themes(week, embedder=get_embedder())


def test_every_candidate_once_no_theme_swallows_most(week, week_themes):
    members = [i for t in week_themes for i in t["members"]]
    assert sorted(members) == list(range(len(week)))
    assert all(t["size"] == len(t["members"]) for t in week_themes)
    real = [t for t in week_themes if not t["is_outlier_group"]]
    assert len(real) >= 8
    assert max(t["size"] for t in real) <= 0.35 * len(week)
    # outliers are shown as their own group, last, never dropped
    outl = [t for t in week_themes if t["is_outlier_group"]]
    assert len(outl) <= 1 and (not outl or week_themes[-1] is outl[0])
    assert all(t["label"] == OUTLIER_LABEL for t in outl)


def test_labels_are_vietnamese_words_that_fit(week, week_themes):
    real = [t for t in week_themes if not t["is_outlier_group"]]
    for t in real:
        assert 1 <= len(t["words"]) <= 3 and t["label"] != "—"
        assert all(any(ch.isalpha() for ch in w) for w in t["words"])

    def theme_of(deed):  # the theme holding most articles of a deed
        return max(real, key=lambda t: sum(week[i]["deed"] == deed for i in t["members"]))

    returned = theme_of("trung-thuc")
    share = Counter(week[i]["deed"] for i in returned["members"])["trung-thuc"] / returned["size"]
    syllables = {x for w in returned["words"] for x in w.split("_")}
    assert share >= 0.7 and {"trả", "nhặt", "rơi"} & syllables, returned
    # no label is made of commendation words, and no syllable is repeated inside a label
    for t in real:
        assert not set(t["words"]) & LABEL_STOPWORDS, t["label"]
        syl = [x for w in t["words"] for x in w.split("_")]
        assert len(syl) == len(set(syl)), t["label"]
    rescue = theme_of("cuu-nguoi")
    assert Counter(week[i]["deed"] for i in rescue["members"])["cuu-nguoi"] / rescue["size"] >= 0.7
    # overall the themes are mostly of one deed each
    pure = sum(Counter(week[i]["deed"] for i in t["members"]).most_common(1)[0][1] for t in real)
    assert pure / sum(t["size"] for t in real) >= 0.7


def test_precomputed_embeddings_and_hdbscan_step(week):
    emb = get_embedder({"backend": "tfidf"}).encode([c["title"] for c in week[:60]])
    ts = themes(week[:60], emb, cluster=lambda e: hdbscan_clusters(e, 3))
    assert sorted(i for t in ts for i in t["members"]) == list(range(60))
    assert themes([]) == []
    one = themes(week[:1], emb[:1])
    assert len(one) == 1 and one[0]["is_outlier_group"]


def test_ctfidf_prefers_words_that_set_a_class_apart():
    docs = [["cứu", "đuối_nước", "sông"], ["cứu", "đuối_nước", "hồ"], ["trả", "nhặt", "ví"],
            ["trả", "nhặt", "vàng"], ["cứu", "trả"]]
    lab = ctfidf_labels(docs, [0, 0, 1, 1, 2], top_n=2)
    assert lab[0][0][0] == "đuối_nước" and lab[1][0][0] == "nhặt"


def test_segment_adds_two_word_terms_and_labels_skip_commendation_words():
    words = segment(["Anh Hùng cứu người đuối nước, được tặng bằng khen"])[0]
    assert "đuối_nước" in words and "cứu_người" in words
    assert label_words([("bằng_khen", 0.9), ("đuối_nước", 0.8), ("đuối", 0.7), ("cứu", 0.6), ("sông", 0.5)],
                       3) == ["đuối_nước", "cứu", "sông"]


def test_assign_themes_stores_labels(store, week):
    from pipeline.store import candidates, now_iso
    with store.begin() as c:
        for n, cand in enumerate(week[:40]):
            c.execute(sa.insert(candidates).values(key=f"k{n}", title=cand["title"], reason=cand["reason"],
                                                   deed=cand["deed"], week="2026-W13", created=now_iso(),
                                                   updated=now_iso()))
        c.execute(sa.insert(candidates).values(key="other-week", title="x", week="2026-W14",
                                               created=now_iso(), updated=now_iso()))
    result = assign_themes(store, "2026-W13")
    assert sum(t["size"] for t in result) == 40
    with store.connect() as c:
        rows = c.execute(sa.select(candidates.c.key, candidates.c.theme, candidates.c.week)).fetchall()
    by_key = {r.key: r for r in rows}
    assert all(by_key[f"k{n}"].theme for n in range(40))
    assert by_key["other-week"].theme is None
    labels = {t["label"] for t in result}
    assert {r.theme for r in rows if r.week == "2026-W13"} <= labels
