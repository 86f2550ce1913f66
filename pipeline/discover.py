"""Discovery: article URLs from RSS/Atom/RDF feeds and from news sitemaps.

Both return plain dicts ``{url, title, summary, published}`` (``published``
ISO 8601 with offset, or None). A date without a time zone is taken as
Vietnam time (+07:00): these are Vietnamese outlets. Malformed feeds are
salvaged where possible (feedparser's loose parser, then a cleaned copy, then
a regular-expression pass over ``<item>``/``<entry>`` blocks).
"""
from __future__ import annotations

import datetime as dt
import email.utils
import gzip
import html
import re
import time
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit, parse_qsl, urlencode

VN_TZ = dt.timezone(dt.timedelta(hours=7))

_TRACKING = re.compile(r"^(utm_[a-z]+|fbclid|gclid|zarsrc|gidzl|_gl)$", re.I)


def clean_url(url: str, base: str | None = None) -> str:
    """Absolute URL without fragment, tracking parameters or surrounding space."""
    url = html.unescape((url or "").strip())
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                       if not _TRACKING.match(k)])
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", query, ""))


def parse_date(value: Any) -> str | None:
    """ISO 8601 with offset from an RFC 822 / ISO / W3C date string (or a struct_time, UTC)."""
    if value is None or value == "":
        return None
    if isinstance(value, time.struct_time):
        return dt.datetime(*value[:6], tzinfo=dt.timezone.utc).astimezone(VN_TZ).isoformat()
    s = str(value).strip()
    d: dt.datetime | None = None
    try:
        d = email.utils.parsedate_to_datetime(s)
    except (TypeError, ValueError, IndexError):
        d = None
    if d is None:
        iso = s.replace("Z", "+00:00").replace(" +", "+").replace(" -", "-")
        iso = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", iso)
        try:
            d = dt.datetime.fromisoformat(iso)
        except ValueError:
            m = re.match(r"(\d{1,2})[/-](\d{1,2})[/-](\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?", s)
            if not m:
                return None
            day, mon, year, hh, mm, ss = m.groups()
            try:
                d = dt.datetime(int(year), int(mon), int(day), int(hh or 0), int(mm or 0), int(ss or 0))
            except ValueError:
                return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=VN_TZ)
    return d.isoformat()


def _strip_html(s: str | None) -> str:
    if not s:
        return ""
    s = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", s)
    s = re.sub(r"(?s)<[^>]+>", " ", s)
    s = html.unescape(s)
    return re.sub(r"\s+", " ", s).strip()


