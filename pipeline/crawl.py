"""Crawl: discover article URLs from the catalogue's feeds and sitemaps, fetch, extract, store.

``crawl(store, sources)`` is incremental and resumable:

- a feed or sitemap is fetched with a conditional GET; its validators are
  written to ``fetch_state`` only after every entry it listed was processed
  (or failed for good), so an interrupted run re-reads it next time;
- an entry already stored (its URL fetched before, or an article with that
  uid) is not fetched again unless the feed dates it after the last fetch;
- each page is committed soon after it is extracted: raw bytes
  (``put_raw``), the article (``upsert_article``, idempotent) and its
  ``fetch_state`` row always in the same transaction. One writer thread
  commits the pages queued meanwhile together (up to :data:`BATCH_PAGES`
  pages, :data:`BATCH_WAIT` seconds), so a kill loses at most the pages of
  the open transaction, none of whose rows are written, and the next run
  fetches them again. If a batch's transaction fails, its pages are written
  again one transaction each: only the page at fault fails (an ``events``
  row, and its feed is read again next run).

Failure is normal: every failed feed or page ends as an ``events`` row
(stage ``crawl``, level ``error``, with a reason) and in the per-source
report; the other sources complete.

``check_sources(sources)`` answers ``nguoitot sources check``: which feeds
answer and parse, with their entry count and newest date.
"""
from __future__ import annotations

import asyncio
import concurrent.futures as cf
import datetime as dt
import os
import queue
import re
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from .discover import clean_url, parse_feed, parse_sitemap
from .fetch import Fetcher, FetchResult, record_state
from .sources import Source

STAGE = "crawl"
BATCH_PAGES = 32   # pages committed in one store transaction at most
BATCH_WAIT = 0.2   # seconds a page may wait in the writer's queue for others to join its batch
STORE_FAILED = "store failed"


@dataclass
class SourceReport:
    source: str
    outlet: str = ""
    kind: str = "rss"
    url: str = ""
    status: str = "ok"        # ok | unchanged | partial | failed | skipped
    entries: int = 0          # URLs the feed/sitemap listed
    new: int = 0              # articles stored for the first time
    updated: int = 0          # stored articles whose text changed
    unchanged: int = 0        # pages fetched again with the same text, or 304
    known: int = 0            # entries already stored: not fetched
    not_article: int = 0      # pages the extractor saw as list/home pages
    deferred: int = 0         # beyond max_articles: left for the next run
    failed: int = 0           # pages that failed (each has an events row)
    reason: str = ""          # why the source failed, or a summary of page failures
    errors: list[dict[str, str]] = field(default_factory=list)  # {url, reason}

    def row(self) -> dict[str, Any]:
        return {"source": self.source, "status": self.status, "entries": self.entries, "new": self.new,
                "updated": self.updated, "unchanged": self.unchanged + self.known,
                "failed": self.failed, "deferred": self.deferred, "reason": self.reason}


@dataclass
class CrawlReport:
    sources: list[SourceReport] = field(default_factory=list)
    run_id: int | None = None
    elapsed: float = 0.0
    pages: int = 0                                      # article pages fetched with a body
    timings: dict[str, float] = field(default_factory=dict)  # seconds: fetch, extract, store
    fetch_stats: dict[str, Any] = field(default_factory=dict)

    @property
    def any_failed(self) -> bool:
        return any(r.status in ("failed", "partial") or r.failed for r in self.sources)

    @property
    def failed(self) -> bool:
        return self.any_failed

    def totals(self) -> dict[str, int]:
        keys = ("entries", "new", "updated", "unchanged", "known", "not_article", "deferred", "failed")
        return {k: sum(getattr(r, k) for r in self.sources) for k in keys}

    def rows(self) -> list[dict[str, Any]]:
        return [r.row() for r in self.sources]

    def format_table(self) -> str:
        cols = ["source", "status", "entries", "new", "updated", "unchanged", "failed", "deferred", "reason"]
        rows = [{k: str(v) for k, v in r.items()} for r in self.rows() if r["status"] != "skipped"]
        t = self.totals()
        rows.append({"source": "TOTAL", "status": "", "entries": str(t["entries"]), "new": str(t["new"]),
                     "updated": str(t["updated"]), "unchanged": str(t["unchanged"] + t["known"]),
                     "failed": str(t["failed"]), "deferred": str(t["deferred"]),
                     "reason": f"{self.elapsed:.1f}s"})
        for r in rows:
            if len(r["reason"]) > 70:
                r["reason"] = r["reason"][:67] + "..."
        width = {c: max(len(c), *(len(r[c]) for r in rows)) for c in cols}
        lines = ["  ".join(c.ljust(width[c]) for c in cols), "  ".join("-" * width[c] for c in cols)]
        lines += ["  ".join(r[c].ljust(width[c]) for c in cols) for r in rows]
        skipped = [r for r in self.sources if r.status == "skipped"]
        if skipped:
            kinds: dict[str, int] = {}
            for r in skipped:
                kinds[r.reason.split(":")[0]] = kinds.get(r.reason.split(":")[0], 0) + 1
            lines.append("skipped: " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "elapsed": self.elapsed, "pages": self.pages,
                "timings": self.timings, "totals": self.totals(), "any_failed": self.any_failed,
                "sources": [asdict(r) for r in self.sources]}


