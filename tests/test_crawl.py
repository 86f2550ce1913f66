"""Discovery and the crawl, end to end against the local replay server (127.0.0.1 only)."""
from __future__ import annotations

import gzip
import html
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from crawl_server import FAIL_BAD, FAIL_GOOD, CrawlServer
from pipeline.crawl import CrawlReport, article_uid, check_sources, crawl
from pipeline.discover import clean_url, parse_date, parse_feed, parse_sitemap
from pipeline.fetch import fetch_state_of
from pipeline.sources import Source
from pipeline.store import articles, events, fetch_state

# Short, but not so short that a busy 2-core machine turns a good page into a timeout.
FAST = dict(connect_timeout=2.0, read_timeout=2.0, total_timeout=4.0, retries=1, backoff=0.05,
            max_bytes=4 * 1024 * 1024)


@pytest.fixture(scope="module")
def server(corpora: Path):
    with CrawlServer(corpora, press_limit=120) as srv:
        yield srv


def run(store, sources, **kw) -> CrawlReport:
    kw.setdefault("workers", 0)
    return crawl(store, sources, progress=False, politeness=False, fetch_options=FAST, **kw)


def stored(store) -> list[dict]:
    return list(store.iter_articles())


def _events(store, level: str) -> list[dict]:
    with store.engine.connect() as c:
        return [dict(r) for r in c.execute(sa.select(events).where(events.c.level == level)).mappings()]


def errors(store) -> list[dict]:
    return _events(store, "error")


# ---------------------------------------------------------------- discovery
def test_parse_real_vnexpress_feeds(corpora: Path) -> None:
    for f in sorted((corpora / "feeds").glob("*.xml")):
        body = f.read_bytes()
        entries = parse_feed(body, "http://vnexpress.net/rss/tin-moi-nhat.rss")
        assert len(entries) == body.count(b"<item>") > 10
        for e in entries:
            assert re.fullmatch(r"https?://[a-z.]*vnexpress\.net/\S+\.html", e["url"]), e["url"]
            assert e["title"] and e["title"] == e["title"].strip()
            assert e["published"].startswith("2017-0") and e["published"].endswith("+07:00")
            assert "<" not in e["summary"]


def test_parse_feed_formats_and_salvage(server: CrawlServer) -> None:
    import httpx
    get = lambda p: httpx.get(server.url(p)).content  # noqa: E731  (127.0.0.1 only)
    rss = parse_feed(get("/press/feed.xml?n=7"), server.base)
    atom = parse_feed(get("/press/atom.xml?n=7"), server.base)
    rdf = parse_feed(get("/press/rdf.xml?n=7"), server.base)
    assert [e["url"] for e in rss] == [e["url"] for e in atom] == [e["url"] for e in rdf] == \
        [server.press_url(i) for i in range(7)]
    assert rss[0]["published"] == atom[0]["published"] == rdf[0]["published"] == "2026-11-23T08:00:00+07:00"
    assert rss[2]["title"] == server.press[2]["title"].strip()
    broken = get("/fail/malformed-feed.xml")
    assert b"</rss>" not in broken and b" & " in broken
    salvaged = parse_feed(broken, server.base)
    assert [e["url"] for e in salvaged] == [server.press_url(i) for i in range(20, 25)]
    with pytest.raises(ValueError, match="not a feed"):
        parse_feed(get("/fail/garbage-feed.xml"), server.base)
    with pytest.raises(ValueError, match="empty"):
        parse_feed(b"  ", server.base)


def test_parse_sitemaps(server: CrawlServer) -> None:
    import httpx
    plain = parse_sitemap(httpx.get(server.url("/press/sitemap.xml?n=5")).content, server.base)
    gz = parse_sitemap(httpx.get(server.url("/press/sitemap.xml.gz?n=5")).content, server.base)
    assert plain == gz and [e["url"] for e in plain] == [server.press_url(i) for i in range(5)]
    assert plain[0]["title"] == server.press[0]["title"].strip() and plain[0]["published"].endswith("+07:00")
    index = parse_sitemap(httpx.get(server.url("/press/sitemap-index.xml")).content, server.base)
    assert [e["sitemap"] for e in index] == [True, True] and "start=0&n=10" in index[0]["url"]
    with pytest.raises(ValueError, match="not a sitemap"):
        parse_sitemap(b"<html><body>x</body></html>", server.base)


