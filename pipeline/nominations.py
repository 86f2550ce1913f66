"""Nominations: accepted candidates into the award system, once each.

The target is the nominee import sheet of a real provincial
commendation-management system (``MauTDKT``: sheet "file nhận", the
DANH SÁCH ĐỀ NGHỊ KHEN THƯỞNG, 2023-10-04 version), with that system's own
code lists (award forms ``HTKT``, nominee classes ``PLDT``, fields of
activity ``LVHD``, award classification ``phan loai kt``) mapped from ours;
plus its ``CANHAN`` (individuals), ``TAPTHE`` (collectives) and ``DETAI``
(initiatives) lists where a candidate fits them. Also JSON valid against
``pipeline/data/nomination.schema.json``, a draft summary of achievements
(.docx) per nomination that cites every evidence article and report, and
an optional POST of each nomination to the award system's endpoint with
retries and an idempotency key.

One achievement is nominated once (Law on Emulation and Commendation
2022): ``nominations.candidate_id`` is UNIQUE, and a candidate already
nominated is never exported again, whatever form is asked for.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import time
from pathlib import Path
from typing import Any, Callable, Iterable

import sqlalchemy as sa

from .config import DATA_DIR
from .store import Store, candidates, decisions, nominations, now_iso
from .taxonomy import deed_name, field_name
from .weekly import candidate_dict, date_vn, evidence_for, excel_safe, exemplar_text

SCHEMA_PATH = DATA_DIR / "nomination.schema.json"
SCHEMA_ID = "https://nguoitot.example.vn/schema/nomination-1.json"

# -- the award system's code lists (MauTDKT_20231004.xlsx, reference sheets) ----------

#: Award forms and titles (sheet HTKT) a city office proposes for good deeds:
#: code -> name. ``kind`` in AWARD_KIND: "hinh-thuc" (a form of commendation)
#: or "danh-hieu" (an emulation title), as the CANHAN/TAPTHE lists separate them.
AWARD_FORMS: dict[str, str] = {
    "1672804473": "Giấy khen của Chủ tịch Ủy ban nhân dân cấp xã",
    "1650360499": "Giấy khen của Chủ tịch Ủy ban nhân dân cấp huyện",
    "1672804435": "Giấy khen của Thủ trưởng cơ quan chuyên môn và tương đương thuộc Ủy ban nhân dân cấp tỉnh",
    "1650360491": "Bằng khen cấp bộ, ban, ngành, tỉnh, đoàn thể trung ương",
    "1671247716": "Bằng khen của Thủ tướng Chính phủ",
    "1650360227": "Huân chương Dũng cảm",
    "1647933380": "Chiến sĩ thi đua cơ sở",
    "1647933042": "Lao động tiên tiến",
    "1647933198": "Tập thể lao động tiên tiến",
    "1647933151": "Tập thể lao động xuất sắc",
    "1647933227": "Gia đình văn hóa",
}
AWARD_KIND = {code: ("danh-hieu" if code.startswith("16479") else "hinh-thuc") for code in AWARD_FORMS}

#: Award classification (sheet "phan loai kt").
CLASSIFICATIONS = {"CANHAN": "Khen thưởng cá nhân", "TAPTHE": "Khen thưởng tập thể",
                   "HOGIADINH": "Khen thưởng hộ gia đình"}

#: Nominee classes (sheet PLDT): code -> name.
SUBJECT_TYPES: dict[str, str] = {
    "1660638976": "Người trực tiếp công tác, lao động, học tập, chiến đấu và phục vụ chiến đấu",
    "1660638864": "Doanh nhân",
    "1660638538": "Hộ gia đình",
    "1668477383": "Cơ quan Hành chính",
    "1668477403": "Đơn vị sự nghiệp",
    "1668477425": "Doanh nghiệp",
    "1668477439": "Hợp tác xã",
    "1668477463": "Đối tượng khác",
}

#: Fields of activity (sheet LVHD): code -> name, and our field -> theirs.
ACTIVITY_FIELDS: dict[str, str] = {
    "0001": "An ninh - Quốc phòng", "0002": "Công nghiệp - Thương mại", "0003": "Giáo dục - Đào tạo",
    "0005": "N/A", "0006": "Khoa học - Công nghệ", "0007": "Nông nghiệp - Nông thôn",
    "0010": "Văn hóa - Thể Thao - Du lịch", "0012": "Y tế", "0014": "Kinh tế - Xã hội",
    "0018": "Tài nguyên - Môi trường", "0019": "Lao động, Thương Binh và Xã hội",
}
FIELD_TO_ACTIVITY: dict[str, str] = {
    "giao-duc": "0003", "y-te": "0012", "an-ninh-quoc-phong": "0001", "lao-dong-san-xuat": "0002",
    "nong-nghiep": "0007", "khoa-hoc-cong-nghe": "0006", "van-hoa-the-thao": "0010",
    "xa-hoi": "0019", "cong-dong": "0014", "moi-truong": "0018", "khac": "0005",
}

#: TAPTHE's own collective classes (its DANHMUC sheet).
COLLECTIVE_TYPES = {"1660638226": "Cơ quan hành chính, sự nghiệp", "1660638247": "Doanh nghiệp",
                    "1660638538": "Hộ gia đình"}

MAUTDKT_HEADER = ["STT", "Tên gọi\n(Ông/Bà/Chức danh)", "Tên tập thể/cá nhân/hộ gia đình", "Chức vụ",
                  "Đơn vị công tác", "Phân loại khen thưởng", "Danh hiệu thi đua/Hình thức khen thưởng",
                  "Phân loại đối tượng", "Lĩnh vực hoạt động"] + [None] * 8 + [
                  "Mã Phân loại khen thưởng", "Mã Danh hiệu thi đua", "Mã phân loại loại tượng",
                  "Mã Lĩnh vực hoạt động"]
CANHAN_HEADER = ["STT", "Họ và tên", "Giới tính", "Ngày sinh", "Chức vụ", "Tên phòng ban/ khối, tổ \ncông tác",
                 "Tên đơn vị/tập thể\ncông tác", "Địa chỉ / Nơi ở", "Mã phân loại cán bộ",
                 "Mã hình thức khen thưởng", "Mã danh hiệu thi đua\n(nếu có)"]
TAPTHE_HEADER = ["STT", "Tên đơn vị / tập thể", "Mã phân loại tập thể", "Mã hình thức khen thưởng",
                 "Mã danh hiệu thi đua\n(nếu có)"]
DETAI_HEADER = ["STT", "Tên đề tài", "Ngày công nhân", "Đơn vị công nhận", "Tóm tắt thành tích đạt được",
                "Tên tác giả", "Phòng ban làm việc", "Tên cơ quan làm việc"]

_COLLECTIVE = re.compile(
    r"^(tổ|đội|nhóm|công ty|tập đoàn|trường|bệnh viện|trung tâm|công an|ban|hội|chi đoàn|đoàn|câu lạc bộ|clb|"
    r"hợp tác xã|htx|ubnd|ủy ban|uỷ ban|phòng|sở|cục|chi cục|lữ đoàn|tiểu đoàn|đại đội|trung đoàn|bộ chỉ huy|"
    r"đồn|ngân hàng|quỹ|khoa|ê kíp|ekip|kíp|lớp|ký túc|thôn|xóm|ấp|bản|làng|khu phố|tổ dân phố|phường|xã|"
    r"tình nguyện viên|các|những|chiến sĩ tình nguyện|độc giả|cán bộ)\b", re.I)
_HOUSEHOLD = re.compile(r"^(gia đình|hộ gia đình|hộ ông|hộ bà|vợ chồng)\b", re.I)
_HONORIFIC = re.compile(
    r"^(ông|bà|anh|chị|em|cháu|cụ|bác sĩ|bác sỹ|bs\.?|điều dưỡng|y tá|thầy|cô giáo|cô|thầy giáo|giáo viên|"
    r"đại úy|đại uý|thượng úy|thượng uý|trung úy|trung uý|thiếu úy|thiếu uý|thiếu tá|trung tá|thượng tá|đại tá|"
    r"binh nhất|binh nhì|hạ sĩ|trung sĩ|thượng sĩ|chiến sĩ|kỹ sư|ks\.?|tiến sĩ|ts\.?|pgs\.?|gs\.?|nghệ nhân|"
    r"nhà giáo|sinh viên|học sinh|nông dân|ngư dân|tài xế|lái xe)\s+", re.I)


def classify_nominee(cand: dict[str, Any]) -> str:
    """CANHAN | TAPTHE | HOGIADINH from the main exemplar's kind or name."""
    ex = cand.get("exemplars") or []
    kind = (ex[0].get("kind") if ex and isinstance(ex[0], dict) else "") or ""
    name = (cand.get("name") or (ex[0].get("name") if ex else "") or "").strip()
    if kind in ("household", "family") or _HOUSEHOLD.match(name):
        return "HOGIADINH"
    if kind in ("collective", "unit", "organisation", "organization", "group", "org") or _COLLECTIVE.match(name):
        return "TAPTHE"
    return "CANHAN"


