"""The weekly list: the week's candidates grouped by field, with their evidence.

``weekly_data`` gathers plain data from the store; ``render_weekly`` writes it
as an email-ready HTML page (inline CSS, no script), an XLSX sheet and a CSV
file (UTF-8 with BOM so that Excel opens Vietnamese correctly);
``send_weekly`` mails the HTML with the other files attached.

Which candidates are listed: every candidate of the week that is not merged
into another and not rejected (new, unsure and accepted ones), label 1 or 2
or accepted. Accepted ones come first within their field, then by score.

Counts: ``read`` = articles of the week (``stories`` = distinct story
groups among them), ``flagged`` = candidates the machine found this week
(not merged), ``accepted`` = candidates a reviewer accepted.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
import re
import smtplib
import ssl
from collections import Counter
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Iterable

import sqlalchemy as sa

from .store import Store, articles, candidate_evidence, candidates, scores
from .taxonomy import FIELDS, STAGES, deed_name, field_name

WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")

STATUS_NAMES = {
    "new": "Mới phát hiện",
    "accepted": "Đã duyệt",
    "unsure": "Cần xem thêm",
    "rejected": "Đã loại",
    "merged": "Đã gộp",
}

#: Short deed names for the theme line when no theme stage ran.
DEED_SHORT = {
    "cuu-nguoi": "cứu người", "trung-thuc": "trả lại của rơi, trung thực", "chong-toi-pham": "bắt, tố giác tội phạm",
    "tu-thien": "từ thiện, tình nguyện", "hien-mau-tang": "hiến máu, hiến tạng", "sang-tao": "sáng kiến, sáng chế",
    "vuot-kho": "vượt khó", "tan-tuy": "tận tụy với nghề", "khac": "việc tốt khác",
}

#: Cells longer than this are cut in XLSX/CSV (Excel's limit is 32,767).
MAX_CELL = 4000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def excel_safe(value: Any, limit: int = MAX_CELL) -> Any:
    """A value safe for a spreadsheet cell: text that a spreadsheet would run as a
    formula (starting with = + - @, tab or CR) gets a leading apostrophe; long text is cut."""
    if value is None:
        return ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    s = str(value)
    # Control characters other than newline break XLSX (openpyxl refuses them).
    s = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", " ", s)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    if s.startswith(_FORMULA_START):
        s = "'" + s
    return s


def parse_week(week: str) -> tuple[dt.date, dt.date]:
    """``"2026-W49"`` -> (Monday, Sunday) of that ISO week; ValueError if malformed."""
    m = WEEK_RE.match(week or "")
    if not m:
        raise ValueError(f"week must look like YYYY-Www (e.g. 2026-W49), got {week!r}")
    year, wk = int(m.group(1)), int(m.group(2))
    try:
        monday = dt.date.fromisocalendar(year, wk, 1)
    except ValueError as e:
        raise ValueError(f"no such ISO week: {week}") from e
    return monday, monday + dt.timedelta(days=6)


def current_week(today: dt.date | None = None) -> str:
    y, w, _ = (today or dt.date.today()).isocalendar()
    return f"{y}-W{w:02d}"


def _loads(value: Any, default: Any) -> Any:
    if value is None or value == "":
        return default
    if isinstance(value, (list, dict)):
        return value
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return default


def exemplar_dicts(value: Any) -> list[dict[str, Any]]:
    """Exemplars as a list of dicts ``{name, kind, role, unit, place}`` (names alone accepted)."""
    out = []
    for e in _loads(value, []) or []:
        if isinstance(e, str):
            if e.strip():
                out.append({"name": e.strip()})
        elif isinstance(e, dict) and (e.get("name") or "").strip():
            out.append({k: e.get(k) for k in ("name", "kind", "role", "unit", "place") if e.get(k)})
    return out


def exemplar_text(e: dict[str, Any]) -> str:
    """'Nguyễn Văn A (tài xế xe ôm, phường X)'."""
    extra = [str(e[k]) for k in ("role", "unit", "place") if e.get(k)]
    return f"{e['name']} ({', '.join(extra)})" if extra else str(e["name"])


_PLACE_ORDER = ("address", "ward", "commune", "district", "city", "province", "country")


def place_text(value: Any) -> str:
    """A place JSON ``{ward, district, province, ...}`` as one line, smallest first."""
    p = _loads(value, None)
    if not p:
        return ""
    if isinstance(p, str):
        return p
    if isinstance(p, list):
        return ", ".join(place_text(x) for x in p if x)
    if not isinstance(p, dict):
        return str(p)
    parts = [str(p[k]) for k in _PLACE_ORDER if p.get(k)]
    parts += [str(v) for k, v in p.items() if k not in _PLACE_ORDER and isinstance(v, str) and v
              and k not in ("source", "confidence", "kind")]
    seen: list[str] = []
    for x in parts:
        if x not in seen:
            seen.append(x)
    return ", ".join(seen)


def date_vn(iso: str | None) -> str:
    """'2026-12-01T06:25:00+07:00' -> '01/12/2026'."""
    if not iso:
        return ""
    try:
        return dt.datetime.fromisoformat(iso).strftime("%d/%m/%Y")
    except ValueError:
        return iso[:10]


def safe_link(url: str | None) -> str:
    """Only http(s) links are linked; anything else (javascript:, data:) is dropped."""
    if url and re.match(r"^https?://", url.strip(), re.I):
        return url.strip()
    return ""


def evidence_for(conn: sa.Connection, candidate_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Evidence articles of each candidate (newest score per article), oldest first."""
    out: dict[int, list[dict[str, Any]]] = {cid: [] for cid in candidate_ids}
    if not candidate_ids:
        return out
    rows = []
    for i in range(0, len(candidate_ids), 500):  # stay under SQLite's variable limit
        chunk = candidate_ids[i:i + 500]
        rows += conn.execute(
            sa.select(candidate_evidence.c.candidate_id, articles.c.id, articles.c.kind,
                      articles.c.url, articles.c.outlet, articles.c.title, articles.c.lead,
                      articles.c.published, articles.c.collected, articles.c.source_file,
                      articles.c.location, articles.c.story_id)
            .join(articles, articles.c.id == candidate_evidence.c.article_id)
            .where(candidate_evidence.c.candidate_id.in_(chunk))
        ).mappings().all()
    art_ids = sorted({r["id"] for r in rows})
    best: dict[int, dict[str, Any]] = {}
    for i in range(0, len(art_ids), 500):
        chunk = art_ids[i:i + 500]
        for s in conn.execute(
                sa.select(scores.c.article_id, scores.c.score, scores.c.label, scores.c.reason,
                          scores.c.field, scores.c.deed, scores.c.exemplars, scores.c.place,
                          scores.c.model_version, scores.c.scored)
                .where(scores.c.article_id.in_(chunk))).mappings():
            prev = best.get(s["article_id"])
            if prev is None or (s["scored"] or "") > (prev["scored"] or ""):
                best[s["article_id"]] = dict(s)
    for r in rows:
        s = best.get(r["id"], {})
        if r["kind"] == "report":
            where = " · ".join(x for x in (r["source_file"], r["location"]) if x)
        else:
            where = ""
        out[r["candidate_id"]].append({
            "article_id": r["id"],
            "kind": r["kind"],
            "title": r["title"] or (r["lead"] or "")[:120],
            "outlet": r["outlet"] or (r["source_file"] or ""),
            "published": r["published"],
            "date": date_vn(r["published"] or r["collected"]),
            "url": r["url"] or "",
            "link": safe_link(r["url"]),
            "where": where,
            "source_file": r["source_file"],
            "location": r["location"],
            "score": s.get("score"),
            "label": s.get("label"),
            "reason": s.get("reason") or "",
            "model_version": s.get("model_version"),
        })
    for lst in out.values():
        lst.sort(key=lambda e: (e["published"] or "", e["article_id"]))
    return out


