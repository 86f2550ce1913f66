"""The source catalogue: the default file and the loader's errors."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.sources import Source, SourceError, default_sources_path, enabled, load_sources, parse_sources

REQUIRED_OUTLETS = ["Nhân Dân", "Báo Chính phủ", "Quân đội Nhân dân", "Công an Nhân dân", "VnExpress",
                    "Tuổi Trẻ", "Thanh Niên", "Dân trí", "VietNamNet", "Người Lao Động", "Lao Động",
                    "Tiền Phong", "VOV", "VietnamPlus", "Kinh tế & Đô thị", "Hà Nội Mới", "An ninh Thủ đô",
                    "Lao động Thủ đô"]


def test_default_catalogue_is_complete_and_honest(corpora: Path) -> None:
    sources = load_sources(default_sources_path())
    feeds = [s for s in sources if s.kind in ("rss", "sitemap")]
    assert len(feeds) >= 40
    assert len({s.outlet for s in feeds}) >= 20
    on = enabled(sources)
    assert len(on) >= 40 and len({s.outlet for s in on}) >= 20
    assert set(REQUIRED_OUTLETS) <= {s.outlet for s in sources}
    assert {"Hà Nội", "national"} <= {s.area for s in sources}
    # Provenance: every URL comes from sources.tsv unless the entry says it was guessed.
    tsv = {line.split("\t")[0] for line in (corpora / "feeds" / "sources.tsv").read_text(encoding="utf-8").splitlines()
           if line and not line.startswith("#")}
    hangkrypton = {line.split("\t")[0]: line.split("\t")[2]
                   for line in (corpora / "feeds" / "sources.tsv").read_text(encoding="utf-8").splitlines()
                   if "\thangkrypton/press-scanning\t" in line}
    for s in sources:
        assert s.provenance, s.name
        if s.url not in tsv:
            assert "guessed" in s.provenance or "qdnd" in s.name, s.name
            assert not s.enabled and not s.verified, s.name
        if s.verified:  # only what the tsv says its author live-checked
            assert s.url in hangkrypton and "BROKEN" not in hangkrypton[s.url], s.name
        if "BROKEN" in hangkrypton.get(s.url or "", ""):
            assert not s.enabled, s.name
    # Defaults applied, per-source overrides kept.
    by = {s.name: s for s in sources}
    assert by["vnexpress-thoi-su"].min_interval == 2.0 and by["vnexpress-thoi-su"].max_articles == 200
    assert by["vnexpress-tin-moi-nhat"].max_articles == 150
    assert by["vnexpress-tin-moi-nhat"].rules["exclude"]


def test_defaults_rules_and_inbox() -> None:
    text = """
[defaults]
min_interval = 5
max_articles = 10
rules = { exclude = ["/video/"] }

[[source]]
name = "a"
outlet = "A"
url = "https://a.example/rss.xml"
rules = { include = ["/tin/"] }

[[source]]
name = "b-inbox"
outlet = "Văn phòng"
kind = "inbox"
path = "~/bao-cao"
enabled = false
"""
    a, b = parse_sources(text, "x.toml")
    assert a == Source(name="a", outlet="A", url="https://a.example/rss.xml", min_interval=5.0,
                       max_articles=10, rules={"exclude": ["/video/"], "include": ["/tin/"]})
    assert a.host == "a.example"
    assert b.kind == "inbox" and b.path == "~/bao-cao" and not b.enabled and b.host == ""
    assert enabled([a, b]) == [a]
    assert enabled([a, b], ["b-inbox"]) == [b]
    with pytest.raises(SourceError, match="unknown source"):
        enabled([a, b], ["zzz"])


@pytest.mark.parametrize("body, message", [
    ('[[source]]\nname = "a"\noutlet = "A"\nurl = "https://a/x"\n[[source]]\nname = "a"\noutlet = "B"\nurl = "https://b/x"\n',
     r"#2 'a': duplicate name \(first used by \[\[source\]\] #1\)"),
    ('[[source]]\nname = "a"\noutlet = "A"\nkind = "atom"\nurl = "https://a/x"\n', r"'a': kind must be one of"),
    ('[[source]]\nname = "a"\noutlet = "A"\n', r"'a': a rss source needs url"),
    ('[[source]]\nname = "a"\noutlet = "A"\nkind = "inbox"\n', r"'a': an inbox source needs path"),
    ('[[source]]\nname = "a"\noutlet = "A"\nurl = "vnexpress.net/rss"\n', r"'a': url must be an absolute http"),
    ('[[source]]\nname = "Bad Name"\noutlet = "A"\nurl = "https://a/x"\n', r"'Bad Name': name must be lower-case"),
    ('[[source]]\nname = "a"\noutlet = "A"\nurl = "https://a/x"\nmin_interval = "2"\n', r"'a': min_interval must be"),
    ('[[source]]\nname = "a"\noutlet = "A"\nurl = "https://a/x"\nenabled = "yes"\n', r"'a': enabled must be bool"),
    ('[[source]]\nname = "a"\noutlet = "A"\nurl = "https://a/x"\nmax_articles = -1\n', r"max_articles must be >= 0"),
    ('[[source]]\nname = "a"\noutlet = "A"\nurl = "https://a/x"\nfrequency = 3\n', r"'a': unknown key\(s\) frequency"),
    ('[[source]]\nname = "a"\nurl = "https://a/x"\n', r"'a': missing outlet"),
    ('[[source]]\noutlet = "A"\nurl = "https://a/x"\n', r"#1: missing name"),
    ('[defaults]\nname = "x"\n', r"\[defaults\] cannot set name"),
    ('[[source]]\nname = "a"\noutlet = "A"\nurl = "https://a/x"\nrules = { include = ["(unclosed"] }\n',
     r"'a': rules: include: bad regular expression"),
    ('[[source]]\nname = "a"\noutlet = "A"\nurl = "https://a/x"\nrules = { exclude = "/video/" }\n',
     r"'a': rules: exclude must be a list"),
    ('[[source]]\nname = "a"\noutlet = "A"\nurl = "https://a/x"\nrules = { prime = "/rss" }\n',
     r"'a': rules: prime must be an absolute"),
    ('[[source]]\nname = "a"\noutlet = "A"\nurl = "https://a/x"\nrules = { includes = [] }\n',
     r"'a': rules: unknown key\(s\) includes"),
    ('[source]\nname = "a"\n', r"use \[\[source\]\]"),
    ('[[sources]]\nname = "a"\n', r"unknown top-level key\(s\) sources"),
    ('[[source]\nname = "a"\n', r"invalid TOML"),
])
def test_errors_name_the_file_and_the_source(tmp_path: Path, body: str, message: str) -> None:
    p = tmp_path / "my-sources.toml"
    p.write_text(body, encoding="utf-8")
    with pytest.raises(SourceError) as e:
        load_sources(p)
    assert str(p) in str(e.value)
    assert re.search(message, str(e.value)), str(e.value)


def test_missing_file() -> None:
    with pytest.raises(FileNotFoundError, match="sources file not found"):
        load_sources("/nonexistent/sources.toml")