def test_dates_and_urls() -> None:
    assert parse_date("Wed, 26 Jul 2017 19:41:14 +0700") == "2017-07-26T19:41:14+07:00"
    assert parse_date("2025-08-09T09:26:47+07:07") == "2025-08-09T09:26:47+07:07"  # odd offsets kept
    assert parse_date("2026-03-07T08:52:11.000 +07:00") == "2026-03-07T08:52:11+07:00"
    assert parse_date("2026-03-07 09:40") == "2026-03-07T09:40:00+07:00"  # no zone: Vietnam time
    assert parse_date("07/03/2026 08:06") == "2026-03-07T08:06:00+07:00"
    assert parse_date("hôm qua") is None
    assert clean_url(" /a/b.html?utm_source=rss&id=3#top ", "https://VnExpress.net/rss") == \
        "https://vnexpress.net/a/b.html?id=3"
    assert article_uid("https://vnexpress.net/x-1.html", "https://m.vnexpress.net/x-1.html?utm_source=a") == \
        "https://vnexpress.net/x-1.html"
    assert article_uid("https://vnexpress.net/", "https://vnexpress.net/x-1.html") == "https://vnexpress.net/x-1.html"
    assert article_uid("https://other.example/x", "https://vnexpress.net/x-1.html") == "https://vnexpress.net/x-1.html"


# ---------------------------------------------------------------- crawling
def test_crawl_stores_articles_then_costs_one_304(server: CrawlServer, store) -> None:
    src = Source("press", "Báo thử", url=server.url("/press/feed.xml?n=12"), section="Thời sự")
    report = run(store, [src], run_id=store.start_run("crawl"))
    (r,) = report.sources
    assert (r.status, r.entries, r.new, r.failed) == ("ok", 12, 12, 0) and not report.any_failed
    rows = {a["url"]: a for a in stored(store)}
    assert set(rows) == {server.press_url(i) for i in range(12)}
    a = rows[server.press_url(3)]
    assert a["uid"] == a["url"] and a["outlet"] == "Báo thử" and a["source"] == "press" and a["kind"] == "press"
    assert a["title"] == server.press[3]["title"].strip()
    assert a["published"] == server.press_date(3).isoformat() and a["week"] == "2026-W47"  # Sunday 22 Nov
    assert a["text"][:40] in server.press[3]["text"].replace("\n", " ") or a["text"][:40] in server.press[3]["text"]
    assert store.get_raw(a["raw_hash"]).startswith(b"<!DOCTYPE html>")
    assert json.loads(a["extra"])["feed_url"] == server.press_url(3)
    table = report.format_table()
    assert table.splitlines()[0].split()[:4] == ["source", "status", "entries", "new"]
    assert re.search(r"^press\s+ok\s+12\s+12\s", table, re.M) and "TOTAL" in table

    n_requests = len(server.requests)
    again = run(store, [src])
    assert again.sources[0].status == "unchanged" and again.sources[0].new == 0
    # One request in all: the feed's 304 (robots.txt was kept in the store, pages are known).
    assert [p for p, _ in server.requests[n_requests:]] == ["/press/feed.xml?n=12"]
    assert fetch_state_of(store, server.url("/robots.txt"))["raw_hash"]
    feed_state = fetch_state_of(store, src.url)
    assert b"<rss" in store.get_raw(feed_state["raw_hash"]) and feed_state["etag"]
    assert len(stored(store)) == 12


def test_known_entries_are_not_fetched_again(server: CrawlServer, store) -> None:
    run(store, [Source("a", "Báo thử", url=server.url("/press/feed.xml?start=30&n=5"))])
    before = server.hits["/press/32.html"]
    # A different feed listing the same article plus new ones: only the new ones are fetched.
    rep = run(store, [Source("b", "Báo thử", kind="sitemap", url=server.url("/press/sitemap.xml?start=32&n=5"))])
    (r,) = rep.sources
    assert (r.entries, r.known, r.new) == (5, 3, 2)
    assert server.hits["/press/32.html"] == before
    assert len(stored(store)) == 7


