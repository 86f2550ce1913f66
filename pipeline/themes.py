"""Themes of a week's candidates, so a reviewer sees "12 rescues from drowning, 5 returned
wallets" before the details.

BERTopic's recipe with swappable steps: embed (or take precomputed vectors) → cluster
(average-linkage agglomerative by default, scikit-learn's HDBSCAN on request) → give
outliers to a theme they sit inside → split any theme that would
swallow most candidates → label each theme with class-based TF-IDF over segmented Vietnamese
words (underthesea), so the label is made of words that set the theme apart from the
others ("đuối nước · cứu · vớt"). Candidates no theme holds are one outlier group, shown,
never dropped.

A candidate is a dict with at least ``title`` (and optionally ``reason``, ``deed``, ``id``);
``members`` in the result are indices into the list given.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any, Sequence

import numpy as np

from .text import fold

OUTLIER_LABEL = "Khác (chưa xếp nhóm)"

# Words too common in this domain (or in Vietnamese news) to tell one theme from another.
STOPWORDS = set("""
và của là có được cho các những một này đã với người trong không đến khi đi từ ra vào như
để về lại tại thì mà cũng rất nhiều năm ngày sau bị làm còn nên theo trên đó nhưng vì đang sẽ
hơn đây nhà chỉ ông bà anh chị em cháu cô chú bác tháng mới cùng việc hai ba gì ai nào hay vẫn
tuổi nói thêm vừa qua khoảng trước số lần tiếp rồi lúc bạn họ mình chúng tôi chúng_tôi
người_dân ngày_càng hiện_nay thông_tin cho_biết đồng_thời tuy_nhiên trong_khi bên_cạnh
sự cuộc phải nay tới nữa rằng thấy biết đều vậy xã huyện tỉnh phường quận thành_phố tp hcm
""".split())

_WORD_OK = re.compile(r"^[^\W\d_][\w_]*$")

# Words that say a candidate was commended, not what the deed was: never a theme's label.
LABEL_STOPWORDS = set("""
bằng khen tặng trao thưởng khen_thưởng bằng_khen tuyên_dương trao_tặng giấy_khen biểu_dương
tặng_bằng khen_tặng vinh_danh gương điển_hình tấm_gương
""".split())
# Stopwords that still make a good second half of a two-word term ("cứu người", "của rơi").
_BIGRAM_OK = {"người", "nhà", "em", "cháu", "bà", "ông"}


def candidate_text(c: dict) -> str:
    return ". ".join(x for x in (c.get("title"), c.get("reason"), c.get("text")) if x)


def segment(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased segmented words ('đuối_nước'), stopwords and numbers out."""
    try:
        from underthesea import word_tokenize
    except ImportError:  # pragma: no cover - core dependency
        word_tokenize = None
    out = []
    for t in texts:
        t = fold(t)
        toks = ([w.replace(" ", "_") for w in word_tokenize(t)] if word_tokenize and t
                else re.findall(r"[^\W_]+", t))
        toks = [w for w in toks if _WORD_OK.match(w) and len(w) > 1]
        words = [w for w in toks if w not in STOPWORDS]
        # two-word terms as well (BERTopic's n-gram range (1, 2)): the segmenter leaves many
        # compounds ("đuối nước", "của rơi") as single syllables
        words += [f"{a}_{b}" for a, b in zip(toks, toks[1:])
                  if "_" not in a + b and a not in STOPWORDS and (b not in STOPWORDS or b in _BIGRAM_OK)]
        out.append(words)
    return out


def label_words(scored: Sequence[tuple[str, float]], top_n: int = 3) -> list[str]:
    """The theme's label: its best c-TF-IDF terms, commendation words left out, and no term
    repeating a syllable of a better one ("đuối nước" then not "đuối")."""
    out: list[str] = []
    used: set[str] = set()
    for w, _ in scored:
        parts = set(w.split("_"))
        if w in LABEL_STOPWORDS or parts & used or parts <= LABEL_STOPWORDS:
            continue
        out.append(w)
        used |= parts
        if len(out) == top_n:
            break
    return out


