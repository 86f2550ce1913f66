"""The review desk over HTTP (FastAPI TestClient): login, queue, every action, lifecycle,
weekly downloads, nominations export, users, retraining."""
from __future__ import annotations

import io
import json
import re
import zipfile
from types import SimpleNamespace

import openpyxl
import pytest
import sqlalchemy as sa

pytest.importorskip("fastapi", reason="the review desk needs the web extra")
from fastapi.testclient import TestClient  # noqa: E402

from pipeline import review  # noqa: E402
from pipeline.config import Config  # noqa: E402
from pipeline.store import candidate_evidence, candidates, decisions  # noqa: E402
from test_weekly import WEEK, fill_store, press_seed  # noqa: E402,F401 - fixture

PASSWORD = "mật khẩu 2026"


@pytest.fixture
def fast_kdf(monkeypatch):
    """Cheaper argon2 parameters so that many logins stay quick (same algorithm)."""
    from argon2 import PasswordHasher
    monkeypatch.setattr(review, "_hasher", lambda: PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    monkeypatch.setattr(review, "_DUMMY_HASH", None)


@pytest.fixture
def desk(store, press_seed, seed_labels, tmp_path, fast_kdf):
    from pipeline.web.app import create_app
    ids = fill_store(store, press_seed, seed_labels)
    for name, role in (("staff1", "staff"), ("analyst1", "analyst"), ("admin1", "admin")):
        review.add_user(store, name, role, PASSWORD)
    now = [0.0]
    limiter = review.LoginLimiter(clock=lambda: now[0])
    trained = []
    app = create_app(store, Config(out_dir=str(tmp_path / "out"), sources=str(tmp_path / "none.toml")),
                     limiter=limiter, train_fn=lambda: trained.append(1) or {"version": "v-test"})
    return SimpleNamespace(store=store, ids=ids, app=app, clock=now, trained=trained)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def login(app, name: str, password: str = PASSWORD) -> tuple[TestClient, str]:
    c = TestClient(app)
    r = c.get("/login")
    r = c.post("/login", data={"csrf": csrf_of(r.text), "name": name, "password": password, "next": "/queue"})
    assert r.status_code == 200 and r.url.path == "/queue", r.text[:500]
    return c, csrf_of(r.text)


def _cand(store, cid):
    with store.connect() as c:
        return dict(c.execute(sa.select(candidates).where(candidates.c.id == cid)).mappings().first())


def test_login_required_then_queue(desk):
    c = TestClient(desk.app)
    r = c.get("/queue?week=" + WEEK, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=%2Fqueue")
    r = c.get(r.headers["location"])
    assert "Đăng nhập" in r.text
    r = c.post("/login", data={"csrf": csrf_of(r.text), "name": "staff1", "password": PASSWORD,
                               "next": "/queue?week=" + WEEK})
    assert r.url.path == "/queue"
    html = r.text
    # candidates by score, with their evidence across outlets and the unit report
    first = _cand(desk.store, desk.ids[0])
    assert first["name"] in html or first["name"][:20] in html
    assert "Tin Nhanh" in html and "báo cáo" in html and "baocao_thang11.docx" in html
    assert "<mark>" in html  # the reason sentence is highlighted
    assert 'data-key="a"' in html and 'data-key="r"' in html and 'data-key="u"' in html
    assert "Người dân – đời sống cộng đồng" in html or "Xã hội – nhân đạo – từ thiện" in html
    pos = [html.index(f'id="c{i}"') for i in desk.ids[:3]]
    assert pos == sorted(pos)  # score order (scores fall with insertion order)


def test_accept_reject_unsure_from_the_queue(desk):
    c, tok = login(desk.app, "staff1")
    a, b, u = desk.ids[:3]
    back = f"/queue?week={WEEK}#c{a}"
    r = c.post(f"/candidate/{a}/decide", data={"csrf": tok, "action": "accept", "next": back}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == back
    r = c.post(f"/candidate/{b}/decide", data={"csrf": tok, "action": "reject", "reason_code": "already-commended"})
    assert r.status_code == 200
    r = c.post(f"/candidate/{u}/decide", data={"csrf": tok, "action": "unsure"})
    assert [_cand(desk.store, i)["status"] for i in (a, b, u)] == ["accepted", "rejected", "unsure"]
    with desk.store.connect() as conn:
        rows = conn.execute(sa.select(decisions.c.user, decisions.c.label, decisions.c.candidate_id,
                                      decisions.c.article_id)).all()
    assert {r.user for r in rows} == {"staff1"}
    assert {r.label for r in rows if r.candidate_id == b} == {2}  # already commended is not a label 0
    assert all(r.article_id is not None for r in rows)
    # a rejection without a reason is refused with a message, nothing written
    r = c.post(f"/candidate/{u}/decide", data={"csrf": tok, "action": "reject"})
    assert r.status_code == 400 and "reason" in r.text
    # the default queue (new) no longer lists them
    r = c.get(f"/queue?week={WEEK}")
    assert f'id="c{a}"' not in r.text and f'id="c{desk.ids[3]}"' in r.text


def test_candidate_page_edit_merge_split_stage(desk):
    c, tok = login(desk.app, "staff1")
    a, b = desk.ids[0], desk.ids[6]
    r = c.get(f"/candidate/{a}")
    assert r.status_code == 200 and "Bài viết và báo cáo (3)" in r.text and "<mark>" in r.text
    c.post(f"/candidate/{a}/rename", data={"csrf": tok, "name": "Nguyễn Thị Hoa", "index": "0"})
    c.post(f"/candidate/{a}/classify", data={"csrf": tok, "field": "cong-dong", "deed": "cuu-nguoi"})
    cand = _cand(desk.store, a)
    assert (cand["name"], cand["field"], cand["deed"]) == ("Nguyễn Thị Hoa", "cong-dong", "cuu-nguoi")
    r = c.post(f"/candidate/{b}/merge", data={"csrf": tok, "target": f"#{a}"})
    assert r.url.path == f"/candidate/{a}" and "Bài viết và báo cáo (4)" in r.text
    assert _cand(desk.store, b)["status"] == "merged"
    with desk.store.connect() as conn:
        moved = conn.execute(sa.select(candidate_evidence.c.article_id).where(candidate_evidence.c.candidate_id == a)
                             .order_by(candidate_evidence.c.article_id.desc())).scalars().first()
    r = c.post(f"/candidate/{a}/split", data={"csrf": tok, "articles": [str(moved)], "name": "Tách ra"})
    new_id = int(r.url.path.rsplit("/", 1)[1])
    assert _cand(desk.store, new_id)["name"] == "Tách ra"
    # lifecycle: accept, then bồi dưỡng with a note and a date
    c.post(f"/candidate/{a}/decide", data={"csrf": tok, "action": "accept"})
    r = c.post(f"/candidate/{a}/stage", data={"csrf": tok, "stage": "boi-duong", "date": "2026-12-03",
                                              "note": "Tặng giấy khen của phường"})
    assert "Tặng giấy khen của phường" in r.text and _cand(desk.store, a)["stage"] == "boi-duong"
    r = c.get("/lifecycle?stage=boi-duong")
    assert "Nguyễn Thị Hoa" in r.text and "2026-12-03" in r.text
    r = c.get("/lifecycle?stage=nhan-rong")
    assert "Nguyễn Thị Hoa" not in r.text
    assert "Lịch sử quyết định" in c.get(f"/candidate/{a}").text


def test_uncertain_order_is_for_analysts(desk):
    with desk.store.begin() as conn:  # make "uncertain" differ from "score" order
        conn.execute(sa.update(candidates).where(candidates.c.id == desk.ids[-1]).values(score=0.51))
    staff, _ = login(desk.app, "staff1")
    html = staff.get(f"/queue?week={WEEK}&order=uncertain").text
    assert "Chưa chắc nhất trước" not in html
    assert html.index(f'id="c{desk.ids[0]}"') < html.index(f'id="c{desk.ids[-1]}"')
    analyst, tok = login(desk.app, "analyst1")
    html = analyst.get(f"/queue?week={WEEK}&order=uncertain").text
    assert "Chưa chắc nhất trước" in html
    assert html.index(f'id="c{desk.ids[-1]}"') < html.index(f'id="c{desk.ids[0]}"')
    # analysts label single articles
    with desk.store.connect() as conn:
        aid = conn.execute(sa.select(candidate_evidence.c.article_id)
                           .where(candidate_evidence.c.candidate_id == desk.ids[1])).scalar()
    r = analyst.post(f"/article/{aid}/label", data={"csrf": tok, "label": "1", "field": "xa-hoi",
                                                    "candidate_id": str(desk.ids[1])})
    assert r.status_code == 200
    assert review.label_counts(desk.store)["by_label"][1] == 1


def test_weekly_page_and_downloads(desk):
    c, tok = login(desk.app, "staff1")
    r = c.get(f"/weekly?week={WEEK}")
    assert r.status_code == 200 and "Đã đọc <b>34</b> bài" in r.text
    r = c.get(f"/weekly/{WEEK}.xlsx")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    assert ws.max_row == 13
    r = c.get(f"/weekly/{WEEK}.csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    assert c.get("/weekly/2026-W49.exe").status_code == 404
    assert c.get("/weekly?week=2026-99").status_code == 400


def test_nominations_export_from_the_desk(desk):
    c, tok = login(desk.app, "analyst1")
    a, b = desk.ids[:2]
    for cid in (a, b):
        c.post(f"/candidate/{cid}/decide", data={"csrf": tok, "action": "accept"})
    r = c.get("/nominations")
    assert f'name="form_{a}"' in r.text and "Bằng khen cấp bộ" in r.text
    r = c.post("/nominations/export", data={"csrf": tok, f"form_{a}": "1650360491", f"form_{b}": ""})
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(r.content))
    names = z.namelist()
    assert any(n.startswith("MauTDKT-") and n.endswith(".xlsx") for n in names)
    assert any(n.startswith("ho-so/") and n.endswith(".docx") for n in names)
    doc = json.loads(z.read(next(n for n in names if n.endswith(".json"))))
    assert [x["candidate_id"] for x in doc["nominations"]] == [a]
    r = c.get("/nominations")
    assert f'name="form_{a}"' not in r.text and f'name="form_{b}"' in r.text  # a is nominated once
    r = c.post("/nominations/export", data={"csrf": tok, f"form_{a}": "1650360499"})
    assert r.headers["content-type"].startswith("text/html") and "Không có ứng viên nào" in r.text


def test_admin_users_and_sources(desk):
    c, tok = login(desk.app, "admin1")
    r = c.post("/admin/users", data={"csrf": tok, "name": "moi", "role": "staff", "password": "mật khẩu mới 1"})
    assert "Đã thêm tài khoản moi" in r.text
    r = c.post("/admin/users", data={"csrf": tok, "name": "ngan", "role": "staff", "password": "123"})
    assert "at least 8" in r.text
    login(desk.app, "moi", "mật khẩu mới 1")
    r = c.post("/admin/users/moi", data={"csrf": tok, "role": "analyst", "disabled": "0"})
    assert review.get_user(desk.store, "moi")["role"] == "analyst"
    r = c.post("/admin/users/admin1", data={"csrf": tok, "role": "staff", "disabled": "0"})
    assert "Không tự khóa" in r.text and review.get_user(desk.store, "admin1")["role"] == "admin"
    r = c.get("/admin/sources")
    assert r.status_code == 200 and "Nguồn tin" in r.text


def test_train_and_logout(desk):
    c, tok = login(desk.app, "analyst1")
    r = c.get("/train")
    assert "Nhãn từ bàn duyệt" in r.text
    c.post("/train", data={"csrf": tok})
    desk.app.state.train_thread.join(5)
    assert desk.trained == [1]
    assert "v-test" in c.get("/train").text
    r = c.post("/logout", data={"csrf": tok}, follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/queue", follow_redirects=False).status_code == 303


def test_static_keyboard_shortcuts(desk):
    c = TestClient(desk.app)
    js = c.get("/static/desk.js").text
    for key in ('case "j"', 'case "k"', 'case "a"', 'case "r"', 'case "u"', 'case "/"'):
        assert key in js
    assert c.get("/static/desk.css").status_code == 200
