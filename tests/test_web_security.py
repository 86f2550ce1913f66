"""Security of the review desk: escaping, CSRF, roles, SQL metacharacters, login throttling,
session cookies, redirects."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

pytest.importorskip("fastapi", reason="the review desk needs the web extra")
from fastapi.testclient import TestClient  # noqa: E402
from starlette.routing import Route  # noqa: E402

from pipeline import review  # noqa: E402
from pipeline.store import articles, candidate_evidence, candidates, decisions, users  # noqa: E402
from test_web import PASSWORD, csrf_of, desk, fast_kdf, login  # noqa: E402,F401 - fixtures
from test_weekly import WEEK, press_seed  # noqa: E402,F401 - fixture

XSS = '<script>alert("xss")</script>'


def _count(store, table):
    with store.connect() as c:
        return c.execute(sa.select(sa.func.count()).select_from(table)).scalar()


def test_script_in_title_shows_as_text(desk):
    cid = desk.ids[0]
    with desk.store.begin() as c:
        aid = c.execute(sa.select(candidate_evidence.c.article_id)
                        .where(candidate_evidence.c.candidate_id == cid)).scalars().first()
        c.execute(sa.update(articles).where(articles.c.id == aid).values(
            title=f"Cứu người {XSS}", url="javascript:alert(1)", lead=f"<img src=x onerror=alert(2)>"))
        c.execute(sa.update(candidates).where(candidates.c.id == cid).values(
            name=f"Anh <b onmouseover=alert(3)>Nam</b>", title=XSS, reason=f"Lý do {XSS}"))
    c, tok = login(desk.app, "analyst1")
    for url in (f"/queue?week={WEEK}", f"/candidate/{cid}", f"/weekly?week={WEEK}"):
        html = c.get(url).text
        assert "<script>alert" not in html and "<b onmouseover" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in html, url
        assert 'href="javascript:' not in html, url
    # the only scripts are our own file
    assert re.findall(r"<script[^>]*>", c.get(f"/candidate/{cid}").text) == ['<script src="/static/desk.js" defer>']
    # and the HTML mail list escapes them too
    r = c.get(f"/weekly/{WEEK}.html")
    assert "<script>alert" not in r.text and "&lt;script&gt;" in r.text


def test_every_post_refuses_a_missing_or_wrong_csrf_token(desk):
    c, tok = login(desk.app, "admin1")
    posts = sorted({r.path for r in desk.app.routes if isinstance(r, Route) and "POST" in (r.methods or set())})
    assert len(posts) >= 13 and "/login" in posts
    before = (_count(desk.store, decisions), _count(desk.store, users), _count(desk.store, candidates))
    cid = desk.ids[0]
    for path in posts:
        url = path.replace("{cid}", str(cid)).replace("{aid}", "1").replace("{name}", "staff1")
        data = {"action": "accept", "reason_code": "not-a-deed", "name": "x1234567", "role": "admin",
                "password": "12345678", "stage": "phat-hien", "label": "2", "target": str(desk.ids[1]),
                "articles": "1", "disabled": "1", f"form_{cid}": "1650360491"}
        r = c.post(url, data=data, follow_redirects=False)
        assert r.status_code == 403, (url, r.status_code)
        r = c.post(url, data={**data, "csrf": tok[:-2] + "xx"}, follow_redirects=False)
        assert r.status_code == 403, (url, r.status_code)
    after = (_count(desk.store, decisions), _count(desk.store, users), _count(desk.store, candidates))
    assert before == after
    assert review.get_user(desk.store, "staff1")["disabled"] is False
    # the token of another session does not work either
    other, other_tok = login(desk.app, "staff1")
    r = c.post(f"/candidate/{cid}/decide", data={"csrf": other_tok, "action": "accept"}, follow_redirects=False)
    assert r.status_code == 403
    # and the right one does
    r = c.post(f"/candidate/{cid}/decide", data={"csrf": tok, "action": "accept"}, follow_redirects=False)
    assert r.status_code == 303


ROLE_PAGES = {
    "/queue": "staff", f"/candidate/{{cid}}": "staff", "/lifecycle": "staff", "/weekly": "staff",
    f"/weekly/{WEEK}.xlsx": "staff", f"/weekly/{WEEK}.csv": "staff", "/nominations": "analyst",
    "/train": "analyst", "/admin/users": "admin", "/admin/sources": "admin",
}


def test_each_role_sees_only_what_it_may(desk):
    cid = desk.ids[0]
    anon = TestClient(desk.app)
    for page in ROLE_PAGES:
        r = anon.get(page.format(cid=cid), follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), page
    r = anon.post("/nominations/export", data={"csrf": "x"}, follow_redirects=False)
    assert r.status_code in (303, 403)
    for name, role in (("staff1", "staff"), ("analyst1", "analyst"), ("admin1", "admin")):
        c, tok = login(desk.app, name)
        for page, needed in ROLE_PAGES.items():
            r = c.get(page.format(cid=cid), follow_redirects=False)
            allowed = review.has_role(role, needed)
            assert (r.status_code == 200) == allowed, (name, page, r.status_code)
            if not allowed:
                assert r.status_code == 403 and "không có quyền" in r.text
        nav = c.get("/queue").text
        assert ('href="/admin/users"' in nav) == (role == "admin")
        assert ('href="/nominations"' in nav) == (role != "staff")
        # posts are checked too, not only pages
        r = c.post("/article/1/label", data={"csrf": tok, "label": "2"}, follow_redirects=False)
        assert (r.status_code == 403) == (role == "staff")
        r = c.post("/admin/users", data={"csrf": tok, "name": f"x{role}", "role": "admin", "password": "12345678"},
                   follow_redirects=False)
        assert (r.status_code == 403) == (role != "admin")
        r = c.post("/nominations/export", data={"csrf": tok}, follow_redirects=False)
        assert (r.status_code == 403) == (role == "staff")
    assert review.get_user(desk.store, "xstaff") is None and review.get_user(desk.store, "xanalyst") is None


def test_search_survives_sql_metacharacters(desk):
    c, _ = login(desk.app, "staff1")
    for q in ("'", "\"", "' OR 1=1 --", "'; DROP TABLE candidates; --", "%", "_", "\\", "%' UNION SELECT pw_hash FROM users --",
              "ứng viên' AND '1'='1"):
        r = c.get("/queue", params={"week": WEEK, "q": q, "status": "all"})
        assert r.status_code == 200, q
        # plain substring semantics: exactly the candidates whose text contains q literally
        with desk.store.connect() as conn:
            rows = conn.execute(sa.select(candidates.c.name, candidates.c.title, candidates.c.reason,
                                          candidates.c.exemplars)).all()
        expected = sum(1 for row in rows if any(q.lower() in (v or "").lower() for v in row))
        assert r.text.count('class="cand card"') == expected, q
        if expected == 0:
            assert "Không có ứng viên nào khớp" in r.text, q
        assert "$argon2" not in r.text
    assert _count(desk.store, candidates) == 12
    name = review.queue(desk.store, WEEK)["items"][0]["name"]
    assert name[:10] in c.get("/queue", params={"week": WEEK, "q": name[:10]}).text


def test_five_wrong_passwords_slow_the_next_try(desk):
    c = TestClient(desk.app)
    tok = csrf_of(c.get("/login").text)
    for i in range(5):
        r = c.post("/login", data={"csrf": tok, "name": "staff1", "password": f"sai{i}"})
        assert r.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in r.text
    # the sixth try is refused even with the right password, and says when to retry
    r = c.post("/login", data={"csrf": tok, "name": "staff1", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    assert "thử lại sau" in r.text
    # from another client address the same user name is throttled too
    c2 = TestClient(desk.app, client=("10.0.0.9", 5000))
    tok2 = csrf_of(c2.get("/login").text)
    assert c2.post("/login", data={"csrf": tok2, "name": "staff1", "password": PASSWORD}).status_code == 429
    # once the wait is over, the right password works and clears the count
    desk.clock[0] += 3
    r = c.post("/login", data={"csrf": tok, "name": "staff1", "password": PASSWORD, "next": "/queue"})
    assert r.status_code == 200 and r.url.path == "/queue"


def test_session_cookie_headers_and_redirects(desk):
    c = TestClient(desk.app)
    r = c.get("/login")
    pre = c.cookies.get("nguoitot_session")
    r = c.post("/login", data={"csrf": csrf_of(r.text), "name": "staff1", "password": PASSWORD,
                               "next": "//evil.example/x"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"  # no open redirect
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    assert c.cookies.get("nguoitot_session") != pre  # a new session on login
    r = c.get("/queue")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
    # a disabled account loses its open session at once
    review.update_user(desk.store, "staff1", disabled=True)
    assert c.get("/queue", follow_redirects=False).status_code == 303
    # an oversized form is refused before parsing
    c2, tok = login(desk.app, "analyst1")
    r = c2.post(f"/candidate/{desk.ids[0]}/decide", data={"csrf": tok, "action": "accept", "note": "x" * 300_000})
    assert r.status_code == 413
    assert c2.get("/openapi.json").status_code == 404 and c2.get("/docs").status_code == 404