def ctfidf_labels(docs_words: list[list[str]], assignment: Sequence[int], top_n: int = 3,
                  min_docs: int = 2) -> dict[int, list[tuple[str, float]]]:
    """Class-based TF-IDF (BERTopic): per class, tf of a word in the class's concatenated
    documents × log(1 + A / f(word)), A the mean words per class, f the word's frequency over
    all classes. Words found in one document only are not labels (names, places)."""
    classes = sorted(set(assignment))
    tf = {k: Counter() for k in classes}
    docfreq: dict[int, Counter] = {k: Counter() for k in classes}
    for words, k in zip(docs_words, assignment):
        tf[k].update(words)
        docfreq[k].update(set(words))
    total = Counter()
    for k in classes:
        total.update(tf[k])
    avg = sum(total.values()) / max(1, len(classes))
    out = {}
    for k in classes:
        n_docs = sum(1 for a in assignment if a == k)
        norm = sum(tf[k].values()) or 1
        scored = []
        for w, f in tf[k].items():
            if n_docs > 1 and docfreq[k][w] < min_docs:
                continue
            scored.append((w, f / norm * math.log(1 + avg / total[w])))
        scored.sort(key=lambda x: (-x[1], x[0]))
        out[k] = scored[:top_n]
    return out


def hdbscan_clusters(emb: np.ndarray, min_size: int = 3) -> np.ndarray:
    """scikit-learn's HDBSCAN (BERTopic's default); -1 for outliers."""
    from sklearn.cluster import HDBSCAN
    if len(emb) < max(3, min_size):
        return np.full(len(emb), -1)
    return HDBSCAN(min_cluster_size=min_size, min_samples=max(1, min_size - 1),
                   metric="euclidean", copy=True).fit_predict(emb)


def agglomerative_clusters(emb: np.ndarray, k: int | None = None) -> np.ndarray:
    """Average-linkage cosine clustering into about 1.5·sqrt(n) themes (at most 40);
    themes of one are outliers (-1). The default: on a week's candidates it keeps far fewer
    outliers than HDBSCAN at the same purity (measured on the seed label-2 articles)."""
    n = len(emb)
    if n < 3:
        return np.full(n, -1)
    k = k or int(min(40, max(2, round(1.5 * math.sqrt(n)))))
    return _agglomerative(emb, k)


def _agglomerative(emb: np.ndarray, k: int) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering
    k = min(k, len(emb))
    if k < 2:
        return np.zeros(len(emb), int)
    lab = AgglomerativeClustering(n_clusters=k, metric="cosine", linkage="average").fit_predict(emb)
    sizes = Counter(lab)
    return np.array([l if sizes[l] >= 2 else -1 for l in lab])


def _reduce_outliers(emb: np.ndarray, lab: np.ndarray, quantile: float = 0.25) -> np.ndarray:
    """Give an outlier to the nearest theme when it sits within that theme's radius (cosine to
    the centroid at least the ``quantile`` of the members' own): BERTopic's reduce_outliers."""
    lab = lab.copy()
    ks = sorted(k for k in set(lab.tolist()) if k >= 0)
    if not ks or (lab >= 0).all():
        return lab
    cents, radius = [], []
    for k in ks:
        m = emb[lab == k]
        c = m.mean(axis=0)
        c /= np.linalg.norm(c) or 1.0
        cents.append(c)
        radius.append(float(np.quantile(m @ c, quantile)))
    cents = np.stack(cents)
    radius = np.array(radius)
    for i in np.where(lab < 0)[0]:
        s = cents @ emb[i]
        j = int(np.argmax(s))
        if s[j] >= radius[j]:
            lab[i] = ks[j]
    return lab


def _split_big(emb: np.ndarray, lab: np.ndarray, max_share: float) -> np.ndarray:
    """Split (in two, recursively) any cluster holding more than ``max_share`` of all items."""
    n = len(lab)
    lab = lab.copy()
    limit = max(2, int(max_share * n))
    for _ in range(20):
        sizes = Counter(l for l in lab if l >= 0)
        big = [l for l, s in sizes.items() if s > limit]
        if not big:
            break
        for l in big:
            idx = np.where(lab == l)[0]
            from sklearn.cluster import AgglomerativeClustering
            sub = AgglomerativeClustering(n_clusters=2, metric="cosine", linkage="average").fit_predict(emb[idx])
            if min(Counter(sub).values()) < 2:  # average linkage peeled one off: use ward-like split
                sub = AgglomerativeClustering(n_clusters=2, linkage="ward").fit_predict(emb[idx])
            nxt = lab.max() + 1
            for i, s in zip(idx, sub):
                if s == 1:
                    lab[i] = nxt
        # a split may leave singletons: they are outliers
        sizes = Counter(lab)
        lab = np.array([l if l < 0 or sizes[l] >= 2 else -1 for l in lab])
    return lab