def candidate_dict(row: Any) -> dict[str, Any]:
    """A candidates row as plain data with its JSON columns decoded."""
    c = dict(row._mapping if hasattr(row, "_mapping") else row)
    c["exemplars"] = exemplar_dicts(c.get("exemplars"))
    c["place_raw"] = _loads(c.get("place"), None)
    c["place"] = place_text(c.get("place"))
    c["field_name"] = field_name(c.get("field") or "")
    c["deed_name"] = deed_name(c.get("deed") or "")
    c["stage_name"] = STAGES.get(c.get("stage") or "", c.get("stage") or "")
    c["status_name"] = STATUS_NAMES.get(c.get("status") or "", c.get("status") or "")
    return c


def theme_summary(cands: Iterable[dict[str, Any]], limit: int = 8) -> list[tuple[str, int]]:
    """The week's themes with counts, most frequent first: candidates.theme when the
    theme stage set it, else the deed type's name."""
    cands = list(cands)
    counter: Counter[str] = Counter()
    if any((c.get("theme") or "").strip() for c in cands):
        for c in cands:
            t = (c.get("theme") or "").strip()
            if t:
                counter[t] += 1
    else:
        for c in cands:
            if c.get("deed"):
                counter[DEED_SHORT.get(c["deed"], deed_name(c["deed"]).lower())] += 1
    return counter.most_common(limit)


