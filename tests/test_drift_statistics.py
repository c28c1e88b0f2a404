"""The drift statistic registry (#14, point 3) and the statistic it proves it with: the
Anderson-Darling k-sample statistic, computed in the engine from the per-value counts,
against ``scipy.stats.anderson_ksamp`` (ties included)."""

from __future__ import annotations

import datetime as dt
import warnings

import ibis
import numpy as np
import pytest
from scipy import stats as ss

from analytics.analyses.drift import compute_drift, drift_over_time, queries as q
from analytics.analyses.drift.statistics import STATISTICS, DriftStatistic, for_kind, names, register
from analytics.analyses.drift.statistics.anderson_darling import finish, pooled_sums_query
from analytics.cli.commands.drift import COLUMNS
from analytics.config.drift import DriftSettings
from analytics.config.workspace import load_workspace
from analytics.log.engine import Engine
from analytics.query.selection import Selection
from .test_drift import CUR_START, END, REF_START, _windows, _write


def scipy_ad(a, b) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # p-value capped / variant notices
        return float(ss.anderson_ksamp([np.asarray(a, float), np.asarray(b, float)], variant="midrank").statistic)


def _counts(ref, curs):
    """The per-window counts table (``queries.windowed``'s shape) of one numeric target."""
    rows = []
    for is_ref, key, values in [(True, None, ref)] + [(False, k, v) for k, v in curs.items()]:
        xs, cs = np.unique(np.asarray(values, float), return_counts=True)
        rows += [{q.F: 0, q.IS_REF: is_ref, q.KEY: key, q.XN: float(x), q.XS: None, "c": int(c)}
                 for x, c in zip(xs, cs)]
    schema = {q.F: "int32", q.IS_REF: "boolean", q.KEY: "int64", q.XN: "float64", q.XS: "string", "c": "int64"}
    return ibis.memtable(rows, schema=schema)


def _engine_ad(ref, curs) -> dict:
    con = ibis.duckdb.connect()
    rows = con.to_pyarrow(pooled_sums_query(_counts(ref, curs), [0])).to_pylist()
    out = {}
    for r in rows:
        out[r[q.KEY]] = finish({"n_ref": len(ref), "n_cur": len(curs[r[q.KEY]]), **r})
    return out


@pytest.mark.parametrize("case", ["ties", "few_values", "continuous", "unequal", "disjoint"])
def test_anderson_darling_matches_scipy_from_the_counts(case):
    rng = np.random.default_rng(len(case))
    ref = {"ties": np.round(rng.normal(0, 1, 400), 1), "few_values": rng.integers(0, 4, 300),
           "continuous": rng.normal(0, 1, 250), "unequal": rng.exponential(1, 37),
           "disjoint": rng.uniform(0, 1, 50)}[case]
    curs = {1: {"ties": np.round(rng.normal(0.2, 1, 500), 1), "few_values": rng.integers(0, 5, 200),
                "continuous": rng.normal(0.1, 1.2, 300), "unequal": rng.exponential(1.3, 900),
                "disjoint": rng.uniform(2, 3, 60)}[case],
            2: ref[: len(ref) // 2] + 0.0}   # a second window served by the same query
    got = _engine_ad(ref, curs)
    for key, cur in curs.items():
        assert got[key] == pytest.approx(scipy_ad(ref, cur), rel=1e-9, abs=1e-9)


def test_anderson_darling_needs_two_distinct_values():
    from analytics.analyses.drift.statistics import Missing

    with pytest.raises(Missing):
        finish({"n_ref": 10, "n_cur": 10, "ad_distinct": 1, "ad_s_ref": 0.0, "ad_s_cur": 0.0})


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    cfg, frame = _write(tmp_path_factory.mktemp("ad"), 700, 1300, seed=700)
    engine = Engine(load_workspace(cfg))
    ref, cur = Selection.build("m", REF_START, CUR_START), Selection.build("m", CUR_START, END)
    return engine, frame, ref, compute_drift(engine, "m", ref, cur)


@pytest.mark.parametrize("col", ["x_float", "x_int", "x_nan", "score"])
def test_compute_drift_gives_scipys_anderson_darling(small, col):
    _, frame, _, res = small
    got = res.prediction if col == "score" else res.features[col]
    r, c = _windows(frame, col)
    assert got.anderson_darling == pytest.approx(scipy_ad(r.dropna(), c.dropna()), rel=1e-9)
    assert "anderson_darling" in got.to_dict()


def test_anderson_darling_is_missing_with_its_reason_on_a_constant(small):
    f = small[3].features["x_const"]
    assert f.anderson_darling is None and "anderson_darling: needs more than one distinct value" in f.reason
    assert "anderson_darling" not in small[3].features["cat"].to_dict()


def test_drift_over_time_has_it_per_period(small):
    engine, frame, ref, _ = small
    out = drift_over_time(engine, "m", ref, Selection.build("m", REF_START, END), period="week",
                          features=["x_float"])
    for row in out.filter(out["feature"] == "x_float").to_dicts():
        start = dt.datetime.combine(row["period"], dt.time())
        r, c = _windows(frame, "x_float", start, start + dt.timedelta(days=7))
        assert row["anderson_darling"] == pytest.approx(scipy_ad(r.dropna(), c.dropna()), rel=1e-9)


def test_the_registry_builds_the_columns():
    assert names() == ("psi", "js_distance", "ks_statistic", "ks_p_value", "wasserstein", "wasserstein_normed",
                       "chi2_p_value", "anderson_darling")
    assert names("categorical") == ("psi", "js_distance", "chi2_p_value")
    assert [c for c in COLUMNS if c in STATISTICS] == list(names())
    assert all(s.doc and s.label and s.kinds for s in STATISTICS.values())
    assert {s.name for s in for_kind("numeric")} >= {"anderson_darling", "ks_statistic"}


def test_default_thresholds_agree_with_the_workspace_defaults():
    d = DriftSettings()
    assert STATISTICS["psi"].threshold == d.psi_threshold
    assert STATISTICS["js_distance"].threshold == d.js_threshold
    assert STATISTICS["wasserstein_normed"].threshold == d.wasserstein_threshold
    assert STATISTICS["ks_p_value"].threshold == STATISTICS["chi2_p_value"].threshold == d.p_value_threshold


def test_register_refuses_a_duplicate_or_an_unknown_aggregate():
    with pytest.raises(ValueError, match="twice"):
        register(DriftStatistic("psi", ("numeric",), ("bins",), lambda a: 0.0, "doc", "PSI"))
    with pytest.raises(ValueError, match="unknown aggregates"):
        register(DriftStatistic("new_stat", ("numeric",), ("nope",), lambda a: 0.0, "doc", "New"))
    assert "new_stat" not in STATISTICS
