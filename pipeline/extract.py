"""Article extraction from saved or fetched HTML pages of Vietnamese outlets.

``extract(html, url=None, encoding=None) -> dict`` returns one plain record:

    kind         "article" | "list" (home/section pages, or no article body)
    title        headline without the site suffix (" - Báo VnExpress", " | Tuổi Trẻ Online")
    lead         the sapo, without the "(Dân trí) -" style dateline tag
    paragraphs   body paragraphs: no captions, related links, share bars, author line
    text         "\\n".join(paragraphs)
    author, published (ISO 8601 with offset or None), canonical_url, section,
    outlet, lang

All text goes through :func:`pipeline.text.normalize`.

How it works: one general extractor on ``lxml.html`` (fast: no bs4 on the
hot path) reads metadata from meta tags and JSON-LD, finds the body as the
element whose direct ``<p>`` children hold the most text, drops boilerplate
by tag and by class/id words, and splits the body into blocks. Outlets where
the general one falls short get a :class:`SiteRule` in :data:`SITE_RULES`:
data (XPath selectors), not code.

Input is untrusted: pages over :data:`MAX_BYTES` are refused with
:class:`ExtractError`; scripts and styles are dropped unread (JSON-LD is
parsed as JSON only); garbage gives an empty ``kind="list"`` record.
"""
from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree as etree
import lxml.html

from .text import is_vietnamese, normalize

MAX_BYTES = 5_000_000
VN_TZ = dt.timezone(dt.timedelta(hours=7))

__all__ = ["extract", "is_article_page", "decode_html", "parse_date", "strip_site_suffix",
           "ExtractError", "SiteRule", "SITE_RULES", "MAX_BYTES"]


class ExtractError(ValueError):
    """The input cannot be extracted (too large, or not HTML at all)."""


# ---------------------------------------------------------------------------
# Per-outlet rules: data only. Each selector is an XPath; the first match wins.
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class SiteRule:
    name: str  # outlet display name
    body: tuple[str, ...] = ()
    title: tuple[str, ...] = ()
    lead: tuple[str, ...] = ()
    date: tuple[str, ...] = ()  # elements whose text holds the visible date
    author: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()  # removed from the body before splitting it
    suffixes: tuple[str, ...] = ()  # extra title suffixes to strip


_DETAIL_CONTENT = "//div[contains(concat(' ', normalize-space(@class), ' '), ' detail-content ')]"

SITE_RULES: dict[str, SiteRule] = {
    "vnexpress.net": SiteRule(
        name="VnExpress",
        body=("//article[contains(@class,'fck_detail')]",),
        title=("//h1[contains(@class,'title-detail')]",),
        lead=("//p[contains(@class,'description')]",),
        date=("//span[@class='date']",),
        author=("//article[contains(@class,'fck_detail')]/p[contains(@style,'right')][last()]/strong",
                "//p[contains(@class,'author_mail')]/strong"),
        drop=("./p[contains(@style,'right')][last()]",),
    ),
    "tuoitre.vn": SiteRule(
        name="Tuổi Trẻ",
        body=(_DETAIL_CONTENT,),
        lead=("//h2[contains(@class,'detail-sapo')]",),
        date=("//div[contains(@class,'detail-time')]",),
        author=("//div[contains(@class,'author-item-name')]", "//div[contains(@class,'detail-author-bot')]"),
    ),
    "nld.com.vn": SiteRule(
        name="Người Lao Động",
        body=(_DETAIL_CONTENT,),
        lead=("//h2[contains(@class,'detail-sapo')]",),
        date=("//div[contains(@class,'detail-time')]",),
        author=("//div[contains(@class,'detail-author')]//p[contains(@class,'name')]",),
    ),
    "baochinhphu.vn": SiteRule(
        name="Báo Chính phủ",
        body=(_DETAIL_CONTENT,),
        lead=("//h2[contains(@class,'detail-sapo')]",),
        date=("//div[contains(@class,'detail-time')]",),
        author=("//div[contains(@class,'detail-author')]",),
    ),
    "cafef.vn": SiteRule(
        name="CafeF",
        body=(_DETAIL_CONTENT,),
        lead=("//h2[contains(@class,'sapo')]",),
        date=("//span[contains(@class,'pdate')]",),
        author=("//p[contains(@class,'author')]",),
    ),
    "dantri.com.vn": SiteRule(
        name="Dân trí",
        body=("//div[@id='desktop-in-article']", "//div[contains(@class,'singular-content')]"),
        title=("//h1",),
        lead=("//div[@id='desktop-in-article']/preceding-sibling::h2[1]", "//h2[contains(@class,'singular-sapo')]"),
        date=("//time",),
        author=("//a[contains(@href,'/tac-gia/')]", "//div[contains(@class,'author-name')]"),
    ),
    "vietnamnet.vn": SiteRule(
        name="VietNamNet",
        body=("//div[contains(concat(' ', normalize-space(@class), ' '), ' maincontent ')]",),
        lead=("//h2[contains(@class,'content-detail-sapo')]",),
        date=("//div[contains(@class,'publish-date')]",),
        author=("//p[contains(@class,'article-detail-author__info')]",),
    ),
    "baodautu.vn": SiteRule(
        name="Báo Đầu tư",
        body=("//div[@id='content_detail_news']",),
        title=("//div[contains(@class,'title-detail')]",),
        lead=("//div[contains(@class,'sapo_detail')]",),
        date=("//span[contains(@class,'post-time')]",),
        author=("//a[contains(@class,'author')]",),
    ),
    "thanhnien.vn": SiteRule(
        name="Thanh Niên",
        body=(_DETAIL_CONTENT,),
        lead=("//h2[contains(@class,'detail-sapo')]",),
        date=("//div[contains(@class,'detail-time')]",),
    ),
}


