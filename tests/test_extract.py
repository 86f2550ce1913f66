"""Article extraction on the real saved pages in ../shared/corpora/pages."""
from __future__ import annotations

import csv
import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from lxml import html as lxml_html

from pipeline import extract as ex
from pipeline.extract import ExtractError, extract, is_article_page, parse_date, strip_site_suffix
from pipeline.text import normalize, syllables

GOLDEN = sorted((Path(__file__).parent / "golden" / "pages").glob("*.json"))


def token_f1(got: str, want: str) -> float:
    a, b = Counter(syllables(got)), Counter(syllables(want))
    common = sum((a & b).values())
    if not common:
        return 0.0
    return 2 * common / (sum(a.values()) + sum(b.values()))


def visible_text(raw: bytes) -> str:
    """Every text node of the page (scripts, styles, templates dropped), normalised.

    Plain lxml, not pipeline.extract: what a reader of the raw HTML sees."""
    doc = lxml_html.document_fromstring(raw.decode("utf-8"))
    for el in list(doc.iter("script", "style", "noscript", "template")):
        el.drop_tree()
    return normalize(" ".join(doc.itertext()))


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", normalize(text))


@pytest.fixture(scope="module")
def pages(corpora):
    return corpora / "pages"


@pytest.fixture(scope="module")
def index(pages):
    with open(pages / "INDEX.tsv", encoding="utf-8") as f:
        return {r["path"]: r for r in csv.DictReader(f, delimiter="\t")}


def test_every_article_page_has_a_golden_file(index):
    articles = {p for p in index if "_article" in p}
    assert len(articles) == 10
    assert {g.stem + ".html" for g in GOLDEN} == articles


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda p: p.stem)
def test_article_matches_golden(golden, pages, index):
    g = json.loads(golden.read_text(encoding="utf-8"))
    raw = (pages / g["page"]).read_bytes()
    r = extract(raw, url=index[g["page"]]["canonical_url"])
    assert r["kind"] == "article"
    assert r["title"] == g["title"]
    assert r["published"] == g["published"]
    assert r["canonical_url"] == g["canonical_url"]
    assert r["lead"] == g["lead"]
    assert r["text"] == "\n".join(r["paragraphs"])
    f1 = token_f1(r["text"], "\n".join(g["paragraphs"]))
    assert f1 >= 0.95, f"body token F1 {f1:.3f}"
    whole = "\n".join([r["title"], r["lead"], r["text"]]).lower()
    for s in g["absent"]:
        assert normalize(s).lower() not in whole, f"boilerplate kept: {s!r}"
    for s in g["present"]:
        assert normalize(s) in r["text"], f"body text missing: {s!r}"
    assert r["lang"] == "vi"
    assert r["outlet"]


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda p: p.stem)
def test_golden_file_is_grounded_in_the_page(golden, pages):
    """The golden text comes from the page, and the boilerplate list is real boilerplate of that page.

    Every "absent" phrase must occur in the page's visible text (else its absence from our
    output proves nothing) and must not occur in the golden title/lead/body (else the golden
    contradicts itself). Every golden paragraph, the lead and the title occur in the page too,
    and every "present" phrase is in the golden body."""
    g = json.loads(golden.read_text(encoding="utf-8"))
    page = visible_text((pages / g["page"]).read_bytes())
    squashed = _squash(page)
    golden_text = "\n".join([g["title"], g["lead"], *g["paragraphs"]]).lower()
    assert len(g["absent"]) >= 5, "too few boilerplate phrases to check"
    for s in g["absent"]:
        assert normalize(s) in page, f"boilerplate phrase not on the page (vacuous check): {s!r}"
        assert normalize(s).lower() not in golden_text, f"boilerplate phrase inside the golden text: {s!r}"
    for text in [g["title"], g["lead"], *g["paragraphs"]]:
        assert _squash(text) in squashed, f"golden text not found on the page: {text[:60]!r}"
    body = "\n".join(g["paragraphs"])
    for s in g["present"]:
        assert normalize(s) in body, f"'present' phrase not in the golden body: {s!r}"
    assert g["lead"] not in g["paragraphs"], "the lead is kept apart from the body paragraphs"
    assert len(set(g["paragraphs"])) == len(g["paragraphs"]), "duplicated golden paragraph"