def weekly_data(store: Store, week: str) -> dict[str, Any]:
    """Everything the weekly list shows, as plain data.

    ``{"week", "start", "end", "counts": {read, stories, reports, flagged, accepted,
    rejected, unsure, listed}, "themes": [(theme, n)], "theme_line": str,
    "groups": [{"field", "field_name", "candidates": [candidate + "evidence": [...]]}]}``
    """
    monday, sunday = parse_week(week)
    with store.connect() as c:
        read = c.execute(sa.select(sa.func.count()).select_from(articles)
                         .where(articles.c.week == week)).scalar() or 0
        stories = c.execute(sa.select(sa.func.count(sa.distinct(
            sa.func.coalesce(articles.c.story_id, articles.c.id)))).where(articles.c.week == week)).scalar() or 0
        reports = c.execute(sa.select(sa.func.count()).select_from(articles)
                            .where(articles.c.week == week, articles.c.kind == "report")).scalar() or 0
        status_counts = dict(c.execute(
            sa.select(candidates.c.status, sa.func.count()).where(candidates.c.week == week)
            .group_by(candidates.c.status)).all())
        rows = c.execute(
            sa.select(candidates).where(
                candidates.c.week == week,
                candidates.c.status.in_(("new", "unsure", "accepted")),
                sa.or_(candidates.c.label >= 1, candidates.c.status == "accepted"))
        ).all()
        cands = [candidate_dict(r) for r in rows]
        ev = evidence_for(c, [x["id"] for x in cands])
    for x in cands:
        x["evidence"] = ev.get(x["id"], [])
        x["outlets"] = sorted({e["outlet"] for e in x["evidence"] if e["outlet"]})
    order = {code: i for i, code in enumerate(FIELDS)}
    cands.sort(key=lambda x: (order.get(x["field"] or "khac", len(order)),
                              0 if x["status"] == "accepted" else 1, -(x["score"] or 0), x["id"]))
    groups: list[dict[str, Any]] = []
    for x in cands:
        code = x["field"] if x["field"] in FIELDS else "khac"
        if not groups or groups[-1]["field"] != code:
            groups.append({"field": code, "field_name": field_name(code), "candidates": []})
        groups[-1]["candidates"].append(x)
    themes = theme_summary(cands)
    flagged = sum(n for s, n in status_counts.items() if s != "merged")
    return {
        "week": week,
        "start": monday.isoformat(),
        "end": sunday.isoformat(),
        "counts": {
            "read": int(read), "stories": int(stories), "reports": int(reports),
            "flagged": int(flagged),
            "accepted": int(status_counts.get("accepted", 0)),
            "rejected": int(status_counts.get("rejected", 0)),
            "unsure": int(status_counts.get("unsure", 0)),
            "listed": len(cands),
        },
        "themes": themes,
        "theme_line": " · ".join(f"{n} {t}" for t, n in themes),
        "groups": groups,
    }


