"""Stories: group syndicated copies and near-identical versions of one news item.

Two articles belong to the same Story when one of these holds (the groups are
the connected components of that relation; a story's id is the smallest
article id in it):

- **exact**: the same :func:`pipeline.text.content_hash` (normalised
  title+lead+text), or the same article URL (:func:`url_key`: canonical URL
  without scheme, ``www.``/``m.``, query tracking and fragment; for outlets
  whose URLs end in a numeric article id — VnExpress, Tuổi Trẻ, Thanh Niên,
  Dân trí… — host + that id, because the slug changes when a title is edited
  and section feeds carry the same article under another slug);
- **near**: MinHash (128 permutations, numpy; datasketch's LSH index) over syllable 3-gram
  shingles of the diacritic-folded title+lead+text, candidates from an LSH
  index, accepted when the estimated Jaccard similarity reaches
  :data:`THRESHOLD_LONG` (both texts long) or :data:`THRESHOLD_SHORT` (one of
  them is only a title and a summary, as in RSS), and

  * the numbers in the two titles agree (a lottery result, a daily bulletin
    or a weekly column re-uses its template with new numbers), and
  * when both have a ``published`` time, they lie within
    :data:`WINDOW_DAYS` of each other (the same news is not told again
    months later under the same words; a rerun template is);
  * the day/month each story opens with ("Sáng 22-10, ...") agrees when both
    have one (a follow-up repeats the first report's words and its date,
    but opens with its own);
  * for feed items (no body) the titles overlap too, as syllable sets:
    :data:`TITLE_SHORT` for short items, :data:`TITLE_SUMMARY` for longer
    ones under :data:`THRESHOLD_SHORT` (a series re-uses one summary under
    new headlines).

The thresholds were tuned by reading pairs from the real corpora; see
``benchmarks/dedup_report.py`` and ``tests/golden/dedup_checked.tsv``.

``find_stories(records)`` is the batch function (plain dicts, usable from a
notebook); ``assign_stories(store)`` is the incremental stage over the
``articles`` table. Both go through :class:`StoryIndex`, so they give the
same groups.
"""
from __future__ import annotations

import datetime as dt
import re
import time
import unicodedata
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import numpy as np
from datasketch import LeanMinHash, MinHashLSH

from .text import content_hash

NUM_PERM = 128
SHINGLE = 3  # syllables per shingle
MAX_TOKENS = 800  # syllables read from the start of title+lead+text
SHORT = 60  # fewer shingles than this: a title+summary item
THRESHOLD_LONG = 0.5
THRESHOLD_SHORT = 0.7
LSH_THRESHOLD = 0.45  # candidate generation, a little under the lowest acceptance
WINDOW_DAYS = 7.0
TITLE_SHORT = 0.7  # short items: title syllable-set overlap needed as well
TITLE_SUMMARY = 0.3  # longer items with no body text

__all__ = ["find_stories", "candidate_pairs", "assign_stories", "StoryIndex", "tokens", "shingles",
           "url_key", "NUM_PERM", "THRESHOLD_LONG", "THRESHOLD_SHORT", "WINDOW_DAYS"]


# ---------------------------------------------------------------------------
# Text keys
# ---------------------------------------------------------------------------
_TOKEN = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    """Syllables, lower-cased and without diacritics: a fast dedup key, robust to
    tone placement (hoà/hòa), Unicode form, case, spacing and punctuation.
    (NFD + ASCII instead of text.normalize/strip_diacritics: 5x faster, and the
    key needs no readable form. Non-Latin scripts drop out.)"""
    if not text:
        return []
    t = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return _TOKEN.findall(t.encode("ascii", "ignore").decode("ascii").lower())


def _rec_text(rec: dict) -> str:
    return " ".join(str(rec.get(k) or "") for k in ("title", "lead", "summary", "text"))


_MASK32 = np.uint64(0xFFFFFFFF)
_K = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9))
_rng = np.random.RandomState(1)
_A = _rng.randint(0, 1 << 31, NUM_PERM).astype(np.uint64) * np.uint64(2) + np.uint64(1)  # odd: a bijection
_B = _rng.randint(0, 1 << 32, NUM_PERM, dtype=np.uint64)
del _rng


