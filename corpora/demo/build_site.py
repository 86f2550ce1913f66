"""Build corpora/demo/site, labels.jsonl and sources.toml from corpora/demo/src.

The articles are hand-written text files, one per article, in
``src/<outlet-slug>/<page-name>.txt``::

    title: ...
    lead: ...                 # the sapo
    hours: 5                  # published "now minus 5 hours" (see pipeline/demo.py)
    section: Xã hội
    author: Minh Anh
    label: 2                  # intended judgement by LABELING.md
    field: cong-dong
    deed: cuu-nguoi
    exemplars: Trần Văn Hùng | ...
    caption: photo caption    # optional: a <figure> after the first paragraph
    feeds: thoi-su            # optional: extra section feeds the item appears in
    flags: nodate nojsonld    # optional
    comments: Tên: lời | ...  # optional reader comments
    ---
    paragraph

    paragraph

In the body, a line ``[figure]``, ``[related]`` or ``[comments]`` puts that
block there, inside the article body (boilerplate an extractor must drop).

The output is committed; re-run after editing src:
``python corpora/demo/build_site.py`` (tests check it is up to date).
"""
from __future__ import annotations

import html
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent

OUTLETS = {
    "thudongaymoi": {
        "name": "Báo Thủ Đô Ngày Mới", "short": "Thủ Đô Ngày Mới", "kind": "rss",
        "feeds": {"rss.xml": ("Tin mới nhất", None), "rss/thoi-su.rss": ("Thời sự", "thoi-su")},
        "area": "Hà Nội", "template": "a",
        "nav": ["Thời sự", "Xã hội", "Kinh tế", "Pháp luật", "Giáo dục", "Sức khỏe", "Thế giới"],
    },
    "tinhanoi24h": {
        "name": "Tin Hà Nội 24h", "short": "Tin Hà Nội 24h", "kind": "atom",
        "feeds": {"atom.xml": ("Tin Hà Nội 24h – Tin mới", None)},
        "area": "Hà Nội", "template": "b",
        "nav": ["Hà Nội", "Đời sống", "Giao thông", "An ninh", "Thị trường"],
    },
    "laodongsonghong": {
        "name": "Báo Lao Động Sông Hồng", "short": "Lao Động Sông Hồng", "kind": "rss",
        "feeds": {"rss.xml": ("Tin mới", None)},
        "area": "Hà Nội", "template": "c",
        "nav": ["Công đoàn", "Việc làm", "Xã hội", "Pháp luật", "Kinh tế"],
    },
    "nhipsongbamien": {
        "name": "Báo Nhịp Sống Ba Miền", "short": "Nhịp Sống Ba Miền", "kind": "rss",
        "feeds": {"rss.xml": ("Tin mới nhất", None)},
        "sitemap": "sitemap-news.xml",
        "area": "national", "template": "d",
        "nav": ["Thời sự", "Các vùng miền", "Nhân ái", "Thế giới", "Thể thao"],
    },
}

FIELDS = {"giao-duc", "y-te", "an-ninh-quoc-phong", "lao-dong-san-xuat", "nong-nghiep",
          "khoa-hoc-cong-nghe", "van-hoa-the-thao", "xa-hoi", "cong-dong", "moi-truong", "khac"}
DEEDS = {"cuu-nguoi", "trung-thuc", "chong-toi-pham", "tu-thien", "hien-mau-tang", "sang-tao",
         "vuot-kho", "tan-tuy", "khac"}

FICTION_NOTE = "Tờ báo hư cấu, viết riêng cho bản chạy thử của nguoitot; mọi nhân vật và sự việc đều không có thật."


@dataclass
class Article:
    outlet: str
    name: str
    title: str
    lead: str
    hours: float
    section: str
    author: str
    label: int
    field: str
    deed: str
    exemplars: list[str]
    paragraphs: list[str]
    caption: str = ""
    feeds: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    comments: list[tuple[str, str]] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"{self.outlet}/{self.name}.html"

    @property
    def url(self) -> str:
        return "{{base}}/" + self.path


