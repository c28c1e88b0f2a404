"""Value, baseline, ROI, pending value and the threshold curve against a brute-force,
row-by-row computation (pandas/numpy) on generated logs."""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.analyses.value import (Assumptions, bin_edges, compute_value, curve, evaluate, score_bin,
                                      summary_expr, threshold_curve, value_summary)
from analytics.config.workspace import load_workspace
from analytics.errors import ConfigError, EmptySelectionError, SelectionError
from analytics.log.engine import Engine
from analytics.query.selection import Grouping, Selection
from .factories import make_workspace


REL = 1e-9

BUSINESS = {"tp": 120.0, "fp": -15.0, "fn": "loss", "tn": "gain", "cost_per_1k": 2.5,
            "cost_column": "infra", "threshold": 0.4}


def close(a, b):
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=REL, abs_tol=1e-7)


MONEY_KW = dict(n=3000, seed=3, duplicate_outcomes=15, nan_scores=25, business=BUSINESS,
                value_columns=("gain", "infra"), value_nulls=40, outcome_value_columns=("loss",))


@pytest.fixture(scope="module")
def money_ws(tmp_path_factory):
    """Binary logs with per-row values in the predictions (with nulls) and in the outcomes."""
    folder = tmp_path_factory.mktemp("money")
    g = make_workspace(folder, "binary", **MONEY_KW)
    engine = Engine(load_workspace(g.config))
    return g, engine


# ------------------------------------------------------------------ reference


def ref_frame(g) -> pd.DataFrame:
    df = g.frame()
    df["labeled"] = df["y_true"].notna()
    if "score" in df:
        df["y"] = df["y_true"].map(lambda v: None if v is None else int(v))
    df["period"] = (df["ts"].dt.normalize() - pd.to_timedelta(df["ts"].dt.day_of_week, "D")).dt.date.map(str)
    df["version"] = df["ver"]
    return df


def outcome_value(df, a: Assumptions, d, y, null_fill=None):
    """Per-row value of outcome (decision d, label y) under ``a``; nulls as 0 (or ``null_fill``)."""
    table = {(1, 1): a.tp, (1, 0): a.fp, (0, 1): a.fn, (0, 0): a.tn}
    out = np.zeros(len(df))
    nulls = np.zeros(len(df), dtype=int)
    for (dd, yy), v in table.items():
        m = (d == dd) & (y == yy)
        if isinstance(v, str):
            col = pd.to_numeric(df[v], errors="coerce").to_numpy(dtype=float)
            isnull = np.isnan(col)
            fill = 0.0 if null_fill is None else null_fill[v]
            out[m] = np.where(isnull, fill, col)[m]
            nulls[m] = isnull[m]
        else:
            out[m] = v
    return out, nulls


