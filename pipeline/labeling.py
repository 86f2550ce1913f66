"""Growing the labels: Vietnamese labelling functions and an active-learning queue.

- :data:`VOCAB_PATTERN` and :func:`in_vocabulary_stratum` reproduce the rule
  that drew the seed set's ``vocabulary`` stratum (../shared/corpora/README.md);
  they are what lets metrics be reweighted to the press's natural base rate.
- Labelling functions (``lf_*``) vote +1 (candidate, label 2), −1 (not a
  candidate) or 0 (abstain) from patterns of LABELING.md. :func:`lf_report`
  gives coverage, overlap, conflict and (with gold labels) accuracy per
  function; :func:`combine` turns the votes into training labels.
- :func:`active_queue` orders unlabelled articles most-informative first.
"""
from __future__ import annotations

import functools
import json
import re
import unicodedata
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .text import LOWER, UPPER

# --------------------------------------------------------------------------
# The seed set's vocabulary stratum
# --------------------------------------------------------------------------

VOCAB_TERMS = (
    "cứu người|cứu sống|cứu nạn|dũng cảm|lao xuống|cứu hỏa|cứu hộ|nhặt được|trả lại|của rơi|"
    "người tốt|việc tốt|tấm gương|gương sáng|điển hình|tiên tiến|hiến máu|hiến tạng|hiến đất|"
    "từ thiện|thiện nguyện|tình nguyện|nghĩa cử|tuyên dương|bằng khen|khen thưởng|vinh danh|"
    "sáng kiến|sáng chế|vượt khó|giúp đỡ|quyên góp|tấm lòng|nghĩa tình|bắt cướp|truy đuổi|"
    "tố giác|người hùng|anh hùng|cống hiến|tận tụy|cứu giúp|nhường|ân nhân")


def _variants(pattern: str) -> str:
    """Pattern alternatives in both tone placements (hòa/hoà, tụy/tuỵ)."""
    from .text import _TONE_MAP  # old→new placement map
    alts = set()
    for alt in pattern.split("|"):
        alt = unicodedata.normalize("NFC", alt)
        alts.add(alt)
        old = alt
        for o, n in _TONE_MAP.items():
            if n in old:
                old = old.replace(n, o)
        alts.add(old)
    return "|".join(sorted(alts, key=len, reverse=True))


VOCAB_PATTERN = re.compile(_variants(VOCAB_TERMS))


def _low(s: str | None) -> str:
    return unicodedata.normalize("NFC", s or "").lower()


def in_vocabulary_stratum(rec: dict[str, Any]) -> bool:
    """The seed set's ``vocabulary`` rule: a match in title+lead, or two in the first 600 characters."""
    head = _low((rec.get("title") or "") + " " + (rec.get("lead") or ""))
    if VOCAB_PATTERN.search(head):
        return True
    first = _low(" ".join(x for x in (rec.get("title"), rec.get("lead"), rec.get("text")) if x))[:600]
    return len(VOCAB_PATTERN.findall(first)) >= 2


# Population of ../shared/corpora/press.jsonl.gz by the rule above (measured by
# :func:`population_counts`; tests/test_labeling.py re-checks it on the real file).
PRESS_POPULATION = {"vocabulary": 6390, "other": 54235}


def load_design(path: str | Path | None = None) -> dict[str, Any] | None:
    """The stratified labelling design of the "other" cell (``corpora/labels/design.json``,
    written by ``scripts/design_bands.py``): score bands with their sizes and ids, or None."""
    from .config import REPO_DIR
    p = Path(path) if path else REPO_DIR / "corpora" / "labels" / "design.json"
    if not p.is_file():
        return None
    return _load_design_cached(str(p), p.stat().st_mtime)


@functools.lru_cache(maxsize=4)
def _load_design_cached(path: str, _mtime: float) -> dict[str, Any]:
    d = json.loads(Path(path).read_text(encoding="utf-8"))
    d["id_sets"] = {band: frozenset(ids) for band, ids in d.get("ids", {}).items()}
    return d


