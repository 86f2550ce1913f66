"""Field and deed classifiers: real seed labels, grouped hold-out, pickling, hard cases."""
from __future__ import annotations

import io

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedGroupKFold

from pipeline.fields import DeedClassifier, FieldClassifier, predict_deed, predict_field, rule_code
from pipeline.taxonomy import DEEDS, FIELDS
from pipeline.text import content_hash


@pytest.fixture(scope="module")
def seed_items(seed_labels, press_by_id):
    items = [(lab, press_by_id[lab["id"]]) for lab in seed_labels if lab["label"] in (1, 2)]
    X = [a for _, a in items]
    groups = [content_hash(a.get("title", ""), a.get("lead", ""), a.get("text", "")) for a in X]
    return items, X, groups


@pytest.fixture(scope="module")
def field_model(seed_items):
    items, X, _ = seed_items
    return FieldClassifier().fit(X, [lab["field"] for lab, _ in items])


def test_field_grouped_holdout_on_seed_labels(seed_items):
    items, X, groups = seed_items
    y = np.array([lab["field"] for lab, _ in items])
    tr, te = next(StratifiedGroupKFold(5, shuffle=True, random_state=0).split(X, y, groups))
    assert not {groups[i] for i in tr} & {groups[i] for i in te}
    m = FieldClassifier().fit([X[i] for i in tr], y[tr])
    pred = m.predict([X[i] for i in te])
    # benchmarks/eval_fields.py, 5-fold grouped CV x 3 shuffles: macro-F1 0.79 (0.78-0.80),
    # accuracy ~0.81; this one fold: macro-F1 0.72, accuracy 0.80 (small classes make one fold noisy)
    assert f1_score(y[te], pred, average="macro") >= 0.62
    assert np.mean(pred == y[te]) >= 0.70


def test_estimator_contract_and_pickling(field_model, seed_items):
    _, X, _ = seed_items
    assert set(field_model.classes_) == set(FIELDS)  # the taxonomy's descriptions make every code a class
    p = field_model.predict_proba(X[:5])
    assert p.shape == (5, len(FIELDS)) and np.allclose(p.sum(1), 1)
    buf = io.BytesIO()
    joblib.dump(field_model, buf)
    buf.seek(0)
    again = joblib.load(buf)
    assert np.allclose(again.predict_proba(X[:5]), p)
    assert clone(field_model).get_params() == field_model.get_params()


def _art(title, text, lead=""):
    return {"title": title, "lead": lead, "text": text}


def test_who_acts_decides_the_field(field_model):
    cases = {
        "cong-dong": _art("Ngư dân lao xuống biển cứu 3 du khách bị sóng cuốn",
                          "Thấy ba du khách bị sóng cuốn, ông Nguyễn Văn Tư, ngư dân xã Nhơn Hải, đã cùng con trai "
                          "lái thuyền ra cứu vớt cả ba người đưa vào bờ an toàn."),
        "an-ninh-quoc-phong": _art("Chiến sĩ công an trả lại ví nhặt được",
                                   "Thượng úy Nguyễn Văn B, cán bộ Công an phường X, nhặt được chiếc ví có 20 triệu đồng "
                                   "và đã tìm người đánh rơi để trả lại."),
        "y-te": _art("Bác sĩ cứu sống bệnh nhân bị đâm thủng tim",
                     "Các bác sĩ Bệnh viện Chợ Rẫy đã phẫu thuật cứu sống bệnh nhân bị đâm thủng tim."),
        "xa-hoi": _art("Người đàn ông 30 lần hiến máu tình nguyện",
                       "Anh C đã 30 lần hiến máu tình nguyện và vận động bạn bè tham gia ngày hội hiến máu."),
        "giao-duc": _art("Cô giáo vượt suối đến trường dạy chữ",
                         "Cô giáo D đã gắn bó 15 năm với điểm trường vùng cao, ngày ngày vượt suối dạy học sinh."),
    }
    for want, art in cases.items():
        code, conf = predict_field(art, field_model)
        assert code == want, (want, code)
        assert 0 < conf <= 1


def test_rule_without_a_model_follows_the_lexicon():
    code, conf = rule_code(_art("Biên phòng cứu ngư dân", "Đồn biên phòng đã cứu sống 5 ngư dân."), "field")
    assert code == "an-ninh-quoc-phong" and conf > 0
    assert predict_field({"title": "", "text": ""})[0] in FIELDS


def test_deed_classifier(seed_items):
    items, X, _ = seed_items
    m = DeedClassifier().fit(X, [lab["deed"] for lab, _ in items])
    assert set(m.classes_) == set(DEEDS)
    code, _ = predict_deed(_art("Chàng trai hiến máu lần thứ 40",
                                "Anh E vừa hiến máu tình nguyện lần thứ 40, cứu nhiều bệnh nhân cần máu."), m)
    assert code == "hien-mau-tang"
    code, _ = predict_deed(_art("Học sinh nhặt được ví trả lại người đánh rơi",
                                "Em F nhặt được ví có 10 triệu đồng và trả lại cho người đánh rơi."), m)
    assert code == "trung-thuc"


def test_actor_tagger_longest_match_and_subject():
    from pipeline.fields import actor_features
    names, vals = actor_features(_art("Chiến sĩ tình nguyện dọn rác trên đảo", "",
                                      "Hơn chục người nâng ôtô cứu phụ nữ kẹt dưới gầm."))
    on = {n for n, v in zip(names, vals) if v}
    assert "a:volunteer@title" in on and "a:police@title" not in on  # not a soldier
    names, vals = actor_features(_art("Hơn chục người nâng ôtô cứu phụ nữ kẹt dưới gầm", ""))
    on = {n for n, v in zip(names, vals) if v}
    assert "s:citizenxrescue@title" in on


def test_courts_and_youth_awards_are_khac(field_model):
    code, _ = predict_field(_art("TAND tỉnh Long An nhận Huân chương Lao động hạng ba",
                                 "Tòa án nhân dân tỉnh được trao Huân chương Lao động vì thành tích xét xử các vụ án lớn; "
                                 "chánh án và các thẩm phán nhận bằng khen."), field_model)
    assert code == "khac"
