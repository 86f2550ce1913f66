"""The store: the only shared state of the pipeline.

SQLite (WAL, one writer) by default; any SQLAlchemy URL (PostgreSQL for a
shared review desk) through ``--db``. The schema is defined once here and
versioned by :data:`MIGRATIONS`; stage modules query the tables with
SQLAlchemy Core through the helpers below or ``store.engine`` directly.

Rules every stage keeps:
- raw inputs (pages, feeds, uploaded reports) are kept by content hash in
  ``raw`` (zlib-compressed) and never deleted;
- ``decisions`` is append-only: nothing updates or deletes a row there;
- every derived row carries the model version that produced it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import zlib
from pathlib import Path
from typing import Any, Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy import event

metadata = sa.MetaData()

meta = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text),
)

raw = sa.Table(
    "raw", metadata,
    sa.Column("hash", sa.String(64), primary_key=True),  # sha256 of the original bytes
    sa.Column("data", sa.LargeBinary, nullable=False),  # zlib-compressed (level 1: fast on the crawl path) original bytes
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("media_type", sa.String(128)),
    sa.Column("origin", sa.Text),  # url or file path it came from (first seen)
    sa.Column("created", sa.String(32), nullable=False),
)

# Conditional-GET and health state per fetched URL (feeds, sitemaps, pages).
fetch_state = sa.Table(
    "fetch_state", metadata,
    sa.Column("url", sa.Text, primary_key=True),
    sa.Column("etag", sa.Text),
    sa.Column("last_modified", sa.Text),
    sa.Column("raw_hash", sa.String(64)),
    sa.Column("status", sa.Integer),
    sa.Column("fetched", sa.String(32)),
    sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
)

# One row per fetch or ingest outcome worth recording (errors with a reason).
events = sa.Table(
    "events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer),
    sa.Column("stage", sa.String(32), nullable=False),  # crawl | ingest | process | ...
    sa.Column("source", sa.Text),
    sa.Column("target", sa.Text),  # url or file
    sa.Column("level", sa.String(16), nullable=False),  # info | warning | error
    sa.Column("reason", sa.Text),
    sa.Column("at", sa.String(32), nullable=False),
)

articles = sa.Table(
    "articles", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("uid", sa.Text, nullable=False, unique=True),  # canonical url, or report:<hash>#<loc>
    sa.Column("kind", sa.String(16), nullable=False, server_default="press"),  # press | report
    sa.Column("url", sa.Text),
    sa.Column("outlet", sa.Text),
    sa.Column("source", sa.Text),  # Source name from the catalogue, or the inbox
    sa.Column("section", sa.Text),
    sa.Column("title", sa.Text, nullable=False, server_default=""),
    sa.Column("lead", sa.Text, nullable=False, server_default=""),
    sa.Column("text", sa.Text, nullable=False, server_default=""),
    sa.Column("author", sa.Text),
    sa.Column("published", sa.String(32)),  # ISO 8601 with offset, or NULL
    sa.Column("collected", sa.String(32), nullable=False),
    sa.Column("week", sa.String(8), nullable=False),  # ISO week YYYY-Www (published, else collected)
    sa.Column("raw_hash", sa.String(64)),
    sa.Column("content_hash", sa.String(64), nullable=False),  # of normalised title+lead+text
    sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("story_id", sa.Integer),  # id of the first article of its Story group
    sa.Column("source_file", sa.Text),  # reports: original file name
    sa.Column("location", sa.Text),  # reports: page / sheet!row / paragraph
    sa.Column("extra", sa.Text),  # JSON: anything stage-specific (position, unit, place...)
    sa.Index("ix_articles_week", "week"),
    sa.Index("ix_articles_content", "content_hash"),
)

# Previous versions of an article whose content changed (nothing is lost).
article_versions = sa.Table(
    "article_versions", metadata,
    sa.Column("article_id", sa.Integer, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("title", sa.Text), sa.Column("lead", sa.Text), sa.Column("text", sa.Text),
    sa.Column("raw_hash", sa.String(64)), sa.Column("content_hash", sa.String(64)),
    sa.Column("replaced", sa.String(32)),
)

scores = sa.Table(
    "scores", metadata,
    sa.Column("article_id", sa.Integer, primary_key=True),
    sa.Column("model_version", sa.String(64), primary_key=True),
    sa.Column("content_hash", sa.String(64), nullable=False),  # what was scored
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("label", sa.Integer, nullable=False),
    sa.Column("field", sa.String(32), nullable=False, server_default=""),
    sa.Column("field_conf", sa.Float),
    sa.Column("deed", sa.String(32), nullable=False, server_default=""),
    sa.Column("exemplars", sa.Text, nullable=False, server_default="[]"),  # JSON list of dicts
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("terms", sa.Text, nullable=False, server_default="[]"),  # JSON list
    sa.Column("place", sa.Text),  # JSON {province, district, ...}
    sa.Column("scored", sa.String(32), nullable=False),
)

candidates = sa.Table(
    "candidates", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.Text, nullable=False, unique=True),
    sa.Column("name", sa.Text, nullable=False, server_default=""),  # main exemplar
    sa.Column("exemplars", sa.Text, nullable=False, server_default="[]"),  # JSON
    sa.Column("title", sa.Text, nullable=False, server_default=""),  # headline of best evidence
    sa.Column("field", sa.String(32), nullable=False, server_default=""),
    sa.Column("field_conf", sa.Float),
    sa.Column("deed", sa.String(32), nullable=False, server_default=""),
    sa.Column("score", sa.Float, nullable=False, server_default="0"),
    sa.Column("label", sa.Integer, nullable=False, server_default="0"),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("place", sa.Text),  # JSON
    sa.Column("theme", sa.Text),
    sa.Column("week", sa.String(8), nullable=False),
    sa.Column("stage", sa.String(16), nullable=False, server_default="phat-hien"),
    sa.Column("status", sa.String(16), nullable=False, server_default="new"),  # new|accepted|rejected|unsure|merged
    sa.Column("merged_into", sa.Integer),
    sa.Column("model_version", sa.String(64)),
    sa.Column("created", sa.String(32), nullable=False),
    sa.Column("updated", sa.String(32), nullable=False),
    sa.Index("ix_candidates_week", "week"),
)

candidate_evidence = sa.Table(
    "candidate_evidence", metadata,
    sa.Column("candidate_id", sa.Integer, primary_key=True),
    sa.Column("article_id", sa.Integer, primary_key=True),
    sa.Index("ix_evidence_article", "article_id"),
)

# Append-only: a reviewer's verdicts and edits. Current state is derived.
decisions = sa.Table(
    "decisions", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("candidate_id", sa.Integer),
    sa.Column("article_id", sa.Integer),
    sa.Column("user", sa.Text, nullable=False),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),  # accept|reject|unsure|rename|field|deed|merge|split|stage|label
    sa.Column("label", sa.Integer),  # LABELING.md label this implies for the article(s), or NULL
    sa.Column("field", sa.String(32)),
    sa.Column("deed", sa.String(32)),
    sa.Column("reason_code", sa.String(32)),
    sa.Column("note", sa.Text),
    sa.Column("payload", sa.Text),  # JSON
)

users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("pw_hash", sa.Text, nullable=False),
    sa.Column("created", sa.String(32), nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
)

runs = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("started", sa.String(32), nullable=False),
    sa.Column("finished", sa.String(32)),
    sa.Column("status", sa.String(16), nullable=False, server_default="running"),
    sa.Column("stats", sa.Text),
)

nominations = sa.Table(
    "nominations", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("candidate_id", sa.Integer, nullable=False, unique=True),  # one achievement, one nomination
    sa.Column("form", sa.Text, nullable=False),
    sa.Column("idempotency_key", sa.String(64), nullable=False, unique=True),
    sa.Column("created", sa.String(32), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, server_default="exported"),
    sa.Column("payload", sa.Text),
)

embeddings = sa.Table(
    "embeddings", metadata,
    sa.Column("text_hash", sa.String(64), primary_key=True),
    sa.Column("model", sa.String(128), primary_key=True),
    sa.Column("dim", sa.Integer, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),  # float32 bytes
)


def _v1(conn: sa.Connection) -> None:
    metadata.create_all(conn)


# (version, function). Append only; never edit a released step.
MIGRATIONS: list[tuple[int, Any]] = [(1, _v1)]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def iso_week(published: str | None, collected: str | None = None) -> str:
    """ISO week ``YYYY-Www`` of ``published`` (or ``collected`` when there is none)."""
    for value in (published, collected):
        if value:
            try:
                d = dt.datetime.fromisoformat(value)
            except ValueError:
                continue
            y, w, _ = d.isocalendar()
            return f"{y}-W{w:02d}"
    y, w, _ = dt.date.today().isocalendar()
    return f"{y}-W{w:02d}"


def normalise_url(url: str) -> str:
    """Database URL: bare paths become SQLite files."""
    if "://" in url:
        return url
    return f"sqlite:///{url}"


class Store:
    """A connection to the store. ``Store("sqlite:///x.db")`` creates and migrates."""

    def __init__(self, url: str = "sqlite:///var/nguoitot.db", migrate: bool = True):
        self.url = normalise_url(url)
        if self.url.startswith("sqlite:///") and not self.url.startswith("sqlite:///:memory:"):
            Path(self.url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(self.url, future=True)
        if self.engine.dialect.name == "sqlite":
            @event.listens_for(self.engine, "connect")
            def _pragmas(dbapi_conn, _rec):  # noqa: ANN001
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()
        if migrate:
            self.migrate()

    # -- schema ---------------------------------------------------------
    def schema_version(self) -> int:
        insp = sa.inspect(self.engine)
        if not insp.has_table("meta"):
            return 0
        with self.engine.connect() as c:
            v = c.execute(sa.select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
        return int(v) if v else 0

    def migrate(self) -> int:
        current = self.schema_version()
        for version, step in MIGRATIONS:
            if version <= current:
                continue
            with self.engine.begin() as c:
                step(c)
                c.execute(sa.delete(meta).where(meta.c.key == "schema_version"))
                c.execute(sa.insert(meta).values(key="schema_version", value=str(version)))
            current = version
        return current

    def begin(self):
        return self.engine.begin()

    def connect(self):
        return self.engine.connect()

    def close(self) -> None:
        self.engine.dispose()

    # -- meta -----------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self.engine.connect() as c:
            v = c.execute(sa.select(meta.c.value).where(meta.c.key == key)).scalar()
        return default if v is None else v

    def set_meta(self, key: str, value: str) -> None:
        with self.engine.begin() as c:
            c.execute(sa.delete(meta).where(meta.c.key == key))
            c.execute(sa.insert(meta).values(key=key, value=value))

    # -- raw ------------------------------------------------------------
    def put_raw(self, data: bytes, media_type: str | None = None, origin: str | None = None,
                conn: sa.Connection | None = None) -> str:
        """Keep ``data`` by content hash (idempotent); returns the hash."""
        h = sha256(data)
        def _do(c: sa.Connection) -> None:
            exists = c.execute(sa.select(raw.c.hash).where(raw.c.hash == h)).first()
            if not exists:
                c.execute(sa.insert(raw).values(**self.raw_row(data, media_type, origin, h)))
        if conn is not None:
            _do(conn)
        else:
            with self.engine.begin() as c:
                _do(c)
        return h

    def get_raw(self, h: str) -> bytes | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(raw.c.data).where(raw.c.hash == h)).first()
        return zlib.decompress(row[0]) if row else None

    # -- articles -------------------------------------------------------
    def upsert_article(self, rec: dict[str, Any], conn: sa.Connection | None = None) -> tuple[int, str]:
        """Insert or update one article record; returns ``(id, "new"|"unchanged"|"updated")``.

        ``rec`` needs ``uid`` and ``title``/``text``; ``collected`` defaults to now.
        A changed text keeps the previous version in ``article_versions``.
        """
        cols = article_row(rec)

        def _do(c: sa.Connection) -> tuple[int, str]:
            row = c.execute(sa.select(articles.c.id, articles.c.content_hash, articles.c.version,
                                      articles.c.title, articles.c.lead, articles.c.text,
                                      articles.c.raw_hash)
                            .where(articles.c.uid == cols["uid"])).first()
            if row is None:
                res = c.execute(sa.insert(articles).values(**cols))
                return int(res.inserted_primary_key[0]), "new"
            if row.content_hash == cols["content_hash"]:
                return int(row.id), "unchanged"
            c.execute(sa.insert(article_versions).values(
                article_id=row.id, version=row.version, title=row.title, lead=row.lead,
                text=row.text, raw_hash=row.raw_hash, content_hash=row.content_hash,
                replaced=now_iso()))
            upd = {k: v for k, v in cols.items() if k not in ("uid", "collected")}
            upd["version"] = row.version + 1
            c.execute(sa.update(articles).where(articles.c.id == row.id).values(**upd))
            return int(row.id), "updated"

        if conn is not None:
            return _do(conn)
        with self.engine.begin() as c:
            return _do(c)

    @staticmethod
    def raw_row(data: bytes, media_type: str | None = None, origin: str | None = None,
                h: str | None = None, compressed: bytes | None = None) -> dict[str, Any]:
        """The ``raw`` row :meth:`put_raw` inserts for ``data`` (for bulk writers; ``h`` and
        ``compressed``, if given, must be ``sha256(data)`` and ``zlib.compress(data, 1)``)."""
        return dict(hash=h or sha256(data), data=compressed if compressed is not None else zlib.compress(data, 1),
                    size=len(data), media_type=media_type, origin=origin, created=now_iso())

    def has_article(self, uid: str) -> bool:
        with self.engine.connect() as c:
            return c.execute(sa.select(articles.c.id).where(articles.c.uid == uid)).first() is not None

    def article(self, article_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            row = c.execute(sa.select(articles).where(articles.c.id == article_id)).mappings().first()
        return dict(row) if row else None

    def iter_articles(self, where: Any = None, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """All articles (optionally filtered by a SQLAlchemy clause), in id order, in batches."""
        last = 0
        while True:
            q = sa.select(articles).where(articles.c.id > last).order_by(articles.c.id).limit(batch)
            if where is not None:
                q = q.where(where)
            with self.engine.connect() as c:
                rows = [dict(r) for r in c.execute(q).mappings()]
            if not rows:
                return
            yield from rows
            last = rows[-1]["id"]

    def count(self, table: sa.Table, where: Any = None) -> int:
        q = sa.select(sa.func.count()).select_from(table)
        if where is not None:
            q = q.where(where)
        with self.engine.connect() as c:
            return int(c.execute(q).scalar() or 0)

    # -- events ---------------------------------------------------------
    def log_event(self, stage: str, level: str, reason: str, source: str | None = None,
                  target: str | None = None, run_id: int | None = None) -> None:
        with self.engine.begin() as c:
            c.execute(sa.insert(events).values(stage=stage, level=level, reason=reason, source=source,
                                               target=target, run_id=run_id, at=now_iso()))

    # -- runs -----------------------------------------------------------
    def start_run(self, kind: str) -> int:
        with self.engine.begin() as c:
            res = c.execute(sa.insert(runs).values(kind=kind, started=now_iso(), status="running"))
            return int(res.inserted_primary_key[0])

    def finish_run(self, run_id: int, status: str, stats: dict[str, Any] | None = None) -> None:
        with self.engine.begin() as c:
            c.execute(sa.update(runs).where(runs.c.id == run_id).values(
                finished=now_iso(), status=status, stats=json.dumps(stats or {}, ensure_ascii=False)))

    # -- decisions (append-only) ---------------------------------------
    def add_decision(self, user: str, action: str, candidate_id: int | None = None,
                     article_id: int | None = None, label: int | None = None,
                     field: str | None = None, deed: str | None = None,
                     reason_code: str | None = None, note: str | None = None,
                     payload: dict[str, Any] | None = None,
                     conn: sa.Connection | None = None) -> int:
        vals = dict(user=user, action=action, candidate_id=candidate_id, article_id=article_id,
                    label=label, field=field, deed=deed, reason_code=reason_code, note=note,
                    payload=json.dumps(payload, ensure_ascii=False) if payload else None,
                    at=now_iso())
        if conn is not None:
            return int(conn.execute(sa.insert(decisions).values(**vals)).inserted_primary_key[0])
        with self.engine.begin() as c:
            return int(c.execute(sa.insert(decisions).values(**vals)).inserted_primary_key[0])


def article_row(rec: dict[str, Any]) -> dict[str, Any]:
    """The ``articles`` columns :meth:`Store.upsert_article` writes for ``rec`` (content hash,
    week, ``collected`` defaulting to now, ``extra`` as JSON); for bulk writers too."""
    from .text import content_hash  # local: text imports nothing from here

    if not rec.get("uid"):
        raise ValueError("article record without uid")
    rec = dict(rec)
    rec.setdefault("collected", now_iso())
    rec["title"] = rec.get("title") or ""
    rec["lead"] = rec.get("lead") or ""
    rec["text"] = rec.get("text") or ""
    rec["content_hash"] = content_hash(rec["title"], rec["lead"], rec["text"])
    rec["week"] = iso_week(rec.get("published"), rec["collected"])
    if isinstance(rec.get("extra"), (dict, list)):
        rec["extra"] = json.dumps(rec["extra"], ensure_ascii=False)
    return {k: v for k, v in rec.items() if k in articles.c and k != "id"}


def open_store(url: str | None = None) -> Store:
    from .config import Config
    return Store(url or Config.load().db)


def rows_to_dicts(rows: Iterable[Any]) -> list[dict[str, Any]]:
    return [dict(r._mapping) if hasattr(r, "_mapping") else dict(r) for r in rows]
