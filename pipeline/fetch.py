"""Polite, failure-tolerant HTTP fetching (httpx, async).

:class:`Fetcher` fetches one URL at a time per host and many hosts at once:

- robots.txt obeyed (RFC 9309: 4xx = allow all, 5xx/unreachable = disallow
  all for this run), its ``Crawl-delay`` honoured, a minimum interval per host
  otherwise; a global bound on concurrent requests;
- an honest User-Agent (:data:`USER_AGENT`);
- conditional GET from the store's ``fetch_state`` table (ETag /
  Last-Modified): an unchanged resource costs one 304;
- retries with exponential backoff and jitter on network errors and 5xx;
  429/503 honour ``Retry-After`` (up to a cap);
- connect/read timeouts and a total deadline per URL; a maximum body size,
  enforced while streaming (compressed and decompressed); a redirect limit
  with loop detection; gzip, deflate and brotli decoded here so that a
  truncated stream is an error, not silently half a page;
- the character set from the headers, a ``<meta>``/XML declaration, or
  detection (windows-1258 included).

Every outcome is a plain :class:`FetchResult`; failures carry a short
``error`` reason and never raise.
"""
from __future__ import annotations

import asyncio
import codecs
import datetime as dt
import email.utils
import random
import re
import time
import urllib.robotparser
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from . import __version__

CONTACT_URL = "https://example.org/nguoitot"  # placeholder: the deploying office's page
USER_AGENT = f"nguoitot/{__version__} (+{CONTACT_URL})"
ROBOTS_UA = "nguoitot"
ROBOTS_TTL = 24 * 3600  # seconds a stored robots.txt is trusted (RFC 9309 §2.4)

MB = 1024 * 1024


@dataclass
class FetchResult:
    url: str
    final_url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    encoding: str | None = None
    error: str | None = None
    not_modified: bool = False
    attempts: int = 0
    elapsed: float = 0.0
    redirects: list[str] = field(default_factory=list)
    raw_hash: str | None = None  # set by whoever keeps ``body`` in the store

    @property
    def ok(self) -> bool:
        return self.error is None and not self.not_modified and self.status == 200

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def text(self) -> str:
        """The body decoded with :attr:`encoding` (NFC), replacing undecodable bytes."""
        return decode(self.body, self.encoding or "utf-8")


