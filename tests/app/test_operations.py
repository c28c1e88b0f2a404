"""Operations page: the tiles equal the metric registry's numbers for the same selection."""

from __future__ import annotations

from analytics.metrics.compute import compute_metrics
from analytics.query.selection import Grouping, Selection
from analytics.render import format as F
from .conftest import figures, metric_values, open_page



def expected(engine, **sel):
    r = compute_metrics(engine, Selection.build("binary_model", **sel), Grouping(),
                        ["volume", "label_coverage", "latency_p50", "latency_p95", "latency_p99"]).rows[0]
    return {"Predictions": F.count(r.n), "Latency p95": F.ms(r.metrics["latency_p95"].value),
            "Label coverage": F.pct(r.metrics["label_coverage"].value), "Label delay, days": F.num(r.label_delay_days),
            "Compute cost": F.money(r.n / 1000 * 2.0)}


def test_operations_tiles_follow_the_filters(app, app_engine):
    at = open_page(app, "operations")
    assert metric_values(at) == expected(app_engine)
    at.multiselect(key="flt_versions").set_value(["v2"]).run()
    at.multiselect(key="flt_seg_region").set_value(["NA"]).run()
    shown = metric_values(at)
    assert shown == expected(app_engine, versions=["v2"], where={"region": ["NA"]})
    assert shown["Predictions"] != expected(app_engine)["Predictions"]


def test_operations_charts_are_per_period(app, app_engine):
    at = open_page(app, "operations")
    figs = figures(at)
    volume = figs[0]
    weeks = compute_metrics(app_engine, Selection.build("binary_model"), Grouping(by=("period", "version")), ["volume"])
    assert sum(sum(t["y"]) for t in volume["data"]) == sum(r.n for r in weeks.rows)
    at.segmented_control(key="flt_period").set_value("month").run()
    assert at.query_params["period"] == "month"
    months = {x for t in figures(at)[0]["data"] for x in t["x"]}
    assert months == {"2026-03-01", "2026-04-01"}
