"""Speed and memory of reading unit reports (pipeline.reports) on the real files.

    nice python benchmarks/bench_reports.py [--ocr-pages 2] [--dpi 200 300] [--repeat 3]

Measures, on ../shared/corpora/reports:
- text-layer PDF: pages per second (the 41-page Công báo, pdftotext);
- OCR: seconds per page and pages per second for the scanned Tờ trình (pdftoppm +
  tesseract -l vie, one thread), and character accuracy of page 1 against
  tests/golden/reports/totrinh_2753_page1.txt at each --dpi;
- Word/Excel/HTML: files per second for every non-PDF file;
- peak memory: this process (RSS and Python heap). The tools run as child
  processes; measured alone with /usr/bin/time, tesseract peaks at ~77 MB on a
  page rendered at 200 dpi and ~126 MB at 300 dpi.
Prints one JSON object. The machines are shared: wall times swing with the load
(printed), so CPU seconds (this process plus its tools) are printed beside them.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline import reports as R  # noqa: E402
from pipeline.config import shared_corpora  # noqa: E402

GOLDEN = Path(__file__).resolve().parents[1] / "tests" / "golden" / "reports" / "totrinh_2753_page1.txt"


def cpu() -> float:
    """CPU seconds used so far by this process and its finished children (pdftotext, tesseract...)."""
    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ocr-pages", type=int, default=2, help="scanned pages to OCR (Tờ trình first, then others)")
    ap.add_argument("--dpi", type=int, nargs="*", default=[], help="also OCR the golden page at these resolutions")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the text-layer and office measurements")
    args = ap.parse_args()
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    rdir = shared_corpora() / "reports"
    out: dict = {"cpu_count": os.cpu_count(), "load_avg": os.getloadavg()}
    tracemalloc.start()

    # text-layer PDF
    gazette = rdir / "vanban__16533649921.pdf"
    best = None
    c0 = cpu()
    for _ in range(args.repeat):
        t = time.perf_counter()
        doc = R.read_document(gazette, ocr="never")
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    c = (cpu() - c0) / args.repeat
    out["text_pdf"] = {"file": gazette.name, "pages": len(doc.pages), "best_seconds": round(best, 3),
                       "pages_per_second": round(len(doc.pages) / best, 1), "cpu_seconds": round(c, 3),
                       "pages_per_cpu_second": round(len(doc.pages) / c, 1)}

    # Word / Excel / HTML
    office = [p for p in sorted(rdir.iterdir()) if R.sniff(p.read_bytes(), p) != "pdf"]
    best = None
    c0 = cpu()
    for _ in range(args.repeat):
        t = time.perf_counter()
        recs = sum(len(R.split_records(R.read_document(p))) for p in office)
        dt = time.perf_counter() - t
        best = dt if best is None else min(best, dt)
    c = (cpu() - c0) / args.repeat
    out["office"] = {"files": len(office), "records": recs, "best_seconds": round(best, 3),
                     "files_per_second": round(len(office) / best, 1), "cpu_seconds": round(c, 3),
                     "files_per_cpu_second": round(len(office) / c, 1)}

    # OCR
    pdfs = ["baocao__1668511142_baocao.pdf", "baocao__1668048872_baocao.pdf", "baocao__1666571906_baocao.pdf"]
    jobs = [(name, page) for name in pdfs for page in (1, 2)][: args.ocr_pages]
    per_page = []
    c0 = cpu()
    truth = GOLDEN.read_text(encoding="utf-8")
    accuracy = None
    for name, page in jobs:
        data = (rdir / name).read_bytes()
        t = time.perf_counter()
        text = R.ocr_pdf_page(data, page, name)
        per_page.append(time.perf_counter() - t)
        if (name, page) == (pdfs[0], 1):
            accuracy = R.char_accuracy(text, truth)
    if per_page:
        total = sum(per_page)
        c = (cpu() - c0) / len(per_page)
        out["ocr"] = {"pages": len(per_page), "seconds_per_page": [round(x, 2) for x in per_page],
                      "cpu_seconds_per_page": round(c, 2),
                      "pages_per_second": round(len(per_page) / total, 3),
                      "dpi": "scan resolution within "
                             f"[{R.OCR_DPI_MIN}, {R.OCR_DPI_MAX}]", "char_accuracy_page1": accuracy and round(accuracy, 4)}
    if args.dpi:
        data = (rdir / pdfs[0]).read_bytes()
        out["ocr_by_dpi"] = {}
        for dpi in args.dpi:
            t, c0 = time.perf_counter(), cpu()
            text = R.ocr_pdf_page(data, 1, pdfs[0], dpi=dpi)
            out["ocr_by_dpi"][dpi] = {"seconds": round(time.perf_counter() - t, 2),
                                      "cpu_seconds": round(cpu() - c0, 2),
                                      "char_accuracy": round(R.char_accuracy(text, truth), 4)}

    _, heap_peak = tracemalloc.get_traced_memory()
    self_ru = resource.getrusage(resource.RUSAGE_SELF)
    out["memory"] = {"python_heap_peak_mb": round(heap_peak / 2**20, 1),
                     "process_peak_rss_mb": round(self_ru.ru_maxrss / 1024, 1)}
    print(json.dumps(out, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
