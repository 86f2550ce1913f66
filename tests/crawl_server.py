"""A local HTTP server (127.0.0.1 only) that replays real pages and feeds and injects failures.

Used by the crawl tests and ``benchmarks/bench_crawl.py``; nothing here talks
to any other address. Routes (``BASE`` = ``http://127.0.0.1:PORT``):

Real data, links rewritten to this server (``https://host/...`` -> ``BASE/site/host/...``):

- ``/site/<host>/<path>``        a real saved page of ``/work/shared/corpora/pages`` at its
                                 (rewritten) canonical URL; any other path on a host with a real
                                 article page replays that article with its canonical URL
                                 replaced by the requested one (a distinct article per URL)
- ``/feeds/real/<file>``         the real 2017 VnExpress RSS feeds (links rewritten)
- ``/feeds/site.xml``            an RSS feed of the real article pages at their rewritten URLs
- ``/replay/<n>.html``           real article page ``n % 10`` under a distinct URL (benchmarks)
- ``/replay/feed.xml?n=N&start=S&min_kb=K`` an RSS feed of N ``/replay/`` URLs (pages >= K KB)

Generated from ``press.jsonl.gz`` (first ``press_limit`` articles with text; dates and URLs ours):

- ``/press/<i>.html``            article page (title, sapo, body, published time, canonical);
                                 ``?nodate=1`` without any date
- ``/press/feed.xml?n=&start=``  RSS 2.0 with ETag / Last-Modified (answers 304); ``&nodate=1``
                                 links the pages without a date
- ``/press/atom.xml``, ``/press/rdf.xml``  the same entries as Atom and RSS 1.0 (RDF)
- ``/press/sitemap.xml``, ``/press/sitemap-index.xml``, ``/press/sitemap.xml.gz``  news sitemaps

Failures:

- ``/fail/status/<code>``       that status (404, 410, 500, 503 ... with a small body)
- ``/fail/sleep/<s>``           waits ``s`` seconds before answering (timeouts)
- ``/fail/slow``                 headers, then one byte every 0.5 s for ever (read/total timeout)
- ``/fail/429/<key>?n=1&after=1``  ``n`` times 429 with ``Retry-After: after``, then an article
- ``/fail/503/<key>?n=1&after=1``  the same with 503
- ``/fail/500/<key>?n=1``         ``n`` times 500 (no Retry-After), then an article
- ``/fail/retry-after-long``     429 with ``Retry-After: 3600``
- ``/fail/loop/a`` <-> ``/fail/loop/b``  a redirect loop;  ``/fail/redirect/<n>`` n hops to an article
- ``/fail/truncated-gzip``       gzip body cut in half (Content-Length of the cut body)
- ``/fail/gzip``, ``/fail/br``    an article, gzip / brotli encoded (not failures)
- ``/fail/cp1258``               an article in windows-1258, declared only in ``<meta>``
- ``/fail/wrong-charset``        UTF-8 article served as ``charset=iso-8859-1``
- ``/fail/huge``                 50 MB streamed without Content-Length; ``/fail/huge-declared`` with it
- ``/fail/close``                connection closed without a response
- ``/fail/malformed-feed.xml``   a broken but salvageable RSS feed; ``/fail/garbage-feed.xml`` not a feed
- ``/fail/feed.xml``             RSS whose items point at every failure above plus good articles
- ``/private/...``               disallowed by the default robots.txt
- ``/cookie/feed.xml``           403 unless the session cookie set by ``/cookie/prime`` is sent

``server.hits[path]`` counts requests, ``server.sent[path]`` bytes written,
``server.requests`` keeps (path, headers) of each request, ``server.times`` (path, monotonic time).

Run standalone: ``python tests/crawl_server.py [--port 8765]``.
"""
from __future__ import annotations

import collections
import gzip
import hashlib
import html
import json
import re
import socket
import threading
import time
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
import datetime as dt

