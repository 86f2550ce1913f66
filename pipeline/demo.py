"""The demo set and the local server that serves it.

``corpora/demo/site`` is a static site of fictional Vietnamese outlets (feeds,
article pages, ``robots.txt``) written for the project. Its dates are
placeholders, filled in when a file is served, so that a demo run always
finds a full current week:

``{{base}}``
    the server's base URL, e.g. ``http://127.0.0.1:8123`` (no trailing slash)
``{{rfc822:H}}``
    "now minus H hours" as RFC 822 (feeds): ``Tue, 01 Dec 2026 06:25:00 +0700``
``{{iso:H}}``
    the same instant as ISO 8601 with ``+07:00`` (meta tags, JSON-LD, Atom)
``{{vn:H}}``
    the same instant as the outlets print it:
    ``Thứ ba, 01/12/2026, 06:25 (GMT+7)``

The instant is clamped into the current ISO week (Vietnam time): never in the
future, never before Monday 00:05 +07:00 (in the first five minutes of a week
"never in the future" wins: everything is dated now). When less of the week has passed
than the demo spans (:data:`DEMO_SPAN_HOURS`), the hours are scaled down so
that the articles keep their order and do not pile up on Monday 00:05.

The server fixes "now" when it starts, so a feed and the page it links to
agree to the minute, and ETags stay stable for the life of the server.
"""
from __future__ import annotations

import contextlib
import email.utils
import hashlib
import http.server
import mimetypes
import posixpath
import re
import threading
import urllib.parse
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

from .config import REPO_DIR

VN_TZ = timezone(timedelta(hours=7), "+07:00")
#: The largest H used by the demo pages; the scale that fits them into the
#: part of the week that has passed.
DEMO_SPAN_HOURS = 150.0
#: Earliest instant of the week a placeholder may take (Monday 00:05 +07:00).
WEEK_START_OFFSET = timedelta(minutes=5)

_WEEKDAYS_VN = ("Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy", "Chủ nhật")
_PLACEHOLDER = re.compile(r"\{\{\s*(base|(rfc822|iso|vn)\s*:\s*(-?\d+(?:\.\d+)?))\s*\}\}")

# Content types served; text types get placeholder substitution and charset=utf-8.
_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".xml": "application/xml",
    ".txt": "text/plain",
    ".toml": "application/toml",
    ".json": "application/json",
    ".jsonl": "application/jsonl",
    ".css": "text/css",
    ".js": "text/javascript",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
}
_TEXT_TYPES = {"application/rss+xml", "application/atom+xml", "application/xml", "application/toml",
               "application/json", "application/jsonl", "image/svg+xml"}


def demo_root() -> Path:
    """``corpora/demo`` in the repository."""
    return REPO_DIR / "corpora" / "demo"


def _now_vn(now: datetime | None) -> datetime:
    if now is None:
        now = datetime.now(timezone.utc)
    elif now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(VN_TZ).replace(microsecond=0)


def week_floor(now: datetime | None = None) -> datetime:
    """Monday 00:05 +07:00 of the ISO week that contains ``now`` (Vietnam time)."""
    n = _now_vn(now)
    monday = (n - timedelta(days=n.weekday())).replace(hour=0, minute=0, second=0)
    return monday + WEEK_START_OFFSET


def demo_instant(hours: float, now: datetime | None = None) -> datetime:
    """"now minus ``hours``", scaled and clamped into the current ISO week (+07:00)."""
    n = _now_vn(now)
    floor = week_floor(n)
    elapsed_h = max((n - floor).total_seconds() / 3600.0, 0.0)
    scale = min(1.0, elapsed_h / DEMO_SPAN_HOURS)
    t = n - timedelta(hours=max(hours, 0.0) * scale)
    t = min(n, max(floor, t))
    return t.replace(second=0)  # floor is on a whole minute, so this stays >= floor


def format_vn(t: datetime) -> str:
    """``Thứ ba, 01/12/2026, 06:25 (GMT+7)``."""
    t = t.astimezone(VN_TZ)
    return f"{_WEEKDAYS_VN[t.weekday()]}, {t:%d/%m/%Y, %H:%M} (GMT+7)"


def render_placeholders(text: str, base_url: str, now: datetime | None = None) -> str:
    """Substitute ``{{base}}``, ``{{rfc822:H}}``, ``{{iso:H}}`` and ``{{vn:H}}`` in ``text``."""
    n = _now_vn(now)
    base = base_url.rstrip("/")

    def sub(m: re.Match) -> str:
        if m.group(1) == "base":
            return base
        kind, hours = m.group(2), float(m.group(3))
        t = demo_instant(hours, n)
        if kind == "rfc822":
            return email.utils.format_datetime(t)
        if kind == "iso":
            return t.isoformat()
        return format_vn(t)

    return _PLACEHOLDER.sub(sub, text)


def demo_sources_file(base_url: str, dest_dir: Path) -> Path:
    """Write the demo catalogue with ``{{base}}`` filled in into ``dest_dir``; return its path."""
    src = demo_root() / "sources.toml"
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    out = dest_dir / "sources.toml"
    out.write_text(render_placeholders(src.read_text(encoding="utf-8"), base_url), encoding="utf-8")
    return out