def split_honorific(name: str) -> tuple[str, str]:
    """'Thượng úy Nguyễn Đăng Tuân' -> ('Thượng úy', 'Nguyễn Đăng Tuân')."""
    m = _HONORIFIC.match(name or "")
    if m:
        return m.group(1).strip().capitalize(), name[m.end():].strip()
    return "", (name or "").strip()


def subject_type(cand: dict[str, Any], classification: str) -> str:
    """PLDT code for the nominee."""
    if classification == "HOGIADINH":
        return "1660638538"
    if classification == "CANHAN":
        return "1660638976"
    n = (cand.get("name") or "").lower()
    if re.match(r"^(công ty|tập đoàn|ngân hàng|doanh nghiệp)", n):
        return "1668477425"
    if re.match(r"^(hợp tác xã|htx)", n):
        return "1668477439"
    if re.match(r"^(trường|bệnh viện|trung tâm|viện|khoa|ê kíp|ekip|kíp)", n):
        return "1668477403"
    if re.match(r"^(ubnd|ủy ban|uỷ ban|phòng|sở|cục|chi cục|công an|đồn|bộ chỉ huy)", n):
        return "1668477383"
    return "1668477463"


def collective_type(subject: str) -> str:
    """TAPTHE's class for a PLDT code."""
    if subject in ("1668477425", "1668477439"):
        return "1660638247"
    if subject == "1660638538":
        return "1660638538"
    return "1660638226"