def parse(path: Path, outlet: str) -> Article:
    text = path.read_text(encoding="utf-8")
    head, sep, body = text.partition("\n---\n")
    if not sep:
        raise ValueError(f"{path}: no '---' line between header and body")
    h: dict[str, str] = {}
    for line in head.splitlines():
        if line.strip():
            k, _, v = line.partition(":")
            h[k.strip()] = v.strip()
    paras = [" ".join(p.split()) for p in body.split("\n\n") if p.strip()]
    art = Article(
        outlet=outlet, name=path.stem, title=h["title"], lead=h["lead"], hours=float(h["hours"]),
        section=h["section"], author=h.get("author", ""), label=int(h["label"]),
        field=h.get("field", ""), deed=h.get("deed", ""),
        exemplars=[e.strip() for e in h.get("exemplars", "").split("|") if e.strip()],
        paragraphs=paras, caption=h.get("caption", ""),
        feeds=h.get("feeds", "").split(), flags=set(h.get("flags", "").split()),
        comments=[tuple(x.strip() for x in c.split(":", 1)) for c in h.get("comments", "").split("|")
                  if ":" in c],
    )
    if art.label not in (0, 1, 2):
        raise ValueError(f"{path}: label {art.label}")
    if art.label and (art.field not in FIELDS or art.deed not in DEEDS):
        raise ValueError(f"{path}: field/deed {art.field}/{art.deed}")
    if not art.label and (art.field or art.deed or art.exemplars):
        raise ValueError(f"{path}: label 0 with field/deed/exemplars")
    return art


def esc(s: str) -> str:
    return html.escape(s, quote=True)


def jsonld(a: Article, outlet: dict) -> str:
    data = {
        "@context": "https://schema.org", "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": a.url},
        "headline": a.title, "description": a.lead,
        "image": ["{{base}}/static/anh-minh-hoa.png"],
        "datePublished": "{{iso:%g}}" % a.hours, "dateModified": "{{iso:%g}}" % max(a.hours - 0.5, 0),
        "author": [{"@type": "Person", "name": a.author}] if a.author else [],
        "publisher": {"@type": "Organization", "name": outlet["name"],
                      "logo": {"@type": "ImageObject", "url": "{{base}}/static/logo.png"}},
        "articleSection": a.section, "inLanguage": "vi",
    }
    text = json.dumps(data, ensure_ascii=False, indent=2).replace("</", "<\\/")
    return f'<script type="application/ld+json">\n{text}\n</script>'


def head(a: Article, outlet: dict) -> str:
    meta_dates = "" if "nodate" in a.flags else (
        f'  <meta property="article:published_time" content="{{{{iso:{a.hours:g}}}}}">\n'
        f'  <meta itemprop="datePublished" content="{{{{iso:{a.hours:g}}}}}">\n')
    ld = "" if ("nojsonld" in a.flags or "nodate" in a.flags) else "  " + jsonld(a, outlet) + "\n"
    return f"""<!DOCTYPE html>
<html lang="vi">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{esc(a.title)} - {esc(outlet['name'])}</title>
  <meta name="description" content="{esc(a.lead)}">
  <link rel="canonical" href="{a.url}">
  <meta property="og:type" content="article">
  <meta property="og:site_name" content="{esc(outlet['name'])}">
  <meta property="og:title" content="{esc(a.title)}">
  <meta property="og:description" content="{esc(a.lead)}">
  <meta property="og:url" content="{a.url}">
  <meta property="og:image" content="{{{{base}}}}/static/anh-minh-hoa.png">
  <meta property="og:locale" content="vi_VN">
  <meta property="article:section" content="{esc(a.section)}">
{meta_dates}  <meta name="author" content="{esc(a.author)}">
  <link rel="stylesheet" href="{{{{base}}}}/static/style.css">
{ld}  <script>window.dataLayer = window.dataLayer || []; dataLayer.push({{"page": "detail"}});</script>
</head>
"""