def test_changed_article_is_updated_not_duplicated(server: CrawlServer, store) -> None:
    src = Source("c", "Báo thử", kind="sitemap", url=server.url("/press/sitemap.xml?start=40&n=1"))
    assert run(store, [src]).sources[0].new == 1
    assert run(store, [src]).sources[0].known == 1  # not fetched again
    with store.begin() as c:  # the stored copy is older than the date the sitemap now gives it
        c.execute(sa.update(fetch_state).where(fetch_state.c.url == server.press_url(40))
                  .values(fetched="2026-01-01T00:00:00+07:00"))
        c.execute(sa.update(articles).where(articles.c.uid == server.press_url(40)).values(text="bản cũ", content_hash="0" * 64))
    assert run(store, [src]).sources[0].updated == 1
    rows = [a for a in stored(store) if a["uid"] == server.press_url(40)]
    assert len(rows) == 1 and rows[0]["version"] == 2 and rows[0]["text"] != "bản cũ"


def test_include_exclude_rules(server: CrawlServer, store) -> None:
    src = Source("r", "Báo thử", url=server.url("/press/feed.xml?start=40&n=12"),
                 rules={"include": [r"/press/4\d\.html$"], "exclude": [r"/press/4[5-9]\.html$"]})
    r = run(store, [src]).sources[0]
    assert (r.entries, r.new) == (5, 5)
    assert sorted(a["url"] for a in stored(store)) == sorted(server.press_url(i) for i in range(40, 45))


def test_page_without_date_takes_the_feed_date(server: CrawlServer, store) -> None:
    r = run(store, [Source("n", "Báo thử", url=server.url("/press/feed.xml?start=50&n=3&nodate=1"))]).sources[0]
    assert r.new == 3
    for a in stored(store):
        i = int(re.search(r"/press/(\d+)\.html", a["url"]).group(1))
        assert a["published"] == server.press_date(i).isoformat()
        assert json.loads(a["extra"])["feed_published"] == a["published"]


