"""The source catalogue: outlets' feeds, news sitemaps and report inboxes.

A catalogue is a TOML file (the default one is ``corpora/sources.toml``)::

    [defaults]                  # apply to every [[source]] unless it overrides them
    min_interval = 2.0          # seconds between two requests to one host
    max_articles = 200          # new article pages fetched per source per run
    enabled = true

    [[source]]
    name = "vnexpress-thoi-su"  # unique, [a-z0-9-]
    outlet = "VnExpress"
    kind = "rss"                # rss (RSS/Atom/RDF) | sitemap (news sitemap) | inbox
    url = "https://vnexpress.net/rss/thoi-su.rss"   # or path = "..." for kind = "inbox"
    section = "Thời sự"
    area = "national"           # national | Hà Nội | ...
    enabled = true
    verified = false
    provenance = "where the URL came from"

A user adds, disables or tunes a source by editing that file; no code
changes. ``rules`` is a free table for per-source tuning read by the crawler
(``include`` / ``exclude``: lists of regular expressions on entry URLs;
``sitemap_children``: how many child sitemaps of a sitemap index to follow;
``prime``: a URL fetched first in the same session, for feeds that need the
session cookie it sets).
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

KINDS = ("rss", "sitemap", "inbox")
NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")

# Keys a [defaults] table may set (everything tunable, nothing identifying).
DEFAULTABLE = ("min_interval", "max_articles", "enabled", "verified", "user_agent", "area",
               "rules", "provenance", "kind")


class SourceError(ValueError):
    """A catalogue that cannot be used; the message names the file and the source."""


@dataclass
class Source:
    name: str
    outlet: str
    kind: str = "rss"
    url: str | None = None
    path: str | None = None
    section: str = ""
    area: str = "national"
    enabled: bool = True
    verified: bool = False
    provenance: str = ""
    min_interval: float = 2.0
    max_articles: int = 200
    user_agent: str | None = None
    rules: dict[str, Any] = field(default_factory=dict)

    @property
    def host(self) -> str:
        """Host name of ``url`` (lower case), ``""`` for an inbox."""
        return (urlsplit(self.url).hostname or "").lower() if self.url else ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


_FIELDS = {f for f in Source.__dataclass_fields__}
_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,), "outlet": (str,), "kind": (str,), "url": (str,), "path": (str,),
    "section": (str,), "area": (str,), "enabled": (bool,), "verified": (bool,),
    "provenance": (str,), "min_interval": (int, float), "max_articles": (int,),
    "user_agent": (str,), "rules": (dict,),
}


def _check_value(key: str, value: Any) -> str | None:
    want = _TYPES[key]
    if isinstance(value, bool) and bool not in want:
        return f"{key} must be {' or '.join(t.__name__ for t in want)}, not a boolean"
    if not isinstance(value, want):
        return f"{key} must be {' or '.join(t.__name__ for t in want)}, not {type(value).__name__} {value!r}"
    if key == "min_interval" and value < 0:
        return "min_interval must be >= 0"
    if key == "max_articles" and value < 0:
        return "max_articles must be >= 0"
    return None


def make_source(entry: dict[str, Any], defaults: dict[str, Any] | None = None,
                where: str = "source") -> Source:
    """One :class:`Source` from a TOML table (plus defaults); raises :class:`SourceError`."""
    defaults = defaults or {}
    label = f"{where} {entry.get('name')!r}" if entry.get("name") else where
    unknown = sorted(set(entry) - _FIELDS)
    if unknown:
        raise SourceError(f"{label}: unknown key(s) {', '.join(unknown)} "
                          f"(known: {', '.join(sorted(_FIELDS))})")
    data: dict[str, Any] = {}
    for k, v in defaults.items():
        data[k] = dict(v) if isinstance(v, dict) else v
    for k, v in entry.items():
        if k == "rules" and isinstance(v, dict) and isinstance(data.get("rules"), dict):
            data["rules"] = {**data["rules"], **v}
        else:
            data[k] = v
    for req in ("name", "outlet"):
        if not data.get(req):
            raise SourceError(f"{label}: missing {req}")
    for k, v in data.items():
        problem = _check_value(k, v)
        if problem:
            raise SourceError(f"{label}: {problem}")
    if not NAME_RE.match(data["name"]):
        raise SourceError(f"{label}: name must be lower-case letters, digits and '-' "
                          f"(like 'vnexpress-thoi-su')")
    kind = data.get("kind", "rss")
    if kind not in KINDS:
        raise SourceError(f"{label}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if kind == "inbox":
        if not data.get("path"):
            raise SourceError(f"{label}: an inbox source needs path = \"...\"")
    else:
        url = data.get("url")
        if not url:
            raise SourceError(f"{label}: a {kind} source needs url = \"...\"")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SourceError(f"{label}: url must be an absolute http(s) URL, not {url!r}")
    problem = _check_rules(data.get("rules") or {})
    if problem:
        raise SourceError(f"{label}: rules: {problem}")
    data["min_interval"] = float(data.get("min_interval", 2.0))
    return Source(**data)


def _check_rules(rules: dict[str, Any]) -> str | None:
    known = {"include", "exclude", "prime", "sitemap_children"}
    unknown = sorted(set(rules) - known)
    if unknown:
        return f"unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
    for key in ("include", "exclude"):
        pats = rules.get(key, [])
        if not isinstance(pats, list) or not all(isinstance(p, str) for p in pats):
            return f"{key} must be a list of regular expressions"
        for p in pats:
            try:
                re.compile(p)
            except re.error as e:
                return f"{key}: bad regular expression {p!r}: {e}"
    prime = rules.get("prime")
    if prime is not None and (not isinstance(prime, str) or urlsplit(prime).scheme not in ("http", "https")):
        return "prime must be an absolute http(s) URL"
    n = rules.get("sitemap_children")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 0):
        return "sitemap_children must be an integer >= 0"
    return None


def parse_sources(text: str, origin: str = "<string>") -> list[Source]:
    """Sources from TOML text; ``origin`` names the file in error messages."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SourceError(f"{origin}: invalid TOML: {e}") from e
    extra = sorted(set(doc) - {"defaults", "source"})
    if extra:
        raise SourceError(f"{origin}: unknown top-level key(s) {', '.join(extra)} "
                          "(expected [defaults] and [[source]] tables)")
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, dict):
        raise SourceError(f"{origin}: [defaults] must be a table")
    bad = sorted(set(defaults) - set(DEFAULTABLE))
    if bad:
        raise SourceError(f"{origin}: [defaults] cannot set {', '.join(bad)} "
                          f"(allowed: {', '.join(DEFAULTABLE)})")
    for k, v in defaults.items():
        problem = _check_value(k, v)
        if problem:
            raise SourceError(f"{origin}: [defaults]: {problem}")
    entries = doc.get("source", [])
    if not isinstance(entries, list):
        raise SourceError(f"{origin}: use [[source]] (an array of tables) for sources")
    out: list[Source] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries, 1):
        where = f"{origin}: [[source]] #{i}"
        src = make_source(entry, defaults, where)
        if src.name in seen:
            raise SourceError(f"{where} {src.name!r}: duplicate name (first used by "
                              f"[[source]] #{seen[src.name]})")
        seen[src.name] = i
        out.append(src)
    return out


def load_sources(path: str | Path) -> list[Source]:
    """All sources of a catalogue file (enabled or not), in file order.

    Raises :class:`SourceError` (a ``ValueError``) naming the file and the
    offending source, or ``FileNotFoundError``.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"sources file not found: {p}")
    return parse_sources(p.read_text(encoding="utf-8"), origin=str(p))


def default_sources_path() -> Path:
    from .config import REPO_DIR
    return REPO_DIR / "corpora" / "sources.toml"


def enabled(sources: list[Source], names: list[str] | None = None) -> list[Source]:
    """The enabled sources, or exactly the named ones (enabled or not) if ``names``."""
    if names:
        by = {s.name: s for s in sources}
        missing = [n for n in names if n not in by]
        if missing:
            raise SourceError(f"unknown source(s): {', '.join(missing)}")
        return [by[n] for n in names]
    return [s for s in sources if s.enabled]