def nav(slug: str, outlet: dict) -> str:
    items = "\n".join(f'      <li><a href="{{{{base}}}}/{slug}/">{esc(n)}</a></li>' for n in outlet["nav"])
    return f"""<header class="site-header">
  <div class="top-bar"><span class="today">Hà Nội</span> <a href="{{{{base}}}}/{slug}/">Trang chủ</a> | <a href="{{{{base}}}}/admin/">Đăng nhập</a></div>
  <a class="logo" href="{{{{base}}}}/{slug}/"><img src="{{{{base}}}}/static/logo.png" alt="{esc(outlet['name'])}"></a>
  <nav class="main-nav">
    <ul>
{items}
    </ul>
  </nav>
</header>
"""


def figure(a: Article) -> str:
    if not a.caption:
        return ""
    return (f'<figure class="image-caption"><img src="{{{{base}}}}/static/anh-minh-hoa.png" '
            f'alt="{esc(a.caption)}" width="680" height="408">'
            f'<figcaption>{esc(a.caption)}</figcaption></figure>')


def related_box(a: Article, siblings: list[Article]) -> str:
    others = [s for s in siblings if s.name != a.name][:3]
    if not others:
        return ""
    lis = "\n".join(f'    <li><a href="{s.url}">{esc(s.title)}</a></li>' for s in others)
    return f"""<div class="box-related">
  <h3 class="box-title">Tin liên quan</h3>
  <ul>
{lis}
  </ul>
</div>"""


def comments_box(a: Article) -> str:
    if not a.comments:
        return ""
    items = "\n".join(
        f'    <div class="comment-item"><span class="comment-name">{esc(n)}</span>'
        f'<p class="comment-content">{esc(c)}</p><span class="comment-like">Thích</span></div>'
        for n, c in a.comments)
    return f"""<section class="box-comment" id="comments">
  <h3>Ý kiến bạn đọc ({len(a.comments)})</h3>
{items}
  <form class="comment-form"><textarea placeholder="Ý kiến của bạn"></textarea><button>Gửi</button></form>
</section>"""


def body_html(a: Article, siblings: list[Article], p_class: str = "") -> tuple[str, bool, bool]:
    """Paragraphs with the figure; returns (html, related placed, comments placed)."""
    cls = f' class="{p_class}"' if p_class else ""
    out, fig_done, rel_done, com_done = [], False, False, False
    for i, p in enumerate(a.paragraphs):
        if p == "[figure]":
            out.append(figure(a))
            fig_done = True
        elif p == "[related]":
            out.append(related_box(a, siblings))
            rel_done = True
        elif p == "[comments]":
            out.append(comments_box(a))
            com_done = True
        else:
            out.append(f"<p{cls}>{esc(p)}</p>")
            if i == 0 and a.caption and "[figure]" not in a.paragraphs:
                out.append(figure(a))
                fig_done = True
    return "\n".join(x for x in out if x), rel_done, com_done


def footer(outlet: dict) -> str:
    return f"""<footer class="site-footer">
  <p>© 2026 {esc(outlet['name'])}. Giấy phép hoạt động báo điện tử số 000/GP-DEMO.</p>
  <p class="fiction-note">{esc(FICTION_NOTE)}</p>
  <p>Địa chỉ: số 1 phố Giả Định, Hà Nội. Điện thoại: 024 0000 0000.</p>
</footer>
<script src="{{{{base}}}}/static/app.js"></script>
</body>
</html>
"""