def themes(candidates: Sequence[dict], embeddings: np.ndarray | None = None, *, embedder=None,
           max_share: float = 0.35, top_n: int = 3, cluster=None,
           reduce_outliers: bool = True) -> list[dict[str, Any]]:
    """Group candidates into themes: ``[{label, words, size, members, is_outlier_group}]``,
    largest first, the outlier group (if any) last. No theme holds more than ``max_share`` of
    the candidates (when there are 10 or more).

    Swappable steps: ``embeddings`` (precomputed, one row per candidate) or ``embedder``;
    ``cluster(emb) -> labels`` (:func:`agglomerative_clusters` by default,
    :func:`hdbscan_clusters` as BERTopic does); the c-TF-IDF labelling."""
    n = len(candidates)
    if n == 0:
        return []
    texts = [candidate_text(c) for c in candidates]
    if embeddings is None:
        if embedder is None:
            from .embed import get_embedder
            embedder = get_embedder()
        embeddings = embedder.encode(texts)
    emb = np.asarray(embeddings, dtype=np.float32)
    lab = np.asarray((cluster or agglomerative_clusters)(emb))
    if reduce_outliers:
        lab = _reduce_outliers(emb, lab)
    if n >= 10:
        lab = _split_big(emb, lab, max_share)
    words = segment(texts)
    labels = ctfidf_labels(words, list(lab), top_n=top_n * 8)
    _loose: dict[int, list[tuple[str, float]]] = {}

    def loose_labels() -> dict[int, list[tuple[str, float]]]:
        if not _loose:
            _loose.update(ctfidf_labels(words, list(lab), top_n=top_n * 8, min_docs=1))
        return _loose
    out = []
    for k in sorted(set(lab.tolist())):
        members = [int(i) for i in np.where(lab == k)[0]]
        if k < 0:
            continue
        ws = label_words(labels.get(k, []), top_n)
        if not ws:  # a small theme whose members share no word: its most telling words all the same
            ws = label_words(loose_labels().get(k, []), top_n)
        label = " · ".join(w.replace("_", " ") for w in ws) or "—"
        out.append(dict(label=label, words=ws, size=len(members), members=members,
                        is_outlier_group=False))
    out.sort(key=lambda t: (-t["size"], t["members"][0]))
    outliers = [int(i) for i in np.where(lab < 0)[0]]
    if outliers:
        out.append(dict(label=OUTLIER_LABEL, words=[], size=len(outliers), members=outliers,
                        is_outlier_group=True))
    return out


def assign_themes(store, week: str, *, embedder=None, **kw) -> list[dict[str, Any]]:
    """Compute the themes of ``week``'s candidates (not merged away) and store each
    candidate's theme label in ``candidates.theme``. Returns the themes with candidate ids."""
    import sqlalchemy as sa
    from .store import candidates as C

    with store.connect() as c:
        rows = [dict(r._mapping) for r in c.execute(
            sa.select(C.c.id, C.c.title, C.c.reason, C.c.deed, C.c.theme)
            .where(C.c.week == week).where(C.c.status != "merged").order_by(C.c.id))]
    if not rows:
        return []
    if embedder is None:
        from .embed import get_embedder
        embedder = get_embedder()
    from .embed import cached_encode
    emb = cached_encode(store, embedder, [candidate_text(r) for r in rows])
    result = themes(rows, emb, **kw)
    with store.begin() as c:
        for t in result:
            for i in t["members"]:
                if rows[i]["theme"] != t["label"]:
                    c.execute(sa.update(C).where(C.c.id == rows[i]["id"]).values(theme=t["label"]))
            t["ids"] = [rows[i]["id"] for i in t["members"]]
    return result
