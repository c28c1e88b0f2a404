"""Like-for-like comparisons: the overlap window by default, and the stratified tests."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from statsmodels.stats.contingency_tables import StratifiedTable

from analytics.analyses.compare import compare_versions
from analytics.cli import main
from analytics.config.workspace import load_workspace
from analytics.log.engine import Engine
from analytics.query.selection import Selection
from analytics.stats.twosample import Stratum, cochran_mantel_haenszel, inverse_variance
from .factories import write_toml


SAMPLE = Path(__file__).resolve().parent.parent / "sample_data" / "lastmile.toml"
START = dt.datetime(2026, 3, 2)


@pytest.fixture(scope="module")
def sample_engine():
    return Engine(load_workspace(SAMPLE), snapshot=True)


# ---------------------------------------------------------------- the sample's story


def test_delivery_eta_v2_is_promoted_over_the_weeks_both_served(sample_engine):
    r = compare_versions(sample_engine, Selection.build("delivery_eta"), "v1", "v2")
    assert r.paired is False and r.verdict == "promote"
    assert r.window.rule == "overlap" and r.window.first == dt.date(2026, 10, 19)
    assert r.window.last == dt.date(2026, 11, 22) and r.window.days == 35
    assert r.metrics["mae"].candidate < r.metrics["mae"].baseline
    assert r.reasons[1].startswith("Compared like for like on the 35 days both versions served")
    doc = r.to_dict()
    assert doc["window"] == {"rule": "overlap", "days": 35, "start": "2026-10-19", "end": "2026-11-23",
                             "description": r.window.describe()}


def test_the_overlap_equals_an_explicit_window(sample_engine):
    """The default gives the same numbers as --start at v2's first day: nothing else is filtered."""
    auto = compare_versions(sample_engine, Selection.build("delivery_eta"), "v1", "v2", sequential=False)
    manual = compare_versions(sample_engine, Selection.build("delivery_eta", "2026-10-19"), "v1", "v2",
                              sequential=False, window="all")
    for name, m in auto.metrics.items():
        assert m.baseline == pytest.approx(manual.metrics[name].baseline, rel=1e-12, abs=1e-12), name
        assert m.candidate == pytest.approx(manual.metrics[name].candidate, rel=1e-12, abs=1e-12), name


def test_all_rows_compare_periods_not_models(sample_engine):
    """What the old default said: v1's good months before the road works make v2 look worse."""
    r = compare_versions(sample_engine, Selection.build("delivery_eta"), "v1", "v2", window="all",
                         sequential=False)
    assert r.window.rule == "all" and r.verdict == "keep"


def test_paired_comparisons_keep_their_common_ids(sample_engine):
    r = compare_versions(sample_engine, Selection.build("credit_default"), "v1", "v3", sequential=False,
                         segments=False)
    assert r.paired and r.window.rule == "paired" and r.verdict == "promote"


