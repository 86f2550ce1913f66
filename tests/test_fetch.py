"""The fetcher against the local replay server (127.0.0.1 only): politeness, retries, caps, charsets."""
from __future__ import annotations

import asyncio
import codecs
import html
import time
import unicodedata
from pathlib import Path

import pytest

from crawl_server import HUGE, CrawlServer, to_cp1258
from pipeline import __version__
from pipeline.fetch import USER_AGENT, Fetcher, detect_encoding, fetch_state_of, parse_retry_after

FAST = dict(connect_timeout=1.0, read_timeout=1.0, total_timeout=2.0, retries=1, backoff=0.05,
            max_bytes=4 * 1024 * 1024)


@pytest.fixture(scope="module")
def server(corpora: Path):
    with CrawlServer(corpora, press_limit=40) as srv:
        yield srv


def fetch_all(urls: list[str], store=None, **kw):
    opts = {**FAST, "politeness": False, **kw}

    async def go():
        async with Fetcher(store, **opts) as f:
            return await asyncio.gather(*(f.fetch(u) for u in urls))
    return asyncio.run(go())


def test_article_ok_with_honest_user_agent(server: CrawlServer) -> None:
    (r,) = fetch_all([server.url("/press/1.html")])
    assert r.ok and r.status == 200 and r.encoding == "utf-8" and r.error is None
    assert html.escape(server.press[1]["title"]) in r.text()
    ua = [h for p, h in server.requests if p == "/press/1.html"][-1]["User-Agent"]
    assert ua == USER_AGENT and ua.startswith(f"nguoitot/{__version__} (+http")


@pytest.mark.parametrize("path, reason", [
    ("/fail/status/404", "HTTP 404"),
    ("/fail/status/410", "HTTP 410"),
    ("/fail/status/500", "HTTP 500 (after 2 attempts)"),
    ("/fail/status/503", "HTTP 503 (after 2 attempts)"),
    ("/fail/retry-after-long", "Retry-After 3600s exceeds"),
    ("/fail/loop/a", "redirect loop"),
    ("/fail/redirect/7", "too many redirects"),
    ("/fail/truncated-gzip", "truncated gzip body"),
    ("/fail/huge-declared", "body too large: Content-Length 52428800"),
    ("/fail/close", "incomplete response"),
    ("/private/secret.html", "disallowed by robots.txt"),
])
def test_failures_end_with_a_reason(server: CrawlServer, path: str, reason: str) -> None:
    before = server.hits[path.split("?")[0]]
    (r,) = fetch_all([server.url(path)])
    assert not r.ok and r.body == b""
    assert reason in r.error
    if path.startswith("/private/"):
        assert server.hits[path] == before  # robots.txt obeyed: never requested


def test_timeouts(server: CrawlServer) -> None:
    t = time.monotonic()
    slow_headers, dribble = fetch_all([server.url("/fail/sleep/3"), server.url("/fail/slow")], retries=0)
    assert "timeout" in slow_headers.error and "ReadTimeout" in slow_headers.error
    assert "timeout: no complete response within 2s" in dribble.error
    assert time.monotonic() - t < 3.5


def test_huge_body_is_cut_off_while_streaming(server: CrawlServer) -> None:
    (r,) = fetch_all([server.url("/fail/huge")], max_bytes=2 * 1024 * 1024)
    assert r.error.startswith("body too large: more than 2097152 bytes")
    time.sleep(0.3)
    # The server could only push what the socket buffers took before we hung up: far from 50 MB.
    assert server.sent["/fail/huge"] < HUGE / 2


def test_retry_after_and_backoff(server: CrawlServer) -> None:
    t = time.monotonic()
    r429, r503, r500 = fetch_all([server.url("/fail/429/f1?n=1&after=1"), server.url("/fail/503/f2?n=2&after=0"),
                                  server.url("/fail/500/f3?n=1")], retries=2)
    assert r429.ok and r429.attempts == 2 and time.monotonic() - t >= 1.0  # waited Retry-After: 1
    assert r503.ok and r503.attempts == 3
    assert r500.ok and r500.attempts == 2


def test_redirects_followed(server: CrawlServer) -> None:
    (r,) = fetch_all([server.url("/fail/redirect/3")])
    assert r.ok and r.final_url == server.url("/press/3.html") and len(r.redirects) == 4


@pytest.mark.parametrize("path", ["/fail/gzip", "/fail/br"])
def test_compressed_bodies(server: CrawlServer, path: str) -> None:
    (r,) = fetch_all([server.url(path)])
    assert r.ok and r.body.startswith(b"<!DOCTYPE html>")
    assert server.sent[path] < len(r.body)  # it really came compressed


def test_charsets(server: CrawlServer) -> None:
    cp, wrong = fetch_all([server.url("/fail/cp1258"), server.url("/fail/wrong-charset")])
    assert cp.encoding == codecs.lookup("windows-1258").name
    title = unicodedata.normalize("NFC", html.escape(server.press[7]["title"]))
    assert title in cp.text()
    assert wrong.headers["content-type"].endswith("iso-8859-1") and wrong.encoding == "utf-8"
    assert html.escape(server.press[8]["title"]) in wrong.text()


