"""Logs at scale: the weekly monitoring report of one binary model, cold, on the store,
and after an incremental refresh; against a hand-written polars lazy baseline.

The question (issue #15), on ``credit_default`` of ``lastmile generate --rows N``:
for each (version, ISO week): n, accuracy, precision, recall, F1, exact ROC AUC; for
each later week of a version against that version's first 4 weeks: KS statistic,
KS p-value and Wasserstein distance of the 4 numeric features, chi-square p of the
categorical one (the sample declares one: ``employment``).

Each measure runs in a fresh process (its peak memory is its own, imports untimed):

1. the last day of predictions and the last 30 days of outcomes are held back; the
   store is refreshed from nothing (``refresh-from-nothing``);
2. they come back; Lastmile answers with ``--no-store`` (``cold``) and polars answers
   (``polars``): both must agree to 1e-9;
3. ``refresh + question``: the incremental refresh (one new day, 30 days of late
   outcomes), then the question on the store; must agree with cold;
4. ``question on the store``: the question again, on the fresh store.

Between 1 and 2 the question is asked once on the store (``first ask``: nothing
remembered yet), as yesterday's report would have: its answers are kept (the store's
answer cache, :mod:`analytics.store.answers`), so step 3 recomputes only the periods
whose days changed, and step 4 is read back. Every line gives wall and CPU seconds (the
child's user + system time: what a loaded machine inflates least).

    .venv/bin/python bench/bench_scale.py --rows 5000000      # total rows (60% credit)
    .venv/bin/python bench/bench_scale.py --rows 5000000 20000000

Logs go to ``bench/results/scale_<rows>`` (git-ignored) once, and are reused.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import RESULTS, ROOT, run_child  # noqa: E402

MODEL = "credit_default"
NUMERIC = ("income", "age", "debt_ratio", "loan_amount")
CATEGORICAL = ("employment",)
METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")
DRIFT_STATS = ("ks_statistic", "ks_p_value", "wasserstein", "chi2_p_value")
REF_WEEKS = 4
HELD = 30   # days of late outcomes held back
#: The command line in a fresh process.
CLI = "import sys; from analytics.cli import main; sys.exit(main(sys.argv[1:]))"


def folder_for(rows: int) -> Path:
    return RESULTS / f"scale_{rows}"


def generate(rows: int) -> Path:
    folder = folder_for(rows)
    if not (folder / "lastmile.toml").is_file():
        print(f"generating {rows:,} rows into {folder} ...", flush=True)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", CLI, "generate", "--rows", str(rows), "--out", str(folder)],
                       check=True, cwd=ROOT, stderr=subprocess.DEVNULL)
        print(f"generated in {time.perf_counter() - t0:.0f} s", flush=True)
    return folder


# ------------------------------------------------------------------ the question, by Lastmile


def lastmile_question(engine) -> dict:
    from analytics.analyses.drift import drift_over_time
    from analytics.metrics.compute import compute_metrics
    from analytics.query.selection import Grouping, Selection

    res = compute_metrics(engine, Selection.build(MODEL), Grouping(by=("version", "period"), period="week"),
                          list(METRICS))
    out: dict[str, dict] = {}
    first: dict[str, dt.date] = {}
    for r in res.rows:
        v, wk = str(r.group["version"]), r.group["period"]
        wk = dt.date.fromisoformat(str(wk)[:10])
        out[f"m|{v}|{wk.isoformat()}"] = {"n": r.n, **{m: r.metrics[m].value for m in METRICS}}
        if r.n and (v not in first or wk < first[v]):
            first[v] = wk
    for v, w0 in sorted(first.items()):
        start = dt.datetime.combine(w0, dt.time())
        ref_end = start + dt.timedelta(weeks=REF_WEEKS)
        ref = Selection.build(MODEL, start, ref_end, versions=[v])
        cur = Selection.build(MODEL, ref_end, None, versions=[v])
        frame = drift_over_time(engine, MODEL, ref, cur, period="week", features=list(NUMERIC + CATEGORICAL),
                                prediction=False, label=False)
        for r in frame.to_dicts():
            out[f"d|{v}|{r['period'].isoformat()}|{r['feature']}"] = {s: r[s] for s in DRIFT_STATS}
    return out


# ------------------------------------------------------------------ the question, by polars


def polars_question(folder: Path) -> dict:
    """The same answer by hand: polars lazy for the join, filters and aggregates; scipy
    for KS, Wasserstein and chi-square on the collected week columns."""
    import numpy as np
    import polars as pl
    from scipy import stats

    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    pred = pl.scan_parquet(str(folder / MODEL / "predictions" / "**" / "*.parquet"), hive_partitioning=False)
    pred = pred.select("prediction_id", "ts", "model_version", "score", *NUMERIC, *CATEGORICAL)
    out = pl.scan_parquet(str(folder / MODEL / "outcomes" / "**" / "*.parquet"), hive_partitioning=False)
    # each id's latest outcome: a known outcome_ts first, the latest, then the largest label
    latest = out.group_by("prediction_id").agg(
        pl.col("actual").sort_by([pl.col("outcome_ts").is_not_null(), pl.col("outcome_ts"), pl.col("actual")],
                                 nulls_last=False).last())
    j = pred.join(latest, on="prediction_id", how="left")
    j = j.filter(pl.col("ts").is_not_null() & (pl.col("ts") >= dt.datetime(1970, 1, 1))
                 & (pl.col("ts") < now + dt.timedelta(days=1)))
    score = pl.when(pl.col("score").is_nan() | (pl.col("score") < 0) | (pl.col("score") > 1)).then(None) \
        .otherwise(pl.col("score"))
    y = pl.when(pl.col("actual") == 1).then(1).when(pl.col("actual") == 0).then(0).otherwise(None)
    j = j.with_columns(score=score, y=y, week=pl.col("ts").dt.truncate("1w").dt.date(),
                       version=pl.col("model_version").cast(pl.String))
    j = j.with_columns(d=pl.when(pl.col("score") >= 0.3).then(1).when(pl.col("score") < 0.3).then(0).otherwise(None))
    keys = ["version", "week"]
    lab = pl.col("y").is_not_null()
    dec = lab & pl.col("d").is_not_null()
    agg = j.group_by(keys).agg(
        n=pl.len(),
        tp=(dec & (pl.col("d") == 1) & (pl.col("y") == 1)).sum(),
        tn=(dec & (pl.col("d") == 0) & (pl.col("y") == 0)).sum(),
        fp=(dec & (pl.col("d") == 1) & (pl.col("y") == 0)).sum(),
        fn=(dec & (pl.col("d") == 0) & (pl.col("y") == 1)).sum())
    s = j.filter(lab & pl.col("score").is_not_null()).with_columns(r=pl.col("score").rank("average").over(keys))
    auc = s.group_by(keys).agg(P=(pl.col("y") == 1).sum(), N=(pl.col("y") == 0).sum(),
                               R=pl.when(pl.col("y") == 1).then(pl.col("r")).otherwise(0.0).sum())
    m = agg.join(auc, on=keys, how="left").collect()
    res: dict[str, dict] = {}

    def div(a, b):
        return a / b if b else None

    first: dict[str, dt.date] = {}
    for r in m.to_dicts():
        tp, tn, fp, fn = r["tp"], r["tn"], r["fp"], r["fn"]
        P, N = r["P"] or 0, r["N"] or 0
        a = (r["R"] - P * (P + 1) / 2) / (P * N) if P and N else None
        res[f"m|{r['version']}|{r['week'].isoformat()}"] = {
            "n": r["n"], "accuracy": div(tp + tn, tp + tn + fp + fn), "precision": div(tp, tp + fp),
            "recall": div(tp, tp + fn), "f1": div(2 * tp, 2 * tp + fp + fn), "roc_auc": a}
        if r["version"] not in first or r["week"] < first[r["version"]]:
            first[r["version"]] = r["week"]
    for v, w0 in sorted(first.items()):
        start = dt.datetime.combine(w0, dt.time())
        ref_end = start + dt.timedelta(weeks=REF_WEEKS)
        jv = j.filter(pl.col("version") == v)
        ref = jv.filter((pl.col("ts") >= start) & (pl.col("ts") < ref_end)).select(*NUMERIC, *CATEGORICAL).collect()
        cur = jv.filter(pl.col("ts") >= ref_end).select("week", *NUMERIC, *CATEGORICAL).collect()
        refs = {f: np.sort(ref[f].drop_nulls().drop_nans().to_numpy().astype(float)) for f in NUMERIC}
        rc = ref[CATEGORICAL[0]].fill_null("(missing)").value_counts()
        for (wk,), g in cur.group_by(["week"]):
            for f in NUMERIC:
                b = g[f].drop_nulls().drop_nans().to_numpy().astype(float)
                row = {k: None for k in DRIFT_STATS}
                if len(b) and len(refs[f]):
                    ks = stats.ks_2samp(refs[f], b)
                    row.update(ks_statistic=float(ks.statistic), ks_p_value=float(ks.pvalue),
                               wasserstein=float(stats.wasserstein_distance(refs[f], b)))
                res[f"d|{v}|{wk.isoformat()}|{f}"] = row
            for f in CATEGORICAL:
                cc = g[f].fill_null("(missing)").value_counts()
                cats = sorted(set(rc[f].to_list()) | set(cc[f].to_list()))
                rmap = dict(zip(rc[f].to_list(), rc["count"].to_list()))
                cmap = dict(zip(cc[f].to_list(), cc["count"].to_list()))
                table = np.array([[rmap.get(c, 0) for c in cats], [cmap.get(c, 0) for c in cats]], dtype=float)
                row = {k: None for k in DRIFT_STATS}
                row["chi2_p_value"] = float(stats.chi2_contingency(table, correction=False).pvalue)
                res[f"d|{v}|{wk.isoformat()}|{f}"] = row
    return res


# ------------------------------------------------------------------ the floor


#: What no plan of the question can skip, in DuckDB on this machine (constant SQL, the
#: files as a bound parameter): read the columns the question needs, join each prediction
#: to its id's outcome, and sort each numeric feature's values once (exact KS and
#: Wasserstein need the sorted values of every window).
FLOOR = {
    "scan": "SELECT count(*), sum(score), sum(income), sum(age), sum(debt_ratio), sum(loan_amount), "
            "count(DISTINCT model_version), count(DISTINCT employment), max(ts) FROM read_parquet($p)",
    "scan + join": "SELECT count(*), sum(o.actual) FROM read_parquet($p) p "
                   "LEFT JOIN read_parquet($o) o USING (prediction_id)",
    "sort 4 features": "SELECT sum(r1), sum(r2), sum(r3), sum(r4) FROM (SELECT "
                       "row_number() OVER (PARTITION BY model_version ORDER BY income) r1, "
                       "row_number() OVER (PARTITION BY model_version ORDER BY age) r2, "
                       "row_number() OVER (PARTITION BY model_version ORDER BY debt_ratio) r3, "
                       "row_number() OVER (PARTITION BY model_version ORDER BY loan_amount) r4 "
                       "FROM read_parquet($p))",
}


def floor(folder: Path) -> dict:
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    params = {"p": str(folder / MODEL / "predictions" / "**" / "*.parquet"),
              "o": str(folder / MODEL / "outcomes" / "**" / "*.parquet")}
    out = {}
    for name, sql in FLOOR.items():
        t0, c0 = time.perf_counter(), time.process_time()
        con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql}).fetchall()
        out[name] = {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0}
    return out


# ------------------------------------------------------------------ workers (one process each)


def worker(side: str, folder: Path, out: Path) -> None:
    import polars, scipy.stats  # noqa: F401,E401 - imports are not timed

    import analytics.analyses.drift  # noqa: F401
    import analytics.metrics  # noqa: F401
    from analytics.log.engine import Engine
    from analytics.store import open_engine, refresh
    from analytics.config.workspace import load_workspace

    ws = load_workspace(folder / "lastmile.toml")
    cache = folder.parent / f"{folder.name}_cache"
    t0 = time.perf_counter()
    answer = None
    extra = {}
    if side == "cold":
        answer = lastmile_question(Engine(ws, cache=cache))
    elif side == "polars":
        answer = polars_question(folder)
    elif side == "refresh":
        res = refresh(ws, cache)
        extra = {"refresh": res.to_dict()}
    elif side == "refresh+question":
        res = refresh(ws, cache)
        extra = {"refresh": res.to_dict(), "refresh_seconds": time.perf_counter() - t0}
        eng = open_engine(ws, cache=cache)
        assert eng.stored(MODEL) is not None, "the store does not serve after the refresh"
        answer = lastmile_question(eng)
    elif side == "floor":
        extra = {"floor": floor(folder)}
    elif side == "store":
        eng = open_engine(ws, cache=cache)
        assert eng.stored(MODEL) is not None, "the store does not serve"
        answer = lastmile_question(eng)
    seconds = time.perf_counter() - t0
    out.write_text(json.dumps({"seconds": seconds, "answer": answer, **extra}, default=str))


def measure(side: str, folder: Path, name: str | None = None) -> dict:
    out = folder.parent / f"{folder.name}_{(name or side).replace('+', '_')}.json"
    return run_child([__file__, "--worker", side, "--folder", folder, "--out", out], out)


def compare(a: dict, b: dict, what: str) -> int:
    assert a.keys() == b.keys(), f"{what}: different rows: {sorted(set(a) ^ set(b))[:6]}"
    n = 0
    for k in a:
        for s, x in a[k].items():
            y = b[k].get(s)
            assert (x is None) == (y is None), f"{what} {k} {s}: {x} vs {y}"
            if x is not None:
                assert math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12), f"{what} {k} {s}: {x!r} vs {y!r}"
                n += 1
    return n


def held_files(folder: Path) -> list[Path]:
    """The last day's prediction files and the last HELD days' outcome files."""
    days = sorted(p.name for p in (folder / MODEL / "predictions").iterdir())
    out = [f for f in (folder / MODEL / "predictions" / days[-1]).glob("*.parquet")]
    for d in days[-HELD:]:
        out += list((folder / MODEL / "outcomes" / d).glob("*.parquet"))
    return out


def mirror(logs: Path, held: set[Path] | None) -> Path:
    """A workspace of this script's own (``bench/results/scale/``) whose files are
    symbolic links to the generated logs, less ``held``: holding days back and bringing
    them back touches no shared file (other scripts may read the logs at the same time)."""
    folder = RESULTS / "scale" / logs.name
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(logs / "lastmile.toml", folder / "lastmile.toml")
    for f in logs.rglob("*.parquet"):
        link = folder / f.relative_to(logs)
        if held is not None and f in held:
            link.unlink(missing_ok=True)
        elif not link.exists():              # new, or a link whose target moved (a removed checkout)
            link.unlink(missing_ok=True)
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to(f.resolve())
    return folder


def line(what: str, r: dict, tail: str = "") -> None:
    print(f"    {what:34s} {r['seconds']:8.1f} s  cpu {r['cpu']:8.1f} s  peak {r['peak_mb']:7.0f} MB"
          f"  (load {os.getloadavg()[0]:.1f}){tail}", flush=True)


def from_nothing(rows: int, logs: Path, held: set[Path] | None) -> tuple[Path, dict]:
    """A store refreshed from nothing (the logs less ``held``), and the question asked
    once on it (its answers are kept): the folder, and that answer's measure."""
    folder = mirror(logs, held)
    shutil.rmtree(folder.parent / f"{folder.name}_cache", ignore_errors=True)
    print(f"{rows:,} rows; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    first = measure("refresh", folder)
    credit = sum(m["rows_written"] for m in first["refresh"]["models"] if m["model"] == MODEL)
    line(f"refresh from nothing ({credit:,} {MODEL} rows)", first)
    before = measure("store", folder, "store_before")
    line("question on the store (first ask)", before)
    return folder, before


def run(rows: int, polars: bool = True) -> None:
    logs = generate(rows)
    folder, _ = from_nothing(rows, logs, set(held_files(logs)))   # yesterday's question: its answers are kept
    mirror(logs, None)
    cold = measure("cold", folder)
    line("cold (--no-store)", cold)
    if polars:
        pol = measure("polars", folder)
        line("polars lazy", pol)
        n = compare(cold["answer"], pol["answer"], "cold vs polars")
        print(f"    answers: cold = polars on {n:,} numbers (1e-9)")
        print(f"    cold / polars: wall {cold['seconds'] / pol['seconds']:.2f}x, "
              f"cpu {cold['cpu'] / pol['cpu']:.2f}x", flush=True)
    inc = measure("refresh+question", folder)
    compare(inc["answer"], cold["answer"], "store vs cold")
    line("refresh + question", inc, f" (refresh {inc['refresh_seconds']:.1f} s) = "
         f"1/{cold['seconds'] / inc['seconds']:.1f} of cold (cpu 1/{cold['cpu'] / inc['cpu']:.1f})")
    again = measure("store", folder)
    compare(again["answer"], cold["answer"], "store vs cold")
    line("question re-asked on the store", again)
    print("    answers: store = cold on every number", flush=True)
    low = measure("floor", folder)
    for name, r in low["floor"].items():
        print(f"    floor: {name:26s} {r['seconds']:8.1f} s  cpu {r['cpu']:8.1f} s")
    print(flush=True)


def run_large(rows: int) -> None:
    """The measures without a baseline or held-back days (100M rows: polars alone would
    take most of an hour here): refresh from nothing, the question asked once on the
    store and again, and cold."""
    folder, before = from_nothing(rows, generate(rows), None)
    again = measure("store", folder)
    compare(again["answer"], before["answer"], "re-asked vs first ask")
    line("question re-asked on the store", again)
    cold = measure("cold", folder)
    line("cold (--no-store)", cold)
    compare(before["answer"], cold["answer"], "store vs cold")
    print("    answers: store = cold on every number", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, nargs="*", default=[5_000_000], help="total rows to generate")
    ap.add_argument("--no-polars", action="store_true", help="skip the polars baseline (long at 100M rows)")
    ap.add_argument("--large", action="store_true",
                    help="refresh, first ask, re-asked and cold only: no baseline, no held-back days")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker, args.folder, args.out)
        return
    for rows in args.rows:
        if args.large:
            run_large(rows)
        else:
            run(rows, polars=not args.no_polars)


if __name__ == "__main__":
    main()
