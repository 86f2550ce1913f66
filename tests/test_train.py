"""Training data, grouped folds, natural-rate weights, thresholds and the versioned model folder."""
from __future__ import annotations

import json

import numpy as np
import pytest

from pipeline.classify import Model
from pipeline.labeling import PRESS_POPULATION, load_design
from pipeline.train import (TEAM_FIELD_WEIGHT, cell_populations, cells_of, choose_thresholds, cv_folds,
                            default_label_paths, evaluate_scores, field_sample_weights, groups_of,
                            load_training_data, natural_weights, train)


@pytest.fixture(scope="module")
def seed_records(corpora):
    return load_training_data([corpora / "labels" / "seed.jsonl"], corpora / "press.jsonl.gz")


def test_seed_labels_join_the_press(seed_records, seed_labels):
    assert len(seed_records) == len(seed_labels)
    assert sum(r["label"] == 2 for r in seed_records) == sum(s["label"] == 2 for s in seed_labels)
    assert all(r["title"] or r["text"] for r in seed_records)


def test_decisions_become_labels_and_override_files(corpora, seed_labels, press_by_id, store):
    seeded = seed_labels[0]
    art = press_by_id[seeded["id"]]
    # the reviewer re-judges a seed article, and labels a new one
    a1, _ = store.upsert_article({"uid": "https://example.vn/a1", "title": art["title"], "lead": art["lead"],
                                  "text": art["text"]})
    new = next(r for i, r in press_by_id.items() if i not in {s["id"] for s in seed_labels})
    a2, _ = store.upsert_article({"uid": "https://example.vn/a2", "title": new["title"], "lead": new["lead"],
                                  "text": new["text"]})
    flipped = 2 if seeded["label"] != 2 else 0
    store.add_decision("reviewer", "label", article_id=a1, label=flipped, field="cong-dong", deed="khac")
    store.add_decision("reviewer", "accept", article_id=a2, label=1, field="xa-hoi", deed="tu-thien")
    store.add_decision("reviewer", "accept", article_id=a2, label=2, field="xa-hoi", deed="tu-thien")  # later wins
    store.add_decision("reviewer", "rename", article_id=a2, label=None)  # no label: ignored
    recs = load_training_data([corpora / "labels" / "seed.jsonl"], corpora / "press.jsonl.gz", store=store)
    assert len(recs) == len(seed_labels) + 1
    by_id = {r["id"]: r for r in recs}
    assert by_id[seeded["id"]]["label"] == flipped and by_id[seeded["id"]]["source"] == "decisions"
    added = by_id["store:https://example.vn/a2"]
    assert added["label"] == 2 and added["field"] == "xa-hoi" and added["stratum"] == "review"


def test_field_weights_favour_the_guide_over_the_team(corpora, seed_labels, press_by_id, store):
    """The field and deed models weigh the team's label files below the guide's seed labels;
    reviewer decisions (the office's own word) weigh fully, even on an article the team labelled."""
    assert 0 < TEAM_FIELD_WEIGHT < 1
    paths = default_label_paths()
    team_paths = [p for p in paths if p.name.startswith("team")]
    assert team_paths, "the team's label files are read by default"
    team_id = json.loads(team_paths[-1].read_text(encoding="utf-8").splitlines()[0])["id"]
    recs = load_training_data(paths, corpora / "press.jsonl.gz")
    w = field_sample_weights(recs)
    by_source = {}
    for r, v in zip(recs, w):
        by_source.setdefault(r["source"], set()).add(float(v))
    assert by_source["seed.jsonl"] == {1.0}
    assert all(by_source[p.name] == {TEAM_FIELD_WEIGHT} for p in team_paths if p.name in by_source)
    art = press_by_id[team_id]
    aid, _ = store.upsert_article({"uid": "https://example.vn/t1", "title": art["title"], "lead": art["lead"],
                                   "text": art["text"]})
    store.add_decision("reviewer", "label", article_id=aid, label=2, field="cong-dong", deed="cuu-nguoi")
    recs = load_training_data(paths, corpora / "press.jsonl.gz", store=store)
    (rec,) = [r for r in recs if r["id"] == team_id]
    assert rec["source"] == "decisions" and field_sample_weights([rec])[0] == 1.0


def test_duplicate_texts_never_straddle_folds(seed_records, press_by_id):
    # add real duplicate copies of labelled articles from the press (same text, other ids)
    by_text: dict[str, list[str]] = {}
    for i, r in press_by_id.items():
        if len(r["text"]) > 300:
            by_text.setdefault(r["text"], []).append(i)
    labelled = {r["id"] for r in seed_records}
    extra = []
    for ids in by_text.values():
        if len(ids) > 1 and any(i in labelled for i in ids):
            lab = next(r for r in seed_records if r["id"] in ids)
            extra += [{**press_by_id[i], **{k: lab[k] for k in ("label", "field", "deed", "stratum")}}
                      for i in ids if i not in labelled]
    assert extra, "the press has duplicate copies of seed articles"
    recs = seed_records + extra
    g = groups_of(recs)
    for tr, te in cv_folds(recs, 5, 0):
        assert not set(g[tr]) & set(g[te])