def test_detect_encoding_units() -> None:
    vi = "Người tốt việc tốt: anh Nguyễn Văn Hùng cứu người đuối nước"
    assert detect_encoding(vi.encode("utf-8")) == "utf-8"
    assert detect_encoding(vi.encode("utf-8"), "text/html; charset=ISO-8859-1") == "utf-8"
    legacy = to_cp1258(vi)
    assert b"&#" not in legacy and legacy.decode("windows-1258") != vi
    assert detect_encoding(legacy) == "cp1258"  # undeclared: detected
    assert detect_encoding(b'<meta charset="windows-1258">' + legacy) == "cp1258"
    assert detect_encoding(b'<?xml version="1.0" encoding="windows-1258"?><rss/>') == "cp1258"
    assert detect_encoding(codecs.BOM_UTF8 + b"abc", "text/html; charset=windows-1252") == "utf-8"
    assert detect_encoding(b"plain ascii", "text/plain; charset=bogus-charset") == "utf-8"
    assert unicodedata.normalize("NFC", legacy.decode("cp1258")) == vi


def test_parse_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_conditional_get_costs_one_304(server: CrawlServer, store) -> None:
    url = server.url("/press/feed.xml?n=5")
    (first,) = fetch_all([url], store)
    assert first.ok and first.headers.get("etag")
    state = fetch_state_of(store, url)
    assert state["etag"] == first.headers["etag"] and state["status"] == 200 and state["failures"] == 0
    n = server.hits["/press/feed.xml"]
    (second,) = fetch_all([url], store)
    assert second.not_modified and second.status == 304 and second.body == b"" and not second.ok
    assert server.hits["/press/feed.xml"] == n + 1
    assert server.requests[-1][1].get("If-None-Match") == first.headers["etag"]
    (bad,) = fetch_all([server.url("/fail/status/404")], store)
    assert fetch_state_of(store, server.url("/fail/status/404"))["failures"] == 1


def test_politeness_min_interval_and_crawl_delay(corpora: Path) -> None:
    with CrawlServer(corpora, press_limit=5, robots="User-agent: *\nCrawl-delay: 0.6\n") as srv:
        t = time.monotonic()
        rs = fetch_all([srv.url(f"/press/{i}.html") for i in range(3)], politeness=True, min_interval=0.2)
        assert all(r.ok for r in rs)
        assert time.monotonic() - t >= 2 * 0.6 - 0.05  # Crawl-delay wins over the shorter interval
    with CrawlServer(corpora, press_limit=5) as a, CrawlServer(corpora, press_limit=5) as b:
        rs = fetch_all([a.url("/press/0.html"), a.url("/press/1.html"), b.url("/press/0.html"),
                        b.url("/press/1.html")], politeness=True, min_interval=0.5)
        assert all(r.ok for r in rs)
        ta = [t for p, t in a.times if p.startswith("/press/")]
        tb = [t for p, t in b.times if p.startswith("/press/")]
        assert ta[1] - ta[0] >= 0.5 - 0.01 and tb[1] - tb[0] >= 0.5 - 0.01  # one host: spaced
        assert tb[0] < ta[1] and ta[0] < tb[1]  # two hosts: not waiting for each other


def test_robots_unreachable_means_disallow(corpora: Path) -> None:
    with CrawlServer(corpora, press_limit=5, robots=None) as srv:  # 404 robots.txt: allow all
        (r,) = fetch_all([srv.url("/private/x.html")])
        assert r.ok
    (r,) = fetch_all(["http://127.0.0.1:9/x.html"], retries=0)  # nothing listens on port 9
    assert r.error.startswith("host unreachable: network error: ConnectError")
    with CrawlServer(corpora, press_limit=5, robots=503) as srv:  # 5xx robots.txt: disallow all
        a, b = fetch_all([srv.url("/press/0.html"), srv.url("/press/1.html")])
        assert a.error == b.error == "robots.txt answered HTTP 503: host skipped this run (RFC 9309)"
        assert srv.hits["/press/0.html"] == 0 and srv.hits["/robots.txt"] == 2  # one try + one retry


def test_bounded_concurrency(server: CrawlServer) -> None:
    t = time.monotonic()
    rs = fetch_all([server.url(f"/fail/sleep/0.4?{i}") for i in range(4)], concurrency=2)
    assert all(r.ok for r in rs)
    assert time.monotonic() - t >= 0.8 - 0.05  # 4 requests, 2 at a time


def test_retry_after_holds_the_whole_host(server: CrawlServer) -> None:
    """After a 429 with Retry-After: 1, other requests to that host wait too (politeness on)."""
    t0 = time.monotonic()

    async def go():
        async with Fetcher(None, **{**FAST, "politeness": True, "min_interval": 0.0}) as f:
            first = asyncio.ensure_future(f.fetch(server.url("/fail/429/hold?n=1&after=1")))
            await asyncio.sleep(0.3)  # the 429 has been answered by now
            return await first, await f.fetch(server.url("/press/9.html"))
    r429, other = asyncio.run(go())
    assert r429.ok and other.ok
    first = [t for p, t in server.times if p.startswith("/fail/429/hold")][0]
    later = [t for p, t in server.times if p == "/press/9.html" and t >= t0][0]
    assert later - first >= 0.95



def test_pacing_is_per_server_robots_per_origin() -> None:
    f = Fetcher(None)
    assert f._pace("http://www.vtv.vn/a") is f._pace("https://vtv.vn/b")
    assert f._pace("https://vtv.vn/b") is not f._pace("https://vov.vn/b")
    assert f._host("http://vtv.vn/a") is not f._host("https://vtv.vn/a")  # robots.txt per origin
