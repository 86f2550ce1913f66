"""The ``process`` stage: from stored articles to scored stories and candidates.

Incremental and idempotent: stories are assigned to articles that have none,
scores are computed for articles the active model has not scored (or whose
text changed since), and candidates are rebuilt for the weeks that changed.
A crash mid-way loses nothing: each batch of scores is committed as it is
made, and the next run picks up what is missing.
"""
from __future__ import annotations

import json
import logging
import sys
from typing import Any

import sqlalchemy as sa

from .store import Store, articles, now_iso, scores

log = logging.getLogger(__name__)


def unscored_query(model_version: str, weeks: list[str] | None = None) -> sa.Select:
    s = scores.alias("s")
    q = (sa.select(articles.c.id, articles.c.title, articles.c.lead, articles.c.text,
                   articles.c.content_hash, articles.c.week)
         .select_from(articles.outerjoin(s, sa.and_(s.c.article_id == articles.c.id,
                                                    s.c.model_version == model_version)))
         .where(sa.or_(s.c.article_id.is_(None), s.c.content_hash != articles.c.content_hash))
         .order_by(articles.c.id))
    if weeks:
        q = q.where(articles.c.week.in_(weeks))
    return q


def score_articles(store: Store, model: Any, *, weeks: list[str] | None = None, batch_size: int = 500,
                   progress: bool = True) -> dict[str, Any]:
    """Score every article the model has not scored yet; returns counts and touched weeks."""
    with store.connect() as c:
        todo = [dict(r._mapping) for r in c.execute(unscored_query(model.version, weeks))]
    touched: set[str] = set()
    flagged = 0
    bar = None
    if progress and todo:
        from tqdm import tqdm
        bar = tqdm(total=len(todo), unit=" articles", desc="score", file=sys.stderr)
    for i in range(0, len(todo), batch_size):
        chunk = todo[i:i + batch_size]
        results = model.score(chunk)
        stamp = now_iso()
        rows = []
        for art, res in zip(chunk, results):
            touched.add(art["week"])
            flagged += int(res["label"]) == 2
            rows.append(dict(
                article_id=art["id"], model_version=model.version, content_hash=art["content_hash"],
                score=float(res["score"]), label=int(res["label"]), field=res.get("field") or "",
                field_conf=res.get("field_conf"), deed=res.get("deed") or "",
                exemplars=json.dumps(res.get("exemplars") or [], ensure_ascii=False),
                reason=res.get("reason") or "", terms=json.dumps(res.get("terms") or [], ensure_ascii=False),
                place=json.dumps(res["place"], ensure_ascii=False) if res.get("place") else None,
                scored=stamp))
        with store.begin() as c:
            c.execute(sa.delete(scores).where(scores.c.model_version == model.version)
                      .where(scores.c.article_id.in_([r["article_id"] for r in rows])))
            c.execute(sa.insert(scores), rows)
        if bar is not None:
            bar.update(len(chunk))
    if bar is not None:
        bar.close()
    return {"scored": len(todo), "flagged": flagged, "weeks": sorted(touched)}


def process(store: Store, model: Any = None, *, weeks: list[str] | None = None, progress: bool = True,
            embedder: Any = None, models_dir: str | None = None) -> dict[str, Any]:
    """dedup → score → candidates (+ themes) over what is new. Returns stage statistics."""
    from .classify import load_model

    model = model or load_model(models_dir=models_dir)  # the promoted version of models_dir
    stats: dict[str, Any] = {"model_version": model.version}
    from . import dedup
    stats["stories"] = dedup.assign_stories(store)
    stats["scoring"] = score_articles(store, model, weeks=weeks, progress=progress)
    touched = sorted(set(stats["scoring"]["weeks"]) | set(weeks or []))
    if not touched:
        return stats
    from . import candidates
    cand_stats = {}
    for week in touched:
        cand_stats[week] = candidates.build_candidates(store, week, model_version=model.version,
                                                       embedder=embedder)
    stats["candidates"] = cand_stats
    return stats