def test_failures_are_recorded_and_other_sources_complete(server: CrawlServer, store) -> None:
    keep = {"uid": "https://example.org/da-co", "title": "Bài đã có", "text": "Nội dung đã lưu trước."}
    store.upsert_article(keep)
    sources = [
        Source("fail", "Lỗi", url=server.url("/fail/feed.xml")),
        Source("dead", "Lỗi", url=server.url("/fail/status/410?as=feed")),
        Source("garbage", "Lỗi", url=server.url("/fail/garbage-feed.xml")),
        Source("timeout", "Lỗi", url=server.url("/fail/sleep/5")),
        Source("salvaged", "Báo thử", url=server.url("/fail/malformed-feed.xml")),
        Source("good", "Báo thử", url=server.url("/press/feed.xml?start=60&n=10")),
        Source("atom", "Báo thử", url=server.url("/press/atom.xml?start=70&n=5")),
        Source("rdf", "Báo thử", url=server.url("/press/rdf.xml?start=75&n=5")),
        Source("smap", "Báo thử", kind="sitemap", url=server.url("/press/sitemap-index.xml")),
        Source("off", "Báo thử", url=server.url("/press/feed.xml?start=90"), enabled=False),
        Source("inbox", "Văn phòng", kind="inbox", path="/tmp/none"),
    ]
    run_id = store.start_run("crawl")
    t = time.monotonic()
    rep = run(store, sources, run_id=run_id)
    assert time.monotonic() - t < 100  # ~10 s on a quiet machine: no 120 s host hold, no 50 MB read
    by = {r.source: r for r in rep.sources}
    assert rep.any_failed
    assert by["fail"].status == "partial" and by["fail"].failed == len(FAIL_BAD)
    assert by["dead"].status == "failed" and "HTTP 410" in by["dead"].reason
    assert by["garbage"].status == "failed" and "not a feed" in by["garbage"].reason
    assert by["timeout"].status == "failed" and "timeout" in by["timeout"].reason
    assert (by["salvaged"].status, by["salvaged"].new) == ("ok", 5)
    assert (by["good"].status, by["good"].new) == ("ok", 10)
    assert (by["atom"].new, by["rdf"].new, by["smap"].status) == (5, 5, "ok")
    assert by["smap"].entries == 20  # both child sitemaps followed
    assert by["off"].status == by["inbox"].status == "skipped"
    table = rep.format_table()
    assert "\noff " not in table and table.endswith("skipped: 1 disabled, 1 inbox")
    assert (by["fail"].new + by["fail"].unchanged, by["fail"].entries) == (len(FAIL_GOOD), 21)
    assert "2× HTTP 5" not in by["fail"].reason and "1× HTTP 404" in by["fail"].reason
    # Every failed URL has an error event with a reason, on its source, in this run.
    # Keyed by source too: /fail/sleep/5 is both an item of "fail" and the feed of "timeout".
    by_src = {(e["source"], e["target"]): e for e in errors(store)}
    for path in FAIL_BAD:
        e = by_src[("fail", server.url(path))]
        assert e["run_id"] == run_id and e["reason"].startswith("page fetch failed: ")
    assert "timeout" in by_src[("timeout", server.url("/fail/sleep/5"))]["reason"]
    errs = {t: e for (src, t), e in by_src.items() if src == "fail"}
    assert "disallowed by robots.txt" in errs[server.url("/private/secret.html")]["reason"]
    assert "truncated gzip" in errs[server.url("/fail/truncated-gzip")]["reason"]
    assert "body too large" in errs[server.url("/fail/huge")]["reason"]
    assert "redirect loop" in errs[server.url("/fail/loop/a")]["reason"]
    assert "Retry-After" in errs[server.url("/fail/retry-after-long")]["reason"]
    assert ("dead", server.url("/fail/status/410?as=feed")) in by_src
    # The transient and odd-but-fine pages were stored, decoded right.
    urls = {a["url"]: a for a in stored(store) if a["url"]}
    for path in FAIL_GOOD:
        assert any(u.startswith(server.url(path.split("?")[0])) or u == server.press_url(3) for u in urls), path
    cp = urls[server.url("/fail/cp1258")]
    assert cp["title"] == server.press[7]["title"].strip() and json.loads(cp["extra"])["encoding"] == "cp1258"
    assert urls[server.url("/fail/wrong-charset")]["title"] == server.press[8]["title"].strip()
    # Nothing already stored was lost; failed pages are remembered as failures, not as articles.
    assert store.has_article("https://example.org/da-co")
    assert not any("/fail/status/" in u for u in urls)
    assert fetch_state_of(store, server.url("/fail/status/404"))["failures"] == 1
    # The feed with transient failures is not marked unchanged: the next run reads it again.
    assert fetch_state_of(store, server.url("/fail/feed.xml")) is None or \
        fetch_state_of(store, server.url("/fail/feed.xml"))["etag"] is None
    assert set(rep.to_dict()) >= {"sources", "totals", "any_failed", "timings"}


def test_max_articles_defers_and_resumes(server: CrawlServer, store) -> None:
    src = Source("cap", "Báo thử", url=server.url("/press/feed.xml?start=80&n=9"), max_articles=4)
    first = run(store, [src]).sources[0]
    assert (first.new, first.deferred) == (4, 5)
    assert (fetch_state_of(store, src.url) or {}).get("etag") is None  # not cached while work remains
    second = run(store, [src]).sources[0]
    assert (second.known, second.new, second.deferred) == (4, 4, 1)
    third = run(store, [src]).sources[0]
    assert (third.known, third.new, third.deferred) == (8, 1, 0)
    assert run(store, [src]).sources[0].status == "unchanged"
    assert len(stored(store)) == 9


