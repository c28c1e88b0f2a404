"""What the filter bar knows about a model, and the audit SQL of the Explore page."""

from __future__ import annotations

from analytics.analyses.facts import metrics_sql, model_facts
from analytics.query.selection import Grouping, Selection


def test_model_facts_match_the_generated_log(binary_ws):
    g, _, engine = binary_ws
    df = g.frame()
    facts = model_facts(engine, "binary_model")
    assert facts.n == len(df)
    assert facts.first_ts == df["ts"].min().to_pydatetime()
    assert facts.last_ts == df["ts"].max().to_pydatetime()
    assert facts.versions == tuple(sorted(df["ver"].unique()))
    counts = dict(facts.segment_values)["region"]
    assert dict(counts) == df["region"].value_counts().to_dict()
    assert [n for _, n in counts] == sorted((n for _, n in counts), reverse=True)
    assert set(facts.values_of("channel")) == {"web", "branch"}
    assert facts.values_of("nope") == ()


def test_metrics_sql_is_the_filtered_grouped_aggregate(binary_ws):
    _, _, engine = binary_ws
    sel = Selection.build("binary_model", versions=["v2"], where={"region": ["EU"]})
    sql = metrics_sql(engine, sel, Grouping(by=("version", "channel")), ["accuracy", "volume"])
    assert "GROUP BY" in sql and '"channel"' in sql and "'v2'" in sql and "'EU'" in sql
    assert sql.startswith("-- sums\n") and "-- score" not in sql       # accuracy needs no ranks
    both = metrics_sql(engine, sel, Grouping(by=("version",)), ["roc_auc", "latency_p95"])
    assert "-- score\n" in both and "-- latency (exact percentiles" in both
