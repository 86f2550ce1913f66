"""Where a deed happened: Vietnam's provinces (63 before, 34 after the 2025
merger), Hà Nội's wards and communes (after July 2025) and former districts.

* :func:`detect_place` — the province/city (post-2025 name), old province,
  district and ward of the deed, and whether it is in the office's home area;
* :func:`resolve_province` — any province name, alias or old name → its
  pre- and post-2025 names;
* :func:`find_places` — every place mention in a text, with its offsets.

Data: ``pipeline/data/gazetteer/*.json`` (package data, written by hand; see
each file's ``_about`` for what is complete and what is not).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from .text import UPPER, fold, normalize, strip_diacritics

DATA = Path(__file__).resolve().parent / "data" / "gazetteer"


def _load(name: str) -> dict:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def provinces_63() -> list[dict]:
    """The 63 pre-2025 provinces: {name, type, new, aliases}."""
    return _load("provinces_63.json")["provinces"]


@lru_cache(maxsize=1)
def provinces_34() -> list[dict]:
    """The 34 post-2025 provinces: {name, type, formed_from, aliases}."""
    return _load("provinces_34.json")["provinces"]


@lru_cache(maxsize=1)
def hanoi() -> dict:
    """Hà Nội's 126 units of July 2025 and its 30 former districts."""
    return _load("hanoi.json")


@lru_cache(maxsize=1)
def _other_places() -> dict:
    return _load("places_other.json")


def _key(name: str) -> str:
    """Comparison key: folded, no diacritics, no punctuation or spaces."""
    return re.sub(r"[^a-z0-9]", "", strip_diacritics(fold(name)))


@lru_cache(maxsize=1)
def _province_index() -> dict[str, dict]:
    idx: dict[str, dict] = {}
    for p in provinces_63():
        rec = {"old": p["name"], "new": p["new"]}
        for n in [p["name"], *p["aliases"]]:
            idx.setdefault(_key(n), rec)
    for p in _load("provinces_63.json").get("historical", []):
        idx.setdefault(_key(p["name"]), {"old": p["name"], "new": p["new"]})
    for p in provinces_34():
        for n in [p["name"], *p.get("aliases", [])]:
            idx.setdefault(_key(n), {"old": p["name"] if p["formed_from"] == [p["name"]] else None,
                                     "new": p["name"]})
    return idx


def resolve_province(name: str) -> dict | None:
    """{"old": pre-2025 name or None, "new": post-2025 name} for a province name or alias.

    ``resolve_province("Hà Giang") == {"old": "Hà Giang", "new": "Tuyên Quang"}``;
    ``resolve_province("Sài Gòn")["new"] == "TP.HCM"``; strips "tỉnh"/"thành phố".
    """
    if not name:
        return None
    n = re.sub(r"^(?:tỉnh|thành phố|tp\.?)\s+", "", fold(name))
    rec = _province_index().get(_key(n)) or _province_index().get(_key(name))
    return dict(rec) if rec else None


def to_new(name: str) -> str | None:
    """Post-2025 province of a province name (old or new), or None."""
    rec = resolve_province(name)
    return rec["new"] if rec else None


# ---------------------------------------------------------------------------
# Mentions
# ---------------------------------------------------------------------------

@dataclass
class Mention:
    start: int
    end: int
    surface: str
    old: str | None        # pre-2025 province (None when only the new one is known)
    new: str               # post-2025 province
    district: str = ""
    ward: str = ""
    kind: str = "province"  # province | district | ward
    weight: float = 1.0
    generic: bool = False
    extra: dict = field(default_factory=dict)