def population_counts(records: Iterable[dict[str, Any]]) -> dict[str, int]:
    out = {"vocabulary": 0, "other": 0}
    for r in records:
        out["vocabulary" if in_vocabulary_stratum(r) else "other"] += 1
    return out


# --------------------------------------------------------------------------
# Labelling functions
# --------------------------------------------------------------------------

POS, NEG, ABSTAIN = 1, -1, 0


def _views(rec: dict[str, Any]) -> tuple[str, str]:
    """(headline, first 3000 characters of everything), lower-cased NFC with both tone placements matched by patterns."""
    v = rec.get("_views")
    if v is not None:
        return v
    from .classify import article_parts
    t, l, x = article_parts(rec)
    head = _low(t + " \n " + l)
    return head, _low(t + " \n " + l + " \n " + x)[:3000]


def _rx(p: str) -> re.Pattern[str]:
    return re.compile(_variants(p))


R_RESCUE = _rx("cứu sống|cứu người|cứu nạn|cứu vớt|lao xuống|nhảy xuống cứu|giải cứu|kịp thời cứu|"
               "cứu thoát|cứu được|cứu hỏa|dập lửa|cứu giúp|đưa vào bờ|thoát chết")
R_RETURN = _rx("trả lại|nhặt được|của rơi|giao nộp lại|trao trả|tìm người đánh rơi|đánh rơi")
R_BLOOD = _rx("hiến máu|hiến tạng|hiến mô|hiến giác mạc|hiến xác|hiến thận|hiến gan|ngân hàng máu")
R_CHARITY = _rx("từ thiện|thiện nguyện|quyên góp|tình nguyện|nghĩa cử|tấm lòng|hiến đất|ủng hộ|"
                "trao tặng|tặng quà|cứu trợ|bếp ăn|suất ăn miễn phí|miễn phí cho|không lấy tiền|"
                "giúp đỡ|sẻ chia|mái ấm|nhà tình thương|nhà tình nghĩa")
R_COMMEND = _rx("tuyên dương|bằng khen|khen thưởng|vinh danh|tấm gương|gương sáng|người tốt|việc tốt|"
                "điển hình tiên tiến|người hùng|anh hùng|nghĩa cử|khen ngợi|thư khen")
R_CRIME_HERO = _rx("bắt cướp|truy đuổi|khống chế|tóm gọn|vật lộn|đuổi theo|hiệp sĩ|tố giác")
R_BRAVE = _rx("dũng cảm|liều mình|quên mình|không quản nguy hiểm|bất chấp nguy hiểm|xả thân|hy sinh|"
              "hi sinh|bị thương|gan dạ|quả cảm")
R_INITIATIVE = _rx("sáng kiến|sáng chế|chế tạo|nghiên cứu thành công|cải tiến|phát minh|giải pháp hữu ích|"
                   "bằng độc quyền|sáng tạo")
R_HARDSHIP = _rx("vượt khó|vượt lên|nghị lực|mồ côi|khuyết tật|thủ khoa|học giỏi|nghèo mà|vươn lên")
R_MEDICAL = _rx("cứu sống|phẫu thuật thành công|ca mổ|ghép tạng|ghép thận|ghép gan|ekip|ê-kíp|kíp mổ|"
                "hồi sinh|giành lại sự sống")
R_DEDICATION = _rx("tận tụy|tận tâm|cống hiến|hết lòng|miệt mài|lặng lẽ|âm thầm|nhiều năm qua|suốt \\d+ năm")
R_PERSON = re.compile(r"(?:\b(?:anh|chị|ông|bà|em|cháu|cô|thầy|bác sĩ|thiếu tá|đại úy|trung úy|"
                      r"thượng úy|trung tá|chiến sĩ|cụ)\s+" + UPPER + LOWER + "+)")  # "anh Hùng", not "anh ấy"