def brute_binary(df, a: Assumptions, keys, threshold=None):
    """The value table, row by row, by the documented definitions."""
    score = df["score"].to_numpy(dtype=float)
    th = a.threshold if threshold is None else threshold
    dec = np.where(np.isnan(score), -1, (score >= th).astype(int))  # no score: no decision
    y = df["y"].fillna(-1).to_numpy(dtype=int)
    labeled = df["labeled"].to_numpy()
    lab = labeled & (dec >= 0)  # valued rows: labeled, with a decision
    val, vnull = outcome_value(df, a, dec, y)
    means = {}
    for col in a.columns():
        c = pd.to_numeric(df[col], errors="coerce")[labeled]  # every labeled row
        means[col] = c.mean()
    v1, _ = outcome_value(df, a, dec, np.ones(len(df), int), means)
    v0, _ = outcome_value(df, a, dec, np.zeros(len(df), int), means)
    p = np.nan_to_num(score)
    ev = np.where(np.isnan(score), 0.0, p * v1 + (1 - p) * v0)
    var = np.where(np.isnan(score), 0.0, p * (1 - p) * (v1 - v0) ** 2)  # Bernoulli outcome
    cost = a.cost_per_1k / 1000.0 + (pd.to_numeric(df[a.cost_column], errors="coerce").fillna(0.0).to_numpy()
                                      if a.cost_column else 0.0)
    w = df.assign(_val=np.where(lab, val, 0.0), _vnull=np.where(lab, vnull, 0), _cost=cost,
                  _ev=np.where(~labeled, ev, 0.0), _var=np.where(~labeled, var, 0.0), _lab=labeled.astype(int),
                  _valued=lab.astype(int))
    if a.baseline in ("all_negative", "all_positive"):
        bd = 1 if a.baseline == "all_positive" else 0
        b, bnull = outcome_value(df, a, np.full(len(df), bd), y)
        w["_base"] = np.where(lab, b, 0.0)
    rows = {}
    groups = w.groupby(keys) if keys else [((), w)]
    for k, sub in groups:
        k = k if isinstance(k, tuple) else (k,)
        r = {"n": len(sub), "n_labeled": int(sub["_lab"].sum()), "excluded": int((sub["_lab"] - sub["_valued"]).sum()),
             "value": sub["_val"].sum(),
             "compute_cost": sub["_cost"].sum(), "value_nulls": int(sub["_vnull"].sum()),
             "pending_n": int((~sub["labeled"]).sum()), "pending_ev": sub["_ev"].sum(),
             "pending_sd": math.sqrt(sub["_var"].sum())}
        if a.baseline in ("all_negative", "all_positive"):
            r["baseline"] = sub["_base"].sum()
        elif a.baseline == "none":
            r["baseline"] = 0.0
        else:  # a version: its value per labeled row, in the same group minus the version key
            other = [x for x in keys if x != "version"]
            peer = w[w["version"] == a.baseline]
            for kk, vv in zip(keys, k):
                if kk != "version":
                    peer = peer[peer[kk] == vv]
            r["baseline"] = peer["_val"].sum() / peer["_valued"].sum() * sub["_valued"].sum()
            # interval: standard error of the version's mean value per valued row, times the
            # valued rows of the other versions (its own rows are realized)
            per_row = peer.loc[peer["_valued"] == 1, "_val"]
            se = per_row.std(ddof=1) / math.sqrt(len(per_row))
            r["baseline_half"] = 1.959963984540054 * se * sub.loc[sub["version"] != a.baseline, "_valued"].sum()
            del other
        rows[tuple(str(x) for x in k)] = r
    return rows


def check_against(res, ref, keys):
    assert len(res.rows) == len(ref)
    for row in res.rows:
        k = tuple(str(row.group[x]) for x in keys)
        r = ref[k]
        assert row.n == r["n"] and row.n_labeled == r["n_labeled"], k
        assert close(row.value, r["value"]), (k, row.value, r["value"])
        assert close(row.baseline_value, r["baseline"]), (k, row.baseline_value, r["baseline"])
        assert close(row.lift, r["value"] - r["baseline"])
        if "baseline_half" in r:
            h = r["baseline_half"]
            assert close(row.baseline_ci_low, r["baseline"] - h) and close(row.baseline_ci_high, r["baseline"] + h)
            assert close(row.lift_ci_low, r["value"] - r["baseline"] - h)
            assert close(row.lift_ci_high, r["value"] - r["baseline"] + h)
        else:
            assert row.baseline_ci_low is None and row.lift_ci_high is None
        assert close(row.compute_cost, r["compute_cost"])
        assert close(row.net_value, r["value"] - r["baseline"] - r["compute_cost"])
        assert close(row.roi, (r["value"] - r["baseline"] - r["compute_cost"]) / r["compute_cost"])
        assert row.pending_n == r["pending_n"]
        assert close(row.pending_share, r["pending_n"] / r["n"])
        assert close(row.pending_expected_value, r["pending_ev"]), (k, row.pending_expected_value, r["pending_ev"])
        half = 1.959963984540054 * r["pending_sd"]
        assert close(row.pending_ci_low, r["pending_ev"] - half) and close(row.pending_ci_high, r["pending_ev"] + half)
        assert row.value_nulls == r["value_nulls"]
        assert row.excluded_n == r["excluded"]


