"""``nguoitot evaluate --labels FILE`` (pipeline.evaluate.evaluate): exemplar names are counted as
pipeline.exemplar_eval counts them everywhere else."""
from __future__ import annotations

import json


def test_evaluate_counts_exemplar_names_as_the_gate_does(corpora, tmp_path):
    from pipeline.classify import _exemplars_of, load_model
    from pipeline.config import BUNDLED_MODEL_DIR
    from pipeline.evaluate import evaluate
    from pipeline.exemplar_eval import one_per_person, score_names
    from pipeline.train import load_training_data

    rows = [json.loads(line) for line in (corpora / "labels" / "seed.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    pick = [r for r in rows if r["label"] == 2 and r.get("exemplars")][:25] + [r for r in rows if r["label"] == 0][:15]
    f = tmp_path / "labels.jsonl"
    f.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in pick), encoding="utf-8")
    recs = load_training_data([f], corpora / "press.jsonl.gz")
    m = evaluate(load_model(BUNDLED_MODEL_DIR, rerank=False), recs, tmp_path / "out", n_boot=20, printer=None)
    assert m["exemplar_items"] == 25
    pairs = [(r, r) for r in recs if r["label"] == 2]
    found = _exemplars_of([r for r, _ in pairs], [2] * len(pairs))
    names = {r["id"]: [e["name"] for e in f] for (r, _), f in zip(pairs, found)}
    ref = score_names(pairs, lambda r: names[r["id"]])
    assert (m["exemplar_precision"], m["exemplar_recall"]) == (ref["precision"], ref["recall"])
    # one gold name per person: a reader's "A, B (…)" is two gold names
    assert ref["gold"] == sum(len(one_per_person(r["exemplars"])) for r, _ in pairs)
    assert 0.3 < m["exemplar_recall"] <= 1 and (tmp_path / "out" / "pr_curve.png").is_file()


def test_one_gold_name_per_person_and_names_named_within_a_gold_exemplar():
    from pipeline.exemplar_eval import name_counts, named_within, one_per_person, score_names
    gold = ["Phạm Tiến Dũng, Ngô Việt Hải (trạm gác Hòn Đỏ)", "Đội CSGT số 4 Hà Nội (Thượng tá Lê Văn Hoan)",
            "xã Phú Lâm, Bến Tre"]
    # listed people are gold names of their own; a place after a comma is not
    assert one_per_person(gold) == [gold[0], "Ngô Việt Hải", gold[1], gold[2]]
    pred = ["Ngô Việt Hải", "Lê Văn Hoan", "Đội CSGT số 4", "Hoan Nguyễn"]
    assert name_counts(pred, one_per_person(gold)) == (2, 4, 2, 4)
    # the team's leader in its brackets is named within; a stray name, or one syllable, is not
    assert named_within("Lê Văn Hoan", gold) and not named_within("Hoan Nguyễn", gold)
    assert not named_within("Hoan", gold)
    m = score_names([({"id": "a", "exemplars": gold}, {"id": "a"})], lambda art: pred)
    assert (m["predicted"], m["gold"], m["named_within_gold"]) == (4, 4, 1)
    assert m["precision"] == 0.5 and m["recall"] == 0.5
