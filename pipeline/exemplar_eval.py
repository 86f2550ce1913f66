"""How well the exemplar names match what the readers wrote: one measure for every caller.

``nguoitot evaluate``, ``nguoitot models exemplars train`` (``pipeline.exemplar_select``), the
evaluation gate and ``benchmarks/eval_exemplars.py`` all count names here.

**Names.** A predicted name matches a gold exemplar when one normalised name
(``pipeline.nlp.same_name``: case-folded, on syllable boundaries) contains the other.
Precision = matched predictions / predictions; recall = matched gold exemplars / gold exemplars
(micro). Readers sometimes list several people in one exemplar ("Phạm Tiến Dũng, Ngô Việt Hải,
Phan Tiến Dũng (trạm gác…)"); as written only the first could match, so ``one_per_person`` makes
every comma-, semicolon- or "và"-separated part that is a person's name (``pipeline.nlp``'s own
test, which turns away places such as "Bến Tre") a gold exemplar of its own.

**Role, unit and place.** For each matched name whose gold exemplar says more than the name (a
rank, a title, a unit, an address: "Nguyễn Văn Hoàn (xã Phú Lâm, Yên Sơn, Tuyên Quang)"), the
syllables of what we give beside the name against those the reader wrote (``score_context``).

**Sets.** Items are (label line, article) pairs with label 2 (``label2_items``). The team's
label-2 items are split by seeded draws into the **check set** (``CHECK_N`` items, never read
while tuning), the **dev set** (``DEV_N`` of the rest: read its errors when tuning) and the rest
(what the exemplar selector is trained on). The guide's seed items are a third held-out set.
"""
from __future__ import annotations

import random
import re
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from .text import fold

CHECK_N = 200  # the held-out check set (``benchmarks/eval_exemplars.py --team 200``)
DEV_N = 300    # the dev set (``--dev 300``)

Pair = tuple[dict[str, Any], dict[str, Any]]


def label2_items(paths: Sequence[str | Path], press_path: str | Path | None = None,
                 labels: Iterable[int] = (2,)) -> list[Pair]:
    """(label line, article) pairs of the label files (later files win for the same id) whose
    label is in ``labels``, articles from the press file (default: the shared corpora's). Both are
    the record ``pipeline.train.load_training_data`` makes of the line."""
    from .train import load_training_data

    if press_path is None:
        from .config import shared_corpora
        press_path = shared_corpora() / "press.jsonl.gz"
    want = tuple(labels)
    return [(r, r) for r in load_training_data(list(paths), press_path) if r["label"] in want]


def seed_items() -> list[Pair]:
    """The guide's label-2 items (``../shared/corpora/labels/seed.jsonl``)."""
    from .config import shared_corpora
    from .train import SEED_SOURCE
    return label2_items([shared_corpora() / "labels" / SEED_SOURCE])


def team_items() -> list[Pair]:
    """The team's label-2 items (``corpora/labels/team*.jsonl``), sorted by id."""
    from .config import REPO_DIR
    from .train import TEAM_LABEL_FILES
    root = REPO_DIR / "corpora" / "labels"
    items = label2_items([root / n for n in TEAM_LABEL_FILES if (root / n).is_file()])
    return sorted(items, key=lambda p: p[0]["id"])


def team_sample(pairs: Sequence[Pair], n: int) -> list[Pair]:
    """A seeded random n of the (id-sorted) team items; n = ``CHECK_N`` is the check set."""
    return random.Random(20261203).sample(list(pairs), min(n, len(pairs)))


def dev_sample(pairs: Sequence[Pair], n: int) -> list[Pair]:
    """A seeded random n of the (id-sorted) team items outside the check set."""
    check = {lab["id"] for lab, _ in team_sample(pairs, CHECK_N)}
    rest = [p for p in pairs if p[0]["id"] not in check]
    return random.Random(20261204).sample(rest, min(n, len(rest)))


def split(pairs: Sequence[Pair]) -> tuple[list[Pair], list[Pair], list[Pair]]:
    """(train, dev, check) of the (id-sorted) team items."""
    check = team_sample(pairs, CHECK_N)
    dev = dev_sample(pairs, DEV_N)
    held = {lab["id"] for lab, _ in check + dev}
    return [p for p in pairs if p[0]["id"] not in held], dev, check


def one_per_person(gold: Sequence[str]) -> list[str]:
    """Gold exemplars with every listed person on their own (see the module doc)."""
    from .nlp import _is_person_name, normalize_name

    out: list[str] = []
    for g in gold:
        parts = [x.strip() for x in re.split(r",|;|\s+và\s+", re.sub(r"\([^)]*\)?", " ", g)) if x.strip()]
        extra = [x for x in parts[1:] if _is_person_name(normalize_name(x))]
        out.extend([g] + extra if extra else [g])
    return out