R_MOVEMENT = _rx("phát động|phong trào thi đua|đại hội thi đua|hội nghị|tổng kết|sơ kết|lễ phát động|"
                 "kế hoạch|chỉ thị|nghị quyết|triển khai")
R_APPEAL = _rx("hoàn cảnh khó khăn|cần giúp đỡ|cần sự giúp đỡ|cần được giúp|mong được giúp|"
               "xin giúp|rất cần sự|cầu cứu|kêu cứu|địa chỉ nhân đạo|mọi sự giúp đỡ xin gửi")
R_BUSINESS = _rx("cổ phiếu|chứng khoán|lãi suất|tỷ giá|doanh thu|lợi nhuận|giá vàng|bất động sản|"
                 "thị trường|ngân hàng nhà nước|vn-index|xuất khẩu|gdp|lạm phát")
R_SPORTS = _rx("bàn thắng|tỷ số|hiệp 1|hiệp một|vòng loại|hlv|cầu thủ|ghi bàn|trận đấu|giải đấu|"
               "huy chương|world cup|v-league|sea games")
R_CRIME = _rx("khởi tố|tạm giam|truy tố|xét xử|bị cáo|tử vong|thiệt mạng|tai nạn|lừa đảo|ma túy|"
              "đánh bạc|tàng trữ|buôn lậu|cướp|trộm")
R_ENTERTAIN = _rx("ca sĩ|hoa hậu|showbiz|bộ phim|album|diễn viên|người mẫu|liveshow|mv |gameshow")
R_FOREIGN = _rx("mỹ|trung quốc|nhật bản|hàn quốc|nga|pháp|đức|anh quốc|ấn độ|australia|washington|"
                "bắc kinh|london|tokyo|paris|moskva|liên hợp quốc|châu âu|triều tiên|israel|syria")
R_VIETNAM = _rx("việt nam|hà nội|tp.hcm|tp hcm|tphcm|sài gòn|người việt|tỉnh|huyện|xã |phường|quận")


def lf_rescue(rec):  # noqa: ANN001, D103
    h, a = _views(rec)
    return POS if R_RESCUE.search(h) or (len(R_RESCUE.findall(a)) >= 2 and R_BRAVE.search(a)) else ABSTAIN


def lf_return_property(rec):  # noqa: ANN001, D103
    h, a = _views(rec)
    if R_RETURN.search(h) and re.search(r"tiền|ví|vàng|tài sản|điện thoại|túi|triệu|của rơi", a):
        return POS
    return ABSTAIN


def lf_blood_organ(rec):  # noqa: ANN001, D103
    h, a = _views(rec)
    return POS if R_BLOOD.search(h) else ABSTAIN


def lf_charity(rec):  # noqa: ANN001, D103
    h, a = _views(rec)
    if R_CHARITY.search(h) and not R_APPEAL.search(a) and not R_MOVEMENT.search(h):
        return POS
    return ABSTAIN


def lf_commended(rec):  # noqa: ANN001, D103
    h, a = _views(rec)
    return POS if R_COMMEND.search(h) and not R_MOVEMENT.search(h) else ABSTAIN


def lf_catch_criminal(rec):  # noqa: ANN001, D103
    h, a = _views(rec)
    if R_CRIME_HERO.search(h) or (R_CRIME_HERO.search(a) and R_BRAVE.search(a)):
        return POS
    return ABSTAIN


def lf_initiative(rec):  # noqa: ANN001, D103
    h, a = _views(rec)
    return POS if R_INITIATIVE.search(h) else ABSTAIN


def lf_overcome_hardship(rec):  # noqa: ANN001, D103
    h, a = _views(rec)
    return POS if R_HARDSHIP.search(h) else ABSTAIN


