"""The review desk's library: accounts, the queue, decisions and the lifecycle.

The web app (``pipeline.web.app``) and the command line are thin layers over
these functions.

Decisions are appended to ``decisions`` (never updated); the ``candidates``
row is the current state they lead to, updated in the same transaction, and
:func:`replay_state` recomputes it from the decisions alone.

Labels for training: a verdict writes **one decision row per evidence
article** (``candidate_id`` and ``article_id`` both set) carrying the
LABELING.md label it implies for that article, plus the candidate's field
and deed. A verdict whose reason is not about the story (already commended,
outside our area, duplicate, other) is not a label 0: see
:data:`REJECT_REASONS`. Actions that carry no label (rename, merge, split,
stage, notes) write one candidate-level row with ``article_id`` NULL and
``label`` NULL.
"""
from __future__ import annotations

import datetime as dt
import json
import threading
import time
from typing import Any, Callable

import sqlalchemy as sa

from .store import Store, articles, candidate_evidence, candidates, decisions, now_iso, users
from .taxonomy import DEEDS, FIELDS, STAGES
from .weekly import candidate_dict, evidence_for

ROLES = ("staff", "analyst", "admin")
ROLE_RANK = {r: i for i, r in enumerate(ROLES)}
MIN_PASSWORD = 8

#: reason code -> (Vietnamese text shown to reviewers, LABELING.md label implied for the
#: evidence articles, or None when the reason says nothing about the story itself).
REJECT_REASONS: dict[str, tuple[str, int | None]] = {
    "not-a-deed": ("Không có việc làm đáng khen (không phải việc tốt)", 0),
    "charity-appeal": ("Lời kêu gọi giúp người khó khăn (người được giúp không làm việc tốt)", 0),
    "about-movement": ("Tin về phong trào thi đua, hội nghị, không kể gương cụ thể", 0),
    "foreign": ("Việc ở nước ngoài, không có người Việt Nam", 0),
    "not-identifiable": ("Không xác định được người, tập thể làm việc tốt", 1),
    "not-focus": ("Việc tốt không phải trọng tâm của bài", 1),
    "routine-duty": ("Nhiệm vụ thường xuyên (công an, cứu hộ… làm đúng phận sự)", 1),
    "doubtful-fit": ("Thành tích không hợp danh sách (huy chương, kinh doanh, lễ trao thưởng)", 1),
    "already-commended": ("Đã được khen thưởng cho việc này", 2),
    "outside-area": ("Ngoài địa bàn của thành phố", 2),
    "duplicate": ("Trùng với ứng viên khác", 2),
    "other": ("Lý do khác (ghi chú)", None),
}
UNSURE_REASONS: dict[str, str] = {
    "need-verify": "Cần xác minh với đơn vị, địa phương",
    "need-more": "Cần thêm thông tin, bài viết khác",
    "ask-leader": "Xin ý kiến lãnh đạo",
}
STATUSES = ("new", "unsure", "accepted", "rejected", "merged")
LABEL_ACTIONS = ("accept", "reject", "unsure")


class ReviewError(ValueError):
    """A decision that cannot be applied (unknown candidate, bad value, wrong state)."""


# -- accounts ---------------------------------------------------------------

def _hasher():
    try:
        from argon2 import PasswordHasher
    except ImportError as e:  # the web extra
        raise ImportError("accounts need argon2-cffi: pip install 'nguoitot[web]'") from e
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def add_user(store: Store, name: str, role: str, password: str) -> int:
    """Create an account (argon2id hash); returns its id. ValueError on a bad name,
    role, short password or an existing name."""
    name = (name or "").strip()
    if not name or len(name) > 64 or any(ch.isspace() for ch in name):
        raise ValueError("user name: 1–64 characters, no spaces")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if len(password or "") < MIN_PASSWORD:
        raise ValueError(f"the password needs at least {MIN_PASSWORD} characters")
    h = hash_password(password)
    with store.begin() as c:
        if c.execute(sa.select(users.c.id).where(users.c.name == name)).first():
            raise ValueError(f"user {name!r} already exists")
        res = c.execute(sa.insert(users).values(name=name, role=role, pw_hash=h, created=now_iso()))
        return int(res.inserted_primary_key[0])


