"""Drift on the bundled sample, the `lastmile drift` command, `[models.drift]`
validation, and Trino compilation of every drift query."""

from __future__ import annotations

import datetime as dt
import json

import ibis
import pytest

from analytics import cli
from analytics.analyses.drift import compute_drift, queries as q, targets
from analytics.analyses.drift.statistics import STATISTICS
from analytics.config.drift import validate_drift_config
from analytics.config.workspace import SAMPLE_CONFIG, load_workspace
from analytics.errors import ConfigError
from analytics.log.engine import Engine
from analytics.query.selection import Selection, period_start
from analytics.sample import DATA_START, DRIFT_START
from .factories import make_workspace


MODEL = "credit_default"
START = dt.datetime.combine(DATA_START, dt.time())


@pytest.fixture(scope="module")
def sample():
    return Engine(load_workspace(SAMPLE_CONFIG))


def test_sample_drift_story(sample):
    """The applicants change from DRIFT_START: income and debt ratio drift; an
    adjacent pre-drift window (before the challenger arrives) shows no drift."""
    ref = Selection.build(MODEL, START, START + dt.timedelta(weeks=4))
    before = compute_drift(sample, MODEL, ref, Selection.build(MODEL, START + dt.timedelta(weeks=4),
                                                                START + dt.timedelta(weeks=8)), label=False)
    assert before.drifted_features == () and not before.prediction.drifted
    drift_start = dt.datetime.combine(DRIFT_START, dt.time())
    after = compute_drift(sample, MODEL, ref, Selection.build(MODEL, drift_start + dt.timedelta(weeks=2),
                                                               drift_start + dt.timedelta(weeks=6)), label=False)
    assert {"income", "debt_ratio"} <= set(after.drifted_features)
    assert "age" not in after.drifted_features
    assert after.features["income"].method == "wasserstein_psi"   # thousands of rows: distances decide
    assert after.prediction.drifted and after.label is None


def pa_ts(value):
    import pyarrow as pa
    return pa.scalar(value, pa.timestamp("us"))


