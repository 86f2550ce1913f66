"""A fine-tuned e5-small as a second stage over the label model: does reading help?

    python benchmarks/encoder_rerank.py [--model models/<version>] [--t0 0.01] [--folds 0,1,2,3,4]
                                        [--top-layers 3] [--max-len 192] [--epochs 3]
                                        [--window head|key] [--state /tmp/nguoitot-cache/encoder_rerank]
                                        [--sweep 0.02,0.05,0.1]

Stage 1 is the model's own out-of-fold scores (``oof.jsonl`` in its folder, written by
``nguoitot train`` on the grouped folds of ``pipeline.train.cv_folds``). Stage 2 is
:class:`pipeline.encoder.EncoderReranker`, fine-tuned on the SAME folds, on the labelled
articles whose stage-1 score is at least ``--t0`` (the only ones it would ever see). The
combined score is :func:`pipeline.encoder.combine_logits` (mean log-odds; nothing fitted),
and articles below ``--t0`` keep their stage-1 score. ``--window key`` makes stage 2 read the
title, the first sentence and the sentences a label model finds most deed-like instead of the
first tokens; that label model is refit on each fold's training articles (a few minutes a fold),
so no test article's label chooses what is read of it, and the frozen states are built per fold.

Prints, over the folds done so far, natural-rate PR-AUC (cells reweighted to the press, as
on the card), precision/recall at the threshold chosen for precision 0.85, and the paired
bootstrap difference against stage 1. About 7 minutes of frozen layers over ~5,000 articles,
then about 14 minutes per fold on 2 cores (28 with ``--top-layers 6``); each fold's scores are
saved as it ends, so an interrupted run resumes where it stopped: with ``--model``, in that
version's ``stage2-cv/`` folder, shared with ``nguoitot models rerank`` (which then skips the
folds done here); without, in ``--state``, beside the frozen layers' states.

``--sweep`` adds a table for a scoring-time trade-off that needs no new fit: stage 2 re-reads
only the articles whose stage-1 score is at least each given value (the encoder's cost is the
share of the stream it re-reads), the rest keep their stage-1 score.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.config import BUNDLED_MODEL_DIR, shared_corpora  # noqa: E402
from pipeline.classify import make_label_pipeline  # noqa: E402
from pipeline.encoder import WINDOWS, combine_logits, cross_val_reranker  # noqa: E402
from pipeline.train import (STAGE2_CV_DIR, cells_of, cv_folds, default_label_paths, fold_sentence_scorers,  # noqa: E402
                            load_training_data, natural_operating_point, natural_weights, paired_pr_auc_difference,
                            read_oof)


def stage1_scores(model_dir: Path, records: list[dict]) -> np.ndarray:
    # a two-stage model keeps both scores
    oof = {i: row.get("score_stage1", row["score"]) for i, row in read_oof(model_dir).items()}
    missing = [r["id"] for r in records if r["id"] not in oof]
    if missing:
        sys.exit(f"{model_dir}/oof.jsonl has no score for {len(missing)} labelled articles "
                 f"(e.g. {missing[0]}): retrain the model on these labels first")
    return np.array([oof[r["id"]] for r in records])


def report(records: list[dict], rows: dict[str, np.ndarray], base: str) -> None:
    print(f"\n{'model':34s} {'nat. PR-AUC':>11s} {'P@t':>6s} {'R@t':>6s}   paired vs {base} [95% CI]")
    for name, s in rows.items():
        m = natural_operating_point(records, s)
        diff = ""
        if name != base:
            d = paired_pr_auc_difference(records, rows[base], s, n_boot=1000)
            diff = f"{d['difference']:+.4f} [{d['ci'][0]:+.4f}, {d['ci'][1]:+.4f}]"
        print(f"{name:34s} {m['pr_auc']:11.4f} {m['precision']:6.3f} {m['recall']:6.3f}   {diff}")


def sweep(records: list[dict], s1: np.ndarray, p2: np.ndarray, t0s: list[float]) -> None:
    """Two stages where stage 2 re-reads only the articles with stage-1 score >= t: the share of the
    natural stream re-read (the encoder's cost) against natural PR-AUC and the operating point."""
    ev = cells_of(records) != ""
    w = natural_weights(records)
    rows = {}
    for t in t0s:
        s = s1.copy()
        m = (s1 >= t) & ~np.isnan(p2)
        s[m] = combine_logits(s1[m], p2[m])
        rows[f"re-read from {t:g} ({w[ev][s1[ev] >= t].sum() / w[ev].sum():.1%} of it)"] = s
    report(records, rows, next(iter(rows)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, default=None, help="model folder with oof.jsonl (default: bundled)")
    ap.add_argument("--t0", type=float, default=0.01, help="stage-1 score from which stage 2 runs")
    ap.add_argument("--folds", default="0,1,2,3,4", help="folds to run now (\"\" = only report)")
    ap.add_argument("--top-layers", type=int, default=3)
    ap.add_argument("--max-len", type=int, default=192)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--window", choices=WINDOWS, default="head",
                    help="what stage 2 reads: the first --max-len tokens, or the key sentences chosen by "
                         "each fold's own stage-1 model (fit here, ~2 min a fold)")
    ap.add_argument("--state", type=Path, default=Path("/tmp/nguoitot-cache/encoder_rerank"))
    ap.add_argument("--sweep", default="",
                    help="t0 values (e.g. 0.02,0.05,0.1) at which to report the two stages had stage 2 "
                         "re-read only the articles above them (the same fitted folds: a scoring-time "
                         "speed/quality trade-off)")
    a = ap.parse_args()
    model_dir = a.model or BUNDLED_MODEL_DIR
    card = json.loads((model_dir / "card.json").read_text(encoding="utf-8"))
    n_folds, seed = int(card.get("cv", {}).get("folds", 5)), int(card.get("cv", {}).get("seed", 0))
    version = card.get("version", model_dir.name)

    records = load_training_data(default_label_paths(), shared_corpora() / "press.jsonl.gz")
    s1 = stage1_scores(model_dir, records)
    y = np.array([int(r["label"]) for r in records])
    y2 = (y == 2).astype(int)
    folds = cv_folds(records, n_folds, seed)
    stage2 = np.where(s1 >= a.t0)[0]
    w = natural_weights(records)
    ev = cells_of(records) != ""
    share = float(w[ev][s1[ev] >= a.t0].sum() / w[ev].sum())
    print(f"{len(records)} labelled articles; {len(stage2)} reach stage 2 (score >= {a.t0}), "
          f"holding {int(y2[stage2].sum())} of {int(y2.sum())} label-2 articles; "
          f"{share:.1%} of the natural stream would be re-read")

    params = dict(top_layers=a.top_layers, max_len=a.max_len, epochs=a.epochs, seed=a.seed, threads=2,
                  window=a.window)
    scorer = (fold_sentence_scorers(records, folds, lambda: make_label_pipeline(seed=seed))
              if a.window != "head" else None)
    p2 = cross_val_reranker(records, s1, folds, t0=a.t0, key=version, params=params, state_dir=a.state,
                            scores_dir=a.model / STAGE2_CV_DIR if a.model else None,
                            only=[int(f) for f in a.folds.split(",") if f.strip()], fold_scorer=scorer)
    where = set(stage2.tolist())

    done = [k for k, (_, te) in enumerate(folds) if not np.isnan(p2[[i for i in te if i in where]]).any()]
    if not done:
        return
    keep = np.sort(np.concatenate([folds[k][1] for k in done]))
    sub = [records[i] for i in keep]
    has2 = ~np.isnan(p2[keep])
    alone = s1[keep].copy()
    alone[has2] = p2[keep][has2]
    both = s1[keep].copy()
    both[has2] = combine_logits(s1[keep][has2], p2[keep][has2])
    print(f"\nfolds {done}: {len(keep)} labelled articles, {int(has2.sum())} re-read by stage 2")
    report(sub, {"stage 1 (label model, out of fold)": s1[keep],
                 "stage 2 alone above t0": alone,
                 "two stages (mean log-odds)": both}, "stage 1 (label model, out of fold)")
    if a.sweep:
        sweep(sub, s1[keep], p2[keep], [a.t0] + [float(t) for t in a.sweep.split(",") if t.strip()])


if __name__ == "__main__":
    main()