class _Fail(Exception):
    """A final failure with a reason (not retried)."""

    def __init__(self, reason: str, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status


class _Retry(Exception):
    """A transient failure: retry after ``delay`` seconds (None = backoff)."""

    def __init__(self, reason: str, status: int | None = None, delay: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.delay = delay


# ---------------------------------------------------------------- charsets
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_VI_CHARS = set("ăâđêôơưĂÂĐÊÔƠƯàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    aliases = {"utf8": "utf-8", "unicode": "utf-8", "x-user-defined": "windows-1252",
               "vn": "windows-1258", "cp1258": "windows-1258"}
    name = aliases.get(name, name)
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _vi_score(text: str) -> float:
    """How much ``text`` reads like Vietnamese: its letters minus letters no Vietnamese word has
    (``ð``, ``Þ``, ``Ã``...), stray combining marks, replacement and C1 control characters."""
    import unicodedata
    t = unicodedata.normalize("NFC", text)
    good = bad = 0
    for ch in t:
        if ch in _VI_CHARS:
            good += 1
        elif ch == "\ufffd" or 0x80 <= ord(ch) < 0xA0 or unicodedata.combining(ch):
            bad += 1
        elif ord(ch) > 0x7F and ch.isalpha():
            bad += 1
    return (good - 5 * bad) / (len(t) or 1)


def detect_encoding(body: bytes, content_type: str | None = None) -> str:
    """Best codec for ``body``: header charset, BOM, meta/XML declaration, then detection.

    A declared single-byte charset is not trusted when the body is valid
    UTF-8 with multi-byte sequences (a common server misconfiguration).
    """
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    declared = None
    if content_type:
        m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type, re.I)
        declared = _codec(m.group(1)) if m else None
    head = body[:4096]
    if declared is None:
        m = _XML_DECL.search(head) or _META_CHARSET.search(head)
        declared = _codec(m.group(1).decode("ascii", "ignore")) if m else None
    sample = body[:65536]
    try:
        sample.decode("utf-8")
        utf8_ok = True
    except UnicodeDecodeError as e:
        # Only a multi-byte character cut by the end of the sample (not of the body) is forgiven.
        # (This used to reject that case too, sending about one page in five to the slow
        # detection below, which then chose UTF-8 anyway.)
        utf8_ok = len(body) > len(sample) and e.reason == "unexpected end of data" \
            and e.start >= len(sample) - 3
    multibyte = not sample.isascii()
    if declared and declared != "utf-8":
        if utf8_ok and multibyte and declared in ("latin-1", "iso8859-1", "cp1252", "ascii",
                                                   "windows-1252", "iso8859-15"):
            return "utf-8"
        return declared
    if declared == "utf-8" and (utf8_ok or not multibyte):
        return "utf-8"
    if utf8_ok:
        return "utf-8"
    # Undeclared or wrongly declared UTF-8: pick the legacy codec that reads most like Vietnamese.
    best, best_score = "cp1258", -1e9
    for cand in ("cp1258", "cp1252", "utf-8"):
        score = _vi_score(sample.decode(cand, "replace"))
        if score > best_score:
            best, best_score = cand, score
    return best


def decode(body: bytes, encoding: str) -> str:
    import unicodedata
    return unicodedata.normalize("NFC", body.decode(encoding, "replace"))


# ------------------------------------------------------------- decompress
class _Decoder:
    """Incremental decoding of one Content-Encoding, with truncation detection."""

    def __init__(self, coding: str):
        self.coding = coding
        if coding in ("gzip", "x-gzip"):
            self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            self._d = None  # zlib or raw deflate: decided on the first chunk
            self._first = True
        elif coding == "br":
            import brotli
            self._d = brotli.Decompressor()
        elif coding in ("", "identity"):
            self._d = None
        else:
            raise _Fail(f"unsupported content-encoding {coding!r}")

    def feed(self, chunk: bytes) -> bytes:
        c = self.coding
        try:
            if c in ("", "identity"):
                return chunk
            if c == "deflate":
                if self._d is None:
                    self._d = zlib.decompressobj(zlib.MAX_WBITS if chunk[:1] == b"\x78" else -zlib.MAX_WBITS)
                return self._d.decompress(chunk)
            if c == "br":
                return self._d.process(chunk)
            return self._d.decompress(chunk)
        except Exception as e:  # zlib.error, brotli.error
            raise _Fail(f"corrupt {c} body: {e}") from e

    def finish(self) -> bytes:
        c = self.coding
        if c in ("", "identity"):
            return b""
        if c == "br":
            if not self._d.is_finished():
                raise _Fail("truncated br body")
            return b""
        if self._d is None:
            return b""
        out = self._d.flush()
        if not self._d.eof:
            raise _Fail(f"truncated {c} body")
        return out


def crawl_delay(lines: list[str], agent: str) -> float | None:
    """``Crawl-delay`` (seconds, decimals allowed) of the group for ``agent``, else of ``*``."""
    groups: dict[str, float] = {}
    current: list[str] = []
    in_agents = False
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (x.strip() for x in line.split(":", 1))
        key = key.lower()
        if key == "user-agent":
            if not in_agents:
                current = []
            current.append(value.lower())
            in_agents = True
            continue
        in_agents = False
        if key == "crawl-delay":
            try:
                delay = float(value)
            except ValueError:
                continue
            for a in current:
                groups.setdefault(a, delay)
    agent = agent.lower()
    for name, delay in groups.items():
        if name != "*" and name in agent:
            return delay
    return groups.get("*")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


# ---------------------------------------------------------------- fetcher
@dataclass
class _Origin:
    """robots.txt of one origin."""
    lock: asyncio.Lock
    done: bool = False
    robots: urllib.robotparser.RobotFileParser | None = None
    error: str | None = None
    crawl_delay: float | None = None


@dataclass
class _Pace:
    """Pacing of one server: requests in flight and the earliest start of the next one."""
    lock: asyncio.Semaphore
    next_at: float = 0.0


class Fetcher:
    """Async HTTP fetcher with per-host politeness, retries and conditional GET.

    Use as ``async with Fetcher(store=store) as f: r = await f.fetch(url)``.
    ``politeness=False`` turns the delays off (benchmarks, local tests);
    robots.txt is obeyed either way unless ``obey_robots=False``.
    """

    def __init__(self, store: Any = None, *, user_agent: str = USER_AGENT,
                 min_interval: float = 1.0, politeness: bool = True, obey_robots: bool = True,
                 concurrency: int = 8, connect_timeout: float = 10.0, read_timeout: float = 20.0,
                 total_timeout: float = 60.0, max_bytes: int = 10 * MB, max_redirects: int = 5,
                 retries: int = 3, backoff: float = 1.0, backoff_max: float = 30.0,
                 max_retry_after: float = 120.0, max_crawl_delay: float = 60.0,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.store = store
        self.user_agent = user_agent
        self.min_interval = min_interval
        self.politeness = politeness
        self.obey_robots = obey_robots
        self.concurrency = concurrency
        self.total_timeout = total_timeout
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.retries = retries
        self.backoff = backoff
        self.backoff_max = backoff_max
        self.max_retry_after = max_retry_after
        self.max_crawl_delay = max_crawl_delay
        self._timeout = httpx.Timeout(connect=connect_timeout, read=read_timeout,
                                      write=read_timeout, pool=total_timeout)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._sem: asyncio.Semaphore | None = None
        self._hosts: dict[str, _Origin] = {}
        self._paces: dict[str, _Pace] = {}
        self.stats = {"requests": 0, "bytes": 0, "not_modified": 0, "errors": 0, "retries": 0,
                      "wait": 0.0}

    async def __aenter__(self) -> "Fetcher":
        await self.open()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    async def open(self) -> None:
        if self._client is None:
            limits = httpx.Limits(max_connections=max(4, self.concurrency * 2),
                                  max_keepalive_connections=max(4, self.concurrency))
            self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False,
                                             limits=limits, transport=self._transport,
                                             headers={"User-Agent": self.user_agent,
                                                      "Accept-Encoding": "gzip, deflate, br"})
            self._sem = asyncio.Semaphore(self.concurrency)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    # -- per-host state --------------------------------------------------
    def _host(self, url: str) -> _Origin:
        """robots.txt state per origin (scheme://host:port, as RFC 9309 scopes it)."""
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc.lower()}"
        h = self._hosts.get(key)
        if h is None:
            h = self._hosts[key] = _Origin(lock=asyncio.Lock())
        return h

    def _pace(self, url: str) -> _Pace:
        """Pacing state per server: http/https and www./bare names of one host share it."""
        parts = urlsplit(url)
        name = (parts.hostname or "").lower()
        name = name[4:] if name.startswith("www.") else name
        key = f"{name}:{parts.port or ''}"
        p = self._paces.get(key)
        if p is None:
            per_host = 1 if self.politeness else self.concurrency
            p = self._paces[key] = _Pace(lock=asyncio.Semaphore(per_host))
        return p

    def interval(self, url: str, min_interval: float | None = None) -> float:
        """Seconds between two requests to ``url``'s host (0 without politeness)."""
        if not self.politeness:
            return 0.0
        base = self.min_interval if min_interval is None else min_interval
        delay = self._host(url).crawl_delay
        if delay:
            base = max(base, min(delay, self.max_crawl_delay))
        return base

    async def allowed(self, url: str) -> str | None:
        """``None`` if robots.txt lets us fetch ``url``, else the reason."""
        if not self.obey_robots:
            return None
        h = self._host(url)
        async with h.lock:
            if not h.done:
                await self._load_robots(url, h)
        if h.error:
            return h.error
        if h.robots is not None and not (h.robots.can_fetch(ROBOTS_UA, url)):
            return "disallowed by robots.txt"
        return None

    async def _load_robots(self, url: str, h: _Origin) -> None:
        """Read the host's robots.txt: from the store if fetched in the last 24 hours
        (RFC 9309 §2.4), else from the host (and keep it in the store)."""
        parts = urlsplit(url)
        robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
        status, text, error = self._cached_robots(robots_url)
        if status is None:
            res = await self._get(robots_url, headers={}, max_bytes=512 * 1024, check_robots=False,
                                  min_interval=0.0)
            status, error = res.status, res.error
            text = res.text() if error is None and status == 200 else ""
            if self.store is not None and (error is None or (status or 0) in range(400, 500)):
                raw_hash = self.store.put_raw(res.body, "text/plain", robots_url) if error is None else None
                self.record(res, raw_hash=raw_hash)
        h.done = True
        rp = urllib.robotparser.RobotFileParser(robots_url)
        if error is None and status == 200:
            lines = text.splitlines()
            rp.parse(lines)
            h.robots = rp
            h.crawl_delay = crawl_delay(lines, ROBOTS_UA)
        elif status is not None and 400 <= status < 500:
            rp.allow_all = True
            h.robots = rp
        elif status is None or status < 500:
            # RFC 9309 §2.3.1.3/4: unreachable robots.txt means complete disallow.
            h.error = f"host unreachable: {error}"
        else:
            h.error = f"robots.txt answered HTTP {status}: host skipped this run (RFC 9309)"

    def _cached_robots(self, robots_url: str) -> tuple[int | None, str, str | None]:
        if self.store is None:
            return None, "", None
        st = fetch_state_of(self.store, robots_url)
        if not st or not st.get("fetched"):
            return None, "", None
        try:
            age = time.time() - dt.datetime.fromisoformat(st["fetched"]).timestamp()
        except ValueError:
            return None, "", None
        if age > ROBOTS_TTL:
            return None, "", None
        if st["status"] == 200 and st.get("raw_hash"):
            data = self.store.get_raw(st["raw_hash"])
            if data is not None:
                return 200, decode(data, detect_encoding(data)), None
        if st["status"] is not None and 400 <= st["status"] < 500:
            return st["status"], "", f"HTTP {st['status']}"
        return None, "", None

    # -- conditional GET state --------------------------------------------
    def cached_validators(self, url: str) -> dict[str, str]:
        if self.store is None:
            return {}
        import sqlalchemy as sa
        from .store import fetch_state
        with self.store.engine.connect() as c:
            row = c.execute(sa.select(fetch_state.c.etag, fetch_state.c.last_modified)
                            .where(fetch_state.c.url == url)).first()
        headers = {}
        if row is not None:
            if row.etag:
                headers["If-None-Match"] = row.etag
            if row.last_modified:
                headers["If-Modified-Since"] = row.last_modified
        return headers

    def record(self, res: FetchResult, raw_hash: str | None = None, conn: Any = None) -> None:
        """Write ``res``'s outcome to ``fetch_state`` (validators on success, failures count)."""
        if self.store is None:
            return
        record_state(self.store, res, raw_hash=raw_hash, conn=conn)

    # -- fetching --------------------------------------------------------
    async def fetch(self, url: str, *, conditional: bool = True, record: bool = True,
                    min_interval: float | None = None, max_bytes: int | None = None,
                    headers: dict[str, str] | None = None) -> FetchResult:
        """GET ``url`` politely; never raises. ``record`` writes ``fetch_state`` now
        (pass False and call :meth:`record` once the result is safely processed)."""
        hdrs = dict(headers or {})
        if conditional:
            hdrs.update(self.cached_validators(url))
        res = await self._get(url, headers=hdrs, max_bytes=max_bytes or self.max_bytes,
                              check_robots=True, min_interval=min_interval)
        if res.error:
            self.stats["errors"] += 1
        if res.not_modified:
            self.stats["not_modified"] += 1
        if record:
            self.record(res)
        return res

    async def _get(self, url: str, *, headers: dict[str, str], max_bytes: int,
                   check_robots: bool, min_interval: float | None) -> FetchResult:
        await self.open()
        res = FetchResult(url=url, final_url=url)
        t0 = time.monotonic()
        try:
            await self._follow(res, headers, max_bytes, check_robots, min_interval)
        except _Fail as e:
            res.error = e.reason
            if e.status is not None:
                res.status = e.status
            res.body = b""
        res.elapsed = time.monotonic() - t0
        return res

    async def _follow(self, res: FetchResult, headers: dict[str, str], max_bytes: int,
                      check_robots: bool, min_interval: float | None) -> None:
        url = res.url
        seen = {url}
        for hop in range(self.max_redirects + 1):
            if check_robots:
                why = await self.allowed(url)
                if why:
                    raise _Fail(why)
            status, resp_headers, body = await self._retrying(url, headers, max_bytes, min_interval, res)
            res.final_url = url
            res.status = status
            res.headers = resp_headers
            if status in (301, 302, 303, 307, 308):
                loc = resp_headers.get("location")
                if not loc:
                    raise _Fail(f"HTTP {status} redirect without Location", status)
                nxt = urljoin(url, loc.strip())
                if urlsplit(nxt).scheme not in ("http", "https"):
                    raise _Fail(f"redirect to unsupported URL {nxt!r}", status)
                if nxt in seen:
                    raise _Fail(f"redirect loop at {nxt}", status)
                seen.add(nxt)
                res.redirects.append(nxt)
                url = nxt
                # Validators belong to the original URL only.
                headers = {k: v for k, v in headers.items()
                           if k not in ("If-None-Match", "If-Modified-Since")}
                continue
            if status == 304:
                res.not_modified = True
                return
            if status != 200:
                raise _Fail(f"HTTP {status}", status)
            res.body = body
            res.encoding = detect_encoding(body, resp_headers.get("content-type"))
            return
        raise _Fail(f"too many redirects (> {self.max_redirects})", res.status)

    async def _retrying(self, url: str, headers: dict[str, str], max_bytes: int,
                        min_interval: float | None, res: FetchResult) -> tuple[int, dict[str, str], bytes]:
        last: _Retry | None = None
        for attempt in range(self.retries + 1):
            if last is not None:
                delay = last.delay
                if delay is None:
                    delay = min(self.backoff_max, self.backoff * (2 ** (attempt - 1)))
                    delay *= random.uniform(0.5, 1.5)  # jitter
                self.stats["retries"] += 1
                await asyncio.sleep(delay)
            res.attempts += 1
            try:
                return await self._once(url, headers, max_bytes, min_interval)
            except _Retry as e:
                last = e
                if e.delay is not None and e.delay > self.max_retry_after:
                    raise _Fail(f"{e.reason}: Retry-After {e.delay:.0f}s exceeds "
                                f"{self.max_retry_after:.0f}s", e.status) from None
        assert last is not None
        raise _Fail(f"{last.reason} (after {res.attempts} attempts)", last.status)

    async def _once(self, url: str, headers: dict[str, str], max_bytes: int,
                    min_interval: float | None) -> tuple[int, dict[str, str], bytes]:
        assert self._client is not None and self._sem is not None
        h = self._pace(url)
        async with h.lock:  # one request at a time per host (when polite)
            wait = h.next_at - time.monotonic()
            if wait > 0:
                self.stats["wait"] += wait
                await asyncio.sleep(wait)
            hold = 0.0
            try:
                async with self._sem:
                    try:
                        return await asyncio.wait_for(self._request(url, headers, max_bytes),
                                                      timeout=self.total_timeout)
                    except asyncio.TimeoutError:
                        raise _Retry(f"timeout: no complete response within "
                                     f"{self.total_timeout:g}s") from None
            except _Retry as e:
                # The host asked us to wait (429/503 Retry-After): every request to it waits.
                # (Past max_retry_after the URL is given up instead, and the host not held.)
                if e.delay and e.delay <= self.max_retry_after:
                    hold = e.delay
                raise
            finally:
                h.next_at = time.monotonic() + max(self.interval(url, min_interval), hold)

    async def _request(self, url: str, headers: dict[str, str],
                       max_bytes: int) -> tuple[int, dict[str, str], bytes]:
        assert self._client is not None
        self.stats["requests"] += 1
        try:
            async with self._client.stream("GET", url, headers=headers) as r:
                status = r.status_code
                hdrs = {k.lower(): v for k, v in r.headers.items()}
                if status == 429 or status == 503:
                    raise _Retry(f"HTTP {status}", status,
                                 parse_retry_after(hdrs.get("retry-after")))
                if 500 <= status < 600:
                    raise _Retry(f"HTTP {status}", status)
                if status != 200:
                    return status, hdrs, b""
                declared = hdrs.get("content-length", "")
                if declared.isdigit() and int(declared) > max_bytes:
                    raise _Fail(f"body too large: Content-Length {int(declared)} > cap {max_bytes}", status)
                decoder = _Decoder(hdrs.get("content-encoding", "").strip().lower())
                parts: list[bytes] = []
                raw_n = size = 0
                async for chunk in r.aiter_raw():
                    raw_n += len(chunk)
                    out = decoder.feed(chunk)
                    size += len(out)
                    if raw_n > max_bytes or size > max_bytes:
                        raise _Fail(f"body too large: more than {max_bytes} bytes (cut off)", status)
                    parts.append(out)
                parts.append(decoder.finish())
                body = b"".join(parts)
                self.stats["bytes"] += raw_n
                return status, hdrs, body
        except (httpx.TimeoutException,) as e:
            raise _Retry(f"timeout ({type(e).__name__})") from None
        except httpx.RemoteProtocolError as e:
            raise _Retry(f"incomplete response: {e}") from None
        except httpx.TransportError as e:
            raise _Retry(f"network error: {type(e).__name__}: {e}") from None
        except httpx.HTTPError as e:  # invalid URL and the like: not transient
            raise _Fail(f"{type(e).__name__}: {e}") from None


