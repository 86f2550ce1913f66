"""Blind re-readings of labelled articles (``corpora/labels/audit.jsonl``): who is right when
the model and a label disagree?

Each audit line is an ordinary label line (``id``, ``label``, ``field``, ``deed``, ``exemplars``,
``stratum``) plus the audit: ``group`` (why it was chosen: :data:`GROUPS`), ``original`` and
``original_source`` (the first label and its file), ``readings`` (the blind re-readings) and
``why`` (their reasons). ``label`` is :func:`adjudicate` of the first label and the readings, so
the file can be passed to ``nguoitot train --labels`` as it is. The design and the results are
in ``corpora/labels/README.md``; ``benchmarks/audit_labels.py`` prints them.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .config import REPO_DIR

AUDIT_FILE = REPO_DIR / "corpora" / "labels" / "audit.jsonl"

GROUPS = ("suspect-fn", "suspect-fp", "control-2", "control-1")


def adjudicate(first: int, readings: Sequence[int]) -> int:
    """The majority of the first label and the re-readings; the first label when there is none."""
    votes = Counter([int(first), *map(int, readings)])
    label, n = votes.most_common(1)[0]
    return int(label) if n * 2 > sum(votes.values()) else int(first)


def summary(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per group: articles, each reader's agreement with the first label and with the other
    reader, the share overturned (with two readings: both readers against the first label, and
    agreeing), and the first -> audited label counts."""
    out = {}
    for g in GROUPS:
        rs = [r for r in rows if r["group"] == g]
        if not rs:
            continue
        first = np.array([r["original"] for r in rs])
        R = np.array([r["readings"] for r in rs])
        audited = np.array([adjudicate(r["original"], r["readings"]) for r in rs])
        out[g] = {"n": len(rs),
                  "reader_agrees": [round(float((R[:, k] == first).mean()), 3) for k in range(R.shape[1])],
                  "readers_agree": round(float((R[:, 0] == R[:, 1]).mean()), 3),
                  "overturned": round(float((audited != first).mean()), 3),
                  "moves": dict(Counter(f"{a}->{b}" for a, b in zip(first.tolist(), audited.tolist())))}
    return out


def relabel(records: Sequence[dict[str, Any]], rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records with each audited article's label replaced by the adjudicated one."""
    new = {r["id"]: adjudicate(r["original"], r["readings"]) for r in rows}
    return [{**r, "label": new[r["id"]]} if r["id"] in new else r for r in records]


def read_audit(path: str | Path = AUDIT_FILE) -> list[dict[str, Any]]:
    """The audit's lines; a line that is not JSON or lacks the audit's keys names its line number."""
    rows = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as e:
            raise ValueError(f"{path}:{n}: not JSON ({e})") from None
        missing = [k for k in ("id", "group", "original", "readings") if k not in row]
        if missing:
            raise ValueError(f"{path}:{n}: no {', '.join(missing)}")
        rows.append(row)
    return rows