def test_real_pages_replayed(server: CrawlServer, store) -> None:
    rep = run(store, [Source("real", "Báo thật", url=server.url("/feeds/site.xml"))])
    (r,) = rep.sources
    n_articles = sum(1 for x in server.index if x["kind"] == "article")
    assert r.entries == n_articles and r.failed == 0 and r.new == n_articles
    by_url = {a["url"]: a for a in stored(store)}
    for row in server.index:
        if row["kind"] != "article":
            continue
        a = by_url[row["url"]]
        assert a["text"] and len(a["text"]) > 500
        assert html.unescape(a["title"])[:20] in html.unescape(row["title"])
        if row["published"] and "+07:00" in row["published"]:
            assert a["published"][:16] == row["published"][:16]


def test_check_sources(server: CrawlServer) -> None:
    res = check_sources([Source("ok", "A", url=server.url("/press/feed.xml?n=8")),
                         Source("real", "VnExpress", url=server.url(
                             "/feeds/real/vnexpress_tin-moi-nhat_2017-07-26__vanpho93_string1407.xml")),
                         Source("gone", "B", url=server.url("/fail/status/404")),
                         Source("junk", "C", url=server.url("/fail/garbage-feed.xml")),
                         Source("moved", "D", url=server.url("/fail/redirect/1"))],
                        politeness=False, fetch_options=FAST)
    by = {r["source"]: r for r in res}
    assert by["ok"]["ok"] and by["ok"]["entries"] == 8 and by["ok"]["newest"] == "2026-11-23T08:00:00+07:00"
    assert by["real"]["entries"] == 25 and by["real"]["newest"].startswith("2017-07-26T19:")
    assert not by["gone"]["ok"] and by["gone"]["http"] == 404 and by["gone"]["reason"] == "HTTP 404"
    assert not by["junk"]["ok"] and "not a feed" in by["junk"]["reason"]
    assert not by["moved"]["ok"]  # an HTML page is not a feed, even after a redirect


def test_interrupted_run_resumes_without_loss_or_duplicates(server: CrawlServer, tmp_path: Path) -> None:
    """Kill -9 a crawl in the middle; the next run finishes the job, nothing doubled."""
    db = tmp_path / "resume.db"
    feed = server.url("/press/feed.xml?start=0&n=40")
    code = f"""
import sys
from pipeline.store import Store
from pipeline.sources import Source
from pipeline.crawl import crawl
import pipeline.crawl
pipeline.crawl.BATCH_WAIT = 0.5  # batches of several pages: the kill may land in an open one
s = Store("sqlite:///{db}")
crawl(s, [Source("r", "Báo thử", url="{feed}", min_interval=0.1)], progress=False, politeness=True, workers=0)
"""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    from pipeline.store import Store
    s = Store(f"sqlite:///{db}")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and s.count(articles) < 8:
            time.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        partial = s.count(articles)
        assert 8 <= partial < 40
        # What was committed is whole: each stored page has its raw bytes and its fetch_state,
        # and no fetch_state claims a page whose article is missing.
        assert_coherent(s, server)
        pages = {u for u, h in _page_states(s, server).items() if h}
        assert len(pages) == partial
        rep = crawl(s, [Source("r", "Báo thử", url=feed)], progress=False, politeness=False,
                    fetch_options=FAST, workers=0)
        r = rep.sources[0]
        assert r.known == partial and r.new == 40 - partial and r.failed == 0
        uids = [a["uid"] for a in s.iter_articles()]
        assert len(uids) == len(set(uids)) == 40
        assert_coherent(s, server)
    finally:
        if proc.poll() is None:
            proc.kill()
        s.close()


def _page_states(store, server: CrawlServer) -> dict[str, str | None]:
    """fetch_state of the article pages (not feeds, robots.txt): url -> raw_hash."""
    with store.engine.connect() as c:
        rows = c.execute(sa.select(fetch_state.c.url, fetch_state.c.raw_hash)).all()
    return {u: h for u, h in rows if re.search(r"/(press|replay)/\d+\.html$", u)}