def shingles(rec: dict, k: int = SHINGLE) -> np.ndarray:
    """Distinct 32-bit hashes of the record's k-syllable shingles (deterministic:
    crc32 of each syllable, combined and mixed in numpy)."""
    toks = tokens(_rec_text(rec))[:MAX_TOKENS]
    if not toks:
        return np.zeros(0, dtype=np.uint64)
    t = np.fromiter((zlib.crc32(x.encode()) for x in toks), dtype=np.uint64, count=len(toks))
    if len(t) < k:
        t = np.concatenate([t, np.zeros(k - len(t), dtype=np.uint64)])
    with np.errstate(over="ignore"):
        x = np.zeros(len(t) - k + 1, dtype=np.uint64)
        for i in range(k):
            x = x * _K[0] + t[i:len(t) - k + 1 + i] * _K[1]
        x ^= x >> np.uint64(29)
        x *= _K[2]
        x ^= x >> np.uint64(32)
    return np.unique(x & _MASK32)


def _minhash(h: np.ndarray) -> LeanMinHash | None:
    """MinHash of a set of 32-bit hashes: min over the set of (a*h + b) mod 2^32,
    for NUM_PERM odd a; wrapped as datasketch's LeanMinHash for its LSH index."""
    if not len(h):
        return None
    with np.errstate(over="ignore"):
        sig = ((h[:, None] * _A[None, :] + _B[None, :]) & _MASK32).min(axis=0)
    return LeanMinHash(seed=1, hashvalues=sig.astype(np.uint32), scheme="affine32")


_NUM = re.compile(r"\d+(?:[.,]\d+)*")


def _title_numbers(rec: dict) -> frozenset[str]:
    return frozenset(n.replace(",", ".") for n in _NUM.findall(str(rec.get("title") or "")))


_DAY_MONTH = re.compile(r"(?<![\d/.-])(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(?:19|20)\d{2})?(?![\d/-])")


def _event_date(rec: dict, chars: int = 400) -> tuple[int, int] | None:
    """The day/month the story opens with ("Sáng 22-10, ...", "Ngày 9/3, ..."): Vietnamese
    news puts the reporting date first; a follow-up repeats the event's date later on."""
    head = " ".join(str(rec.get(k) or "") for k in ("lead", "summary"))
    head += " " + str(rec.get("text") or "")[:chars]
    for d, m in _DAY_MONTH.findall(head):
        d, m = int(d), int(m)
        if 1 <= d <= 31 and 1 <= m <= 12:
            return d, m
    return None


_TRACKING = re.compile(r"^(utm_|fbclid|gclid|zarsrc|zarsrc|gidzl|ref$|source$|itm_|cmp$)", re.I)
_ARTICLE_ID = re.compile(r"(\d{6,})(?:\.[a-z]{2,5})?/?$")


def url_key(url: str | None) -> str | None:
    """One key per article URL (see the module docstring)."""
    if not url or not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if not host:
        return None
    for p in ("www.", "m.", "amp."):
        if host.startswith(p):
            host = host[len(p):]
    path = parts.path or "/"
    m = _ARTICLE_ID.search(path)
    if m:
        return f"{host}#{m.group(1)}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if not _TRACKING.match(k)))
    path = re.sub(r"/amp/?$|/+$", "", path) or "/"
    return f"{host}{path}" + (f"?{query}" if query else "")


def _published(rec: dict) -> float | None:
    v = rec.get("published")
    if not v:
        return None
    try:
        d = dt.datetime.fromisoformat(str(v).replace("Z", "+00:00"))
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=dt.timezone(dt.timedelta(hours=7)))
    return d.timestamp()


def _sortkey(x: Any) -> tuple:
    return (0, x, "") if isinstance(x, (int, float)) else (1, 0, str(x))