# ------------------------------------------------------------------ binary


@pytest.mark.parametrize("keys", [(), ("version",), ("period", "region")])
def test_binary_value_matches_brute_force(money_ws, keys):
    g, engine = money_ws
    spec = engine.spec("binary_model")
    df = ref_frame(g)
    sel, grouping = Selection.build("binary_model"), Grouping(by=keys)
    inputs = value_summary(engine, sel, grouping, bins=0)
    for baseline in ("all_negative", "all_positive", "none", "v1"):
        a = Assumptions.from_spec(spec).replace(baseline=baseline)
        res = compute_value(engine, sel, grouping, a) if baseline == "v1" else evaluate(inputs, a)
        check_against(res, brute_binary(df, a, list(keys)), list(keys))
        assert res.currency == "USD" and res.threshold_used == 0.4


def test_constant_values_and_filters(tmp_path):
    g = make_workspace(tmp_path, "binary", n=2500, seed=5, ties=True,
                       business={"tp": 80.0, "fp": -20.0, "fn": -60.0, "tn": 1.5, "cost_per_1k": 0.4})
    engine = Engine(load_workspace(g.config))
    sel = Selection.build("binary_model", start="2026-03-09", end="2026-04-06", where=["channel=web"])
    a = Assumptions.from_spec(engine.spec("binary_model"))
    res = compute_value(engine, sel, Grouping(by=("version", "region")), a)
    df = ref_frame(g)
    df = df[(df.ts >= "2026-03-09") & (df.ts < "2026-04-06") & (df.channel == "web")]
    check_against(res, brute_binary(df, a, ["version", "region"]), ["version", "region"])
    assert res.warnings == ()


def test_null_per_row_values_count_as_zero_and_are_reported(money_ws):
    g, engine = money_ws
    res = compute_value(engine, Selection.build("binary_model"))
    (row,) = res.rows
    df = ref_frame(g)
    lab = df["labeled"]
    dec = np.where(df.score.isna(), -1, (df.score >= 0.4).astype(int))
    # tn = "gain", fn = "loss" (both with nulls): labeled rows whose applicable value is null
    gain_nulls = int((lab & (dec == 0) & (df.y == 0) & df.gain.isna()).sum())
    loss_nulls = int((lab & (dec == 0) & (df.y == 1) & df.loss.isna()).sum())
    assert gain_nulls > 0 and loss_nulls > 0
    assert row.value_nulls == gain_nulls + loss_nulls
    assert row.cost_nulls == int(df.infra.isna().sum()) > 0
    assert any("counted as 0" in w and "'gain'" in w for w in res.warnings)


def test_zero_compute_cost_gives_null_roi_with_reason(tmp_path):
    g = make_workspace(tmp_path, "binary", n=600, seed=2, business={"tp": 10.0, "fp": -1.0})
    engine = Engine(load_workspace(g.config))
    (row,) = compute_value(engine, Selection.build("binary_model")).rows
    assert row.compute_cost == 0.0 and row.net_value is not None
    assert row.roi is None and "compute cost is 0" in row.roi_reason


def test_cumulative_net_value_runs_over_periods(money_ws):
    _, engine = money_ws
    res = compute_value(engine, Selection.build("binary_model"), Grouping(by=("version", "period")))
    for version in ("v1", "v2"):
        rows = sorted((r for r in res.rows if r.group["version"] == version), key=lambda r: r.group["period"])
        running = np.cumsum([r.net_value for r in rows])
        assert [r.cumulative_net_value for r in rows] == pytest.approx(running, rel=REL)


def test_unknown_baseline_version_names_it(money_ws):
    _, engine = money_ws
    a = Assumptions.from_spec(engine.spec("binary_model")).replace(baseline="v9")
    with pytest.raises(SelectionError, match="v9"):
        compute_value(engine, Selection.build("binary_model"), assumptions=a)