def assert_coherent(store, server: CrawlServer) -> None:
    from pipeline.store import raw
    with store.engine.connect() as c:
        hashes = {h for (h,) in c.execute(sa.select(raw.c.hash))}
    arts = {a["url"]: a for a in stored(store)}
    states = _page_states(store, server)
    for url, a in arts.items():
        assert a["raw_hash"] in hashes, url
        assert states.get(url) == a["raw_hash"], url
    for url, h in states.items():
        if h:
            assert url in arts and h in hashes, url


def _poison(bad: str):
    def extract(html, url=None, encoding=None):
        from pipeline.extract import extract as real
        ex = real(html, url, encoding)
        if url == bad:
            ex["author"] = ["not", "bindable"]  # SQLite refuses a list: this page's INSERT fails
        return ex
    return extract


def test_a_failing_page_in_a_batch_fails_alone(server: CrawlServer, store, monkeypatch) -> None:
    """The batch's transaction fails on one page: rolled back, its pages written one by one,
    so only that page fails (with its event); the next run stores it, nothing twice."""
    import pipeline.crawl
    monkeypatch.setattr(pipeline.crawl, "BATCH_WAIT", 5.0)  # every page of the feed in one batch
    src = Source("b", "Báo thử", url=server.url("/press/feed.xml?start=0&n=10"))
    bad = server.press_url(4)
    run_id = store.start_run("crawl")
    rep = run(store, [src], run_id=run_id, extract=_poison(bad))
    (r,) = rep.sources
    assert (r.status, r.new, r.failed) == ("partial", 9, 1)
    assert rep.timings["transactions"] == 9  # the batch failed, then one commit a good page
    (err,) = errors(store)
    assert err["target"] == bad and err["run_id"] == run_id and err["source"] == "b"
    assert err["reason"].startswith("store failed: ")
    urls = {a["url"] for a in stored(store)}
    assert urls == {server.press_url(i) for i in range(10)} - {bad}
    st = fetch_state_of(store, bad)
    assert st["failures"] == 1 and st["raw_hash"] is None  # its rows were rolled back
    assert_coherent(store, server)
    # The feed was not marked as seen: the next run reads it again and stores the page.
    assert (fetch_state_of(store, src.url) or {}).get("etag") is None
    again = run(store, [src]).sources[0]
    assert (again.known, again.new, again.failed) == (9, 1, 0)
    uids = [a["uid"] for a in stored(store)]
    assert len(uids) == len(set(uids)) == 10
    assert_coherent(store, server)
    assert run(store, [src]).sources[0].status == "unchanged"


def test_pages_are_committed_in_batches(server: CrawlServer, store, monkeypatch) -> None:
    import pipeline.crawl
    monkeypatch.setattr(pipeline.crawl, "BATCH_WAIT", 5.0)
    monkeypatch.setattr(pipeline.crawl, "BATCH_PAGES", 4)
    rep = run(store, [Source("t", "Báo thử", url=server.url("/press/feed.xml?start=10&n=10"))])
    assert rep.sources[0].new == 10 and not rep.any_failed
    assert rep.timings["transactions"] == 3  # 4 + 4 + 2
    assert_coherent(store, server)