def _run(capsys, *argv):
    code = cli.main(["drift", "--config", str(SAMPLE_CONFIG), *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_json_and_table(capsys):
    code, out, _ = _run(capsys, "--model", MODEL, "--reference-start", "2026-05-25", "--reference-end",
                        "2026-06-22", "--current-start", "2026-10-05", "--feature", "income",
                        "--feature", "employment", "--format", "json")
    assert code == 0
    d = json.loads(out)
    assert set(d["features"]) == {"income", "employment"}
    assert d["features"]["income"]["drifted"] and d["features"]["income"]["kind"] == "numeric"
    assert d["current"]["start"] == "2026-10-05T00:00:00" and d["current"]["end"] == "2026-11-23T00:00:00"
    assert d["prediction"]["kind"] == "numeric" and d["label"]["kind"] == "categorical"
    code, out, _ = _run(capsys, "--model", MODEL, "--version", "v1", "--feature", "age",
                        "--where", "channel=web", "--format", "json")
    d = json.loads(out)
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    raw = pq.read_table(SAMPLE_CONFIG.parent / MODEL / "predictions", columns=["ts", "model_version", "channel"])
    keep = pc.and_(pc.and_(pc.equal(raw["model_version"], "v1"), pc.equal(raw["channel"], "web")),
                   pc.and_(pc.greater_equal(raw["ts"], pa_ts(START)),
                           pc.less(raw["ts"], pa_ts(START + dt.timedelta(days=28)))))
    assert code == 0 and d["reference"]["where"] == {"channel": ["web"]} and d["reference"]["versions"] == ["v1"]
    assert d["reference"]["n"] == pc.sum(keep.cast("int64")).as_py()
    code, out, _ = _run(capsys, "--model", MODEL, "--feature", "age")
    assert code == 0 and "Drift of model credit_default" in out and "age" in out


@pytest.mark.parametrize("argv, message", [
    (["--model", "credit_defualt"], "did you mean 'credit_default'"),
    (["--model", MODEL, "--reference-start", "2020-01-01", "--reference-end", "2020-02-01"], "reference window"),
    (["--model", MODEL, "--current-start", "2027-01-01", "--current-end", "2027-02-01"], "current window"),
    (["--model", MODEL, "--current-start", "yesterday"], "--current-start 'yesterday' is not an ISO date"),
    (["--model", MODEL, "--version", "v9"], "no version 'v9'"),
])
def test_cli_errors(capsys, argv, message):
    code, _, err = _run(capsys, *argv)
    assert code == 2 and err.startswith("error: ") and message in err


def test_config_validation(tmp_path):
    assert validate_drift_config({"psi_threshold": 0.25, "large_n": 500, "reference_start": "2026-03-02"}) == []
    problems = validate_drift_config({"psi_treshold": 0.2, "p_value_threshold": 1.5, "large_n": -1,
                                      "reference_start": "soon"})
    assert len(problems) == 4 and "did you mean 'psi_threshold'" in problems[0]
    assert validate_drift_config({"reference_start": "2026-03-09", "reference_end": "2026-03-02"})
    g = make_workspace(tmp_path, "binary", n=200)
    text = g.config.read_text().replace("[models.columns]", "[models.drift]\njs_threshold = 2\n\n[models.columns]")
    g.config.write_text(text)
    with pytest.raises(ConfigError, match="js_threshold must be a number between 0 and 1"):
        load_workspace(g.config)


def test_configured_thresholds_and_reference(tmp_path):
    g = make_workspace(tmp_path, "regression", n=600, days=28)
    text = g.config.read_text().replace(
        "[models.columns]", '[models.drift]\nlarge_n = 10\npsi_threshold = 0.000001\n'
                            'reference_start = "2026-03-02"\nreference_end = "2026-03-09"\n\n[models.columns]')
    g.config.write_text(text)
    engine = Engine(load_workspace(g.config))
    from analytics.analyses.drift import default_reference
    ref, cur = default_reference(engine, "regression_model")
    assert (ref.start, ref.end) == (dt.datetime(2026, 3, 2), dt.datetime(2026, 3, 9))
    res = compute_drift(engine, "regression_model", ref, cur)
    assert res.features["income"].method == "wasserstein_psi" and res.features["income"].drifted
    assert res.label.kind == "numeric" and res.prediction.kind == "numeric"


def test_every_query_compiles_for_trino(sample):
    spec = sample.spec(MODEL)
    tgts = targets(sample, spec)
    log = sample.log(spec)
    ref = Selection.build(MODEL, START, START + dt.timedelta(weeks=4)).predicates(sample, log)
    cur = Selection.build(MODEL, START, "2026-11-23", where=["region=EU"]).predicates(sample, log)
    st = q.flagged(log, ref, cur, lambda t: period_start(t["lm_ts"], "week"),
                   **{f"v{i}": t.value for i, t in enumerate(tgts)})
    raw = q.value_counts(st, [t.kind for t in tgts])
    counts = q.windowed(raw)
    num = [i for i, t in enumerate(tgts) if t.kind == "numeric"]
    cat = [i for i, t in enumerate(tgts) if t.kind == "categorical"]
    exprs = [raw, counts, q.window_sizes_query(counts), q.reference_summary_query(counts, num, 10),
             q.numeric_query(counts, {i: [0.1, 0.2] for i in num},
                             [s.pooled for s in STATISTICS.values() if s.pooled]),
             q.categorical_query(counts, cat, 1000)]
    for e in exprs:
        sql = ibis.to_sql(e, dialect="trino")
        assert "SELECT" in sql and "QUANTILE" not in sql.upper()


def test_multiclass_prediction_and_label_are_categorical(sample):
    """ticket_router: predicted class and label distributions, against scipy on the raw file rows."""
    import numpy as np
    import pyarrow.parquet as pq
    from scipy.stats import chi2_contingency, ks_2samp

    ref = Selection.build("ticket_router", "2026-05-25", "2026-06-22", versions=["v1"])
    cur = Selection.build("ticket_router", "2026-06-22", "2026-08-24", versions=["v1"])
    res = compute_drift(sample, "ticket_router", ref, cur, features=["attachments"])
    df = pq.read_table(SAMPLE_CONFIG.parent / "ticket_router" / "predictions").to_pandas()
    df = df[df.model_version == "v1"]
    r = df[(df.ts >= "2026-05-25") & (df.ts < "2026-06-22")]
    c = df[(df.ts >= "2026-06-22") & (df.ts < "2026-08-24")]
    for got, col in ((res.prediction, "predicted"), (res.label, "actual")):
        a, b = r[col].dropna(), c[col].dropna()
        cats = sorted(set(a) | set(b))
        table = np.array([[(a == k).sum() for k in cats], [(b == k).sum() for k in cats]])
        assert got.kind == "categorical" and (got.n_ref, got.n_cur) == (len(a), len(b))
        assert got.chi2_p_value == pytest.approx(chi2_contingency(table, correction=False).pvalue, rel=1e-9)
    att = res.features["attachments"]   # an integer count with few values is numeric
    assert att.kind == "numeric"
    assert att.ks_statistic == pytest.approx(ks_2samp(r.attachments, c.attachments).statistic, rel=1e-12)