def _maybe_gunzip(body: bytes) -> bytes:
    if body[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(body)
        except (OSError, EOFError):
            return body
    return body


def _entry_dict(url: str, title: str, summary: str, published: str | None, base: str) -> dict[str, Any]:
    return {"url": clean_url(url, base), "title": _strip_html(title), "summary": _strip_html(summary),
            "published": published}


def _from_feedparser(body: bytes, base_url: str) -> tuple[list[dict[str, Any]], Any]:
    import feedparser
    parsed = feedparser.parse(body, response_headers={"content-location": base_url})
    out = []
    for e in parsed.entries:
        link = e.get("link") or ""
        if not link:
            for l in e.get("links", []):
                if l.get("href"):
                    link = l["href"]
                    break
        if not link:
            guid = e.get("id") or ""
            if guid.startswith(("http://", "https://", "/")):
                link = guid
        if not link:
            continue
        published = None
        for key in ("published", "updated", "created", "dc_date"):
            if e.get(key):
                published = parse_date(e.get(key))
                if published:
                    break
        if published is None:
            for key in ("published_parsed", "updated_parsed"):
                if e.get(key):
                    published = parse_date(e.get(key))
                    break
        summary = e.get("summary") or e.get("description") or ""
        out.append(_entry_dict(link, e.get("title", ""), summary, published, base_url))
    return out, parsed


_ITEM = re.compile(rb"(?is)<(item|entry)\b[^>]*>(.*?)(?:</\1>|(?=<(?:item|entry)\b)|\Z)")


def _tag(block: str, *names: str) -> str:
    for n in names:
        m = re.search(rf"(?is)<{n}\b[^>]*>(.*?)</{n}>", block)
        if m:
            v = m.group(1).strip()
            cdata = re.match(r"(?s)^<!\[CDATA\[(.*?)\]\]>$", v)
            return cdata.group(1).strip() if cdata else v
        if n == "link":  # Atom <link href="..."/>
            m = re.search(r"""(?is)<link\b[^>]*href\s*=\s*["']([^"']+)""", block)
            if m:
                return m.group(1)
    return ""


def _regex_salvage(body: bytes, base_url: str) -> list[dict[str, Any]]:
    text = body.decode("utf-8", "replace")
    out = []
    for m in _ITEM.finditer(text.encode("utf-8")):
        block = m.group(2).decode("utf-8", "replace")
        link = _tag(block, "link") or _tag(block, "guid")
        link = re.sub(r"(?s)^<!\[CDATA\[(.*?)\]\]>$", r"\1", link).strip()
        if not link or " " in link:
            continue
        out.append(_entry_dict(link, _tag(block, "title"), _tag(block, "description", "summary", "content"),
                               parse_date(_tag(block, "pubDate", "published", "updated", "dc:date")),
                               base_url))
    return out


def parse_feed(body: bytes, base_url: str) -> list[dict[str, Any]]:
    """Entries of an RSS 0.9x/1.0 (RDF)/2.0 or Atom feed, in feed order, duplicates dropped.

    Raises ``ValueError`` when nothing usable can be salvaged from the bytes.
    """
    body = _maybe_gunzip(body or b"")
    if not body.strip():
        raise ValueError("empty feed")
    entries, parsed = _from_feedparser(body, base_url)
    if not entries and parsed.get("bozo"):
        # Salvage: drop control characters and escape stray ampersands, then retry.
        cleaned = re.sub(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", b"", body)
        cleaned = re.sub(rb"&(?!(?:[a-zA-Z][a-zA-Z0-9]*|#\d+|#x[0-9a-fA-F]+);)", b"&amp;", cleaned)
        entries, _ = _from_feedparser(cleaned, base_url)
        if not entries:
            entries = _regex_salvage(cleaned, base_url)
    if not entries:
        looks_like_feed = re.search(rb"(?i)<(rss|feed|rdf:RDF|channel)\b", body[:4096]) is not None
        if not looks_like_feed:
            raise ValueError("not a feed (no <rss>, <feed> or <rdf:RDF> element)")
        if parsed.get("bozo") and not parsed.entries:
            exc = parsed.get("bozo_exception")
            raise ValueError(f"malformed feed, nothing salvageable: {exc}")
    seen: set[str] = set()
    unique = []
    for e in entries:
        if e["url"] not in seen and urlsplit(e["url"]).scheme in ("http", "https"):
            seen.add(e["url"])
            unique.append(e)
    return unique


def parse_sitemap(body: bytes, base_url: str) -> list[dict[str, Any]]:
    """Entries of a (news) sitemap ``<urlset>`` or the children of a ``<sitemapindex>``.

    Each dict: ``url``, ``title`` (news:title), ``summary`` (""), ``published``
    (news:publication_date, else lastmod) and ``sitemap`` (True for a child
    sitemap of an index). Newest first. Gzipped bodies are accepted.
    Raises ``ValueError`` when the bytes are not a sitemap.
    """
    from lxml import etree

    body = _maybe_gunzip(body or b"")
    if not body.strip():
        raise ValueError("empty sitemap")
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as e:
        raise ValueError(f"malformed sitemap: {e}") from e
    if root is None:
        raise ValueError("malformed sitemap: no root element")

    def local(el: Any) -> str:
        return etree.QName(el).localname if isinstance(el.tag, str) else ""

    kind = local(root)
    if kind not in ("urlset", "sitemapindex"):
        raise ValueError(f"not a sitemap (root element <{kind}>)")
    out = []
    for node in root:
        if local(node) not in ("url", "sitemap"):
            continue
        loc = title = pub = lastmod = None
        for el in node.iter():
            name = local(el)
            if name == "loc" and loc is None and el.getparent() is node:
                loc = (el.text or "").strip()
            elif name == "lastmod":
                lastmod = (el.text or "").strip()
            elif name == "title":
                title = (el.text or "").strip()
            elif name == "publication_date":
                pub = (el.text or "").strip()
        if not loc:
            continue
        out.append({"url": clean_url(loc, base_url), "title": _strip_html(title), "summary": "",
                    "published": parse_date(pub) or parse_date(lastmod),
                    "sitemap": kind == "sitemapindex"})
    out.sort(key=lambda e: _instant(e["published"]), reverse=True)
    return out


def _instant(iso: str | None) -> float:
    """Seconds since the epoch of an ISO date (undated: oldest)."""
    if not iso:
        return float("-inf")
    try:
        return dt.datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return float("-inf")