# ----------------------------------------------------------------- helpers
def _domain(host: str | None) -> str:
    parts = (host or "").lower().split(".")
    return ".".join(parts[-3:]) if len(parts) > 2 and parts[-2] in ("com", "org", "gov", "edu", "net") \
        else ".".join(parts[-2:])


def article_uid(canonical: str | None, url: str) -> str:
    """The canonical URL when it is a plausible article URL of the same site, else ``url``."""
    if canonical:
        try:
            c = urlsplit(canonical)
            u = urlsplit(url)
        except ValueError:
            c = None
        if c and c.scheme in ("http", "https") and len(c.path.strip("/")) > 0 \
                and _domain(c.hostname) == _domain(u.hostname):
            return clean_url(canonical)
    return clean_url(url)


def _parse_iso(s: str | None) -> dt.datetime | None:
    if not s:
        return None
    try:
        d = dt.datetime.fromisoformat(s)
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=dt.timezone(dt.timedelta(hours=7)))


def newest(entries: list[dict[str, Any]]) -> str | None:
    dated = [(d, e["published"]) for e in entries if (d := _parse_iso(e.get("published")))]
    return max(dated)[1] if dated else None


def _default_extract() -> Callable[..., dict[str, Any]]:
    from .extract import extract
    return extract


def _transient(res: FetchResult) -> bool:
    """Worth another try next run: network errors, 5xx, 429, and pages the store could not take."""
    return res.status is None or res.status >= 500 or res.status == 429 \
        or (res.error or "").startswith(STORE_FAILED)


def _resolve(fut: asyncio.Future, value: Any) -> None:
    """Hand a writer result to the event loop (the awaiting page may have been cancelled)."""
    if not fut.done():
        fut.set_result(value)


def _filter(entries: list[dict[str, Any]], rules: dict[str, Any]) -> list[dict[str, Any]]:
    inc = [re.compile(p) for p in rules.get("include", [])]
    exc = [re.compile(p) for p in rules.get("exclude", [])]
    return [e for e in entries
            if (not inc or any(p.search(e["url"]) for p in inc)) and not any(p.search(e["url"]) for p in exc)]


