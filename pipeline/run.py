"""The weekly job (``nguoitot run``): crawl + ingest inbox + process + weekly list.

Safe from cron: an exclusive lock file stops two overlapping runs (the second
exits with code 3), and every stage is incremental, so an interrupted run
resumes where it stopped when started again.
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path
from typing import Any, Iterator

from .config import Config
from .weekly import current_week
from .store import Store

log = logging.getLogger(__name__)


class AlreadyRunning(RuntimeError):
    pass


@contextlib.contextmanager
def run_lock(path: Path) -> Iterator[None]:
    """Exclusive, non-blocking lock; released by the OS if the process dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            raise AlreadyRunning(f"another nguoitot run holds {path}") from e
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


def lock_path_for(db_url: str) -> Path:
    """The lock lives beside a SQLite database file, else in ./var."""
    if db_url.startswith("sqlite:///") and ":memory:" not in db_url:
        return Path(db_url[len("sqlite:///"):]).resolve().parent / "nguoitot.lock"
    return Path("var").resolve() / "nguoitot.lock"


def run(store: Store, cfg: Config, *, sources_file: str | None = None, week: str | None = None,
        out_dir: str | None = None, progress: bool = True, politeness: bool = True) -> dict[str, Any]:
    """One weekly job over the catalogue ``sources_file`` (default: the configured one)."""
    from .crawl import crawl
    from .process import process
    from .sources import load_sources
    from .weekly import render_weekly

    stats: dict[str, Any] = {}
    run_id = store.start_run("run")
    status = "failed"
    try:
        sources = load_sources(sources_file or cfg.sources)
        report = crawl(store, [s for s in sources if s.kind != "inbox"], run_id=run_id,
                       progress=progress, politeness=politeness, fetch_options=cfg.crawl or None)
        stats["crawl"] = report
        inboxes = [s for s in sources if s.kind == "inbox" and s.enabled]
        if cfg.report_inbox:
            inboxes.append(cfg.report_inbox)
        if inboxes:
            from .reports import ingest_inbox
            stats["inbox"] = [ingest_inbox(store, s) for s in inboxes]
        from .embed import get_embedder
        stats["process"] = process(store, progress=progress, embedder=get_embedder(cfg.embedding or None),
                                   models_dir=cfg.models_dir)
        week = week or current_week()
        stats["week"] = week
        stats["outputs"] = render_weekly(store, week, Path(out_dir or cfg.out_dir))
        status = "done"
        return stats
    finally:
        store.finish_run(run_id, status, {"week": stats.get("week")})