def test_baseline_version_outside_the_selection_is_null_with_reason(money_ws):
    _, engine = money_ws
    a = Assumptions.from_spec(engine.spec("binary_model")).replace(baseline="v1")
    (row,) = compute_value(engine, Selection.build("binary_model", versions=["v2"]), assumptions=a).rows
    assert row.baseline_value is None and row.lift is None and row.roi is None
    assert "v1" in row.baseline_reason and row.roi_reason == row.baseline_reason


# ------------------------------------------------------------------ what-if and thresholds


def test_what_if_equals_a_fresh_computation(tmp_path, money_ws):
    g, engine = money_ws
    inputs = value_summary(engine, Selection.build("binary_model"), Grouping(by=("version", "region")))
    changes = {"tp": 90.0, "fp": -30.0, "threshold": 0.55, "cost_per_1k": 7.0, "baseline": "all_positive"}
    what_if = evaluate(inputs, inputs.defaults.replace(**changes))
    # the same logs (same seed) with those numbers in the workspace, computed afresh
    g2 = make_workspace(tmp_path, "binary", **{**MONEY_KW, "business": {**BUSINESS, **changes}})
    fresh = compute_value(Engine(load_workspace(g2.config)), Selection.build("binary_model"),
                          Grouping(by=("version", "region")))
    assert what_if.threshold_used == fresh.threshold_used == 0.55
    assert len(what_if.rows) == len(fresh.rows)
    for x, y in zip(what_if.rows, fresh.rows):
        assert x.group == y.group
        for f in ("n", "n_labeled", "value", "baseline_value", "compute_cost", "net_value", "roi",
                  "pending_n", "pending_expected_value", "value_nulls"):
            assert close(getattr(x, f), getattr(y, f)), f


def test_what_if_off_edge_threshold_snaps_and_says_so(money_ws):
    _, engine = money_ws
    inputs = value_summary(engine, Selection.build("binary_model"), bins=100)
    res = evaluate(inputs, inputs.defaults.replace(threshold=0.4567))
    assert res.threshold_used == 0.46 and any("0.4567" in w for w in res.warnings)
    with pytest.raises(SelectionError, match="histogram"):
        evaluate(value_summary(engine, Selection.build("binary_model"), bins=0),
                 inputs.defaults.replace(threshold=0.3))


def test_threshold_curve_equals_brute_force_at_every_bin_edge(money_ws):
    g, engine = money_ws
    sel = Selection.build("binary_model")
    a = Assumptions.from_spec(engine.spec("binary_model"))
    tc = threshold_curve(engine, sel, bins=1000)
    df = ref_frame(g)
    edges = bin_edges(1000)
    assert tc.bins == 1000 and set(tc.versions) == {"v1", "v2"}
    for version, vc in tc.versions.items():
        sub = df[df.version == version]
        y = sub["y"].fillna(-1).to_numpy(dtype=int)
        lab = sub["labeled"].to_numpy()
        score = sub["score"].to_numpy(dtype=float)
        v_pos, _ = outcome_value(sub, a, np.ones(len(sub), int), y)   # each row's value if decided 1
        v_neg, _ = outcome_value(sub, a, np.zeros(len(sub), int), y)  # ... and if decided 0
        unscored = np.isnan(score)
        lab = lab & ~unscored  # rows without a score have no decision at any threshold
        brute = np.array([np.where(score >= t, v_pos, v_neg)[lab].sum() for t in edges])
        assert vc.thresholds == tuple(edges)
        np.testing.assert_allclose(vc.values, brute, rtol=REL, atol=1e-7)
        k = int(np.argmax(brute))
        assert vc.best_value == pytest.approx(brute.max(), rel=REL)
        assert brute[round(vc.best_threshold * 1000)] == pytest.approx(brute[k], rel=REL)
        at_cur = brute[400]  # current threshold 0.4 is an edge
        assert vc.value_at_current == pytest.approx(at_cur, rel=REL)
        assert vc.left_on_table == pytest.approx(brute.max() - at_cur, rel=REL, abs=1e-7)
        assert vc.left_on_table >= 0


