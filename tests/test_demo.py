"""The demo set (corpora/demo) and its local server (pipeline.demo)."""
from __future__ import annotations

import email.utils
import importlib.util
import json
import re
import sys
import tomllib
from datetime import datetime, timedelta, timezone

import feedparser
import httpx
import pytest
from bs4 import BeautifulSoup

from pipeline import demo
from pipeline.demo import (VN_TZ, demo_instant, demo_root, demo_sources_file, format_vn,
                           render_placeholders, serve_demo, week_floor)

SITE = demo_root() / "site"
FEEDS = ["thudongaymoi/rss.xml", "thudongaymoi/rss/thoi-su.rss", "tinhanoi24h/atom.xml",
         "laodongsonghong/rss.xml", "nhipsongbamien/rss.xml"]
VN_DATE = re.compile(r"^(Thứ (hai|ba|tư|năm|sáu|bảy)|Chủ nhật), \d{2}/\d{2}/\d{4}, \d{2}:\d{2} \(GMT\+7\)$")
TEXT_SUFFIXES = {".html", ".xml", ".rss", ".txt", ".css", ".js"}


def vn(y, mo, d, h=0, mi=0):
    return datetime(y, mo, d, h, mi, tzinfo=VN_TZ)


@pytest.fixture(scope="module")
def labels() -> list[dict]:
    with open(demo_root() / "labels.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="module")
def server():
    with serve_demo() as base:
        with httpx.Client(base_url=base, timeout=10) as client:
            yield base, client


def _week(t: datetime) -> tuple[int, int]:
    return t.astimezone(VN_TZ).isocalendar()[:2]


# --- placeholders -----------------------------------------------------------

def test_render_placeholders_formats():
    now = vn(2026, 12, 3, 15, 40)  # Thursday: 87.6 h of the week passed
    out = render_placeholders("{{base}}/a|{{rfc822:0}}|{{iso:0}}|{{vn:0}}|{{ iso : 2 }}",
                              "http://127.0.0.1:8123/", now)
    base, rfc, iso, vis, iso2 = out.split("|")
    assert base == "http://127.0.0.1:8123/a"
    assert email.utils.parsedate_to_datetime(rfc) == now
    assert rfc.endswith("+0700")
    assert iso == "2026-12-03T15:40:00+07:00"
    assert vis == "Thứ năm, 03/12/2026, 15:40 (GMT+7)"
    assert VN_DATE.match(vis)
    assert datetime.fromisoformat(iso2) < now
    assert "{{" not in out


def test_render_placeholders_leaves_other_text_alone():
    text = "{{unknown}} {{ base }} {rfc822:1} {{rfc822:x}}"
    assert render_placeholders(text, "http://h:1") == "{{unknown}} http://h:1 {rfc822:1} {{rfc822:x}}"


def test_exact_hours_late_in_the_week():
    now = vn(2026, 12, 6, 22, 0)  # Sunday 22:00: more than DEMO_SPAN_HOURS passed
    assert demo_instant(5, now) == now - timedelta(hours=5)
    assert demo_instant(demo.DEMO_SPAN_HOURS, now) == now - timedelta(hours=demo.DEMO_SPAN_HOURS)


@pytest.mark.parametrize("now", [vn(2026, 11, 30, 0, 20), vn(2026, 11, 30, 9, 0), vn(2026, 12, 2, 6, 27),
                                 vn(2026, 12, 6, 23, 59), datetime(2026, 12, 6, 17, 30, tzinfo=timezone.utc)])
def test_instants_stay_in_the_current_week_and_keep_order(now):
    floor = week_floor(now)
    assert floor.weekday() == 0 and (floor.hour, floor.minute) == (0, 5)
    assert _week(floor) == _week(now)
    times = [demo_instant(h, now) for h in (0, 1, 3, 12, 30, 75, 120, 150, 400)]
    for t in times:
        assert floor <= t <= now
        assert _week(t) == _week(now)
    assert times == sorted(times, reverse=True)  # more hours ago is never later
    assert format_vn(times[-1]).startswith("Thứ hai")  # 400 h ago is clamped to Monday


def test_week_floor_uses_vietnam_time():
    # Sunday 17:30 UTC is Monday 00:30 in Vietnam: a new week there.
    now = datetime(2026, 12, 6, 17, 30, tzinfo=timezone.utc)
    assert week_floor(now) == vn(2026, 12, 7, 0, 5)
    with pytest.raises(ValueError):
        render_placeholders("{{iso:1}}", "http://x", datetime(2026, 12, 1, 12, 0))


# --- the files --------------------------------------------------------------

def test_labels_consistent_with_site(labels, corpora):
    guide = (corpora.parent / "LABELING.md").read_text(encoding="utf-8")
    fields_sec = guide.split("## 2.")[1].split("## 3.")[0]
    deeds_sec = guide.split("## 3.")[1].split("## 4.")[0].split("\n", 1)[1]  # not the heading
    fields = set(re.findall(r"^\| `([a-z-]+)` \|", fields_sec, re.M))
    deeds = set(re.findall(r"`([a-z-]+)`", deeds_sec))
    assert "cong-dong" in fields and "cuu-nguoi" in deeds and len(fields) == 11 and len(deeds) == 9

    paths = [rec["path"] for rec in labels]
    assert len(paths) == len(set(paths)) >= 30
    for rec in labels:
        assert (SITE / rec["path"]).is_file(), rec["path"]
        assert rec["label"] in (0, 1, 2)
        if rec["label"]:
            assert rec["field"] in fields and rec["deed"] in deeds, rec
        else:
            assert rec["field"] == rec["deed"] == "" and rec["exemplars"] == [], rec
        if rec["label"] == 2:
            assert rec["exemplars"], rec
    counts = {v: sum(r["label"] == v for r in labels) for v in (0, 1, 2)}
    assert counts[2] >= 10 and counts[1] >= 4 and counts[0] >= 10
    # every article page on the site is labelled (index pages aside)
    pages = {str(p.relative_to(SITE)) for p in SITE.glob("*/*.html") if p.name != "index.html"}
    assert pages == set(paths)


def test_site_is_built_from_src():
    spec = importlib.util.spec_from_file_location("demo_build_site", demo_root() / "build_site.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    try:
        spec.loader.exec_module(mod)
    finally:
        del sys.modules[spec.name]
    files = mod.build()
    for rel, data in files.items():
        assert (demo_root() / rel).read_bytes() == data, f"{rel} is stale: run python corpora/demo/build_site.py"
    for art in mod.load_articles():  # 150-400 words (syllables) of body, several paragraphs
        words = sum(len(p.split()) for p in art.paragraphs if not p.startswith("["))
        assert 150 <= words <= 400, (art.path, words)
        assert len([p for p in art.paragraphs if not p.startswith("[")]) >= 4


def test_special_pages():
    html = (SITE / "thudongaymoi/canh-bao-trang-gia-mao-chen-ma-doc-4710.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    h1 = BeautifulSoup(html, "lxml").h1.get_text()
    assert "<script>alert(1)</script>" in h1 and "<b>" in h1  # markup as text, escaped in the page

    nodate = (SITE / "laodongsonghong/doanh-nghiep-det-may-lac-quan-ve-don-hang-cuoi-nam-30555.html")
    text = nodate.read_text(encoding="utf-8")
    assert not re.search(r"\{\{(iso|vn|rfc822):|datePublished|published_time|<time", text)
    feed = (SITE / "laodongsonghong/rss.xml").read_text(encoding="utf-8")
    assert nodate.name in feed

    inline = BeautifulSoup((SITE / "thudongaymoi/bac-xe-om-tra-lai-vi-30-trieu-cho-du-khach-4702.html")
                           .read_text(encoding="utf-8"), "lxml")
    body = inline.select_one("article.fck_detail")
    assert body.find("figcaption") and body.select_one(".box-related") and body.select_one(".box-comment")
    assert "Tin liên quan" in body.get_text()

    def paras(path, sel):
        soup = BeautifulSoup((SITE / path).read_text(encoding="utf-8"), "lxml")
        return [p.get_text() for p in soup.select(sel)]
    a = paras("thudongaymoi/nam-thanh-nien-lao-xuong-song-hong-cuu-be-trai-4701.html", "article.fck_detail > p.Normal")
    b = paras("tinhanoi24h/lao-xuong-song-hong-cuu-be-trai-9-tuoi-bi-nuoc-cuon-88213.html", "div.article-content > p")
    assert a[:-1] == b and len(b) >= 5  # syndicated: same body (a ends with the byline)


def test_most_pages_have_jsonld_and_metadata(labels):
    with_ld = 0
    for rec in labels:
        soup = BeautifulSoup((SITE / rec["path"]).read_text(encoding="utf-8"), "lxml")
        assert soup.find("link", rel="canonical")["href"] == "{{base}}/" + rec["path"]
        assert soup.find("meta", property="og:title")["content"] == rec["title"]
        ld = soup.find("script", type="application/ld+json")
        if ld:
            data = json.loads(ld.string)
            assert data["@type"] == "NewsArticle" and data["headline"] == rec["title"]
            assert data["datePublished"].startswith("{{iso:")
            with_ld += 1
    assert with_ld >= 0.8 * len(labels)


def test_sources_file(tmp_path, labels):
    out = demo_sources_file("http://127.0.0.1:5555", tmp_path / "x")
    text = out.read_text(encoding="utf-8")
    assert out.parent == tmp_path / "x" and "{{" not in text
    cat = tomllib.loads(text)
    assert cat["defaults"]["min_interval"] == 0
    srcs = cat["source"]
    assert len({s["name"] for s in srcs}) == len(srcs) >= 4
    for s in srcs:
        assert re.fullmatch(r"[a-z0-9-]+", s["name"])
        assert s["url"].startswith("http://127.0.0.1:5555/")
        assert (SITE / s["url"].split("5555/", 1)[1]).is_file()
        assert s["kind"] in ("rss", "sitemap")
    from pipeline.sources import load_sources  # the crawler reads it like any catalogue
    loaded = load_sources(out)
    assert {s.name for s in loaded} == {s["name"] for s in srcs}
    assert all(s.min_interval == 0 for s in loaded)


# --- the server -------------------------------------------------------------

def test_feeds_parse_with_dates_in_this_week(server, labels):
    base, client = server
    now = datetime.now(VN_TZ)
    seen = set()
    for path in FEEDS:
        r = client.get("/" + path)
        assert r.status_code == 200, path
        assert "charset=utf-8" in r.headers["content-type"]
        assert ("atom" if path.endswith("atom.xml") else "rss") in r.headers["content-type"]
        assert "{{" not in r.text
        feed = feedparser.parse(r.content)
        assert not feed.bozo, (path, feed.get("bozo_exception"))
        assert len(feed.entries) >= 3, path
        for e in feed.entries:
            assert e.title.strip()
            assert e.link.startswith(base + "/")
            t = datetime(*e.published_parsed[:6], tzinfo=timezone.utc)
            assert _week(t) == _week(now) and t <= now + timedelta(seconds=1), (path, e.published)
            seen.add(e.link[len(base) + 1:])
    assert seen == {rec["path"] for rec in labels}  # every article is in a feed


def test_article_pages(server, labels):
    base, client = server
    now = datetime.now(VN_TZ)
    for rec in labels:
        r = client.get("/" + rec["path"])
        assert r.status_code == 200, rec["path"]
        assert r.headers["content-type"] == "text/html; charset=utf-8"
        assert "{{" not in r.text
        soup = BeautifulSoup(r.text, "lxml")
        assert soup.h1.get_text(strip=True) == rec["title"]
        assert soup.find("link", rel="canonical")["href"] == f"{base}/{rec['path']}"
        meta = soup.find("meta", property="article:published_time")
        if meta:
            t = datetime.fromisoformat(meta["content"])
            assert _week(t) == _week(now) and t.utcoffset() == timedelta(hours=7)
            assert format_vn(t) in r.text  # the visible date is the same instant


def test_whole_site_substituted(server):
    base, client = server
    n = 0
    for p in SITE.rglob("*"):
        if p.is_file() and p.suffix in TEXT_SUFFIXES:
            r = client.get("/" + str(p.relative_to(SITE)))
            assert r.status_code == 200 and "{{" not in r.text, p
            n += 1
    assert n > 40
    png = client.get("/static/anh-minh-hoa.png")
    assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")


def test_robots_404_and_traversal(server):
    base, client = server
    r = client.get("/robots.txt")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert "Disallow: /admin/" in r.text and f"{base}/" in r.text
    from urllib.robotparser import RobotFileParser
    rp = RobotFileParser()
    rp.parse(r.text.splitlines())
    assert not rp.can_fetch("nguoitot", f"{base}/admin/")
    assert rp.can_fetch("nguoitot", f"{base}/tinhanoi24h/atom.xml")
    assert client.get("/no/such/page.html").status_code == 404
    assert client.get("/thudongaymoi/").status_code == 200  # directory index
    assert client.get("/../pipeline/demo.py").status_code == 404
    assert client.get("/%2e%2e/%2e%2e/README.md").status_code == 404
    assert client.get("/../build_site.py").status_code == 404  # only site/ is served


def test_conditional_get(server):
    base, client = server
    r = client.get("/tinhanoi24h/atom.xml")
    etag, lm = r.headers["etag"], r.headers["last-modified"]
    assert etag and email.utils.parsedate_to_datetime(lm)
    r2 = client.get("/tinhanoi24h/atom.xml", headers={"If-None-Match": etag})
    assert r2.status_code == 304 and r2.content == b"" and r2.headers["etag"] == etag
    r3 = client.get("/tinhanoi24h/atom.xml", headers={"If-Modified-Since": lm})
    assert r3.status_code == 304
    r4 = client.get("/tinhanoi24h/atom.xml", headers={"If-None-Match": '"other"', "If-Modified-Since": lm})
    assert r4.status_code == 200 and r4.content == r.content  # If-None-Match wins
    old = email.utils.format_datetime(datetime(2000, 1, 1, tzinfo=timezone.utc), usegmt=True)
    assert client.get("/tinhanoi24h/atom.xml", headers={"If-Modified-Since": old}).status_code == 200
    h = client.head("/tinhanoi24h/atom.xml")
    assert h.status_code == 200 and h.content == b"" and h.headers["etag"] == etag


def test_server_stops_and_fixed_now(tmp_path):
    now = vn(2026, 12, 2, 9, 30)
    with serve_demo(now=now) as base:
        text = httpx.get(base + "/laodongsonghong/rss.xml").text
        port = int(base.rsplit(":", 1)[1])
    assert "Wed, 02 Dec 2026 09:30:00 +0700" in text  # lastBuildDate = {{rfc822:0}}
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{port}/robots.txt", timeout=2)
    with pytest.raises(ValueError):
        with serve_demo(host="0.0.0.0"):
            pass
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "a.html").write_text("<a href='{{base}}/x'>{{vn:0}}</a>", encoding="utf-8")
    with serve_demo(tmp_path, now=now) as base:
        assert httpx.get(base + "/a.html").text == f"<a href='{base}/x'>Thứ tư, 02/12/2026, 09:30 (GMT+7)</a>"