_CAPWORD = re.compile(UPPER + r"[^\W_]*$")
# Lower-case words before a name that make it a street, ward, commune, park…
# rather than the province ("xã Hòa Bình", "công viên Hòa Bình", "chị Huế").
_BLOCK_BEFORE = re.compile(
    r"(?<![^\W_])(?:xã|phường|thị trấn|thôn|ấp|bản|làng|xóm|khu|khu phố|tổ|đường|phố|ngõ|hẻm|cầu|chợ|"
    r"công viên|nhà hát|hồ|quảng trường|bến|cảng|sân bay|khách sạn|ga|kênh|sông|núi|đèo|rạch|quận|huyện|"
    r"anh|chị|ông|bà|em|cô|bé|cháu|cụ|chú|bác|thầy|mẹ|bố|con|vợ|chồng|bạn|tên|"
    r"đối tượng|cô gái|chàng|nhà|hãng|công ty|tàu|khu đô thị|chung cư|tòa nhà|siêu thị|trung tâm thương mại|"
    r"mang tên|gọi là|đội bóng|câu lạc bộ|clb)\s+$")
_PROV_PREFIX = re.compile(r"(?:tỉnh|Tỉnh|TP\.?|Tp\.?|thành phố|Thành phố|T\.P)\s*$")
_ADMIN_WORD = r"(?:phường|xã|thị trấn|quận|huyện|thị xã|thành phố|TP\.?|Q\.|P\.)"


def _alt(names) -> str:
    return "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True))


@lru_cache(maxsize=1)
def _province_regex() -> tuple[re.Pattern, dict[str, dict]]:
    surfaces: dict[str, dict] = {}
    for p in provinces_63():
        for n in [p["name"], *p["aliases"]]:
            surfaces[normalize(n)] = {"old": p["name"], "new": p["new"]}
    for p in _load("provinces_63.json").get("historical", []):
        surfaces[normalize(p["name"])] = {"old": p["name"], "new": p["new"]}
    pat = re.compile(r"(?<![^\W_])(" + _alt(surfaces) + r")(?![^\W_])")
    return pat, surfaces


@lru_cache(maxsize=1)
def _hanoi_regexes():
    h = hanoi()
    districts = {normalize(d["name"]): d["type"] for d in h["former_districts"]}
    districts.update({normalize(d["name"]): d["type"] for d in h.get("older_districts", [])
                      if normalize(d["name"]) not in districts})
    units = {normalize(u["name"]): u for u in h["units_2025"]}
    dpat = re.compile(r"(?<![^\W_])(quận|huyện|thị xã|thành phố|TP\.?|Quận|Huyện|Thị xã)\s+(" + _alt(districts)
                      + r")(?![^\W_])")
    dbare = re.compile(r"(?<![^\W_])(" + _alt(districts) + r")\s*[,–-]\s*(?:TP\.?\s*|thành phố\s*)?Hà Nội")
    upat = re.compile(r"(?<![^\W_])(phường|xã|Phường|Xã)\s+(" + _alt(units) + r")(?![^\W_])")
    return dpat, dbare, upat, districts, units


@lru_cache(maxsize=1)
def _other_regexes():
    data = _other_places()
    names: dict[str, tuple[str, str]] = {}
    for prov, items in data["places"].items():
        for it in items:
            names[normalize(it["name"])] = (prov, it["type"])
    numeric = {n: v for n, v in names.items() if n.isdigit()}
    named = {n: v for n, v in names.items() if not n.isdigit()}
    pref = re.compile(r"(?<![^\W_])(quận|huyện|thị xã|thành phố|TP\.?|Quận|Huyện|Thị xã|Thành phố|Q\.)\s*("
                      + _alt(named) + r"|" + _alt(numeric) + r")(?![^\W_])")
    bare = re.compile(r"(?<![^\W_])(" + _alt(normalize(b) for b in data["bare"]) + r")(?![^\W_])")
    return pref, bare, names


