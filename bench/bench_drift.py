"""Speed and memory of drift over time: Lastmile (engine plan) against pandas + scipy.

The question: drift of every feature of the sample ``credit_default`` model,
for each week of the data, against a reference window (the first four weeks).
Both sides answer it in their own subprocess, from the same Parquet files;
each side's peak memory is that subprocess's ``ru_maxrss`` (from ``os.wait4``),
its time the wall time of the computation after imports. The parent then
checks that both answers agree for every (week, feature, statistic) to a
relative 1e-9 -- exactness is part of the result, not assumed.

    .venv/bin/python bench/bench_drift.py                  # 1M and 10M credit rows
    .venv/bin/python bench/bench_drift.py --rows 1000000   # one size
    .venv/bin/python bench/bench_drift.py --prediction     # also the (continuous) score

Data are generated with :func:`analytics.sample.generate` into
``bench/results/`` (git-ignored) once and reused; ``--rows`` counts the rows of
the credit log (the generator's total is scaled by its 60% credit share).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import run_child, sample_workspace  # noqa: E402

MODEL = "credit_default"
REFERENCE_WEEKS = 4
STATS = ("psi", "js_distance", "ks_statistic", "ks_p_value", "wasserstein", "wasserstein_normed", "chi2_p_value")


def _windows():
    from analytics.sample import DATA_END, DATA_START

    start = dt.datetime.combine(DATA_START, dt.time())
    return start, start + dt.timedelta(weeks=REFERENCE_WEEKS), dt.datetime.combine(DATA_END, dt.time()) + dt.timedelta(days=1)


def run_lastmile(folder: Path, prediction: bool) -> list[dict]:
    from analytics.analyses.drift import drift_over_time
    from analytics.log.engine import Engine
    from analytics.query.selection import Selection
    from analytics.config.workspace import load_workspace

    start, ref_end, end = _windows()
    engine = Engine(load_workspace(folder / "lastmile.toml"))
    ref = Selection.build(MODEL, start, ref_end)
    sel = Selection.build(MODEL, start, end)
    frame = drift_over_time(engine, MODEL, ref, sel, period="week", prediction=prediction, label=False)
    return [{"period": r["period"].isoformat(), "feature": r["feature"], **{s: r[s] for s in STATS}}
            for r in frame.to_dicts()]


def run_pandas(folder: Path, prediction: bool) -> list[dict]:
    """The same answer the plain way: load the columns, loop over weeks, call scipy."""
    import numpy as np
    import pandas as pd
    from scipy import stats
    from scipy.spatial.distance import jensenshannon

    from analytics.stats.drift import PSI_EPSILON
    from analytics.config.workspace import load_workspace

    spec = load_workspace(folder / "lastmile.toml").model(MODEL)
    feats = list(spec.columns.features) + ([spec.columns.score] if prediction else [])
    df = pd.read_parquet(folder / MODEL / "predictions", columns=["ts", *feats])
    start, ref_end, end = _windows()
    df = df[(df.ts >= start) & (df.ts < end)]
    ref = df[(df.ts >= start) & (df.ts < ref_end)]
    week = df.ts.dt.normalize() - pd.to_timedelta(df.ts.dt.day_of_week, unit="D")

    def psi_js(p_counts, q_counts):
        p, q = p_counts / p_counts.sum(), q_counts / q_counts.sum()
        pe, qe = np.where(p > 0, p, PSI_EPSILON), np.where(q > 0, q, PSI_EPSILON)
        return float(np.sum((qe - pe) * np.log(qe / pe))), float(jensenshannon(p, q, base=2))

    prepared = {}
    for f in feats:
        if pd.api.types.is_numeric_dtype(df[f]):
            a = ref[f].dropna().to_numpy(float)
            edges = np.unique(np.quantile(a, np.arange(1, 10) / 10, method="inverted_cdf"))
            prepared[f] = ("numeric", a, edges, np.bincount(np.searchsorted(edges, a), minlength=len(edges) + 1),
                           a.std(ddof=1))
        else:
            prepared[f] = ("categorical", ref[f].fillna("(missing)").value_counts())
    out = []
    for wk, g in df.groupby(week):
        for f in feats:
            prep = prepared[f]
            row = {"period": wk.date().isoformat(), "feature": f, **{s: None for s in STATS}}
            if prep[0] == "numeric":
                _, a, edges, ref_bins, std = prep
                b = g[f].dropna().to_numpy(float)
                ks = stats.ks_2samp(a, b)
                w = stats.wasserstein_distance(a, b)
                psi, js = psi_js(ref_bins, np.bincount(np.searchsorted(edges, b), minlength=len(edges) + 1))
                row.update(ks_statistic=float(ks.statistic), ks_p_value=float(ks.pvalue), wasserstein=float(w),
                           wasserstein_normed=float(w / std), psi=psi, js_distance=js)
            else:
                rc = prep[1]
                cc = g[f].fillna("(missing)").value_counts()
                cats = sorted(set(rc.index) | set(cc.index))
                r = rc.reindex(cats, fill_value=0).to_numpy(float)
                c = cc.reindex(cats, fill_value=0).to_numpy(float)
                psi, js = psi_js(r, c)
                row.update(chi2_p_value=float(stats.chi2_contingency(np.array([r, c]), correction=False).pvalue),
                           psi=psi, js_distance=js)
            out.append(row)
    return out


def worker(side: str, folder: Path, out: Path, prediction: bool) -> None:
    import pandas, polars, scipy.spatial.distance, scipy.stats  # noqa: F401,E401 - imports are not timed

    import analytics.analyses.drift  # noqa: F401
    t0 = time.perf_counter()
    rows = (run_lastmile if side == "lastmile" else run_pandas)(folder, prediction)
    seconds = time.perf_counter() - t0
    out.write_text(json.dumps({"seconds": seconds, "rows": rows}))


def measure(side: str, folder: Path, prediction: bool) -> dict:
    """Run one side in its own process (its own peak memory)."""
    out = folder / f"answer_{side}.json"
    return run_child([__file__, "--worker", side, "--folder", folder, "--out", out]
                     + (["--prediction"] if prediction else []), out)


def compare(a: list[dict], b: list[dict]) -> int:
    """Number of statistics compared; raises if any differs beyond 1e-9 (relative)."""
    key = lambda r: (r["period"], r["feature"])  # noqa: E731
    ai, bi = {key(r): r for r in a}, {key(r): r for r in b}
    assert ai.keys() == bi.keys(), f"different (week, feature) rows: {sorted(set(ai) ^ set(bi))[:5]}"
    n = 0
    for k, ra in ai.items():
        rb = bi[k]
        for s in STATS:
            x, y = ra[s], rb[s]
            assert (x is None) == (y is None), f"{k} {s}: {x} vs {y}"
            if x is not None:
                assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12), f"{k} {s}: lastmile {x!r} vs pandas {y!r}"
                n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, nargs="*", default=[1_000_000, 10_000_000], help="credit log rows")
    ap.add_argument("--prediction", action="store_true",
                    help="also the score (a continuous column: about as many distinct values as rows)")
    ap.add_argument("--worker", choices=["lastmile", "pandas"], help=argparse.SUPPRESS)
    ap.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.folder, args.out, args.prediction)
        return
    for rows in args.rows:
        folder = sample_workspace(rows).parent
        lm = measure("lastmile", folder, args.prediction)
        pd_ = measure("pandas", folder, args.prediction)
        n = compare(lm["rows"], pd_["rows"])
        what = "features and score" if args.prediction else "features"
        print(f"{rows:>12,} credit rows ({what}), {len(lm['rows'])} (week, column) pairs, "
              f"{n} statistics equal to 1e-9")
        print(f"    lastmile        {lm['seconds']:8.1f} s   peak {lm['peak_mb']:8.0f} MB")
        print(f"    pandas + scipy  {pd_['seconds']:8.1f} s   peak {pd_['peak_mb']:8.0f} MB")
        print(f"    ratio           {pd_['seconds'] / lm['seconds']:8.1f} x faster, "
              f"{pd_['peak_mb'] / lm['peak_mb']:.1f} x less memory", flush=True)


if __name__ == "__main__":
    main()
