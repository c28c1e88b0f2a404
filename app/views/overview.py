"""Model overview: KPI tiles with intervals and change, the metric over time per version,
label coverage, and the health verdict in plain words."""

from __future__ import annotations

import streamlit as st

from analytics.metrics import PRIMARY_METRIC, get_metric, metric_names
from analytics.query.selection import Grouping
from analytics.render import charts, format as F

from app import precompute, resources, state
from app.components import arriving
from app.components.marks import marked
from app.components.estimates import estimate_panel
from app.components.health import health_panel
from app.components.metricview import latest
from app.components.page import PageContext, run_page
from app.components.perclass import per_class_panel
from app.components.timeline import timeline_panel
from app.components.text import escape_md, literal
from app.components.widgets import chart, kpi, metric_help, no_labels_message, spinner

#: The tiles per task (after the primary metric): what app/precompute.py computes ahead.
TILES = precompute.OVERVIEW_TILES
K_METRIC = "ov_metric"


def body(ctx: PageContext) -> None:
    task, period = ctx.spec.task, ctx.filters.period
    names = metric_names(task)
    tiles = TILES[task] + ("volume", "label_coverage")
    with spinner():
        # the tiles pool the serving versions (a shadow's re-scores are not the deployment's)
        by_period, pooled = resources.pooled_metrics(ctx.ws_key, ctx.selection,
                                                     Grouping(by=("period",), period=period), tiles)
        health = resources.model_health(ctx.ws_key, ctx.spec.name)
    if ctx.spec.description:  # the workspace's words, as plain text (never Markdown: no images, links)
        st.markdown(f"**{literal(ctx.spec.name)}** · {task}")
        st.text(ctx.spec.description)

    per_row = (len(tiles) + 1) // 2   # two rows: every value fits at 1280 px with the sidebar open
    cols = [c for i in range(0, len(tiles), per_row) for c in st.columns(per_row)]
    for col, m in zip(cols, tiles):
        d = get_metric(m, task)
        cur = latest(by_period, m)
        if cur.value is None:
            kpi(col, d.label, F.MISSING, help=metric_help(m, task), caption="no value in this range")
            continue
        better = {True: "normal", False: "inverse", None: "off"}[d.higher_is_better]
        late = arriving.coverage_tile(health, cur.period, cur.delta) if m == "label_coverage" else {}
        kpi(col, d.label, F.by_kind(cur.value.value, d.fmt), delta=None if late else F.delta(cur.delta, d.fmt),
            delta_color=better, help=metric_help(m, task),
            caption=f"{period} of {cur.period}" + (f" · {late['note']}" if late else "") + (
                f" · 95% {F.interval(cur.value.ci_low, cur.value.ci_high, d.fmt)}" if cur.value.ci_low is not None else ""))
    st.caption(f"Each tile: the latest {period} with a value, its 95% interval, and the change from the {period} "
               f"before; {escape_md(pooled)}.")

    health_panel(health)

    choices = [m for m in names if m not in ("volume",)]
    primary = PRIMARY_METRIC[task]
    state.bind(K_METRIC, "metric", lambda v: v if v in choices else None)
    seeded = {} if K_METRIC in st.session_state else {"index": choices.index(primary)}
    metric = st.columns([1, 2])[0].selectbox("Metric", choices, key=K_METRIC, **seeded,
                          format_func=lambda m: get_metric(m, task).label, help=metric_help(primary, task))
    state.set_param("metric", None if metric == primary else metric)
    d = get_metric(metric, task)
    with spinner():
        by_version = resources.metrics(ctx.ws_key, ctx.selection, Grouping(by=("period", "version"), period=period),
                                       (metric, "label_coverage"))
    frame = by_version.to_polars()
    if d.kind == "label" and frame[metric].drop_nulls().is_empty():
        st.info(no_labels_message(ctx.ws_key, ctx.spec.name), icon=":material/schedule:")
    else:
        chart(marked(ctx, charts.metric_over_time(frame, metric, label=d.label, fmt=d.fmt,
                                                  title=f"{d.label} per {period} and version (95% interval bands)")),
              key="ov_metric_chart")
    estimate_panel(ctx, metric)
    chart(marked(ctx, charts.metric_over_time(frame, "label_coverage", label="label coverage", fmt="pct",
                                              title="Label coverage: share of predictions whose outcome is known")),
          key="ov_coverage_chart")
    if task == "multiclass":
        per_class_panel(ctx)
    timeline_panel(ctx.ws_key, ctx.workspace, [ctx.spec.name], key="ov_timeline")


run_page("Model overview", body, caption="How is this model doing, and is it getting better or worse?")
