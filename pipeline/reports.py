"""Unit reports and nomination lists: read them in the formats agencies send.

The mission's second source beside the press: achievement reports, proposals
(Tờ trình), minutes (Biên bản), decisions (Quyết định) and nominee lists sent
by schools, hospitals, police, wards and enterprises, as .docx, old Word
.doc, PDF (with a text layer or scanned and signed), .xlsx/.xls, .txt,
.html, and also .rtf and scanned images (PNG, JPEG, TIFF). Three plain steps:

- :func:`read_document` detects the real type from the bytes (never the
  extension), extracts text per page and tables, and finds the document's
  number, date, issuer and kind. Scanned PDF pages (and images) go through
  Debian's ``tesseract`` with the Vietnamese data (``-l vie``).
- :func:`split_records` turns a document into one record per exemplar when
  it lists several (table rows with a recognised header, numbered items under
  "Tập thể" / "Cá nhân" headings), or one record for the whole document.
- :func:`ingest` keeps the original bytes by hash (``store.put_raw``), stores
  the records as ``kind="report"`` articles (``store.upsert_article``) and
  records the path → hash history as ``ingest`` events (see
  :func:`file_history`). Record uids are ``report:<sha256>#<location>``, so
  re-ingesting the same bytes changes nothing and a new version of a file adds
  its records beside the old ones. A bad file gets a :class:`ReportError`
  naming the file and the reason; the batch goes on. :func:`ingest_inbox` does
  the same for an inbox folder, skipping files whose size and modification
  time are those of the last run.

External tools (Debian packages, see scripts/apt-packages.txt): ``pdftotext``
and ``pdftoppm`` (poppler-utils) for PDFs, ``tesseract`` + ``tesseract-ocr-vie``
for OCR, ``antiword`` (with ``catdoc`` as fallback) for old Word files: small
tools, chosen over LibreOffice (hundreds of MB) which would only be needed
for exotic formats. pypdf is the fallback when poppler is missing.
"""
from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import os
import re
import shutil
import subprocess
import tempfile
import unicodedata
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from .text import LOWER, UPPER, normalize, strip_diacritics

# Files larger than this are refused (a nominee list is kilobytes; a scanned
# dossier a few MB). Override per call with ``max_bytes``.
MAX_BYTES = 100 * 2**20
OCR_LANG = "vie"
# Rendering resolution for OCR: the page's own scan resolution (pdfimages), kept
# within these bounds. On the real 200-dpi scans, 200 dpi reads as well as 300
# (character accuracy 0.981 vs 0.981) in 60% of the time.
OCR_DPI_MIN, OCR_DPI_MAX = 200, 300
# A PDF page whose text layer has fewer letters than this (signature stamps
# excluded) is treated as scanned and read by OCR.
MIN_TEXT_LETTERS = 80
TOOL_TIMEOUT = 300  # seconds, per external tool call
MAX_SHEET_ROWS = 100_000  # rows read per sheet (a list of nominees is hundreds; beyond is a mistake or a bomb)
TZ = "+07:00"

MEDIA_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "html": "text/html",
    "txt": "text/plain",
    "rtf": "application/rtf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "tiff": "image/tiff",
}


class ReportError(Exception):
    """A file that cannot be read: ``ReportError(path, reason)``."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass
class Table:
    """Rows of cell texts, with where they are (``"Sheet1"``, ``"table 2"``, ``"page 3"``).

    ``row_numbers`` gives each row's own number (spreadsheet row, 1-based table row).
    """
    where: str
    rows: list[list[str]]
    row_numbers: list[int] = field(default_factory=list)
    row_sep: str = " row "  # location of a row: where + row_sep + number

    def location(self, i: int) -> str:
        n = self.row_numbers[i] if i < len(self.row_numbers) else i + 1
        return f"{self.where}{self.row_sep}{n}"


@dataclass
class Document:
    path: str
    sha256: str
    media_type: str  # detected from the bytes, e.g. "application/pdf"
    text: str  # whole text, normalised; pages joined by blank lines
    pages: list[str]  # one string per page (PDF), or one for the whole document
    tables: list[Table]
    date: str | None = None  # ISO date (YYYY-MM-DD) of the document, if found
    number: str | None = None  # "2753/TTr-STP"
    meta: dict[str, Any] = field(default_factory=dict)  # kind, issuer, subject, ocr_pages, ...

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def published(self) -> str | None:
        return f"{self.date}T00:00:00{TZ}" if self.date else None


# ---------------------------------------------------------------------------
# Type detection (by content)

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|div|p|table|figure|h[1-6]|span|title|br)\b",
                         re.I | re.S)


def sniff(data: bytes, path: str | os.PathLike = "?") -> str:
    """The real type of ``data``: pdf, docx, xlsx, doc, xls, html, txt, rtf, png, jpeg, tiff.

    Raises :class:`ReportError` for empty, encrypted, damaged or unknown content.
    """
    if not data:
        raise ReportError(path, "empty file (0 bytes)")
    head = data[:2048]
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = set(z.namelist())
        except (zipfile.BadZipFile, EOFError, ValueError) as e:
            raise ReportError(path, f"damaged or truncated ZIP/Office file ({e})") from None
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        if any(n.startswith("ppt/") for n in names):
            raise ReportError(path, "PowerPoint presentation: not a report format we read")
        raise ReportError(path, "ZIP archive that is not a Word or Excel file (unpack it first)")
    if head.startswith(_OLE_MAGIC):
        return _sniff_ole(data, path)
    if head.startswith(b"{\\rtf"):
        return "rtf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    text = _decode_text(data)
    if text is None:
        raise ReportError(path, "unrecognised binary content (not PDF, Word, Excel, HTML or text)")
    if _HTML_START.match(text[:4096].encode("utf-8", "ignore")) or re.search(r"<(html|body|table|p)\b[^>]*>", text[:4096], re.I):
        return "html"
    return "txt"


def _sniff_ole(data: bytes, path: str | os.PathLike) -> str:
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception as e:  # olefile raises OSError and its own errors on damage
        raise ReportError(path, f"damaged or truncated OLE (old Office) file ({e})") from None
    try:
        streams = {"/".join(s) for s in ole.listdir()}
        if "EncryptedPackage" in streams or "EncryptionInfo" in streams:
            raise ReportError(path, "password-protected (encrypted) Office file: ask the unit for an unprotected copy")
        if "WordDocument" in streams:
            fib = ole.openstream("WordDocument").read(12)
            if len(fib) >= 12 and int.from_bytes(fib[10:12], "little") & 0x0100:
                raise ReportError(path, "password-protected (encrypted) Word document")
            return "doc"
        if "Workbook" in streams or "Book" in streams:
            return "xls"
        if "PowerPoint Document" in streams:
            raise ReportError(path, "PowerPoint presentation: not a report format we read")
        raise ReportError(path, "OLE file that is neither Word nor Excel")
    finally:
        ole.close()


def _decode_text(data: bytes) -> str | None:
    """Decode text bytes (UTF-8/UTF-16 with BOM, UTF-8, cp1258); None when it is binary."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in data[:8192]:
        return None
    for enc in ("utf-8-sig", "cp1258"):
        try:
            t = data.decode(enc)
        except UnicodeDecodeError:
            continue
        sample = t[:8192]
        bad = sum(1 for ch in sample if unicodedata.category(ch) in ("Cc", "Co", "Cn") and ch not in "\n\r\t\f")
        if sample and bad / len(sample) > 0.02:
            return None
        return t
    return None


# ---------------------------------------------------------------------------
# Readers: bytes -> (pages, tables, meta)

def _tool(name: str) -> str | None:
    return shutil.which(name)


def _run(cmd: list[str], path: str | os.PathLike, what: str, stdin: bytes | None = None,
         timeout: int = TOOL_TIMEOUT) -> bytes:
    env = dict(os.environ, OMP_THREAD_LIMIT=os.environ.get("OMP_THREAD_LIMIT", "1"))
    try:
        res = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise ReportError(path, f"{what} took more than {timeout} s") from None
    if res.returncode != 0:
        err = res.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ReportError(path, f"{what} failed: {err[-1] if err else 'exit ' + str(res.returncode)}")
    return res.stdout