def suggest_form(cand: dict[str, Any]) -> str:
    """A default award form: a brave rescue goes to the city (Bằng khen cấp tỉnh), the
    rest to the district chairman's Giấy khen; a reviewer changes it before export."""
    if cand.get("deed") in ("cuu-nguoi", "chong-toi-pham"):
        return "1650360491"
    return "1650360499"


def idempotency_key(cand: dict[str, Any]) -> str:
    """Stable per candidate: a retried or repeated POST of the same nomination has the same key."""
    return hashlib.sha256(f"nguoitot-nomination:{cand['id']}:{cand['key']}".encode()).hexdigest()[:40]


# -- queries -------------------------------------------------------------------------

def pending(store: Store) -> list[dict[str, Any]]:
    """Accepted candidates not yet nominated, with a suggested form."""
    with store.connect() as c:
        rows = c.execute(sa.select(candidates).where(
            candidates.c.status == "accepted",
            ~sa.exists().where(nominations.c.candidate_id == candidates.c.id))
            .order_by(candidates.c.week.desc(), candidates.c.score.desc())).all()
    out = [candidate_dict(r) for r in rows]
    for x in out:
        x["suggested_form"] = suggest_form(x)
    return out


def nominated(store: Store) -> list[dict[str, Any]]:
    with store.connect() as c:
        rows = c.execute(sa.select(nominations, candidates.c.name).join(
            candidates, candidates.c.id == nominations.c.candidate_id).order_by(nominations.c.id.desc())).mappings()
        return [dict(r) for r in rows]


# -- building a nomination -----------------------------------------------------------------

def _accepted_by(c: sa.Connection, cid: int) -> dict[str, Any] | None:
    row = c.execute(sa.select(decisions.c.user, decisions.c.at).where(
        decisions.c.candidate_id == cid, decisions.c.action == "accept").order_by(decisions.c.id.desc())).first()
    return {"user": row.user, "at": row.at} if row else None