@pytest.mark.parametrize("golden", GOLDEN, ids=lambda p: p.stem)
def test_general_extractor_alone_without_site_rules(golden, pages, monkeypatch):
    """The per-outlet rules are a refinement: with none, the body still comes out right."""
    monkeypatch.setattr(ex, "SITE_RULES", {})
    g = json.loads(golden.read_text(encoding="utf-8"))
    r = extract((pages / g["page"]).read_bytes())  # no url either
    assert r["kind"] == "article"
    assert r["title"] == g["title"]
    assert r["published"] == g["published"]
    assert token_f1(r["text"], "\n".join(g["paragraphs"])) >= 0.95


def test_published_against_index(pages, index):
    """INDEX.tsv gives the date as the page has it; naive ones get +07:00."""
    for name, row in index.items():
        if "_article" not in name or not row["published"]:
            continue
        r = extract((pages / name).read_bytes(), url=row["canonical_url"])
        assert r["published"] == parse_date(row["published"]), name
        assert r["published"].endswith("+07:00")


def test_list_and_home_pages_are_not_articles(pages, index):
    lists = [p for p in index if "_article" not in p]
    assert len(lists) == 9
    for name in lists:
        raw = (pages / name).read_bytes()
        assert extract(raw, url=index[name]["canonical_url"])["kind"] == "list", name
        assert not is_article_page(raw), name
    assert is_article_page((pages / "vnexpress_article.html").read_bytes())


def _to_cp1258(text: str) -> bytes:
    """Vietnamese the windows-1258 way: precomposed vowel, separate combining tone mark."""
    tones = set("\u0300\u0301\u0303\u0309\u0323")
    out, base, marks = [], "", []
    for ch in unicodedata.normalize("NFD", text) + "\x00":
        if unicodedata.combining(ch):
            marks.append(ch)
            continue
        if base:
            out.append(unicodedata.normalize("NFC", base + "".join(m for m in marks if m not in tones)))
            out.append("".join(m for m in marks if m in tones))
        base, marks = ch, []
    return "".join(out).encode("cp1258")


def test_windows_1258_bytes_decode(pages):
    g = json.loads((Path(__file__).parent / "golden/pages/vnexpress_article_2025-10-22.json")
                   .read_text(encoding="utf-8"))
    body = "".join(f"<p>{p}</p>" for p in g["paragraphs"])
    page = (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1258">'
            f'<title>{g["title"]} - Báo VnExpress</title></head><body><h1>{g["title"]}</h1>'
            f'<article>{body}</article></body></html>')
    data = _to_cp1258(page)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    for kwargs in ({}, {"encoding": "windows-1258"}):
        r = extract(data, **kwargs)
        assert r["title"] == g["title"]
        assert r["paragraphs"] == g["paragraphs"]
    # no declaration at all: the HTTP header's charset is enough
    undeclared = data.replace(b"; charset=windows-1258", b"")
    assert extract(undeclared, encoding="windows-1258")["paragraphs"] == g["paragraphs"]


def test_utf8_bytes_without_declaration(pages):
    raw = (pages / "tuoitre_article.html").read_bytes()  # declares utf-8 only in http-equiv
    assert extract(raw)["title"] == "Chiến sự đẩy giá hoa nhập khẩu dịp 8-3 tăng mạnh"