def lf_medical_save(rec):  # noqa: ANN001, D103
    h, a = _views(rec)
    return POS if R_MEDICAL.search(h) and re.search(r"bệnh viện|bác sĩ|bv ", a) else ABSTAIN


def lf_dedication_person(rec):  # noqa: ANN001, D103
    h, a = _views(rec)
    if not R_DEDICATION.search(a):
        return ABSTAIN
    full = " ".join(x for x in (rec.get("title"), rec.get("lead"), rec.get("text")) if x)[:3000]
    return POS if len(R_PERSON.findall(full)) >= 2 else ABSTAIN


def lf_movement_meeting(rec):  # noqa: ANN001, D103
    h, a = _views(rec)
    return NEG if R_MOVEMENT.search(h) else ABSTAIN


def lf_charity_appeal(rec):  # noqa: ANN001, D103
    h, a = _views(rec)
    return NEG if R_APPEAL.search(a) else ABSTAIN


def lf_business(rec):  # noqa: ANN001, D103
    h, a = _views(rec)
    return NEG if len(R_BUSINESS.findall(a)) >= 3 else ABSTAIN


def lf_sports(rec):  # noqa: ANN001, D103
    h, a = _views(rec)
    return NEG if len(R_SPORTS.findall(a)) >= 2 else ABSTAIN


def lf_crime_only(rec):  # noqa: ANN001, D103
    h, a = _views(rec)
    if R_CRIME.search(h) and not (R_RESCUE.search(a) or R_CRIME_HERO.search(a) or R_BRAVE.search(a)
                                  or R_COMMEND.search(a)):
        return NEG
    return ABSTAIN


def lf_entertainment(rec):  # noqa: ANN001, D103
    h, a = _views(rec)
    return NEG if len(R_ENTERTAIN.findall(a)) >= 2 else ABSTAIN


def lf_foreign(rec):  # noqa: ANN001, D103
    h, a = _views(rec)
    return NEG if R_FOREIGN.search(h) and not R_VIETNAM.search(a) else ABSTAIN


def lf_no_vocabulary(rec):  # noqa: ANN001, D103
    v = rec.get("_vocab")
    return NEG if not (in_vocabulary_stratum(rec) if v is None else v) else ABSTAIN


LABELING_FUNCTIONS: list[Callable[[dict[str, Any]], int]] = [
    lf_rescue, lf_return_property, lf_blood_organ, lf_charity, lf_commended, lf_catch_criminal,
    lf_initiative, lf_overcome_hardship, lf_medical_save, lf_dedication_person,
    lf_movement_meeting, lf_charity_appeal, lf_business, lf_sports, lf_crime_only,
    lf_entertainment, lf_foreign, lf_no_vocabulary,
]


def apply_lfs(records: Sequence[dict[str, Any]],
              lfs: Sequence[Callable[[dict[str, Any]], int]] | None = None) -> np.ndarray:
    """Votes matrix (n records × m functions) of +1 / −1 / 0."""
    lfs = LABELING_FUNCTIONS if lfs is None else lfs
    L = np.zeros((len(records), len(lfs)), dtype=np.int8)
    for i, r in enumerate(records):
        r = {**r, "_views": _views(r), "_vocab": in_vocabulary_stratum(r)}
        for j, f in enumerate(lfs):
            L[i, j] = f(r)
    return L


