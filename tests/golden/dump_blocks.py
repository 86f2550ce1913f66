"""Reading aid for the extraction goldens: list a saved page's leaf text blocks.

    python tests/golden/dump_blocks.py ../shared/corpora/pages/tuoitre_article.html

Prints, in document order, every leaf block element (p, h1-h6, li, figcaption,
blockquote, td/th, div without block children) that has text, with the last
tag/class path and its normalised text. It uses lxml only, never
pipeline.extract, so a golden written from this listing does not inherit the
extractor's choices. Block numbers in tests/golden/README.md refer to this output.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from lxml import html as lxml_html

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from pipeline.text import normalize  # noqa: E402  (text normalisation only)

SKIP = {"script", "style", "noscript", "template", "svg", "iframe"}
LEAF = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "figcaption", "blockquote", "td", "th", "div"}


def label(el) -> str:
    cls = (el.get("class") or "").split()
    s = el.tag + (f"#{el.get('id')}" if el.get("id") else "")
    return s + ("." + ".".join(cls[:2]) if cls else "")


def text(el) -> str:
    parts: list[str] = []

    def rec(e):
        if isinstance(e.tag, str) and e.tag not in SKIP:
            if e.tag == "br":
                parts.append(" ")
            parts.append(e.text or "")
            for c in e:
                rec(c)
        parts.append(e.tail or "")

    parts.append(el.text or "")
    for c in el:
        rec(c)
    return normalize(re.sub(r"\s+", " ", "".join(parts)))


def blocks(raw: bytes):
    doc = lxml_html.document_fromstring(raw.decode("utf-8", "replace"))
    for el in doc.body.iter():
        if not isinstance(el.tag, str) or el.tag in SKIP or el.tag not in LEAF:
            continue
        if any(a.tag in SKIP for a in el.iterancestors()):
            continue
        if any(isinstance(d.tag, str) and d.tag in LEAF for d in el.iterdescendants()):
            continue
        t = text(el)
        if t:
            path = "/".join(label(a) for a in list(reversed(list(el.iterancestors())))[-3:])
            yield f"{path}/{label(el)}", t


if __name__ == "__main__":
    for i, (path, t) in enumerate(blocks(Path(sys.argv[1]).read_bytes())):
        print(f"{i:4d} {path[-100:]} | {t}")