def test_score_bin_is_exact_at_edges():
    """``bin >= k`` must be exactly ``score >= k/bins``, also one ulp either side of an edge."""
    bins = 1000
    edges = bin_edges(bins)
    scores = np.unique(np.concatenate([edges, np.nextafter(edges, -1), np.nextafter(edges, 2),
                                       np.random.default_rng(0).random(500)]))
    scores = scores[(scores >= 0) & (scores <= 1)]
    con = ibis.duckdb.connect()
    t = ibis.memtable(pa.table({"s": scores}))
    got = con.to_pyarrow(t.select(t.s, b=score_bin(t.s, bins)))
    b = got["b"].to_numpy()
    s = got["s"].to_numpy()
    for k in range(bins + 1):
        np.testing.assert_array_equal(b >= k, s >= edges[k])


@settings(max_examples=25, deadline=None)
@given(bins=st.integers(10, 5000),
       scores=st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=50),
       edges_k=st.lists(st.integers(0, 5000), min_size=1, max_size=20))
def test_score_bin_property(bins, scores, edges_k):
    """For any scores (also exact edges and their neighbours): bin >= k iff score >= k / bins."""
    ks = [k % (bins + 1) for k in edges_k]
    near = [x for k in ks for x in (k / bins, float(np.nextafter(k / bins, -1.0)), float(np.nextafter(k / bins, 2.0)))]
    s = np.clip(np.array(scores + near), 0.0, 1.0)
    t = ibis.memtable(pa.table({"s": s}))
    got = _DUCK.to_pyarrow(t.select(t.s, b=score_bin(t.s, bins)))
    b, sv = got["b"].to_numpy(), got["s"].to_numpy()
    assert ((b >= 0) & (b <= bins)).all()
    for k in set(ks) | set(b.tolist()):
        np.testing.assert_array_equal(b >= k, sv >= k / bins)


_DUCK = ibis.duckdb.connect()


# ------------------------------------------------------------------ multiclass and regression


MATRIX = {"alpha": {"alpha": 10.0, "beta": -4.0}, "beta": {"beta": 8.0, "gamma": -2.5},
          "gamma": {"gamma": 5.0, "alpha": -7.0}}


@pytest.fixture(scope="module")
def multi_ws(tmp_path_factory):
    folder = tmp_path_factory.mktemp("multi")
    g = make_workspace(folder, "multiclass", n=2000, seed=4,
                       business={"value_matrix": MATRIX, "cost_per_1k": 1.0, "baseline": "all_alpha"})
    return g, Engine(load_workspace(g.config))


@pytest.mark.parametrize("baseline", ["all_alpha", "all_gamma", "none", "v2"])
def test_multiclass_value_matrix_matches_brute_force(multi_ws, baseline):
    g, engine = multi_ws
    df = ref_frame(g)
    classes = ["alpha", "beta", "gamma"]
    probs = df[[f"p_{c}" for c in classes]].to_numpy()
    pred = np.array(classes)[probs.argmax(1)]
    lab = df["labeled"].to_numpy()
    y = df["y_true"].to_numpy()
    val = np.array([MATRIX.get(a, {}).get(p, 0.0) if ok else 0.0 for a, p, ok in zip(y, pred, lab)])
    norm = probs / probs.sum(1, keepdims=True)
    mval = np.array([[MATRIX.get(c, {}).get(pred[i], 0.0) for c in classes] for i in range(len(df))])
    ev = (norm * mval).sum(1)
    var = (norm * mval ** 2).sum(1) - ev ** 2  # the outcome is class c with probability p_c
    a = Assumptions.from_spec(engine.spec("multiclass_model")).replace(baseline=baseline)
    res = compute_value(engine, Selection.build("multiclass_model"), Grouping(by=("version",)), a)
    for row in res.rows:
        m = (df.version == row.group["version"]).to_numpy()
        if baseline.startswith("all_"):
            base = sum(MATRIX.get(a_, {}).get(baseline[4:], 0.0) for a_ in y[m & lab])
        elif baseline == "none":
            base = 0.0
        else:
            peer = (df.version == baseline).to_numpy()
            base = val[peer & lab].sum() / (peer & lab).sum() * (m & lab).sum()
            own = row.group["version"] == baseline
            half = 0.0 if own else 1.959963984540054 * val[peer & lab].std(ddof=1) / math.sqrt((peer & lab).sum()) \
                * (m & lab).sum()
            assert close(row.baseline_ci_low, base - half) and close(row.lift_ci_high, val[m & lab].sum() - base + half)
        assert close(row.value, val[m & lab].sum())
        assert close(row.baseline_value, base)
        assert close(row.compute_cost, m.sum() / 1000.0)
        assert close(row.pending_expected_value, ev[m & ~lab].sum())
        half = 1.959963984540054 * math.sqrt(var[m & ~lab].sum())
        assert close(row.pending_ci_low, ev[m & ~lab].sum() - half)
        assert close(row.pending_ci_high, ev[m & ~lab].sum() + half)
        assert row.pending_assumption and "estimate" in row.pending_assumption


