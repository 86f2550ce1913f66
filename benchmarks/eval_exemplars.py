"""Exemplar-name precision and recall against the readers' exemplars (``pipeline.exemplar_eval``).

    nice python benchmarks/eval_exemplars.py [--limit N] [--show K] [--show-context K] [--team N | --dev N]
                                             [--select model|rules] [--ner-cache FILE]

``--select``: the selector in use (``pipeline.exemplar_select``: the promoted version, else the
bundled one, trained on team items outside the dev and check sets) or the hand-set thresholds.

Items: the guide's seed labels with label 2 (the patterns of ``pipeline.nlp.exemplars`` were
first tuned on them), or with ``--team N`` a seeded random N of the team's label-2 items;
``--team 200`` is the **check set**: never read for tuning. ``--dev N`` is a seeded random N of
the other team label-2 items (``--dev 300`` is the dev set): read its errors (``--show``) when
tuning, not the check set's. How names, and role/unit/place, are counted: ``pipeline.exemplar_eval``.
Two counts are printed: gold exemplars as written, and one gold name per person (the one gated);
with the second, how many of the names counted wrong the reader did name, inside a gold
exemplar rather than as one (``pipeline.exemplar_eval.named_within``): what precision would be if
they counted.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pipeline.exemplar_eval import (CHECK_N, dev_sample, score_context, score_names, seed_items,  # noqa: E402
                                    team_items, team_sample, use_ner_cache)
from pipeline.nlp import exemplars  # noqa: E402


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
        use_ner_cache(a.ner_cache)
    if a.team and a.dev:
        ap.error("--team and --dev are exclusive")
    if a.team:
        pairs = team_sample(team_items(), a.team)
    elif a.dev:
        pairs = dev_sample(team_items(), a.dev)
    else:
        pairs = seed_items()
    if a.limit:
        pairs = pairs[:a.limit]
    t0 = time.time()
    full = {lab["id"]: exemplars(art.get("title", ""), art.get("text", ""), art.get("lead", ""), select=a.select)
            for lab, art in pairs}
    dt = time.time() - t0
    for per_person, what in ((False, "gold as written"), (True, "one gold name per person")):
        m = score_names(pairs, lambda art: [e["name"] for e in full[art["id"]]], per_person=per_person,
                        show=a.show if per_person else 0)
        print(f"{len(pairs)} label-2 articles, {what}: {m['gold']} gold exemplars, {m['predicted']} predicted")
        print(f"  exemplar names: precision {m['precision']:.3f}  recall {m['recall']:.3f}  F1 {m['f1']:.3f}")
        if per_person and m["predicted"]:
            print(f"  of the {m['predicted'] - round(m['precision'] * m['predicted'])} unmatched names, "
                  f"{m['named_within_gold']} are people the reader named inside a gold exemplar (a team's "
                  f"members, a boat's master): precision {(m['precision'] * m['predicted'] + m['named_within_gold']) / m['predicted']:.3f} "
                  "if they counted (not the gated figure)")
    c = score_context(pairs, lambda art: full[art["id"]], show=a.show_context)
    print(f"role/unit/place of the {c['pairs']} matched names whose gold gives one: given for {c['given']:.3f}; "
          f"syllables precision {c['precision']:.3f}  recall {c['recall']:.3f}  F1 {c['f1']:.3f} "
          f"(and given for {c['given_without_gold']} matched names whose gold gives none)")
    print(f"speed: {len(pairs) / dt:.1f} articles/s ({dt:.1f}s)")


if __name__ == "__main__":
    main()