def build_record(cand: dict[str, Any], evidence: list[dict[str, Any]], form: str, key: str,
                 accepted: dict[str, Any] | None, created: str) -> dict[str, Any]:
    """One nomination as plain data (the JSON export's item; schema in nomination.schema.json)."""
    classification = classify_nominee(cand)
    subject = subject_type(cand, classification)
    activity = FIELD_TO_ACTIVITY.get(cand.get("field") or "khac", "0005")
    ex = cand.get("exemplars") or []
    main = ex[0] if ex else {"name": cand.get("name") or ""}
    full = cand.get("name") or main.get("name") or ""  # the reviewed main name
    honorific, plain = split_honorific(full) if classification == "CANHAN" else ("", full)
    return {
        "id": key,
        "idempotency_key": key,
        "candidate_id": cand["id"],
        "created": created,
        "classification": {"code": classification, "name": CLASSIFICATIONS[classification]},
        "award": {"code": form, "name": AWARD_FORMS[form], "kind": AWARD_KIND[form]},
        "subject_type": {"code": subject, "name": SUBJECT_TYPES[subject]},
        "activity_field": {"code": activity, "name": ACTIVITY_FIELDS[activity]},
        "field": {"code": cand.get("field") or "khac", "name": field_name(cand.get("field") or "khac")},
        "deed": {"code": cand.get("deed") or "khac", "name": deed_name(cand.get("deed") or "khac")},
        "nominee": {"name": plain, "honorific": honorific, "position": main.get("role") or "",
                    "unit": main.get("unit") or "", "place": main.get("place") or cand.get("place") or ""},
        "exemplars": [{k: str(v) for k, v in e.items() if v} for e in ex],
        "achievement": {"title": cand.get("title") or "", "summary": cand.get("reason") or "",
                        "week": cand.get("week") or "", "stage": cand.get("stage") or "phat-hien"},
        "evidence": [{"kind": e["kind"], "title": e["title"] or "", "outlet": e["outlet"] or "",
                      "url": e["url"] or "", "published": e["published"] or "",
                      "source_file": e.get("source_file") or "", "location": e.get("location") or "",
                      "reason": e["reason"] or ""} for e in evidence],
        "accepted_by": accepted or {},
    }


# -- files ---------------------------------------------------------------------------------

def _header_style(ws, row: int) -> None:  # noqa: ANN001
    from openpyxl.styles import Alignment, Font, PatternFill
    for cell in ws[row]:
        if cell.value is not None:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="D9E1F2")
            cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")


def _ref_sheet(wb, title: str, header: list[str], rows: Iterable[tuple[Any, ...]]) -> None:  # noqa: ANN001
    ws = wb.create_sheet(title)
    ws.append(header)
    for r in rows:
        ws.append(list(r))
    _header_style(ws, 1)