_STAMP = re.compile(r"^\s*(Ký bởi|Email|Cơ quan|Thời gian ký|Giờ ký|Người ký|Ngày ký)\s*:", re.I | re.M)
# The watermark of an unlicensed PDF converter, whole or scattered over lines by the stamp beside it.
_WATERMARK = re.compile(r"Evaluation Only\.\s*(?:Created\s*)?|(?:with\s*)?Aspose\.Pdf\.\s*|"
                        r"Copyright 2002-2011 Aspose Pty Ltd\.\s*|(?<=Cơ quan:)with\b|^Created$", re.M)


def _letters_outside_stamps(page: str) -> int:
    return sum(ch.isalpha() for line in page.splitlines() if not _STAMP.match(line) for ch in line)


def _read_pdf(data: bytes, path: str, pages: Sequence[int] | None, ocr: str) -> tuple[list[str], list[Table], dict]:
    import pypdf

    start = data.find(b"%PDF-")
    meta: dict[str, Any] = {}
    if start > 0:
        meta["junk_before_header"] = start
        data = data[start:]
    if b"%%EOF" not in data[-2048:]:
        raise ReportError(path, "truncated PDF (no %%EOF end marker): the file was cut short")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception:  # unsupported algorithm, etc.
                ok = 0
            if not ok:
                raise ReportError(path, "password-protected PDF: ask the unit for an unprotected copy")
            meta["encrypted_owner_only"] = True
        n = len(reader.pages)
    except ReportError:
        raise
    except Exception as e:
        raise ReportError(path, f"damaged PDF ({type(e).__name__}: {e})") from None
    if n == 0:
        raise ReportError(path, "PDF with no pages")
    meta["page_count"] = n
    wanted = [p for p in (pages or range(1, n + 1)) if 1 <= p <= n]
    texts = _pdf_text_layer(data, reader, path, wanted, encrypted=bool(meta.get("encrypted_owner_only")))
    out, ocr_pages = [], []
    for p, t in zip(wanted, texts):
        t = _WATERMARK.sub("", t)
        scanned = _letters_outside_stamps(t) < MIN_TEXT_LETTERS
        if ocr == "always" or (ocr == "auto" and scanned):
            t = ocr_pdf_page(data, p, path)
            ocr_pages.append(p)
        elif scanned:
            meta.setdefault("unread_pages", []).append(p)
        out.append(t)
    meta["pages_read"] = wanted
    meta["ocr_pages"] = ocr_pages
    return out, [], meta


def _pdf_text_layer(data: bytes, reader: Any, path: str, wanted: list[int], encrypted: bool) -> list[str]:
    if _tool("pdftotext") and not encrypted:
        first, last = min(wanted), max(wanted)
        with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
            f.write(data)
            f.flush()
            raw = _run(["pdftotext", "-q", "-enc", "UTF-8", "-f", str(first), "-l", str(last), f.name, "-"],
                       path, "pdftotext").decode("utf-8", "replace")
        chunks = raw.split("\f")
        by_page = {first + i: chunks[i] if i < len(chunks) else "" for i in range(last - first + 1)}
        return [by_page[p] for p in wanted]
    out = []
    for p in wanted:
        try:
            out.append(reader.pages[p - 1].extract_text() or "")
        except Exception:
            out.append("")
    return out