def test_save_batch_isolates_the_bad_page(store) -> None:
    """The writer's fallback, directly: one result a page, the bad page's rows all rolled back."""
    import types
    from pipeline.crawl import _Crawler, _NoBar
    from pipeline.fetch import FetchResult
    from pipeline.store import raw, sha256
    cr = _Crawler(store, types.SimpleNamespace(concurrency=1), run_id=None, extract=None, pool=None,
                  bar=_NoBar())
    try:
        src = Source("u", "Báo thử")
        pages = []
        for i in range(5):
            url = f"https://example.org/bai-{i}.html"
            body = f"<html><body><p>Bài {i}</p></body></html>".encode()
            res = FetchResult(url=url, final_url=url, status=200, body=body, encoding="utf-8",
                              headers={"content-type": "text/html", "etag": f'"e{i}"'})
            ex = {"kind": "article", "title": f"Tiêu đề {i}", "text": f"Nội dung bài {i}.",
                  "author": ["x"] if i == 2 else None}
            pages.append((src, {"url": url}, res, ex))
        pages.append((src, {"url": "https://example.org/ds"}, FetchResult(
            url="https://example.org/ds", final_url="https://example.org/ds", status=200, body=b"<html>ds</html>"),
            {"kind": "list"}))
        out = cr.save_batch(pages)
        assert out[:2] == ["new", "new"] and out[3:] == ["new", "new", "not_article"]
        assert isinstance(out[2], Exception)
        assert cr.batches == [1] * 5  # the batch rolled back, then one commit a good page
        assert sorted(a["uid"] for a in stored(store)) == [f"https://example.org/bai-{i}.html" for i in (0, 1, 3, 4)]
        with store.engine.connect() as c:
            hashes = {h for (h,) in c.execute(sa.select(raw.c.hash))}
        assert sha256(pages[2][2].body) not in hashes and sha256(pages[3][2].body) in hashes
        assert fetch_state_of(store, pages[2][2].url) is None
        assert fetch_state_of(store, pages[3][2].url)["etag"] == '"e3"'
        (info,) = _events(store, "info")
        assert info["target"] == "https://example.org/ds" and "list or home page" in info["reason"]
        # All good: one transaction for the batch; a page seen again is unchanged, not doubled.
        good = [p for i, p in enumerate(pages) if i != 2]
        assert cr.save_batch(good) == ["unchanged"] * 4 + ["not_article"] and cr.batches[-1] == 5
        assert store.count(articles) == 4
    finally:
        cr.close()


def _fake_page(src, url: str, text: str, canonical: str | None = None, kind: str = "article"):
    from pipeline.fetch import FetchResult
    body = f"<html><body><p>{text}</p></body></html>".encode()
    res = FetchResult(url=url, final_url=url, status=200, body=body, encoding="utf-8",
                      headers={"content-type": "text/html; charset=utf-8", "etag": f'"{len(text)}"'})
    ex = {"kind": kind, "title": f"Tiêu đề {text[:12]}", "text": text, "canonical_url": canonical,
          "published": "2026-11-20T08:00:00+07:00"}
    return (src, {"url": url, "published": None}, res, ex)


def test_bulk_batch_writes_what_page_by_page_writes(tmp_path: Path) -> None:
    """The batch writer's multi-row statements leave the same rows as one transaction a page,
    also for a uid twice in a batch, a changed article, a page fetched again, a list page."""
    import types
    from pipeline.crawl import _Crawler, _extract_packed, _NoBar
    from pipeline.store import Store, article_versions, raw
    src = Source("u", "Báo thử", section="Thời sự")
    u = "https://example.org/bai-{}.html".format
    batches = [
        [_fake_page(src, u(1), "Một"), _fake_page(src, u(2), "Hai"),
         _fake_page(src, u(3), "Ba", canonical=u(2)),           # same uid as 2, other text: updated
         _fake_page(src, u(4), "Bốn", canonical=u(1)),          # same uid as 1
         _fake_page(src, u(5), "Danh sách", kind="list"), _fake_page(src, u(6), "Một")],  # same bytes as 1
        [_fake_page(src, u(1), "Một, sửa lại"),                  # fetched again, changed
         _fake_page(src, u(2), "Hai"),                           # fetched again: the text of the first version
         _fake_page(src, u(7), "Bảy"), _fake_page(src, u(5), "Danh sách", kind="list")],
    ]

    def dump(store) -> dict:
        out = {}
        with store.engine.connect() as c:
            for t, skip in ((articles, {"id", "collected"}), (article_versions, {"article_id", "replaced"}),
                            (raw, {"created"}), (fetch_state, {"fetched"}), (events, {"id", "at"})):
                rows = [{k: v for k, v in r.items() if k not in skip} for r in c.execute(sa.select(t)).mappings()]
                out[t.name] = sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str))
        return out

    def packed(b):  # as an extraction worker hands them over: with the body's hash and zlib bytes
        return [p + (_extract_packed(lambda *a: None, p[2].body, "", None)[1],) for p in b]

    results, dumps = [], []
    for how in ("bulk", "bulk, packed by workers", "page by page"):
        store = Store(f"sqlite:///{tmp_path / f'{how}.db'}")
        cr = _Crawler(store, types.SimpleNamespace(concurrency=1), run_id=7, extract=None, pool=None,
                      bar=_NoBar())
        try:
            got = []
            for b in batches:
                if how == "page by page":
                    got += [cr.save(*p) for p in b]
                else:
                    got += cr.save_batch(packed(b) if "packed" in how else b)
            results.append(got)
            dumps.append(dump(store))
            if how != "page by page":
                assert cr.batches == [6, 4]  # one transaction a batch
        finally:
            cr.close()
            store.close()
    assert results[0] == results[1] == results[2] == [
        "new", "new", "updated", "updated", "not_article", "new", "updated", "updated", "new", "not_article"]
    assert dumps[0] == dumps[1] == dumps[2]
    d = dumps[0]
    assert len(d["articles"]) == 4 and len(d["article_versions"]) == 4 and len(d["fetch_state"]) == 7
    assert len(d["raw"]) == 7 and len(d["events"]) == 2  # 7 distinct bodies; two list-page events


