"""The batch-scoring contract (DESIGN.md): JSON Lines in, one JSON line out per input.

``score_lines`` is the library function (any iterable of text lines, any
writable text stream); ``nguoitot score IN.jsonl -o OUT.jsonl`` only calls it.
It needs no crawl and no database.
"""
from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, TextIO

log = logging.getLogger(__name__)

MAX_LINE_CHARS = 2_000_000  # one article; longer lines are refused, not truncated silently


@dataclass
class ScoreSummary:
    lines: int = 0
    scored: int = 0
    failed: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def parse_line(line: str, line_no: int) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Return ``(record, None)`` for a scorable line, ``(None, error_line)`` otherwise."""
    rid = None
    if len(line) > MAX_LINE_CHARS:
        return None, {"id": None, "line": line_no, "error": f"line longer than {MAX_LINE_CHARS} characters"}
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        return None, {"id": None, "line": line_no, "error": f"invalid JSON: {e.msg} at column {e.colno}"}
    if not isinstance(obj, dict):
        return None, {"id": None, "line": line_no, "error": "not a JSON object"}
    rid = obj.get("id")
    if rid is None or (isinstance(rid, str) and not rid.strip()):
        return None, {"id": None, "line": line_no, "error": "missing id"}
    if not isinstance(rid, (str, int)) or isinstance(rid, bool):
        return None, {"id": None, "line": line_no, "error": "id must be a string or an integer"}
    for key in ("title", "lead", "text"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            return None, {"id": rid, "line": line_no, "error": f"{key} must be a string"}
    if not (obj.get("title") or "").strip() and not (obj.get("text") or "").strip():
        return None, {"id": rid, "line": line_no, "error": "neither title nor text"}
    rec = {"id": rid, "title": obj.get("title") or "", "lead": obj.get("lead") or "",
           "text": obj.get("text") or "", "url": obj.get("url"), "outlet": obj.get("outlet"),
           "published": obj.get("published")}
    return rec, None


def output_line(rec_id: Any, result: dict[str, Any], model_version: str) -> dict[str, Any]:
    label = int(result["label"])
    names = [e["name"] if isinstance(e, dict) else str(e) for e in result.get("exemplars") or []]
    return {
        "id": rec_id,
        "score": round(float(result["score"]), 6),
        "label": label,
        "field": result.get("field", "") if label else "",
        "deed": result.get("deed", "") if label else "",
        "exemplars": names if label else [],
        "reason": result.get("reason", ""),
        "terms": result.get("terms", []),
        "model_version": model_version,
    }


_WORKER_MODEL: Any = None


def _worker_init(model_path: str | None, rerank: bool = True, selector_dir: str | None = None) -> None:
    global _WORKER_MODEL
    from .classify import load_model
    _WORKER_MODEL = load_model(model_path, rerank=rerank)
    if selector_dir is not None:  # the parent's exemplar selector, not the worker's default
        _WORKER_MODEL.selector_dir = Path(selector_dir)
    _WORKER_MODEL.rerank_threads = 1  # one process per core: the encoder must not oversubscribe


def _worker_score(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return _WORKER_MODEL.score(records)


def score_lines(lines: Iterable[str], out: TextIO, model: Any = None, *, batch_size: int = 256,
                progress: bool = False, err: TextIO | None = None, jobs: int = 1) -> ScoreSummary:
    """Score JSON lines from ``lines`` into ``out`` (same order, one line per input).

    Bad lines become ``{"id", "line", "error"}`` lines and a message on ``err``
    naming the line number; every other line is scored. ``jobs > 1`` scores
    batches in that many worker processes (each loads the model from its
    folder once); the output order is still the input order.
    """
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    from .classify import load_model

    model = model or load_model()
    err = err if err is not None else sys.stderr
    summary = ScoreSummary()
    pending: list[tuple[int, dict[str, Any] | None, dict[str, Any] | None]] = []
    pool = None
    if jobs > 1 and getattr(model, "path", None):
        import multiprocessing as mp
        two_stage = bool(getattr(model, "two_stage", False))
        # a forked child of a process whose torch thread pools have run can deadlock: a two-stage
        # model's workers start fresh ("forkserver"); each loads the model from its folder anyway
        ctx = mp.get_context("forkserver") if two_stage else None
        pool = ProcessPoolExecutor(jobs, initializer=_worker_init, mp_context=ctx,
                                   initargs=(str(model.path), two_stage,
                                             str(model.selector_dir) if getattr(model, "selector_dir", None) else None))
    inflight: deque = deque()

    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(unit=" articles", desc="score", file=sys.stderr)

    def write(batch: list[tuple[int, dict[str, Any] | None, dict[str, Any] | None]], results: list) -> None:
        it = iter(results)
        for _, rec, error in batch:
            if rec is not None:
                out.write(json.dumps(output_line(rec["id"], next(it), model.version), ensure_ascii=False) + "\n")
                summary.scored += 1
            else:
                out.write(json.dumps(error, ensure_ascii=False) + "\n")
        if bar is not None:
            bar.update(len(batch))

    def flush(final: bool = False) -> None:
        batch = list(pending)
        pending.clear()
        recs = [r for _, r, _ in batch if r is not None]
        if pool is None:
            write(batch, model.score(recs) if recs else [])
            return
        if batch:
            inflight.append((batch, pool.submit(_worker_score, recs) if recs else None))
        while inflight and (final or len(inflight) > 2 * jobs):
            b, fut = inflight.popleft()
            write(b, fut.result() if fut is not None else [])

    try:
        for line_no, line in enumerate(lines, start=1):
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                continue  # blank lines are not articles; nothing to answer
            summary.lines += 1
            rec, error = parse_line(line, line_no)
            if error is not None:
                summary.failed += 1
                summary.errors.append((line_no, error["error"]))
                print(f"line {line_no}: {error['error']}", file=err)
            pending.append((line_no, rec, error))
            if len(pending) >= batch_size:
                flush()
        flush(final=True)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if bar is not None:
            bar.close()
    return summary


def score_file(in_path: str, out_path: str, model: Any = None, **kw: Any) -> ScoreSummary:
    """``score_lines`` over files; ``-`` means standard input / output."""
    fin = sys.stdin if in_path == "-" else open(in_path, encoding="utf-8", errors="replace")
    fout = sys.stdout if out_path == "-" else open(out_path, "w", encoding="utf-8")
    try:
        return score_lines(fin, fout, model, **kw)
    finally:
        if fin is not sys.stdin:
            fin.close()
        if fout is not sys.stdout:
            fout.close()
