"""Gazetteer: provinces before/after the 2025 merger, Hà Nội units, detect_place on real articles."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import gazetteer as gz

GOLDEN = Path(__file__).parent / "golden" / "places_checked.jsonl"


def test_63_and_34_provinces_with_a_complete_old_to_new_map():
    old, new = gz.provinces_63(), gz.provinces_34()
    assert len(old) == 63 and len({p["name"] for p in old}) == 63
    assert len(new) == 34 and len({p["name"] for p in new}) == 34
    new_names = {p["name"] for p in new}
    assert all(p["new"] in new_names for p in old)
    # every new province is formed from the old ones that map to it
    for p in new:
        assert sorted(p["formed_from"]) == sorted(o["name"] for o in old if o["new"] == p["name"])


@pytest.mark.parametrize("name,old,new", [
    ("Hà Giang", "Hà Giang", "Tuyên Quang"),
    ("tỉnh Hà Giang", "Hà Giang", "Tuyên Quang"),
    ("Bình Dương", "Bình Dương", "TP.HCM"),
    ("Bà Rịa–Vũng Tàu", "Bà Rịa - Vũng Tàu", "TP.HCM"),
    ("TP HCM", "TP.HCM", "TP.HCM"),
    ("Sài Gòn", "TP.HCM", "TP.HCM"),
    ("Thừa Thiên - Huế", "Huế", "Huế"),
    ("Hòa Bình", "Hòa Bình", "Phú Thọ"),
    ("Hà Tây", "Hà Tây", "Hà Nội"),
    ("ha noi", "Hà Nội", "Hà Nội"),
])
def test_resolve_province(name, old, new):
    assert gz.resolve_province(name) == {"old": old, "new": new}


def test_hanoi_units_2025_and_former_districts():
    h = gz.hanoi()
    units = h["units_2025"]
    assert sum(u["type"] == "phường" for u in units) == 51
    assert sum(u["type"] == "xã" for u in units) == 75
    assert len(h["former_districts"]) == 30
    districts = {d["name"] for d in h["former_districts"]}
    assert {"Ba Đình", "Hoàn Kiếm", "Đống Đa", "Cầu Giấy", "Sóc Sơn", "Sơn Tây"} <= districts
    assert all(u["former_district"] in districts for u in units)


def test_old_name_gives_new_province_and_address_parts():
    p = gz.detect_place("Anh Nguyễn Văn A (35 tuổi, ngụ xã An Đồng, huyện An Dương, Hải Dương) lao xuống sông cứu người.")
    assert p["province"] == "Hải Phòng" and p["province_old"] == "Hải Dương"
    assert p["district"] == "huyện An Dương" and p["ward"] == "xã An Đồng"
    assert p["in_home_area"] is False


def test_hanoi_ward_and_district_and_home_area():
    p = gz.detect_place("Chị B ở phường Láng, quận Đống Đa nhặt được ví và trả lại.")
    assert p["province"] == "Hà Nội" and p["district"] == "Đống Đa" and p["ward"] == "phường Láng"
    assert p["in_home_area"] is True
    assert gz.detect_place("Chị B ở phường Láng, quận Đống Đa.", home_area="Đà Nẵng")["in_home_area"] is False


def test_common_word_collisions_are_not_places():
    assert gz.detect_place("Hòa bình là khát vọng của mọi người; cao bằng cả núi.") is None
    assert gz.detect_place("Chị Nguyễn Thị Hà Nam dũng cảm cứu người.") is None
    assert gz.detect_place("Tàu vượt Thái Bình Dương.") is None
    # a commune named like a province is not the province
    p = gz.detect_place("Ông Tài ở xã Hòa Bình, huyện Trà Ôn, tỉnh Vĩnh Long chế tạo máy tuốt lúa.")
    assert p["province"] == "Vĩnh Long" and p["ward"] == "xã Hòa Bình"


def test_home_area_old_name_matches_only_that_old_province():
    p = gz.detect_place("Em bé ở Hà Giang được cứu sống.", home_area="Hà Giang")
    assert p["province"] == "Tuyên Quang" and p["in_home_area"] is True
    p = gz.detect_place("Em bé ở Tuyên Quang được cứu sống.", home_area="Hà Giang")
    assert p["in_home_area"] is False


def test_place_of_deed_on_hand_checked_real_articles(press_by_id):
    rows = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 60
    ok = 0
    for r in rows:
        a = press_by_id[r["id"]]
        p = gz.detect_place_article(a)
        got = p["province"] if p else None
        ok += got == r["province"] or got in r["also_ok"]
    # measured 64/65: 44/45 on the first sample (43/45 before two fixes it prompted),
    # 20/20 on a second sample checked after tuning
    assert ok / len(rows) >= 0.9, ok