def test_process_pool_extraction(server: CrawlServer, store) -> None:
    rep = crawl(store, [Source("pool", "Báo thử", url=server.url("/replay/feed.xml?n=6"))],
                progress=False, politeness=False, fetch_options=FAST, workers=2)
    assert rep.sources[0].new == 6 and rep.pages == 6
    assert len({a["uid"] for a in stored(store)}) == 6


def test_two_sources_same_entries_fetch_once(server: CrawlServer, store) -> None:
    before = server.hits["/press/100.html"]
    rep = run(store, [Source("x", "Báo thử", url=server.url("/press/feed.xml?start=100&n=4")),
                      Source("y", "Báo thử", kind="sitemap", url=server.url("/press/sitemap.xml?start=100&n=4"))])
    x, y = rep.sources
    assert x.new + y.new == 4 and x.known + y.known == 4
    assert server.hits["/press/100.html"] == before + 1


def test_crawl_from_a_running_event_loop(server: CrawlServer, store) -> None:
    """A notebook runs inside an event loop: crawl() still works (in a thread of its own)."""
    import asyncio

    async def inside():
        return run(store, [Source("nb", "Báo thử", url=server.url("/press/feed.xml?start=110&n=2"))])
    assert asyncio.run(inside()).sources[0].new == 2


def test_fetch_options_are_checked() -> None:
    from pipeline.crawl import fetch_opts
    assert fetch_opts({"read_timeout": 5}, concurrency=4) == {"read_timeout": 5, "concurrency": 4}
    assert fetch_opts({"concurrency": 2}, concurrency=4) == {"concurrency": 2}
    with pytest.raises(ValueError, match="unknown crawl option.*timeout_s"):
        fetch_opts({"timeout_s": 5})


def test_prime_rule_gets_the_session_cookie(server: CrawlServer, store) -> None:
    plain = run(store, [Source("q", "QĐND", url=server.url("/cookie/feed.xml"))]).sources[0]
    assert plain.status == "failed" and plain.reason == "HTTP 403"
    primed = run(store, [Source("q", "QĐND", url=server.url("/cookie/feed.xml"),
                                rules={"prime": server.url("/cookie/prime")})]).sources[0]
    assert (primed.status, primed.new) == ("ok", 2)


_TEST_PID = os.getpid()


def _die_on_third(html, url=None, encoding=None):  # module level: runs in a worker process
    if url.endswith("/replay/2.html") and os.getpid() != _TEST_PID:
        os._exit(3)  # a worker killed mid-page
    from pipeline.extract import extract
    return extract(html, url, encoding)


def test_a_dead_extraction_worker_does_not_stop_the_crawl(server: CrawlServer, store) -> None:
    rep = crawl(store, [Source("w", "Báo thử", url=server.url("/replay/feed.xml?n=5"))], progress=False,
                politeness=False, fetch_options=FAST, workers=2, extract=_die_on_third)
    r = rep.sources[0]
    assert (r.new, r.failed) == (5, 0)  # the page whose worker died was extracted in-process
    assert any("extraction worker died" in e["reason"] for e in _events(store, "warning"))

