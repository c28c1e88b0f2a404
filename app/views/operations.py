"""Operations: volume, latency percentiles, compute cost, label coverage and label delay over time."""

from __future__ import annotations

import polars as pl
import streamlit as st

from analytics.analyses.value import evaluate
from analytics.query.selection import Grouping
from analytics.render import charts, format as F

from app import precompute, resources
from app.components.marks import marked
from app.components.text import escape_md
from app.components.page import PageContext, run_page
from app.components.widgets import chart, table, kpi, metric_help, spinner

OPS_METRICS = precompute.OPS_METRICS   # what app/precompute.py computes ahead


def delay_frame(result) -> pl.DataFrame:
    """Label delay per group (it is a property of each metrics row, not a metric)."""
    return pl.DataFrame([{**r.group, "label_delay_days": r.label_delay_days, "n": r.n} for r in result.rows],
                        infer_schema_length=None)


def body(ctx: PageContext) -> None:
    sel, period = ctx.selection, ctx.filters.period
    with spinner():
        # tiles pool the serving versions: a shadow's re-scores are not traffic
        total, pooled = resources.pooled_metrics(ctx.ws_key, sel, Grouping(), OPS_METRICS)
        by_time = resources.metrics(ctx.ws_key, sel, Grouping(by=("period", "version"), period=period), OPS_METRICS)
        roles = resources.version_roles(ctx.ws_key, ctx.spec.name)
    if not total.rows or total.rows[0].n == 0:
        st.info("No predictions in this selection: widen the time range or clear a filter.")
        return
    row = total.rows[0]
    costs = None
    if ctx.spec.business:
        with spinner():
            inputs = resources.value_inputs(ctx.ws_key, sel, Grouping(by=("period", "version"), period=period), 0)
        costs = evaluate(inputs).to_polars().select("period", "version", "compute_cost")
    cost = float(costs["compute_cost"].sum()) if costs is not None else None
    c = st.columns(5)
    kpi(c[0], "Predictions", F.count(row.n), help=metric_help("volume"), caption=escape_md(pooled))
    kpi(c[1], "Latency p95", F.ms(row.metrics["latency_p95"].value), help=metric_help("latency_p95"),
        caption=f"p50 {F.ms(row.metrics['latency_p50'].value)} · p99 {F.ms(row.metrics['latency_p99'].value)}")
    kpi(c[2], "Label coverage", F.pct(row.metrics["label_coverage"].value), help=metric_help("label_coverage"),
        caption=f"{F.count(row.n_labeled)} labeled")
    # the unit in the label: "12.6 days" does not fit a fifth of a 1280 px page
    kpi(c[3], "Label delay, days", F.num(row.label_delay_days),
        help="Median time from a prediction to its outcome, in days, over the labeled predictions.")
    kpi(c[4], "Compute cost", F.money(cost, ctx.currency) if cost is not None else F.MISSING,
        help="cost_per_1k × predictions / 1,000 (plus any per-row cost column), from [models.business]; "
             "every version's, shadows included (a shadow costs compute).",
        caption=(("every version, shadows included" if roles.shadow else None) if cost is not None
                 else "no [models.business] in the workspace"))
    st.caption(f"Tiles {escape_md(pooled)}.")

    frame = by_time.to_polars()
    shadows = [v for v in roles.shadow if not sel.versions or v in sel.versions]
    # traffic: the serving versions' predictions (a shadow's re-scores stacked on them would
    # count the same requests twice); a shadow chosen alone is shown as chosen
    traffic = frame.filter(~pl.col("version").is_in(shadows)) if shadows and \
        frame.filter(~pl.col("version").is_in(shadows)).height else frame
    vol_title = f"Predictions per {period}" + (f" (serving; {', '.join(shadows)} shadow left out)"
                                               if traffic.height < frame.height else "")
    left, right = st.columns(2)
    with left:
        chart(marked(ctx, charts.volume_chart(traffic, title=vol_title)), key="ops_volume")
    with right:
        chart(marked(ctx, charts.latency_chart(frame, by="version", quantiles=("latency_p50", "latency_p95"),
                                               title=f"Latency per {period}: p50 solid, p95 dashed")),
              key="ops_latency")
    left, right = st.columns(2)
    with left:
        chart(marked(ctx, charts.metric_over_time(frame, "label_coverage", label="label coverage", fmt="pct",
                                                  title="Label coverage (share of predictions with an outcome)")),
              key="ops_coverage")
    with right:
        delays = delay_frame(by_time)
        if delays.is_empty() or delays["label_delay_days"].drop_nulls().is_empty():
            chart(charts.empty_figure("No outcomes have arrived for this range yet."), key="ops_delay")
        else:
            chart(charts.metric_over_time(delays, "label_delay_days", label="label delay", fmt="days",
                                          title="Label delay (days, median) per version"), key="ops_delay")
    if costs is not None:
        chart(marked(ctx, charts.value_over_time(costs, y="compute_cost", currency=ctx.currency,
                                                 title=f"Compute cost per {period}")),
              key="ops_cost")
    with st.expander("Table"):
        table(frame)


run_page("Operations", body, caption="Is the model serving well? Volume, latency, cost and how fast outcomes arrive.")