def record_state(store: Any, res: FetchResult, raw_hash: str | None = None, conn: Any = None) -> None:
    """Upsert ``res``'s outcome into ``fetch_state`` for ``res.url``."""
    import sqlalchemy as sa
    from .store import fetch_state, now_iso

    raw_hash = raw_hash or res.raw_hash

    def _do(c: Any) -> None:
        row = c.execute(sa.select(fetch_state).where(fetch_state.c.url == res.url)).mappings().first()
        vals: dict[str, Any] = {"status": res.status, "fetched": now_iso()}
        if res.error:
            vals["failures"] = (row["failures"] if row else 0) + 1
        else:
            vals["failures"] = 0
            if not res.not_modified:
                vals["etag"] = res.headers.get("etag")
                vals["last_modified"] = res.headers.get("last-modified")
                if raw_hash is not None:
                    vals["raw_hash"] = raw_hash
        if row is None:
            c.execute(sa.insert(fetch_state).values(url=res.url, **vals))
        else:
            c.execute(sa.update(fetch_state).where(fetch_state.c.url == res.url).values(**vals))

    if conn is not None:
        _do(conn)
    else:
        with store.engine.begin() as c:
            _do(c)


def fetch_state_of(store: Any, url: str) -> dict[str, Any] | None:
    import sqlalchemy as sa
    from .store import fetch_state
    with store.engine.connect() as c:
        row = c.execute(sa.select(fetch_state).where(fetch_state.c.url == url)).mappings().first()
    return dict(row) if row else None