def test_page_over_the_cap_is_refused():
    big = b"<html><body>" + b"<p>x</p>" * (ex.MAX_BYTES // 8 + 1) + b"</body></html>"
    with pytest.raises(ExtractError, match="too large"):
        extract(big)
    with pytest.raises(ExtractError, match="too large"):
        extract(big.decode("ascii"))


@pytest.mark.parametrize("junk", [
    b"", "", "   ", b"\x00\xff\xfe" * 500, bytes(range(256)) * 40, "<<<>>>", "<html>", "<?xml version='1.0'?><a/>",
    '{"not": "html"}', "<div>" * 5000, "<p>" + "ầ" * 100_000, "<html><body><p>Chỉ một câu.</p></body></html>",
    '<script type="application/ld+json">{"@type": "NewsArticle", "headline": [1, {"x": null}]</script>',
])
def test_garbage_does_not_crash(junk):
    r = extract(junk)
    assert r["kind"] == "list"
    assert isinstance(r["paragraphs"], list)


def test_scripts_and_styles_never_reach_the_text():
    para = "Anh Nguyễn Văn A đã lao xuống dòng nước xiết để cứu hai em nhỏ bị đuối nước chiều qua. " * 3
    page = ("<html><head><style>p{color:red}</style></head><body><article>"
            + f"<p>{para}</p><script>document.write('EVIL')</script><p>{para}</p>"
            + "<noscript>NOSCRIPT</noscript><p onclick=\"alert('x')\">" + para + "</p></article></body></html>")
    r = extract(page)
    assert "EVIL" not in r["text"] and "NOSCRIPT" not in r["text"] and "color" not in r["text"]
    assert len(r["paragraphs"]) == 3


@pytest.mark.parametrize("s,want", [
    ("Thứ hai, 22/10/2025, 19:25 (GMT+7)", "2025-10-22T19:25:00+07:00"),
    ("22/10/2025 19:25", "2025-10-22T19:25:00+07:00"),
    ("22-10-2025 - 07:25 AM", "2025-10-22T07:25:00+07:00"),
    ("07-03-2026 - 09:40 PM", "2026-03-07T21:40:00+07:00"),
    ("07-03-2026 - 12:05 AM", "2026-03-07T00:05:00+07:00"),
    ("Thứ Bảy, 07/03/2026 - 08:52", "2026-03-07T08:52:00+07:00"),
    ("07/03/2026 08:52 (GMT+07:00)", "2026-03-07T08:52:00+07:00"),
    ("2026-03-07T08:52:11.000 +07:00", "2026-03-07T08:52:11+07:00"),
    ("2026-03-07T00:01:00", "2026-03-07T00:01:00+07:00"),
    ("2025-10-22 12:25:52Z", "2025-10-22T12:25:52+00:00"),
    ("2025-08-01T10:00:00+07:07", "2025-08-01T10:00:00+07:07"),
    ("Thứ Bảy, Ngày 07 tháng 03 năm 2026,", None),  # a page header's "today", no time
    ("99/99/2026 25:61", None),
    ("", None),
])
def test_parse_date(s, want):
    assert parse_date(s) == want


@pytest.mark.parametrize("title,want", [
    ("Đau bụng kéo dài, phát hiện ung thư lymphoma ruột non - Báo VnExpress Sức khỏe",
     "Đau bụng kéo dài, phát hiện ung thư lymphoma ruột non"),
    ("Chiến sự đẩy giá hoa nhập khẩu dịp 8-3 tăng mạnh - Tuổi Trẻ Online",
     "Chiến sự đẩy giá hoa nhập khẩu dịp 8-3 tăng mạnh"),
    ("Giá vàng giảm, vẫn cao hơn thế giới gần 20 triệu đồng/lượng | Báo Dân trí",
     "Giá vàng giảm, vẫn cao hơn thế giới gần 20 triệu đồng/lượng"),
    ("Hà Nội - Hải Phòng: cao tốc thông xe", "Hà Nội - Hải Phòng: cao tốc thông xe"),
])
def test_strip_site_suffix(title, want):
    assert strip_site_suffix(title) == want
