"""The exemplar selector: the scikit-learn contract, the bundled model and its card, training on
real labels, versions (train, list, show, promote, rollback)."""
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
    from pipeline.exemplar_select import BUNDLED_DIR
    sel = load_selector(BUNDLED_DIR)
    card = selector_card(BUNDLED_DIR)
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


@pytest.fixture(scope="module")
def small_real(corpora):
    """A small slice of the team's real label-2 items (train 70, dev 25) and of the seed (20)."""
    from pipeline.exemplar_eval import seed_items, team_items
    team = team_items()
    return team[:70], team[70:95], seed_items()[:20]


def test_training_on_real_labels_gives_a_selector_whose_card_tells_its_scores(small_real):
    from pipeline.exemplar_eval import score_names
    from pipeline.exemplar_select import THRESHOLDS, train_selector
    from pipeline.nlp import exemplars

    train, dev, seed = small_real
    sel, card = train_selector(train, dev, {"seed": seed})
    assert card["threshold"] in THRESHOLDS and sel.threshold == card["threshold"]
    assert card["trained_on"]["articles"] == 70 and 0 < card["trained_on"]["exemplars"] < card["trained_on"]["candidates"]
    assert set(card["names_one_gold_per_person"]) == {"dev", "seed"}
    # the card's figures are what exemplars() gives at run time with that selector
    for name, pairs in (("dev", dev), ("seed", seed)):
        live = score_names(pairs, lambda a: [e["name"] for e in exemplars(a.get("title", ""), a.get("text", ""),
                                                                            a.get("lead", ""), selector=sel)])
        got = card["names_one_gold_per_person"][name]["selector"]
        assert (got["predicted"], got["gold"]) == (live["predicted"], live["gold"]), name
        assert got["f1"] == round(live["f1"], 3), name
    with pytest.raises(ValueError, match="not enough"):
        train_selector([(dict(lab, exemplars=[]), art) for lab, art in train[:5]], dev[:3])


def test_versions_train_promote_show_and_roll_back_through_the_cli(small_real, tmp_path, monkeypatch):
    import json

    from click.testing import CliRunner

    import pipeline.exemplar_eval as ev
    from pipeline.cli import main
    from pipeline.exemplar_select import BUNDLED_DIR, active_selector_dir

    train, dev, seed = small_real
    monkeypatch.setattr(ev, "team_items", lambda: sorted(train + dev, key=lambda p: p[0]["id"]))
    monkeypatch.setattr(ev, "seed_items", lambda: seed)
    monkeypatch.setattr(ev, "CHECK_N", 12)
    monkeypatch.setattr(ev, "DEV_N", 12)
    models = tmp_path / "models"
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'db = "sqlite:///{tmp_path / "s.db"}"\nmodels_dir = "{models}"\n', encoding="utf-8")
    run = lambda *a: CliRunner().invoke(main, ["--config", str(cfg), "models", "exemplars", *a])  # noqa: E731

    assert "(nothing)" in run("list").output
    assert active_selector_dir(models) == BUNDLED_DIR
    extra = tmp_path / "mine.jsonl"  # an analyst's own labels: read, and never a held-out item
    extra.write_text("".join(json.dumps(lab, ensure_ascii=False) + "\n" for lab, _ in seed[:3]), encoding="utf-8")
    res = run("train", "--labels", str(extra))
    assert res.exit_code == 0, res.output
    assert "selector P/R/F1" in res.output and "in_use P/R/F1" in res.output and "seed" in res.output
    (v1,) = [p.name for p in (models / "exemplars").iterdir() if p.is_dir()]
    card = json.loads(run("show", v1).output)
    assert card["version"] == v1 and card["trained_on"]["label_files"] == [str(extra)]
    assert card["trained_on"]["articles"] == len(train) + len(dev) - 24  # the seed lines stay held out
    assert card["compared_with"] == {"in_use": "bundled"}
    assert active_selector_dir(models) == BUNDLED_DIR  # trained, not yet in use

    assert run("promote", v1).exit_code == 0
    assert active_selector_dir(models) == models / "exemplars" / v1
    assert json.loads(run("show").output)["version"] == v1
    listed = run("list").output
    assert v1 in listed and "True" in listed
    assert run("promote", "nope").exit_code == 4
    res = run("rollback")
    assert res.exit_code == 0 and "bundled" in res.output
    assert active_selector_dir(models) == BUNDLED_DIR
    assert run("rollback").exit_code == 4  # nothing left to roll back
    assert run("train", "--promote", "--out", str(tmp_path / "x")).exit_code == 2


def test_exemplars_of_many_articles_at_once_are_those_of_each_and_one_bad_text_does_not_stop_them(
        small_real, monkeypatch):
    import pipeline.nlp as nlp

    arts = [a for _, a in small_real[1][:12]]
    one_by_one = [nlp.exemplars(a.get("title", ""), a.get("text", ""), a.get("lead", "")) for a in arts]
    batch = [(a.get("title", ""), a.get("text", ""), a.get("lead", ""), None) for a in arts]
    assert nlp.exemplars_many(batch) == one_by_one
    assert sum(map(len, one_by_one)) >= 12
    real = nlp.exemplar_candidates

    def odd(title, text, lead="", **kw):
        if title == arts[3].get("title", ""):
            raise RuntimeError("odd text")
        return real(title, text, lead, **kw)
    monkeypatch.setattr(nlp, "exemplar_candidates", odd)
    errors = []
    got = nlp.exemplars_many(batch, on_error=lambda k, e: errors.append((k, str(e))))
    assert errors == [(3, "odd text")] and got[3] == []
    assert got[:3] + got[4:] == one_by_one[:3] + one_by_one[4:]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_scoring_names_people_with_the_selector_promoted_in_the_configured_models_dir(corpora, tmp_path, jobs):
    import copy
    import json

    from click.testing import CliRunner

    from pipeline.cli import main
    from pipeline.exemplar_eval import seed_items
    from pipeline.exemplar_select import BUNDLED_DIR, save_selector

    strict = copy.deepcopy(load_selector(BUNDLED_DIR))
    strict.threshold = 1.5  # keeps no one: which selector named the people shows in the output
    save_selector(strict, {"version": "none-kept"}, tmp_path / "models" / "exemplars" / "none-kept")
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'db = "sqlite:///{tmp_path / "s.db"}"\nmodels_dir = "{tmp_path / "models"}"\n', encoding="utf-8")
    arts = [a for _, a in seed_items()[:6]]
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({k: a.get(k, "") for k in ("id", "title", "lead", "text")}, ensure_ascii=False)
                           + "\n" for a in arts), encoding="utf-8")

    def names() -> list[list[str]]:
        out = tmp_path / "out.jsonl"
        res = CliRunner().invoke(main, ["--config", str(cfg), "-q", "score", str(src), "-o", str(out), "-j", jobs,
                                        "--stage1-only"])
        assert res.exit_code == 0, res.output
        return [json.loads(line)["exemplars"] for line in out.read_text(encoding="utf-8").splitlines()]

    assert any(names())  # the bundled selector names people in these label-2 stories
    assert CliRunner().invoke(main, ["--config", str(cfg), "models", "exemplars", "promote", "none-kept"]).exit_code == 0
    assert not any(names())  # the promoted one, in the worker processes too
    assert CliRunner().invoke(main, ["--config", str(cfg), "models", "exemplars", "rollback"]).exit_code == 0
    assert any(names())