def test_natural_weights_sum_to_the_press(seed_records):
    w = natural_weights(seed_records)
    assert w.sum() == pytest.approx(sum(PRESS_POPULATION.values()))
    cells = cells_of(seed_records)
    y = np.asarray([r["label"] == 2 for r in seed_records])
    base = (w * y).sum() / w.sum()
    assert 0.01 < base < 0.05  # the natural stream has ~2-3% candidates, the seed set 12.7%
    assert set(cells) == {"vocabulary", "other:band-high", "other:band-mid", "other:band-low", "other:band-low-lf"}
    # without the design: the two cells of the vocabulary rule
    assert set(cells_of(seed_records, design=None)) == {"vocabulary", "other"}
    assert natural_weights(seed_records, design=None).sum() == pytest.approx(sum(PRESS_POPULATION.values()))


def test_labelling_design_bands_partition_the_other_cell():
    design = load_design()
    assert design is not None, "corpora/labels/design.json is missing (scripts/design_bands.py writes it)"
    bands = design["bands"]
    assert sum(b["size"] for b in bands.values()) == PRESS_POPULATION["other"] == design["cell_size"]
    sets = design["id_sets"]
    for band, ids in sets.items():  # every band but band-low (the rest) keeps its ids
        assert len(ids) == bands[band]["size"], band
    assert set(sets) | {"band-low"} == set(bands)
    names = sorted(sets)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            assert not sets[a] & sets[b], (a, b)


def test_band_and_census_weights():
    design = load_design()
    high = sorted(design["id_sets"]["band-high"])
    recs = [{"id": high[0], "stratum": "band-high", "title": "a", "lead": "", "text": "", "label": 0},
            {"id": high[1], "stratum": "band-high", "title": "b", "lead": "", "text": "", "label": 2},
            {"id": high[2], "stratum": "hard-novocab", "title": "c", "lead": "", "text": "", "label": 2},
            {"id": "x-not-in-a-band", "stratum": "random", "title": "d", "lead": "", "text": "", "label": 0},
            {"id": "y", "stratum": "active", "title": "e", "lead": "", "text": "", "label": 2}]
    cells = list(cells_of(recs))
    assert cells == ["other:band-high", "other:band-high", "census", "other:band-low", ""]
    w = natural_weights(recs)
    # band-high holds 1,000 articles, one of them in the census: 999 / 2 each; the census counts once
    assert w[0] == w[1] == pytest.approx((design["bands"]["band-high"]["size"] - 1) / 2)
    assert w[2] == 1.0 and w[4] == 0.0
    assert w[3] == pytest.approx(design["bands"]["band-low"]["size"])
    # the cells present (band-high, census, band-low) sum to their press articles
    assert w.sum() == pytest.approx(design["bands"]["band-high"]["size"] + design["bands"]["band-low"]["size"])
    # every cell's weights sum to its press count (the cells cover the whole press)
    assert sum(cell_populations(recs).values()) == sum(PRESS_POPULATION.values())


def test_a_fully_labelled_band_is_a_census():
    """When every article of a band is labelled, all of them count once (weight 1), whatever
    stratum they were labelled under; an article sampled for the band by another rule leaves it."""
    design = {"bands": {"band-high": {"size": 3}, "band-low": {"size": 100}},
              "id_sets": {"band-high": frozenset({"a", "b", "c"})}}

    def rec(i, stratum, label=0):
        return {"id": i, "stratum": stratum, "title": i, "lead": "", "text": "", "label": label}

    partial = [rec("a", "band-high"), rec("b", "hard-novocab", 2), rec("d", "random")]
    assert list(cells_of(partial, design)) == ["other:band-high", "census", "other:band-low"]
    full = partial + [rec("c", "active", 2), rec("z", "band-high"), rec("c2", "review", 2)]
    assert list(cells_of(full, design)) == ["other:band-high", "other:band-high", "other:band-low",
                                            "other:band-high", "", ""]
    w = natural_weights(full, design=design)
    assert list(w) == [1.0, 1.0, 100.0, 1.0, 0.0, 0.0]
    # a reviewer decision never completes a cell
    not_full = partial + [rec("c", "review", 2)]
    assert list(cells_of(not_full, design)) == ["other:band-high", "census", "other:band-low", ""]