def name_counts(pred: Sequence[str], gold: Sequence[str]) -> tuple[int, int, int, int]:
    """(matched predictions, predictions, matched gold, gold) of one article; ``gold`` as given
    (pass it through ``one_per_person`` for the usual count)."""
    from .nlp import same_name

    pred = [p for p in pred if p and p.strip()]
    gold = [g for g in gold if g and g.strip()]
    ok_pred = sum(1 for p in pred if any(same_name(p, g) for g in gold))
    ok_gold = sum(1 for g in gold if any(same_name(p, g) for p in pred))
    return ok_pred, len(pred), ok_gold, len(gold)


def named_within(pred: str, gold: Sequence[str]) -> bool:
    """``pred`` is named inside a gold exemplar's text, not as one: a team's members or leader in
    its brackets ("Đội CSGT số 4 (Thượng tá Lê Văn Hoan, Thượng uý Đỗ Danh Toán)"), a boat's
    master ("tàu cá … (chủ tàu Ngô Văn Thẻng)")."""
    k = " " + " ".join(re.findall(r"[^\W_]+", fold(pred))) + " "
    return len(k.split()) >= 2 and any(k in " " + " ".join(re.findall(r"[^\W_]+", fold(g))) + " " for g in gold)


def _prf(hit_p: int, n_p: int, hit_g: int, n_g: int, within: int = 0) -> dict[str, Any]:
    p = hit_p / n_p if n_p else 0.0
    r = hit_g / n_g if n_g else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "predicted": n_p, "gold": n_g, "named_within_gold": within}


def score_names(pairs: Sequence[Pair], predict: Callable[[dict[str, Any]], Sequence[str]], *,
                per_person: bool = True, show: int = 0, echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Names precision / recall / F1 over ``pairs``; ``predict(article)`` gives the names.
    ``per_person``: one gold name per person (``one_per_person``), else the gold as written.
    ``show``: print that many articles with an error. ``named_within_gold``: how many unmatched
    predictions the reader named inside a gold exemplar (``named_within``), counted wrong."""
    from .nlp import same_name

    tot = [0, 0, 0, 0]
    within = 0
    shown = 0
    for lab, art in pairs:
        gold = one_per_person(lab.get("exemplars") or []) if per_person else list(lab.get("exemplars") or [])
        pred = list(predict(art))
        c = name_counts(pred, gold)
        tot = [a + b for a, b in zip(tot, c)]
        within += sum(1 for p in pred if p and not any(same_name(p, g) for g in gold) and named_within(p, gold))
        if shown < show and (c[0] < c[1] or c[2] < c[3]):
            shown += 1
            echo(f"- {lab['id']}: {art.get('title', '')[:90]}")
            echo(f"    gold: {gold}")
            echo(f"    pred: {pred}")
    return _prf(*tot, within=within)


# Role, unit and place compared as syllable sets: both sides case-folded, common long forms written
# as their abbreviations, and the words that only say what kind of place or unit follows left out.
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
    from .nlp import name_key
    return _context_syllables(text) - (_context_syllables(name_key(name)) if name else set())


def gold_context(gold: str) -> set[str]:
    """What a reader wrote beside the name: a rank or title, a unit, a place."""
    return context_words(gold, gold)


def score_context(pairs: Sequence[Pair], predict: Callable[[dict[str, Any]], Sequence[dict[str, Any]]], *,
                  show: int = 0, echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Role/unit/place of the predicted exemplars that match a gold exemplar with context, against
    that context: syllable precision and recall (micro), and the share of such names given any
    context at all. ``predict(article)`` gives exemplar dicts."""
    from .nlp import same_name

    n_pairs = n_given = n_pred = n_gold = n_ok = extra = 0
    shown = 0
    for lab, art in pairs:
        pred = list(predict(art))
        for g in lab.get("exemplars") or []:
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
                echo(f"- {lab['id']}: gold {g!r}")
                echo(f"    pred {m['name']!r} role {m['role']!r} unit {m['unit']!r} place {m['place']!r}")
    p = n_ok / n_pred if n_pred else 0.0
    r = n_ok / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"pairs": n_pairs, "given": n_given / n_pairs if n_pairs else 0.0, "precision": p, "recall": r, "f1": f,
            "given_without_gold": extra}


def use_ner_cache(path: str | Path) -> None:
    """Memoise underthesea's NER per sentence in a pickle file across runs, for tuning loops that
    read the same articles again and again (their speed is then not a measure of anything)."""
    import atexit
    import pickle

    from . import nlp

    p = Path(path)
    cache = pickle.loads(p.read_bytes()) if p.is_file() else {}
    real = nlp._ner_spans

    def cached(sentence: str) -> list[tuple[str, str]]:
        if sentence not in cache:
            cache[sentence] = real(sentence)
        return cache[sentence]

    nlp._ner_spans = cached
    atexit.register(lambda: p.write_bytes(pickle.dumps(cache)))
