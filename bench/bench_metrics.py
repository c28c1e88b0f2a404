"""Speed and memory of `compute_metrics` against pandas + scikit-learn, same answer.

The question: the weekly x version metrics of the sample `credit_default` model
(every binary metric plus volume, label coverage and latency percentiles).

* Lastmile: ``compute_metrics(engine, Selection.build("credit_default"),
  Grouping(by=("version", "period"), period="week"))`` through DuckDB.
* Baseline: what a data scientist writes: read the prediction and outcome
  Parquet files into pandas, keep each id's latest outcome, join, group by
  version and week, and call scikit-learn / numpy per group.

Each side runs in its own subprocess, so its peak resident memory
(``ru_maxrss``, native memory included) is its own. Both write their answers;
the script checks they agree (max absolute difference) and prints the times,
the ratio and the peak memory of each, and (the floor for any engine query) the
time of a bare ``count(*)`` of the joined log in a third process.

Usage::

    .venv/bin/python bench/bench_metrics.py                 # 1M credit rows
    .venv/bin/python bench/bench_metrics.py --rows 1000000 10000000

Generated logs are cached under ``bench/results/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import RESULTS, run_child, sample_workspace  # noqa: E402

THRESHOLD = 0.3   # the sample's [models.business] threshold for credit_default


def side_lastmile(config: str, out: str) -> None:
    t0 = time.perf_counter()
    from analytics.log.engine import Engine
    from analytics.metrics.compute import compute_metrics
    from analytics.query.selection import Grouping, Selection
    from analytics.config.workspace import load_workspace
    engine = Engine(load_workspace(config))
    res = compute_metrics(engine, Selection.build("credit_default"), Grouping(by=("version", "period"), period="week"))
    answer = {f"{r.group['version']}|{r.group['period']}": {k: v.value for k, v in r.metrics.items()} for r in res.rows}
    _finish(t0, answer, out)


def side_floor(config: str, out: str) -> None:
    """The floor: a bare count(*) of the joined log (reading and joining the files once)."""
    t0 = time.perf_counter()
    from analytics.log.engine import Engine
    from analytics.config.workspace import load_workspace
    engine = Engine(load_workspace(config))
    log = engine.log("credit_default")
    n = engine.execute(log.aggregate(n=log.count())).to_pylist()[0]["n"]
    _finish(t0, {"rows": n}, out)


def side_pandas(config: str, out: str) -> None:
    t0 = time.perf_counter()
    import numpy as np
    import pandas as pd
    from sklearn import metrics as skm
    folder = Path(config).parent / "credit_default"
    pred = pd.read_parquet(folder / "predictions", columns=["prediction_id", "ts", "model_version", "score",
                                                            "latency_ms"])
    outc = pd.read_parquet(folder / "outcomes", columns=["prediction_id", "actual", "outcome_ts"])
    outc = outc.sort_values(["outcome_ts", "actual"]).drop_duplicates("prediction_id", keep="last")
    df = pred.merge(outc, on="prediction_id", how="left")
    df["week"] = (df.ts.dt.normalize() - pd.to_timedelta(df.ts.dt.day_of_week, unit="D")).dt.strftime("%Y-%m-%d")
    answer = {}
    for (version, week), g in df.groupby(["model_version", "week"], sort=True):
        lab = g[g.actual.notna()]
        sc = lab[lab.score.notna()]
        y, s = sc.actual.astype(int).to_numpy(), sc.score.to_numpy()
        p = (s >= THRESHOLD).astype(int)
        two = 0 < y.sum() < len(y)
        m = {
            "accuracy": skm.accuracy_score(y, p) if len(y) else None,
            "precision": skm.precision_score(y, p, zero_division=0) if p.sum() else None,
            "recall": skm.recall_score(y, p, zero_division=0) if y.sum() else None,
            "f1": skm.f1_score(y, p, zero_division=0) if y.sum() + p.sum() else None,
            "roc_auc": skm.roc_auc_score(y, s) if two else None,
            "pr_auc": skm.average_precision_score(y, s) if y.sum() else None,
            "log_loss": skm.log_loss(y, y_proba=s, labels=[0, 1]) if len(y) else None,
            "brier": skm.brier_score_loss(y, s, labels=[0, 1]) if len(y) else None,
            "positive_rate": float(p.mean()) if len(y) else None,
            "base_rate": float(lab.actual.astype(int).mean()) if len(lab) else None,
            "volume": float(len(g)),
            "label_coverage": len(lab) / len(g),
        }
        lat = g.latency_ms.dropna().to_numpy()
        for name, q in (("latency_p50", 0.5), ("latency_p95", 0.95), ("latency_p99", 0.99)):
            m[name] = float(np.quantile(lat, q)) if len(lat) else None
        answer[f"{version}|{week}"] = m
    _finish(t0, answer, out)


def _finish(t0: float, answer: dict, out: str) -> None:
    """A side's answer and its wall time (imports included); memory and CPU come from
    the parent's :func:`_harness.run_child`."""
    Path(out).write_text(json.dumps({"seconds": time.perf_counter() - t0, "answer": answer}))


def run_side(name: str, config: Path, rows: int) -> dict:
    out = RESULTS / f"answer_{name}_{rows}.json"
    return run_child([__file__, "--side", name, config, out], out)


def max_difference(a: dict, b: dict) -> float:
    """Largest absolute difference between two answers (inf if they disagree on what exists)."""
    if set(a) != set(b):
        return float("inf")
    worst = 0.0
    for key in a:
        for m, x in a[key].items():
            y = b[key].get(m)
            if (x is None) != (y is None):
                return float("inf")
            if x is not None:
                worst = max(worst, abs(x - y))
    return worst


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000], help="credit_default rows (default 1M)")
    ap.add_argument("--side", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.side:
        name, config, out = args.side
        {"lastmile": side_lastmile, "pandas": side_pandas, "floor": side_floor}[name](config, out)
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    print("seconds are wall-clock inside each process (imports included); cpu = user + system seconds "
          "of that process, steadier when the machine is loaded", flush=True)
    print(f"{'rows':>12} {'lastmile s':>11} {'pandas s':>9} {'speedup':>8} {'lm cpu':>7} {'pd cpu':>7} "
          f"{'lastmile MB':>12} {'pandas MB':>10} {'mem ratio':>9} {'groups':>7} {'max |diff|':>11} "
          f"{'count(*) s':>11} {'count(*) MB':>12}")
    for rows in args.rows:
        config = sample_workspace(rows)
        lm, pd_ = run_side("lastmile", config, rows), run_side("pandas", config, rows)
        floor = run_side("floor", config, rows)
        diff = max_difference(lm["answer"], pd_["answer"])
        print(f"{rows:>12,} {lm['seconds']:>11.2f} {pd_['seconds']:>9.2f} {pd_['seconds'] / lm['seconds']:>7.1f}x "
              f"{lm['cpu']:>7.1f} {pd_['cpu']:>7.1f} {lm['peak_mb']:>12.0f} {pd_['peak_mb']:>10.0f} {lm['peak_mb'] / pd_['peak_mb']:>9.2f} "
              f"{len(lm['answer']):>7} {diff:>11.2e} {floor['seconds']:>11.2f} {floor['peak_mb']:>12.0f}", flush=True)


if __name__ == "__main__":
    main()