def _site_dir(root: Path | None) -> Path:
    root = Path(root) if root is not None else demo_root()
    if (root / "site").is_dir():
        root = root / "site"
    if not root.is_dir():
        raise FileNotFoundError(f"demo site not found: {root}")
    return root.resolve()


def content_type(path: Path) -> tuple[str, bool]:
    """(Content-Type header, whether placeholders are substituted) for a file."""
    ext = path.suffix.lower()
    ctype = _TYPES.get(ext)
    if ctype == "application/xml" and "atom" in path.name.lower():
        ctype = "application/atom+xml"
    elif ctype == "application/xml" and "rss" in path.name.lower():
        ctype = "application/rss+xml"
    if ctype is None:
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    is_text = ctype.startswith("text/") or ctype in _TEXT_TYPES
    return (f"{ctype}; charset=utf-8" if is_text else ctype), is_text


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "nguoitot-demo/1.0"
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes: avoid 40 ms stalls

    # set on the subclass made per server
    site: Path
    now: datetime
    started: datetime
    base_url: str

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - quiet in tests
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _resolve(self) -> Path | None:
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        path = posixpath.normpath(path)
        parts = [p for p in path.split("/") if p and p not in (".", "..")]
        target = self.site.joinpath(*parts) if parts else self.site
        try:
            target = target.resolve()
            target.relative_to(self.site)
        except (ValueError, OSError):
            return None
        if target.is_dir():
            target = target / "index.html"
        return target if target.is_file() else None

    def _send_error(self, code: int, message: str, head: bool) -> None:
        body = f"{code} {message}\n".encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _serve(self, head: bool) -> None:
        target = self._resolve()
        if target is None:
            self._send_error(404, "Not Found", head)
            return
        ctype, is_text = content_type(target)
        data = target.read_bytes()
        if is_text:
            data = render_placeholders(data.decode("utf-8"), self.base_url, self.now).encode("utf-8")
        etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
        mtime = datetime.fromtimestamp(int(target.stat().st_mtime), timezone.utc)
        modified = max(mtime, self.started) if is_text else mtime
        if self._not_modified(etag, modified):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", email.utils.format_datetime(modified, usegmt=True))
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", email.utils.format_datetime(modified, usegmt=True))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if not head:
            self.wfile.write(data)

    def _not_modified(self, etag: str, modified: datetime) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:  # If-None-Match wins over If-Modified-Since (RFC 9110)
            tags = [t.strip() for t in inm.split(",")]
            return "*" in tags or etag in tags or ("W/" + etag) in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                since = email.utils.parsedate_to_datetime(ims)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                since = since.replace(tzinfo=timezone.utc)
            return modified <= since
        return False


DEMO_PORT = 8765  # the usual port of `run --demo`: stable URLs, stable article ids


@contextlib.contextmanager
def serve_demo(root: Path | None = None, host: str = "127.0.0.1", port: int | None = 0,
               now: datetime | None = None) -> Iterator[str]:
    """Serve the demo site on ``host:port`` (port 0: any free port) in a background thread.

    ``port=None`` uses the demo's usual port (:data:`DEMO_PORT`) when it is free,
    so that article URLs, and so the stored articles, stay the same from one
    ``run --demo`` to the next; another free port otherwise.

    Yields the base URL (``http://127.0.0.1:PORT``); stops the server and joins
    its thread on exit. ``root`` is ``corpora/demo`` (or its ``site`` folder);
    ``now`` fixes the clock the placeholders are filled from (default: when
    the server starts).
    """
    if host not in ("127.0.0.1", "localhost"):
        raise ValueError("the demo server only listens on the loopback interface")
    site = _site_dir(root)
    started = datetime.now(timezone.utc).replace(microsecond=0)
    fixed_now = _now_vn(now) if now is not None else started.astimezone(VN_TZ)

    if port is None:
        try:
            httpd = http.server.ThreadingHTTPServer((host, DEMO_PORT), _Handler)
        except OSError:
            httpd = http.server.ThreadingHTTPServer((host, 0), _Handler)
    else:
        httpd = http.server.ThreadingHTTPServer((host, port), _Handler)
    httpd.daemon_threads = True
    bound_port = httpd.server_address[1]
    base_url = f"http://127.0.0.1:{bound_port}"
    handler = type("DemoHandler", (_Handler,), {
        "site": site, "now": fixed_now, "started": started, "base_url": base_url,
    })
    httpd.RequestHandlerClass = handler
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                              name="nguoitot-demo-server", daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    """``python -m pipeline.demo [--port N]``: serve the demo site until Ctrl-C (for a look in a browser)."""
    import argparse
    import time

    ap = argparse.ArgumentParser(prog="python -m pipeline.demo", description=main.__doc__)
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    args = ap.parse_args(argv)
    with serve_demo(port=args.port) as base:
        print(f"demo outlets served at {base}/ (feeds in {base}/<outlet>/rss.xml); Ctrl-C stops", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
