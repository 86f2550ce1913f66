"""Scoring speed of the candidate classifier on real press articles.

    python benchmarks/bench_score.py [--n 10000] [--jobs 2] [--model DIR] [--no-explain] [--stage1-only]

Reads the first ``--n`` articles of ../shared/corpora/press.jsonl.gz, scores
them with ``Model.score`` in chunks (``--jobs`` worker processes, each
loading the model once) and prints articles/s for the label score alone and
for the full result (terms, and reason/field/deed/exemplars/place for the
flagged ones), plus peak resident memory. Target: >= 500 articles/s on 2 cores.
A two-stage model (``nguoitot models rerank``) re-reads the articles scoring at or
above its ``t0`` with the fine-tuned encoder; ``--stage1-only`` measures the label
model alone.
"""
from __future__ import annotations

import argparse
import gzip
import json
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

_MODEL = None


def _init(path, rerank=True, threads=None):  # noqa: ANN001
    global _MODEL
    from pipeline.classify import load_model
    _MODEL = load_model(path, rerank=rerank)
    _MODEL.rerank_threads = threads


def _score(chunk, full):  # noqa: ANN001
    """The chunk's labels and this process's peak resident memory so far (MB): workers of a
    forkserver are not our children, so RUSAGE_CHILDREN cannot see them."""
    if full:
        labels = [o["label"] for o in _MODEL.score(chunk)]
    else:
        labels = [int(s >= _MODEL.thresholds["label2"]) * 2 for s in _MODEL.predict_score(chunk)]
    return labels, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_press(n: int) -> list[dict]:
    from pipeline.config import shared_corpora
    out = []
    with gzip.open(shared_corpora() / "press.jsonl.gz", "rt", encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            out.append({"title": r["title"], "lead": r.get("lead", ""), "text": r.get("text", "")})
            if len(out) >= n:
                break
    return out


def run(recs, jobs, model, full, chunk=250, rerank=True):  # noqa: ANN001
    chunks = [recs[i:i + chunk] for i in range(0, len(recs), chunk)]
    t0 = time.perf_counter()
    if jobs <= 1:
        _init(model, rerank)
        if _MODEL.two_stage:
            _score(chunks[0][:8], False)  # load the encoder before the clock starts
        t0 = time.perf_counter()
        parts = [_score(c, full) for c in chunks]
    else:
        import multiprocessing as mp  # forked children of a process that ran torch can deadlock
        with ProcessPoolExecutor(jobs, initializer=_init, initargs=(model, rerank, 1),
                                 mp_context=mp.get_context("forkserver")) as ex:
            list(ex.map(_score, chunks[:jobs], [full] * jobs))  # warm: model loaded in each worker
            t0 = time.perf_counter()
            parts = list(ex.map(_score, chunks, [full] * len(chunks)))
    rate = len(recs) / (time.perf_counter() - t0)
    return rate, [x for labels, _ in parts for x in labels], max(mb for _, mb in parts)


def main(argv=None) -> int:  # noqa: ANN001
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--model", default=None, help="model folder (default: active or bundled)")
    ap.add_argument("--no-explain", action="store_true", help="only the label score")
    ap.add_argument("--stage1-only", action="store_true", help="a two-stage model without its encoder")
    args = ap.parse_args(argv)
    recs = read_press(args.n)
    from pipeline.classify import load_model
    m = load_model(args.model, rerank=not args.stage1_only)
    if m.two_stage:
        s1 = m.stage1_scores(recs)
        print(f"two-stage model {m.version}: the encoder re-reads {(s1 >= m.rerank_t0).mean():.1%} of these "
              f"articles (stage-1 score >= {m.rerank_t0})")
    print(f"{len(recs)} press articles, {args.jobs} process(es)")
    rr = not args.stage1_only
    rate, labels, worker = run(recs, args.jobs, args.model, full=False, rerank=rr)
    print(f"label score only:        {rate:8.0f} articles/s  (flagged label 2: {labels.count(2)})")
    if not args.no_explain:
        rate, labels, mb = run(recs, args.jobs, args.model, full=True, rerank=rr)
        worker = max(worker, mb)
        print(f"full score (explained):  {rate:8.0f} articles/s  (label 2: {labels.count(2)}, 1: {labels.count(1)})")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: main {peak:.0f} MB, largest {'worker' if args.jobs > 1 else 'run'} {worker:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
