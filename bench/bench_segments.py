"""Time and peak memory of `lastmile segments` on a segment column with many values.

The shape of issue #13: columns ``id, ts, score, label`` and
``region = f"r{i % values}"`` (every region has ``rows / values`` rows), one
model, no outcomes file. Each run is the real CLI (``lastmile segments --model m
--metric METRIC --format json``) in its own process, so its peak resident
memory (``ru_maxrss`` from ``os.wait4``) is its own. Printed: seconds, CPU
seconds, peak MB, segments ranked and what was capped, and the ratio of
``roc_auc`` to ``accuracy`` (a metric whose rest is additive sums: the floor).

Usage::

    .venv/bin/python bench/bench_segments.py                       # 20k x 10k and 200k x 200
    .venv/bin/python bench/bench_segments.py --shape 200000x200 --metric roc_auc pr_auc accuracy

Generated logs are cached under ``bench/results/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import RESULTS  # noqa: E402


def make_shape(rows: int, values: int, seed: int = 5) -> Path:
    """A workspace with ``rows`` predictions and a ``values``-value region column (cached)."""
    import datetime as dt

    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = RESULTS / f"segments_{rows}x{values}"
    config = folder / "lastmile.toml"
    if config.is_file():
        return config
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    i = np.arange(rows)
    label = rng.random(rows) < 0.3
    # informative but noisy scores, nearly all distinct (6 decimals): the worst case for rank metrics
    score = np.round(1 / (1 + np.exp(-(rng.normal(0, 1, rows) + 1.2 * label))), 6)
    start = dt.datetime(2026, 3, 2)
    pq.write_table(pa.table({
        "id": pa.array(i, pa.int64()),
        "ts": pa.array([start + dt.timedelta(seconds=int(s)) for s in i * 60], pa.timestamp("us")),
        "score": pa.array(score, pa.float64()),
        "label": pa.array(label.astype(np.int64)),
        "region": pa.array([f"r{k % values}" for k in i]),
    }), folder / "predictions.parquet")
    config.write_text('[[models]]\nname = "m"\ntask = "binary"\npredictions = "predictions.parquet"\n'
                      '[models.columns]\nid = "id"\ntimestamp = "ts"\nscore = "score"\nlabel = "label"\n'
                      'segments = ["region"]\n')
    return config


def run_cli(config: Path, metric: str) -> dict:
    """`lastmile segments` in a child process: its JSON, seconds, CPU seconds and peak MB."""
    out = config.parent / f"out_{metric}.json"
    t0 = time.perf_counter()
    with open(out, "w") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "analytics.cli", "segments", "--config", str(config),
                                 "--model", "m", "--metric", metric, "--format", "json"], stdout=fh)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise SystemExit(f"lastmile segments --metric {metric} failed (exit {code})")
    res = json.loads(out.read_text())
    return {"seconds": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024,
            "segments": len(res["segments"]), "capped": res.get("capped")}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", nargs="+", default=["20000x10000", "200000x200"], metavar="ROWSxVALUES")
    ap.add_argument("--metric", nargs="+", default=["roc_auc", "accuracy"])
    args = ap.parse_args(argv)
    print(f"load: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")
    for shape in args.shape:
        rows, values = (int(x) for x in shape.split("x"))
        config = make_shape(rows, values)
        got = {}
        for metric in args.metric:
            got[metric] = r = run_cli(config, metric)
            capped = "; ".join(c["sentence"] for c in r["capped"] or []) or "nothing capped"
            print(f"{rows:,} rows x {values:,} values, {metric}: {r['seconds']:.2f} s (cpu {r['cpu']:.2f} s), "
                  f"peak {r['peak_mb']:.0f} MB, {r['segments']} segments ranked ({capped})", flush=True)
        if "roc_auc" in got and "accuracy" in got:
            a, b = got["roc_auc"], got["accuracy"]
            print(f"  roc_auc / accuracy: time {a['seconds'] / b['seconds']:.2f}, "
                  f"peak memory {a['peak_mb'] / b['peak_mb']:.2f}")
    print(f"load: {os.getloadavg()[0]:.1f} {os.getloadavg()[1]:.1f} {os.getloadavg()[2]:.1f}")


if __name__ == "__main__":
    main()