# ---------------------------------------------------------------------------
# The index
# ---------------------------------------------------------------------------
class StoryIndex:
    """Union-find of records plus the exact-key maps and the LSH index.

    ``add(rec)`` files one record (dict with ``id`` and title/lead/text, and
    optional ``url``/``canonical_url``, ``published``, ``content_hash``) and
    returns the pairs it made with records already in the index.
    """

    def __init__(self, threshold_long: float = THRESHOLD_LONG, threshold_short: float = THRESHOLD_SHORT,
                 window_days: float | None = WINDOW_DAYS,
                 lsh_threshold: float | None = None):
        self.threshold_long = threshold_long
        self.threshold_short = threshold_short
        self.window = window_days * 86400 if window_days else None
        lo = min(threshold_long, threshold_short)
        self.lsh = MinHashLSH(threshold=lsh_threshold or max(0.05, min(LSH_THRESHOLD, lo - 0.05)),
                              num_perm=NUM_PERM)
        self.parent: dict[Any, Any] = {}
        self.by_hash: dict[str, Any] = {}
        self.by_url: dict[str, Any] = {}
        self.info: dict[Any, tuple] = {}  # id -> (minhash, n_shingles, title numbers, published, ...)
        self.chash: dict[Any, int] = {}  # id -> first 60 bits of its content hash

    # -- union-find ------------------------------------------------------
    def find(self, x: Any) -> Any:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: Any, b: Any) -> Any:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        keep, other = (ra, rb) if _sortkey(ra) <= _sortkey(rb) else (rb, ra)
        self.parent[other] = keep
        return keep

    def story(self, x: Any) -> Any:
        return self.find(x)

    def __contains__(self, x: Any) -> bool:
        return x in self.info

    def __len__(self) -> int:
        return len(self.info)

    # -- filing ----------------------------------------------------------
    def minhashes(self, recs: list[dict]) -> list[tuple[Any, int]]:
        out = []
        for r in recs:
            h = shingles(r)
            out.append((_minhash(h), len(h)))
        return out

    def add(self, rec: dict, mh: tuple[Any, int] | None = None,
            story: Any = None) -> list[tuple[Any, Any, str, float]]:
        """File one record. With ``story`` (a stored story id already in the
        index) the record joins it without matching (rebuilding from a store)."""
        rid = rec["id"]
        if rid in self.info:
            return []
        self.parent.setdefault(rid, rid)
        m, n = mh if mh is not None else self.minhashes([rec])[0]
        self.info[rid] = (m, n, _title_numbers(rec), _published(rec), _event_date(rec),
                          frozenset(tokens(str(rec.get("title") or ""))), not rec.get("text"))
        pairs: list[tuple[Any, Any, str, float]] = []
        h = rec.get("content_hash") or content_hash(rec.get("title") or "", rec.get("lead") or rec.get("summary") or "",
                                                    rec.get("text") or "")
        self.chash[rid] = _h64(h)
        u = url_key(rec.get("canonical_url") or rec.get("url") or rec.get("link"))
        if story is not None:
            self.parent.setdefault(story, story)
            self.union(rid, story)
            self.by_hash.setdefault(h, rid)
            if u:
                self.by_url.setdefault(u, rid)
            if m is not None:
                self.lsh.insert(rid, m, check_duplication=False)
            return pairs
        if h in self.by_hash:
            pairs.append((self.by_hash[h], rid, "exact", 1.0))
        else:
            self.by_hash[h] = rid
        if u:
            if u in self.by_url:
                if not pairs or pairs[-1][0] != self.by_url[u]:
                    pairs.append((self.by_url[u], rid, "url", 1.0))
            else:
                self.by_url[u] = rid
        for a, b, _, _ in pairs:
            self.union(a, b)
        if m is not None:
            for other in sorted(self.lsh.query(m), key=_sortkey):
                if self.find(other) == self.find(rid):
                    continue  # already joined (exact copy, or through another member)
                j = self._near(rid, other)
                if j is not None:
                    pairs.append((other, rid, "near", j))
                    self.union(other, rid)
            self.lsh.insert(rid, m, check_duplication=False)
        return pairs

    def _near(self, a: Any, b: Any) -> float | None:
        ma, na, numa, ta, da, tta, summary_a = self.info[a]
        mb, nb, numb, tb, db, ttb, summary_b = self.info[b]
        j = ma.jaccard(mb)
        short = min(na, nb) < SHORT
        if j < (self.threshold_short if short else self.threshold_long):
            return None
        if numa != numb:
            return None  # "Xổ số ngày 9 tháng 11" is not "ngày 16 tháng 11"
        if da and db and da != db:
            return None  # "Sáng 22-10 ..." and "Chiều 24-10 ...": a follow-up, not a copy
        if self.window and ta is not None and tb is not None and abs(ta - tb) > self.window:
            return None
        if (short or ((summary_a or summary_b) and j < THRESHOLD_SHORT)) and tta and ttb:
            # feed items (title + summary): a series re-uses one summary template under
            # new headlines ("<film> | Phim ngắn Vietnamese 2026"), so the titles must agree too
            overlap = len(tta & ttb) / len(tta | ttb)
            if overlap < (TITLE_SHORT if short else TITLE_SUMMARY):
                return None
        return round(j, 3)


