"""The store: schema and migrations, raw kept by hash, article versions, append-only decisions."""
import sqlalchemy as sa

from pipeline.store import SCHEMA_VERSION, Store, article_versions, articles, decisions, iso_week


def test_migrates_and_reopens(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    s = Store(url)
    assert s.schema_version() == SCHEMA_VERSION
    s.close()
    s2 = Store(url)
    assert s2.schema_version() == SCHEMA_VERSION
    with s2.connect() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    s2.close()


def test_raw_kept_byte_for_byte_by_hash(store):
    data = "<html>Trang gốc – nguyên văn</html>".encode("utf-8") + bytes(range(256))
    h = store.put_raw(data, "text/html", origin="http://127.0.0.1/x")
    assert store.put_raw(data) == h  # idempotent
    assert store.get_raw(h) == data
    assert store.get_raw("0" * 64) is None


def test_article_new_unchanged_updated_keeps_old_version(store):
    rec = {"uid": "http://127.0.0.1/a", "title": "Anh xe ôm trả lại ví", "text": "Nội dung một.",
           "published": "2026-11-18T08:00:00+07:00"}
    aid, st = store.upsert_article(rec)
    assert st == "new"
    assert store.upsert_article(dict(rec, text="Nội  dung một. ")) == (aid, "unchanged")
    assert store.upsert_article(dict(rec, text="Nội dung hai.")) == (aid, "updated")
    row = store.article(aid)
    assert row["version"] == 2 and row["text"] == "Nội dung hai." and row["week"] == "2026-W47"
    with store.connect() as c:
        old = c.execute(sa.select(article_versions)).mappings().all()
    assert len(old) == 1 and old[0]["text"] == "Nội dung một."


def test_week_from_published_else_collected():
    assert iso_week("2026-11-16T00:30:00+07:00") == "2026-W47"
    assert iso_week(None, "2026-01-01T10:00:00+00:00") == "2026-W01"
    assert iso_week("not a date", "2025-12-29T10:00:00+00:00") == "2026-W01"


def test_decisions_are_appended(store):
    aid, _ = store.upsert_article({"uid": "u1", "title": "t", "text": "x"})
    d1 = store.add_decision("lan", "accept", article_id=aid, label=2)
    d2 = store.add_decision("lan", "reject", article_id=aid, label=0, reason_code="not-a-deed")
    assert d2 > d1
    with store.connect() as c:
        rows = c.execute(sa.select(decisions).order_by(decisions.c.id)).mappings().all()
    assert [r["action"] for r in rows] == ["accept", "reject"]
    assert store.count(articles) == 1


def test_upsert_requires_uid(store):
    import pytest
    with pytest.raises(ValueError):
        store.upsert_article({"title": "no uid"})
