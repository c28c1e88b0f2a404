"""Metrics against reference implementations (scikit-learn, numpy) on generated logs.

Each workspace is generated once per module; every metric of every group is
compared to scikit-learn / numpy computed row by row from the generated truth,
to 1e-9. Cases: tied scores, NaN scores, a one-class segment, corrected
(duplicated) outcomes, unlabeled weeks, a group of one row, empty selections.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from analytics.config.workspace import load_workspace
from analytics.errors import EmptySelectionError
from analytics.log.engine import Engine
from analytics.metrics import MIN_LABELED, metric_names
from analytics.metrics.compute import compute_metrics, compute_on_table
from analytics.query.selection import Grouping, Selection
from .factories import CLASSES, make_workspace


TOL = 1e-9
QS = {"latency_p50": 0.5, "latency_p95": 0.95, "latency_p99": 0.99}


def _setup(tmp_path_factory, task, **kw):
    folder = tmp_path_factory.mktemp(task)
    g = make_workspace(folder, task, **kw)
    engine = Engine(load_workspace(g.config))
    df = g.frame()
    df["week"] = (df.ts - pd.to_timedelta(df.ts.dt.day_of_week, unit="D")).dt.strftime("%Y-%m-%d")
    # the latest outcome's timestamp per id (outcomes may be duplicated; the latest wins)
    out = pd.DataFrame({"pid": g.outcomes["pid"], "label_ts": pd.to_datetime(list(g.outcomes["label_ts"]))})
    latest = out.groupby("pid").label_ts.max()
    df["delay"] = (df.pid.map(latest) - df.ts).dt.total_seconds() / 86400
    return g, engine, df


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    return _setup(tmp_path_factory, "binary", n=2500, seed=3, ties=True, nan_scores=15,
                  one_class_segment=True, duplicate_outcomes=25, unlabeled_after_day=42)


@pytest.fixture(scope="module")
def multiclass(tmp_path_factory):
    return _setup(tmp_path_factory, "multiclass", n=1500, seed=4)


@pytest.fixture(scope="module")
def regression(tmp_path_factory):
    return _setup(tmp_path_factory, "regression", n=1500, seed=5, ties=True)


def _common(sub: pd.DataFrame) -> dict:
    lat = sub.lat.to_numpy()
    exp = {"volume": float(len(sub)), "label_coverage": sub.y_true.notna().mean()}
    exp.update({k: float(np.quantile(lat, q)) for k, q in QS.items()})
    return exp


def binary_reference(sub: pd.DataFrame) -> dict:
    """Every binary metric of one group with scikit-learn (None where undefined)."""
    exp = _common(sub)
    lab = sub[sub.y_true.notna()]
    exp["base_rate"] = lab.y_true.astype(int).mean() if len(lab) else None
    sc = lab[lab.score.notna()]
    y, s = sc.y_true.astype(int).to_numpy(), sc.score.to_numpy()
    p = (s >= 0.5).astype(int)
    if len(sc) == 0:
        return exp | dict.fromkeys(["accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss",
                                    "brier", "positive_rate"])
    exp["accuracy"] = skm.accuracy_score(y, p)
    exp["precision"] = skm.precision_score(y, p, zero_division=0) if p.sum() else None
    exp["recall"] = skm.recall_score(y, p, zero_division=0) if y.sum() else None
    exp["f1"] = skm.f1_score(y, p, zero_division=0) if (y.sum() or p.sum()) else None
    exp["roc_auc"] = skm.roc_auc_score(y, s) if 0 < y.sum() < len(y) else None
    exp["pr_auc"] = skm.average_precision_score(y, s) if y.sum() else None
    exp["log_loss"] = skm.log_loss(y, y_proba=s, labels=[0, 1])
    exp["brier"] = skm.brier_score_loss(y, s, labels=[0, 1])
    exp["positive_rate"] = p.mean()
    return exp


def multiclass_reference(sub: pd.DataFrame) -> dict:
    exp = _common(sub)
    lab = sub[sub.y_true.notna()]
    probs = lab[[f"p_{c}" for c in CLASSES]].to_numpy()
    y, p = lab.y_true.astype(str).to_numpy(), np.array(CLASSES)[probs.argmax(1)]
    kw = {"labels": list(CLASSES), "zero_division": 0}
    if len(lab) == 0:
        return exp | dict.fromkeys(["accuracy", "macro_f1", "weighted_f1", "macro_precision", "macro_recall"])
    return exp | {"accuracy": skm.accuracy_score(y, p),
                  "macro_f1": skm.f1_score(y, p, average="macro", **kw),
                  "weighted_f1": skm.f1_score(y, p, average="weighted", **kw),
                  "macro_precision": skm.precision_score(y, p, average="macro", **kw),
                  "macro_recall": skm.recall_score(y, p, average="macro", **kw)}


def regression_reference(sub: pd.DataFrame) -> dict:
    exp = _common(sub)
    lab = sub[sub.y_true.notna()]
    y, p = lab.y_true.astype(float).to_numpy(), lab.yhat.to_numpy()
    if len(lab) == 0:
        return exp | dict.fromkeys(["mae", "rmse", "mape", "r2", "bias"])
    return exp | {"mae": skm.mean_absolute_error(y, p), "rmse": np.sqrt(skm.mean_squared_error(y, p)),
                  "mape": skm.mean_absolute_percentage_error(y, p),
                  "r2": skm.r2_score(y, p) if len(y) > 1 and np.var(y) > 0 else None,
                  "bias": float(np.mean(p - y))}


REFERENCE = {"binary": binary_reference, "multiclass": multiclass_reference, "regression": regression_reference}


def check_result(result, df: pd.DataFrame, by: dict[str, str], task: str) -> int:
    """Compare every metric of every row with the reference; returns the number of values checked."""
    groups = df.groupby(list(by.values())) if by else [((), df)]
    expected = {}
    for key, sub in groups:
        key = key if isinstance(key, tuple) else (key,)
        expected[tuple(str(k) for k in key)] = (sub, REFERENCE[task](sub))
    assert {tuple(str(r.group[k]) for k in by) for r in result.rows} == set(expected)
    checked = 0
    for r in result.rows:
        sub, exp = expected[tuple(str(r.group[k]) for k in by)]
        assert r.n == len(sub) and r.n_labeled == int(sub.y_true.notna().sum())
        assert set(r.metrics) == set(metric_names(task))
        for name, want in exp.items():
            got = r.metrics[name]
            if want is None or (isinstance(want, float) and np.isnan(want)):
                assert got.value is None and got.reason, (r.group, name, got)
            else:
                assert got.value == pytest.approx(want, abs=TOL, rel=TOL), (r.group, name)
                checked += 1
            assert (got.value is None) == (got.ci_low is None) or got.value is not None
            if got.ci_low is not None:
                assert got.ci_low <= got.value <= got.ci_high, (r.group, name, got)
        lab = sub[sub.y_true.notna()]
        if len(lab):
            assert r.label_delay_days == pytest.approx(float(np.median(lab.delay)), abs=TOL)
        else:
            assert r.label_delay_days is None
    return checked


def test_binary_by_version_and_region_matches_sklearn(binary):
    g, engine, df = binary
    res = compute_metrics(engine, Selection.build("binary_model"), Grouping(by=("version", "region")))
    assert check_result(res, df, {"version": "ver", "region": "region"}, "binary") > 100
    solo = res.row(version="v1", region="solo")
    assert solo.metrics["roc_auc"].value is None and "one class" in solo.metrics["roc_auc"].reason
    # an odd segment value (quotes, semicolon) comes back as written
    assert res.row(version="v1", region="it's; \"odd\"").n > 0


def test_without_label_delay_the_metrics_are_the_same(binary):
    g, engine, df = binary
    sel, by = Selection.build("binary_model"), Grouping(by=("version",))
    full = compute_metrics(engine, sel, by)
    lean = compute_metrics(engine, sel, by, label_delay=False)
    assert [r.group for r in lean.rows] == [r.group for r in full.rows]
    assert all(r.label_delay_days is not None for r in full.rows)
    assert all(r.label_delay_days is None for r in lean.rows)
    assert [{k: v.value for k, v in r.metrics.items()} for r in lean.rows] == \
        [{k: v.value for k, v in r.metrics.items()} for r in full.rows]


def test_binary_by_week_has_unlabeled_weeks(binary):
    g, engine, df = binary
    res = compute_metrics(engine, Selection.build("binary_model"), Grouping(by=("period",), period="week"))
    check_result(res, df, {"period": "week"}, "binary")
    late = [r for r in res.rows if r.n_labeled == 0]
    assert late, "the generated log has unlabeled weeks"
    for r in late:
        assert r.metrics["volume"].value == r.n > 0
        assert r.metrics["label_coverage"].value == 0.0
        for name in ("roc_auc", "accuracy", "precision", "log_loss"):
            assert r.metrics[name].value is None and r.metrics[name].reason.startswith("no labeled rows")
    assert all(dt.date.fromisoformat(r.group["period"]).weekday() == 0 for r in res.rows)


def test_multiclass_matches_sklearn(multiclass):
    g, engine, df = multiclass
    res = compute_metrics(engine, Selection.build("multiclass_model"), Grouping(by=("version", "channel")))
    assert check_result(res, df, {"version": "ver", "channel": "channel"}, "multiclass") > 30


def test_regression_matches_sklearn(regression):
    g, engine, df = regression
    res = compute_metrics(engine, Selection.build("regression_model"), Grouping(by=("version",)))
    assert check_result(res, df, {"version": "ver"}, "regression") > 15


def test_filters_and_time_bounds(binary):
    g, engine, df = binary
    start, end = dt.datetime(2026, 3, 9), dt.datetime(2026, 3, 23, 12)
    sel = Selection.build("binary_model", start=start, end=end, versions=["v2"], where=["channel=web"])
    res = compute_metrics(engine, sel, metrics=["roc_auc", "volume", "latency_p99"])
    sub = df[(df.ts >= start) & (df.ts < end) & (df.ver == "v2") & (df.channel == "web")]
    row, = res.rows
    assert row.group == {} and row.n == len(sub)
    assert list(row.metrics) == ["roc_auc", "volume", "latency_p99"]
    exp = binary_reference(sub)
    for m in row.metrics:
        assert row.metrics[m].value == pytest.approx(exp[m], abs=TOL)


def test_single_row_group(binary):
    g, engine, df = binary
    i = int(np.flatnonzero(df.y_true.notna() & df.score.notna())[5])
    ts = df.ts.iloc[i].to_pydatetime()
    sel = Selection.build("binary_model", start=ts, end=ts + dt.timedelta(microseconds=1))
    row, = compute_metrics(engine, sel).rows
    assert row.n == 1 and row.n_labeled == 1
    m = row.metrics
    assert m["roc_auc"].value is None and "one class" in m["roc_auc"].reason
    assert m["accuracy"].value == pytest.approx(float((df.score.iloc[i] >= 0.5) == df.y_true.iloc[i]))
    assert f"at least {MIN_LABELED}" in m["accuracy"].reason           # a value with a warning
    assert m["log_loss"].value is not None and m["log_loss"].ci_low is None  # no interval from one row
    assert m["latency_p50"].value == df.lat.iloc[i]


def test_empty_selection_raises_and_table_api_returns_no_rows(binary):
    g, engine, df = binary
    sel = Selection.build("binary_model", start="2030-01-01")
    with pytest.raises(EmptySelectionError, match="no predictions"):
        compute_metrics(engine, sel)
    res = compute_on_table(engine, engine.spec("binary_model"), sel.apply(engine), Grouping(by=("version",)))
    assert res.rows == () and res.to_dict()["rows"] == []
    assert res.to_polars().height == 0 and "roc_auc_ci_low" in res.to_polars().columns


def test_to_dict_and_to_polars_shapes(binary):
    g, engine, df = binary
    res = compute_metrics(engine, Selection.build("binary_model"), Grouping(by=("version", "period"),
                                                                             period="month"),
                          metrics=["roc_auc", "label_coverage"])
    d = res.to_dict()
    assert d["model"] == "binary_model" and d["task"] == "binary"
    r0 = d["rows"][0]
    assert set(r0["group"]) == {"version", "period"} and r0["group"]["period"] == "2026-03-01"
    assert set(r0["metrics"]["roc_auc"]) >= {"value", "ci_low", "ci_high", "n", "se", "reason"}
    frame = res.to_polars()
    assert frame.height == len(res.rows)
    assert frame.columns[:5] == ["version", "period", "n", "n_labeled", "label_delay_days"]
    assert {"roc_auc", "roc_auc_ci_low", "roc_auc_ci_high", "roc_auc_n", "roc_auc_reason"} <= set(frame.columns)
    assert frame["roc_auc"].to_list() == [r.metrics["roc_auc"].value for r in res.rows]


def test_binary_model_with_decisions_but_no_score(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .factories import write_toml
    rng = np.random.default_rng(0)
    n = 200
    y, p = rng.integers(0, 2, n), rng.integers(0, 2, n)
    (tmp_path / "p").mkdir()
    pq.write_table(pa.table({"ts": pa.array([dt.datetime(2026, 3, 2, 0, i % 60) for i in range(n)],
                                            pa.timestamp("us")), "y": y, "d": p}), tmp_path / "p" / "a.parquet")
    cfg = write_toml(tmp_path / "lastmile.toml", [{"name": "m", "task": "binary", "predictions": "p",
                                                   "columns": {"timestamp": "ts", "label": "y", "prediction": "d"}}])
    row, = compute_metrics(Engine(load_workspace(cfg)), Selection.build("m")).rows
    m = row.metrics
    assert m["accuracy"].value == pytest.approx(skm.accuracy_score(y, p), abs=TOL)
    assert m["f1"].value == pytest.approx(skm.f1_score(y, p), abs=TOL)
    for name in ("roc_auc", "pr_auc", "log_loss", "brier"):
        assert m[name].value is None and "score" in m[name].reason
    assert m["latency_p50"].value is None and "latency" in m["latency_p50"].reason


@pytest.mark.parametrize("strategy", ["rows", "counts", "native"])
def test_every_quantile_strategy_matches_numpy(binary, strategy):
    from analytics.metrics.compute import plan_queries
    from analytics.metrics.definitions import interpolate
    g, engine, df = binary
    spec = engine.spec("binary_model")
    plan = plan_queries(spec, Selection.build("binary_model").apply(engine), Grouping(by=("version",)))
    if strategy == "native":   # no order-statistic interval: latency keeps a rank strategy
        with pytest.raises(ValueError, match="interval"):
            plan.quantile_query("latency", strategy)
    else:
        got = {r["lm_g0"]: r for r in engine.execute(plan.quantile_query("latency", strategy)).to_pylist()}
    for version, sub in df.groupby("ver") if strategy != "native" else ():
        r = got[version]
        for i, q in enumerate((0.5, 0.95, 0.99)):
            assert interpolate(r["m"], q, r[f"lo_{i}"], r[f"hi_{i}"]) == pytest.approx(
                np.quantile(sub.lat, q), abs=TOL)
            assert r[f"r_{i}"] <= np.quantile(sub.lat, q) <= r[f"s_{i}"]
    delays = {r["lm_g0"]: r for r in engine.execute(plan.quantile_query("delay", strategy)).to_pylist()}
    for version, sub in df[df.y_true.notna()].groupby("ver"):
        r = delays[version]
        assert interpolate(r["m"], 0.5, r["lo_0"], r["hi_0"]) == pytest.approx(np.median(sub.delay), abs=TOL)


def test_multiclass_without_class_scores_uses_classes_seen(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .factories import write_toml
    rng = np.random.default_rng(1)
    n = 300
    y = rng.choice(["a", "b", "c", "d"], n)
    p = np.where(rng.random(n) < 0.6, y, rng.choice(["a", "b", "c", "e"], n))
    (tmp_path / "p").mkdir()
    pq.write_table(pa.table({"ts": pa.array([dt.datetime(2026, 3, 2, i % 24) for i in range(n)], pa.timestamp("us")),
                             "y": y, "pred": p}), tmp_path / "p" / "a.parquet")
    cfg = write_toml(tmp_path / "lastmile.toml", [{"name": "m", "task": "multiclass", "predictions": "p",
                                                   "columns": {"timestamp": "ts", "label": "y", "prediction": "pred"}}])
    row, = compute_metrics(Engine(load_workspace(cfg)), Selection.build("m")).rows
    m = row.metrics
    assert m["accuracy"].value == pytest.approx(skm.accuracy_score(y, p), abs=TOL)
    for name, average in (("macro_f1", "macro"), ("weighted_f1", "weighted")):
        assert m[name].value == pytest.approx(skm.f1_score(y, p, average=average, zero_division=0), abs=TOL)
    assert m["macro_precision"].value == pytest.approx(skm.precision_score(y, p, average="macro", zero_division=0),
                                                       abs=TOL)
    assert m["macro_recall"].value == pytest.approx(skm.recall_score(y, p, average="macro", zero_division=0), abs=TOL)
