"""Speed and memory of a paired (shadow) comparison against pandas + scipy, same answer.

The question: champion ``v1`` against its shadow ``v3`` of the sample
``credit_default`` model, on the ids both scored: each version's ROC AUC, the
paired DeLong p-value of the difference, McNemar's p-value on accuracy, the
paired t p-value on the Brier score, and the disagreement rate.

* Lastmile: ``compare_versions(engine, Selection.build("credit_default"), "v1",
  "v3", metrics=("accuracy", "brier", "roc_auc"), segments=False)`` through
  DuckDB (the join on the id, the placement values and every sum in the engine).
* Baseline: what a data scientist writes: read the Parquet files into pandas,
  keep each id's latest outcome, join, pivot the two versions on the id, then
  scikit-learn's AUC, the fast midrank DeLong (Sun & Xu 2014) in numpy, and
  scipy's binomial / chi-square / paired t tests.

Each side runs in its own subprocess (its own peak memory); the script checks
that both agree and prints times, ratio and peak memory.

Usage::

    .venv/bin/python bench/bench_compare.py                 # 1M credit rows
    .venv/bin/python bench/bench_compare.py --rows 1000000 10000000
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import RESULTS, run_child, sample_workspace  # noqa: E402
from bench_metrics import THRESHOLD, _finish  # noqa: E402

KEYS = ("auc_v1", "auc_v3", "auc_p", "accuracy_p", "brier_p", "disagreement")


def side_lastmile(config: str, out: str) -> None:
    t0 = time.perf_counter()
    from analytics.analyses.compare import compare_versions
    from analytics.log.engine import Engine
    from analytics.query.selection import Selection
    from analytics.config.workspace import load_workspace
    engine = Engine(load_workspace(config))
    r = compare_versions(engine, Selection.build("credit_default"), "v1", "v3", paired=True,
                         metrics=("accuracy", "brier", "roc_auc"), segments=False)
    m = r.metrics
    answer = {"auc_v1": m["roc_auc"].baseline, "auc_v3": m["roc_auc"].candidate, "auc_p": m["roc_auc"].p_value,
              "accuracy_p": m["accuracy"].p_value, "brier_p": m["brier"].p_value,
              "disagreement": r.disagreement_rate, "n": r.n_common}
    _finish(t0, answer, out)


def side_pandas(config: str, out: str) -> None:
    t0 = time.perf_counter()
    import numpy as np
    import pandas as pd
    from scipy import stats
    from sklearn.metrics import roc_auc_score
    folder = Path(config).parent / "credit_default"
    pred = pd.read_parquet(folder / "predictions", columns=["prediction_id", "model_version", "score"])
    outc = pd.read_parquet(folder / "outcomes", columns=["prediction_id", "actual", "outcome_ts"])
    outc = outc.sort_values(["outcome_ts", "actual"]).drop_duplicates("prediction_id", keep="last")
    df = pred[pred.model_version.isin(["v1", "v3"])].merge(outc, on="prediction_id", how="inner")
    wide = df.pivot_table(index="prediction_id", columns="model_version", values="score", aggfunc="first")
    wide = wide.dropna().join(outc.set_index("prediction_id").actual)
    y = wide.actual.astype(int).to_numpy()
    a, b = wide.v1.to_numpy(), wide.v3.to_numpy()

    def placements(s):
        pos, neg = s[y == 1], s[y == 0]
        m, n = len(pos), len(neg)
        tz = stats.rankdata(np.concatenate([pos, neg]))
        v10 = (tz[:m] - stats.rankdata(pos)) / n
        v01 = 1 - (tz[m:] - stats.rankdata(neg)) / m
        return v10, v01

    a10, a01 = placements(a)
    b10, b01 = placements(b)
    s10, s01 = np.cov(np.vstack([a10, b10])), np.cov(np.vstack([a01, b01]))
    var = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / len(a10) + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / len(a01)
    d = b10.mean() - a10.mean()
    ok_a, ok_b = (a >= THRESHOLD) == y, (b >= THRESHOLD) == y
    nb, nc = int((ok_a & ~ok_b).sum()), int((~ok_a & ok_b).sum())
    mc_p = (min(1.0, 2 * stats.binom.cdf(min(nb, nc), nb + nc, 0.5)) if nb + nc < 25
            else stats.chi2.sf((nb - nc) ** 2 / (nb + nc), 1))
    answer = {"auc_v1": roc_auc_score(y, a), "auc_v3": roc_auc_score(y, b),
              "auc_p": float(2 * stats.norm.sf(abs(d) / np.sqrt(var))), "accuracy_p": float(mc_p),
              "brier_p": float(stats.ttest_rel((b - y) ** 2, (a - y) ** 2).pvalue),
              "disagreement": float(((a >= THRESHOLD) != (b >= THRESHOLD)).mean()), "n": len(y)}
    _finish(t0, answer, out)


def run_side(name: str, config: Path, rows: int) -> dict:
    out = RESULTS / f"compare_{name}_{rows}.json"
    return run_child([__file__, "--side", name, config, out], out)


def relative_difference(a: dict, b: dict) -> float:
    """Largest relative difference over the answer's numbers (inf if the counts differ)."""
    if a["n"] != b["n"]:
        return float("inf")
    return max(abs(a[k] - b[k]) / max(abs(b[k]), 1e-300) for k in KEYS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[1_000_000], help="credit_default rows (default 1M)")
    ap.add_argument("--side", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.side:
        name, config, out = args.side
        {"lastmile": side_lastmile, "pandas": side_pandas}[name](config, out)
        return
    RESULTS.mkdir(parents=True, exist_ok=True)
    print(f"{'rows':>12} {'pairs':>9} {'lastmile s':>11} {'pandas s':>9} {'speedup':>8} {'lm cpu':>7} {'pd cpu':>7} "
          f"{'lastmile MB':>12} {'pandas MB':>10} {'max rel diff':>13}")
    for rows in args.rows:
        config = sample_workspace(rows)
        lm, pd_ = run_side("lastmile", config, rows), run_side("pandas", config, rows)
        diff = relative_difference(lm["answer"], pd_["answer"])
        print(f"{rows:>12,} {lm['answer']['n']:>9,} {lm['seconds']:>11.2f} {pd_['seconds']:>9.2f} "
              f"{pd_['seconds'] / lm['seconds']:>7.1f}x {lm['cpu']:>7.1f} {pd_['cpu']:>7.1f} "
              f"{lm['peak_mb']:>12.0f} {pd_['peak_mb']:>10.0f} {diff:>13.2e}", flush=True)


if __name__ == "__main__":
    main()
