"""Exemplar-name precision and recall against the seed labels' exemplars.

    nice python benchmarks/eval_exemplars.py [--limit N] [--show K] [--show-context K] [--team N | --dev N]
                                             [--select model|rules]

``--select``: the learned selector (``pipeline.exemplar_select``, the default, trained on team items
outside the dev and check sets) or the hand-set thresholds it replaced.

Items: seed labels with label 2 (the heuristics of ``pipeline.nlp.exemplars`` were tuned on
them), or with ``--team N`` a seeded random N of the team's label-2 items
(``corpora/labels/team*.jsonl``, our readers' exemplars): a check on articles the tuning
never saw. ``--team 200`` is the **check set**: never read for tuning. ``--dev N`` is a seeded
random N of the other team label-2 items (the check set's 200 excluded, drawn with the same code
so the check set stays identical): read its errors (``--show``) when tuning, not the check set's.
A predicted name matches a gold exemplar when one normalised name
(pipeline.nlp.normalize_name, case-folded) contains the other on syllable boundaries.
Precision = matched predictions / predictions; recall = matched gold exemplars / gold
exemplars (micro).

Role, unit and place: for each matched name whose gold exemplar says more than the name (a rank,
a title, a unit, an address: "Nguyễn Văn Hoàn (xã Phú Lâm, Yên Sơn, Tuyên Quang)"), the
syllables of what we give beside the name (``role``, ``unit``, ``place``) against those of
what the reader wrote (``score_context``): precision, recall, and the share given anything.
``--show-context K`` prints K that differ.

Two counts: gold exemplars as written, and one gold name per person. Readers sometimes list
several people in one exemplar ("Phạm Tiến Dũng, Ngô Việt Hải, Phan Tiến Dũng (trạm gác…)");
as written, only the first can match, so naming the others counts against us. Split, every
comma-, semicolon- or "và"-separated part that is a person's name (``pipeline.nlp``'s own
test, which turns away places such as "Bến Tre") is a gold exemplar of its own.
"""
from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_fields import load_seed, load_team  # noqa: E402

from pipeline.nlp import _is_person_name, exemplars, name_key, normalize_name, same_name  # noqa: E402
from pipeline.text import fold  # noqa: E402


def one_per_person(gold: list[str]) -> list[str]:
    """Gold exemplars with every listed person on their own (see the module doc)."""
    out = []
    for g in gold:
        parts = [x.strip() for x in re.split(r",|;|\s+và\s+", re.sub(r"\([^)]*\)?", " ", g)) if x.strip()]
        extra = [x for x in parts[1:] if _is_person_name(normalize_name(x))]
        out.extend([g] + extra if extra else [g])
    return out


CHECK_N = 200  # ``--team 200``: the held-out check set


def team_sample(pairs, n):
    """A seeded random n of the (id-sorted) team items: ``--team``; n = CHECK_N is the check set."""
    import random
    return random.Random(20261203).sample(pairs, min(n, len(pairs)))


def dev_sample(pairs, n):
    """A seeded random n of the (id-sorted) team items outside the check set: ``--dev``."""
    import random
    check = {lab["id"] for lab, _ in team_sample(pairs, CHECK_N)}
    rest = [p for p in pairs if p[0]["id"] not in check]
    return random.Random(20261204).sample(rest, min(n, len(rest)))


def score(pairs, predict, show=0, split=False):
    n_pred = n_pred_ok = n_gold = n_gold_ok = 0
    shown = 0
    for lab, art in pairs:
        gold = one_per_person(lab["exemplars"]) if split else lab["exemplars"]
        pred = predict(art)
        ok_pred = [p for p in pred if any(same_name(p, g) for g in gold)]
        ok_gold = [g for g in gold if any(same_name(p, g) for p in pred)]
        n_pred += len(pred)
        n_pred_ok += len(ok_pred)
        n_gold += len(gold)
        n_gold_ok += len(ok_gold)
        if shown < show and (len(ok_pred) < len(pred) or len(ok_gold) < len(gold)):
            shown += 1
            print(f"- {lab['id']}: {art['title'][:90]}")
            print(f"    gold: {gold}")
            print(f"    pred: {pred}")
    p = n_pred_ok / n_pred if n_pred else 0.0
    r = n_gold_ok / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f, n_pred, n_gold


# Role, unit and place beside a name ("Nguyễn Văn Hoàn (xã Phú Lâm, Yên Sơn, Tuyên Quang)",
# "Thượng úy Nguyễn Đăng Tuân", "Huỳnh Ngọc Ánh - tổ trưởng Tổ bảo vệ Kinh thành"), compared as
# syllable sets: both sides case-folded, common long forms written as their abbreviations, and the
# words that only say what kind of place or unit follows (xã, huyện, trường…) left out.
_ABBREVIATIONS = (("thành phố hồ chí minh", "tp hcm"), ("hồ chí minh", "hcm"), ("đại học quốc gia", "đhqg"),
                  ("đại học", "đh"), ("trung học cơ sở", "thcs"), ("trung học phổ thông", "thpt"),
                  ("cảnh sát giao thông", "csgt"), ("ủy ban nhân dân", "ubnd"), ("bộ đội biên phòng", "bđbp"),
                  ("thành phố", "tp"), ("thị xã", "tx"), ("thị trấn", "tt"), ("công an", "ca"),
                  ("bệnh viện", "bv"), ("hợp tác xã", "htx"))