# ---------------------------------------------------------------------------
# Batch
# ---------------------------------------------------------------------------
def _ordered(records: Iterable[dict]) -> list[dict]:
    return sorted(records, key=lambda r: _sortkey(r["id"]))


def candidate_pairs(records: list[dict], index: StoryIndex | None = None,
                    batch: int = 2000, **params: Any) -> list[tuple[Any, Any, str, float]]:
    """Every matching pair ``(earlier id, later id, "exact"|"url"|"near", jaccard)``."""
    index = index if index is not None else StoryIndex(**params)
    recs = _ordered(records)
    out: list[tuple[Any, Any, str, float]] = []
    for i in range(0, len(recs), batch):
        chunk = recs[i:i + batch]
        for rec, mh in zip(chunk, index.minhashes(chunk)):
            out.extend(index.add(rec, mh))
    return out


def find_stories(records: list[dict], **params: Any) -> dict[Any, Any]:
    """Map each record's ``id`` to its story id (the smallest id in its group).

    ``params`` override the thresholds: ``threshold_long``, ``threshold_short``,
    ``window_days`` (None: no time window).
    """
    index = StoryIndex(**params)
    candidate_pairs(records, index=index)
    return {rid: index.story(rid) for rid in index.info}


def groups(stories: dict[Any, Any]) -> dict[Any, list[Any]]:
    """story id -> member ids (for stories of two or more)."""
    g: dict[Any, list[Any]] = defaultdict(list)
    for rid, sid in stories.items():
        g[sid].append(rid)
    return {k: sorted(v, key=_sortkey) for k, v in g.items() if len(v) > 1}


# ---------------------------------------------------------------------------
# Incremental, over the store
# ---------------------------------------------------------------------------
_CACHE: dict[str, tuple[StoryIndex, int, int]] = {}  # store url -> (index, n assigned, max id)


def _rows(store, where, batch: int = 2000) -> Iterator[list[dict]]:
    import sqlalchemy as sa

    from .store import articles
    cols = [articles.c.id, articles.c.title, articles.c.lead, articles.c.text, articles.c.url,
            articles.c.uid, articles.c.published, articles.c.content_hash, articles.c.story_id]
    last = 0
    while True:
        q = sa.select(*cols).where(articles.c.id > last).where(where).order_by(articles.c.id).limit(batch)
        with store.engine.connect() as c:
            rows = [dict(r) for r in c.execute(q).mappings()]
        if not rows:
            return
        for r in rows:
            if not r.get("url") and str(r.get("uid") or "").startswith("http"):
                r["url"] = r["uid"]
        yield rows
        last = rows[-1]["id"]


def _assigned_state(store) -> tuple[int, int]:
    import sqlalchemy as sa

    from .store import articles
    with store.engine.connect() as c:
        n, mx = c.execute(sa.select(sa.func.count(), sa.func.max(articles.c.id))
                          .where(articles.c.story_id.is_not(None))).one()
    return int(n or 0), int(mx or 0)


def _sig_path(store) -> Path | None:
    """Where the MinHash signatures of a SQLite store are kept (beside the database file)."""
    url = store.url
    if not url.startswith("sqlite:///") or ":memory:" in url:
        return None
    return Path(url[len("sqlite:///"):] + ".minhash.npz")


def _h64(content_hash: str | None) -> int:
    return int((content_hash or "0")[:15], 16)


def _load_sigs(store) -> dict[int, tuple[int, np.ndarray, int]]:
    path = _sig_path(store)
    if path is None or not path.exists():
        return {}
    try:
        with np.load(path) as z:
            if z["sigs"].shape[1:] != (NUM_PERM,):
                return {}
            return {int(i): (int(h), sig, int(n)) for i, h, sig, n in zip(z["ids"], z["hashes"], z["sigs"], z["n"])}
    except (OSError, ValueError, KeyError):  # a damaged cache is rebuilt
        return {}


