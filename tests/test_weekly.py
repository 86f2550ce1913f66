"""The weekly list: data, HTML/XLSX/CSV rendering and SMTP sending.

``fill_store`` is the fixture builder the review-desk and nomination tests
also use: real press articles (their texts from press.jsonl.gz, their
labels, fields, deeds and exemplars from labels/seed.jsonl) turned into
articles, scores, candidates and evidence rows of one week.
"""
from __future__ import annotations

import csv
import datetime as dt
import email
import gzip
import re
import email.policy
import json
import socket
import socketserver
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from pipeline.store import Store, articles, candidate_evidence, candidates, scores
from pipeline.text import sentences

WEEK = "2026-W49"
_ID = re.compile(r'^\{"id": "([^"]+)"')
MONDAY = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))


def _reason(text: str, names: list[str]) -> str:
    sents = sentences(text)[:30]
    for s in sents:
        if any(n.split(" (")[0].split(" - ")[0][-12:] in s for n in names):
            return s[:400]
    return sents[0][:400] if sents else ""


def fill_store(store: Store, press_by_id: dict, seed_labels: list[dict], week: str = WEEK,
               n_candidates: int = 12, n_other: int = 20, start: int = 0,
               monday: dt.datetime = MONDAY) -> list[int]:
    """Insert ``n_candidates`` real label-2 stories as candidates (one each, two
    outlets for the first), ``n_other`` label-0 stories as read-only articles
    and one unit report. Returns the candidate ids, in insertion order."""
    pos = [s for s in seed_labels if s["label"] == 2 and s["exemplars"] and s["id"] in press_by_id]
    neg = [s for s in seed_labels if s["label"] == 0 and s["id"] in press_by_id]
    pos = pos[start:start + n_candidates]
    neg = neg[start:start + n_other]
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    ids: list[int] = []
    for i, s in enumerate(neg):
        p = press_by_id[s["id"]]
        published = (monday + dt.timedelta(hours=3 * i)).isoformat()
        aid, _ = store.upsert_article({"uid": f"https://bao.example.vn/{s['id']}", "url": f"https://bao.example.vn/{s['id']}",
                                       "outlet": p.get("outlet") or "Báo", "title": p["title"][:300],
                                       "lead": p.get("lead") or "", "text": p.get("text") or "",
                                       "published": published})
        with store.begin() as c:
            c.execute(sa.insert(scores).values(article_id=aid, model_version="test-1", content_hash="x",
                                               score=0.05, label=0, scored=now))
    for i, s in enumerate(pos):
        p = press_by_id[s["id"]]
        published = (monday + dt.timedelta(hours=5 * i + 1)).isoformat()
        title = (p["title"] or "")[:300]
        text = p.get("text") or p["title"]
        reason = _reason(text, s["exemplars"]) or title
        ex = [{"name": e.split(" (")[0], "kind": "person", "role": None, "unit": None,
               "place": e.split(" (")[1].rstrip(")") if " (" in e else None} for e in s["exemplars"]]
        score = round(0.97 - 0.03 * i, 3)
        aid, _ = store.upsert_article({"uid": f"https://bao.example.vn/{s['id']}", "url": f"https://bao.example.vn/{s['id']}",
                                       "outlet": p.get("outlet") or "Báo", "title": title, "lead": p.get("lead") or "",
                                       "text": text, "published": published})
        ev = [aid]
        if i == 0:  # the same story in a second outlet, and in a unit report
            aid2, _ = store.upsert_article({"uid": f"https://tin.example.vn/{s['id']}", "url": f"https://tin.example.vn/{s['id']}",
                                            "outlet": "Tin Nhanh", "title": title, "lead": p.get("lead") or "",
                                            "text": text, "published": (monday + dt.timedelta(hours=30)).isoformat()})
            aid3, _ = store.upsert_article({"uid": f"report:abc{s['id']}#p2", "kind": "report",
                                            "outlet": "UBND phường Láng Hạ", "title": "Báo cáo gương người tốt việc tốt",
                                            "text": reason, "source_file": "baocao_thang11.docx", "location": "đoạn 2",
                                            "published": (monday + dt.timedelta(hours=40)).isoformat()})
            ev += [aid2, aid3]
        with store.begin() as c:
            for a in ev:
                c.execute(sa.insert(scores).values(
                    article_id=a, model_version="test-1", content_hash="x", score=score, label=2,
                    field=s["field"], deed=s["deed"], exemplars=json.dumps(ex, ensure_ascii=False),
                    reason=reason, place=json.dumps({"province": "Hà Nội"}, ensure_ascii=False), scored=now))
            res = c.execute(sa.insert(candidates).values(
                key=f"{week}:{s['id']}", name=ex[0]["name"], exemplars=json.dumps(ex, ensure_ascii=False),
                title=title, field=s["field"], field_conf=0.8, deed=s["deed"], score=score, label=2,
                reason=reason, place=json.dumps({"district": "Đống Đa", "province": "Hà Nội"}, ensure_ascii=False),
                theme=None, week=week, model_version="test-1", created=now, updated=now))
            cid = int(res.inserted_primary_key[0])
            for a in ev:
                c.execute(sa.insert(candidate_evidence).values(candidate_id=cid, article_id=a))
        ids.append(cid)
    return ids


