"""One candidate per hero and deed, on real articles from the shared corpora.

The stories: the student Nguyễn Lê Tú who ran into the Lĩnh Nam fire (Hà Nội, March 2026)
— his rescue, the minister's certificate of merit, the Youth Union badge, told by three
outlets, plus a unit-report row proposing him — and "anh Dung", who broke the tin roof in the
same fire (another exemplar); two returned mistaken transfers (190 vs 250 million, two
people); a young man's 5 billion returned, told twice; footballer Phạm Xuân Mạnh welcomed
home vs his charity auction (two deeds); SAR 413's two rescues (two events); one story
syndicated under two ids (same story_id).
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.candidates import (build_candidates, candidate_key, merge_groups, name_match,
                                 normalize_name, _name_keys)
from pipeline.embed import get_embedder
from pipeline.store import candidate_evidence, candidates, scores

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("eval_merge", ROOT / "benchmarks" / "eval_merge.py")
eval_merge = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(eval_merge)

FIELD_OF = {"cuu-nguoi": "cong-dong", "trung-thuc": "cong-dong", "tu-thien": "xa-hoi",
            "tan-tuy": "van-hoa-the-thao", "hien-mau-tang": "xa-hoi"}


@pytest.fixture(scope="module")
def gold():
    return eval_merge.load_gold()


@pytest.fixture(scope="module")
def texts(gold, corpora):
    return eval_merge.load_texts(gold, corpora)


@pytest.fixture(scope="module")
def tfidf():
    return get_embedder({"backend": "tfidf"})


def _gold(gold, why_prefix):
    [g] = [g for g in gold if g["why"].startswith(why_prefix)]
    return g


def _add(store, texts, side, *, week_date=None, story_id=None, uid=None, label=2):
    """One article + one scores row (the classifier's output stands in from the gold side)."""
    t = texts[(side["corpus"], side["id"])]
    aid, _ = store.upsert_article(dict(
        uid=uid or f"{side['corpus']}:{side['id']}", title=t["title"], lead=t["lead"], text="",
        published=t["date"] or week_date, outlet=side["corpus"]))
    with store.begin() as c:
        if story_id is not None:
            c.execute(sa.text("update articles set story_id=:s where id=:i"), dict(s=story_id, i=aid))
        c.execute(sa.insert(scores).values(
            article_id=aid, model_version="m1", content_hash="x", score=0.9, label=label,
            field=FIELD_OF.get(side["deed"], "khac"), field_conf=0.8, deed=side["deed"],
            exemplars=json.dumps([{"name": n} for n in side["names"]], ensure_ascii=False),
            reason=t["title"], place=json.dumps({"province": side.get("province") or ""}, ensure_ascii=False),
            scored="2026-03-30T00:00:00+07:00"))
    return aid


def _candidates_of(store):
    with store.connect() as c:
        rows = c.execute(sa.select(candidates)).mappings().all()
        ev = c.execute(sa.select(candidate_evidence)).fetchall()
    by = {r["id"]: dict(r) for r in rows}
    for r in by.values():
        r["articles"] = sorted(e.article_id for e in ev if e.candidate_id == r["id"])
    return by


def _holding(cands, aid):
    [c] = [c for c in cands.values() if aid in c["articles"]]
    return c


@pytest.fixture
def week_store(store, gold, texts):
    ids = {}
    g = _gold(gold, "student's fire rescue")
    ids["tu_rescue"] = _add(store, texts, g["a"])
    ids["tu_merit"] = _add(store, texts, g["b"])
    ids["dung"] = _add(store, texts, _gold(gold, "two heroes of the same Lĩnh Nam fire")["a"])
    g = _gold(gold, "190 million in Cà Mau")
    ids["camau"] = _add(store, texts, g["a"])
    ids["hien"] = _add(store, texts, g["b"])
    g = _gold(gold, "young man returns 5 billion")
    ids["cuong1"] = _add(store, texts, g["a"])
    ids["cuong2"] = _add(store, texts, g["b"])
    d = "2026-03-26T09:00:00+07:00"  # press items carry no date: put them in the same week
    g = _gold(gold, "Xuân Mạnh welcomed home")
    ids["manh_home"] = _add(store, texts, g["a"], week_date=d)
    ids["manh_charity"] = _add(store, texts, g["b"], week_date=d)
    g = _gold(gold, "SAR 413: Chinese sailor")
    ids["sar_a"] = _add(store, texts, g["a"], week_date=d)
    ids["sar_b"] = _add(store, texts, g["b"], week_date=d)
    g = [x for x in gold if x["kind"] == "syndicated" and x["a"]["id"] == "vietnews/train/077556"][0]
    ids["synd_a"] = _add(store, texts, g["a"], week_date=d, story_id=10_000)
    ids["synd_b"] = _add(store, texts, g["b"], week_date=d, story_id=10_000)
    # a unit report row proposing the student, as an inbox would give it
    aid, _ = store.upsert_article(dict(
        uid="report:test#1", kind="report", title="Đề nghị tặng Bằng khen cho sinh viên Nguyễn Lê Tú",
        text="Sinh viên Nguyễn Lê Tú, Đại học Bách khoa Hà Nội, đã dũng cảm lao vào đám cháy nhà 6 tầng "
             "ở phường Lĩnh Nam cứu người mắc kẹt.",
        published="2026-03-27T08:00:00+07:00",
        extra={"name": "Nguyễn Lê Tú", "unit": "Đại học Bách khoa Hà Nội", "place": {"province": "Hà Nội"}}))
    with store.begin() as c:
        c.execute(sa.insert(scores).values(article_id=aid, model_version="m1", content_hash="x", score=0.8,
                                           label=2, field="cong-dong", deed="cuu-nguoi", exemplars="[]",
                                           reason="", scored="2026-03-30T00:00:00+07:00"))
    ids["report"] = aid
    return store, ids


def test_one_candidate_per_hero_and_deed(week_store, tfidf):
    store, ids = week_store
    stats = build_candidates(store, None, model_version="m1", embedder=tfidf)
    assert stats["items"] == len(ids)
    cands = _candidates_of(store)
    tu = _holding(cands, ids["tu_rescue"])
    # rescue, certificate for it, and the unit's report row: one candidate
    assert {ids["tu_merit"], ids["report"]} <= set(tu["articles"])
    assert normalize_name(tu["name"]) == "nguyễn lê tú"
    assert tu["deed"] == "cuu-nguoi" and tu["field"] == "cong-dong"
    # another hero of the same fire stays apart
    assert ids["dung"] not in tu["articles"]
    # two different people returning two different sums
    assert _holding(cands, ids["camau"])["id"] != _holding(cands, ids["hien"])["id"]
    # the same young man told twice
    assert _holding(cands, ids["cuong1"])["id"] == _holding(cands, ids["cuong2"])["id"]
    # the same person's two deeds, the same unit's two rescues: two candidates each
    assert _holding(cands, ids["manh_home"])["id"] != _holding(cands, ids["manh_charity"])["id"]
    assert _holding(cands, ids["sar_a"])["id"] != _holding(cands, ids["sar_b"])["id"]
    # syndicated copies (same story_id)
    assert _holding(cands, ids["synd_a"])["id"] == _holding(cands, ids["synd_b"])["id"]
    # every article is evidence of exactly one candidate, and each week's candidates have a theme
    with store.connect() as c:
        per_article = c.execute(sa.text(
            "select article_id, count(*) from candidate_evidence group by article_id")).fetchall()
    assert len(per_article) == len(ids) and all(n == 1 for _, n in per_article)
    assert all(c["theme"] for c in cands.values())


def test_idempotent_incremental_and_reviewer_edits_kept(week_store, gold, texts, tfidf):
    store, ids = week_store
    build_candidates(store, None, model_version="m1", embedder=tfidf)
    before = _candidates_of(store)
    again = build_candidates(store, None, model_version="m1", embedder=tfidf)
    assert again["created"] == 0 and again["evidence_added"] == 0
    assert _candidates_of(store).keys() == before.keys()

    # a reviewer accepts the student's candidate and moves it to another field
    tu = _holding(before, ids["tu_rescue"])
    with store.begin() as c:
        c.execute(sa.update(candidates).where(candidates.c.id == tu["id"])
                  .values(status="accepted", field="giao-duc", stage="boi-duong"))
    store.add_decision("reviewer", "field", candidate_id=tu["id"], field="giao-duc")
    # then the Youth Union badge story arrives
    badge = _add(store, texts, _gold(gold, "Youth Union badge")["a"])
    stats = build_candidates(store, None, model_version="m1", embedder=tfidf)
    assert stats["created"] == 0 and stats["evidence_added"] == 1
    after = _candidates_of(store)
    tu2 = after[tu["id"]]
    assert badge in tu2["articles"]
    assert (tu2["status"], tu2["field"], tu2["stage"]) == ("accepted", "giao-duc", "boi-duong")
    assert len(after) == len(before)


def test_gold_pairs_precision_recall(gold, texts, tfidf):
    """The hand-checked pairs (tests/golden/merge_pairs.jsonl), all items in one pool."""
    items, pairs = eval_merge.gold_items(gold, texts)
    r = eval_merge.evaluate(items, pairs, tfidf)
    assert len(pairs) >= 60
    assert r["pool"]["precision"] >= 0.9, r
    assert r["pool"]["recall"] >= 0.85, r
    assert r["pair"]["precision"] >= 0.9 and r["pair"]["recall"] >= 0.85, r


def test_default_embedder_on_gold_pairs(gold, texts):
    emb = get_embedder()
    items, pairs = eval_merge.gold_items(gold, texts)
    r = eval_merge.evaluate(items, pairs, emb)
    assert r["pool"]["precision"] >= 0.85 and r["pool"]["recall"] >= 0.8, r


def test_names():
    assert normalize_name("Thượng úy Nguyễn Văn A (Công an phường X)") == "nguyễn văn a"
    assert normalize_name("anh Hoàng Quốc Cường, 25 tuổi") == "hoàng quốc cường"
    k = lambda *n: _name_keys(n)
    assert name_match(k("Chiến sĩ Kpă Thiệp"), k("Hạ sĩ Kpă Thiêp, 20 tuổi")) == 3
    assert name_match(k("anh Huấn"), k("anh Nguyễn Văn Huấn")) == 1
    assert name_match(k("Nguyễn Văn Hoan"), k("Vũ Văn Hùng")) == 0


def test_merge_groups_pure_and_keys(gold, texts):
    g = _gold(gold, "student's fire rescue")
    items = [{"names": s["names"], "deed": s["deed"], "place": {"province": s["province"]},
              "date": texts[(s["corpus"], s["id"])]["date"],
              "text": "{title}. {lead}".format(**texts[(s["corpus"], s["id"])])} for s in (g["a"], g["b"])]
    other = dict(items[0], deed="tu-thien")
    assert merge_groups(items) == [[0, 1]]
    assert merge_groups([items[0], other]) == [[0], [1]]
    assert merge_groups([]) == []
    k1 = candidate_key("Sinh viên Nguyễn Lê Tú", "cuu-nguoi", "rss:1")
    assert k1 == candidate_key("Nguyễn Lê Tú", "cuu-nguoi", "rss:1")
    assert k1 != candidate_key("Nguyễn Lê Tú", "tu-thien", "rss:1")
    assert k1.startswith("cuu-nguoi:nguyen-le-tu:")