@pytest.mark.parametrize("costs", [{"cost_per_unit_error": 0.8}, {"cost_over": 0.5, "cost_under": 2.0}])
def test_regression_costs_match_brute_force(tmp_path, costs):
    g = make_workspace(tmp_path, "regression", n=1500, seed=6, business={**costs, "cost_per_1k": 3.0})
    engine = Engine(load_workspace(g.config))
    res = compute_value(engine, Selection.build("regression_model"), Grouping(by=("version",)))
    df = ref_frame(g)
    lab = df["labeled"].to_numpy()
    err = df["yhat"].to_numpy() - df["y_true"].map(lambda v: np.nan if v is None else v).to_numpy(dtype=float)
    if "cost_over" in costs:
        cost = 0.5 * np.clip(err, 0, None) + 2.0 * np.clip(-err, 0, None)
    else:
        cost = 0.8 * np.abs(err)
    for row in res.rows:
        m = (df.version == row.group["version"]).to_numpy()
        assert close(row.value, -np.nansum(cost[m & lab]))
        assert row.baseline_value == 0.0  # regression default baseline: none
        assert close(row.net_value, -np.nansum(cost[m & lab]) - m.sum() * 3.0 / 1000)
        assert row.pending_expected_value is None and "regression" in row.pending_reason
    # baseline v1: v1's mean value per valued row times the group's valued rows, with its interval
    a = Assumptions.from_spec(engine.spec("regression_model")).replace(baseline="v1")
    res = compute_value(engine, Selection.build("regression_model"), Grouping(by=("version",)), a)
    peer = (df.version == "v1").to_numpy() & lab
    per_row = -cost[peer]
    for row in res.rows:
        m = (df.version == row.group["version"]).to_numpy() & lab
        base = per_row.mean() * m.sum()
        half = 0.0 if row.group["version"] == "v1" else \
            1.959963984540054 * per_row.std(ddof=1) / math.sqrt(peer.sum()) * m.sum()
        assert close(row.baseline_value, base)
        assert close(row.baseline_ci_low, base - half) and close(row.baseline_ci_high, base + half)


def test_regression_without_costs_has_null_value_with_reason(tmp_path):
    g = make_workspace(tmp_path, "regression", n=300, seed=6, business={"cost_per_1k": 3.0})
    engine = Engine(load_workspace(g.config))
    (row,) = compute_value(engine, Selection.build("regression_model")).rows
    assert row.value is None and row.roi is None and "cost_per_unit_error" in row.value_reason


@pytest.mark.parametrize("task,baseline", [("multiclass", "all_negative"), ("regression", "all_positive")])
def test_workspace_rejects_baselines_of_another_task(tmp_path, task, baseline):
    with pytest.raises(ConfigError, match=baseline):
        g = make_workspace(tmp_path, task, n=50, business={"baseline": baseline})
        load_workspace(g.config)


