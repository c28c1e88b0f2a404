"""Speed and memory of value + threshold analysis: Lastmile (engine plan) against pandas + numpy.

The question, on the sample ``credit_default`` model: value, baseline, compute cost
and pending expected value per (version, week), and the value at each of the
1,001 thresholds per version; then 100 what-if evaluations (other business
numbers and thresholds) on the same aggregates. Each side runs in its own
subprocess from the same Parquet files (peak memory = that process's
``ru_maxrss``; time = wall time after imports). The parent checks that both
answers agree to a relative 1e-9 for every number.

    .venv/bin/python bench/bench_value.py                  # 1M credit rows
    .venv/bin/python bench/bench_value.py --rows 10000000

Data are generated with :func:`analytics.sample.generate` into ``bench/results/``
(git-ignored) once and reused (the drift benchmark's folders are shared).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import run_child, sample_workspace  # noqa: E402

MODEL = "credit_default"
FIELDS = ("n", "n_labeled", "value", "baseline_value", "compute_cost", "pending_expected_value")
WHAT_IFS = 100


def run_lastmile(folder: Path) -> dict:
    from analytics.log.engine import Engine
    from analytics.query.selection import Grouping, Selection
    from analytics.analyses.value import curve, evaluate, value_summary
    from analytics.config.workspace import load_workspace

    engine = Engine(load_workspace(folder / "lastmile.toml"))
    sel = Selection.build(MODEL)
    by_week = value_summary(engine, sel, Grouping(by=("version", "period"), period="week"), bins=0)
    res = evaluate(by_week)
    by_version = value_summary(engine, sel, Grouping(by=("version",)), bins=1000)
    tc = curve(by_version)
    t0 = time.perf_counter()
    for i in range(WHAT_IFS):
        a = by_version.defaults.replace(fp=-15.0 - i, threshold=(200 + 3 * i) / 1000)
        evaluate(by_version, a)
        curve(by_version, a)
    what_if = (time.perf_counter() - t0) / WHAT_IFS
    rows = [{"version": r.group["version"], "period": r.group["period"], **{f: getattr(r, f) for f in FIELDS}}
            for r in res.rows]
    return {"rows": rows, "curves": {v: list(c.values) for v, c in tc.versions.items()},
            "what_if_ms": what_if * 1000}


def run_pandas(folder: Path) -> dict:
    """The plain way: load the columns, join the latest outcome per id, compute row by row."""
    import numpy as np
    import pandas as pd

    from analytics.config.workspace import load_workspace

    b = load_workspace(folder / "lastmile.toml").model(MODEL).business
    pred = pd.read_parquet(folder / MODEL / "predictions", columns=["prediction_id", "ts", "model_version", "score"])
    out = pd.read_parquet(folder / MODEL / "outcomes",
                          columns=["prediction_id", "actual", "outcome_ts", "loan_amount_loss"])
    out = out.sort_values(["outcome_ts", "actual"]).drop_duplicates("prediction_id", keep="last")
    df = pred.merge(out, on="prediction_id", how="left")
    score = df["score"].to_numpy(float)
    ok = ~np.isnan(score) & (score >= 0) & (score <= 1)
    y = df["actual"].to_numpy(float)
    lab = ~np.isnan(y)
    loss = df["loan_amount_loss"].to_numpy(float)
    loss_mean = np.nanmean(loss[lab])

    def outcome(d, yy, fill, loss=loss):  # value of (decision, label) per row; fn is the per-row loss
        fn = np.where(np.isnan(loss), fill, loss)
        return np.where(d == 1, np.where(yy == 1, b.tp, b.fp), np.where(yy == 1, fn, b.tn))

    dec = (score >= b.threshold).astype(int)
    valued = lab & ok
    p = np.where(ok, score, 0.0)
    df["_val"] = np.where(valued, outcome(dec, y, 0.0), 0.0)
    df["_base"] = np.where(valued, outcome(np.zeros_like(dec), y, 0.0), 0.0)
    df["_ev"] = np.where(~lab & ok, p * outcome(dec, np.ones_like(y), loss_mean)
                         + (1 - p) * outcome(dec, np.zeros_like(y), loss_mean), 0.0)
    df["_lab"] = lab
    df["week"] = (df.ts.dt.normalize() - pd.to_timedelta(df.ts.dt.day_of_week, unit="D")).dt.date.map(str)
    g = df.groupby(["model_version", "week"])
    agg = g.agg(n=("_lab", "size"), n_labeled=("_lab", "sum"), value=("_val", "sum"), base=("_base", "sum"),
                ev=("_ev", "sum")).reset_index()
    rows = [{"version": r.model_version, "period": r.week, "n": int(r.n), "n_labeled": int(r.n_labeled),
             "value": r.value, "baseline_value": r.base, "compute_cost": r.n * b.cost_per_1k / 1000,
             "pending_expected_value": r.ev} for r in agg.itertuples()]
    curves = {}
    edges = np.array([k / 1000 for k in range(1001)])
    for v in sorted(df.model_version.unique()):
        m = (df.model_version == v).to_numpy() & valued
        s = score[m]
        pos, neg = outcome(np.ones(m.sum()), y[m], 0.0, loss[m]), outcome(np.zeros(m.sum()), y[m], 0.0, loss[m])
        order = np.argsort(s)
        s, pos, neg = s[order], pos[order], neg[order]
        cut = np.searchsorted(s, edges, side="left")  # rows below the threshold are negative
        cpos, cneg = np.concatenate([[0.0], np.cumsum(pos)]), np.concatenate([[0.0], np.cumsum(neg)])
        curves[v] = (cneg[cut] + (cpos[-1] - cpos[cut])).tolist()
    return {"rows": rows, "curves": curves}


def worker(side: str, folder: Path, out: Path) -> None:
    t0 = time.perf_counter()
    res = run_lastmile(folder) if side == "lastmile" else run_pandas(folder)
    res["seconds"] = time.perf_counter() - t0
    out.write_text(json.dumps(res))


def measure(side: str, folder: Path) -> dict:
    """Run one side in its own process (its own peak memory)."""
    out = folder / f"value_answer_{side}.json"
    return run_child([__file__, "--worker", side, "--folder", folder, "--out", out], out)


def compare(a: dict, b: dict) -> int:
    """Numbers compared; raises if any differs beyond 1e-9 (relative)."""
    def close(x, y):
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6)
    ai = {(r["version"], r["period"]): r for r in a["rows"]}
    bi = {(r["version"], r["period"]): r for r in b["rows"]}
    assert ai.keys() == bi.keys(), sorted(set(ai) ^ set(bi))[:5]
    n = 0
    for k, ra in ai.items():
        for f in FIELDS:
            x, y = ra[f], bi[k][f]
            if x is None:  # no labeled rows yet: Lastmile says unknown, pandas says 0
                assert bi[k]["n_labeled"] == 0 or f == "pending_expected_value", (k, f)
                continue
            assert close(x, y), f"{k} {f}: lastmile {x!r} vs pandas {y!r}"
            n += 1
    assert a["curves"].keys() == b["curves"].keys()
    for v, xs in a["curves"].items():
        assert all(close(x, y) for x, y in zip(xs, b["curves"][v], strict=True)), f"curve of {v}"
        n += len(xs)
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, nargs="*", default=[1_000_000], help="credit log rows")
    ap.add_argument("--worker", choices=["lastmile", "pandas"], help=argparse.SUPPRESS)
    ap.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.folder, args.out)
        return
    for rows in args.rows:
        folder = sample_workspace(rows).parent
        lm = measure("lastmile", folder)
        pd_ = measure("pandas", folder)
        n = compare(lm, pd_)
        print(f"{rows:>12,} credit rows: {len(lm['rows'])} (version, week) rows and "
              f"{len(lm['curves'])} threshold curves; {n} numbers equal to 1e-9")
        print(f"    lastmile        {lm['seconds']:8.1f} s   peak {lm['peak_mb']:8.0f} MB"
              f"   (incl. {WHAT_IFS} what-ifs at {lm['what_if_ms']:.0f} ms each, no query)")
        print(f"    pandas + numpy  {pd_['seconds']:8.1f} s   peak {pd_['peak_mb']:8.0f} MB   (one answer)")
        print(f"    ratio           {pd_['seconds'] / lm['seconds']:8.1f} x faster, "
              f"{pd_['peak_mb'] / lm['peak_mb']:.1f} x less memory", flush=True)


if __name__ == "__main__":
    main()