VN = dt.timezone(dt.timedelta(hours=7))
BASE_DATE = dt.datetime(2026, 11, 23, 8, 0, tzinfo=VN)
HUGE = 50 * 1024 * 1024
DEFAULT_ROBOTS = "User-agent: *\nDisallow: /private/\n"
XML = "application/rss+xml; charset=utf-8"
# Items of /fail/feed.xml that must end as recorded errors.
FAIL_BAD = ["/fail/status/404", "/fail/status/410", "/fail/status/500", "/fail/status/503",
            "/fail/sleep/5", "/fail/slow", "/fail/retry-after-long", "/fail/loop/a",
            "/fail/truncated-gzip", "/fail/huge", "/fail/huge-declared", "/fail/close",
            "/private/secret.html"]
# Items of /fail/feed.xml that must end stored (transient failures, encodings, redirects).
FAIL_GOOD = ["/fail/429/k1?n=1&after=1", "/fail/503/k2?n=1&after=0", "/fail/500/k3?n=1",
             "/fail/redirect/2", "/fail/gzip", "/fail/br", "/fail/cp1258", "/fail/wrong-charset"]


def load_press(corpora: Path, limit: int = 300) -> list[dict[str, Any]]:
    """The first ``limit`` press articles that have a title and a body."""
    out = []
    with gzip.open(corpora / "press.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            if rec.get("title") and len(rec.get("text") or "") > 200 and len(rec["title"]) < 250:
                out.append(rec)
                if len(out) >= limit:
                    break
    return out


def article_html(rec: dict[str, Any], url: str, published: dt.datetime | None,
                 charset: str = "utf-8") -> str:
    """A plain news-article page for a press record (what a simple CMS would emit)."""
    paras = [p.strip() for p in re.split(r"\n+", rec.get("text") or "") if p.strip()]
    if len(paras) < 3:  # one long block (older corpora): paragraphs of three sentences, as a CMS shows them
        sents = [x for p in paras for x in re.split(r"(?<=[.!?])\s+(?=[A-ZĐÀ-Ỹ\"“])", p) if x]
        paras = [" ".join(sents[k:k + 3]) for k in range(0, len(sents), 3)]
    e = html.escape
    pub_meta = (f'<meta property="article:published_time" content="{published.isoformat()}">'
                f'<time datetime="{published.isoformat()}">{published:%d/%m/%Y %H:%M}</time>'
                if published else "")
    body = "\n".join(f"<p>{e(p)}</p>" for p in paras)
    return (f'<!DOCTYPE html><html lang="vi"><head><meta charset="{charset}">'
            f'<title>{e(rec["title"])}</title><link rel="canonical" href="{e(url)}">'
            f'<meta property="og:type" content="article"><meta property="og:url" content="{e(url)}"><meta property="og:title" content="{e(rec["title"])}">'
            f'<meta name="description" content="{e(rec.get("lead") or "")}">'
            f'{pub_meta if published else ""}</head><body>'
            f'<header><nav><a href="/">Trang chủ</a> | <a href="/press/feed.xml">RSS</a></nav></header>'
            f'<article><h1>{e(rec["title"])}</h1><p class="sapo"><strong>{e(rec.get("lead") or "")}</strong></p>'
            f'<div class="content">{body}</div><p class="author">Phóng viên</p></article>'
            f'<footer>© Báo thử nghiệm nguoitot</footer></body></html>')


_TONES = "\u0300\u0301\u0303\u0309\u0323"


def to_cp1258(text: str) -> bytes:
    """windows-1258 bytes as legacy Vietnamese sites wrote them: base letters (ư, ơ, â...)
    precomposed, the five tone marks as combining characters."""
    import unicodedata
    out = []
    for ch in unicodedata.normalize("NFC", text):
        d = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in d if c in _TONES)
        base = unicodedata.normalize("NFC", "".join(c for c in d if c not in _TONES))
        out.append(base + tones)
    return "".join(out).encode("windows-1258", "xmlcharrefreplace")


def rss(items: list[dict[str, Any]], title: str, link: str) -> str:
    e = html.escape
    parts = [f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{e(title)}</title>'
             f'<link>{e(link)}</link><description>{e(title)}</description>']
    for it in items:
        pub = f"<pubDate>{format_datetime(it['published'])}</pubDate>" if it.get("published") else ""
        parts.append(f"<item><title>{e(it['title'])}</title><link>{e(it['url'])}</link>"
                     f"<guid>{e(it['url'])}</guid><description><![CDATA[{it.get('summary', '')}]]></description>"
                     f"{pub}</item>")
    parts.append("</channel></rss>")
    return "".join(parts)