# -- rendering ---------------------------------------------------------------

_HTML = """<!DOCTYPE html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Người tốt – Việc tốt · tuần {{ wk }}</title>
</head>
<body style="margin:0;padding:0;background:#f4f4f0;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="background:#f4f4f0;">
<tr><td align="center" style="padding:16px;">
<table role="presentation" width="680" cellpadding="0" cellspacing="0" style="max-width:680px;width:100%;background:#ffffff;border:1px solid #ddd;font-family:Arial,'Helvetica Neue',Helvetica,sans-serif;color:#222;font-size:15px;line-height:1.5;">
<tr><td style="padding:20px 24px 8px 24px;border-bottom:4px solid #b71c1c;">
<div style="font-size:13px;color:#b71c1c;text-transform:uppercase;letter-spacing:1px;">Phong trào thi đua «Người tốt – Việc tốt»</div>
<h1 style="margin:4px 0 4px 0;font-size:22px;color:#111;">Danh sách tuần {{ wk }} ({{ start }} – {{ end }})</h1>
<p style="margin:0 0 8px 0;color:#444;">Đã đọc <b>{{ n(d.counts.read) }}</b> bài{% if d.counts.reports %} (trong đó {{ n(d.counts.reports) }} báo cáo của đơn vị){% endif %} · phát hiện <b>{{ n(d.counts.flagged) }}</b> ứng viên · đã duyệt <b>{{ n(d.counts.accepted) }}</b></p>
{% if d.theme_line %}<p style="margin:0 0 8px 0;color:#444;"><b>Chủ đề nổi bật:</b> {{ d.theme_line }}</p>{% endif %}
</td></tr>
{% if not d.groups %}
<tr><td style="padding:20px 24px;color:#555;">Tuần này chưa có ứng viên nào.</td></tr>
{% endif %}
{% for g in d.groups %}
<tr><td style="padding:18px 24px 4px 24px;">
<h2 style="margin:0;font-size:18px;color:#b71c1c;border-bottom:1px solid #eee;padding-bottom:4px;">{{ g.field_name }} <span style="color:#888;font-weight:normal;font-size:14px;">({{ g.candidates|length }})</span></h2>
</td></tr>
{% for c in g.candidates %}
<tr><td style="padding:8px 24px 8px 24px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="border-left:3px solid {% if c.status == 'accepted' %}#2e7d32{% else %}#bbb{% endif %};">
<tr><td style="padding:2px 0 2px 12px;">
<div style="font-size:16px;font-weight:bold;color:#111;">{{ c.name or '(chưa rõ tên)' }}{% if c.status == 'accepted' %} <span style="font-size:12px;color:#2e7d32;font-weight:normal;">✔ đã duyệt</span>{% elif c.status == 'unsure' %} <span style="font-size:12px;color:#8a6d00;font-weight:normal;">cần xem thêm</span>{% endif %}</div>
<div style="font-size:13px;color:#666;">{{ c.deed_name }}{% if c.place %} · {{ c.place }}{% endif %}{% if c.score is not none %} · điểm {{ '%.2f'|format(c.score) }}{% endif %}{% if c.label == 1 %} · cân nhắc{% endif %}</div>
{% if c.exemplars|length > 1 or (c.exemplars and c.exemplars[0].get('role') or c.exemplars and c.exemplars[0].get('unit')) %}<div style="font-size:13px;color:#444;">Gương: {% for e in c.exemplars %}{{ ex(e) }}{% if not loop.last %}; {% endif %}{% endfor %}</div>{% endif %}
{% if c.reason %}<div style="margin:4px 0;padding:6px 10px;background:#fff8e1;color:#333;font-style:italic;">“{{ c.reason }}”</div>{% endif %}
<div style="font-size:13px;color:#333;">
{% for e in c.evidence %}
<div style="margin:2px 0;">• {% if e.link %}<a href="{{ e.link }}" style="color:#0d47a1;">{{ e.title }}</a>{% else %}{{ e.title }}{% endif %} <span style="color:#777;">— {{ e.outlet }}{% if e.date %}, {{ e.date }}{% endif %}{% if e.where %} ({{ e.where }}){% endif %}</span></div>
{% endfor %}
</div>
</td></tr></table>
</td></tr>
{% endfor %}
{% endfor %}
<tr><td style="padding:16px 24px 20px 24px;font-size:12px;color:#888;border-top:1px solid #eee;">Danh sách do máy phát hiện từ báo chí và báo cáo của đơn vị; các ứng viên chưa duyệt cần được thẩm tra trước khi đề nghị khen thưởng. Tạo lúc {{ generated }}.</td></tr>
</table>
</td></tr></table>
</body>
</html>
"""