def _is_caps_line(text: str, start: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line = text[line_start:line_end if line_end >= 0 else len(text)]
    letters = [c for c in line if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) > 0.8 * len(letters)


def _part_of_bigger_name(text: str, start: int, end: int) -> bool:
    """True when the match is inside a longer proper name ("Nguyễn Thị Hà Nam",
    "Thái Bình Dương") or right after a blocking word ("xã Hòa Bình")."""
    if _is_caps_line(text, start):
        return False
    before = text[max(0, start - 30):start]
    if _PROV_PREFIX.search(before):
        return False
    m = re.search(r"([^\W_]+)[ ]$", before)
    if m and _CAPWORD.match(m.group(1)) and not m.group(1).isupper():
        return True  # "Thị Hà Nam": capitalised word (not an acronym such as CSGT) right before
    if _BLOCK_BEFORE.search(before.lower()):
        return True
    after = text[end:end + 20]
    m = re.match(r"[ ]([^\W_]+)", after)
    if m and _CAPWORD.match(m.group(1)) and not m.group(1).isupper() and len(m.group(1)) > 1:
        return True  # "Thái Bình Dương", "Long An Phát"
    return False


def find_places(text: str) -> list[Mention]:
    """Every province, Hà Nội district/ward and known city mention in ``text``, in order."""
    t = normalize(text)
    out: list[Mention] = []
    pat, surfaces = _province_regex()
    for m in pat.finditer(t):
        s = m.group(1)
        if s in ("Thủ đô",) and re.match(r"\s+" + UPPER, t[m.end():m.end() + 3]):
            continue  # "thủ đô Viêng Chăn"
        if _part_of_bigger_name(t, m.start(1), m.end(1)):
            continue
        rec = surfaces[s]
        w = 1.0 if s not in ("Thủ đô", "HN") else 0.5
        old = rec["old"] if rec["old"] != rec["new"] else None
        out.append(Mention(m.start(1), m.end(1), s, rec["old"], rec["new"], weight=w,
                           extra={"old_used": old}))
    dpat, dbare, upat, districts, units = _hanoi_regexes()
    for m in dpat.finditer(t):
        admin, name = m.group(1).lower(), m.group(2)
        dtype = districts[name]
        ok = (admin == dtype or (dtype == "thị xã" and admin in ("thị xã", "thành phố", "tp", "tp."))
              or (dtype == "quận" and admin.startswith("q")) or (admin in ("thành phố", "tp", "tp.") and name in ("Hà Đông", "Sơn Tây")))
        if not ok:
            continue
        out.append(Mention(m.start(), m.end(), m.group(0), "Hà Nội", "Hà Nội", district=name,
                           kind="district", weight=1.0))
    for m in dbare.finditer(t):
        out.append(Mention(m.start(1), m.end(1), m.group(1), "Hà Nội", "Hà Nội", district=m.group(1),
                           kind="district", weight=0.5))
    for m in upat.finditer(t):
        u = units[m.group(2)]
        if u["type"] != m.group(1).lower():
            continue
        out.append(Mention(m.start(), m.end(), m.group(0), "Hà Nội", "Hà Nội", district=u["former_district"],
                           ward=m.group(0), kind="ward", weight=0.0 if u["generic"] else 0.7,
                           generic=bool(u["generic"])))
    pref, bare, names = _other_regexes()
    for m in pref.finditer(t):
        prov, typ = names[m.group(2)]
        if m.group(2).isdigit() and not m.group(1).lower().startswith("q"):
            continue
        rec = resolve_province(prov)
        out.append(Mention(m.start(), m.end(), m.group(0), rec["old"], rec["new"], district=m.group(0),
                           kind="district", weight=0.8, extra={"old_used": rec["old"] if rec["old"] != rec["new"] else None}))
    for m in bare.finditer(t):
        if _part_of_bigger_name(t, m.start(1), m.end(1)):
            continue
        if any(x.start <= m.start(1) < x.end for x in out):
            continue
        prov, typ = names[m.group(1)]
        rec = resolve_province(prov)
        out.append(Mention(m.start(1), m.end(1), m.group(1), rec["old"], rec["new"], district=m.group(1),
                           kind="district", weight=0.6, extra={"old_used": rec["old"] if rec["old"] != rec["new"] else None}))
    out.sort(key=lambda x: x.start)
    return out


# ---------------------------------------------------------------------------
# The place of the deed
# ---------------------------------------------------------------------------

_DEED = re.compile(
    r"(?<![^\W_])(cứu|lao xuống|nhảy xuống|dũng cảm|nhặt được|trả lại|của rơi|hiến máu|hiến đất|"
    r"từ thiện|tình nguyện|quyên góp|giúp đỡ|bắt giữ|bắt cướp|truy đuổi|khống chế|sáng chế|sáng kiến|"
    r"tuyên dương|khen thưởng|bằng khen|tặng|vượt khó|xảy ra|phát hiện)(?![^\W_])")
_RESIDENCE = re.compile(r"(?<![^\W_])(ngụ|trú|thường trú|quê|ở|tại|địa bàn)(?![^\W_])")
_CHAIN = re.compile(rf"(?<![^\W_]){_ADMIN_WORD}\s+" + UPPER[:-1] + "0-9]")
_SCHOOL_BEFORE = re.compile(r"(?:Đại học|ĐH|Học viện|Cao đẳng|CĐ)(?:\s+[^\s,.;()]+){0,4}\s+$")
# "(Mỏ Cày Nam, Bến Tre)", "(Duyên Hải, Trà Vinh)": a short address in brackets.
_PAREN_CHAIN = re.compile(r"\((?:[^()]{0,60},\s*)?(?:" + UPPER + r"[^\W_]*\s*){1,4},\s*$")
_DISTRICT_BEFORE = re.compile(
    r"(?<![^\W_])(quận|huyện|thị xã|thành phố|TP\.?)\s+((?:" + UPPER + r"[^\W_]*|\d+)(?:\s+(?:" + UPPER + r"[^\W_]*|\d+)){0,3})")
_WARD_BEFORE = re.compile(
    r"(?<![^\W_])(phường|xã|thị trấn)\s+((?:" + UPPER + r"[^\W_]*|\d+)(?:\s+(?:" + UPPER + r"[^\W_]*|\d+)){0,3})")


def _sentence_bounds(t: str, pos: int) -> tuple[int, int]:
    a = max(t.rfind(". ", 0, pos), t.rfind("\n", 0, pos))
    b_candidates = [x for x in (t.find(". ", pos), t.find("\n", pos)) if x >= 0]
    b = min(b_candidates) if b_candidates else len(t)
    return a + 1, b


def _score(t: str, m: Mention) -> float:
    w = m.weight
    if m.start < 250:
        w += 2.0
    elif m.start < 1000:
        w += 1.0
    a, b = _sentence_bounds(t, m.start)
    sent = t[a:b].lower()
    if _DEED.search(sent):
        w += 1.0
    before = t[max(a, m.start - 80):m.start]
    if _CHAIN.search(before) or m.kind != "province" or _PAREN_CHAIN.search(before):
        w += 1.5  # "xã A, huyện B, tỉnh C": an address, not a passing mention
    if _RESIDENCE.search(before.lower()[-40:]):
        w += 1.0
    if _SCHOOL_BEFORE.search(before[-50:]):
        w -= 1.0  # "Đại học Y dược Cần Thơ": where someone studies, rarely where the deed is
    if m.start > 1200:  # deep in the body: a passing mention more often than not
        w *= max(0.35, 1200 / m.start)
    return max(w, 0.0)


def _context_units(t: str, m: Mention) -> tuple[str, str]:
    """District and ward named in the address chain just before a province mention."""
    a, _ = _sentence_bounds(t, m.start)
    window = t[max(a, m.start - 120):m.start]
    # only the chain directly attached to the mention ("…, huyện B, tỉnh C")
    district = ward = ""
    ds = list(_DISTRICT_BEFORE.finditer(window))
    if ds and len(window) - ds[-1].end() < 25:
        district = ds[-1].group(0).strip()
        ws = list(_WARD_BEFORE.finditer(window[:ds[-1].start()]))
        if ws and ds[-1].start() - ws[-1].end() < 25:
            ward = ws[-1].group(0).strip()
    else:
        ws = list(_WARD_BEFORE.finditer(window))
        if ws and len(window) - ws[-1].end() < 25:
            ward = ws[-1].group(0).strip()
    return district, ward


def detect_place(text: str, home_area: str = "Hà Nội") -> dict | None:
    """The place of the deed told in ``text`` (title, lead and body joined), or None.

    Returns ``{"province": post-2025 name, "province_old": the pre-2025 name
    when the text used an old one (else None), "district", "ward",
    "in_home_area": bool, "evidence": the matched string}``. Mentions near the
    start, in an address chain ("xã A, huyện B, tỉnh C"), after "ngụ/trú/ở",
    or in a sentence with deed vocabulary outweigh passing ones; the province
    with the largest total wins.
    """
    t = normalize(text)
    mentions = find_places(t)
    if not mentions:
        return None
    scores: dict[str, list[float]] = {}
    best: dict[str, tuple[float, Mention]] = {}
    last_end: dict[str, int] = {}
    for m in mentions:
        s = _score(t, m)
        if m.generic:
            continue
        if m.start - last_end.get(m.new, -999) < 40 and scores.get(m.new):
            # "TP Quy Nhơn (tỉnh Bình Định)": one address, counted once
            scores[m.new][-1] = max(scores[m.new][-1], s)
        else:
            scores.setdefault(m.new, []).append(s)
        last_end[m.new] = m.end
        if m.new not in best or s > best[m.new][0]:
            best[m.new] = (s, m)
    if not scores:
        return None
    # the best mention counts in full, repeated ones with diminishing weight
    totals = {p: max(v) + 0.4 * (sum(v) - max(v)) for p, v in scores.items()}
    prov = max(totals, key=lambda p: (totals[p], -best[p][1].start))
    m = best[prov][1]
    # the old province: the most-weighted old name used for this new province
    olds: dict[str, float] = {}
    for x in mentions:
        if x.new == prov and x.extra.get("old_used"):
            olds[x.extra["old_used"]] = olds.get(x.extra["old_used"], 0.0) + _score(t, x)
    province_old = max(olds, key=olds.get) if olds else None
    district, ward = m.district, m.ward
    if m.kind == "province":
        d2, w2 = _context_units(t, m)
        district, ward = district or d2, ward or w2
    if prov == "Hà Nội" and not ward:
        # a Hà Nội ward/commune mentioned anywhere (generic names included)
        for x in mentions:
            if x.kind == "ward" and x.new == "Hà Nội":
                ward, district = x.ward, district or x.district
                break
    if prov == "Hà Nội" and not district:
        for x in mentions:
            if x.kind == "district" and x.new == "Hà Nội":
                district = x.district
                break
    return {
        "province": prov,
        "province_old": province_old,
        "district": district,
        "ward": ward,
        "in_home_area": in_home_area(prov, home_area, province_old),
        "evidence": m.surface,
    }


def in_home_area(province: str | None, home_area: str = "Hà Nội", province_old: str | None = None) -> bool:
    """True when a (post-2025) province is the office's home area.

    ``home_area`` may be any province name or alias, old or new: an old one
    ("Hà Giang") matches only articles that name that old province.
    """
    if not province:
        return False
    home = resolve_province(home_area)
    if home is None:
        return fold(province) == fold(home_area)
    if home["old"] and home["old"] != home["new"]:
        return province_old == home["old"]
    return province == home["new"]


def detect_place_article(article: Mapping, home_area: str = "Hà Nội") -> dict | None:
    """:func:`detect_place` on an article dict (title, lead, text)."""
    parts = [article.get("title") or "", article.get("lead") or "", article.get("text") or ""]
    return detect_place("\n".join(p for p in parts if p), home_area)