class CrawlServer:
    def __init__(self, corpora: Path, press_limit: int = 300, robots: str | int | None = DEFAULT_ROBOTS,
                 port: int = 0):
        self.corpora = Path(corpora)
        self.robots = robots
        self.hits: collections.Counter[str] = collections.Counter()
        self.sent: collections.Counter[str] = collections.Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.times: list[tuple[str, float]] = []  # (path, time.monotonic()) of each request
        self._lock = threading.Lock()
        self.press = load_press(self.corpora, press_limit)
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._load_pages()
        self._thread: threading.Thread | None = None

    # -- data ------------------------------------------------------------
    def _rewrite(self, data: bytes) -> bytes:
        """Absolute links to the outlets (and their sub-domains) now point at this server."""
        if not hasattr(self, "_host_re"):
            alt = b"|".join(re.escape(h.encode()) for h in self.hosts)
            self._host_re = re.compile(rb"https?://((?:[a-z0-9-]+\.)*(?:" + alt + rb"))(?=[/\"'<\s?#]|$)")
        return self._host_re.sub(lambda m: f"{self.base}/site/".encode() + m.group(1), data)

    def _load_pages(self) -> None:
        pages = self.corpora / "pages"
        rows = [line.split("\t") for line in (pages / "INDEX.tsv").read_text(encoding="utf-8").splitlines()[1:]
                if line.strip()]
        self.hosts = sorted({urlsplit(r[3]).hostname for r in rows}, key=len, reverse=True)
        self.site: dict[str, bytes] = {}       # "/site/host/path" -> rewritten bytes
        self.article_of_host: dict[str, tuple[bytes, bytes]] = {}  # host -> (bytes, canonical)
        self.articles: list[tuple[bytes, bytes]] = []  # (rewritten bytes, rewritten canonical)
        self.index: list[dict[str, str]] = []
        for r in rows:
            fname, _size, title, canon, published = (r + [""] * 5)[:5]
            data = self._rewrite((pages / fname).read_bytes())
            parts = urlsplit(canon)
            local = f"/site/{parts.hostname}{parts.path or '/'}"
            self.site[local] = data
            local_url = f"{self.base}{local}"
            self.index.append({"file": fname, "url": local_url, "title": title, "published": published,
                               "kind": "article" if "_article" in fname else "list"})
            if "_article" in fname:
                pair = (data, local_url.encode())
                self.articles.append(pair)
                self.article_of_host.setdefault(parts.hostname, pair)
        self.real_feeds = {p.name: self._rewrite(p.read_bytes())
                           for p in sorted((self.corpora / "feeds").glob("*.xml"))}

    def press_url(self, i: int) -> str:
        return f"{self.base}/press/{i}.html"

    def press_date(self, i: int) -> dt.datetime:
        return BASE_DATE - dt.timedelta(hours=3 * i)

    def press_items(self, start: int = 0, n: int = 50) -> list[dict[str, Any]]:
        out = []
        for i in range(start, min(start + n, len(self.press))):
            rec = self.press[i]
            out.append({"url": self.press_url(i), "title": rec["title"], "summary": html.escape(rec.get("lead") or ""),
                        "published": self.press_date(i), "id": rec["id"]})
        return out

    def url(self, path: str) -> str:
        return self.base + path

    # -- lifecycle -------------------------------------------------------
    def start(self) -> "CrawlServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "CrawlServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def count(self, path: str) -> int:
        with self._lock:
            self.hits[path] += 1
            return self.hits[path]


