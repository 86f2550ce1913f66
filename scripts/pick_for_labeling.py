#!/usr/bin/env python3
"""Pick press articles for the team-natural label set (corpora/labels/team-natural.jsonl).

Reproducible: fixed seed, deterministic model. Prints the picks (stratum, id,
score, title) as TSV on stdout; with --out FILE also writes them as JSON lines.

Three strata, disjoint, none in seed.jsonl and none whose normalised text
equals a seed item's text (the press file repeats stories under other ids):

* random-team     -- uniform random draw from all remaining press articles.
* hard-novocab    -- articles NOT matching the seed vocabulary pattern, ranked
                     by a seed-trained TF-IDF + logistic regression (P(label 2)):
                     the top N_HARD_TOP, plus N_HARD_KW drawn at random among
                     non-vocabulary articles whose title+lead contain one of the
                     extra "good deed" words below (cứu, giúp, trao tặng, ...).
* uncertain-vocab -- articles matching the vocabulary pattern with model
                     score in [0.2, 0.8], drawn at random.
* random-team (extension) -- a further 100 drawn uniformly with seed SEED+1
                     from the pool minus the first random draw (printed last).

Within each stratum the picks are shuffled (fixed seed) so that any prefix
that gets labelled is a fair subsample of the stratum.

Usage: nice python3 scripts/pick_for_labeling.py [--press PATH] [--seed-labels PATH] [--out FILE]
"""
import argparse
import gzip
import hashlib
import json
import random
import re
import sys

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

SEED = 20261201
N_RANDOM = 150
N_HARD_TOP = 110
N_HARD_KW = 40
N_UNCERTAIN = 150
N_RANDOM_EXTRA = 100  # second uniform draw (own seed) added after the first 450 were labelled
UNC_LO, UNC_HI = 0.2, 0.8

VOCAB = re.compile(
    "cứu người|cứu sống|cứu nạn|dũng cảm|lao xuống|cứu hỏa|cứu hộ|nhặt được|trả lại|của rơi|"
    "người tốt|việc tốt|tấm gương|gương sáng|điển hình|tiên tiến|hiến máu|hiến tạng|hiến đất|"
    "từ thiện|thiện nguyện|tình nguyện|nghĩa cử|tuyên dương|bằng khen|khen thưởng|vinh danh|"
    "sáng kiến|sáng chế|vượt khó|giúp đỡ|quyên góp|tấm lòng|nghĩa tình|bắt cướp|truy đuổi|"
    "tố giác|người hùng|anh hùng|cống hiến|tận tụy|cứu giúp|nhường|ân nhân"
)
EXTRA = re.compile(
    r"\bcứu\b|\bgiúp\b|trao tặng|\bkhen\b|\bhiến\b|tận tâm|\bgương\b|nghĩa\b|bắt giữ|kịp thời|"
    r"\btặng\b|thầy cô|bác sĩ|\bhọc bổng|mổ thành công|phẫu thuật thành công|khống chế|"
    r"mang trả|đuổi theo|quên trên|đánh rơi"
)


def norm_text(d):
    t = " ".join((d.get("title") or "", d.get("lead") or "", d.get("text") or ""))
    t = re.sub(r"\W+", " ", t.lower()).strip()
    return hashlib.md5(t.encode()).hexdigest()


def is_vocab(d):
    tl = ((d.get("title") or "") + " " + (d.get("lead") or "")).lower()
    if VOCAB.search(tl):
        return True
    body = (d.get("text") or "")[:600].lower()
    return len(VOCAB.findall(body)) >= 2