def get_user(store: Store, name: str) -> dict[str, Any] | None:
    with store.connect() as c:
        row = c.execute(sa.select(users.c.id, users.c.name, users.c.role, users.c.disabled, users.c.created)
                        .where(users.c.name == name)).mappings().first()
    return dict(row) if row else None


def list_users(store: Store) -> list[dict[str, Any]]:
    with store.connect() as c:
        return [dict(r) for r in c.execute(sa.select(users.c.id, users.c.name, users.c.role, users.c.disabled,
                                                     users.c.created).order_by(users.c.name)).mappings()]


def update_user(store: Store, name: str, *, role: str | None = None, disabled: bool | None = None,
                password: str | None = None) -> None:
    vals: dict[str, Any] = {}
    if role is not None:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        vals["role"] = role
    if disabled is not None:
        vals["disabled"] = bool(disabled)
    if password is not None:
        if len(password) < MIN_PASSWORD:
            raise ValueError(f"the password needs at least {MIN_PASSWORD} characters")
        vals["pw_hash"] = hash_password(password)
    if not vals:
        return
    with store.begin() as c:
        n = c.execute(sa.update(users).where(users.c.name == name).values(**vals)).rowcount
    if not n:
        raise ValueError(f"no user {name!r}")


_DUMMY_HASH: str | None = None