def page(a: Article, siblings: list[Article]) -> str:
    outlet = OUTLETS[a.outlet]
    t = outlet["template"]
    date = "" if "nodate" in a.flags else f"{{{{vn:{a.hours:g}}}}}"
    author = esc(a.author)
    if t == "a":  # VnExpress-like
        body, rel, com = body_html(a, siblings, "Normal")
        date_html = f'<span class="date">{date}</span>' if date else ""
        main = f"""<section class="section page-detail top-detail">
  <div class="container">
    <div class="header-content"><ul class="breadcrumb"><li><a href="{{{{base}}}}/{a.outlet}/">{esc(a.section)}</a></li></ul>{date_html}</div>
    <h1 class="title-detail">{esc(a.title)}</h1>
    <p class="description">{esc(a.lead)}</p>
    <article class="fck_detail">
{body}
<p class="Normal" style="text-align:right;"><strong>{author}</strong></p>
    </article>
    <div class="footer-content"><div class="box-tag"><a href="{{{{base}}}}/{a.outlet}/">{esc(a.section)}</a></div><div class="social-share">Chia sẻ: Facebook | Zalo | Twitter</div></div>
{"" if rel else related_box(a, siblings)}
{"" if com else comments_box(a)}
  </div>
</section>"""
    elif t == "b":
        body, rel, com = body_html(a, siblings)
        date_html = f'<time class="publish-date" datetime="{{{{iso:{a.hours:g}}}}}">{date}</time>' if date else ""
        main = f"""<main class="main-content">
  <div class="breadcrumbs"><a href="{{{{base}}}}/{a.outlet}/">Trang chủ</a> › <a href="{{{{base}}}}/{a.outlet}/">{esc(a.section)}</a></div>
  <article class="article">
    <h1 class="article-title">{esc(a.title)}</h1>
    <div class="article-meta"><span class="article-author">{author}</span> {date_html}</div>
    <h2 class="sapo">{esc(a.lead)}</h2>
    <div class="article-content">
{body}
    </div>
  </article>
  <aside class="sidebar"><div class="most-read"><h3>Đọc nhiều</h3><ol>{"".join(f'<li><a href="{s.url}">{esc(s.title)}</a></li>' for s in siblings[:4])}</ol></div></aside>
{"" if rel else related_box(a, siblings)}
{"" if com else comments_box(a)}
</main>"""
    elif t == "c":
        body, rel, com = body_html(a, siblings)
        date_html = f'<div class="detail-time">{date}</div>' if date else ""
        main = f"""<div id="main-detail" class="detail-container">
  <div class="detail-cate"><a href="{{{{base}}}}/{a.outlet}/">{esc(a.section)}</a></div>
  <h1 class="detail-title">{esc(a.title)}</h1>
  <div class="detail-info"><div class="detail-author">{author}</div>{date_html}</div>
  <div class="detail-sapo">{esc(a.lead)}</div>
  <div id="main-detail-body" class="detail-content">
{body}
  </div>
  <div class="detail-tags">Từ khóa: <a href="{{{{base}}}}/{a.outlet}/">{esc(a.section)}</a></div>
{"" if rel else related_box(a, siblings)}
{"" if com else comments_box(a)}
</div>"""
    else:  # "d": WordPress-like
        body, rel, com = body_html(a, siblings)
        date_html = (f'<span class="posted-on"><time class="entry-date published" '
                     f'datetime="{{{{iso:{a.hours:g}}}}}">{date}</time></span>') if date else ""
        main = f"""<div id="primary" class="content-area">
  <article class="post type-post status-publish hentry">
    <header class="entry-header">
      <span class="cat-links"><a href="{{{{base}}}}/{a.outlet}/" rel="category tag">{esc(a.section)}</a></span>
      <h1 class="entry-title">{esc(a.title)}</h1>
      <div class="entry-meta">{date_html} <span class="byline">{author}</span></div>
    </header>
    <p class="entry-lead"><strong>{esc(a.lead)}</strong></p>
    <div class="entry-content">
{body}
    </div>
  </article>
{"" if rel else related_box(a, siblings)}
{"" if com else comments_box(a)}
</div>"""
    return head(a, outlet) + "<body>\n" + nav(a.outlet, outlet) + main + "\n" + footer(outlet)


def rss(slug: str, outlet: dict, title: str, items: list[Article]) -> str:
    its = []
    for a in items:
        its.append(f"""    <item>
      <title>{esc(a.title)}</title>
      <description><![CDATA[<a href="{a.url}"><img src="{{{{base}}}}/static/anh-minh-hoa.png"></a></br>{a.lead}]]></description>
      <pubDate>{{{{rfc822:{a.hours:g}}}}}</pubDate>
      <link>{a.url}</link>
      <guid isPermaLink="true">{a.url}</guid>
      <category>{esc(a.section)}</category>
    </item>""")
    newest = min((a.hours for a in items), default=0)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>{esc(title)} - {esc(outlet['name'])}</title>
    <link>{{{{base}}}}/{slug}/</link>
    <description>{esc(outlet['name'])} – {esc(title)}. {esc(FICTION_NOTE)}</description>
    <language>vi-vn</language>
    <pubDate>{{{{rfc822:{newest:g}}}}}</pubDate>
    <lastBuildDate>{{{{rfc822:0}}}}</lastBuildDate>
    <ttl>10</ttl>
    <generator>nguoitot demo</generator>
{chr(10).join(its)}
  </channel>