def test_cli_json_states_the_window(capsys):
    code = main(["compare", "--config", str(SAMPLE), "--model", "delivery_eta", "--baseline", "v1",
                 "--candidate", "v2", "--format", "json", "--stratify", "week"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["verdict"] == "promote" and doc["stratified"] == "week"
    assert doc["window"]["start"] == "2026-10-19"
    assert "stratified by period" in doc["metrics"]["mae"]["method"]


# ---------------------------------------------------------------- short or no overlap


def _two_version_logs(folder: Path, days_v1: range, days_v2: range, per_day: int = 40, seed: int = 0,
                      v2_better: float = 0.0) -> Path:
    """A binary log: v1 serves ``days_v1``, v2 ``days_v2``; labels in the predictions."""
    rng = np.random.default_rng(seed)
    rows = []
    for version, days in (("v1", days_v1), ("v2", days_v2)):
        for d in days:
            y = rng.random(per_day) < 0.4
            noise = rng.normal(0, 1.0 - (v2_better if version == "v2" else 0.0), per_day)
            score = 1 / (1 + np.exp(-(2.0 * y - 1.0 + noise)))
            for i in range(per_day):
                rows.append({"pid": f"{version}-{d}-{i}", "ts": START + dt.timedelta(days=d, minutes=i),
                             "ver": version, "score": round(float(score[i]), 6), "y": int(y[i])})
    (folder / "pred").mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / "pred" / "part-0.parquet")
    return write_toml(folder / "lastmile.toml", [{
        "name": "m", "task": "binary", "predictions": "pred/*.parquet",
        "columns": {"id": "pid", "timestamp": "ts", "version": "ver", "score": "score", "label": "y"}}])


def test_versions_that_never_served_together_are_inconclusive(tmp_path):
    cfg = _two_version_logs(tmp_path, range(0, 10), range(10, 20))
    r = compare_versions(Engine(load_workspace(cfg)), Selection.build("m"), "v1", "v2")
    assert r.verdict == "inconclusive" and r.metrics == {} and r.window.days == 0
    assert "never served on the same day" in r.reasons[0]


def test_a_short_overlap_is_inconclusive_for_too_few_rows(tmp_path, capsys):
    cfg = _two_version_logs(tmp_path, range(0, 20), range(18, 20))   # two days together: 80 rows a side
    r = compare_versions(Engine(load_workspace(cfg)), Selection.build("m"), "v1", "v2")
    assert r.window.days == 2 and r.n_baseline == 80 and r.n_candidate == 80
    assert r.verdict == "inconclusive" and "Too few labeled rows" in " ".join(r.reasons)
    code = main(["compare", "--config", str(cfg), "--model", "m", "--baseline", "v1", "--candidate", "v2"])
    out = capsys.readouterr().out
    assert code == 0 and "INCONCLUSIVE" in out and "2 days both versions served" in out


# ---------------------------------------------------------------- the stratified tests


def _tables(rng, k):
    strata, tables = [], []
    for _ in range(k):
        n1, n0 = (int(x) for x in rng.integers(15, 300, 2))
        a, c = int(rng.binomial(n1, rng.uniform(0.3, 0.8))), int(rng.binomial(n0, rng.uniform(0.3, 0.8)))
        strata.append(Stratum(c / n0, None, n0, a / n1, None, n1))
        tables.append(np.array([[a, n1 - a], [c, n0 - c]]))
    return strata, tables


@pytest.mark.parametrize("seed", range(5))
def test_cmh_p_value_matches_statsmodels(seed):
    strata, tables = _tables(np.random.default_rng(seed), k=1 + seed * 2)
    t = cochran_mantel_haenszel(strata)
    ref = StratifiedTable(tables).test_null_odds(correction=False).pvalue
    assert t.p_value == pytest.approx(ref, rel=1e-9, abs=1e-12)


def test_mantel_haenszel_difference_by_brute_force():
    strata, tables = _tables(np.random.default_rng(11), k=6)
    t = cochran_mantel_haenszel(strata)
    num = sum((tb[0, 0] * tb[1].sum() - tb[1, 0] * tb[0].sum()) / tb.sum() for tb in tables)
    den = sum(tb[0].sum() * tb[1].sum() / tb.sum() for tb in tables)
    assert t.delta == pytest.approx(num / den, rel=1e-12)
    assert t.ci_low < t.delta < t.ci_high


def test_one_stratum_is_the_two_proportion_wald_interval():
    t = cochran_mantel_haenszel([Stratum(0.3, None, 5000, 0.35, None, 4000)])
    se = math.sqrt(0.35 * 0.65 / 4000 + 0.3 * 0.7 / 5000)
    assert t.ci_high - t.delta == pytest.approx(1.959963984540054 * se, rel=1e-9)


def test_mantel_haenszel_interval_covers_at_the_nominal_rate():
    """Simulated stratified 2x2 tables with a common difference 0.05: the 95% interval
    holds it in 95% +- 2.5% of 1,000 simulations (seeded)."""
    rng = np.random.default_rng(2026)
    hits, sims = 0, 1000
    for _ in range(sims):
        strata = []
        for _k in range(4):
            p0 = rng.uniform(0.2, 0.7)
            n1, n0 = (int(x) for x in rng.integers(100, 400, 2))
            strata.append(Stratum(rng.binomial(n0, p0) / n0, None, n0, rng.binomial(n1, p0 + 0.05) / n1, None, n1))
        t = cochran_mantel_haenszel(strata)
        hits += t.ci_low <= 0.05 <= t.ci_high
    assert abs(hits / sims - 0.95) <= 0.025


def test_inverse_variance_by_brute_force():
    s = [Stratum(1.0, 0.2, 100, 1.3, 0.1, 100), Stratum(2.0, 0.5, 50, 2.1, 0.4, 60),
         Stratum(0.5, None, 10, 0.7, 0.1, 10)]   # no se on one side: left out
    w = np.array([1 / (0.2 ** 2 + 0.1 ** 2), 1 / (0.5 ** 2 + 0.4 ** 2)])
    d = np.array([0.3, 0.1])
    t = inverse_variance(s)
    assert t.delta == pytest.approx(float((w * d).sum() / w.sum()), rel=1e-12)
    se = 1 / math.sqrt(w.sum())
    assert t.ci_high - t.delta == pytest.approx(1.959963984540054 * se, rel=1e-9)


def test_stratified_accuracy_equals_cmh_over_the_weekly_tables(tmp_path):
    """End to end: accuracy per (version, week) from the engine, CMH over the weeks,
    against statsmodels on tables built row by row in pandas."""
    cfg = _two_version_logs(tmp_path, range(0, 28), range(7, 28), per_day=30, seed=3, v2_better=0.3)
    r = compare_versions(Engine(load_workspace(cfg)), Selection.build("m"), "v1", "v2", stratify="week",
                         sequential=False, segments=False)
    frame = pq.read_table(tmp_path / "pred" / "part-0.parquet").to_pandas()
    frame = frame[frame.ts >= START + dt.timedelta(days=7)]     # the overlap
    frame["correct"] = ((frame.score >= 0.5).astype(int) == frame.y)
    frame["week"] = frame.ts.dt.to_period("W-SUN")
    tables = []
    for _, g in frame.groupby("week"):
        c, b = g[g.ver == "v2"].correct, g[g.ver == "v1"].correct
        tables.append(np.array([[c.sum(), (~c).sum()], [b.sum(), (~b).sum()]]))
    ref = StratifiedTable(tables).test_null_odds(correction=False).pvalue
    assert r.metrics["accuracy"].p_value == pytest.approx(ref, rel=1e-9)
    assert r.window.days == 21
    assert isinstance(frame, pd.DataFrame)
