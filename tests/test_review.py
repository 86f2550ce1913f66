"""The review library: accounts, throttling, the queue, decisions → labels and state."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from pipeline import review
from pipeline.store import candidate_evidence, candidates, decisions, users
from test_weekly import WEEK, fill_store, press_seed  # noqa: F401 - fixture


@pytest.fixture
def filled(store, press_seed, seed_labels):
    return store, fill_store(store, press_seed, seed_labels)


def _decisions(store, cid=None):
    q = sa.select(decisions).order_by(decisions.c.id)
    if cid is not None:
        q = q.where(decisions.c.candidate_id == cid)
    with store.connect() as c:
        return [dict(r) for r in c.execute(q).mappings()]


def _evidence(store, cid):
    with store.connect() as c:
        return sorted(r[0] for r in c.execute(sa.select(candidate_evidence.c.article_id)
                                              .where(candidate_evidence.c.candidate_id == cid)))


def _cand(store, cid):
    with store.connect() as c:
        return dict(c.execute(sa.select(candidates).where(candidates.c.id == cid)).mappings().first())


# -- accounts -------------------------------------------------------------------

def test_users_argon2_and_authenticate(store):
    uid = review.add_user(store, "lan", "staff", "mật khẩu dài")
    with store.connect() as c:
        h = c.execute(sa.select(users.c.pw_hash).where(users.c.id == uid)).scalar()
    assert h.startswith("$argon2id$") and "mật khẩu" not in h
    assert review.authenticate(store, "lan", "mật khẩu dài") == {"id": uid, "name": "lan", "role": "staff"}
    assert review.authenticate(store, "lan", "sai") is None
    assert review.authenticate(store, "khong-co", "mật khẩu dài") is None
    with pytest.raises(ValueError):
        review.add_user(store, "lan", "staff", "khác nữa 123")  # exists
    with pytest.raises(ValueError):
        review.add_user(store, "minh", "boss", "12345678")
    with pytest.raises(ValueError):
        review.add_user(store, "minh", "staff", "short")
    with pytest.raises(ValueError):
        review.add_user(store, "có dấu cách", "staff", "12345678")
    review.update_user(store, "lan", disabled=True)
    assert review.authenticate(store, "lan", "mật khẩu dài") is None
    review.update_user(store, "lan", disabled=False, role="analyst", password="mật khẩu mới!")
    assert review.authenticate(store, "lan", "mật khẩu mới!")["role"] == "analyst"
    assert review.has_role("admin", "analyst") and review.has_role("analyst", "staff")
    assert not review.has_role("staff", "analyst") and not review.has_role(None, "staff")


def test_login_limiter_slows_after_five_failures():
    now = [1000.0]
    lim = review.LoginLimiter(free=5, base=2.0, cap=60, clock=lambda: now[0])
    for _ in range(5):
        assert lim.wait("user:lan", "ip:1") == 0
        lim.failed("user:lan", "ip:1")
    assert lim.wait("user:lan") == pytest.approx(2.0)
    assert lim.wait("ip:1") > 0 and lim.wait("ip:2") == 0
    now[0] += 2.1
    assert lim.wait("user:lan") == 0
    lim.failed("user:lan")  # the sixth failure doubles the wait
    assert lim.wait("user:lan") == pytest.approx(4.0)
    for _ in range(20):
        lim.failed("user:lan")
    assert lim.wait("user:lan") <= 60
    lim.succeeded("user:lan")
    assert lim.wait("user:lan") == 0


# -- the queue -------------------------------------------------------------------

def test_queue_order_filters_pages(filled):
    store, ids = filled
    q = review.queue(store, WEEK, per_page=5)
    assert q["total"] == 12 and q["pages"] == 3 and len(q["items"]) == 5
    scores = [x["score"] for x in q["items"]]
    assert scores == sorted(scores, reverse=True)
    assert sum(q["fields"].values()) == 12
    page3 = review.queue(store, WEEK, per_page=5, page=3)
    assert len(page3["items"]) == 2
    # the first candidate carries its three evidence items (two outlets and a report)
    first = next(x for x in review.queue(store, WEEK, per_page=50)["items"] if x["id"] == ids[0])
    assert len(first["evidence"]) == 3 and first["exemplars"][0]["name"]
    # most uncertain first: closest to the threshold
    unc = review.queue(store, WEEK, order="uncertain", per_page=50, threshold=0.8)["items"]
    d = [abs(x["score"] - 0.8) for x in unc]
    assert d == sorted(d)
    # a field filter and its count agree
    fld, n = max(q["fields"].items(), key=lambda kv: kv[1])
    qf = review.queue(store, WEEK, field=fld, per_page=50)
    assert qf["total"] == n and all(x["field"] == fld for x in qf["items"])
    # status filters
    review.decide(store, ids[0], "lan", "accept")
    assert [x["id"] for x in review.queue(store, WEEK, status="accepted")["items"]] == [ids[0]]
    assert review.queue(store, WEEK)["total"] == 11
    with pytest.raises(review.ReviewError):
        review.queue(store, WEEK, order="drop table")


def test_queue_search_is_plain_text(filled):
    store, ids = filled
    name = review.queue(store, WEEK, per_page=50)["items"][3]["name"]
    hits = review.queue(store, WEEK, q=name[:8], per_page=50)["items"]
    assert any(x["name"] == name for x in hits)
    for evil in ("%", "_", "' OR '1'='1", "\"; DROP TABLE candidates; --", "\\", "%_%"):
        assert review.queue(store, WEEK, q=evil)["total"] == 0
    assert review.queue(store, WEEK)["total"] == 12  # nothing dropped


def test_highlight():
    text = "Mở đầu. Anh Nam lao xuống sông cứu hai em nhỏ. Kết thúc."
    assert review.highlight(text, "Anh Nam lao xuống sông cứu hai em nhỏ.") == [
        ("Mở đầu. ", False), ("Anh Nam lao xuống sông cứu hai em nhỏ.", True), (" Kết thúc.", False)]
    assert review.highlight(text, "không có") == [(text, False)]


# -- decisions ---------------------------------------------------------------------

def test_accept_writes_one_labelled_row_per_evidence_article(filled):
    store, ids = filled
    cid = ids[0]
    res = review.decide(store, cid, "lan", "accept", note="đã xác minh")
    rows = _decisions(store, cid)
    assert len(rows) == 3 == len(res["decisions"])
    assert sorted(r["article_id"] for r in rows) == _evidence(store, cid)
    cand = _cand(store, cid)
    for r in rows:
        assert r["label"] == 2 and r["user"] == "lan" and r["action"] == "accept" and r["at"]
        assert r["field"] == cand["field"] and r["deed"] == cand["deed"] and r["note"] == "đã xác minh"
    assert cand["status"] == "accepted"
    assert review.label_counts(store)["by_label"][2] == 3


@pytest.mark.parametrize("code,label", [("not-a-deed", 0), ("charity-appeal", 0), ("not-focus", 1),
                                        ("routine-duty", 1), ("already-commended", 2), ("outside-area", 2),
                                        ("duplicate", 2)])
def test_reject_reason_codes_map_to_labels(filled, code, label):
    store, ids = filled
    review.decide(store, ids[1], "minh", "reject", reason_code=code)
    rows = _decisions(store, ids[1])
    assert rows and all(r["label"] == label and r["reason_code"] == code for r in rows)
    assert _cand(store, ids[1])["status"] == "rejected"


def test_reject_needs_a_reason_and_other_carries_no_label(filled):
    store, ids = filled
    with pytest.raises(review.ReviewError):
        review.decide(store, ids[1], "minh", "reject")
    with pytest.raises(review.ReviewError):
        review.decide(store, ids[1], "minh", "reject", reason_code="other")  # needs a note
    review.decide(store, ids[1], "minh", "reject", reason_code="other", note="người này đã mất liên lạc")
    assert all(r["label"] is None for r in _decisions(store, ids[1]))
    review.decide(store, ids[2], "minh", "unsure", reason_code="need-verify")
    assert all(r["label"] is None for r in _decisions(store, ids[2]))
    assert _cand(store, ids[2])["status"] == "unsure"
    with pytest.raises(review.ReviewError):
        review.decide(store, ids[2], "minh", "approve")


def test_decisions_are_append_only(filled):
    store, ids = filled
    review.decide(store, ids[0], "lan", "accept")
    before = _decisions(store)
    review.decide(store, ids[0], "minh", "reject", reason_code="outside-area")
    review.decide(store, ids[0], "lan", "accept")
    after = _decisions(store)
    assert after[:len(before)] == before  # nothing rewritten
    assert len(after) == 3 * len(before)
    h = review.history(store, ids[0])
    assert [x["action"] for x in h] == ["accept", "reject", "accept"]
    assert all(len(x["articles"]) == 3 for x in h)


def test_rename_reclassify_and_replay(filled):
    store, ids = filled
    cid = ids[4]
    review.rename(store, cid, "lan", "  Nguyễn   Văn Nam ")
    cand = _cand(store, cid)
    assert cand["name"] == "Nguyễn Văn Nam" and json.loads(cand["exemplars"])[0]["name"] == "Nguyễn Văn Nam"
    before = _cand(store, cid)
    review.reclassify(store, cid, "lan", field="cong-dong", deed="cuu-nguoi")
    cand = _cand(store, cid)
    changed = {k for k in ("field", "deed") if before[k] != cand[k]}
    # one action per changed column, as candidates.build_candidates reads them
    assert {r["action"] for r in _decisions(store, cid) if r["action"] in ("field", "deed")} == changed
    assert (cand["field"], cand["deed"]) == ("cong-dong", "cuu-nguoi")
    rows = [r for r in _decisions(store, cid) if r["action"] in ("field", "deed")]
    assert rows and all(r["field"] == "cong-dong" and r["label"] is None for r in rows)  # not accepted yet
    review.decide(store, cid, "lan", "accept")
    acc = [r for r in _decisions(store, cid) if r["action"] == "accept"]
    assert all(r["field"] == "cong-dong" and r["deed"] == "cuu-nguoi" for r in acc)
    with pytest.raises(review.ReviewError):
        review.reclassify(store, cid, "lan", field="vu-tru")
    with pytest.raises(review.ReviewError):
        review.rename(store, cid, "lan", "   ")
    st = review.replay_state(store, cid)
    cand = _cand(store, cid)
    assert {k: cand[k] for k in ("status", "stage", "name", "field", "deed", "merged_into")} == st


def test_merge_and_split(filled):
    store, ids = filled
    a, b = ids[0], ids[5]
    ev_a, ev_b = _evidence(store, a), _evidence(store, b)
    review.merge(store, b, a, "lan", note="cùng một người")
    assert _cand(store, b)["status"] == "merged" and _cand(store, b)["merged_into"] == a
    assert _evidence(store, a) == sorted(ev_a + ev_b)
    names = [e["name"] for e in json.loads(_cand(store, a)["exemplars"])]
    assert len(names) == len(set(names)) >= 2
    with pytest.raises(review.ReviewError):
        review.decide(store, b, "lan", "accept")  # merged away
    with pytest.raises(review.ReviewError):
        review.merge(store, a, a, "lan")
    assert review.replay_state(store, b)["status"] == "merged"
    # split the merged-in article back out
    new = review.split(store, a, ev_b, "lan", name="Người thứ hai")
    assert _evidence(store, new) == ev_b and _evidence(store, a) == ev_a
    nc = _cand(store, new)
    assert nc["status"] == "new" and nc["name"] == "Người thứ hai" and nc["week"] == WEEK
    with pytest.raises(review.ReviewError):
        review.split(store, a, _evidence(store, a), "lan")  # cannot take everything
    with pytest.raises(review.ReviewError):
        review.split(store, a, [999999], "lan")
    acts = [r["action"] for r in _decisions(store, a)]
    assert acts == ["merge", "split"]


def test_lifecycle_steps_with_notes_and_dates(filled):
    store, ids = filled
    cid = ids[0]
    with pytest.raises(review.ReviewError):
        review.set_stage(store, cid, "lan", "boi-duong")  # not accepted yet
    review.decide(store, cid, "lan", "accept")
    review.set_stage(store, cid, "lan", "boi-duong", note="Gặp gỡ, tặng giấy khen của phường", date="2026-12-02")
    review.set_stage(store, cid, "lan", "boi-duong", note="Đã xác minh với UBND phường")
    review.set_stage(store, cid, "minh", "tong-ket", date="2026-12-20")
    with pytest.raises(review.ReviewError):
        review.set_stage(store, cid, "lan", "nhan-rong", date="20/12/2026")
    with pytest.raises(review.ReviewError):
        review.set_stage(store, cid, "lan", "lam-xong")
    log = review.stage_log(store, cid)
    assert [(s["stage"], s["action"]) for s in log] == [("boi-duong", "stage"), ("boi-duong", "note"), ("tong-ket", "stage")]
    assert log[0]["date"] == "2026-12-02" and log[0]["note"].startswith("Gặp gỡ")
    lc = review.lifecycle(store, "tong-ket")
    assert lc["counts"] == {"phat-hien": 0, "boi-duong": 0, "tong-ket": 1, "nhan-rong": 0}
    assert [x["id"] for x in lc["items"]] == [cid] and len(lc["items"][0]["stage_log"]) == 3
    assert review.replay_state(store, cid)["stage"] == "tong-ket"


def test_label_article_and_counts(filled):
    store, ids = filled
    aid = _evidence(store, ids[2])[0]
    review.label_article(store, "an", aid, 1, field="xa-hoi", deed="tu-thien", candidate_id=ids[2])
    review.label_article(store, "an", aid, 0)
    with pytest.raises(review.ReviewError):
        review.label_article(store, "an", aid, 3)
    with pytest.raises(review.ReviewError):
        review.label_article(store, "an", 10 ** 9, 2)
    c = review.label_counts(store)
    assert c["articles"] == 1 and c["by_label"][0] == 1  # the latest label per article counts
    last = _decisions(store)[-1]
    assert last["label"] == 0 and last["field"] is None


def test_decision_labels_reach_training(filled):
    """The classifier's train.py reads decisions (label not NULL, latest per article)."""
    train = pytest.importorskip("pipeline.train")
    merge = getattr(train, "_merge_decisions", None)
    if merge is None:
        pytest.skip("pipeline.train has no _merge_decisions in this version")
    store, ids = filled
    review.decide(store, ids[0], "lan", "accept")  # 3 articles, label 2
    review.decide(store, ids[1], "lan", "reject", reason_code="not-a-deed")  # label 0
    review.decide(store, ids[2], "lan", "reject", reason_code="other", note="không liên lạc được")  # no label
    recs = merge([], store)
    labels = sorted(r["label"] for r in recs)
    assert labels == [0, 2, 2, 2]
    acc = [r for r in recs if r["label"] == 2]
    cand = review.candidate_detail(store, ids[0])
    assert all(r["field"] == cand["field"] and r["deed"] == cand["deed"] for r in acc)