_SEED_PRESS: dict = {}


def seed_press(corpora: Path, seed_labels: list[dict]) -> dict:
    """Only the seed-labelled articles of press.jsonl.gz (cached): parses 1.6k lines, not 60k."""
    if not _SEED_PRESS:
        need = {s["id"] for s in seed_labels}
        with gzip.open(corpora / "press.jsonl.gz", "rt", encoding="utf-8") as f:
            for line in f:
                m = _ID.match(line)
                if m and m.group(1) in need:
                    rec = json.loads(line)
                    _SEED_PRESS[rec["id"]] = rec
    return _SEED_PRESS


@pytest.fixture
def press_seed(corpora, seed_labels):
    return seed_press(corpora, seed_labels)


@pytest.fixture
def filled(store, press_seed, seed_labels):
    ids = fill_store(store, press_seed, seed_labels)
    return store, ids


def test_weekly_data_groups_counts_and_evidence(filled):
    from pipeline.taxonomy import FIELDS
    from pipeline.weekly import weekly_data

    store, ids = filled
    with store.begin() as c:  # one accepted, one rejected, one merged away
        c.execute(sa.update(candidates).where(candidates.c.id == ids[1]).values(status="accepted"))
        c.execute(sa.update(candidates).where(candidates.c.id == ids[2]).values(status="rejected"))
        c.execute(sa.update(candidates).where(candidates.c.id == ids[3]).values(status="merged", merged_into=ids[4]))
    d = weekly_data(store, WEEK)
    assert d["start"] == "2026-11-30" and d["end"] == "2026-12-06"
    assert d["counts"]["read"] == 20 + 12 + 2  # negatives, candidates, 2nd outlet + report
    assert d["counts"]["reports"] == 1
    assert d["counts"]["flagged"] == 11  # merged one not counted
    assert d["counts"]["accepted"] == 1 and d["counts"]["rejected"] == 1
    listed = [c["id"] for g in d["groups"] for c in g["candidates"]]
    assert len(listed) == 10 and ids[2] not in listed and ids[3] not in listed
    # groups follow the taxonomy order and carry Vietnamese names
    order = list(FIELDS)
    codes = [g["field"] for g in d["groups"]]
    assert codes == sorted(codes, key=order.index)
    assert all(g["field_name"] == FIELDS[g["field"]][0] for g in d["groups"])
    # the first candidate has three evidence items across two outlets and a report
    first = next(c for g in d["groups"] for c in g["candidates"] if c["id"] == ids[0])
    assert len(first["evidence"]) == 3
    assert {e["kind"] for e in first["evidence"]} == {"press", "report"}
    rep = next(e for e in first["evidence"] if e["kind"] == "report")
    assert rep["link"] == "" and "baocao_thang11.docx" in rep["where"]
    assert first["place"] == "Đống Đa, Hà Nội"
    assert all(e["date"] for e in first["evidence"])
    # accepted first within its field
    for g in d["groups"]:
        st = [c["status"] for c in g["candidates"]]
        assert st == sorted(st, key=lambda s: s != "accepted")
    # theme line falls back to deed names
    assert d["themes"] and sum(n for _, n in d["themes"]) == 10
    assert " · " in d["theme_line"] or len(d["themes"]) == 1


def test_theme_line_uses_candidate_themes(filled):
    from pipeline.weekly import weekly_data

    store, ids = filled
    with store.begin() as c:
        for i in ids[:5]:
            c.execute(sa.update(candidates).where(candidates.c.id == i).values(theme="cứu người đuối nước"))
        for i in ids[5:7]:
            c.execute(sa.update(candidates).where(candidates.c.id == i).values(theme="trả lại của rơi"))
    d = weekly_data(store, WEEK)
    assert d["theme_line"] == "5 cứu người đuối nước · 2 trả lại của rơi"