def doc(d):
    return " ".join((d.get("title") or "", d.get("lead") or "", (d.get("text") or "")[:3000]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--press", default="/work/shared/corpora/press.jsonl.gz")
    ap.add_argument("--seed-labels", default="/work/shared/corpora/labels/seed.jsonl")
    ap.add_argument("--out")
    a = ap.parse_args()

    seed = {}
    for line in open(a.seed_labels, encoding="utf-8"):
        r = json.loads(line)
        seed[r["id"]] = r["label"]
    arts = []
    with gzip.open(a.press, "rt", encoding="utf-8") as f:
        for line in f:
            arts.append(json.loads(line))
    arts.sort(key=lambda d: d["id"])  # deterministic order
    seed_hashes = {norm_text(d) for d in arts if d["id"] in seed}
    train = [d for d in arts if d["id"] in seed]
    pool, seen = [], set(seed_hashes)
    for d in arts:
        if d["id"] in seed:
            continue
        h = norm_text(d)
        if h in seen:  # duplicate of a seed text or of an earlier pool article
            continue
        seen.add(h)
        pool.append(d)
    print(f"# press {len(arts)}  seed {len(train)}  pool (dedup, no seed) {len(pool)}", file=sys.stderr)

    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, max_features=200000, sublinear_tf=True, lowercase=True)
    Xtr = vec.fit_transform([doc(d) for d in train])
    ytr = np.array([1 if seed[d["id"]] == 2 else 0 for d in train])
    clf = LogisticRegression(C=10.0, max_iter=2000, class_weight="balanced")
    clf.fit(Xtr, ytr)
    scores = clf.predict_proba(vec.transform([doc(d) for d in pool]))[:, 1]
    vocab = [is_vocab(d) for d in pool]
    print(f"# pool vocab {sum(vocab)}  non-vocab {len(pool) - sum(vocab)}", file=sys.stderr)

    rng = random.Random(SEED)
    idx = list(range(len(pool)))
    picks = []  # (stratum, i)
    taken = set()

    r_idx = rng.sample(idx, N_RANDOM)
    picks += [("random-team", i) for i in r_idx]
    taken.update(r_idx)

    nv = sorted((i for i in idx if not vocab[i] and i not in taken), key=lambda i: -scores[i])
    top = nv[:N_HARD_TOP]
    taken.update(top)
    kw_pool = [i for i in nv[N_HARD_TOP:]
               if EXTRA.search(((pool[i].get("title") or "") + " " + (pool[i].get("lead") or "")).lower())]
    kw = rng.sample(kw_pool, min(N_HARD_KW, len(kw_pool)))
    taken.update(kw)
    hard = [("hard-novocab", i) for i in top + kw]
    rng.shuffle(hard)
    picks += hard
    print(f"# hard: top-{N_HARD_TOP} score range {scores[top[-1]]:.3f}-{scores[top[0]]:.3f}; "
          f"extra-keyword pool {len(kw_pool)}", file=sys.stderr)

    unc = [i for i in idx if vocab[i] and i not in taken and UNC_LO <= scores[i] <= UNC_HI]
    print(f"# uncertain-vocab pool {len(unc)}", file=sys.stderr)
    u = rng.sample(unc, min(N_UNCERTAIN, len(unc)))
    picks += [("uncertain-vocab", i) for i in u]

    # Extension of random-team: an independent uniform draw (seed SEED+1) from the
    # pool minus the first random-team draw. An item that the other strata had
    # already picked is reported (stratum "random-team-overlap") rather than dropped,
    # so the extension stays a uniform sample.
    first_random = set(r_idx)
    rest = [i for i in idx if i not in first_random]
    extra = random.Random(SEED + 1).sample(rest, N_RANDOM_EXTRA)
    picked_other = {i for s, i in picks if s != "random-team"}
    for i in extra:
        picks.append(("random-team-overlap" if i in picked_other else "random-team", i))

    out = open(a.out, "w", encoding="utf-8") if a.out else None
    for k, (s, i) in enumerate(picks):
        d = pool[i]
        how = "top" if (s == "hard-novocab" and i in top) else ("kw" if s == "hard-novocab" else "")
        print(f"{s}\t{d['id']}\t{scores[i]:.3f}\t{int(vocab[i])}\t{how}\t{(d.get('title') or '')[:80]}")
        if out:
            out.write(json.dumps({"order": k, "stratum": s, "how": how, "id": d["id"],
                                  "score": round(float(scores[i]), 4)}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