def tesseract_available() -> bool:
    """True when ``tesseract`` with the Vietnamese data is installed."""
    if not _tool("tesseract"):
        return False
    try:
        res = subprocess.run(["tesseract", "--list-langs"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return OCR_LANG in res.stdout.decode("utf-8", "replace").split()


def ocr_image(image: bytes, path: str | os.PathLike = "?") -> str:
    """Text of one image (PNG/JPEG/TIFF bytes) by tesseract with Vietnamese."""
    if not tesseract_available():
        raise ReportError(path, "scanned page needs OCR but tesseract with Vietnamese data is not installed "
                                "(apt-get install tesseract-ocr tesseract-ocr-vie)")
    out = _run(["tesseract", "stdin", "stdout", "-l", OCR_LANG, "--psm", "3"], path, "OCR (tesseract)", stdin=image)
    return out.decode("utf-8", "replace")


def _scan_dpi(pdf_file: str, page: int) -> int:
    """Resolution of the largest image on a page (pdfimages -list), within the OCR bounds."""
    best, dpi = 0, OCR_DPI_MIN
    if _tool("pdfimages"):
        try:
            out = subprocess.run(["pdfimages", "-list", "-f", str(page), "-l", str(page), pdf_file],
                                 capture_output=True, timeout=60).stdout.decode("utf-8", "replace")
        except (OSError, subprocess.TimeoutExpired):
            out = ""
        for line in out.splitlines()[2:]:
            c = line.split()
            if len(c) >= 14 and c[2] == "image" and c[3].isdigit() and c[12].isdigit():
                area = int(c[3]) * int(c[4])
                if area > best:
                    best, dpi = area, int(c[12])
    return max(OCR_DPI_MIN, min(OCR_DPI_MAX, dpi))


def ocr_pdf_page(pdf: bytes, page: int, path: str | os.PathLike = "?", dpi: int | None = None) -> str:
    """OCR of one PDF page (1-based): rendered in grey by pdftoppm, read by tesseract."""
    if not _tool("pdftoppm"):
        raise ReportError(path, "scanned PDF needs pdftoppm (apt-get install poppler-utils)")
    start = pdf.find(b"%PDF-")
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf[max(start, 0):])
        f.flush()
        dpi = dpi or _scan_dpi(f.name, page)
        png = _run(["pdftoppm", "-q", "-r", str(dpi), "-gray", "-png", "-f", str(page), "-l", str(page), f.name],
                   path, f"rendering page {page} (pdftoppm)")
    if not png:
        return ""
    return ocr_image(png, path)


def _read_image(data: bytes, path: str, pages: Any, ocr: str) -> tuple[list[str], list[Table], dict]:
    if ocr == "never":
        return [""], [], {"ocr_pages": []}
    return [ocr_image(data, path)], [], {"ocr_pages": [1]}


def _docx_rows(tbl: Any) -> list[list[str]]:
    rows = []
    for r in tbl.rows:
        seen, cells = set(), []
        for c in r.cells:  # merged cells come back repeated: keep each once
            if id(c._tc) in seen:
                continue
            seen.add(id(c._tc))
            cells.append(c.text.strip())
        rows.append(cells)
    return rows


def _read_docx(data: bytes, path: str, pages: Any, ocr: str) -> tuple[list[str], list[Table], dict]:
    import docx
    from docx.table import Table as DocxTable
    from docx.text.paragraph import Paragraph

    try:
        d = docx.Document(io.BytesIO(data))
    except Exception as e:
        raise ReportError(path, f"damaged Word (.docx) file ({type(e).__name__}: {e})") from None
    lines: list[str] = []
    tables: list[Table] = []
    counters: dict[tuple[str, str], int] = {}
    body = d.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = Paragraph(child, d)
            num = _docx_numbering(para)
            text = para.text
            if num is not None and text.strip():  # Word's automatic numbering is not in the text: write it
                counters[num] = counters.get(num, 0) + 1
                for k in [k for k in counters if k[0] == num[0] and k[1] > num[1]]:
                    del counters[k]  # a deeper level restarts under a new parent item
                text = f"{counters[num]}. {text}"
            lines.append(text)
        elif tag == "tbl":
            rows = _docx_rows(DocxTable(child, d))
            tables.append(Table(f"table {len(tables) + 1}", rows, list(range(1, len(rows) + 1))))
            lines.extend(" | ".join(c for c in row if c) for row in rows)
    cp = d.core_properties
    meta = {"doc_title": cp.title or None, "author": cp.author or None}
    return ["\n".join(lines)], tables, meta


def _docx_numbering(para: Any) -> tuple[str, str] | None:
    """(numId, level) of an automatically numbered paragraph (its own or its style's numbering)."""
    candidates = [para._p.pPr]
    style = para.style
    while style is not None:
        candidates.append(style.element.pPr)
        style = style.base_style
    for pPr in candidates:
        if pPr is not None and pPr.numPr is not None and pPr.numPr.numId is not None:
            if pPr.numPr.numId.val == 0:  # numbering switched off
                return None
            ilvl = pPr.numPr.ilvl.val if pPr.numPr.ilvl is not None else 0
            return str(pPr.numPr.numId.val), f"{ilvl:02d}"
    return None


_ANTIWORD_TABLE = re.compile(r"^\s*\|.*\|\s*$")


def _read_doc(data: bytes, path: str, pages: Any, ocr: str) -> tuple[list[str], list[Table], dict]:
    text, tool = None, None
    errors = []
    with tempfile.NamedTemporaryFile(suffix=".doc") as f:
        f.write(data)
        f.flush()
        if _tool("antiword"):
            try:
                text = _run(["antiword", "-m", "UTF-8.txt", "-w", "0", f.name], path, "antiword").decode("utf-8", "replace")
                tool = "antiword"
            except ReportError as e:
                errors.append(e.reason)
        if (text is None or not text.strip()) and _tool("catdoc"):
            try:
                text = _run(["catdoc", "-d", "utf-8", "-w", f.name], path, "catdoc").decode("utf-8", "replace")
                tool = "catdoc"
            except ReportError as e:
                errors.append(e.reason)
    if text is None:
        if not (_tool("antiword") or _tool("catdoc")):
            raise ReportError(path, "old Word (.doc) needs antiword or catdoc (apt-get install antiword catdoc)")
        raise ReportError(path, "cannot read old Word (.doc) file: " + "; ".join(errors))
    # antiword draws tables as |cell|cell| lines; keep them as rows too.
    tables: list[Table] = []
    cur: list[list[str]] = []
    for line in text.splitlines() + [""]:
        if _ANTIWORD_TABLE.match(line):
            cur.append([c.strip() for c in line.strip().strip("|").split("|")])
        elif cur:
            rows = _merge_wrapped_rows(cur)
            tables.append(Table(f"table {len(tables) + 1}", rows, list(range(1, len(rows) + 1))))
            cur = []
    return [text], tables, {"reader": tool}


def _merge_wrapped_rows(rows: list[list[str]]) -> list[list[str]]:
    """antiword wraps a long cell over several |..| lines: join a line whose first cell is empty
    into the row above (a new row starts with a non-empty first cell)."""
    out: list[list[str]] = []
    for r in rows:
        if set("".join(r)) <= set("-= "):
            continue
        if out and r and not r[0] and len(r) == len(out[-1]):
            out[-1] = [(a + " " + b).strip() for a, b in zip(out[-1], r)]
        else:
            out.append(list(r))
    return out


def _cell_str(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat()
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v).strip()


def _sheet_table(name: str, rows: Iterable[tuple[int, list[str]]]) -> tuple[Table, list[str]]:
    kept, numbers, lines = [], [], []
    for n, cells in rows:
        while cells and not cells[-1]:
            cells.pop()
        if not any(cells):
            continue
        kept.append(cells)
        numbers.append(n)
        lines.append(" | ".join(c for c in cells if c))
    return Table(name, kept, numbers, row_sep="!row "), lines


def _read_xlsx(data: bytes, path: str, pages: Any, ocr: str) -> tuple[list[str], list[Table], dict]:
    import warnings

    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Data Validation extension is not supported"
        return _read_xlsx_wb(openpyxl, data, path)


def _read_xlsx_wb(openpyxl: Any, data: bytes, path: str) -> tuple[list[str], list[Table], dict]:
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:
        raise ReportError(path, f"damaged Excel (.xlsx) file ({type(e).__name__}: {e})") from None
    tables, texts = [], []
    try:
        for ws in wb.worksheets:
            rows = ((i, [_cell_str(v) for v in row])
                    for i, row in enumerate(itertools.islice(ws.iter_rows(values_only=True), MAX_SHEET_ROWS), 1))
            t, lines = _sheet_table(ws.title, rows)
            tables.append(t)
            texts.append(f"[{ws.title}]\n" + "\n".join(lines))
    except Exception as e:
        raise ReportError(path, f"damaged Excel (.xlsx) sheet ({type(e).__name__}: {e})") from None
    finally:
        wb.close()
    return ["\n\n".join(texts)], tables, {"sheets": [t.where for t in tables]}


def _read_xls(data: bytes, path: str, pages: Any, ocr: str) -> tuple[list[str], list[Table], dict]:
    import xlrd

    try:
        wb = xlrd.open_workbook(file_contents=data)
    except xlrd.biffh.XLRDError as e:
        if "encrypt" in str(e).lower():
            raise ReportError(path, "password-protected (encrypted) Excel workbook") from None
        raise ReportError(path, f"damaged Excel (.xls) file ({e})") from None
    except Exception as e:
        raise ReportError(path, f"damaged Excel (.xls) file ({type(e).__name__}: {e})") from None
    tables, texts = [], []
    for sh in wb.sheets():
        def cells(r: int) -> list[str]:
            out = []
            for c in sh.row(r):
                if c.ctype == xlrd.XL_CELL_DATE:
                    try:
                        out.append(_cell_str(xlrd.xldate.xldate_as_datetime(c.value, wb.datemode)))
                        continue
                    except Exception:
                        pass
                out.append(_cell_str(c.value))
            return out
        t, lines = _sheet_table(sh.name, ((r + 1, cells(r)) for r in range(min(sh.nrows, MAX_SHEET_ROWS))))
        tables.append(t)
        texts.append(f"[{sh.name}]\n" + "\n".join(lines))
    return ["\n\n".join(texts)], tables, {"sheets": [t.where for t in tables]}


_BLOCK_TAGS = ("p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "table", "figure",
               "section", "article", "blockquote", "pre", "title")


def _read_html(data: bytes, path: str, pages: Any, ocr: str) -> tuple[list[str], list[Table], dict]:
    from bs4 import BeautifulSoup

    text = _decode_html(data)
    soup = BeautifulSoup(text, "lxml")
    for t in soup(["script", "style", "noscript", "template"]):
        t.decompose()
    tables = []
    for tbl in soup.find_all("table"):
        rows = [[c.get_text(" ", strip=True) for c in tr.find_all(["td", "th"])] for tr in tbl.find_all("tr")]
        rows = [r for r in rows if any(r)]
        if rows:
            tables.append(Table(f"table {len(tables) + 1}", rows, list(range(1, len(rows) + 1))))
    for cell in soup.find_all(["td", "th"]):
        cell.append(" | ")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.append("\n")
        if tag.name in ("br",):
            tag.insert_before("\n")
    body = soup.get_text()
    body = "\n".join(re.sub(r"(\s*\|\s*)+$", "", line) for line in body.splitlines())
    title = soup.title.get_text(strip=True) if soup.title else None
    return [body], tables, {"html_title": title}


def _decode_html(data: bytes) -> str:
    m = re.search(rb"<meta[^>]+charset=[\"']?([\w-]+)", data[:4096], re.I)
    if m:
        try:
            return data.decode(m.group(1).decode("ascii"), "replace")
        except LookupError:
            pass
    return _decode_text(data) or data.decode("utf-8", "replace")


def _read_txt(data: bytes, path: str, pages: Any, ocr: str) -> tuple[list[str], list[Table], dict]:
    text = _decode_text(data)
    if text is None:
        raise ReportError(path, "text file in an unknown encoding")
    return text.split("\f"), [], {}


_RTF_DEST = re.compile(r"\{\\\*[^{}]*\}|\{\\(?:fonttbl|colortbl|stylesheet|info|pict|header|footer)[^{}]*(?:\{[^{}]*\}[^{}]*)*\}")


def _read_rtf(data: bytes, path: str, pages: Any, ocr: str) -> tuple[list[str], list[Table], dict]:
    """A small RTF reader: control words dropped, \\uN and \\'xx decoded, \\par as new line."""
    s = data.decode("latin-1")
    s = _RTF_DEST.sub("", s)
    s = re.sub(r"\\u(-?\d+)\s?(?:\\'[0-9a-f]{2}|\?)?", lambda m: chr(int(m.group(1)) % 65536), s)
    s = re.sub(r"\\'([0-9a-f]{2})", lambda m: bytes([int(m.group(1), 16)]).decode("cp1258", "replace"), s)
    s = re.sub(r"\\(?:par|line|row)\b ?", "\n", s)
    s = re.sub(r"\\cell\b ?", " | ", s)
    s = re.sub(r"\\[a-zA-Z]+-?\d* ?", "", s)
    s = s.replace("\\{", "{").replace("\\}", "}").replace("\\\\", "\\")
    s = s.replace("{", "").replace("}", "")
    return [s], [], {}


READERS = {
    "pdf": _read_pdf, "docx": _read_docx, "doc": _read_doc, "xlsx": _read_xlsx, "xls": _read_xls,
    "html": _read_html, "txt": _read_txt, "rtf": _read_rtf,
    "png": _read_image, "jpeg": _read_image, "tiff": _read_image,
}


def read_document(path: str | os.PathLike, *, pages: Sequence[int] | None = None, ocr: str = "auto",
                  max_bytes: int = MAX_BYTES, data: bytes | None = None) -> Document:
    """Read one report file into a :class:`Document`.

    ``pages``: only these PDF pages (1-based), e.g. to preview or test.
    ``ocr``: ``"auto"`` (scanned pages only), ``"always"`` or ``"never"``.
    ``data``: the file's bytes when already read (``path`` then only names it).
    Raises :class:`ReportError` naming the file and the reason on bad input.
    """
    p = Path(path)
    if data is None:
        if not p.exists():
            raise ReportError(p, "file not found")
        if not p.is_file():
            raise ReportError(p, "not a regular file")
        size = p.stat().st_size
        if size == 0:
            raise ReportError(p, "empty file (0 bytes)")
        if size > max_bytes:
            raise ReportError(p, f"file too large ({size / 2**20:.1f} MB > limit {max_bytes / 2**20:.0f} MB)")
        try:
            data = p.read_bytes()
        except OSError as e:
            raise ReportError(p, f"cannot read file ({e.strerror or e})") from None
    elif len(data) > max_bytes:
        raise ReportError(p, f"file too large ({len(data) / 2**20:.1f} MB > limit {max_bytes / 2**20:.0f} MB)")
    from .store import sha256

    kind = sniff(data, p)
    raw_pages, tables, meta = READERS[kind](data, str(p), pages, ocr)
    pages_n = [_clean(t) for t in raw_pages]
    text = "\n\n".join(t for t in pages_n if t)
    ext = p.suffix.lower().lstrip(".")
    meta["detected"] = kind
    if ext and ext != kind and not (ext, kind) in (("htm", "html"), ("jpg", "jpeg"), ("tif", "tiff"), ("text", "txt")):
        meta["extension_mismatch"] = f".{ext} file is really {kind}"
    if not text.strip() and not any(t.rows for t in tables):
        if kind == "pdf" and ocr == "never":
            raise ReportError(p, "no text layer (scanned PDF) and OCR is off")
        raise ReportError(p, "no text found in the document (blank or unreadable)")
    doc = Document(path=str(p), sha256=sha256(data), media_type=MEDIA_TYPES[kind], text=text,
                   pages=pages_n, tables=tables, meta=meta)
    _describe(doc)
    return doc


def _clean(t: str) -> str:
    t = normalize(t)
    # OCR and antiword draw table borders with '|'; a line that is only borders goes.
    lines = [ln for ln in t.split("\n") if not re.fullmatch(r"[|\-=_+ ]+", ln)]
    return "\n".join(lines).strip()


# ---------------------------------------------------------------------------
# What the document is: kind, number, date, issuer, subject

DOC_KINDS = ["TỜ TRÌNH", "BIÊN BẢN", "QUYẾT ĐỊNH", "BÁO CÁO THÀNH TÍCH", "BÁO CÁO", "DANH SÁCH", "CÔNG VĂN",
             "KẾ HOẠCH", "THÔNG BÁO", "HƯỚNG DẪN", "THÔNG TƯ", "NGHỊ ĐỊNH", "LUẬT", "BẢNG TỔNG HỢP", "PHÂN CÔNG",
             "GIẤY KHEN", "BẰNG KHEN"]
_KINDS_FOLDED = [(strip_diacritics(k).upper(), k) for k in DOC_KINDS]


def _kind_of_line(line: str) -> str | None:
    """The document kind a heading line starts with, tolerant of OCR tone errors ("QUYÉT ĐỊNH")."""
    f = re.sub(r"^[\W\d_]+", "", strip_diacritics(line).upper())
    for folded, k in _KINDS_FOLDED:
        if f.startswith(folded) and (len(f) == len(folded) or not f[len(folded)].isalpha()):
            return k
    return None


def _doc_kind(text: str) -> tuple[str | None, str | None]:
    for line in text.split("\n")[:40]:
        line = re.sub(r"^[\W\d_]+", "", line).strip()  # OCR specks before a heading (": BIÊN BẢN")
        if len(line) < 120 and line[:1].isupper():
            k = _kind_of_line(line)
            if k and (line.isupper() or len(line) <= len(k) + 2 or k in ("DANH SÁCH", "BẢNG TỔNG HỢP")):
                return k, line
    return None, None
_NUMBER_RE = re.compile(r"\b(?:Số|Luật số|Số hiệu)\s*[:.]?\s*([\w⁄]{0,8}\s*/\s*(?:\d{4}\s*/\s*)?[A-ZĐ][\wĐđ]*(?:\s*[-–]\s*[A-ZĐ][\wĐđ]*)*)")
_DATE_RE = re.compile(r"ngày\s*(\d{1,2})\s*tháng\s*(\d{1,2})\s*năm\s*(\d{4})", re.I)
_CAP_WORD = UPPER + LOWER + "+"  # "Hà", "Nội": not "tại" nor "ở" (lower-case) nor "TRỊ" (all capitals)
_PLACE_DATE_RE = re.compile(rf"({_CAP_WORD}(?:[ \t]+{_CAP_WORD}){{0,3}})[ \t]*,[ \t]*ngày\s*(\d{{1,2}})\s*tháng\s*(\d{{1,2}})\s*năm\s*(\d{{4}})")
_MOTTO = re.compile(r"C[ỘO]NG\s*H(?:OÀ|ÒA|OA)\s*XÃ\s*HỘI\s*CHỦ\s*NGHĨA\s*VIỆT\s*NAM|Độc\s*lập\s*-\s*Tự\s*do\s*-\s*Hạnh\s*phúc|[-–_]{3,}",
                    re.I)
_SUBJECT_RE = re.compile(r"^\s*(V/v|Về việc|Về|Vv)\b\.?\s*(.+)$", re.M)
_SIGNED_RE = re.compile(r"(?:Giờ ký|Thời gian ký)\s*:\s*(\d{1,2})[/.](\d{1,2})[/.](\d{4})")


def _iso(d: str, m: str, y: str) -> str | None:
    try:
        return dt.date(int(y), int(m), int(d)).isoformat()
    except ValueError:
        return None


def _describe(doc: Document) -> None:
    """Fill doc.number, doc.date and meta kind/issuer/place/subject/signed from the text."""
    t = doc.text
    head = t[:3000]
    kind, heading = _doc_kind(t)
    doc.meta["kind"], doc.meta["heading"] = kind, heading
    m = _NUMBER_RE.search(head)
    if not m:  # "Số: 2566" (a number without the office code)
        m = re.search(r"^\W*Số\s*:\s*(\d{1,6})\b", head, re.M)
    doc.number = re.sub(r"\s+", "", m.group(1)) if m else None
    date = place = None
    m = _PLACE_DATE_RE.search(head)
    if m:
        date = _iso(m.group(2), m.group(3), m.group(4))
        place = m.group(1).strip()
        if place.lower().startswith(("thành phố ", "tp")) or len(place) > 40:
            pass
    if not date:
        m = _DATE_RE.search(head)
        if m:
            date = _iso(*m.groups())
    if not date and kind == "BIÊN BẢN":  # minutes: "Vào lúc 14h00 ngày 26/9/2022"
        m = re.search(r"ngày\s*(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})", head)
        if m:
            date = _iso(*m.groups())
    m = _SIGNED_RE.search(t)
    if m:
        doc.meta["signed"] = _iso(*m.groups())
    doc.meta["date_source"] = "text" if date else ("signature" if doc.meta.get("signed") else None)
    doc.date = date or doc.meta.get("signed")
    doc.meta["place"] = place
    doc.meta["issuer"] = None if doc.media_type in (MEDIA_TYPES["xlsx"], MEDIA_TYPES["xls"]) else _issuer(t)
    m = _SUBJECT_RE.search(t[:4000])
    subject = None
    if m:
        subject = m.group(2).strip()
        nxt = t[m.end():].lstrip(" ").split("\n", 2)
        if len(nxt) > 1 and nxt[1][:1].islower() or len(nxt) > 1 and re.match(r"\d+ năm", nxt[1]):
            subject += " " + nxt[1].strip()
    doc.meta["subject"] = subject


def _issuer(text: str) -> str | None:
    """The sending unit from the letterhead (the block left of the national motto)."""
    parts: list[str] = []
    for line in text.split("\n")[:12]:
        if _STAMP.match(line) or not line.strip():
            continue
        if re.match(r"^\s*(Số|Luật số)\b", line) or _DATE_RE.search(line) or _kind_of_line(line):
            break
        for piece in re.split(r"\s*\|\s*|\s{3,}|\t", _MOTTO.sub("\t", line)):
            piece = piece.strip(" -–_.:|")
            letters = [c for c in piece if c.isalpha()]
            if len(letters) >= 3 and sum(c.isupper() for c in letters) / len(letters) > 0.8:
                parts.append(piece)
    return " – ".join(dict.fromkeys(parts)) or None


# ---------------------------------------------------------------------------
# Records: one per exemplar

def _fold(s: str) -> str:
    return re.sub(r"\s+", " ", strip_diacritics(normalize(s)).lower()).strip()


# Column header -> role; first matching rule wins (order matters).
_HEADER_RULES: list[tuple[str, str]] = [
    (r"^(stt|so tt|tt|s?so tt)$", "seq"),
    (r"tong so|so luong|^sl\b|ty le|^so\b", "count"),
    (r"ten goi", "honorific"),
    (r"lua chon phan loai khen thuong|^phan loai khen thuong|loai khen thuong", "kind"),
    (r"phan loai (doi tuong|can bo|tap the)|ma phan loai", "category"),
    (r"don vi cong nhan", "recognizer"),
    (r"chuc vu.*don vi|chuc danh.*don vi|chuc vu.*co quan", "position_unit"),
    (r"ngay cong nhan", "recognized"),
    (r"phong ban|khoi, to", "department"),
    (r"(don vi|tap the|co quan).*(cong tac|lam viec)|^don vi$|^co quan", "unit"),
    (r"ho va ten|ho ten|ten tap the|ten don vi|ten ca nhan|tap the, ca nhan|ten tac gia|^ten$|doi tuong de nghi", "name"),
    (r"ten de tai|ten sang kien", "deed_title"),
    (r"chuc vu|chuc danh", "position"),
    (r"dia chi|noi o|que quan", "place"),
    (r"hinh thuc khen thuong|hinh thuc khe|hinh thuc de nghi", "form"),
    (r"danh hieu", "title_award"),
    (r"linh vuc", "sector"),
    (r"thanh tich|noi dung|tom tat", "achievement"),
    (r"gioi tinh", "gender"),
    (r"ngay sinh|nam sinh", "birth"),
    (r"ghi chu", "note"),
]

_KIND_WORDS = {
    "canhan": "person", "ca nhan": "person", "khen thuong ca nhan": "person",
    "tapthe": "collective", "tap the": "collective", "khen thuong tap the": "collective",
    "hogiadinh": "household", "ho gia dinh": "household", "khen thuong ho gia dinh": "household",
}
_NA = {"#n/a", "#ref!", "#value!", "#name?", "n/a", "-", "—"}


def _role(header: str) -> str | None:
    h = _fold(header)
    for pat, role in _HEADER_RULES:
        if re.search(pat, h):
            return role
    return None


def _header(rows: list[list[str]], limit: int = 12) -> tuple[int, dict[str, list[int]]] | None:
    """Index of the header row and its role -> column indexes, if a row names a 'name' column."""
    for i, row in enumerate(rows[:limit]):
        roles: dict[str, list[int]] = {}
        for j, cell in enumerate(row):
            if cell and len(cell) < 120:
                r = _role(cell)
                if r:
                    roles.setdefault(r, []).append(j)
        if ("name" in roles or "deed_title" in roles) and len(roles) >= 2:
            return i, roles
    return None


def _catalog(tables: list[Table], skip: set[int]) -> dict[str, str]:
    """Code -> label from the catalogue sheets (DANHMUC, HTKT, PLDT...): a long number beside a label."""
    out: dict[str, str] = {}
    for k, t in enumerate(tables):
        if k in skip:
            continue
        for row in t.rows:
            for j, c in enumerate(row):
                if re.fullmatch(r"\d{4,}", c):
                    for nb in (j + 1, j - 1):
                        if 0 <= nb < len(row) and re.search(r"[^\W\d_]{2}", row[nb]):
                            out.setdefault(c, row[nb])
                            break
    return out


_GUIDE_SHEET = re.compile(r"^(huong dan|guide|danh muc|danhmuc|htkt|pldt|lvhd|phan loai)", re.I)
# "I. Tập thể", "II | Cá nhân", and OCR's "IH. Cá nhân", "I. Tập thế": matched without diacritics.
_GROUP = re.compile(r"^(?:[ivxlh1]{1,4}|[a-d]|\d{1,2})?\s*[.)|:/-]?\s*(tap ?the|ca ?nhan|ho gia dinh)\b(.{0,30})$")


def _group_kind(s: str) -> str | None:
    m = _GROUP.match(_fold(s))
    if not m:
        return None
    rest = s[len(s) - len(m.group(2)):] if m.group(2) else ""
    if re.search(r"\d|" + UPPER, rest.replace("[", "").split("[")[0]) and not rest.strip().startswith("["):
        return None  # "Tập thể Phòng X" is an entry, not a heading
    w = m.group(1).replace(" ", "")
    return {"tapthe": "collective", "canhan": "person", "hogiadinh": "household"}[w]


def _kind_value(v: str) -> str | None:
    f = _fold(v)
    if f in _KIND_WORDS:
        return _KIND_WORDS[f]
    for k, kind in _KIND_WORDS.items():
        if k in f.replace(" ", "") or k in f:
            return kind
    return None


def split_records(doc: Document) -> list[dict[str, Any]]:
    """One record per exemplar the document lists, or one for the whole document.

    Lists are found in tables (spreadsheet sheets, Word/HTML/antiword tables)
    whose header row names a name column, else in numbered entries under a
    "Tập thể" / "Cá nhân" / "DANH SÁCH" heading or a "..., gồm:" line (legal
    and planning texts excluded). A record: ``location`` ("page 2 line 10",
    "DANHSACH!row 7", "table 1 row 3", "line 18", or "document"), ``name``,
    ``honorific`` (Ông, Bà, Đại tá...), ``position``, ``unit``, ``place``,
    ``form`` (award proposed, catalogue codes resolved), ``kind`` ("person",
    "collective" — households too, with ``household`` True — or "document"),
    ``text`` (the achievement: the row's own column, else the entry and the
    document's stated ground), ``title`` (a readable headline), ``outlet``
    (the sending unit from the letterhead), ``published`` (ISO, +07:00) and
    ``fields`` (the row's columns by header).
    """
    recs = _table_records(doc)
    if not recs:
        recs = _text_list_records(doc)
    if not recs:
        recs = [_document_record(doc)]
    seen: dict[str, int] = {}
    for r in recs:  # locations must be unique within a file (they make the uid)
        n = seen.get(r["location"], 0)
        seen[r["location"]] = n + 1
        if n:
            r["location"] += f" #{n + 1}"
    return recs


def _reason(doc: Document) -> str:
    """The document's stated ground for commendation (subject, or the 'thành tích' sentence)."""
    subj = doc.meta.get("subject") or ""
    for line in doc.text.split("\n"):
        if re.search(r"(đã có|vì có|vì đã có|có) thành tích", line, re.I) and len(line) < 400:
            return line.strip()
    return subj


def _prefix(doc: Document) -> str:
    k = (doc.meta.get("kind") or "").upper()
    if k == "QUYẾT ĐỊNH":
        return "Quyết định khen thưởng"
    if k == "BIÊN BẢN":
        return "Xét khen thưởng"
    return "Đề nghị khen thưởng"


def _headline(prefix: str, name: str, unit: str, position: str = "") -> str:
    who = name or "(chưa ghi tên)"
    tail = ", ".join(x for x in (position, unit) if x and x not in who)
    return f"{prefix}: {who}" + (f" – {tail}" if tail else "")


def _record(doc: Document, location: str, *, name: str, position: str = "", unit: str = "", place: str = "",
            form: str = "", kind: str = "", honorific: str = "", text: str = "", fields: dict | None = None,
            prefix: str | None = None) -> dict[str, Any]:
    place = place or _place_of(unit) or _place_of(name) or ""
    household = kind == "household"
    kind = "collective" if household else kind
    return {
        "location": location, "name": name, "position": position, "unit": unit, "place": place,
        "form": form, "kind": kind or "person", "honorific": honorific, "text": text,
        "title": _headline(prefix or _prefix(doc), f"{honorific} {name}".strip() if kind == "person" else name,
                           unit, position),
        "outlet": doc.meta.get("issuer"), "published": doc.published, "fields": fields or {},
        "household": household,
    }


def _table_records(doc: Document) -> list[dict[str, Any]]:
    found: list[tuple[int, int, dict[str, list[int]]]] = []
    for k, t in enumerate(doc.tables):
        if _GUIDE_SHEET.match(_fold(t.where)):
            continue
        h = _header(t.rows)
        if h:
            found.append((k, h[0], h[1]))
    if not found:
        return []
    catalog = _catalog(doc.tables, {k for k, _, _ in found})
    reason = _reason(doc)
    out = []
    for k, hi, roles in found:
        t = doc.tables[k]
        headers = t.rows[hi]
        title_text = _fold(" ".join(" ".join(r) for r in t.rows[:hi]))
        default_kind = ("collective" if "tap the" in title_text and "ca nhan" not in title_text else
                        "person" if ("doi tuong" in title_text or "de tai" in title_text or "ca nhan" in title_text
                                     or any(re.search("ho va ten|ho ten", _fold(headers[j])) for j in roles.get("name", [])))
                        else "")
        group_kind = ""
        for i in range(hi + 1, len(t.rows)):
            row = t.rows[i]

            def get(role: str) -> str:
                for j in roles.get(role, []):
                    v = row[j].strip() if j < len(row) else ""
                    if v and v.lower() not in _NA:
                        return catalog.get(v, v)
                return ""
            values = [c for c in row if c and c.lower() not in _NA]
            if not values or all(re.fullmatch(r"\(?\d{1,3}\)?", c) for c in values):
                continue  # empty, formula errors, or the column-number row
            name, deed_title = get("name"), get("deed_title")
            gk = _group_kind(name or values[0]) if len(values) <= 2 else None
            if gk:
                group_kind = gk
                continue
            if not name and not deed_title:
                continue
            kind = _kind_value(get("kind")) or group_kind or default_kind
            honorific = get("honorific")
            position, unit = get("position"), get("unit")
            pu = get("position_unit")
            if pu and not position and not unit:  # "Chức vụ, đơn vị công tác": "Giáo viên Trường THCS X"
                split = parse_item(f"Nguyễn Văn A, {pu}", "person")
                position, unit = split["position"], split["unit"]
            if name and not position and not unit:  # "Ông X, Phó Giám đốc Sở Y" in one cell
                item = parse_item(name, kind)
                name, honorific = item["name"], honorific or item["honorific"]
                position, unit, kind = item["position"], item["unit"], kind or item["kind"]
            elif name and not honorific:
                honorific, name = _split_honorific(name)
            dept = get("department")
            if dept and unit and dept not in unit:
                unit_full = f"{dept}, {unit}"
            else:
                unit_full = unit or dept
            form = "; ".join(dict.fromkeys(x for x in (get("form"), get("title_award")) if x))
            fields = {headers[j].replace("\n", " ").strip() or f"col{j + 1}": catalog.get(row[j], row[j])
                      for j in range(min(len(row), len(headers))) if row[j] and row[j].lower() not in _NA}
            achievement = get("achievement")
            line = " – ".join(x for x in (f"{honorific} {name}".strip(), position, unit_full, form) if x)
            if deed_title:
                line = f"{deed_title}" + (f" ({line})" if line else "")
            text = ". ".join(x.rstrip(".") for x in (line, achievement, reason if not achievement else "") if x) + "."
            out.append(_record(doc, t.location(i), name=name or "", position=position, unit=unit_full,
                               place=get("place"), form=form, kind=kind or "person", honorific=honorific,
                               text=text, fields=fields,
                               prefix="Sáng kiến" if deed_title and not form else None))
            if deed_title and not name:
                out[-1]["title"] = f"Sáng kiến: {deed_title}"
    return out


_HONORIFIC = re.compile(
    r"^(Ông|Bà|Anh|Chị|Em|Cháu|Cô|Thầy|Đồng chí|Đ/c|đ/c|Đc|"
    r"(?:Đại|Thượng|Trung|Thiếu)\s+(?:tướng|tá|úy|uý)|Binh\s+(?:nhất|nhì)|(?:Hạ|Trung|Thượng)\s+sĩ|"
    r"Bác sĩ|BS\.?|Thạc sĩ|ThS\.?|Tiến sĩ|TS\.?|PGS\.?\s*TS\.?|GS\.?\s*TS\.?|Nhà giáo|Nghệ nhân|Nghệ sĩ|NSƯT|NSND)"
    r"\s+(?=" + UPPER + ")")
_NAME_WORD = r"[A-ZĐÀÁẢÃẠĂẮẰẲẴẶÂẤẦẨẪẬÈÉẺẼẸÊẾỀỂỄỆÌÍỈĨỊÒÓỎÕỌÔỐỒỔỖỘƠỚỜỞỠỢÙÚỦŨỤƯỨỪỬỮỰỲÝỶỸỴ][a-zà-ỹđ]*"
_NAME = re.compile(rf"^({_NAME_WORD}(?:\s+{_NAME_WORD}){{1,5}})")
_UNIT_START = re.compile(
    r"\b(Sở|Phòng|UBND|Ủy ban|Uỷ ban|Trường|Bệnh viện|Công an|Bộ|Tỉnh đoàn|Thành đoàn|Đoàn|Hội|Công ty|Tổng công ty|"
    r"Ban|Trung tâm|Cục|Chi cục|Viện|Đài|Báo|Huyện|Quận|Xã|Phường|Thị xã|Thành phố|Tỉnh|Hợp tác xã|HTX|Khoa|Tổ|"
    r"Văn phòng|Liên đoàn|Mặt trận|Huyện ủy|Tỉnh ủy|Đảng ủy|Trạm|Đội|Tiểu đoàn|Trung đoàn|Sư đoàn|Lữ đoàn|"
    r"Bộ Chỉ huy|Bộ đội|Kho bạc|Chi nhánh|Ngân hàng|Tòa án|Viện kiểm sát|Thanh tra|Học viện|Đại học|Cao đẳng|"
    r"Nhà máy|Xí nghiệp|Doanh nghiệp|Cơ quan|Lớp|Thôn|Bản|Ấp|Khu phố|Tổ dân phố|Câu lạc bộ|CLB|Tập đoàn|Quỹ)\b")
_POSITION = re.compile(
    r"(?:Phó\s+)?(?:Tổ trưởng|Tổ phó|Trưởng (?:ban|phòng|khoa|thôn|bản|ấp|trạm|đồn|công an|khu phố)|Giám đốc|"
    r"Chủ tịch|Bí thư|Hiệu trưởng|Chánh (?:văn phòng|án|thanh tra)|Chính ủy|Chỉ huy trưởng|Đội trưởng|"
    r"Giáo viên|Bác sĩ|Điều dưỡng|Kế toán|Chuyên viên|Nhân viên|Cán bộ|Công nhân|Kỹ sư|Chiến sĩ|Học sinh|"
    r"Sinh viên|Thư ký|Ủy viên|Hội viên|Đoàn viên|Đảng viên)\b", re.I)
_ADMIN = re.compile(r"\b(tỉnh|thành phố|TP\.?|huyện|quận|thị xã|thị trấn|xã|phường)\s+(" + _NAME_WORD +
                    r"(?:\s+" + _NAME_WORD + r"){0,3})")


def _place_of(s: str) -> str | None:
    ms = list(_ADMIN.finditer(s or ""))
    if not ms:
        return None
    m = ms[-1]
    return f"{m.group(1)} {m.group(2)}"


def _split_honorific(s: str) -> tuple[str, str]:
    m = _HONORIFIC.match(s.strip())
    if m:
        return m.group(1), s.strip()[m.end():].strip()
    return "", s.strip()


def parse_item(item: str, kind: str = "") -> dict[str, str]:
    """Split one list entry into honorific, name, position, unit and kind.

    ``"Ông Trương Quang Sáng, Phó Giám đốc Sở Tư pháp tỉnh Quảng Bình"`` →
    honorific "Ông", name "Trương Quang Sáng", position "Phó Giám đốc",
    unit "Sở Tư pháp tỉnh Quảng Bình", kind "person".
    """
    s = re.sub(r"\s*\|\s*", " ", item).strip().rstrip(";.,:/ ").strip()
    # OCR splits a syllable before its final consonant: "Ông Đặn g Đại Bàng"
    s = re.sub(rf"(?<=\b{UPPER}{LOWER})({LOWER}*) ([cghmnpt]{{1,2}})\b(?= {UPPER})", r"\1\2", s)
    s = re.sub(r"\.\s*/?\s*$", "", s)
    honorific, rest = _split_honorific(s)
    if kind in ("collective", "household") or (not honorific and kind != "person" and (
            _COLLECTIVE_START.match(rest) or not _NAME.match(rest))):
        return {"honorific": "", "name": s, "position": "", "unit": "", "kind": kind or "collective"}
    m = _NAME.match(rest)
    if not m:
        return {"honorific": honorific, "name": rest, "position": "", "unit": "", "kind": "person"}
    name = m.group(1)
    # the name stops at a position or unit word ("Nguyễn Văn A Giám đốc..." without comma)
    words = name.split()
    for i in range(2, len(words)):
        if _UNIT_START.match(" ".join(words[i:])) or re.match(r"(Phó|Trưởng|Giám|Chủ|Bí|Chánh|Chính|Hiệu|Giáo|Kế|Chuyên)\b", words[i]):
            words = words[:i]
            break
    name = " ".join(words)
    tail = rest[len(name):].strip(" ,-–:;()")
    mp = _POSITION.match(tail)  # "Tổ trưởng Tổ dân phố 5": the position may start like a unit
    m = _UNIT_START.search(tail, mp.end() if mp else 0)
    if m and m.start() > 0:
        position, unit = tail[:m.start()].strip(" ,-–"), tail[m.start():].strip()
    elif m:
        position, unit = "", tail
    elif "," in tail:  # "Trưởng thôn Đông, xã Quảng Hải"
        position, unit = (x.strip() for x in tail.split(",", 1))
    else:
        position, unit = tail, ""
    return {"honorific": honorific, "name": name, "position": position, "unit": unit, "kind": "person"}


_ITEM = re.compile(r"^\s*\|?\s*(\d{1,3})\s*[.)]\s*\|?\s*(.*)$")
_LIST_INTRO = re.compile(r"(tập thể|cá nhân|hộ gia đình).*(gồm|sau)\s*:?\s*$", re.I)


# Normative and planning texts: their numbered clauses are rules, not nominees.
_NO_LIST_KINDS = {"LUẬT", "NGHỊ ĐỊNH", "THÔNG TƯ", "HƯỚNG DẪN", "KẾ HOẠCH", "PHÂN CÔNG", "CÔNG VĂN", "THÔNG BÁO"}
_COLLECTIVE_START = re.compile(_UNIT_START.pattern.replace(r"\b(Sở|", r"^(Khối|Gia đình|Sở|"))


def _plausible(item: dict[str, str]) -> bool:
    name = item["name"]
    if not name or len(name) > 160 or not name[:1].isupper():
        return False
    if item["kind"] == "person":
        return bool(item["honorific"]) or bool(_NAME.match(name)) and len(name.split()) <= 6
    return bool(_COLLECTIVE_START.match(name)) or bool(re.match(r"^[A-ZĐ]{2,}\b", name))


def _text_list_records(doc: Document) -> list[dict[str, Any]]:
    """Numbered entries under a 'Tập thể' / 'Cá nhân' / 'DANH SÁCH' heading, or after
    '... cho 05 tập thể ..., gồm:'. A list may run on over a page break."""
    if doc.meta.get("kind") in _NO_LIST_KINDS:
        return []
    out: list[dict[str, Any]] = []
    reason = _reason(doc)
    paginated = len(doc.pages) > 1 or doc.media_type == MEDIA_TYPES["pdf"]
    kind: str | None = None
    active = False
    cur: dict[str, Any] | None = None

    def flush() -> None:
        nonlocal cur
        if cur is None:
            return
        item = parse_item(cur["text"], kind or "")
        if _plausible(item):
            text = f"{cur['text'].rstrip(' ;.')}. {reason}".strip()
            out.append(_record(doc, cur["loc"], name=item["name"], position=item["position"], unit=item["unit"],
                               kind=item["kind"], honorific=item["honorific"], text=text))
        cur = None

    for pno, page in enumerate(doc.pages, 1):
        for ln_no, line in enumerate(page.split("\n"), 1):
            s = line.strip()
            if not s or sum(ch.isalpha() for ch in s) < 3 and not (active and re.fullmatch(r"\d{1,3}\s*[.)]\s*\|?", s)):
                continue  # blank, a page number, or OCR specks ("D)", "— z"); but "4." alone is an entry
            gk = _group_kind(s)
            if gk:
                flush()
                kind, active = gk, True
                continue
            if _LIST_INTRO.search(s) or _kind_of_line(s) == "DANH SÁCH":
                flush()
                f = _fold(s)
                has_t, has_c = "tap the" in f, "ca nhan" in f
                kind = "collective" if has_t and not has_c else "person" if has_c and not has_t else None
                active = True
                continue
            if not active:
                continue
            m = _ITEM.match(s)
            if m:
                flush()
                where = f"page {pno} " if paginated else ""
                cur = {"text": m.group(2).strip(), "loc": f"{where}line {ln_no}"}
            elif cur is not None and (s[:1].islower() or not cur["text"]):
                cur["text"] = (cur["text"] + " " + s).strip()  # wrapped entry, or "4." alone on its line
            elif s.startswith("(") and cur is None:
                continue  # "(Kèm theo Quyết định số ...)" under a DANH SÁCH heading
            else:
                flush()
                active = False
    flush()
    return out


def _document_record(doc: Document) -> dict[str, Any]:
    kind = doc.meta.get("kind") or ""
    subject = doc.meta.get("subject") or ""
    head = " ".join(x for x in (kind.capitalize() if kind else "", doc.number or "") if x)
    if subject:
        title = f"{head}: {subject}" if head else subject
    elif doc.meta.get("heading") and len(doc.meta["heading"]) > len(kind) + 3:
        title = " ".join(x for x in (doc.meta["heading"], doc.number or "") if x)
    elif head:
        title = head
    else:
        first = next((ln for ln in doc.text.split("\n") if len(ln.strip()) > 10 and not ln.startswith("[")), "")
        title = first.strip()[:200] or doc.name
        if doc.media_type in (MEDIA_TYPES["xlsx"], MEDIA_TYPES["xls"]):
            title = f"Bảng tính {doc.name}"
    return {
        "location": "document", "name": "", "position": "", "unit": "", "place": doc.meta.get("place") or "",
        "form": "", "kind": "document", "honorific": "", "text": doc.text, "title": title,
        "outlet": doc.meta.get("issuer"), "published": doc.published, "fields": {},
    }


# ---------------------------------------------------------------------------
# Ingest into the store

@dataclass
class FileResult:
    path: str
    status: str  # new | unchanged | new-version | failed
    sha256: str | None = None
    media_type: str | None = None
    records: int = 0
    reason: str = ""
    uids: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for f in self.files:
            out[f.status] = out.get(f.status, 0) + 1
        return out

    @property
    def records(self) -> int:
        return sum(f.records for f in self.files if f.status != "unchanged")

    @property
    def any_failed(self) -> bool:
        return any(f.status == "failed" for f in self.files)

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    def to_dict(self) -> dict[str, Any]:
        return {"counts": self.counts, "records": self.records,
                "files": [{k: v for k, v in asdict(f).items() if k != "uids"} for f in self.files]}

    def format_table(self) -> str:
        lines = []
        for f in self.files:
            extra = f.reason if f.status == "failed" else f"{f.records} record(s), {f.media_type or ''}"
            lines.append(f"{f.status:<12} {f.path}  {extra}")
        c = self.counts
        lines.append(", ".join(f"{c[k]} {k}" for k in ("new", "new-version", "unchanged", "failed") if c.get(k))
                     + f"; {self.records} record(s) stored" if self.files else "no files")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format_table()


_SKIP_NAMES = re.compile(r"^(~\$|\.|Thumbs\.db$|desktop\.ini$)", re.I)


def expand_paths(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Files named, and files under folders named (recursively, sorted; hidden and ~$ lock files skipped)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(f for f in sorted(p.rglob("*"))
                       if f.is_file() and not any(_SKIP_NAMES.match(part) for part in f.relative_to(p).parts))
        else:
            out.append(p)
    return out


def file_history(store: Any, path: str | os.PathLike) -> list[dict[str, str]]:
    """What was recorded for a path, oldest first: ``[{at, sha256, status, stat}]``.

    One entry per ingest that stored something or saw new bytes or a new
    modification time (``stat`` is ``"size:mtime_ns"``); unchanged re-runs add nothing.
    """
    import sqlalchemy as sa

    from .store import events

    target = str(Path(path).resolve())
    with store.engine.connect() as c:
        rows = c.execute(sa.select(events.c.at, events.c.reason).where(
            events.c.stage == "ingest", events.c.target == target, events.c.level == "info")
            .order_by(events.c.id)).all()
    out = []
    for at, reason in rows:
        m = re.search(r"sha256=([0-9a-f]{64})", reason or "")
        if m:
            st = re.search(r"stat=(\d+:\d+)", reason)
            out.append({"at": at, "sha256": m.group(1), "status": reason.split(" ", 1)[0],
                        "stat": st.group(1) if st else None})
    return out


def _read_bytes(p: Path) -> bytes:
    try:
        return p.read_bytes()
    except OSError as e:
        raise ReportError(p, f"cannot read file ({e.strerror or e})") from None


def _records_for(store: Any, sha: str) -> list[str]:
    import sqlalchemy as sa

    from .store import articles

    with store.engine.connect() as c:
        return [r[0] for r in c.execute(sa.select(articles.c.uid).where(articles.c.raw_hash == sha))]


def article_rows(doc: Document, source: str, source_file: str | None = None) -> list[dict[str, Any]]:
    """The ``store.upsert_article`` records of a document (one per exemplar, or one for the document)."""
    rows = []
    for r in split_records(doc):
        extra = {"name": r["name"], "position": r["position"], "unit": r["unit"], "place": r["place"],
                 "form": r["form"], "kind": r["kind"], "honorific": r["honorific"],
                 "document": {"kind": doc.meta.get("kind"), "number": doc.number, "date": doc.date,
                              "media_type": doc.media_type, "file_name": doc.name,
                              "ocr_pages": doc.meta.get("ocr_pages") or []}}
        if r["fields"]:
            extra["fields"] = r["fields"]
        if r.get("household"):
            extra["household"] = True
        rows.append({
            "uid": f"report:{doc.sha256}#{r['location']}", "kind": "report", "source": source,
            "outlet": r["outlet"], "title": r["title"], "lead": "", "text": r["text"],
            # A report belongs to the week it reached the office (collected), not to the week
            # it was signed: a 2022 decision sent in this week is this week's evidence. Its own
            # date stays in extra.document.date.
            "published": None, "raw_hash": doc.sha256, "source_file": source_file or doc.path,
            "location": r["location"], "extra": extra,
        })
    return rows


def ingest_file(store: Any, path: str | os.PathLike, *, source: str = "ingest",
                max_bytes: int = MAX_BYTES, ocr: str = "auto", force: bool = False) -> FileResult:
    """Ingest one file; never raises for a bad file (the result says why it failed).

    ``force`` reads a file again even when its bytes are stored (after a reader
    upgrade); changed records keep their previous text in ``article_versions``.
    """
    p = Path(path)
    target = str(p.resolve()) if p.exists() else str(p)
    res = FileResult(path=str(p), status="failed")
    try:
        if not p.is_file():
            raise ReportError(p, "file not found" if not p.exists() else "not a regular file")
        size = p.stat().st_size
        if size == 0:
            raise ReportError(p, "empty file (0 bytes)")
        if size > max_bytes:
            raise ReportError(p, f"file too large ({size / 2**20:.1f} MB > limit {max_bytes / 2**20:.0f} MB)")
        st = p.stat()
        stat = f"{st.st_size}:{st.st_mtime_ns}"
        history = file_history(store, target)
        last = history[-1] if history else None
        if last and not force and last.get("stat") == stat:  # same size and time as last run: not re-read
            existing = _records_for(store, last["sha256"])
            if existing:
                res.sha256, res.status, res.records, res.uids = last["sha256"], "unchanged", len(existing), existing
                return res
        data = _read_bytes(p)
        from .store import sha256
        sha = sha256(data)
        res.sha256 = sha
        previous = last["sha256"] if last else None
        existing = [] if force else _records_for(store, sha)
        if existing:
            res.records, res.uids = len(existing), existing
            if previous == sha:
                res.status = "unchanged"
                if last.get("stat") != stat:  # touched, same bytes: remember the new time
                    store.log_event("ingest", "info", f"unchanged sha256={sha} records={len(existing)} stat={stat}",
                                    source=source, target=target)
                return res
            if previous is None:  # same bytes already stored from another path: remember this path too
                res.status = "unchanged"
                store.log_event("ingest", "info", f"unchanged sha256={sha} records={len(existing)} stat={stat}"
                                " (duplicate)", source=source, target=target)
                return res
            res.status = "new-version"  # the path's content changed to bytes stored before
            store.log_event("ingest", "info", f"new-version sha256={sha} records={len(existing)} stat={stat}"
                            f" previous={previous}", source=source, target=target)
            return res
        doc = read_document(p, data=data, max_bytes=max_bytes, ocr=ocr)
        res.media_type = doc.media_type
        if doc.meta.get("unread_pages"):  # storing it now would hide those pages from a later run with OCR
            pages = ", ".join(map(str, doc.meta["unread_pages"]))
            raise ReportError(p, f"scanned page(s) {pages} not read: OCR is off")
        rows = article_rows(doc, source, source_file=target)
        with store.engine.begin() as conn:
            store.put_raw(data, media_type=doc.media_type, origin=target, conn=conn)
            for r in rows:
                store.upsert_article(r, conn=conn)
        res.records, res.uids = len(rows), [r["uid"] for r in rows]
        res.status = "new-version" if previous and previous != sha else "unchanged" if previous == sha else "new"
        mism = doc.meta.get("extension_mismatch")
        store.log_event("ingest", "info", f"{res.status} sha256={sha} records={len(rows)} stat={stat}"
                        f" type={doc.meta['detected']}"
                        + (f" previous={previous}" if previous else "") + (f" ({mism})" if mism else ""),
                        source=source, target=target)
        return res
    except ReportError as e:
        res.reason = e.reason
    except Exception as e:  # a reader bug must not stop the batch
        res.reason = f"unexpected error: {type(e).__name__}: {e}"
    try:
        store.log_event("ingest", "error", f"{res.path}: {res.reason}", source=source, target=target)
    except Exception:
        pass
    return res


def ingest(store: Any, paths: Sequence[str | os.PathLike], *, source: str = "ingest", progress: bool = True,
           max_bytes: int = MAX_BYTES, ocr: str = "auto", force: bool = False) -> IngestReport:
    """Ingest files and folders (recursed) into ``store``; a failure never stops the batch."""
    report = IngestReport()
    files = []
    for p in map(Path, paths):
        if not p.exists():
            report.files.append(FileResult(str(p), "failed", reason="file or folder not found"))
            try:
                store.log_event("ingest", "error", f"{p}: file or folder not found", source=source, target=str(p))
            except Exception:
                pass
            continue
        files.extend(expand_paths([p]))
    it: Iterable[Path] = files
    if progress and files:
        from tqdm import tqdm
        it = tqdm(files, desc="ingest", unit="file")
    for f in it:
        report.files.append(ingest_file(store, f, source=source, max_bytes=max_bytes, ocr=ocr, force=force))
    return report


def ingest_inbox(store: Any, source: Any, *, progress: bool = False) -> IngestReport:
    """Pick up what is new in an inbox folder: a Source with ``.path`` (and ``.name``), or a path."""
    if isinstance(source, (str, os.PathLike)):
        path, name = Path(source), "inbox"
    else:
        path, name = Path(getattr(source, "path", None) or ""), getattr(source, "name", None) or "inbox"
    if not str(path) or not path.is_dir():
        rep = IngestReport([FileResult(str(path), "failed", reason="inbox folder not found")])
        store.log_event("ingest", "error", f"{path}: inbox folder not found", source=name, target=str(path))
        return rep
    return ingest(store, [path], source=name, progress=progress)


# ---------------------------------------------------------------------------
# OCR quality

def char_accuracy(hypothesis: str, truth: str) -> float:
    """1 − (character edit distance / length of truth), after normalising white space."""
    a = re.sub(r"\s+", " ", normalize(hypothesis)).strip()
    b = re.sub(r"\s+", " ", normalize(truth)).strip()
    if not b:
        return 1.0 if not a else 0.0
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
        prev = cur
    return max(0.0, 1 - prev[-1] / len(b))


def to_json(doc: Document) -> str:
    """The document as JSON (for debugging and `nguoitot ingest --dry-run`-like previews)."""
    d = asdict(doc)
    return json.dumps(d, ensure_ascii=False, indent=1)
