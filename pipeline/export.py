"""``export articles``: stored articles as JSON Lines, the shape ``nguoitot score`` reads."""
from __future__ import annotations

import json
from typing import Any, TextIO

import sqlalchemy as sa

from .store import Store, articles

EXPORT_FIELDS = ("id", "url", "outlet", "title", "lead", "text", "published", "story",
                 "kind", "source_file", "location", "week", "collected")


def article_record(row: dict[str, Any]) -> dict[str, Any]:
    rec = {k: row.get(k) for k in EXPORT_FIELDS if k in row}
    rec["id"] = row["id"]
    rec["story"] = row.get("story_id") or row["id"]
    if row.get("extra"):
        try:
            rec["extra"] = json.loads(row["extra"])
        except (TypeError, ValueError):
            pass
    return rec


def export_articles(store: Store, out: TextIO, *, week: str | None = None, kind: str | None = None) -> int:
    """Write one JSON object a line; returns how many were written."""
    where = []
    if week:
        where.append(articles.c.week == week)
    if kind:
        where.append(articles.c.kind == kind)
    n = 0
    for row in store.iter_articles(sa.and_(*where) if where else None):
        out.write(json.dumps(article_record(row), ensure_ascii=False) + "\n")
        n += 1
    return n
