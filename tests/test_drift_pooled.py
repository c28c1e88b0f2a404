"""The numeric drift plan's one pooled pass (:func:`queries.numeric_query` over
:func:`queries.pooled`): KS, Wasserstein, the PSI bins and Anderson-Darling's sums of
every target and window from one query, against scipy / numpy on the raw values --
ties, tiny windows (one value), equal windows, a window whose values are all missing,
and windows that are entirely below, above or inside the reference."""

from __future__ import annotations

import warnings

import ibis
import numpy as np
import pyarrow as pa
import pytest
from scipy import stats as ss

from analytics.analyses.drift import queries as q
from analytics.analyses.drift.statistics import STATISTICS
from analytics.analyses.drift.statistics.anderson_darling import finish as ad_finish
from analytics.stats.drift import ks_p_value

#: (reference, {key: current}) per target; ``None``: a window of missing values only.
LAYOUTS = {
    "ties": (np.round(np.linspace(-2, 2, 41), 0), {0: np.round(np.linspace(-1, 3, 30), 0), 1: np.array([0.0] * 5)}),
    "tiny": (np.array([1.0]), {0: np.array([2.0]), 1: np.array([1.0]), 2: np.array([0.0, 1.0])}),
    "equal": (np.array([3.0, 1.0, 2.0, 2.0]), {0: np.array([1.0, 2.0, 2.0, 3.0])}),
    "outside": (np.arange(10.0), {0: np.arange(-20.0, -15.0), 1: np.arange(100.0, 103.0), 2: np.array([4.5])}),
    "missing": (np.array([0.5, 1.5, 1.5]), {0: None, 1: np.array([1.5, 7.0, -3.0])}),
    "wide": (np.random.default_rng(3).normal(0, 1e6, 200), {0: np.random.default_rng(4).normal(1e5, 2e6, 150)}),
}


def _counts() -> ibis.Table:
    """The windowed counts table (``queries.windowed``'s shape) of every layout, one target each."""
    rows = []
    for f, (ref, curs) in enumerate(LAYOUTS.values()):
        for is_ref, key, vals in [(True, None, ref)] + [(False, k, v) for k, v in curs.items()]:
            if vals is None:   # a window holding only missing values of this target
                rows.append((f, is_ref, key, None, 4))
                continue
            xs, cs = np.unique(vals, return_counts=True)
            rows += [(f, is_ref, key, float(x), int(c)) for x, c in zip(xs, cs)]
    return ibis.memtable(pa.table({
        q.F: pa.array([r[0] for r in rows], pa.int32()), q.IS_REF: [r[1] for r in rows],
        q.KEY: pa.array([r[2] for r in rows], pa.int64()), q.XN: pa.array([r[3] for r in rows], pa.float64()),
        q.XS: pa.array([None] * len(rows), pa.string()), "c": pa.array([r[4] for r in rows], pa.int64())}))


@pytest.fixture(scope="module")
def plan():
    counts = _counts()
    con = ibis.duckdb.connect()
    fs = list(range(len(LAYOUTS)))
    summ = {r[q.F]: r for r in con.to_pyarrow(q.reference_summary_query(counts, fs, 4)).to_pylist()}
    edges = {f: sorted({summ[f][f"e{j}"] for j in range(1, 4)}) for f in fs}
    more = [s.pooled for s in STATISTICS.values() if s.pooled is not None]
    rows = con.to_pyarrow(q.numeric_query(counts, edges, more)).to_pylist()
    return {(r[q.F], r[q.KEY], r[q.IS_REF]): r for r in rows}, edges


def _pairs():
    for f, (name, (ref, curs)) in enumerate(LAYOUTS.items()):
        for key, cur in curs.items():
            if cur is not None:
                yield pytest.param(f, key, ref, cur, id=f"{name}-{key}")


@pytest.mark.parametrize("f, key, ref, cur", list(_pairs()))
def test_pooled_pass_matches_scipy(plan, f, key, ref, cur):
    rows, edges = plan
    r = rows[(f, key, False)]
    assert r["n"] == len(cur)
    d, p = ks_p_value(int(r["ks_num"]), len(ref), len(cur))
    ks = ss.ks_2samp(ref, cur)
    assert (d, p) == pytest.approx((ks.statistic, ks.pvalue), rel=1e-9, abs=1e-15)
    assert r["wasserstein"] == pytest.approx(ss.wasserstein_distance(ref, cur), rel=1e-9, abs=1e-12)
    # the bins: right-closed on the reference's edges, as numpy's searchsorted(side="left")
    e = edges[f]
    want = np.bincount(np.searchsorted(e, cur, side="left"), minlength=len(e) + 1)
    assert [r[f"b{i}"] for i in range(len(e) + 1)] == want.tolist()
    ref_row = rows[(f, None, True)]
    assert [ref_row[f"b{i}"] for i in range(len(e) + 1)] == \
        np.bincount(np.searchsorted(e, ref, side="left"), minlength=len(e) + 1).tolist()
    if len(np.unique(np.concatenate([ref, cur]))) > 1 and len(ref) + len(cur) >= 4:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want_ad = ss.anderson_ksamp([ref, cur], variant="midrank").statistic
        assert ad_finish({"n_ref": len(ref), "n_cur": len(cur), **r}) == pytest.approx(want_ad, rel=1e-9, abs=1e-9)


def test_a_window_of_missing_values_gets_no_row(plan):
    """A window whose values of a target are all missing has nothing to compare: no row
    (the evaluation reports it as "no values in the current window")."""
    rows, _ = plan
    f = list(LAYOUTS).index("missing")
    assert (f, 0, False) not in rows and (f, 1, False) in rows
    assert rows[(f, None, True)]["n"] == 3


def test_equal_windows_have_no_distance(plan):
    rows, _ = plan
    r = rows[(list(LAYOUTS).index("equal"), 0, False)]
    assert r["ks_num"] == 0 and r["wasserstein"] == 0.0