def _handler(server: CrawlServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stalls
        srv = server

        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def handle(self) -> None:
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                self.close_connection = True

        # -- helpers -----------------------------------------------------
        def send(self, status: int, body: bytes = b"", ctype: str = "text/html; charset=utf-8",
                 headers: dict[str, str] | None = None, length: bool = True) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            if length:
                self.send_header("Content-Length", str(len(body)))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self.write(body)

        def write(self, data: bytes) -> None:
            try:
                self.wfile.write(data)
                self.wfile.flush()
                with self.srv._lock:
                    self.srv.sent[self.path_only] += len(data)
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                self.close_connection = True
                raise

        def conditional(self, body: bytes, ctype: str, last_modified: dt.datetime) -> None:
            etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
            lm = format_datetime(last_modified.astimezone(dt.timezone.utc), usegmt=True)
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            fresh = False
            if inm is not None:
                fresh = etag in [t.strip() for t in inm.split(",")]
            elif ims:
                try:
                    fresh = parsedate_to_datetime(ims) >= last_modified.replace(microsecond=0)
                except (TypeError, ValueError):
                    fresh = False
            if fresh:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send(200, body, ctype, {"ETag": etag, "Last-Modified": lm})

        def press_page(self, i: int, url: str | None = None) -> bytes:
            rec = self.srv.press[i % len(self.srv.press)]
            return article_html(rec, url or self.srv.press_url(i), self.srv.press_date(i)).encode("utf-8")

        # -- routes ------------------------------------------------------
        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            self.path_only = path = parts.path
            q = {k: v[0] for k, v in parse_qs(parts.query).items()}
            n_hit = self.srv.count(path)
            with self.srv._lock:
                self.srv.requests.append((self.path, dict(self.headers.items())))
                self.srv.times.append((self.path, time.monotonic()))
            try:
                self.route(path, q, n_hit)
            except (BrokenPipeError, ConnectionResetError, socket.timeout):
                self.close_connection = True

        def route(self, path: str, q: dict[str, str], n_hit: int) -> None:
            s = self.srv
            if path == "/robots.txt":
                if s.robots is None:
                    return self.send(404, b"no robots", "text/plain")
                if isinstance(s.robots, int):  # a server error on robots.txt
                    return self.send(s.robots, b"robots.txt error", "text/plain")
                return self.send(200, s.robots.encode(), "text/plain; charset=utf-8")
            if path.startswith("/private/"):
                return self.send(200, self.press_page(0))
            m = re.fullmatch(r"/press/(\d+)\.html", path)
            if m:
                i = int(m.group(1))
                if i >= len(s.press):
                    return self.send(404, b"not found")
                if q.get("nodate"):  # a page that gives no date: the feed's date must be used
                    page = article_html(s.press[i], f"{s.base}{path}?nodate=1", None)
                    return self.send(200, page.encode("utf-8"))
                return self.send(200, self.press_page(i))
            if path == "/press/feed.xml":
                start, n = int(q.get("start", 0)), int(q.get("n", 50))
                items = s.press_items(start, n)
                if q.get("nodate"):  # entries whose pages give no date
                    items = [dict(it, url=it["url"] + "?nodate=1") for it in items]
                body = rss(items, "Báo thử nghiệm - tin mới", s.base).encode()
                return self.conditional(body, XML, items[0]["published"] if items else BASE_DATE)
            if path == "/press/atom.xml":
                return self.send(200, self.atom(s.press_items(int(q.get("start", 0)), int(q.get("n", 20)))),
                                 "application/atom+xml; charset=utf-8")
            if path == "/press/rdf.xml":
                return self.send(200, self.rdf(s.press_items(int(q.get("start", 0)), int(q.get("n", 20)))),
                                 "application/rdf+xml; charset=utf-8")
            if path in ("/press/sitemap.xml", "/press/sitemap.xml.gz"):
                body = self.sitemap(s.press_items(int(q.get("start", 0)), int(q.get("n", 20))))
                if path.endswith(".gz"):
                    return self.send(200, gzip.compress(body), "application/x-gzip")
                return self.send(200, body, "application/xml; charset=utf-8")
            if path == "/press/sitemap-index.xml":
                body = ('<?xml version="1.0" encoding="UTF-8"?>'
                        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                        f'<sitemap><loc>{s.base}/press/sitemap.xml?start=0&amp;n=10</loc><lastmod>2026-11-23</lastmod></sitemap>'
                        f'<sitemap><loc>{s.base}/press/sitemap.xml?start=10&amp;n=10</loc><lastmod>2026-11-20</lastmod></sitemap>'
                        '</sitemapindex>').encode()
                return self.send(200, body, "application/xml; charset=utf-8")
            if path == "/feeds/site.xml":  # the real article pages, at their rewritten canonical URLs
                items = [{"url": r["url"], "title": r["title"], "summary": "",
                          "published": BASE_DATE} for r in s.index if r["kind"] == "article"]
                return self.send(200, rss(items, "real pages", s.base).encode(), XML)
            if path.startswith("/feeds/real/"):
                name = path.rsplit("/", 1)[1]
                if name in s.real_feeds:
                    return self.conditional(s.real_feeds[name], "text/xml; charset=utf-8", BASE_DATE)
                return self.send(404, b"not found")
            if path.startswith("/site/"):
                if path in s.site:
                    return self.send(200, s.site[path])
                host = path.split("/")[2]
                base_host = next((h for h in s.article_of_host if host == h or host.endswith("." + h)), None)
                if base_host is None:
                    return self.send(404, b"not found")
                data, canon = s.article_of_host[base_host]
                return self.send(200, data.replace(canon, (s.base + path).encode()))
            m = re.fullmatch(r"/replay/(\d+)\.html", path)
            if m:
                data, canon = s.articles[int(m.group(1)) % len(s.articles)]
                return self.send(200, data.replace(canon, (s.base + path).encode()))
            if path == "/replay/feed.xml":
                start, n, min_kb = int(q.get("start", 0)), int(q.get("n", 100)), int(q.get("min_kb", 0))
                ids = [i for i in range(start, start + 20 * n)
                       if len(s.articles[i % len(s.articles)][0]) >= min_kb * 1024][:n]
                items = [{"url": f"{s.base}/replay/{i}.html", "title": f"Bài {i}",
                          "published": BASE_DATE - dt.timedelta(minutes=i)} for i in ids]
                return self.send(200, rss(items, "replay", s.base).encode(), XML)
            if path == "/cookie/prime":  # sets the session cookie /cookie/feed.xml needs
                return self.send(200, b"<html>ok</html>", headers={"Set-Cookie": "session=ok; Path=/"})
            if path == "/cookie/feed.xml":
                if "session=ok" not in (self.headers.get("Cookie") or ""):
                    return self.send(403, b"no session", "text/plain")
                return self.send(200, rss(s.press_items(114, 2), "cookie", s.base).encode(), XML)
            if path.startswith("/fail/"):
                return self.fail(path, q, n_hit)
            return self.send(404, b"not found")

        def atom(self, items: list[dict[str, Any]]) -> bytes:
            e = html.escape
            entries = "".join(
                f'<entry><title>{e(it["title"])}</title><link rel="alternate" href="{e(it["url"])}"/>'
                f'<id>{e(it["url"])}</id><updated>{it["published"].isoformat()}</updated>'
                f'<summary>{it["summary"]}</summary></entry>' for it in items)
            return ('<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
                    f'<title>Atom thử</title><id>{self.srv.base}/press/atom.xml</id>'
                    f'<updated>{BASE_DATE.isoformat()}</updated>{entries}</feed>').encode()

        def rdf(self, items: list[dict[str, Any]]) -> bytes:
            e = html.escape
            entries = "".join(
                f'<item rdf:about="{e(it["url"])}"><title>{e(it["title"])}</title><link>{e(it["url"])}</link>'
                f'<description>{it["summary"]}</description><dc:date>{it["published"].isoformat()}</dc:date></item>'
                for it in items)
            return ('<?xml version="1.0" encoding="utf-8"?><rdf:RDF '
                    'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" '
                    'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel rdf:about="x"><title>RDF thử</title>'
                    f'<link>{self.srv.base}</link><description>d</description></channel>{entries}</rdf:RDF>').encode()

        def sitemap(self, items: list[dict[str, Any]]) -> bytes:
            e = html.escape
            urls = "".join(
                f'<url><loc>{e(it["url"])}</loc><news:news><news:publication><news:name>Báo thử</news:name>'
                f'<news:language>vi</news:language></news:publication>'
                f'<news:publication_date>{it["published"].isoformat()}</news:publication_date>'
                f'<news:title>{e(it["title"])}</news:title></news:news></url>' for it in items)
            return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                    'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + urls + '</urlset>').encode()

        def fail(self, path: str, q: dict[str, str], n_hit: int) -> None:
            s = self.srv
            m = re.fullmatch(r"/fail/status/(\d{3})", path)
            if m:
                return self.send(int(m.group(1)), f"status {m.group(1)}".encode(), "text/plain")
            m = re.fullmatch(r"/fail/sleep/([\d.]+)", path)
            if m:
                time.sleep(float(m.group(1)))
                return self.send(200, self.press_page(1, s.base + path))
            if path == "/fail/slow":
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                for _ in range(120):
                    self.write(b" ")
                    time.sleep(0.5)
                return
            m = re.fullmatch(r"/fail/(429|503|500)/([\w-]+)", path)
            if m:
                code, times = int(m.group(1)), int(q.get("n", 1))
                if n_hit <= times:
                    hdrs = {"Retry-After": q.get("after", "1")} if code != 500 else {}
                    return self.send(code, b"busy", "text/plain", hdrs)
                return self.send(200, self.press_page(2, s.base + path))
            if path == "/fail/retry-after-long":
                return self.send(429, b"slow down", "text/plain", {"Retry-After": "3600"})
            if path == "/fail/loop/a":
                return self.send(302, b"", headers={"Location": "/fail/loop/b"})
            if path == "/fail/loop/b":
                return self.send(301, b"", headers={"Location": s.base + "/fail/loop/a"})
            m = re.fullmatch(r"/fail/redirect/(\d+)", path)
            if m:
                k = int(m.group(1))
                loc = f"/fail/redirect/{k - 1}" if k > 0 else "/press/3.html"
                return self.send(302, b"", headers={"Location": loc})
            if path == "/fail/truncated-gzip":
                z = gzip.compress(self.press_page(4, s.base + path))
                return self.send(200, z[: len(z) // 2], headers={"Content-Encoding": "gzip"})
            if path == "/fail/gzip":
                return self.send(200, gzip.compress(self.press_page(5, s.base + path)),
                                 headers={"Content-Encoding": "gzip"})
            if path == "/fail/br":
                import brotli
                return self.send(200, brotli.compress(self.press_page(6, s.base + path)),
                                 headers={"Content-Encoding": "br"})
            if path == "/fail/cp1258":
                rec = s.press[7]
                page = article_html(rec, s.base + path, s.press_date(7), charset="windows-1258")
                return self.send(200, to_cp1258(page), "text/html")
            if path == "/fail/wrong-charset":
                return self.send(200, self.press_page(8, s.base + path), "text/html; charset=iso-8859-1")
            if path in ("/fail/huge", "/fail/huge-declared"):
                declared = path.endswith("declared")
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                if declared:
                    self.send_header("Content-Length", str(HUGE))
                else:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                chunk = b"<p>" + b"x" * (64 * 1024 - 7) + b"</p>\n"
                for _ in range(HUGE // len(chunk)):
                    self.write(chunk)
                return
            if path == "/fail/close":
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if path == "/fail/malformed-feed.xml":
                items = s.press_items(20, 5)
                body = rss(items, "Tin & sự kiện", s.base)
                body = body.replace("&amp;", "&").replace("</channel></rss>", "")  # stray & and truncated
                body = body.replace("<title>", "<title>A & B \x0b", 1)
                return self.send(200, body.encode(), XML)
            if path == "/fail/garbage-feed.xml":
                return self.send(200, b"<html><body>Service temporarily unavailable</body></html>",
                                 "text/html")
            if path == "/fail/feed.xml":
                items = [{"url": s.base + p, "title": p, "published": BASE_DATE - dt.timedelta(minutes=k)}
                         for k, p in enumerate(FAIL_BAD + FAIL_GOOD)]
                return self.send(200, rss(items, "failures", s.base).encode(), XML)
            return self.send(404, b"not found")

    return Handler


if __name__ == "__main__":
    import argparse
    import sys
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from pipeline.config import shared_corpora

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--press-limit", type=int, default=300)
    ap.add_argument("--no-robots", action="store_true")
    a = ap.parse_args()
    srv = CrawlServer(shared_corpora(), press_limit=a.press_limit,
                      robots="User-agent: *\nDisallow:\n" if a.no_robots else DEFAULT_ROBOTS, port=a.port)
    print(f"serving on {srv.base}", flush=True)
    try:
        srv._httpd.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