class _Crawler:
    def __init__(self, store: Any, fetcher: Fetcher, *, run_id: int | None, extract: Callable,
                 pool: cf.Executor | None, bar: Any):
        self.store = store
        self.fetcher = fetcher
        self.run_id = run_id
        self.extract = extract
        self.pool = pool
        self.bar = bar
        # The store's one writer: pages queued by the event loop, committed in batches.
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.writer = threading.Thread(target=self._write_loop, name="nguoitot-store", daemon=True)
        self.writer.start()
        self.batches: list[int] = []  # pages per committed write transaction
        self.validators: dict[str, dict[str, str]] = {}  # entry URL -> conditional GET headers
        self.claimed: set[str] = set()  # entry URLs taken by a source in this run
        self.inflight = asyncio.Semaphore(max(4, 4 * fetcher.concurrency))  # pages between fetch and extracted
        self.storing = asyncio.Semaphore(2 * BATCH_PAGES)  # pages queued for the writer or in its batch
        self.timings = {"fetch": 0.0, "extract": 0.0, "store": 0.0}
        self.pages = 0

    def error(self, rep: SourceReport, url: str, reason: str, level: str = "error") -> None:
        self.store.log_event(STAGE, level, reason, source=rep.source, target=url, run_id=self.run_id)
        if level == "error":
            rep.errors.append({"url": url, "reason": reason})

    def known(self, entries: list[dict[str, Any]]) -> list[bool]:
        """For each entry: stored before (fetched, or an article with that uid/url) and not
        dated after its last fetch. Two queries for the whole list."""
        import sqlalchemy as sa
        from .store import articles, fetch_state
        urls = [e["url"] for e in entries]
        states: dict[str, Any] = {}
        stored: set[str] = set()
        with self.store.engine.connect() as c:
            for i in range(0, len(urls), 500):
                chunk = urls[i:i + 500]
                for row in c.execute(sa.select(fetch_state.c.url, fetch_state.c.raw_hash, fetch_state.c.status,
                                               fetch_state.c.fetched, fetch_state.c.etag,
                                               fetch_state.c.last_modified).where(fetch_state.c.url.in_(chunk))):
                    states[row.url] = row
                stored.update(r[0] for r in c.execute(sa.select(articles.c.uid).where(articles.c.uid.in_(chunk))))
        out = []
        for e in entries:
            st = states.get(e["url"])
            if st is not None:  # what Fetcher.cached_validators would read, without a query a page
                v = {}
                if st.etag:
                    v["If-None-Match"] = st.etag
                if st.last_modified:
                    v["If-Modified-Since"] = st.last_modified
                self.validators[e["url"]] = v
            if st is not None and st.raw_hash and st.status in (200, 304):
                pub, fetched = _parse_iso(e.get("published")), _parse_iso(st.fetched)
                out.append(not (pub and fetched and pub > fetched))
            else:
                out.append(e["url"] in stored)
        return out

    async def fetch(self, url: str, src: Source, validators: dict[str, str] | None = None,
                    **kw: Any) -> FetchResult:
        t = time.perf_counter()
        headers = {"User-Agent": src.user_agent} if src.user_agent else {}
        if validators is not None:  # known already: no fetch_state query for this URL
            headers.update(validators)
            kw["conditional"] = False
        res = await self.fetcher.fetch(url, min_interval=src.min_interval, headers=headers or None, **kw)
        self.timings["fetch"] += time.perf_counter() - t
        return res

    # -- a source --------------------------------------------------------
    async def source(self, src: Source) -> SourceReport:
        rep = SourceReport(source=src.name, outlet=src.outlet, kind=src.kind, url=src.url or src.path or "")
        if src.kind == "inbox":
            rep.status, rep.reason = "skipped", "inbox: handled by ingest"
            return rep
        if not src.enabled:
            rep.status, rep.reason = "skipped", "disabled"
            return rep
        try:
            await self._source(src, rep)
        except Exception as e:  # a bug or an unexpected input must not stop the other sources
            rep.status, rep.reason = "failed", f"unexpected error: {type(e).__name__}: {e}"
            self.error(rep, src.url or "", rep.reason)
        return rep

    async def _listing(self, src: Source, rep: SourceReport, url: str,
                       conditional: bool = True) -> tuple[FetchResult, list[dict[str, Any]] | None]:
        res = await self.fetch(url, src, conditional=conditional, record=False)
        if res.error:
            self.error(rep, url, f"{src.kind} fetch failed: {res.error}")
            self.fetcher.record(res)
            return res, None
        if res.not_modified:
            return res, None
        parse = parse_sitemap if src.kind == "sitemap" else parse_feed
        try:
            entries = parse(res.body, res.final_url)
        except ValueError as e:
            res.error = f"{src.kind} unreadable: {e}"
            self.error(rep, url, res.error)
            self.fetcher.record(res)
            return res, None
        res.raw_hash = self.store.put_raw(res.body, media_type=res.media_type or None, origin=url)
        return res, entries

    async def _source(self, src: Source, rep: SourceReport) -> None:
        assert src.url
        if src.rules.get("prime"):  # a page that sets the session cookie the feed needs
            primed = await self.fetch(str(src.rules["prime"]), src, conditional=False, record=False)
            if primed.error:
                self.store.log_event(STAGE, "warning", f"priming failed: {primed.error}", source=src.name,
                                     target=str(src.rules["prime"]), run_id=self.run_id)
        res, entries = await self._listing(src, rep, src.url)
        if res.error:
            rep.status, rep.reason = "failed", res.error
            return
        if res.not_modified:
            rep.status, rep.reason = "unchanged", "304 Not Modified"
            self.fetcher.record(res)
            return
        assert entries is not None
        listings = [res]
        children = [e for e in entries if e.get("sitemap")]
        if children:  # a sitemap index: follow its most recent child sitemaps
            entries = [e for e in entries if not e.get("sitemap")]
            for child in children[: int(src.rules.get("sitemap_children", 3))]:
                cres, centries = await self._listing(src, rep, child["url"], conditional=False)
                if centries is not None:
                    entries += [e for e in centries if not e.get("sitemap")]
                elif cres.error:
                    rep.failed += 1
        entries = _filter(entries, src.rules)
        rep.entries = len(entries)
        todo = []
        for e, known in zip(entries, self.known(entries)):
            if known or e["url"] in self.claimed:  # stored, or another source has it this run
                rep.known += 1
            else:
                todo.append(e)
        if len(todo) > src.max_articles:
            rep.deferred = len(todo) - src.max_articles
            todo = todo[: src.max_articles]
            self.store.log_event(STAGE, "warning", f"{rep.deferred} entries beyond max_articles="
                                 f"{src.max_articles} left for the next run", source=src.name,
                                 target=src.url, run_id=self.run_id)
        self.claimed.update(e["url"] for e in todo)
        self.bar.total = (self.bar.total or 0) + len(todo)
        self.bar.refresh()
        results = await asyncio.gather(*(self.page(src, rep, e) for e in todo))
        transient = sum(1 for r in results if r is not None and _transient(r))
        if rep.failed:
            rep.status = "partial"
            reasons: dict[str, int] = {}
            for err in rep.errors:
                key = re.sub(r"^(page|rss|sitemap) fetch failed: ", "", err["reason"])
                key = re.split(r":| \(| at | more than", key)[0].strip()
                reasons[key] = reasons.get(key, 0) + 1
            rep.reason = "; ".join(f"{n}× {k}" for k, n in sorted(reasons.items(), key=lambda kv: -kv[1]))
        # Remember the feed's validators only when nothing is left to do from it.
        if not rep.deferred and not transient:
            for r in listings:
                self.fetcher.record(r)

    # -- a page ------------------------------------------------------------
    async def page(self, src: Source, rep: SourceReport, entry: dict[str, Any]) -> FetchResult | None:
        """Fetch, extract and store one entry; returns the failed result, or None.

        Bounded, so that memory does not grow with the number of entries: ``inflight``
        pages between fetch and extraction, ``storing`` pages queued for the writer (a page
        takes its place there before it leaves ``inflight``), and fetching goes on while
        the writer's batch fills."""
        try:
            await self.inflight.acquire()
            try:
                got = await self._fetch_extract(src, rep, entry)
                if not isinstance(got, tuple):
                    return got
                await self.storing.acquire()
            finally:
                self.inflight.release()
            try:
                return await self._store(src, rep, entry, *got)
            finally:
                self.storing.release()
        finally:
            self.bar.update(1)

    async def _fetch_extract(self, src: Source, rep: SourceReport, entry: dict[str, Any]
                             ) -> tuple[FetchResult, dict[str, Any], tuple[str, bytes] | None] | FetchResult | None:
        """``(res, ex, packed)`` for a page to store, else the failed result or None (304)."""
        url = entry["url"]
        res = await self.fetch(url, src, self.validators.get(url, {}), record=False)
        if res.error:
            rep.failed += 1
            self.error(rep, url, f"page fetch failed: {res.error}")
            self.fetcher.record(res)
            return res
        if res.not_modified:
            rep.unchanged += 1
            self.fetcher.record(res)
            return None
        self.pages += 1
        t = time.perf_counter()
        try:
            got = None
            if self.pool is not None:
                try:
                    got = await asyncio.get_running_loop().run_in_executor(
                        self.pool, _extract_packed, self.extract, res.body, res.final_url, res.encoding)
                except cf.process.BrokenProcessPool:  # a worker died (OOM killer...): go on without
                    self.pool = None
                    self.store.log_event(STAGE, "warning", "extraction worker died: extracting "
                                         "in-process for the rest of the run", source=src.name,
                                         target=url, run_id=self.run_id)
            if got is None:
                got = self.extract(res.body, res.final_url, res.encoding), None
        except Exception as e:
            res.error = f"extraction failed: {type(e).__name__}: {e}"
            rep.failed += 1
            self.error(rep, url, res.error)
            self.fetcher.record(res)
            return res
        finally:
            self.timings["extract"] += time.perf_counter() - t
        return res, got[0], got[1]

    async def _store(self, src: Source, rep: SourceReport, entry: dict[str, Any], res: FetchResult,
                     ex: dict[str, Any], packed: tuple[str, bytes] | None) -> FetchResult | None:
        url = entry["url"]
        t = time.perf_counter()
        try:
            # The store's work (SQLite; zlib and hashing unless a worker did them) runs in the
            # writer thread so that the event loop keeps fetching meanwhile.
            state = await self.store_page(src, entry, res, ex, packed)
        finally:
            self.timings["store"] += time.perf_counter() - t
        if isinstance(state, BaseException):
            res.error = f"{STORE_FAILED}: {type(state).__name__}: {state}"
            rep.failed += 1
            self.error(rep, url, res.error)
            try:  # a failure, without raw_hash: fetched again next run
                self.fetcher.record(res)
            except Exception:
                pass
            return res
        if state == "not_article":
            rep.not_article += 1
        elif state == "new":
            rep.new += 1
        elif state == "updated":
            rep.updated += 1
        else:
            rep.unchanged += 1
        return None

    # -- the store writer ----------------------------------------------------
    async def store_page(self, src: Source, entry: dict[str, Any], res: FetchResult, ex: dict[str, Any],
                         packed: tuple[str, bytes] | None = None) -> str | BaseException:
        """Queue one page for the writer; its state (see :meth:`save`), or the exception
        that kept it out of the store. ``packed``: the body's sha256 and zlib bytes, if
        an extraction worker made them."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        page = (src, entry, res, ex) if packed is None else (src, entry, res, ex, packed)
        self.queue.put((time.monotonic(), page, loop, fut))
        return await fut

    def close(self) -> None:
        """Write what is queued, then stop the writer thread."""
        if self.writer.is_alive():
            self.queue.put(None)
            self.writer.join()

    def _write_loop(self) -> None:
        q = self.queue
        stop = False
        while not stop:
            first = q.get()
            if first is None:
                return
            batch = [first]
            deadline = first[0] + BATCH_WAIT  # a page waits BATCH_WAIT at most for others
            while len(batch) < BATCH_PAGES:
                try:
                    item = q.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            try:
                results = self.save_batch([b[1] for b in batch])
            except BaseException as e:  # a bug here must not leave a page waiting for ever
                results = [e] * len(batch)
            for (_t, _page, loop, fut), r in zip(batch, results):
                try:
                    loop.call_soon_threadsafe(_resolve, fut, r)
                except RuntimeError:  # the loop is closed: nobody waits any more
                    pass

    def save_batch(self, pages: list[tuple]) -> list[str | Exception]:
        """Write ``pages`` (``(src, entry, res, ex[, packed])`` each) in one transaction; if it fails,
        again one transaction a page, so that only the page at fault fails. One result a
        page: its state (see :meth:`save`) or its exception."""
        if len(pages) > 1:
            try:
                with self.store.begin() as c:
                    out: list[str | Exception] = list(self._save_many(c, pages))
                self.batches.append(len(pages))
                return out
            except Exception:
                pass  # rolled back: nothing of the batch was written
        out = []
        for p in pages:
            try:
                out.append(self.save(*p))
            except Exception as e:
                out.append(e)
        return out

    def save(self, src: Source, entry: dict[str, Any], res: FetchResult, ex: dict[str, Any],
             packed: tuple[str, bytes] | None = None) -> str:
        """One page in one transaction: raw bytes, the article (if it is one), the page's
        fetch_state. Returns ``new``/``updated``/``unchanged``, or ``not_article``."""
        with self.store.begin() as c:
            state = self._save(c, src, entry, res, ex, packed)
        self.batches.append(1)
        return state

    def _save_many(self, c: Any, pages: list[tuple]) -> list[str]:
        """What :meth:`_save` writes for each page, with a few statements for the whole batch:
        one query each for the raw hashes, article uids and fetch_state URLs already stored,
        then one multi-row INSERT each. The rare pages that change a stored row (an article
        fetched again, a uid twice in the batch) go through ``upsert_article`` /
        ``record_state`` one by one, after the bulk rows, as they would page by page."""
        import collections
        import sqlalchemy as sa
        from .store import Store, article_row, articles, events, fetch_state, now_iso, raw, sha256
        packed = [p[4] if len(p) > 4 else None for p in pages]
        pages = [p[:4] for p in pages]
        n = len(pages)
        hashes = [pk[0] if pk else sha256(res.body) for (_s, _e, res, _x), pk in zip(pages, packed)]
        have = {h for (h,) in c.execute(sa.select(raw.c.hash).where(raw.c.hash.in_(set(hashes))))}
        raw_rows = []
        for (_s, _e, res, _x), h, pk in zip(pages, hashes, packed):
            if h not in have:
                have.add(h)
                raw_rows.append(Store.raw_row(res.body, res.media_type or None, res.final_url, h,
                                              pk[1] if pk else None))
        if raw_rows:
            c.execute(sa.insert(raw), raw_rows)

        states: list[str | None] = [None] * n
        recs: dict[int, dict[str, Any]] = {}
        rows: dict[int, dict[str, Any]] = {}
        info = []
        for i, (src, entry, res, ex) in enumerate(pages):
            rec = self.record(src, entry, res, ex)
            if rec is None:  # a list/home page: remembered as fetched, not an article
                states[i] = "not_article"
                why = "list or home page" if ex.get("kind") != "article" else "no title or body"
                info.append(dict(stage=STAGE, level="info", reason=f"not stored as an article: {why}",
                                 source=src.name, target=entry["url"], run_id=self.run_id, at=now_iso()))
            else:
                rec["raw_hash"] = hashes[i]
                recs[i], rows[i] = rec, article_row(rec)
        if info:
            c.execute(sa.insert(events), info)
        uids = collections.Counter(r["uid"] for r in rows.values())
        stored = {u for (u,) in c.execute(sa.select(articles.c.uid).where(articles.c.uid.in_(list(uids))))} \
            if uids else set()
        fresh = [i for i, r in rows.items() if r["uid"] not in stored and uids[r["uid"]] == 1]
        by_keys: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for i in fresh:  # a multi-row INSERT needs the same columns in every row
            by_keys.setdefault(tuple(rows[i]), []).append(rows[i])
            states[i] = "new"
        for group in by_keys.values():
            c.execute(sa.insert(articles), group)
        for i in rows:
            if states[i] is None:
                _id, states[i] = self.store.upsert_article(recs[i], conn=c)

        urls = [res.url for _s, _e, res, _x in pages]
        known = {u for (u,) in c.execute(sa.select(fetch_state.c.url).where(fetch_state.c.url.in_(set(urls))))}
        new_states, later = [], []
        for i, (_s, _e, res, _x) in enumerate(pages):
            if res.url in known or res.error or res.not_modified:
                later.append(i)
                continue
            known.add(res.url)
            new_states.append({"url": res.url, "status": res.status, "fetched": now_iso(), "failures": 0,
                               "etag": res.headers.get("etag"), "last_modified": res.headers.get("last-modified"),
                               "raw_hash": hashes[i]})
        if new_states:
            c.execute(sa.insert(fetch_state), new_states)
        for i in later:
            record_state(self.store, pages[i][2], raw_hash=hashes[i], conn=c)
        return states  # type: ignore[return-value]

    def _save(self, c: Any, src: Source, entry: dict[str, Any], res: FetchResult, ex: dict[str, Any],
              packed: tuple[str, bytes] | None = None) -> str:
        import sqlalchemy as sa
        from .store import Store, events, now_iso, raw
        rec = self.record(src, entry, res, ex)
        if packed is None:
            raw_hash = self.store.put_raw(res.body, media_type=res.media_type or None,
                                          origin=res.final_url, conn=c)
        else:  # what put_raw does, with the worker's hash and zlib bytes
            raw_hash = packed[0]
            if c.execute(sa.select(raw.c.hash).where(raw.c.hash == raw_hash)).first() is None:
                c.execute(sa.insert(raw).values(**Store.raw_row(res.body, res.media_type or None, res.final_url,
                                                                raw_hash, packed[1])))
        if rec is None:  # a list/home page: remembered as fetched, not an article
            state = "not_article"
            why = "list or home page" if ex.get("kind") != "article" else "no title or body"
            c.execute(sa.insert(events).values(stage=STAGE, level="info", reason=f"not stored as an article: {why}",
                                               source=src.name, target=entry["url"], run_id=self.run_id,
                                               at=now_iso()))
        else:
            rec["raw_hash"] = raw_hash
            _id, state = self.store.upsert_article(rec, conn=c)
        record_state(self.store, res, raw_hash=raw_hash, conn=c)
        return state

    @staticmethod
    def record(src: Source, entry: dict[str, Any], res: FetchResult,
               ex: dict[str, Any]) -> dict[str, Any] | None:
        """The article record for ``store.upsert_article``, or None for a non-article page."""
        title = ex.get("title") or entry.get("title") or ""
        text = ex.get("text") or ""
        if ex.get("kind") != "article" or not (title and text):
            return None
        return {
            "uid": article_uid(ex.get("canonical_url"), res.final_url),
            "kind": "press",
            "url": clean_url(res.final_url),
            "outlet": src.outlet or ex.get("outlet"),
            "source": src.name,
            "section": ex.get("section") or src.section or None,
            "title": title,
            "lead": ex.get("lead") or entry.get("summary") or "",
            "text": text,
            "author": ex.get("author") or None,
            "published": ex.get("published") or entry.get("published"),
            "extra": {"feed_url": entry["url"], "feed_published": entry.get("published"),
                      "encoding": res.encoding, "area": src.area},
        }


def _extract_packed(extract: Callable, body: bytes, url: str, encoding: str | None
                    ) -> tuple[dict[str, Any], tuple[str, bytes]]:
    """In an extraction worker: the extraction, and the body's sha256 and zlib bytes for the
    ``raw`` row (CPU the store writer, which shares the GIL with the fetcher, need not spend)."""
    import zlib
    from .store import sha256
    return extract(body, url, encoding), (sha256(body), zlib.compress(body, 1))


class _NoBar:
    total = 0

    def update(self, n: int = 1) -> None:
        pass

    def refresh(self) -> None:
        pass

    def close(self) -> None:
        pass


def _make_pool(workers: int | None) -> cf.Executor | None:
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    if workers <= 0:
        return None
    if workers == 1:
        return cf.ThreadPoolExecutor(1)
    import multiprocessing as mp
    # fork: workers only run extract(); spawn/forkserver would re-import a script's __main__.
    ctx = mp.get_context("fork") if sys.platform.startswith("linux") else None
    pool = cf.ProcessPoolExecutor(workers, mp_context=ctx)
    for f in [pool.submit(int) for _ in range(workers)]:  # fork now, before our threads start
        f.result()
    return pool


async def crawl_async(store: Any, sources: list[Source], *, run_id: int | None = None,
                      progress: bool = True, politeness: bool = True, concurrency: int = 8,
                      fetch_options: dict[str, Any] | None = None, extract: Callable | None = None,
                      workers: int | None = None) -> CrawlReport:
    """The async body of :func:`crawl` (await it from a running event loop)."""
    t0 = time.monotonic()
    extract = extract or _default_extract()
    opts = fetch_opts(fetch_options, concurrency=concurrency)
    bar: Any = _NoBar()
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=0, unit="page", desc="crawl", file=sys.stderr, dynamic_ncols=True)
    pool = _make_pool(workers)
    try:
        async with Fetcher(store, politeness=politeness, **opts) as fetcher:
            crawler = _Crawler(store, fetcher, run_id=run_id, extract=extract, pool=pool, bar=bar)
            try:
                reports = await asyncio.gather(*(crawler.source(s) for s in sources))
            finally:
                crawler.close()
            stats = dict(fetcher.stats)
    finally:
        bar.close()
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    timings = dict(crawler.timings, transactions=float(len(crawler.batches)))  # store commits of pages
    report = CrawlReport(sources=list(reports), run_id=run_id, elapsed=time.monotonic() - t0,
                         pages=crawler.pages, timings=timings, fetch_stats=stats)
    return report


def fetch_opts(options: dict[str, Any] | None, **defaults: Any) -> dict[str, Any]:
    """Validated :class:`Fetcher` keyword arguments (e.g. the ``[crawl]`` table of the
    configuration: ``user_agent``, ``read_timeout``, ``max_bytes``, ``retries``...)."""
    import inspect
    allowed = set(inspect.signature(Fetcher.__init__).parameters) - {"self", "store", "politeness",
                                                                       "transport"}
    opts = dict(options or {})
    unknown = sorted(set(opts) - allowed)
    if unknown:
        raise ValueError(f"unknown crawl option(s) {', '.join(unknown)}; known: {', '.join(sorted(allowed))}")
    for k, v in defaults.items():
        opts.setdefault(k, v)
    return opts


def _run_sync(coro_fn: Callable[[], Any]) -> Any:
    """Run a coroutine to completion, also from inside a running loop (a notebook)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro_fn())
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coro_fn())
        except BaseException as e:  # re-raised in the caller's thread
            box["error"] = e

    th = threading.Thread(target=target, name="nguoitot-crawl")
    th.start()
    th.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