def test_bad_week_rejected(store):
    from pipeline.weekly import weekly_data
    for bad in ("2026-49", "2026-W54x", "W49", "2021-W53"):
        with pytest.raises(ValueError):
            weekly_data(store, bad)


def test_render_weekly_files(filled, tmp_path):
    import openpyxl

    from pipeline.weekly import render_weekly

    store, ids = filled
    # hostile content from a page: must come out as text, not markup or formula
    with store.begin() as c:
        c.execute(sa.update(candidates).where(candidates.c.id == ids[0]).values(
            name="=HYPERLINK(\"http://evil\",\"x\")", title="<script>alert(1)</script> Cứu người"))
        aid = c.execute(sa.select(candidate_evidence.c.article_id).where(candidate_evidence.c.candidate_id == ids[0])).scalars().first()
        c.execute(sa.update(articles).where(articles.c.id == aid).values(
            title="<img src=x onerror=alert(1)>Tin", url="javascript:alert(1)"))
    paths = render_weekly(store, WEEK, tmp_path / "out")
    assert set(paths) == {"html", "xlsx", "csv"}
    assert paths["html"].name == f"weekly-{WEEK}.html"
    html = paths["html"].read_text(encoding="utf-8")
    assert "<script" not in html.lower() and "javascript:" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;Tin" in html
    assert "Danh sách tuần 49/2026" in html and "Đã đọc <b>34</b> bài" in html
    assert "Người dân – đời sống cộng đồng" in html or "Xã hội – nhân đạo – từ thiện" in html
    assert "<style" not in html  # inline CSS only: mail clients drop <style>
    assert "https://bao.example.vn/" in html
    wb = openpyxl.load_workbook(paths["xlsx"])
    ws = wb.active
    head = [c.value for c in ws[1]]
    assert head[:3] == ["Tuần", "Lĩnh vực", "Người / tập thể"]
    assert ws[1][0].font.bold and ws.auto_filter.ref.startswith("A1:")
    assert ws.max_row == 13  # header + 12 candidates
    names = [r[2] for r in ws.iter_rows(min_row=2, values_only=True)]
    assert "'=HYPERLINK(\"http://evil\",\"x\")" in names
    assert not any(isinstance(v, str) and v.startswith("=") for r in ws.iter_rows(values_only=True) for v in r)
    raw = paths["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][0] == "Tuần" and any(r[2].startswith("'=") for r in rows[1:] if len(r) > 2)


def test_render_empty_week(store, tmp_path):
    from pipeline.weekly import render_weekly
    paths = render_weekly(store, "2026-W01", tmp_path)
    assert "chưa có ứng viên" in paths["html"].read_text(encoding="utf-8")


class _SMTPHandler(socketserver.StreamRequestHandler):
    """A minimal SMTP sink (RFC 5321 subset: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT)."""

    def handle(self):
        srv = self.server
        self.wfile.write(b"220 sink ESMTP\r\n")
        mail_from, rcpt = None, []
        while True:
            line = self.rfile.readline()
            if not line:
                return
            cmd = line.decode("ascii", "replace").strip()
            up = cmd.upper()
            if up.startswith("EHLO"):
                tls = b"250-STARTTLS\r\n" if getattr(srv, "tls", None) and not getattr(self, "secure", False) else b""
                self.wfile.write(b"250-sink\r\n" + tls + b"250-AUTH PLAIN\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
            elif up == "STARTTLS" and getattr(srv, "tls", None):
                self.wfile.write(b"220 go ahead\r\n")
                self.wfile.flush()
                try:
                    self.connection = srv.tls.wrap_socket(self.connection, server_side=True)
                except OSError:  # the client refused our certificate
                    return
                self.rfile = self.connection.makefile("rb")
                self.wfile = self.connection.makefile("wb", buffering=0)
                self.secure = True
            elif up.startswith("AUTH PLAIN"):
                import base64
                _, user, pw = base64.b64decode(cmd.split()[2]).split(b"\0")
                srv.auth.append((user.decode(), pw.decode(), getattr(self, "secure", False)))
                self.wfile.write(b"235 ok\r\n")
            elif up.startswith("HELO"):
                self.wfile.write(b"250 sink\r\n")
            elif up.startswith("MAIL FROM:"):
                mail_from, rcpt = cmd[10:].split()[0].strip("<>"), []
                self.wfile.write(b"250 OK\r\n")
            elif up.startswith("RCPT TO:"):
                rcpt.append(cmd[8:].strip().strip("<>"))
                self.wfile.write(b"250 OK\r\n")
            elif up == "DATA":
                self.wfile.write(b"354 go on\r\n")
                buf = []
                while True:
                    ln = self.rfile.readline()
                    if ln in (b".\r\n", b".\n", b""):
                        break
                    buf.append(ln[1:] if ln.startswith(b"..") else ln)
                srv.messages.append({"from": mail_from, "to": rcpt, "data": b"".join(buf)})
                self.wfile.write(b"250 queued\r\n")
            elif up == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 OK\r\n")


@pytest.fixture
def smtp_sink():
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    srv.daemon_threads = True
    srv.messages, srv.auth, srv.tls = [], [], None
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_send_weekly_to_local_smtp(filled, tmp_path, smtp_sink):
    from pipeline.weekly import render_weekly, send_weekly

    store, _ = filled
    paths = render_weekly(store, WEEK, tmp_path)
    port = smtp_sink.server_address[1]
    res = send_weekly(paths, {"host": "127.0.0.1", "port": port, "from": "thidua@example.vn", "timeout": 10},
                      ["vanphong@example.vn", "lanhdao@example.vn"])
    assert res["refused"] == {}
    assert len(smtp_sink.messages) == 1
    m = smtp_sink.messages[0]
    assert m["from"] == "thidua@example.vn" and m["to"] == ["vanphong@example.vn", "lanhdao@example.vn"]
    msg = email.message_from_bytes(m["data"], policy=email.policy.default)
    assert "tuần 49/2026" in msg["Subject"]
    html = msg.get_body(("html",)).get_content()
    assert "Danh sách tuần 49/2026" in html
    plain = msg.get_body(("plain",)).get_content()
    assert "Đã đọc 34 bài" in plain
    names = {p.get_filename() for p in msg.iter_attachments()}
    assert names == {f"weekly-{WEEK}.xlsx", f"weekly-{WEEK}.csv"}
    xlsx = next(p for p in msg.iter_attachments() if p.get_filename().endswith(".xlsx"))
    assert xlsx.get_content() == paths["xlsx"].read_bytes()


def test_send_weekly_errors(tmp_path, store, smtp_sink):
    from pipeline.weekly import render_weekly, send_weekly
    paths = render_weekly(store, WEEK, tmp_path)
    with pytest.raises(ValueError):
        send_weekly(paths, {"host": "127.0.0.1"}, [])
    with pytest.raises(ValueError):
        send_weekly(paths, {}, ["a@example.vn"])
    # nothing listens on a fresh closed port: a clear OSError, not a hang
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    closed = s.getsockname()[1]
    s.close()
    with pytest.raises(OSError):
        send_weekly(paths, {"host": "127.0.0.1", "port": closed, "timeout": 3}, ["a@example.vn"])
    # recipients from the configuration
    res = send_weekly(paths, {"host": "127.0.0.1", "port": smtp_sink.server_address[1], "to": ["x@example.vn"]})
    assert res["to"] == ["x@example.vn"] and smtp_sink.messages[-1]["to"] == ["x@example.vn"]


def _self_signed(tmp_path):
    import ssl as _ssl
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1)).sign(key, hashes.SHA256()))
    (tmp_path / "c.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "k.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    ctx = _ssl.SSLContext(_ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    return ctx


def test_send_weekly_starttls_and_login(store, tmp_path, smtp_sink):
    pytest.importorskip("cryptography", reason="a self-signed certificate for the test server")
    from pipeline.weekly import render_weekly, send_weekly

    smtp_sink.tls = _self_signed(tmp_path)
    paths = render_weekly(store, WEEK, tmp_path / "out")
    cfg = {"host": "127.0.0.1", "port": smtp_sink.server_address[1], "starttls": True, "insecure": True,
           "user": "thidua", "password": "mật-khẩu", "from": "thidua@example.vn", "timeout": 10}
    send_weekly(paths, cfg, ["a@example.vn"])
    assert smtp_sink.auth == [("thidua", "mật-khẩu", True)]  # logged in only after TLS
    assert len(smtp_sink.messages) == 1
    # without "insecure" the self-signed certificate is refused
    import ssl as _ssl
    with pytest.raises(_ssl.SSLError):
        send_weekly(paths, {**cfg, "insecure": False}, ["a@example.vn"])