def rule_for(url: str | None) -> SiteRule | None:
    if not url:
        return None
    host = (urlsplit(url).hostname or "").lower()
    while host:
        if host in SITE_RULES:
            return SITE_RULES[host]
        if "." not in host:
            break
        host = host.split(".", 1)[1]
    return None


# ---------------------------------------------------------------------------
# Decoding
# ---------------------------------------------------------------------------
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
_ALIASES = {"windows-1258": "cp1258", "x-windows-1258": "cp1258", "utf8": "utf-8",
            "unicode": "utf-8", "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252"}


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    n = name.strip().strip("\"'").lower()
    n = _ALIASES.get(n, n)
    import codecs
    try:
        return codecs.lookup(n).name
    except LookupError:
        return None


def decode_html(data: bytes, encoding: str | None = None) -> str:
    """Bytes to text: BOM, then the HTTP header's charset, then ``<meta charset>`` /
    http-equiv, then UTF-8, then detection (charset_normalizer), windows-1258 last."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", "replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", "replace")
    tried: list[str] = []
    m = _META_CHARSET.search(data[:8192])
    declared = [_codec(encoding), _codec(m.group(1).decode("ascii", "ignore")) if m else None, "utf-8"]
    for enc in declared:
        if not enc or enc in tried:
            continue
        tried.append(enc)
        try:
            return data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        from charset_normalizer import from_bytes
        best = from_bytes(data[:200_000], cp_isolation=["utf_8", "cp1258", "cp1252", "utf_16"]).best()
        if best is not None and best.encoding:
            return data.decode(best.encoding, "replace")
    except Exception:  # detection is best effort
        pass
    for enc in ("cp1258", "utf-8"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", "replace")


# ---------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------
_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?(?:[.,]\d+)?)?\s*"
    r"(Z|[+-]\d{2}:?\d{2})?")
_VN = re.compile(
    r"(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})\s*(?:[,|\-–]\s*)*(?:lúc\s*)?"
    r"(\d{1,2})\s*[:hg]\s*(\d{2})(?::(\d{2}))?\s*(AM|PM|SA|CH|am|pm)?"
    r"(?:\s*\(?\s*(?:GMT|UTC)\s*([+-]\s*\d{1,2}(?::?\d{2})?)\)?)?")
# "08:47 , 07/03/2026" (time first)
_VN_TIME_FIRST = re.compile(
    r"(\d{1,2}):(\d{2})\s*(?:AM|PM)?\s*[,|\-–]?\s*(?:ngày\s*)?(\d{1,2})/(\d{1,2})/(\d{4})")


def _offset(s: str | None) -> dt.timezone | None:
    if not s:
        return None
    s = s.replace(" ", "")
    if s == "Z":
        return dt.timezone.utc
    m = re.fullmatch(r"([+-])(\d{1,2}):?(\d{2})?", s)
    if not m:
        return None
    minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
    if minutes > 14 * 60:
        return None
    return dt.timezone((-1 if m.group(1) == "-" else 1) * dt.timedelta(minutes=minutes))


def _iso(y, mo, d, h=0, mi=0, s=0, tz=None) -> str | None:
    try:
        t = dt.datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0),
                        tzinfo=tz or VN_TZ)
    except (ValueError, TypeError):
        return None
    if not 1990 <= t.year <= 2100:
        return None
    return t.isoformat()


def parse_date(s: str | None, default_tz: dt.timezone = VN_TZ) -> str | None:
    """ISO 8601 with offset from an ISO string or a Vietnamese visible date.

    A naive time (no offset) is taken as Vietnam time (+07:00): the outlets
    this reads are Vietnamese. A date with no time is not accepted from
    visible text (a page header's "today" would pass for it), only from ISO.
    """
    if not s:
        return None
    s = normalize(htmllib.unescape(str(s)))
    if re.fullmatch(r"\d{10}", s):  # unix epoch seconds (VnExpress its_publication)
        return dt.datetime.fromtimestamp(int(s), VN_TZ).isoformat()
    m = _ISO.search(s)
    if m:
        y, mo, d, h, mi, sec, off = m.groups()
        return _iso(y, mo, d, h, mi, sec, _offset(off) or default_tz)
    m = _VN.search(s)
    if m:
        d, mo, y, h, mi, sec, ampm, off = m.groups()
        h = int(h)
        if ampm and ampm.upper() in ("PM", "CH") and h < 12:
            h += 12
        elif ampm and ampm.upper() in ("AM", "SA") and h == 12:
            h = 0
        return _iso(y, mo, d, h, mi, sec, _offset(off) or default_tz)
    m = _VN_TIME_FIRST.search(s)
    if m:
        h, mi, d, mo, y = m.groups()
        return _iso(y, mo, d, h, mi, 0, default_tz)
    return None


# ---------------------------------------------------------------------------
# Boilerplate
# ---------------------------------------------------------------------------
_DROP_TAGS = {"script", "style", "noscript", "template", "iframe", "svg", "form", "button", "input",
              "select", "textarea", "figure", "figcaption", "aside", "nav", "footer", "video", "audio",
              "object", "embed", "canvas", "picture", "img", "map", "dialog", "link", "meta"}
# class/id words (lower-cased substrings) that mark boilerplate inside a body
_DROP_WORDS = re.compile(
    r"relate|readmore|read-more|xemthem|xem-them|tinlienquan|tin-lien-quan|share|social|sharing|"
    r"comment|binhluan|caption|banner|advert|quangcao|qc-|adsbygoogle|widget|tindnd|newsletter|"
    r"subscribe|breadcrumb|toolbar|rating|poll|vote|tags?-|box-tag|keyword|print|hidden|d-none|"
    r"sponsor|promo|recommend|trending|most-view|mostview|popular|author|byline|source-detail|"
    r"video-|zone|box-news|list-news|photo-cms|photocms|inread|insert-ads|^ads?$|^ad-|-ads?$|"
    r"nocontent|lazy-box", re.I)
_RELATED_TYPES = re.compile(r"related|videostream|wrapnote", re.I)
_BOILER_PARA = re.compile(
    r"^(?:>>|»|xem thêm|tin liên quan|đọc thêm|tham khảo thêm|mời (?:quý )?(?:độc giả|bạn đọc)|"
    r"video\s*:|clip\s*:|ảnh\s*:|nguồn\s*:\s*$|bài liên quan|tin cùng chuyên mục|đọc tiếp|"
    r"về trang chủ đề|theo dõi .{0,40}trên google news)", re.I)
_DATELINE = re.compile(r"^\s*\((?:[^()]{2,40})\)\s*[-–—:]\s*")

_INLINE = {"a", "abbr", "b", "bdi", "bdo", "cite", "code", "data", "dfn", "em", "font", "i", "kbd",
           "mark", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time", "tt",
           "u", "var", "wbr", "label", "big", "nobr", "del", "ins"}


def _cls(el) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''}"


def _is_boiler(el) -> bool:
    tag = el.tag
    if not isinstance(tag, str):
        return True  # comments, processing instructions
    tag = tag.lower()
    if tag in _DROP_TAGS:
        return True
    t = el.get("type")
    if t and _RELATED_TYPES.search(t):
        return True
    c = _cls(el).strip()
    if c:
        for word in c.split():
            if _DROP_WORDS.search(word):
                return True
    style = el.get("style")
    if style and re.search(r"display\s*:\s*none", style, re.I):
        return True
    if tag == "table" and el.find(".//img") is not None and len(el.text_content()) < 400:
        return True  # photo-with-caption tables
    return False


def _drop(el) -> None:
    parent = el.getparent()
    if parent is None:
        return
    # keep the tail text (it belongs to the parent)
    tail = el.tail
    prev = el.getprevious()
    if tail and tail.strip():
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _clean_body(body) -> None:
    for el in list(body.iter()):
        if el is body:
            continue
        # an ancestor might already have been removed
        if el.getparent() is None:
            continue
        if _is_boiler(el):
            _drop(el)


_WS = re.compile(r"\s+")


def _blocks(el, out: list[str]) -> None:
    """Split an element into paragraph texts: block children start new paragraphs."""
    buf: list[str] = [el.text or ""]
    for child in el:
        tag = child.tag.lower() if isinstance(child.tag, str) else ""
        if tag in _INLINE:
            buf.append(child.text_content())
        elif tag == "br":
            out.append(_WS.sub(" ", "".join(buf)))
            buf = []
        elif tag:
            out.append(_WS.sub(" ", "".join(buf)))
            buf = []
            _blocks(child, out)
        buf.append(child.tail or "")
    out.append(_WS.sub(" ", "".join(buf)))


def _paragraphs(body) -> list[str]:
    raw: list[str] = []
    _blocks(body, raw)
    out = []
    for p in raw:
        p = normalize(p)
        if not p or not re.search(r"\w", p):
            continue
        if _BOILER_PARA.match(p):
            continue
        out.append(p)
    return out


# ---------------------------------------------------------------------------
# Metadata
# ---------------------------------------------------------------------------
def _unescape(s: str) -> str:
    for _ in range(3):  # JSON-LD on some outlets is entity-escaped twice
        if "&" not in s:
            break
        s = htmllib.unescape(s)
    return s


def _meta(doc) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in doc.iter("meta"):
        k = m.get("property") or m.get("name") or m.get("itemprop") or m.get("http-equiv")
        v = m.get("content")
        if k and v and v.strip():
            out.setdefault(k.strip().lower(), v.strip())
    return out


def _jsonld(doc) -> list[dict]:
    items: list[dict] = []
    for s in doc.xpath("//script[@type='application/ld+json']"):
        t = (s.text or "").strip()
        if not t or len(t) > 200_000:
            continue
        try:
            data = json.loads(t, strict=False)
        except ValueError:
            try:  # trailing commas, stray control characters
                data = json.loads(re.sub(r",\s*([}\]])", r"\1", t), strict=False)
            except ValueError:
                continue
        stack = [data]
        while stack:
            d = stack.pop()
            if isinstance(d, list):
                stack.extend(d)
            elif isinstance(d, dict):
                items.append(d)
                if "@graph" in d:
                    stack.append(d["@graph"])
    return items


def _types(d: dict) -> set[str]:
    t = d.get("@type")
    return set(t) if isinstance(t, list) else {t} if isinstance(t, str) else set()


_ARTICLE_TYPES = {"NewsArticle", "Article", "ReportageNewsArticle", "AnalysisNewsArticle",
                  "BlogPosting", "OpinionNewsArticle", "LiveBlogPosting"}


def _names(v: Any) -> list[str]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, dict):
        return _names(v.get("name"))
    if isinstance(v, list):
        return [n for x in v for n in _names(x)]
    return []


def _first_text(doc, xpaths: tuple[str, ...], maxlen: int = 2000) -> str:
    for x in xpaths:
        try:
            found = doc.xpath(x)
        except etree.XPathError:
            continue
        for el in found:
            t = normalize(el.text_content() if hasattr(el, "text_content") else str(el))
            if t and len(t) <= maxlen:
                return t
    return ""


_SUFFIX_WORDS = re.compile(
    r"báo|online|vnexpress|tuổi trẻ|tuoi tre|thanh niên|dân trí|người lao động|vietnamnet|"
    r"cafef|news|\.vn\b|\.net\b|\.com\b|tin tức|điện tử|vgp|đầu tư|zing|vov|vtv|lao động|"
    r"tiền phong|nhân dân|quân đội|công an|hà nội mới|sài gòn giải phóng|plo|vietnamplus", re.I)
_SUFFIX_SPLIT = re.compile(r"\s+[|\-–—:]\s+|\s*\|\s*")


def strip_site_suffix(title: str, site_names: tuple[str, ...] = ()) -> str:
    """"Xyz - Báo VnExpress Sức khỏe" -> "Xyz"; a suffix goes only if it names an outlet."""
    t = normalize(title)
    for _ in range(2):
        parts = _SUFFIX_SPLIT.split(t)
        if len(parts) < 2:
            break
        last = parts[-1].strip()
        known = any(n and n.lower() in last.lower() for n in site_names)
        if (known or _SUFFIX_WORDS.search(last)) and len(last) <= 90:
            m = list(_SUFFIX_SPLIT.finditer(t))[-1]
            t = t[:m.start()].strip()
        else:
            break
    return t


_BODY_TAGS = ("div", "article", "section", "td", "main")


def _find_body(doc, rule: SiteRule | None):
    """The rule's body, else the first element (in document order) of :data:`_BODY_TAGS`
    whose direct ``<p>`` children hold the most text (a paragraph counts when it has more
    than 25 characters and no link, or more than 120)."""
    if rule:
        for x in rule.body:
            found = doc.xpath(x)
            if found:
                return found[0]
    scores: dict[Any, int] = {}  # one pass over the <p>s, not over every container's children
    for p in doc.iter("p"):
        parent = p.getparent()
        if parent is None or parent.tag not in _BODY_TAGS:
            continue
        n = len(p.text_content())
        if n > 25 and p.find("a") is None or n > 120:
            scores[parent] = scores.get(parent, 0) + n
    if not scores:
        return None
    top = max(scores.values())
    best = [el for el, score in scores.items() if score == top]
    if len(best) == 1:
        return best[0]
    for el in doc.iter(*_BODY_TAGS):  # a tie: the first in document order
        if el in scores and scores[el] == top:
            return el
    return None


def _author_ok(a: str) -> bool:
    return bool(a) and len(a) <= 80 and not re.search(r"https?://|www\.|\.vn\b|\.com\b|\.net\b", a, re.I)


def _clean_author(a: str) -> str:
    a = normalize(a)
    a = re.sub(r"\s*(?:và \d+ tác giả khác|xem các bài viết của tác giả).*$", "", a, flags=re.I)
    a = re.sub(r"^(?:theo|bài và ảnh|bài, ảnh|tác giả)\s*:?\s*", "", a, flags=re.I)
    return a.strip(" -–:")


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------
def _empty(url: str | None) -> dict[str, Any]:
    return {"kind": "list", "title": "", "lead": "", "paragraphs": [], "text": "", "author": None,
            "published": None, "canonical_url": url, "section": None, "outlet": None, "lang": None}


def _parse(html: str | bytes, encoding: str | None):
    if html is None:
        raise ExtractError("no input")
    size = len(html)
    if size > MAX_BYTES:
        raise ExtractError(f"page too large: {size} bytes > cap {MAX_BYTES}")
    if isinstance(html, (bytes, bytearray)):
        data = bytes(html)
        if _utf8_first(data, encoding):
            # The common case, parsed as bytes: the same tree as decoding to str first
            # (libxml2 reads both as UTF-8), without the copy and the decode.
            data = _XML_DECL_B.sub(b"", data.replace(b"\x00", b""))
            if data.lstrip()[:1] == b"<":  # (str's \s and strip() know more whitespace)
                try:
                    return lxml.html.document_fromstring(data, parser=_utf8_parser())
                except (etree.ParserError, ValueError):
                    return None
        html = decode_html(data, encoding)
    elif not isinstance(html, str):
        raise ExtractError(f"expected str or bytes, got {type(html).__name__}")
    html = _XML_DECL.sub("", html.replace("\x00", ""))
    if not html.strip():
        return None
    try:
        doc = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None
    return doc


_XML_DECL_B = re.compile(rb"^\s*<\?xml[^>]*\?>", re.I)
_UTF8_PARSER: list[Any] = []


def _utf8_parser():
    if not _UTF8_PARSER:  # a parser per process (extraction workers fork)
        _UTF8_PARSER.append(lxml.html.HTMLParser(encoding="utf-8"))
    return _UTF8_PARSER[0]


def _utf8_first(data: bytes, encoding: str | None) -> bool:
    """True when :func:`decode_html` would decode ``data`` as strict UTF-8 (no BOM; the
    header's charset, else the meta charset, else nothing, is UTF-8 or fails before it)."""
    if data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return False
    m = _META_CHARSET.search(data[:8192])
    for enc in (_codec(encoding), _codec(m.group(1).decode("ascii", "ignore")) if m else None):
        if not enc:
            continue
        if enc == "utf-8":
            break
        try:  # decode_html tries this codec before UTF-8
            data.decode(enc)
            return False
        except (UnicodeDecodeError, LookupError):
            continue
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def extract(html: str | bytes, url: str | None = None, encoding: str | None = None) -> dict[str, Any]:
    """One page to one plain article record (see the module docstring)."""
    doc = _parse(html, encoding)
    if doc is None:
        return _empty(url)

    meta = _meta(doc)
    ld = _jsonld(doc)
    ld_article = next((d for d in ld if _types(d) & _ARTICLE_TYPES), {})
    ld_other = [d for d in ld if d is not ld_article]

    canonical = None
    for link in doc.iter("link"):
        if (link.get("rel") or "").lower() == "canonical" and (link.get("href") or "").strip():
            canonical = link.get("href").strip()
            break
    if not canonical:
        canonical = meta.get("og:url")
    if not canonical:
        me = ld_article.get("mainEntityOfPage")
        canonical = me.get("@id") if isinstance(me, dict) else me if isinstance(me, str) else None
    if canonical and url:
        canonical = urljoin(url, canonical)
    canonical = canonical or url
    if canonical and not re.match(r"https?://", canonical):
        canonical = url

    rule = rule_for(url) or rule_for(canonical)

    # drop executable/styling content once, for the whole document
    for el in list(doc.iter("script", "style", "noscript", "template", "iframe", "object", "embed")):
        _drop(el)

    # -- outlet, title ----------------------------------------------------
    publisher = _names(ld_article.get("publisher"))
    site_name = normalize(meta.get("og:site_name") or (publisher[0] if publisher else ""))
    outlet = rule.name if rule else (site_name or None)
    if not outlet and canonical:
        outlet = (urlsplit(canonical).hostname or "").removeprefix("www.") or None

    title = ""
    for get in (lambda: meta.get("og:title"), lambda: _unescape(str(ld_article.get("headline") or "")),
                lambda: meta.get("twitter:title"), lambda: _first_text(doc, rule.title) if rule else "",
                lambda: _first_text(doc, ("//h1",), 400), lambda: doc.findtext(".//title")):
        cand = get()
        if cand and normalize(cand):
            title = normalize(_unescape(cand))
            break
    title = strip_site_suffix(title, tuple(n for n in (site_name, outlet) if n) + (rule.suffixes if rule else ()))

    # -- lead -------------------------------------------------------------
    lead = _first_text(doc, rule.lead) if rule else ""
    if not lead:
        lead = _first_text(doc, ("//*[contains(@class,'sapo') and not(contains(@class,'box-category'))"
                                 " and not(contains(@class,'Related'))]",
                                 "//p[contains(@class,'description')]", "//*[@itemprop='description']"))
    if not lead:
        lead = normalize(_unescape(meta.get("og:description") or meta.get("description") or
                                   str(ld_article.get("description") or "")))
    lead = _DATELINE.sub("", lead).strip()

    # -- published --------------------------------------------------------
    published = None
    for k in ("article:published_time", "datepublished", "pubdate", "publishdate", "dc.date.issued",
              "dc.date", "date", "og:published_time", "article:published", "publish-date"):
        if meta.get(k):
            published = parse_date(meta[k])
            if published:
                break
    if not published and ld_article.get("datePublished"):
        published = parse_date(str(ld_article["datePublished"]))
    if not published:
        for v in doc.xpath("//time/@datetime"):
            published = parse_date(v)
            if published:
                break
    if not published:
        xps = (rule.date if rule else ()) + (
            "//*[contains(@class,'publish') or contains(@class,'post-time') or contains(@class,'pdate')"
            " or contains(@class,'detail-time') or @class='date' or contains(@class,'datetime')"
            " or contains(@class,'time-post') or contains(@class,'date-time')]", "//time")
        for x in xps:
            for el in doc.xpath(x)[:5]:
                published = parse_date(el.text_content()[:200])
                if published:
                    break
            if published:
                break

    # -- section, lang ----------------------------------------------------
    section = meta.get("article:section") or meta.get("articlesection")
    if not section:
        s = ld_article.get("articleSection")
        section = s[0] if isinstance(s, list) and s else s if isinstance(s, str) else None
    if not section:
        for d in ld_other:
            if "BreadcrumbList" in _types(d):
                items = d.get("itemListElement") or []
                flat = []
                for it in items:
                    flat.extend(it if isinstance(it, list) else [it])
                names = [n for it in flat if isinstance(it, dict)
                         for n in (_names(it) or _names(it.get("item")))]
                names = [n for n in names if normalize(n).lower() not in ("trang chủ", "home")
                         and not re.match(r"https?://", n)]
                if names:
                    section = names[0]
                break
    section = normalize(_unescape(section)) if section else None

    lang = (doc.get("lang") or meta.get("content-language") or meta.get("og:locale") or "").strip()
    lang = lang.split("-")[0].split("_")[0].lower() or None

    # -- author -----------------------------------------------------------
    not_author = {n.lower() for n in (outlet, site_name, *(publisher or [])) if n}

    def _ok(a: str) -> bool:
        return _author_ok(a) and a.lower() not in not_author

    cands: list[str] = []
    for x in (rule.author if rule else ()):
        names = [_clean_author(_unescape(el.text_content())) for el in doc.xpath(x)[:4]]
        names = list(dict.fromkeys(n for n in names if _ok(n)))
        if names:
            cands.append(", ".join(names))
            break
    ld_names = [_clean_author(_unescape(n)) for n in _names(ld_article.get("author"))]
    ld_names = list(dict.fromkeys(n for n in ld_names if _ok(n)))
    if ld_names:
        cands.append(", ".join(ld_names))
    if not any(_ok(_clean_author(_unescape(a))) for a in cands):
        cands += [el.text_content() for el in doc.xpath(
            "//*[contains(@class,'author-name') or contains(@class,'author_name') or @rel='author'"
            " or @itemprop='author']")[:3]]
    # meta author tags mostly name the outlet: only a two-word name passes
    cands += [m for m in (meta.get("dable:author", "").replace(";", ", "), meta.get("article:author", ""))
              if len(m.split()) >= 2]
    author = None
    for a in cands:
        a = _clean_author(_unescape(a or ""))
        if _ok(a):
            author = a
            break

    # -- body -------------------------------------------------------------
    body = _find_body(doc, rule)
    paragraphs: list[str] = []
    link_chars = 0
    if body is not None:
        if rule:
            for x in rule.drop:
                for el in body.xpath(x):
                    _drop(el)
        link_chars = sum(len(a.text_content()) for a in body.iter("a"))
        _clean_body(body)
        paragraphs = _paragraphs(body)
    # the lead, the title or the author repeated inside the body
    drop_same = {p.lower() for p in (lead, title, author or "") if p}
    paragraphs = [p for p in paragraphs if p.lower() not in drop_same]
    if paragraphs and lead and _DATELINE.sub("", paragraphs[0]).lower() == lead.lower():
        paragraphs = paragraphs[1:]
    # a trailing short byline ("Lê Phương", "Hà Thu (tổng hợp)")
    if paragraphs and len(paragraphs[-1]) <= 40 and not re.search(r"[.!?…:;]$", paragraphs[-1]) \
            and len(paragraphs[-1].split()) <= 6 and len(paragraphs) > 2:
        last = paragraphs.pop()
        if not author:
            author = _clean_author(re.sub(r"\((?:tổng hợp|theo .*)\)$", "", last, flags=re.I))
    text = "\n".join(paragraphs)

    if not lang and text:
        lang = "vi" if is_vietnamese(text[:2000]) else None

    is_article_meta = bool(ld_article) or meta.get("og:type", "").lower() == "article" \
        or "article:published_time" in meta
    body_chars = len(text)
    total_chars = max(1, body_chars + link_chars)
    kind = "article" if (body_chars >= 400 and len(paragraphs) >= 3 and link_chars / total_chars < 0.4
                         and (is_article_meta or published or body_chars >= 1500)) else "list"

    return {
        "kind": kind,
        "title": title,
        "lead": lead,
        "paragraphs": paragraphs,
        "text": text,
        "author": author or None,
        "published": published,
        "canonical_url": canonical,
        "section": section or None,
        "outlet": outlet,
        "lang": lang,
    }


def is_article_page(html: str | bytes, url: str | None = None) -> bool:
    """True when the page is one article (not a home, section or list page)."""
    return extract(html, url)["kind"] == "article"