# ------------------------------------------------------------------ engine portability, money


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_queries_compile_for_trino(tmp_path, task):
    biz = {"binary": BUSINESS, "multiclass": {"value_matrix": MATRIX},
           "regression": {"cost_per_unit_error": 1.0}}[task]
    extra = {"value_columns": ("gain", "infra"), "outcome_value_columns": ("loss",)} if task == "binary" else {}
    g = make_workspace(tmp_path, task, n=100, business=biz, **extra)
    engine = Engine(load_workspace(g.config))
    expr = summary_expr(engine, Selection.build(f"{task}_model", start="2026-03-05", where=["region=EU"]),
                        Grouping(by=("version", "period", "channel")), bins=1000 if task == "binary" else 0)
    sql = ibis.to_sql(expr, dialect="trino")
    assert "GROUP BY" in sql.upper()


def test_curve_needs_scores(multi_ws):
    _, engine = multi_ws
    with pytest.raises(SelectionError, match="binary"):
        threshold_curve(engine, Selection.build("multiclass_model"))
    with pytest.raises(SelectionError, match="binary"):
        curve(value_summary(engine, Selection.build("multiclass_model")))


def test_unlabeled_periods_have_no_value_yet_and_empty_selections_raise(tmp_path):
    g = make_workspace(tmp_path, "binary", n=800, seed=1, unlabeled_after_day=28,
                       business={"tp": 10.0, "fp": -1.0, "cost_per_1k": 1.0})
    engine = Engine(load_workspace(g.config))
    res = compute_value(engine, Selection.build("binary_model"), Grouping(by=("period",)))
    late = [r for r in res.rows if r.group["period"] >= "2026-03-30"]
    early = [r for r in res.rows if r.group["period"] < "2026-03-30"]
    assert late and early and all(r.n_labeled > 0 and r.value is not None for r in early)
    for r in late:
        assert r.n_labeled == 0 and r.value is None and r.baseline_value is None and r.roi is None
        assert "no labeled predictions" in r.value_reason and r.roi_reason == r.value_reason
        assert r.pending_n == r.n and r.pending_expected_value is not None
        assert r.pending_ci_low < r.pending_expected_value < r.pending_ci_high
        assert r.cumulative_net_value is None  # unknown from the first unknown period on
    with pytest.raises(EmptySelectionError, match="no predictions"):
        compute_value(engine, Selection.build("binary_model", start="2030-01-01"))


def test_binary_with_logged_decisions_and_no_scores(tmp_path):
    """Decisions from a prediction column: value from them; no threshold what-if, no pending estimate."""
    import pyarrow.parquet as pq

    g = make_workspace(tmp_path, "binary", n=800, seed=9, business={"tp": 5.0, "fp": -2.0, "fn": -4.0})
    path = tmp_path / "pred" / "part-0.parquet"
    table = pq.read_table(path)
    decision = (table["score"].to_numpy() >= 0.62).astype("int64")
    pq.write_table(table.drop(["score"]).append_column("decision", pa.array(decision)), path)
    g.config.write_text(g.config.read_text().replace('score = "score"', 'prediction = "decision"'))
    engine = Engine(load_workspace(g.config))
    res = compute_value(engine, Selection.build("binary_model"))
    (row,) = res.rows
    df = ref_frame(g)
    lab = df["labeled"].to_numpy()
    y = df["y"].fillna(-1).to_numpy(dtype=int)
    val = np.select([(decision == 1) & (y == 1), (decision == 1) & (y == 0), (decision == 0) & (y == 1)],
                    [5.0, -2.0, -4.0], 0.0)
    assert close(row.value, val[lab].sum()) and res.threshold_used is None
    assert row.pending_expected_value is None and "no scores" in row.pending_reason
    with pytest.raises(SelectionError, match="no scores"):
        compute_value(engine, Selection.build("binary_model"),
                      assumptions=Assumptions.from_spec(engine.spec("binary_model")).replace(threshold=0.3))
    with pytest.raises(SelectionError, match="score"):
        threshold_curve(engine, Selection.build("binary_model"))
