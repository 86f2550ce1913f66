"""Training speed on 10,000 labelled articles (the project's real labels).

    python benchmarks/bench_train.py [--n 10000] [--kind stacked|ordinal] [--jobs 1]

Takes a seeded random ``--n`` of the labelled articles ``nguoitot train`` uses
(seed labels + the team's label files, texts from
../shared/corpora/press.jsonl.gz) and times one fit of the production label
pipeline on their 0/1/2 labels (no cross-validation: the fit ``train()`` ends
with) and of the field and deed classifiers on their label-1/2 items.
Prints the time and articles per second of each step and peak memory.
Target: under 2 minutes on 2 cores.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:  # noqa: ANN001
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--kind", default="stacked")
    ap.add_argument("--jobs", type=int, default=1, help="threads for the stacked model's base fits")
    args = ap.parse_args(argv)
    from sklearn.base import clone

    from pipeline.classify import field_estimators, fit_target, make_label_pipeline
    from pipeline.config import shared_corpora
    from pipeline.train import default_label_paths, load_training_data
    recs = load_training_data(default_label_paths(), shared_corpora() / "press.jsonl.gz")
    if args.n < len(recs):
        keep = np.sort(np.random.default_rng(0).choice(len(recs), args.n, replace=False))
        recs = [recs[i] for i in keep]
    pipe = make_label_pipeline(kind=args.kind, n_jobs=args.jobs)
    y = fit_target(recs, pipe)
    print(f"{len(recs)} labelled articles: {int((y == 2).sum())} label 2, {int((y == 1).sum())} label 1")
    t0 = time.perf_counter()
    pipe.fit(recs, y)
    t_label = time.perf_counter() - t0
    print(f"label pipeline ({args.kind}) fit: {t_label:.1f}s ({len(recs) / t_label:.0f} articles/s)")
    fm, dm, src = field_estimators()
    t0 = time.perf_counter()
    for key, est in (("field", fm), ("deed", dm)):
        items = [r for r in recs if r["label"] >= 1 and r.get(key)]
        clone(est).fit(items, [r[key] for r in items])
    t_field = time.perf_counter() - t0
    print(f"field and deed classifiers ({src}) fit: {t_field:.1f}s")
    total = t_label + t_field
    print(f"total {total:.1f}s = {total / 120:.2f} of the 2-minute target "
          f"({'under' if total < 120 else 'OVER'}); peak memory "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
