"""Property tests of the metrics (Hypothesis, modest example counts: each example writes logs).

* invariance to row order and to splitting the log across files (values and intervals);
* ROC AUC of the negated score (1 - score) is 1 - AUC;
* ROC AUC, average precision, log loss and accuracy equal scikit-learn; the DeLong
  standard error equals a direct O(P N) computation from the rows;
* every interval contains its value; Wilson equals scipy's.
"""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn import metrics as skm

from analytics.config.workspace import load_workspace
from analytics.log.engine import Engine
from analytics.metrics.compute import compute_metrics
from analytics.query.selection import Grouping, Selection
from analytics.stats.intervals import wilson
from .factories import write_toml


T0 = dt.datetime(2026, 3, 2)
METRICS = ["accuracy", "f1", "roc_auc", "pr_auc", "log_loss", "brier", "label_coverage", "latency_p95"]
_counter = itertools.count()


def write_log(folder, score, label, latency, files=1, order=None):
    """A binary workspace holding these rows (labels in the predictions file, None = unlabeled)."""
    n = len(score)
    order = np.arange(n) if order is None else np.asarray(order)
    folder.mkdir(parents=True)
    (folder / "p").mkdir()
    tab = pa.table({"id": [f"r{i}" for i in range(n)],
                    "ts": pa.array([T0 + dt.timedelta(hours=i) for i in range(n)], pa.timestamp("us")),
                    "seg": ["a" if i % 3 else "b" for i in range(n)],
                    "s": pa.array(score, pa.float64()), "y": pa.array(label, pa.int64()),
                    "lat": pa.array(latency, pa.float64())}).take(pa.array(order))
    bounds = np.linspace(0, n, files + 1).astype(int)
    for f in range(files):
        pq.write_table(tab.slice(bounds[f], bounds[f + 1] - bounds[f]), folder / "p" / f"part{f}.parquet")
    cols = {"id": "id", "timestamp": "ts", "score": "s", "label": "y", "latency_ms": "lat", "segments": ["seg"]}
    cfg = write_toml(folder / "lastmile.toml", [{"name": "m", "task": "binary", "predictions": "p",
                                                 "columns": cols}])
    return Engine(load_workspace(cfg))


def run(engine, grouping=Grouping()):
    return compute_metrics(engine, Selection.build("m"), grouping, METRICS)


def _rows(res):
    return {tuple(r.group.values()): {k: v.to_dict() for k, v in r.metrics.items()} for r in res.rows}


def assert_same(a: dict, b: dict) -> None:
    """Same groups, metrics and fields; floats equal up to summation order (1e-12 relative)."""
    assert a.keys() == b.keys()
    for g in a:
        assert a[g].keys() == b[g].keys()
        for m in a[g]:
            for f, x in a[g][m].items():
                y = b[g][m][f]
                if isinstance(x, float):
                    assert y == pytest.approx(x, rel=1e-12, abs=1e-12), (g, m, f)
                else:
                    assert x == y, (g, m, f)


logs = st.integers(2, 40).flatmap(lambda n: st.tuples(
    st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.5, 0.75, 0.9, 1.0, 0.33]), min_size=n, max_size=n),
    st.lists(st.sampled_from([0, 1, None]), min_size=n, max_size=n),
    st.lists(st.floats(0, 500, allow_nan=False), min_size=n, max_size=n),
    st.randoms(use_true_random=False)))


#: each example writes and queries logs: no shrinking (too slow); failures print the example
SLOW = dict(deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
            suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings(max_examples=5, **SLOW)
@given(logs)
def test_order_split_and_negation(tmp_path, log):
    score, label, latency, rnd = log
    base = tmp_path / f"case{next(_counter)}"
    e1 = write_log(base / "one", score, label, latency)
    order = list(range(len(score)))
    rnd.shuffle(order)
    e2 = write_log(base / "split", score, label, latency, files=3, order=order)
    by = Grouping(by=("seg",))
    assert_same(_rows(run(e1, by)), _rows(run(e2, by)))   # same aggregates -> same values and intervals
    neg = write_log(base / "neg", [1.0 - s for s in score], label, latency)
    a, b = run(e1).rows[0].metrics["roc_auc"], run(neg).rows[0].metrics["roc_auc"]
    assert (a.value is None) == (b.value is None)
    if a.value is not None:
        assert b.value == pytest.approx(1 - a.value, abs=1e-12)
        assert b.se == pytest.approx(a.se, abs=1e-12)


def delong_se(y: np.ndarray, s: np.ndarray) -> float:
    """DeLong's standard error straight from the definition (O(P N))."""
    pos, neg = s[y == 1], s[y == 0]
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    return float(np.sqrt(v10.var(ddof=1) / len(pos) + v01.var(ddof=1) / len(neg)))


@settings(max_examples=6, **SLOW)
@given(logs)
def test_against_sklearn_and_intervals_contain_values(tmp_path, log):
    score, label, latency, _ = log
    engine = write_log(tmp_path / f"case{next(_counter)}", score, label, latency)
    m = run(engine).rows[0].metrics
    y = np.array([v for v in label if v is not None])
    s = np.array([sc for sc, v in zip(score, label) if v is not None])
    for v in m.values():
        if v.ci_low is not None:
            assert v.ci_low <= v.value <= v.ci_high
    assert m["latency_p95"].value == pytest.approx(np.quantile(latency, 0.95), abs=1e-9)
    assert m["label_coverage"].value == pytest.approx(len(y) / len(label))
    if len(y) == 0:
        assert all(m[k].value is None and m[k].reason for k in ("accuracy", "roc_auc", "log_loss"))
        return
    assert m["accuracy"].value == pytest.approx(skm.accuracy_score(y, s >= 0.5), abs=1e-9)
    assert m["log_loss"].value == pytest.approx(skm.log_loss(y, y_proba=s, labels=[0, 1]), abs=1e-9)
    if 0 < y.sum() < len(y):
        assert m["roc_auc"].value == pytest.approx(skm.roc_auc_score(y, s), abs=1e-9)
        if y.sum() >= 2 and len(y) - y.sum() >= 2:
            assert m["roc_auc"].se == pytest.approx(delong_se(y, s), abs=1e-9)
    else:
        assert m["roc_auc"].value is None and "one class" in m["roc_auc"].reason
    if y.sum():
        assert m["pr_auc"].value == pytest.approx(skm.average_precision_score(y, s), abs=1e-9)
    else:
        assert m["pr_auc"].value is None


@given(st.integers(1, 10_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
@settings(max_examples=50, deadline=None)
def test_wilson_matches_scipy(kn):
    k, n = kn
    lo, hi, _ = wilson(k, n)
    ref = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
    assert lo == pytest.approx(ref.low, abs=1e-9) and hi == pytest.approx(ref.high, abs=1e-9)
    assert lo <= k / n <= hi


@given(st.floats(0.0, 1.0), st.integers(1, 50), st.integers(1, 50))
@settings(max_examples=60, deadline=None)
def test_hanley_mcneil_does_not_depend_on_the_score_direction(auc, n_pos, n_neg):
    from analytics.stats.intervals import auc_hanley_mcneil
    (_, _, se_a), (_, _, se_b) = auc_hanley_mcneil(auc, n_pos, n_neg), auc_hanley_mcneil(1.0 - auc, n_pos, n_neg)
    assert se_a == pytest.approx(se_b, abs=1e-12)