</rss>
"""


def atom(slug: str, outlet: dict, title: str, feed_path: str, items: list[Article]) -> str:
    its = []
    for a in items:
        its.append(f"""  <entry>
    <title type="text">{esc(a.title)}</title>
    <link rel="alternate" type="text/html" href="{a.url}"/>
    <id>{a.url}</id>
    <published>{{{{iso:{a.hours:g}}}}}</published>
    <updated>{{{{iso:{a.hours:g}}}}}</updated>
    <author><name>{esc(a.author or outlet['name'])}</name></author>
    <category term="{esc(a.section)}"/>
    <summary type="text">{esc(a.lead)}</summary>
  </entry>""")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="vi">
  <title>{esc(title)}</title>
  <subtitle>{esc(FICTION_NOTE)}</subtitle>
  <link rel="self" type="application/atom+xml" href="{{{{base}}}}/{slug}/{feed_path}"/>
  <link rel="alternate" type="text/html" href="{{{{base}}}}/{slug}/"/>
  <id>{{{{base}}}}/{slug}/</id>
  <updated>{{{{iso:0}}}}</updated>
{chr(10).join(its)}
</feed>
"""


def news_sitemap(outlet: dict, items: list[Article]) -> str:
    urls = "\n".join(f"""  <url>
    <loc>{a.url}</loc>
    <news:news>
      <news:publication><news:name>{esc(outlet['name'])}</news:name><news:language>vi</news:language></news:publication>
      <news:publication_date>{{{{iso:{a.hours:g}}}}}</news:publication_date>
      <news:title>{esc(a.title)}</news:title>
    </news:news>
  </url>""" for a in items)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{urls}
</urlset>
"""


def home(slug: str, outlet: dict, items: list[Article]) -> str:
    lis = "\n".join(f'    <li><a href="{a.url}">{esc(a.title)}</a> <span class="time">{{{{vn:{a.hours:g}}}}}</span>'
                    f'<p>{esc(a.lead)}</p></li>' for a in items)
    feeds = "\n".join(f'  <link rel="alternate" type="application/{"atom" if outlet["kind"] == "atom" else "rss"}+xml" '
                      f'title="{esc(t)}" href="{{{{base}}}}/{slug}/{p}">' for p, (t, _) in outlet["feeds"].items())
    return f"""<!DOCTYPE html>
<html lang="vi">
<head>
  <meta charset="utf-8">
  <title>{esc(outlet['name'])} – Tin tức mới nhất</title>
  <link rel="canonical" href="{{{{base}}}}/{slug}/">
{feeds}
</head>
<body>
{nav(slug, outlet)}<main class="list-news">
  <h1 class="hidden">{esc(outlet['name'])}</h1>
  <ul>
{lis}
  </ul>
