"""Vietnamese text normalisation, sentences and words.

``normalize`` makes one canonical form of any Vietnamese string: Unicode NFC,
one tone-mark placement (the one underthesea uses: ``hòa``, ``khỏe``,
``thúy``), invisible characters removed, white space and spacing around
punctuation repaired. Everything stored or compared goes through it.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache

# Zero-width and other invisible characters that break matching.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e"), None)
_SPACES = dict.fromkeys(map(ord, "\u00a0\u2007\u202f\u2002\u2003\u2009\u200a\u3000\t\r\x0b\x0c"), " ")
# The same two maps as regexes: str.translate with a dict costs ~0.5 ms per 1,000
# characters of Vietnamese; a character-class sub that finds nothing costs ~1% of that.
_INVISIBLE_RE = re.compile("[" + "".join(map(chr, _INVISIBLE)) + "]")
_SPACES_RE = re.compile("[" + re.escape("".join(map(chr, _SPACES))) + "]")

_TONES = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng


def _build_tone_map() -> dict[str, str]:
    """'oà' -> 'òa', 'uý' -> 'úy', 'oẻ' -> 'ỏe' ... for every tone and case."""
    out: dict[str, str] = {}
    for first, second in (("o", "a"), ("o", "e"), ("u", "y")):
        for tone in _TONES:
            for f in (first, first.upper()):
                for s in (second, second.upper()):
                    old = unicodedata.normalize("NFC", f + s + tone)
                    new = unicodedata.normalize("NFC", f + tone + s)
                    out[old] = new
    return out


_TONE_MAP = _build_tone_map()
# Only at the end of a syllable (no final consonant): "hoà" but not "hoàn";
# "quý" keeps its mark on y because "qu" is one consonant.
# Written as "first letter + class of toned second letters" (the same set of keys as
# _TONE_MAP): an alternation of 60 literals made this sub ~10x slower.
# The "not after q" test is made in _retone, not as a leading look-behind, so that the
# regex engine can scan for the first character class quickly.
_TONE_RE = re.compile(
    r"(" + "|".join(
        f"[{f}{f.upper()}][{''.join(sorted({k[1] for k in _TONE_MAP if k[0].lower() == f}))}]"
        for f in sorted({k[0].lower() for k in _TONE_MAP})) + r")(?![^\W\d_])"
)

_SPACE_BEFORE_PUNCT = re.compile(r"[ ]+([,.;:!?%…)\]}»”])")
_SPACE_AFTER_OPEN = re.compile(r"([(\[{«“])[ ]+")
_MULTI_SPACE = re.compile(r"[ ]{2,}")
_MULTI_NL = re.compile(r"\n[ \n]*\n")


def _retone(m: re.Match) -> str:
    i = m.start()
    if i and m.string[i - 1] in "qQ":  # "quý": qu is one consonant, the mark stays
        return m.group(1)
    return _TONE_MAP[m.group(1)]


def normalize(text: str | None) -> str:
    """Canonical Vietnamese text (NFC, one tone placement, clean spacing)."""
    if not text:
        return ""
    t = unicodedata.normalize("NFC", text)
    t = _SPACES_RE.sub(" ", _INVISIBLE_RE.sub("", t))
    t = _TONE_RE.sub(_retone, t)
    t = _SPACE_BEFORE_PUNCT.sub(r"\1", t)
    t = _SPACE_AFTER_OPEN.sub(r"\1", t)
    t = _MULTI_SPACE.sub(" ", t)
    t = "\n".join(line.strip() for line in t.split("\n"))
    t = _MULTI_NL.sub("\n\n", t)
    return t.strip()


def fold(text: str) -> str:
    """Lower-case, normalised, single-spaced: for matching and hashing."""
    return " ".join(normalize(text).lower().split())  # = re.sub(r"\s+", " ", ...).strip(), 10x faster


def strip_diacritics(text: str) -> str:
    t = unicodedata.normalize("NFD", text)
    t = "".join(ch for ch in t if unicodedata.category(ch) != "Mn")
    return t.replace("đ", "d").replace("Đ", "D")


def content_hash(title: str, lead: str = "", text: str = "") -> str:
    """Hash of the normalised content: equal for the same story text, whatever its spacing."""
    return hashlib.sha256(fold(" ".join((title or "", lead or "", text or ""))).encode("utf-8")).hexdigest()


# Upper-case letters of Vietnamese (and Latin): "[A-ZĐÀ-Ỹ]" would also take the lower-case ones between.
UPPER = "[" + "".join(sorted({chr(c) for c in range(0x41, 0x1EFA) if chr(c).isalpha() and chr(c).isupper()})) + "]"
# Lower-case letters likewise: "[a-zà-ỹđ]" would also take the upper-case ones between ("Đ", "Ơ", "Ạ"…"Ỹ").
LOWER = "[" + "".join(sorted({chr(c) for c in range(0x41, 0x1EFA) if chr(c).isalpha() and chr(c).islower()})) + "]"
_SENT_FALLBACK = re.compile(r"(?<=[.!?…])\s+(?=[\"“'(]?(?:" + UPPER + r"|[0-9]))")


def sentences(text: str) -> list[str]:
    """Sentences of a (normalised) text; paragraphs never join."""
    out: list[str] = []
    for para in normalize(text).split("\n"):
        para = para.strip()
        if not para:
            continue
        out.extend(s.strip() for s in _sent_tokenize(para) if s.strip())
    return out


def _sent_tokenize(para: str) -> list[str]:
    try:
        from underthesea import sent_tokenize
    except ImportError:  # pragma: no cover - underthesea is a core dependency
        return _SENT_FALLBACK.split(para)
    return sent_tokenize(para)


def words(text: str) -> list[str]:
    """Word segmentation with underthesea (multi-syllable words joined by '_')."""
    from underthesea import word_tokenize

    t = normalize(text)
    if not t:
        return []
    return [w.replace(" ", "_") for w in word_tokenize(t)]


def syllables(text: str) -> list[str]:
    """Lower-cased syllable tokens (letters and digits), no segmentation."""
    return re.findall(r"[^\W_]+", fold(text))


@lru_cache(maxsize=1)
def _langdetect():
    from langdetect import DetectorFactory
    DetectorFactory.seed = 0
    from langdetect import detect
    return detect


_VI_CHARS = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)


def is_vietnamese(text: str) -> bool:
    """Cheap check: enough Vietnamese-only letters, else langdetect."""
    t = normalize(text)[:2000]
    letters = sum(ch.isalpha() for ch in t)
    if letters == 0:
        return False
    if len(_VI_CHARS.findall(t)) / letters > 0.03:
        return True
    try:
        return _langdetect()(t) == "vi"
    except Exception:  # langdetect raises on text with no features
        return False