def write_mautdkt(records: list[dict[str, Any]], path: Path) -> Path:
    """The MauTDKT import sheet ("file nhận" + its reference sheets), codes resolved."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "file nhận"
    ws.append(MAUTDKT_HEADER)
    _header_style(ws, 1)
    for i, r in enumerate(records, start=1):
        row = [i, r["nominee"]["honorific"], r["nominee"]["name"], r["nominee"]["position"],
               r["nominee"]["unit"] or r["nominee"]["place"], r["classification"]["name"], r["award"]["name"],
               r["subject_type"]["name"], r["activity_field"]["name"]] + [None] * 8 + [
               r["classification"]["code"], r["award"]["code"], r["subject_type"]["code"], r["activity_field"]["code"]]
        ws.append([excel_safe(v) if v is not None else None for v in row])
    for col, w in zip("ABCDEFGHI", (6, 14, 34, 18, 30, 22, 40, 40, 26)):
        ws.column_dimensions[col].width = w
    for i in range(18, 22):
        ws.column_dimensions[get_column_letter(i)].width = 16
    ws.freeze_panes = "A2"
    _ref_sheet(wb, "HTKT", ["tenhinhthuckt", "mahinhthuckt"], ((n, c) for c, n in AWARD_FORMS.items()))
    _ref_sheet(wb, "PLDT", ["tenphanloai", "maphanloai"], ((n, int(c)) for c, n in SUBJECT_TYPES.items()))
    _ref_sheet(wb, "LVHD", ["NAME", "CODE"], ((n, c) for c, n in ACTIVITY_FIELDS.items()))
    ws2 = wb.create_sheet("phan loai kt")
    for c, n in CLASSIFICATIONS.items():
        ws2.append([n, c])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _danhsach(title: str, header: list[str], rows: list[list[Any]], path: Path,
              danhmuc: list[tuple[str, dict[str, str]]]) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = "DANHSACH"
    ws["A1"] = title
    ws["A1"].font = Font(size=16, bold=True)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=max(2, len(header) - 1))
    for j, h in enumerate(header, start=1):
        ws.cell(row=3, column=j, value=h)
    _header_style(ws, 3)
    for i, r in enumerate(rows, start=4):
        for j, v in enumerate(r, start=1):
            ws.cell(row=i, column=j, value=excel_safe(v) if v not in (None, "") else None)
    for j in range(1, len(header) + 1):
        ws.column_dimensions[get_column_letter(j)].width = 22 if j > 1 else 6
    dm = wb.create_sheet("DANHMUC")
    col = 1
    for name, codes in danhmuc:
        dm.cell(row=1, column=col, value="STT")
        dm.cell(row=1, column=col + 1, value="Mã số")
        dm.cell(row=1, column=col + 2, value=name)
        for i, (c, n) in enumerate(codes.items(), start=1):
            dm.cell(row=i + 1, column=col, value=i)
            dm.cell(row=i + 1, column=col + 1, value=c)
            dm.cell(row=i + 1, column=col + 2, value=n)
        col += 4
    _header_style(dm, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _forms_split(code: str) -> tuple[str, str]:
    """(Mã hình thức khen thưởng, Mã danh hiệu thi đua) for one of our award codes."""
    return ("", code) if AWARD_KIND[code] == "danh-hieu" else (code, "")


def write_lists(records: list[dict[str, Any]], out_dir: Path, stamp: str) -> list[Path]:
    """CANHAN, TAPTHE and DETAI lists, each only when a record fits it."""
    hinh = {c: n for c, n in AWARD_FORMS.items() if AWARD_KIND[c] == "hinh-thuc"}
    danh = {c: n for c, n in AWARD_FORMS.items() if AWARD_KIND[c] == "danh-hieu"}
    out = []
    ind = [r for r in records if r["classification"]["code"] == "CANHAN"]
    col = [r for r in records if r["classification"]["code"] in ("TAPTHE", "HOGIADINH")]
    ini = [r for r in records if r["deed"]["code"] == "sang-tao"]
    if ind:
        rows = [[i, r["nominee"]["name"], "", "", r["nominee"]["position"], "", r["nominee"]["unit"],
                 r["nominee"]["place"], "1660638976", *_forms_split(r["award"]["code"])] for i, r in enumerate(ind, 1)]
        out.append(_danhsach("DANH SÁCH ĐỐI TƯỢNG ĐỀ NGHỊ KHEN THƯỞNG", CANHAN_HEADER, rows,
                             out_dir / f"CANHAN-{stamp}.xlsx",
                             [("Hình thức khen thưởng", hinh), ("Danh hiệu thi đua", danh),
                              ("Phân loại cán bộ", {"1660638976": SUBJECT_TYPES["1660638976"]})]))
    if col:
        rows = [[i, r["nominee"]["name"], collective_type(r["subject_type"]["code"]), *_forms_split(r["award"]["code"])]
                for i, r in enumerate(col, 1)]
        out.append(_danhsach("DANH SÁCH TẬP THỂ ĐỀ NGHỊ KHEN THƯỞNG", TAPTHE_HEADER, rows,
                             out_dir / f"TAPTHE-{stamp}.xlsx",
                             [("Hình thức khen thưởng", hinh), ("Danh hiệu thi đua", danh),
                              ("Tên phân loại đơn vị", COLLECTIVE_TYPES)]))
    if ini:
        rows = [[i, r["achievement"]["title"], "", "", r["achievement"]["summary"], r["nominee"]["name"], "",
                 r["nominee"]["unit"]] for i, r in enumerate(ini, 1)]
        out.append(_danhsach("DANH SÁCH ĐỀ TÀI SÁNG KIẾN", DETAI_HEADER, rows, out_dir / f"DETAI-{stamp}.xlsx",
                             [("Hình thức khen thưởng", hinh), ("Danh hiệu thi đua", danh)]))
    return out


def _safe_filename(s: str, limit: int = 60) -> str:
    s = re.sub(r"[^\w\- ]+", "", s, flags=re.UNICODE).strip().replace(" ", "-")
    return (s[:limit] or "ung-vien").strip("-")


def write_docx(rec: dict[str, Any], cand: dict[str, Any], path: Path, stage_log: list[dict[str, Any]] | None = None) -> Path:
    """Draft summary of achievements for the dossier: who, what, the award proposed,
    and every evidence article and report cited."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    def clean(s: Any) -> str:  # XML cannot hold control characters
        return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", " ", str(s or ""))

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Times New Roman"
    style.font.size = Pt(13)
    p = doc.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    r = p.add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập – Tự do – Hạnh phúc")
    r.bold = True
    h = doc.add_paragraph()
    h.alignment = WD_ALIGN_PARAGRAPH.CENTER
    hr = h.add_run("BÁO CÁO TÓM TẮT THÀNH TÍCH (DỰ THẢO)")
    hr.bold = True
    hr.font.size = Pt(15)
    sub = doc.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    sub.add_run(f"Đề nghị: {clean(rec['award']['name'])}").italic = True

    doc.add_heading("I. Thông tin đối tượng đề nghị", level=2)
    t = doc.add_table(rows=0, cols=2)
    t.style = "Table Grid"
    nominee = rec["nominee"]
    for k, v in (("Tên tập thể/cá nhân", " ".join(x for x in (nominee["honorific"], nominee["name"]) if x)),
                 ("Phân loại khen thưởng", rec["classification"]["name"]),
                 ("Chức vụ", nominee["position"]), ("Đơn vị công tác", nominee["unit"]),
                 ("Nơi ở / địa bàn", nominee["place"]),
                 ("Lĩnh vực", f"{rec['field']['name']} (hệ thống: {rec['activity_field']['name']})"),
                 ("Loại việc tốt", rec["deed"]["name"]),
                 ("Phân loại đối tượng", rec["subject_type"]["name"])):
        row = t.add_row().cells
        row[0].text = k
        row[1].text = clean(v) or "…………"
    if len(rec["exemplars"]) > 1:
        doc.add_paragraph("Cùng tham gia: " + clean("; ".join(exemplar_text(e) for e in rec["exemplars"][1:] if e.get("name"))))

    doc.add_heading("II. Thành tích", level=2)
    doc.add_paragraph(clean(rec["achievement"]["title"])).runs[0].bold = True if rec["achievement"]["title"] else False
    if rec["achievement"]["summary"]:
        doc.add_paragraph(clean(rec["achievement"]["summary"]))
    n = len(rec["evidence"])
    outlets = sorted({e["outlet"] for e in rec["evidence"] if e["outlet"]})
    doc.add_paragraph(f"Việc làm trên được {n} bài báo và báo cáo ghi nhận"
                      + (f" ({clean(', '.join(outlets))})" if outlets else "") + ", liệt kê ở mục III.")

    doc.add_heading("III. Nguồn chứng minh", level=2)
    for i, e in enumerate(rec["evidence"], start=1):
        where = e["url"] if e["kind"] != "report" else " · ".join(x for x in (e["source_file"], e["location"]) if x)
        kind = "Báo cáo" if e["kind"] == "report" else "Bài báo"
        para = doc.add_paragraph(f"[{i}] {kind}: ")
        para.add_run(clean(e["title"])).italic = True
        para.add_run(clean(f" — {e['outlet']}" + (f", {date_vn(e['published'])}" if e["published"] else "")
                           + (f". {where}" if where else "")))
        if e["reason"]:
            q = doc.add_paragraph(clean(f"“{e['reason']}”"))
            q.paragraph_format.left_indent = Pt(24)
            q.runs[0].italic = True

    doc.add_heading("IV. Quá trình xem xét", level=2)
    acc = rec.get("accepted_by") or {}
    if acc:
        doc.add_paragraph(clean(f"Phát hiện tuần {rec['achievement']['week']}; duyệt bởi {acc.get('user')} lúc {acc.get('at')}."))
    for s in stage_log or []:
        doc.add_paragraph(clean(f"{s.get('stage_name') or s.get('stage')} – {s.get('date') or ''}: {s.get('note') or ''}"),
                          style="List Bullet")
    doc.add_paragraph("Bản dự thảo do hệ thống tạo từ các nguồn trên; cơ quan đề nghị kiểm tra, bổ sung "
                      "và xác nhận trước khi trình.").runs[0].italic = True
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    return path


