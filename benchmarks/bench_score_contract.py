"""`nguoitot score` end to end (the batch-scoring contract) over real press articles.

    python benchmarks/bench_score_contract.py [--n 10000] [--jobs 2]

Writes the first --n articles of ../shared/corpora/press.jsonl.gz as the
contract's input, runs `nguoitot score` as a user would, and prints
articles/s and the peak resident memory of the command and its workers.
Issue 2's target: >= 100 articles/s on 2 cores, peak memory < 2 GB.
"""
from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    from pipeline.config import shared_corpora
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        with gzip.open(shared_corpora() / "press.jsonl.gz", "rt", encoding="utf-8") as f, \
                open(src, "w", encoding="utf-8") as o:
            for i, line in enumerate(f):
                if i >= a.n:
                    break
                r = json.loads(line)
                o.write(json.dumps({k: r[k] for k in ("id", "title", "lead", "text", "outlet")},
                                   ensure_ascii=False) + "\n")
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "-q", "score", str(src), "-o", str(dst),
                               "--jobs", str(a.jobs)], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            sys.exit(f"score failed ({proc.returncode}): {proc.stderr[-2000:]}")
        out = [json.loads(x) for x in dst.read_text(encoding="utf-8").splitlines()]
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    labels = {k: sum(o["label"] == k for o in out) for k in (0, 1, 2)}
    print(f"articles       {len(out)}  (labels 2/1/0: {labels[2]}/{labels[1]}/{labels[0]})")
    print(f"wall           {wall:.1f} s  (model load and worker start included)")
    print(f"rate           {len(out) / wall:.0f} articles/s   target >= 100   ratio {len(out) / wall / 100:.2f}")
    print(f"peak memory    {peak_mb:.0f} MB (largest process)   target < 2048 MB   ratio {peak_mb / 2048:.2f}")


if __name__ == "__main__":
    main()