COLUMNS = ["Tuần", "Lĩnh vực", "Người / tập thể", "Gương (chi tiết)", "Việc tốt", "Tiêu đề",
           "Lý do (câu chứng minh)", "Nơi", "Điểm", "Trạng thái", "Bước", "Số bài", "Nguồn",
           "Ngày", "Liên kết", "Mã ứng viên"]


def rows_for_sheet(data: dict[str, Any]) -> list[list[Any]]:
    """One row per candidate, in list order, cells made spreadsheet-safe."""
    out = []
    for g in data["groups"]:
        for c in g["candidates"]:
            ev = c["evidence"]
            out.append([excel_safe(v) for v in (
                data["week"], g["field_name"], c["name"],
                "; ".join(exemplar_text(e) for e in c["exemplars"]),
                c["deed_name"], c["title"], c["reason"], c["place"],
                round(float(c["score"] or 0), 3), c["status_name"], c["stage_name"], len(ev),
                "\n".join(f"{e['outlet']}: {e['title']}" for e in ev),
                "\n".join(e["date"] for e in ev if e["date"]),
                "\n".join(e["url"] or e["where"] for e in ev if e["url"] or e["where"]),
                c["id"],
            )])
    return out


def _num(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def render_html(data: dict[str, Any]) -> str:
    from jinja2 import Environment

    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    monday, sunday = parse_week(data["week"])
    y, w = data["week"].split("-W")
    return env.from_string(_HTML).render(
        d=data, wk=f"{int(w)}/{y}", start=monday.strftime("%d/%m"), end=sunday.strftime("%d/%m/%Y"),
        n=_num, ex=exemplar_text,
        generated=dt.datetime.now().astimezone().strftime("%H:%M %d/%m/%Y"))


def write_xlsx(rows: list[list[Any]], path: Path, columns: list[str] = COLUMNS, title: str = "Danh sách") -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(columns)
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor="B71C1C")
        cell.alignment = Alignment(vertical="center", wrap_text=True)
    for r in rows:
        ws.append(r)
    widths = {"Tiêu đề": 50, "Lý do (câu chứng minh)": 60, "Nguồn": 50, "Liên kết": 40,
              "Người / tập thể": 28, "Gương (chi tiết)": 36, "Lĩnh vực": 26}
    for i, name in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = widths.get(name, 14)
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, len(rows) + 1)}"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_csv(rows: list[list[Any]], path: Path, columns: list[str] = COLUMNS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        w.writerows(rows)
    return path