def crawl(store: Any, sources: list[Source], *, run_id: int | None = None, progress: bool = True,
          politeness: bool = True, concurrency: int = 8, fetch_options: dict[str, Any] | None = None,
          extract: Callable | None = None, workers: int | None = None) -> CrawlReport:
    """Crawl the enabled rss/sitemap ``sources`` into ``store``; returns a :class:`CrawlReport`.

    ``politeness=False`` removes the per-host delays (local tests, benchmarks);
    robots.txt is obeyed regardless. ``fetch_options`` go to :class:`Fetcher`
    (timeouts, ``max_bytes``, ``retries``, ``backoff``...). ``workers``
    extraction processes (default: up to 2; 0 = in the event loop's thread).
    Disabled and inbox sources are listed as skipped.
    """
    return _run_sync(lambda: crawl_async(store, sources, run_id=run_id, progress=progress,
                                         politeness=politeness, concurrency=concurrency,
                                         fetch_options=fetch_options, extract=extract, workers=workers))


# ------------------------------------------------------------ sources check
async def check_sources_async(sources: list[Source], *, concurrency: int = 8, politeness: bool = True,
                              fetch_options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    opts = fetch_opts(fetch_options, concurrency=concurrency)
    opts.setdefault("retries", 1)

    async def one(f: Fetcher, s: Source) -> dict[str, Any]:
        out: dict[str, Any] = {"source": s.name, "outlet": s.outlet, "kind": s.kind, "url": s.url or s.path,
                               "enabled": s.enabled, "verified": s.verified, "ok": False,
                               "status": "failed", "http": None, "entries": 0, "newest": None,
                               "reason": "", "elapsed": 0.0}
        if s.kind == "inbox":
            exists = bool(s.path) and os.path.isdir(os.path.expanduser(s.path))
            out.update(ok=exists, status="ok" if exists else "failed",
                       reason="" if exists else f"inbox folder not found: {s.path}")
            return out
        headers = {"User-Agent": s.user_agent} if s.user_agent else None
        res = await f.fetch(s.url, conditional=False, record=False, min_interval=s.min_interval,
                            headers=headers)
        out["http"], out["elapsed"] = res.status, round(res.elapsed, 2)
        if res.error:
            out["reason"] = res.error
            return out
        try:
            entries = (parse_sitemap if s.kind == "sitemap" else parse_feed)(res.body, res.final_url)
        except ValueError as e:
            out["reason"] = f"unreadable: {e}"
            return out
        out["entries"] = len(entries)
        out["newest"] = newest(entries)
        if entries:
            out.update(ok=True, status="ok")
            if res.redirects:
                out["reason"] = f"moved to {res.final_url}"
        else:
            out.update(status="empty", reason="parsed but no entries")
        return out

    async with Fetcher(None, politeness=politeness, **opts) as f:
        return list(await asyncio.gather(*(one(f, s) for s in sources)))


def check_sources(sources: list[Source], *, concurrency: int = 8, politeness: bool = True,
                  fetch_options: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """For each source: does its feed/sitemap answer and parse? One dict each:
    ``source, outlet, kind, url, enabled, verified, ok, status (ok|empty|failed), http,
    entries, newest, reason, elapsed``. Writes nothing."""
    return _run_sync(lambda: check_sources_async(sources, concurrency=concurrency, politeness=politeness,
                                                 fetch_options=fetch_options))
