"""Train the exemplar selector (``pipeline.exemplar_select``) and write it with its card.

    nice python benchmarks/train_exemplar_selector.py [--out DIR] [--ner-cache FILE] [--C 1.0] [--threshold 0.3]

Training items: the team's label-2 articles (``corpora/labels/team*.jsonl``, our readers'
exemplars) **outside** the check set (``eval_exemplars --team 200``) and the dev set
(``--dev 300``). The seed's label-2 articles, dev and check are all held out: the card reports
exemplar-name precision / recall / F1 (one gold name per person, as ``eval_exemplars``) on each,
for the selector and for the hand-set rules, from the same candidates.

A candidate's training label: its name matches one of the article's gold exemplars
(``eval_exemplars.one_per_person`` and ``pipeline.nlp.same_name``). Default ``--out`` is the
bundled ``pipeline/data/exemplars/``.

The threshold is chosen on dev, never on check (``choose_threshold``): the one at which the selector
names about as many people and collectives on dev as the hand-set rules do. Staff get lists no
longer than before, and the comparison is one of choosing, not of list length: at the same length,
precision and recall rise or fall together.
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from eval_exemplars import (CHECK_N, _use_ner_cache, dev_sample, one_per_person, score,  # noqa: E402
                            team_sample)
from eval_fields import load_seed, load_team  # noqa: E402

DEV_N = 300


def split():
    """(train, dev, check, seed): (label record, article) pairs."""
    team = sorted(load_team((2,)), key=lambda p: p[0]["id"])
    check = team_sample(team, CHECK_N)
    dev = dev_sample(team, DEV_N)
    held = {lab["id"] for lab, _ in check + dev}
    return [p for p in team if p[0]["id"] not in held], dev, check, load_seed((2,))


def candidate_rows(pairs):
    """Candidates of every article, their labels and article ids."""
    from pipeline.nlp import exemplar_candidates, same_name

    rows, y, groups = [], [], []
    for lab, art in pairs:
        gold = one_per_person(lab["exemplars"])
        for c in exemplar_candidates(art.get("title", ""), art.get("text", ""), art.get("lead", "")):
            rows.append(c)
            y.append(int(any(same_name(c["name"], g) for g in gold)))
            groups.append(lab["id"])
    return rows, y, groups


def names_prf(pairs, selector=None):
    """Exemplar-name P/R/F1 (one gold name per person) with ``selector``, or the rules when None."""
    from pipeline.nlp import exemplars

    how = "model" if selector is not None else "rules"
    preds = {lab["id"]: [e["name"] for e in exemplars(art.get("title", ""), art.get("text", ""), art.get("lead", ""),
                                                      select=how, selector=selector)] for lab, art in pairs}
    p, r, f, n_pred, n_gold = score(pairs, lambda art: preds[art["id"]], split=True)
    return {"precision": round(p, 3), "recall": round(r, 3), "f1": round(f, 3), "predicted": n_pred, "gold": n_gold}


def choose_threshold(sweep: dict, rules: dict) -> float:
    """See the module doc; ``sweep``: threshold -> names_prf on dev, ``rules``: names_prf of the rules."""
    return min(sweep, key=lambda t: (abs(sweep[t]["predicted"] - rules["predicted"]), t))


def main(argv=None) -> int:
    import sklearn

    from pipeline.exemplar_select import BUNDLED_DIR, FEATURES, ExemplarSelector, save_selector

    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(BUNDLED_DIR))
    ap.add_argument("--ner-cache", default="")
    ap.add_argument("--C", type=float, default=1.0)
    ap.add_argument("--threshold", type=float, default=None, help="default: chosen on dev (choose_threshold)")
    a = ap.parse_args(argv)
    if a.ner_cache:
        _use_ner_cache(a.ner_cache)
    train, dev, check, seed = split()
    t0 = time.time()
    rows, y, groups = candidate_rows(train)
    print(f"{len(train)} training articles, {len(rows)} candidates ({sum(y)} exemplars), "
          f"{time.time() - t0:.0f}s", flush=True)
    sel = ExemplarSelector(C=a.C).fit(rows, y, groups)
    print(f"fitted in {time.time() - t0:.0f}s", flush=True)
    sweep = {}
    for t in (0.2, 0.25, 0.3, 0.35, 0.4):
        sel.threshold = t
        sweep[t] = names_prf(dev, sel)
        print(f"dev threshold {t}: {sweep[t]}", flush=True)
    dev_rules = names_prf(dev, None)
    sel.threshold = a.threshold if a.threshold is not None else choose_threshold(sweep, dev_rules)
    print("threshold", sel.threshold, flush=True)
    report = {}
    for name, pairs in (("dev", dev), ("seed", seed), ("check", check)):
        report[name] = {"selector": names_prf(pairs, sel), "rules": dev_rules if name == "dev" else names_prf(pairs, None),
                        "articles": len(pairs)}
        print(name, report[name], flush=True)
    ids = "\n".join(sorted(lab["id"] for lab, _ in train))
    card = {
        "what": "exemplar selector: which candidates of pipeline.nlp.exemplar_candidates are a story's exemplars",
        "trained_on": {"articles": len(train), "candidates": len(rows), "exemplars": int(sum(y)),
                       "items": "team label-2 articles outside the check (--team 200) and dev (--dev 300) sets",
                       "ids_sha256": hashlib.sha256(ids.encode()).hexdigest()},
        "threshold": sel.threshold,
        "threshold_chosen": "given" if a.threshold is not None else
        "on dev: as many names as the hand-set rules give there",
        "params": sel.get_params(), "features": list(FEATURES) + ["context_probability"],
        "names_one_gold_per_person": report, "dev_threshold_sweep": {str(k): v for k, v in sweep.items()},
        "versions": {"scikit-learn": sklearn.__version__, "python": sys.version.split()[0]},
        "trained": time.strftime("%Y-%m-%d"),
    }
    print("written", save_selector(sel, card, a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