def render_weekly(store: Store, week: str, out_dir: Path | str) -> dict[str, Path]:
    """Write ``weekly-<week>.html``, ``.xlsx`` and ``.csv`` in ``out_dir``; returns their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = weekly_data(store, week)
    rows = rows_for_sheet(data)
    html_path = out_dir / f"weekly-{week}.html"
    html_path.write_text(render_html(data), encoding="utf-8")
    return {
        "html": html_path,
        "xlsx": write_xlsx(rows, out_dir / f"weekly-{week}.xlsx", title=f"Tuần {week}"),
        "csv": write_csv(rows, out_dir / f"weekly-{week}.csv"),
    }


# -- sending -----------------------------------------------------------------

def _plain_text(html: str) -> str:
    t = re.sub(r"(?is)<(script|style).*?</\1>", "", html)
    t = re.sub(r"(?i)<br\s*/?>|</(p|div|tr|h1|h2)>", "\n", t)
    t = re.sub(r"<[^>]+>", "", t)
    import html as _h
    t = _h.unescape(t)
    return re.sub(r"\n\s*\n+", "\n\n", re.sub(r"[ \t]+", " ", t)).strip()


def build_message(paths: dict[str, Path], sender: str, to: list[str], subject: str | None = None) -> EmailMessage:
    html_path = Path(paths["html"])
    html = html_path.read_text(encoding="utf-8")
    if subject is None:
        m = re.search(r"<title>(.*?)</title>", html, re.S)
        import html as _h
        subject = _h.unescape(m.group(1)).strip() if m else "Người tốt – Việc tốt"
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg.set_content(_plain_text(html))
    msg.add_alternative(html, subtype="html")
    types = {".xlsx": ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
             ".csv": ("text", "csv")}
    for key in ("xlsx", "csv"):
        p = paths.get(key)
        if p is None:
            continue
        p = Path(p)
        maintype, subtype = types.get(p.suffix, ("application", "octet-stream"))
        msg.add_attachment(p.read_bytes(), maintype=maintype, subtype=subtype, filename=p.name)
    return msg


def send_weekly(paths: dict[str, Path], smtp_config: dict[str, Any], to: list[str] | None = None,
                subject: str | None = None) -> dict[str, Any]:
    """Mail the weekly list: the HTML as the body, XLSX and CSV attached.

    ``smtp_config`` (the ``[smtp]`` table of the configuration): ``host``, ``port``
    (25), ``user``/``password`` (optional), ``starttls`` (false), ``ssl`` (false:
    implicit TLS, port 465), ``from``, ``to`` (default recipients), ``timeout`` (30).
    Returns ``{"to": [...], "refused": {...}}``; raises on an SMTP failure.
    """
    cfg = dict(smtp_config or {})
    recipients = list(to or cfg.get("to") or [])
    if isinstance(recipients, str):
        recipients = [recipients]
    if not recipients:
        raise ValueError("no recipients: give --to or set smtp.to in the configuration")
    host = cfg.get("host")
    if not host:
        raise ValueError("no SMTP server: set smtp.host in the configuration")
    port = int(cfg.get("port") or (465 if cfg.get("ssl") else 25))
    timeout = float(cfg.get("timeout") or 30)
    sender = cfg.get("from") or cfg.get("sender") or (cfg.get("user") or "nguoitot@localhost")
    msg = build_message(paths, sender, recipients, subject)
    context = ssl.create_default_context()
    if cfg.get("insecure"):  # a test or internal relay with a self-signed certificate
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if cfg.get("ssl"):
        server: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    else:
        server = smtplib.SMTP(host, port, timeout=timeout)
    try:
        server.ehlo()
        if cfg.get("starttls"):
            server.starttls(context=context)
            server.ehlo()
        user = cfg.get("user") or cfg.get("username")
        if user:
            password = str(cfg.get("password") or "")
            if (user + password).isascii():
                server.login(user, password)
            else:  # smtplib encodes credentials as ASCII; RFC 4616 PLAIN is UTF-8
                import base64
                token = base64.b64encode(b"\0" + user.encode() + b"\0" + password.encode()).decode("ascii")
                code, resp = server.docmd("AUTH", "PLAIN " + token)
                if code != 235:
                    raise smtplib.SMTPAuthenticationError(code, resp)
        refused = server.send_message(msg, from_addr=sender, to_addrs=recipients)
    finally:
        try:
            server.quit()
        except Exception:  # noqa: BLE001 - the message is sent or the error already raised
            server.close()
    return {"to": recipients, "refused": refused, "subject": msg["Subject"]}