def authenticate(store: Store, name: str, password: str) -> dict[str, Any] | None:
    """The user (id, name, role) when the password is right and the account active, else None.
    Spends the same KDF time for unknown names as for known ones."""
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    global _DUMMY_HASH
    ph = _hasher()
    with store.connect() as c:
        row = c.execute(sa.select(users).where(users.c.name == (name or "")[:64])).mappings().first()
    if row is None:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = ph.hash("not-a-password")
        try:
            ph.verify(_DUMMY_HASH, password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            pass
        return None
    try:
        ph.verify(row["pw_hash"], password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row["disabled"]:
        return None
    if ph.check_needs_rehash(row["pw_hash"]):
        with store.begin() as c:
            c.execute(sa.update(users).where(users.c.id == row["id"]).values(pw_hash=ph.hash(password)))
    return {"id": row["id"], "name": row["name"], "role": row["role"]}


def has_role(role: str | None, needed: str) -> bool:
    return role in ROLE_RANK and ROLE_RANK[role] >= ROLE_RANK[needed]


class LoginLimiter:
    """Login throttling per key (user name and client address, counted separately).

    After ``free`` consecutive failures a key must wait ``base * 2**(extra failures)``
    seconds (capped at ``cap``) before the next try; a success clears it.
    """

    def __init__(self, free: int = 5, base: float = 2.0, cap: float = 300.0,
                 clock: Callable[[], float] = time.monotonic):
        self.free, self.base, self.cap, self.clock = free, base, cap, clock
        self._fail: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def wait(self, *keys: str) -> float:
        """Seconds before any of ``keys`` may try again (0 when allowed now)."""
        now = self.clock()
        out = 0.0
        with self._lock:
            for k in keys:
                n, last = self._fail.get(k, (0, 0.0))
                if n >= self.free:
                    delay = min(self.cap, self.base * 2 ** (n - self.free))
                    out = max(out, last + delay - now)
        return max(0.0, out)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            if len(self._fail) > 100_000:  # bound memory under a spray of names
                self._fail.clear()
            for k in keys:
                n, _ = self._fail.get(k, (0, 0.0))
                self._fail[k] = (n + 1, now)

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for k in keys:
                self._fail.pop(k, None)


# -- the queue ----------------------------------------------------------------

def _like(q: str) -> str:
    esc = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{esc}%"


def weeks(store: Store) -> list[str]:
    """Weeks that have candidates, newest first."""
    with store.connect() as c:
        return [r[0] for r in c.execute(sa.select(candidates.c.week).distinct().order_by(candidates.c.week.desc()))]


def queue(store: Store, week: str | None = None, *, field: str | None = None, status: str | None = "new",
          order: str = "score", q: str | None = None, page: int = 1, per_page: int = 25,
          threshold: float = 0.5, with_evidence: bool = True) -> dict[str, Any]:
    """One page of the review queue.

    ``status``: new | unsure | accepted | rejected | open (new+unsure) | all (not merged).
    ``order``: ``score`` (highest first), ``uncertain`` (closest to ``threshold`` first)
    or ``recent``. ``q`` searches name, title, reason and exemplars (plain text,
    no pattern syntax). Returns ``{"items", "total", "page", "pages", "per_page",
    "fields": {code: n}}`` where ``fields`` counts the same filter over every field.
    """
    per_page = max(1, min(int(per_page or 25), 200))
    page = max(1, int(page or 1))
    conds = []
    if week:
        conds.append(candidates.c.week == week)
    if status in (None, "", "all"):
        conds.append(candidates.c.status != "merged")
    elif status == "open":
        conds.append(candidates.c.status.in_(("new", "unsure")))
    elif status in STATUSES:
        conds.append(candidates.c.status == status)
    else:
        raise ReviewError(f"unknown status {status!r}")
    if q:
        pat = _like(q.strip()[:200])
        conds.append(sa.or_(*(col.like(pat, escape="\\") for col in
                              (candidates.c.name, candidates.c.title, candidates.c.reason, candidates.c.exemplars))))
    field_conds = list(conds)
    if field:
        conds.append(candidates.c.field == field)
    if order == "uncertain":
        ob = [sa.func.abs(candidates.c.score - float(threshold)).asc(), candidates.c.id.asc()]
    elif order == "recent":
        ob = [candidates.c.id.desc()]
    elif order == "score":
        ob = [candidates.c.score.desc(), candidates.c.id.asc()]
    else:
        raise ReviewError(f"unknown order {order!r}")
    with store.connect() as c:
        fields = dict(c.execute(sa.select(candidates.c.field, sa.func.count())
                                .where(*field_conds).group_by(candidates.c.field)).all())
        total = sum(fields.values()) if not field else int(fields.get(field, 0))
        rows = c.execute(sa.select(candidates).where(*conds).order_by(*ob)
                         .limit(per_page).offset((page - 1) * per_page)).all()
        items = [candidate_dict(r) for r in rows]
        if with_evidence:
            ev = evidence_for(c, [x["id"] for x in items])
            for x in items:
                x["evidence"] = ev.get(x["id"], [])
    return {"items": items, "total": int(total), "page": page, "per_page": per_page,
            "pages": max(1, -(-int(total) // per_page)), "fields": fields}


def highlight(text: str, reason: str) -> list[tuple[str, bool]]:
    """``text`` cut around the reason sentence: [(piece, is_reason), ...] (one piece if absent)."""
    text = text or ""
    reason = (reason or "").strip()
    if reason and reason in text:
        i = text.index(reason)
        return [p for p in ((text[:i], False), (reason, True), (text[i + len(reason):], False)) if p[0]]
    return [(text, False)] if text else []


def candidate_detail(store: Store, cid: int, text_limit: int = 6000) -> dict[str, Any] | None:
    """A candidate with full evidence (texts, reason highlighted), its history and merged ones."""
    with store.connect() as c:
        row = c.execute(sa.select(candidates).where(candidates.c.id == cid)).first()
        if row is None:
            return None
        cand = candidate_dict(row)
        ev = evidence_for(c, [cid])[cid]
        ids = [e["article_id"] for e in ev]
        texts = {r.id: r for r in c.execute(sa.select(articles.c.id, articles.c.lead, articles.c.text)
                                              .where(articles.c.id.in_(ids)))} if ids else {}
        merged = [dict(r._mapping) for r in c.execute(
            sa.select(candidates.c.id, candidates.c.name, candidates.c.title)
            .where(candidates.c.merged_into == cid))]
    for e in ev:
        t = texts.get(e["article_id"])
        body = "\n\n".join(x for x in ((t.lead if t else ""), (t.text if t else "")) if x)
        if len(body) > text_limit:
            body = body[:text_limit] + "…"
        e["pieces"] = highlight(body, e["reason"] or cand["reason"])
    cand["evidence"] = ev
    cand["history"] = history(store, cid)
    cand["merged_from"] = merged
    cand["stage_log"] = stage_log(store, cid)
    return cand


def history(store: Store, cid: int) -> list[dict[str, Any]]:
    """Decisions about a candidate, oldest first; per-article rows of one verdict are folded
    into one entry with ``articles`` listing them."""
    with store.connect() as c:
        rows = [dict(r) for r in c.execute(sa.select(decisions).where(decisions.c.candidate_id == cid)
                                           .order_by(decisions.c.id)).mappings()]
    out: list[dict[str, Any]] = []
    for r in rows:
        r["payload"] = json.loads(r["payload"]) if r["payload"] else {}
        prev = out[-1] if out else None
        if (prev and r["article_id"] is not None and prev["user"] == r["user"] and prev["at"] == r["at"]
                and prev["action"] == r["action"] and prev["label"] == r["label"]):
            prev["articles"].append(r["article_id"])
            continue
        r["articles"] = [r["article_id"]] if r["article_id"] is not None else []
        out.append(r)
    return out


# -- decisions --------------------------------------------------------------------

def _load(c: sa.Connection, cid: int) -> dict[str, Any]:
    row = c.execute(sa.select(candidates).where(candidates.c.id == cid)).mappings().first()
    if row is None:
        raise ReviewError(f"no candidate {cid}")
    return dict(row)


def _evidence_ids(c: sa.Connection, cid: int) -> list[int]:
    return [r[0] for r in c.execute(sa.select(candidate_evidence.c.article_id)
                                    .where(candidate_evidence.c.candidate_id == cid)
                                    .order_by(candidate_evidence.c.article_id))]


def _per_article(store: Store, c: sa.Connection, cand: dict[str, Any], user: str, action: str,
                 label: int | None, reason_code: str | None, note: str | None,
                 payload: dict[str, Any] | None = None) -> list[int]:
    ids = _evidence_ids(c, cand["id"])
    out = []
    for aid in ids or [None]:
        out.append(store.add_decision(user, action, candidate_id=cand["id"], article_id=aid, label=label,
                                      field=cand["field"] or None, deed=cand["deed"] or None,
                                      reason_code=reason_code, note=note, payload=payload, conn=c))
    return out


def _set(c: sa.Connection, cid: int, **vals: Any) -> None:
    vals["updated"] = now_iso()
    c.execute(sa.update(candidates).where(candidates.c.id == cid).values(**vals))


def _clean_note(note: str | None) -> str | None:
    note = (note or "").strip()
    return note[:2000] or None


def decide(store: Store, cid: int, user: str, action: str, *, reason_code: str | None = None,
           note: str | None = None) -> dict[str, Any]:
    """Accept, reject (with a reason code) or mark unsure. Returns the new status and the
    label written for each evidence article."""
    note = _clean_note(note)
    if action == "accept":
        status, label = "accepted", 2
        reason_code = None
    elif action == "reject":
        if reason_code not in REJECT_REASONS:
            raise ReviewError("a rejection needs a reason: " + ", ".join(REJECT_REASONS))
        if reason_code == "other" and not note:
            raise ReviewError("reason 'other' needs a note")
        status, label = "rejected", REJECT_REASONS[reason_code][1]
    elif action == "unsure":
        if reason_code is not None and reason_code not in UNSURE_REASONS:
            raise ReviewError(f"unknown reason {reason_code!r}")
        status, label = "unsure", None
    else:
        raise ReviewError(f"unknown action {action!r}")
    with store.begin() as c:
        cand = _load(c, cid)
        if cand["status"] == "merged":
            raise ReviewError(f"candidate {cid} was merged into {cand['merged_into']}")
        ids = _per_article(store, c, cand, user, action, label, reason_code, note)
        _set(c, cid, status=status)
    return {"candidate_id": cid, "status": status, "label": label, "decisions": ids}


def rename(store: Store, cid: int, user: str, name: str, index: int = 0, note: str | None = None) -> None:
    """Correct an exemplar's name (the main one by default)."""
    name = " ".join((name or "").split())[:300]
    if not name:
        raise ReviewError("the name is empty")
    with store.begin() as c:
        cand = _load(c, cid)
        ex = json.loads(cand["exemplars"] or "[]")
        ex = [e if isinstance(e, dict) else {"name": e} for e in ex]
        old = ex[index]["name"] if 0 <= index < len(ex) else (cand["name"] if index == 0 else None)
        if 0 <= index < len(ex):
            ex[index]["name"] = name
        elif index == len(ex):
            ex.append({"name": name})
        else:
            raise ReviewError(f"no exemplar {index}")
        vals: dict[str, Any] = {"exemplars": json.dumps(ex, ensure_ascii=False)}
        if index == 0:
            vals["name"] = name
        store.add_decision(user, "rename", candidate_id=cid, note=_clean_note(note),
                           payload={"index": index, "old": old, "new": name}, conn=c)
        _set(c, cid, **vals)


def reclassify(store: Store, cid: int, user: str, *, field: str | None = None, deed: str | None = None,
               note: str | None = None) -> None:
    """Change the field and/or deed. Written per evidence article; it carries the label
    the candidate's status implies (2 when accepted) so that the corrected field trains."""
    if field is not None and field not in FIELDS:
        raise ReviewError(f"unknown field {field!r}")
    if deed is not None and deed not in DEEDS:
        raise ReviewError(f"unknown deed {deed!r}")
    if field is None and deed is None:
        return
    with store.begin() as c:
        cand = _load(c, cid)
        old = {"field": cand["field"], "deed": cand["deed"]}
        if field is not None:
            cand["field"] = field
        if deed is not None:
            cand["deed"] = deed
        label = 2 if cand["status"] == "accepted" else None
        # one action per changed column ("field", "deed"): candidates.build_candidates keeps
        # the columns a reviewer set by these action names
        actions = [a for a in ("field", "deed") if cand[a] != old[a]] or ["field" if field is not None else "deed"]
        for action in actions:
            _per_article(store, c, cand, user, action, label, None, _clean_note(note),
                         payload={"old": old, "new": {"field": cand["field"], "deed": cand["deed"]}})
        _set(c, cid, field=cand["field"], deed=cand["deed"])


def label_article(store: Store, user: str, article_id: int, label: int, *, field: str | None = None,
                  deed: str | None = None, candidate_id: int | None = None, note: str | None = None) -> int:
    """An analyst's label for one article (LABELING.md 0/1/2)."""
    if label not in (0, 1, 2):
        raise ReviewError("label must be 0, 1 or 2")
    if field and field not in FIELDS:
        raise ReviewError(f"unknown field {field!r}")
    if deed and deed not in DEEDS:
        raise ReviewError(f"unknown deed {deed!r}")
    with store.begin() as c:
        if not c.execute(sa.select(articles.c.id).where(articles.c.id == article_id)).first():
            raise ReviewError(f"no article {article_id}")
        return store.add_decision(user, "label", candidate_id=candidate_id, article_id=article_id, label=label,
                                  field=(field or None) if label else None, deed=(deed or None) if label else None,
                                  note=_clean_note(note), conn=c)


def merge(store: Store, source_id: int, target_id: int, user: str, note: str | None = None) -> None:
    """Merge ``source_id`` into ``target_id``: its evidence and exemplars join the target,
    it becomes ``merged``. The target keeps its status."""
    if source_id == target_id:
        raise ReviewError("cannot merge a candidate into itself")
    with store.begin() as c:
        src, dst = _load(c, source_id), _load(c, target_id)
        if src["status"] == "merged" or dst["status"] == "merged":
            raise ReviewError("one of the two candidates is already merged")
        moved = [a for a in _evidence_ids(c, source_id) if a not in set(_evidence_ids(c, target_id))]
        for a in moved:
            c.execute(sa.insert(candidate_evidence).values(candidate_id=target_id, article_id=a))
        ex_d = json.loads(dst["exemplars"] or "[]")
        names = {(e.get("name") if isinstance(e, dict) else e) for e in ex_d}
        for e in json.loads(src["exemplars"] or "[]"):
            n = e.get("name") if isinstance(e, dict) else e
            if n and n not in names:
                ex_d.append(e)
                names.add(n)
        note = _clean_note(note)
        store.add_decision(user, "merge", candidate_id=source_id, note=note,
                           payload={"into": target_id, "articles": moved}, conn=c)
        store.add_decision(user, "merge", candidate_id=target_id, note=note,
                           payload={"from": source_id, "articles": moved}, conn=c)
        _set(c, source_id, status="merged", merged_into=target_id)
        _set(c, target_id, exemplars=json.dumps(ex_d, ensure_ascii=False),
             score=max(src["score"] or 0, dst["score"] or 0))


def split(store: Store, cid: int, article_ids: list[int], user: str, name: str | None = None,
          note: str | None = None) -> int:
    """Move ``article_ids`` (some, not all, of the evidence) to a new candidate; returns its id."""
    with store.begin() as c:
        cand = _load(c, cid)
        if cand["status"] == "merged":
            raise ReviewError(f"candidate {cid} was merged")
        ev = _evidence_ids(c, cid)
        chosen = sorted({int(a) for a in article_ids})
        if not chosen or any(a not in ev for a in chosen):
            raise ReviewError("choose evidence articles of this candidate to split off")
        if len(chosen) == len(ev):
            raise ReviewError("a split must leave at least one article with the candidate")
        t = now_iso()
        new_name = " ".join((name or "").split())[:300] or cand["name"]
        ex = json.loads(cand["exemplars"] or "[]")
        if name:
            ex = [{"name": new_name}]
        res = c.execute(sa.insert(candidates).values(
            key=f"{cand['key']}#split-{int(time.time() * 1000)}-{len(chosen)}", name=new_name,
            exemplars=json.dumps(ex, ensure_ascii=False), title=cand["title"], field=cand["field"],
            field_conf=cand["field_conf"], deed=cand["deed"], score=cand["score"], label=cand["label"],
            reason=cand["reason"], place=cand["place"], theme=cand["theme"], week=cand["week"],
            stage="phat-hien", status="new", model_version=cand["model_version"], created=t, updated=t))
        new_id = int(res.inserted_primary_key[0])
        first = c.execute(sa.select(articles.c.title).where(articles.c.id == chosen[0])).scalar()
        if first:
            c.execute(sa.update(candidates).where(candidates.c.id == new_id).values(title=first))
        c.execute(sa.delete(candidate_evidence).where(candidate_evidence.c.candidate_id == cid,
                                                      candidate_evidence.c.article_id.in_(chosen)))
        for a in chosen:
            c.execute(sa.insert(candidate_evidence).values(candidate_id=new_id, article_id=a))
        note = _clean_note(note)
        store.add_decision(user, "split", candidate_id=cid, note=note,
                           payload={"new_candidate": new_id, "articles": chosen}, conn=c)
        store.add_decision(user, "split", candidate_id=new_id, note=note,
                           payload={"from": cid, "articles": chosen}, conn=c)
        if name:  # a reviewer-set name: the candidates stage must not overwrite it
            store.add_decision(user, "rename", candidate_id=new_id, note=note,
                               payload={"index": 0, "old": cand["name"], "new": new_name}, conn=c)
        _set(c, cid)
    return new_id


def set_stage(store: Store, cid: int, user: str, stage: str, *, note: str | None = None,
              date: str | None = None) -> None:
    """Move an accepted candidate to a lifecycle step (or add a note to its current one
    when ``stage`` is unchanged). ``date`` (YYYY-MM-DD) defaults to today."""
    if stage not in STAGES:
        raise ReviewError(f"unknown stage {stage!r}")
    day = (date or dt.date.today().isoformat()).strip()
    try:
        dt.date.fromisoformat(day)
    except ValueError as e:
        raise ReviewError(f"date must be YYYY-MM-DD, got {day!r}") from e
    with store.begin() as c:
        cand = _load(c, cid)
        if cand["status"] != "accepted" and stage != "phat-hien":
            raise ReviewError("only accepted candidates move past phát hiện")
        action = "stage" if stage != cand["stage"] else "note"
        store.add_decision(user, action, candidate_id=cid, note=_clean_note(note),
                           payload={"from": cand["stage"], "to": stage, "date": day}, conn=c)
        _set(c, cid, stage=stage)


def stage_log(store: Store, cid: int) -> list[dict[str, Any]]:
    """Lifecycle entries (stage moves and notes) of a candidate, oldest first."""
    with store.connect() as c:
        rows = c.execute(sa.select(decisions).where(decisions.c.candidate_id == cid,
                                                    decisions.c.action.in_(("stage", "note")))
                         .order_by(decisions.c.id)).mappings().all()
    out = []
    for r in rows:
        p = json.loads(r["payload"] or "{}")
        out.append({"stage": p.get("to"), "stage_name": STAGES.get(p.get("to") or "", ""), "from": p.get("from"),
                    "date": p.get("date"), "note": r["note"], "user": r["user"], "at": r["at"],
                    "action": r["action"]})
    return out


def lifecycle(store: Store, stage: str | None = None, limit: int = 500) -> dict[str, Any]:
    """Accepted candidates by lifecycle step: ``{"counts": {stage: n}, "items": [...]}``
    (items of ``stage`` only when given), each with its stage log."""
    with store.connect() as c:
        counts = dict(c.execute(sa.select(candidates.c.stage, sa.func.count())
                                .where(candidates.c.status == "accepted").group_by(candidates.c.stage)).all())
        q = sa.select(candidates).where(candidates.c.status == "accepted")
        if stage:
            if stage not in STAGES:
                raise ReviewError(f"unknown stage {stage!r}")
            q = q.where(candidates.c.stage == stage)
        rows = c.execute(q.order_by(candidates.c.updated.desc()).limit(limit)).all()
    items = [candidate_dict(r) for r in rows]
    for x in items:
        x["stage_log"] = stage_log(store, x["id"])
    return {"counts": {s: int(counts.get(s, 0)) for s in STAGES}, "items": items}


def replay_state(store: Store, cid: int) -> dict[str, Any]:
    """The candidate's status, stage, name, field and deed recomputed from its decisions alone
    (starting from what the machine proposed); equals the ``candidates`` row when nothing
    else wrote to it."""
    with store.connect() as c:
        cand = _load(c, cid)
        rows = c.execute(sa.select(decisions).where(decisions.c.candidate_id == cid)
                         .order_by(decisions.c.id)).mappings().all()
    st: dict[str, Any] = {"status": "new", "stage": "phat-hien", "name": None, "field": None, "deed": None,
                          "merged_into": None}
    for r in rows:
        p = json.loads(r["payload"] or "{}")
        a = r["action"]
        if a in ("accept", "reject", "unsure"):
            st["status"] = {"accept": "accepted", "reject": "rejected", "unsure": "unsure"}[a]
        elif a == "rename" and p.get("index", 0) == 0:
            st["name"] = p.get("new")
        elif a in ("field", "deed"):
            st["field"], st["deed"] = p["new"]["field"], p["new"]["deed"]
        elif a == "merge" and "into" in p:
            st["status"], st["merged_into"] = "merged", p["into"]
        elif a in ("stage", "note"):
            st["stage"] = p.get("to") or st["stage"]
    for k in ("name", "field", "deed"):
        if st[k] is None:
            st[k] = cand[k]
    return st


def label_counts(store: Store) -> dict[str, Any]:
    """Reviewer labels available to ``nguoitot train``: articles with a decision label
    (the latest per article), by label."""
    with store.connect() as c:
        sub = (sa.select(decisions.c.article_id, sa.func.max(decisions.c.id).label("last"))
               .where(decisions.c.label.is_not(None), decisions.c.article_id.is_not(None))
               .group_by(decisions.c.article_id).subquery())
        rows = c.execute(sa.select(decisions.c.label, sa.func.count())
                         .join(sub, sub.c.last == decisions.c.id).group_by(decisions.c.label)).all()
        total_decisions = c.execute(sa.select(sa.func.count()).select_from(decisions)).scalar()
    by = {int(k): int(v) for k, v in rows}
    return {"articles": sum(by.values()), "by_label": {k: by.get(k, 0) for k in (2, 1, 0)},
            "decisions": int(total_decisions or 0)}