def lf_report(records: Sequence[dict[str, Any]], gold: Sequence[int] | None = None,
              lfs: Sequence[Callable[[dict[str, Any]], int]] | None = None,
              L: np.ndarray | None = None) -> list[dict[str, Any]]:
    """Per function: polarity, coverage, overlap, conflict and (with gold labels) accuracy.

    ``gold`` is LABELING.md labels (2 = candidate counts as positive, 0/1 as negative)."""
    lfs = LABELING_FUNCTIONS if lfs is None else lfs
    L = apply_lfs(records, lfs) if L is None else L
    n = max(len(records), 1)
    nonzero = L != 0
    n_votes = nonzero.sum(axis=1)
    has_pos = (L > 0).any(axis=1)
    has_neg = (L < 0).any(axis=1)
    out = []
    for j, f in enumerate(lfs):
        col = L[:, j]
        cov = col != 0
        row = {"name": f.__name__,
               "polarity": int(np.sign(col[cov].sum())) if cov.any() else 0,
               "coverage": round(cov.sum() / n, 4),
               "overlap": round((cov & (n_votes > 1)).sum() / n, 4),
               "conflict": round((cov & np.where(col > 0, has_neg, has_pos)).sum() / n, 4)}
        if gold is not None:
            g = np.asarray([1 if int(x) == 2 else -1 for x in gold])
            row["n_voted"] = int(cov.sum())
            row["accuracy"] = round(float((col[cov] == g[cov]).mean()), 4) if cov.any() else None
        out.append(row)
    return out


def combine(L: np.ndarray, weights: Sequence[float] | None = None) -> np.ndarray:
    """Training labels from votes: 2 when the weighted vote is positive, 0 when negative, −1 if no vote.

    ``weights`` default to 1; estimate them as log-odds of each function's
    accuracy on gold labels (``lf_weights``) for a better combination."""
    w = np.ones(L.shape[1]) if weights is None else np.asarray(weights, dtype=float)
    s = (L * w).sum(axis=1)
    out = np.full(L.shape[0], -1, dtype=int)
    out[s > 0] = 2
    out[s < 0] = 0
    return out


def lf_weights(L: np.ndarray, gold: Sequence[int], prior: float = 1.0) -> np.ndarray:
    """Log-odds weights of each function's accuracy on gold labels (Laplace-smoothed)."""
    g = np.asarray([1 if int(x) == 2 else -1 for x in gold])
    w = np.zeros(L.shape[1])
    for j in range(L.shape[1]):
        cov = L[:, j] != 0
        right = float((L[cov, j] == g[cov]).sum())
        wrong = float(cov.sum() - right)
        w[j] = np.log((right + prior) / (wrong + prior))
    return np.clip(w, 0.0, None)


# --------------------------------------------------------------------------
# Active learning
# --------------------------------------------------------------------------

def active_queue(model: Any, records: Sequence[dict[str, Any]], n: int = 50, *,
                 exclude: Iterable[str] = (), seed: int = 0) -> list[dict[str, Any]]:
    """The ``n`` most informative unlabelled records first.

    Informative = the model is least sure whether the story is a candidate
    (score near the label-2 threshold, in log-odds) or the labelling
    functions disagree with the model. Duplicate texts appear once.
    ``model`` is a :class:`pipeline.classify.Model` (or anything with
    ``predict_score`` and ``thresholds``)."""
    from .text import content_hash
    excl = set(exclude)
    pool = [r for r in records if r.get("id") not in excl]
    if not pool:
        return []
    s = np.clip(np.asarray(model.predict_score(pool), dtype=float), 1e-6, 1 - 1e-6)
    t = float(model.thresholds.get("label2", 0.5))
    logit = np.log(s / (1 - s))
    margin = np.abs(logit - np.log(t / (1 - t)))
    # labelling-function disagreement: strong positive votes on a low score, or the reverse
    L = apply_lfs(pool)
    vote = np.sign(L.sum(axis=1))
    disagree = ((vote > 0) & (s < t)) | ((vote < 0) & (s >= t))
    priority = margin - 1.0 * disagree
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(pool)), priority))
    out, seen = [], set()
    for i in order:
        r = pool[i]
        h = content_hash(r.get("title", ""), r.get("lead", ""), r.get("text", ""))
        if h in seen:
            continue
        seen.add(h)
        out.append({**r, "score": float(s[i]), "margin": float(margin[i]), "lf_disagree": bool(disagree[i])})
        if len(out) >= n:
            break
    return out
