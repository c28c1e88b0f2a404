"""Explore (no SQL): pick metrics, group-bys and a chart type; the table and chart follow;
download the CSV; "show the query" reveals the generated SQL for audit."""

from __future__ import annotations

import polars as pl
import streamlit as st

from analytics.analyses.facts import metrics_sql
from analytics.metrics import PRIMARY_METRIC, get_metric, metric_names
from analytics.query.selection import Grouping
from analytics.render import charts
from analytics.render.output import frame_to_csv

from app import auth, resources, state
from app.components.metricview import metric_table
from app.components.page import PageContext, run_page
from app.components.widgets import chart, table, spinner

K_METRICS, K_BY, K_KIND = "ex_metrics", "ex_by", "ex_kind"
KINDS = ("line", "bar", "table only")


def body(ctx: PageContext) -> None:
    task = ctx.spec.task
    names = list(metric_names(task))
    groups = ["period", "version", *ctx.spec.columns.segments]
    state.bind(K_METRICS, "m", lambda vs: [v for v in vs if v in names] or None, multi=True)
    state.bind(K_BY, "group", lambda vs: [v for v in vs if v in groups] or None, multi=True)
    state.bind(K_KIND, "chart", lambda v: v if v in KINDS else None)
    c1, c2, c3 = st.columns([3, 3, 2])
    with c1:
        metrics = st.multiselect("Metrics", names, key=K_METRICS, format_func=lambda m: get_metric(m, task).label,
                                 **({} if K_METRICS in st.session_state else
                                    {"default": [PRIMARY_METRIC[task], "volume"]}),
                                 help="Any metric of the registry; the tooltips on other pages explain each one.")
    with c2:
        by = st.multiselect("Group by", groups, key=K_BY,
                            **({} if K_BY in st.session_state else {"default": ["period", "version"]}),
                            help="Period uses the time buckets of the filter bar.")
    with c3:
        kind = st.segmented_control("Chart", KINDS, key=K_KIND,
                                    **({} if K_KIND in st.session_state else {"default": "line"})) or "line"
    state.set_param("m", metrics)
    state.set_param("group", by)
    state.set_param("chart", None if kind == "line" else kind)
    if not metrics:
        st.info("Pick at least one metric.")
        return
    grouping = Grouping(by=tuple(by), period=ctx.filters.period)
    with spinner():
        res = resources.metrics(ctx.ws_key, ctx.selection, grouping, tuple(metrics))
    frame = res.to_polars()
    defs = {m: get_metric(m, task) for m in metrics}
    if kind != "table only":
        y = metrics[0]
        if len(metrics) > 1:
            y = st.radio("Chart the metric", metrics, horizontal=True, key="ex_y",
                         format_func=lambda m: defs[m].label)
        x = "period" if "period" in by else (by[0] if by else None)
        rest = [b for b in by if b != x]
        plot = frame
        color = None
        if rest:
            color = " · ".join(rest)
            plot = frame.with_columns(pl.concat_str([pl.col(b).fill_null("–") for b in rest], separator=" · ").alias(color))
        chart(charts.explore_chart(plot, y=y, x=x, color_by=color, kind=kind, fmt=defs[y].fmt,
                                   title=f"{defs[y].label}" + (f" by {', '.join(by)}" if by else "")),
              key="ex_chart")
    table(metric_table(frame, list(by), metrics, defs))
    auth.download_button(ctx.access, ctx.spec.name, "Explore", "Download CSV", frame_to_csv(frame),
                         file_name=f"{ctx.spec.name}_metrics.csv", mime="text/csv",
                         icon=":material/download:", help="Every value with its interval bounds, n and reason.")
    if ctx.access.can("show_query", ctx.spec.name) and st.toggle("Show the query", key="ex_sql",
                 help="Every SQL query the engine runs for this view, for audit."):
        st.code(metrics_sql(ctx.engine, ctx.selection, grouping, metrics), language="sql")


run_page("Explore", body, caption="Any metric, sliced any way, without writing SQL.", needs="explore")
