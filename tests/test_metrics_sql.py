"""The registry's API, portability of its queries (Trino), and the `lastmile metrics` command."""

from __future__ import annotations

import json

import ibis
import pytest

from analytics.cli import main
from analytics.config.workspace import load_workspace
from analytics.errors import UnknownMetricError
from analytics.log.engine import Engine
from analytics.metrics import METRICS, PRIMARY_METRIC, get_metric, metric_names
from analytics.metrics.compute import plan_queries
from analytics.query.selection import Grouping, Selection
from .factories import make_workspace


CONTRACT = {
    "binary": "accuracy precision recall f1 roc_auc pr_auc log_loss brier positive_rate base_rate",
    "multiclass": "accuracy macro_f1 weighted_f1 macro_precision macro_recall",
    "regression": "mae rmse mape r2 bias",
}
COMMON = "volume label_coverage latency_p50 latency_p95 latency_p99".split()


@pytest.mark.parametrize("task", sorted(CONTRACT))
def test_names_in_contract_order(task):
    assert metric_names(task) == tuple(CONTRACT[task].split() + COMMON)
    assert PRIMARY_METRIC[task] in metric_names(task)
    for name in metric_names(task):
        d = get_metric(name, task)
        assert d.name == name and task in d.tasks and d.description and d.interval_method
        assert d.fmt in ("pct", "num", "ms", "count") and d.kind in ("label", "operational")


def test_unknown_metric_suggests():
    with pytest.raises(UnknownMetricError, match="did you mean 'roc_auc'"):
        get_metric("roc_acu", "binary")
    with pytest.raises(UnknownMetricError, match="not available for a regression model"):
        get_metric("roc_auc", "regression")
    assert set(METRICS) >= set(COMMON)


@pytest.mark.parametrize("task", sorted(CONTRACT))
def test_every_query_compiles_for_trino(tmp_path, task):
    g = make_workspace(tmp_path, task, n=50, seed=2)
    engine = Engine(load_workspace(g.config))
    spec = engine.spec(f"{task}_model")
    table = Selection.build(spec.name, start="2026-03-03", versions=["v1"], where=["region=EU"]).apply(engine)
    plan = plan_queries(spec, table, Grouping(by=("version", "period", "channel")))
    expected = {"sums"} | ({"score"} if task == "binary" else set()) \
        | ({"confusion"} if task == "multiclass" else set())
    assert set(plan.queries) == expected and set(plan.quantiles) == {"latency", "delay"}
    queries = dict(plan.queries)
    if task == "binary":   # the weak-segment ranking's rest queries (ROC AUC; with average precision)
        from analytics.metrics.rest import distinct_scores_query, rest_ap_query, rest_score_query
        queries["rest_score"] = rest_score_query(plan.rows)
        queries["rest_ap"] = rest_ap_query(plan.rows)
        queries["distinct_scores"] = distinct_scores_query(plan.rows)
    queries.update({f"{name}/{strategy}": plan.quantile_query(name, strategy)
                    for name in plan.quantiles for strategy in ("rows", "counts")})
    for name, q in queries.items():
        sql = str(ibis.to_sql(q, dialect="trino"))
        assert "SELECT" in sql.upper(), name


@pytest.fixture(scope="module")
def cli_ws(tmp_path_factory):
    g = make_workspace(tmp_path_factory.mktemp("cli"), "binary", n=800, seed=9)
    return str(g.config)


def test_cli_json_has_the_contract_shape(cli_ws, capsys):
    assert main(["metrics", "--config", cli_ws, "--model", "binary_model", "--by", "version", "--by", "period",
                 "--period", "month", "--metric", "roc_auc", "--metric", "volume", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "binary_model" and out["task"] == "binary"
    row = out["rows"][0]
    assert set(row["group"]) == {"version", "period"} and row["n"] > row["n_labeled"] > 0
    assert set(row["metrics"]) == {"roc_auc", "volume"}
    auc = row["metrics"]["roc_auc"]
    assert auc["ci_low"] <= auc["value"] <= auc["ci_high"]


def test_cli_table_and_csv(cli_ws, capsys):
    assert main(["metrics", "--config", cli_ws, "--model", "binary_model", "--version", "v2",
                 "--metric", "accuracy"]) == 0
    text = capsys.readouterr().out
    assert "accuracy" in text and "%" in text and "[" in text
    assert main(["metrics", "--config", cli_ws, "--model", "binary_model", "--by", "region", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("region,n,n_labeled,label_delay_days,accuracy,accuracy_ci_low")
    assert len(lines) == 1 + 3


@pytest.mark.parametrize("argv, message", [
    (["--metric", "roc_acu"], "did you mean 'roc_auc'"),
    (["--start", "2031-01-01"], "no predictions"),
    (["--by", "regoin"], "Cannot group"),
    (["--version", "v9"], "no version 'v9'"),
])
def test_cli_errors_are_one_sentence(cli_ws, capsys, argv, message):
    assert main(["metrics", "--config", cli_ws, "--model", "binary_model", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_narrow_temporary_table_is_dropped(tmp_path):
    g = make_workspace(tmp_path, "binary", n=60, seed=2)
    engine = Engine(load_workspace(g.config))
    from analytics.metrics.compute import compute_metrics
    compute_metrics(engine, Selection.build("binary_model"), metrics=["accuracy"])
    names = [r[0] for r in engine.backend.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
    assert not [n for n in names if n.startswith("lm_tmp_")]