def test_threshold_rule():
    rng = np.random.default_rng(0)
    y = np.r_[np.ones(50), np.zeros(950)].astype(int)
    s = np.r_[rng.uniform(.4, 1, 50), rng.uniform(0, .6, 950)]
    th = choose_thresholds(y, s, np.ones(1000), target_precision=0.85)
    from pipeline.train import weighted_pr
    p, r = weighted_pr(y, s, np.ones(1000), th["label2"])
    assert p >= 0.85 and th["label1"] <= th["label2"]
    assert weighted_pr(y, s, np.ones(1000), th["label1"])[1] >= r


@pytest.mark.slow
def test_train_writes_a_versioned_model_and_is_reproducible(seed_records, tmp_path):
    # a small, stratified subset keeps this fast; the full run is `nguoitot train`
    pos = [r for r in seed_records if r["label"] >= 1][:120]
    neg = [r for r in seed_records if r["label"] == 0][:280]
    recs = pos + neg
    card = train(recs, tmp_path, cv_folds=3, n_boot=100, log=None)
    path = tmp_path / card["version"]
    assert (path / "model.joblib").is_file() and (path / "card.json").is_file()
    # the version names the data and the model: the same labels with another model get another name
    from pipeline.classify import make_label_pipeline
    from pipeline.train import model_key, training_key
    assert card["version"].endswith(training_key(card["data_hash"], make_label_pipeline())[:8])
    assert training_key(card["data_hash"], make_label_pipeline(kind="ordinal"))[:8] not in card["version"]
    # the field models and their weighting are part of the name too
    assert model_key("d", make_label_pipeline()) != model_key("d", make_label_pipeline(), settings={"w": 1})
    on_disk = json.loads((path / "card.json").read_text())
    # the card names the label model's own settings, not only the pipeline's plumbing
    assert on_disk["model"]["params"]["clf__C"] == repr(make_label_pipeline().get_params()["clf__C"])
    assert on_disk["model"]["field_weights"]["team label files"] < 1
    assert on_disk["label_counts"] == {"0": 280, "1": sum(r["label"] == 1 for r in pos),
                                       "2": sum(r["label"] == 2 for r in pos)}
    nat = on_disk["metrics"]["natural"]
    assert 0 < nat["pr_auc_ci"][0] <= nat["pr_auc"] <= nat["pr_auc_ci"][1] <= 1
    assert "keyword_lfs" in on_disk["compared_with"]
    m = Model.load(path)
    out = m.score(recs[:5])
    assert len(out) == 5 and m.version == card["version"]
    # same data, same seed -> same metrics and thresholds
    again = train(recs, tmp_path / "again", cv_folds=3, n_boot=100, log=None)
    assert again["metrics"] == card["metrics"] and again["thresholds"] == card["thresholds"]


def test_evaluate_scores_on_a_perfect_ranker(seed_records):
    y = np.asarray([r["label"] == 2 for r in seed_records], dtype=float)
    m = evaluate_scores(seed_records, y, 0.5, n_boot=50)
    assert m["natural"]["pr_auc"] == pytest.approx(1.0)
    assert m["natural"]["recall"] == 1.0 and m["natural"]["precision"] == 1.0


def test_paired_difference_of_two_rankers(seed_records):
    from pipeline.train import paired_pr_auc_difference
    y = np.asarray([r["label"] == 2 for r in seed_records], dtype=float)
    noise = np.random.default_rng(0).random(len(y))
    weak, strong = 0.3 * y + noise, y + 0.1 * noise
    same = paired_pr_auc_difference(seed_records, weak, weak, n_boot=100)
    assert same["difference"] == 0.0 and same["ci"] == [0.0, 0.0]
    d = paired_pr_auc_difference(seed_records, weak, strong, n_boot=100)
    assert 0 < d["ci"][0] <= d["difference"] <= d["ci"][1] <= 1
    assert paired_pr_auc_difference(seed_records, strong, weak, n_boot=100)["difference"] == -d["difference"]


def test_a_bad_line_in_a_label_file_is_named_and_the_rest_is_read(tmp_path, caplog):
    import logging

    f = tmp_path / "mine.jsonl"
    f.write_text('{"id": "a", "label": 2, "title": "Cứu người", "text": "Anh A cứu người.", "exemplars": ["A"]}\n'
                 '{"id": "b", "label": 0, "title": "x"\n'
                 '[1, 2]\n'
                 '{"id": "c", "label": 0, "title": "Giá vàng", "text": "Giá vàng tăng."}\n', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="pipeline.train"):
        recs = load_training_data([f], None)
    assert [r["id"] for r in recs] == ["a", "c"]
    assert f"{f}, line 2: not JSON" in caplog.text and f"{f}, line 3: not a JSON object" in caplog.text