</main>
{footer(outlet)}"""


def tiny_png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)
    w, h = 4, 3
    raw = b"".join(b"\x00" + bytes([200, 30, 30]) * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


def load_articles(src: Path = HERE / "src") -> list[Article]:
    arts = []
    for slug in OUTLETS:
        for p in sorted((src / slug).glob("*.txt")):
            arts.append(parse(p, slug))
    return arts


def build(out: Path = HERE) -> dict[str, bytes]:
    """Return {relative path: bytes} of everything generated (site/, labels.jsonl, sources.toml)."""
    arts = load_articles()
    files: dict[str, bytes] = {}

    def put(rel: str, text: str | bytes) -> None:
        files[rel] = text if isinstance(text, bytes) else text.encode("utf-8")

    for slug, outlet in OUTLETS.items():
        mine = sorted((a for a in arts if a.outlet == slug), key=lambda a: a.hours)
        for a in mine:
            put(f"site/{a.path}", page(a, mine))
        for fpath, (title, section) in outlet["feeds"].items():
            items = [a for a in mine if section is None or section in a.feeds]
            if outlet["kind"] == "atom":
                put(f"site/{slug}/{fpath}", atom(slug, outlet, title, fpath, items))
            else:
                put(f"site/{slug}/{fpath}", rss(slug, outlet, title, items))
        if outlet.get("sitemap"):
            put(f"site/{slug}/{outlet['sitemap']}", news_sitemap(outlet, mine))
        put(f"site/{slug}/index.html", home(slug, outlet, mine))

    put("site/robots.txt", "# Demo site of nguoitot (fictional outlets)\nUser-agent: *\n"
        "Disallow: /admin/\nAllow: /\n\nSitemap: {{base}}/nhipsongbamien/sitemap-news.xml\n")
    put("site/admin/index.html", "<!DOCTYPE html><html lang=\"vi\"><head><meta charset=\"utf-8\">"
        "<title>Quản trị</title></head><body><p>Khu vực quản trị: robots.txt cấm thu thập.</p></body></html>\n")
    put("site/index.html", "<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\"><title>nguoitot demo</title></head>\n<body>\n"
        f"<p>{esc(FICTION_NOTE)}</p>\n<ul>\n"
        + "".join(f'<li><a href="{{{{base}}}}/{s}/">{esc(o["name"])}</a></li>\n' for s, o in OUTLETS.items())
        + "</ul>\n</body></html>\n")
    put("site/static/anh-minh-hoa.png", tiny_png())
    put("site/static/logo.png", tiny_png())
    put("site/static/style.css", "body{font-family:Arial,sans-serif;max-width:960px;margin:auto}"
        ".box-related,.box-comment{border-top:1px solid #ddd}\n")
    put("site/static/app.js", "/* demo: no behaviour */\n")

    labels = []
    for a in sorted(arts, key=lambda a: a.path):
        labels.append(json.dumps({"path": a.path, "label": a.label, "field": a.field, "deed": a.deed,
                                  "exemplars": a.exemplars, "title": a.title}, ensure_ascii=False))
    put("labels.jsonl", "\n".join(labels) + "\n")

    src_lines = ["# Demo catalogue: the fictional outlets served by `nguoitot run --demo`",
                 "# (the base placeholder in each url is replaced by the local demo server's URL, see pipeline/demo.py).", "",
                 "[defaults]", "min_interval = 0.0     # our own local server", "max_articles = 200",
                 "enabled = true", ""]
    for slug, outlet in OUTLETS.items():
        for fpath, (title, section) in outlet["feeds"].items():
            name = slug if section is None else f"{slug}-{section}"
            src_lines += ["[[source]]", f'name = "{name}"', f'outlet = "{outlet["name"]}"', 'kind = "rss"',
                          f'url = "{{{{base}}}}/{slug}/{fpath}"', f'section = "{title}"',
                          f'area = "{outlet["area"]}"', "enabled = true", "verified = true",
                          f'provenance = "demo site written for the project ({"Atom" if outlet["kind"] == "atom" else "RSS 2.0"})"', ""]
        if outlet.get("sitemap"):
            src_lines += ["[[source]]", f'name = "{slug}-sitemap"', f'outlet = "{outlet["name"]}"',
                          'kind = "sitemap"', f'url = "{{{{base}}}}/{slug}/{outlet["sitemap"]}"',
                          'section = "Tin mới nhất"', f'area = "{outlet["area"]}"', "enabled = true",
                          "verified = true", 'provenance = "demo site written for the project (news sitemap; same articles as its RSS)"', ""]
    put("sources.toml", "\n".join(src_lines))
    return files


def main(argv: list[str]) -> int:
    files = build()
    check = "--check" in argv
    stale = []
    for rel, data in sorted(files.items()):
        p = HERE / rel
        if p.is_file() and p.read_bytes() == data:
            continue
        stale.append(rel)
        if not check:
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
    site_files = {str(p.relative_to(HERE)) for p in (HERE / "site").rglob("*") if p.is_file()} if (HERE / "site").is_dir() else set()
    extra = sorted(site_files - set(files))
    if check:
        for rel in stale + extra:
            print(f"out of date: {rel}")
        return 1 if stale or extra else 0
    for rel in extra:
        (HERE / rel).unlink()
    print(f"{len(files)} files, {len(stale)} written, {len(extra)} removed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