def _save_sigs(store, index: StoryIndex) -> None:
    path = _sig_path(store)
    if path is None:
        return
    ids = [rid for rid, info in index.info.items() if isinstance(rid, int) and info[0] is not None]
    if not ids:
        return
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, ids=np.array(ids, dtype=np.int64),
             hashes=np.array([index.chash.get(i, 0) for i in ids], dtype=np.int64),
             sigs=np.stack([np.asarray(index.info[i][0].hashvalues, dtype=np.uint32) for i in ids]),
             n=np.array([index.info[i][1] for i in ids], dtype=np.int32))
    tmp.replace(path)


def load_index(store, **params: Any) -> StoryIndex:
    """The index of every article that already has a story, rebuilt from the store
    (kept in memory per store URL while the store does not change behind it).

    For a SQLite store the signatures are also kept beside the database
    (``<db>.minhash.npz``, keyed by article id and content hash), so a new
    process rebuilds the index without re-reading whole texts; a missing,
    stale or damaged file only costs time."""
    state = _assigned_state(store)
    cached = _CACHE.get(store.url)
    if cached and (cached[1], cached[2]) == state and not params:
        return cached[0]
    from .store import articles
    index = StoryIndex(**params)
    sigs = _load_sigs(store)
    for rows in _rows(store, articles.c.story_id.is_not(None)):
        mhs: list[tuple[Any, int] | None] = []
        missing = []
        for r in rows:
            hit = sigs.get(r["id"])
            if hit is not None and hit[0] == _h64(r["content_hash"]):
                mhs.append((LeanMinHash(seed=1, hashvalues=hit[1], scheme="affine32") if hit[2] else None, hit[2]))
            else:
                mhs.append(None)
                missing.append(r)
        computed = iter(index.minhashes(missing))
        for rec, mh in zip(rows, mhs):
            index.add(rec, mh if mh is not None else next(computed), story=rec["story_id"])
    _CACHE[store.url] = (index, *state)
    return index


def assign_stories(store, since_id: int = 0, **params: Any) -> dict[str, Any]:
    """Set ``articles.story_id`` where it is NULL (and ``id > since_id``),
    matching new articles against earlier ones and each other.

    A new article that joins two existing stories merges them (the larger
    story id is rewritten to the smaller), so the groups are those
    :func:`find_stories` gives on the same rows. Returns stats.
    """
    import sqlalchemy as sa

    from .store import articles
    t0 = time.perf_counter()
    index = load_index(store, **params)
    t_index = time.perf_counter() - t0
    stats = {"indexed": len(index), "new": 0, "joined": 0, "merged_stories": 0,
             "pairs": {"exact": 0, "url": 0, "near": 0}}
    where = sa.and_(articles.c.story_id.is_(None), articles.c.id > since_id)
    new_ids: list[int] = []
    for rows in _rows(store, where):
        for rec, mh in zip(rows, index.minhashes(rows)):
            pairs = index.add(rec, mh)
            new_ids.append(rec["id"])
            stats["new"] += 1
            if pairs:
                stats["joined"] += 1
            for _, _, kind, _ in pairs:
                stats["pairs"][kind] += 1
    with store.engine.begin() as c:
        # stories merged by a new article: rewrite the larger story id to the root
        old = c.execute(sa.select(articles.c.story_id).where(articles.c.story_id.is_not(None))
                        .distinct()).scalars().all()
        remap = {sid: index.find(sid) for sid in old if sid in index.parent and index.find(sid) != sid}
        for sid, root in remap.items():
            c.execute(sa.update(articles).where(articles.c.story_id == sid).values(story_id=root))
        stats["merged_stories"] = len(remap)
        updates = [{"aid": aid, "sid": index.find(aid)} for aid in new_ids]
        for i in range(0, len(updates), 5000):
            c.execute(sa.update(articles).where(articles.c.id == sa.bindparam("aid"))
                      .values(story_id=sa.bindparam("sid")), updates[i:i + 5000])
    if new_ids:
        _save_sigs(store, index)
    stats["seconds"] = round(time.perf_counter() - t0, 3)
    stats["index_seconds"] = round(t_index, 3)
    _CACHE[store.url] = (index, *_assigned_state(store))
    return stats