# -- POST to the award system -------------------------------------------------------------------

class PostError(RuntimeError):
    pass


def post_record(rec: dict[str, Any], endpoint: dict[str, Any], *, client: Any = None,
                sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """POST one nomination as JSON with an ``Idempotency-Key`` header.

    ``endpoint``: ``url``, ``token`` (Bearer, optional), ``headers``, ``retries`` (4),
    ``backoff`` (seconds, 0.5, doubled each retry), ``timeout`` (10). Retries connection
    errors, timeouts, 429 and 5xx; 409 (already received) counts as success; other
    4xx fail at once. Returns ``{"status", "attempts"}``; raises :class:`PostError`.
    """
    import httpx

    url = endpoint.get("url")
    if not url or not re.match(r"^https?://", str(url)):
        raise PostError("award endpoint: set award_endpoint.url (http or https) in the configuration")
    retries = int(endpoint.get("retries", 4))
    backoff = float(endpoint.get("backoff", 0.5))
    headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": rec["idempotency_key"],
               "User-Agent": "nguoitot/0.1 (+nominations)"}
    headers.update({str(k): str(v) for k, v in (endpoint.get("headers") or {}).items()})
    if endpoint.get("token"):
        headers["Authorization"] = f"Bearer {endpoint['token']}"
    if not all(v.isascii() for v in headers.values()):
        raise PostError("award endpoint: token and headers must be ASCII")
    body = json.dumps(rec, ensure_ascii=False).encode("utf-8")
    own = client is None
    client = client or httpx.Client(timeout=float(endpoint.get("timeout", 10)), follow_redirects=False)
    last = ""
    try:
        for attempt in range(1, retries + 2):
            try:
                resp = client.post(url, content=body, headers=headers)
            except httpx.HTTPError as e:
                last = f"{type(e).__name__}: {e}"
            else:
                if resp.status_code < 300 or resp.status_code == 409:
                    return {"status": resp.status_code, "attempts": attempt}
                last = f"HTTP {resp.status_code}: {resp.text[:200]}"
                if resp.status_code != 429 and resp.status_code < 500:
                    raise PostError(last)
            if attempt <= retries:
                sleep(backoff * 2 ** (attempt - 1))
    finally:
        if own:
            client.close()
    raise PostError(f"gave up after {retries + 1} attempts: {last}")