_CONTEXT_STOP = frozenset("xã huyện tỉnh tp tx tt phường quận thôn ấp xóm bản làng tổ dân phố khu của và tại ở ngụ "
                          "trú quê thuộc số trường ông bà anh chị em cô chú bác tuổi sn sinh năm the".split())


def _context_syllables(text: str) -> set[str]:
    t = " " + " ".join(re.findall(r"[^\W_]+", fold(text))) + " "
    for long, short in _ABBREVIATIONS:
        t = t.replace(" " + long + " ", " " + short + " ")
    return set(t.split()) - _CONTEXT_STOP


def context_words(text: str, name: str = "") -> set[str]:
    """The syllables of ``text`` that say who, where or in which unit, without those of ``name``."""
    return _context_syllables(text) - (_context_syllables(name_key(name)) if name else set())


def gold_context(gold: str) -> set[str]:
    """What a reader wrote beside the name: a rank or title, a unit, a place."""
    return context_words(gold, gold)


def score_context(pairs, predict, show=0):
    """Role/unit/place of the predicted exemplars that match a gold exemplar with context, against
    that context (see ``context_words``): syllable precision and recall (micro), and the share of
    such names given any context at all. ``predict(article)`` gives exemplar dicts."""
    n_pairs = n_given = n_pred = n_gold = n_ok = extra = 0
    shown = 0
    for lab, art in pairs:
        pred = predict(art)
        for g in lab["exemplars"]:
            m = next((e for e in pred if same_name(e["name"], g)), None)
            if m is None:
                continue
            gw = gold_context(g)
            pw = context_words(" ".join((m["role"], m["unit"], m["place"])), m["name"])
            if not gw:
                extra += bool(pw)
                continue
            n_pairs += 1
            n_given += bool(pw)
            n_pred += len(pw)
            n_gold += len(gw)
            n_ok += len(pw & gw)
            if shown < show and pw != gw:
                shown += 1
                print(f"- {lab['id']}: gold {g!r}")
                print(f"    pred {m['name']!r} role {m['role']!r} unit {m['unit']!r} place {m['place']!r}")
    p = n_ok / n_pred if n_pred else 0.0
    r = n_ok / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"pairs": n_pairs, "given": n_given / n_pairs if n_pairs else 0.0, "precision": p, "recall": r, "f1": f,
            "given_without_gold": extra}


def _use_ner_cache(path):
    """Memoise underthesea NER on disk so that tuning runs skip it (speed is then not measured)."""
    import atexit
    import pickle

    import pipeline.nlp as nlp

    p = Path(path)
    cache = pickle.loads(p.read_bytes()) if p.is_file() else {}
    real = nlp._ner_spans

    def cached(sentence):
        if sentence not in cache:
            cache[sentence] = real(sentence)
        return cache[sentence]

    nlp._ner_spans = cached
    atexit.register(lambda: p.write_bytes(pickle.dumps(cache)))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--show", type=int, default=0, help="print K articles with errors")
    ap.add_argument("--show-context", type=int, default=0, help="print K matched names whose context differs")
    ap.add_argument("--ner-cache", default="", help="pickle file memoising NER per sentence across runs")
    ap.add_argument("--select", choices=("model", "rules"), default="model",
                    help="choose among the candidates with the learned selector or the hand-set thresholds")
    ap.add_argument("--team", type=int, default=0, help="score N random team label-2 items instead of the seed")
    ap.add_argument("--dev", type=int, default=0,
                    help=f"score N random team label-2 items outside the {CHECK_N}-item check set (for tuning)")
    a = ap.parse_args(argv)
    if a.ner_cache:
        _use_ner_cache(a.ner_cache)
    if a.team and a.dev:
        ap.error("--team and --dev are exclusive")
    if a.team:
        pairs = team_sample(sorted(load_team((2,)), key=lambda p: p[0]["id"]), a.team)
    elif a.dev:
        pairs = dev_sample(sorted(load_team((2,)), key=lambda p: p[0]["id"]), a.dev)
    else:
        pairs = load_seed((2,))
    if a.limit:
        pairs = pairs[:a.limit]
    t0 = time.time()
    full = {lab["id"]: exemplars(art.get("title", ""), art.get("text", ""), art.get("lead", ""), select=a.select)
            for lab, art in pairs}
    preds = {k: [e["name"] for e in v] for k, v in full.items()}
    dt = time.time() - t0
    for split, what in ((False, "gold as written"), (True, "one gold name per person")):
        p, r, f, n_pred, n_gold = score(pairs, lambda art: preds[art["id"]], a.show if split else 0, split)
        print(f"{len(pairs)} label-2 articles, {what}: {n_gold} gold exemplars, {n_pred} predicted")
        print(f"  exemplar names: precision {p:.3f}  recall {r:.3f}  F1 {f:.3f}")
    c = score_context(pairs, lambda art: full[art["id"]], a.show_context)
    print(f"role/unit/place of the {c['pairs']} matched names whose gold gives one: given for {c['given']:.3f}; "
          f"syllables precision {c['precision']:.3f}  recall {c['recall']:.3f}  F1 {c['f1']:.3f} "
          f"(and given for {c['given_without_gold']} matched names whose gold gives none)")
    print(f"speed: {len(pairs) / dt:.1f} articles/s ({dt:.1f}s)")


if __name__ == "__main__":
    main()