# -- the export ---------------------------------------------------------------------------------------

def export_nominations(store: Store, out_dir: Path | str, *, formats: Iterable[str] = ("xlsx", "json", "docx"),
                       post: bool = False, endpoint: dict[str, Any] | None = None,
                       forms: dict[int, str] | None = None, candidate_ids: Iterable[int] | None = None,
                       user: str = "cli", sleep: Callable[[float], None] = time.sleep) -> dict[str, Any]:
    """Nominate accepted candidates not nominated before and write them out.

    ``forms`` maps candidate id -> award code (AWARD_FORMS); when given, only those
    candidates are nominated; otherwise every pending accepted one (or those in
    ``candidate_ids``) with :func:`suggest_form`. Each nomination is recorded in
    ``nominations`` (UNIQUE per candidate) and as a ``nominate`` decision.
    With ``post``, each new nomination — and any earlier one whose POST failed — is
    sent to ``endpoint``. Returns ``{"nominated": [...], "skipped": [...], "files": [...],
    "posted": [...], "failed": [...]}``.
    """
    out_dir = Path(out_dir)
    formats = tuple(formats)
    bad = [f for f in formats if f not in ("xlsx", "json", "docx")]
    if bad:
        raise ValueError(f"unknown format(s): {', '.join(bad)}")
    if forms:
        for cid, code in forms.items():
            if code not in AWARD_FORMS:
                raise ValueError(f"unknown award form {code!r} for candidate {cid}")
    wanted = set(forms) if forms else (set(int(i) for i in candidate_ids) if candidate_ids is not None else None)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    created = now_iso()
    records: list[dict[str, Any]] = []
    cands: dict[int, dict[str, Any]] = {}
    skipped: list[dict[str, Any]] = []
    from .review import stage_log

    with store.begin() as c:
        q = sa.select(candidates).where(candidates.c.status == "accepted")
        if wanted is not None:
            q = q.where(candidates.c.id.in_(sorted(wanted)) if wanted else sa.false())
        rows = [candidate_dict(r) for r in c.execute(q.order_by(candidates.c.id)).all()]
        done = {r[0]: r[1] for r in c.execute(sa.select(nominations.c.candidate_id, nominations.c.form))}
        found = {r["id"] for r in rows}
        for cid in sorted((wanted or set()) - found):
            skipped.append({"candidate_id": cid, "reason": "not an accepted candidate"})
        ev = evidence_for(c, [r["id"] for r in rows if r["id"] not in done])
        for cand in rows:
            cid = cand["id"]
            if cid in done:
                skipped.append({"candidate_id": cid, "reason": f"already nominated ({AWARD_FORMS.get(done[cid], done[cid])}); "
                                "one achievement is nominated once"})
                continue
            form = (forms or {}).get(cid) or suggest_form(cand)
            key = idempotency_key(cand)
            rec = build_record(cand, ev.get(cid, []), form, key, _accepted_by(c, cid), created)
            # UNIQUE(candidate_id): a concurrent export that got there first makes this
            # transaction fail as a whole, and nothing is written twice.
            c.execute(sa.insert(nominations).values(
                candidate_id=cid, form=form, idempotency_key=key, created=created, status="exported",
                payload=json.dumps(rec, ensure_ascii=False)))
            store.add_decision(user, "nominate", candidate_id=cid, payload={"form": form, "key": key}, conn=c)
            records.append(rec)
            cands[cid] = cand

    files: list[Path] = []
    if records:
        out_dir.mkdir(parents=True, exist_ok=True)
        if "xlsx" in formats:
            files.append(write_mautdkt(records, out_dir / f"MauTDKT-{stamp}.xlsx"))
            files += write_lists(records, out_dir, stamp)
        if "json" in formats:
            p = out_dir / f"nominations-{stamp}.json"
            p.write_text(json.dumps({"$schema": SCHEMA_ID, "generated": created, "nominations": records},
                                    ensure_ascii=False, indent=1), encoding="utf-8")
            files.append(p)
        if "docx" in formats:
            for rec in records:
                name = _safe_filename(rec["nominee"]["name"])
                files.append(write_docx(rec, cands[rec["candidate_id"]],
                                        out_dir / "ho-so" / f"{rec['candidate_id']:05d}-{name}.docx",
                                        stage_log(store, rec["candidate_id"])))

    posted: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    if post:
        if not endpoint:
            raise PostError("--post needs an [award_endpoint] section with url in the configuration")
        with store.connect() as c:
            todo = [json.loads(r.payload) for r in c.execute(
                sa.select(nominations.c.payload).where(nominations.c.status.in_(("exported", "failed")))
                .order_by(nominations.c.id)) if r.payload]
        for rec in todo:
            try:
                res = post_record(rec, endpoint, sleep=sleep)
            except PostError as e:
                failed.append({"candidate_id": rec["candidate_id"], "error": str(e)})
                status = "failed"
            else:
                posted.append({"candidate_id": rec["candidate_id"], **res})
                status = "posted"
            with store.begin() as c:
                c.execute(sa.update(nominations).where(nominations.c.candidate_id == rec["candidate_id"])
                          .values(status=status))
    return {"nominated": [{"candidate_id": r["candidate_id"], "form": r["award"]["code"], "name": r["nominee"]["name"]}
                          for r in records],
            "skipped": skipped, "files": files, "posted": posted, "failed": failed}


def validate(doc: dict[str, Any]) -> None:
    """Validate an export document against the published schema (needs ``jsonschema``)."""
    import jsonschema
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.validate(doc, schema)
