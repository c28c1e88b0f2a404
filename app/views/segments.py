"""Segments: a metric by any segment (or pair of segments), weakest first, with intervals and n;
pick a segment to see its own time series."""

from __future__ import annotations

import itertools

import polars as pl
import streamlit as st

from analytics.metrics import PRIMARY_METRIC, get_metric, metric_names
from analytics.query.selection import Grouping
from analytics.render import charts, format as F
from analytics.render.output import frame_to_csv

from app import auth, resources, state
from app.components.metricview import metric_table
from app.components.page import PageContext, run_page
from app.components.text import escape_md, literal
from app.components.widgets import chart, table, metric_help, no_labels_message, spinner

K_METRIC, K_BY, K_PICK = "seg_metric", "seg_by", "seg_pick"
SEP = " × "


def segment_label(row: dict, keys: list[str]) -> str:
    return SEP.join(f"{k}={row[k]}" for k in keys)


def seg_name(s) -> str:
    """A ranked segment's name; the "(other)" segment says how many values it groups."""
    name = SEP.join(f"{k}={v}" for k, v in s.where.items())
    return name if s.other_values is None else f"{name} ({s.other_values:,} values)"


def weakest(ctx: PageContext, selection, pooled: str, metric: str, d, top: int = 8) -> None:
    """The segments significantly worse than the rest (q < 0.05), over the serving versions
    unless versions are chosen; a sentence when there are none (pairs: see the table)."""
    from analytics.analyses.segments import SIGNIFICANT_Q

    with spinner("Ranking segments…"):
        res = resources.weak_segments(ctx.ws_key, selection, metric)
    st.subheader("Weakest segments")
    st.caption(f"Each segment against the rest, {escape_md(pooled)}.")
    for c in res.capped:
        st.caption(f"{escape_md(c.sentence)} The (other) segment is compared with the rest like any segment.")
    weak = res.weak(SIGNIFICANT_Q)[:top]
    if not weak:
        st.markdown(escape_md(res.none_significant(SIGNIFICANT_Q)))
    else:
        st.dataframe(_table(weak, d), hide_index=True, width="stretch", column_config=_COLUMNS)
    worse = [s for s in res.segments if s.impact is not None and s.impact > 0 and s not in weak]
    if worse:
        with st.expander(f"Other segments below the rest, within chance ({len(worse):,})"):
            st.dataframe(_table(worse[:50], d), hide_index=True, width="stretch", column_config=_COLUMNS)


_COLUMNS = {
    "q-value": st.column_config.TextColumn(help="Benjamini-Hochberg adjusted p-value over every segment "
                                                "tested (controls false discoveries); weak means q < 0.05."),
    "segment": st.column_config.TextColumn(help="Ranked by impact: labeled rows × shortfall against the rest."),
}


def _table(segments, d) -> pl.DataFrame:
    return pl.DataFrame([{
        "segment": seg_name(s),
        d.label: F.by_kind(s.metric.value, d.fmt), "95% interval": F.interval(s.metric.ci_low, s.metric.ci_high, d.fmt),
        "rest": F.by_kind(s.rest.value, d.fmt), "vs rest": F.delta(s.delta_vs_rest, d.fmt),
        "p-value": F.p_value(s.p_value), "q-value": F.p_value(s.q_value), "labeled": F.count(s.n_labeled),
    } for s in segments])


def body(ctx: PageContext) -> None:
    task = ctx.spec.task
    segs = list(ctx.spec.columns.segments)
    if not segs:
        st.info(f"Model {literal(ctx.spec.name)} declares no segment columns: add `segments = [...]` to its "
                "[models.columns] in the workspace file.")
        return
    choices = [m for m in metric_names(task) if m != "volume"]
    primary = PRIMARY_METRIC[task]
    groupings = segs + [a + SEP + b for a, b in itertools.combinations(segs, 2)]
    c1, c2 = st.columns(2)
    state.bind(K_METRIC, "metric", lambda v: v if v in choices else None)
    state.bind(K_BY, "by", lambda v: v if v in groupings else None)
    with c1:
        metric = st.selectbox("Metric", choices, key=K_METRIC,
                              **({} if K_METRIC in st.session_state else {"index": choices.index(primary)}),
                              format_func=lambda m: get_metric(m, task).label, help=metric_help(primary, task))
    with c2:
        by = st.selectbox("Segment (or pair)", groupings, key=K_BY,
                          help="Slice by one segment column, or by a pair of them.")
    state.set_param("metric", None if metric == primary else metric)
    state.set_param("by", None if by == groupings[0] else by)
    d = get_metric(metric, task)
    keys = by.split(SEP)
    # (this page shows no label delay: one query less per call)
    # pooled over the serving versions unless versions are chosen (a shadow's re-scores are not traffic)
    selection, pooled = resources.serving_selection(ctx.ws_key, ctx.selection)
    by_segment = (resources.metrics, (ctx.ws_key, selection, Grouping(by=tuple(keys)), (metric,), False))
    with spinner():
        if d.kind == "label":
            # the ranking also gives the overall value (same registry metric, same rows);
            # the chosen segment's values compute meanwhile
            resources.prefetch([by_segment])
            with spinner("Ranking segments…"):
                ref = resources.weak_segments(ctx.ws_key, selection, metric).overall
        else:
            ref = resources.metrics(ctx.ws_key, selection, Grouping(), (metric,), False).rows[0].metrics[metric]
        res = by_segment[0](*by_segment[1])
    frame = res.to_polars()
    if d.kind == "label" and frame[metric].drop_nulls().is_empty():
        st.info(no_labels_message(ctx.ws_key, ctx.spec.name), icon=":material/schedule:")
        return
    # weakest first: worst value on top, unknown values last
    frame = frame.sort(metric, descending=d.higher_is_better is False, nulls_last=True)
    frame = frame.with_columns(pl.Series("segment", [segment_label(r, keys) for r in frame.iter_rows(named=True)]))
    below = []
    if ref.value is not None and d.higher_is_better is not None:
        for r in frame.iter_rows(named=True):
            lo, hi = r[f"{metric}_ci_low"], r[f"{metric}_ci_high"]
            worse = (hi is not None and hi < ref.value) if d.higher_is_better else (lo is not None and lo > ref.value)
            if worse:
                below.append(r["segment"])
    if d.kind == "label":
        weakest(ctx, selection, pooled, metric, d)
    st.subheader(f"{d.label} by {SEP.join(literal(k) for k in keys)}")
    st.markdown(f"Overall {d.label}: **{F.by_kind(ref.value, d.fmt)}** "
                f"(95% {F.interval(ref.ci_low, ref.ci_high, d.fmt)}, n = {F.count(ref.n)}).")
    if below:
        st.warning("Clearly worse than overall (the whole 95% interval is on the wrong side): "
                   f"{', '.join(literal(b) for b in below)}.",
                   icon=":material/trending_down:")
    chart(charts.bar_by_group(frame, metric, "segment", label=d.label, fmt=d.fmt, reference=ref.value,
                              title=f"{d.label} by {by}, weakest first (95% intervals)"), key="seg_bars")
    shown = metric_table(frame, keys, [metric], {metric: d})
    diff = [None if v is None or ref.value is None else v - ref.value for v in frame[metric].to_list()]
    shown = shown.with_columns(pl.Series("vs overall", [F.delta(x, d.fmt) for x in diff]),
                               pl.Series(f"{d.label} (value)", frame[metric].to_list()))
    table(shown, **{f"{d.label} (value)": st.column_config.NumberColumn(help="sortable raw value")})
    auth.download_button(ctx.access, ctx.spec.name, "Segments", "Download CSV", frame_to_csv(frame.drop("segment")),
                         file_name=f"{ctx.spec.name}_segments.csv", mime="text/csv", icon=":material/download:")

    st.subheader("One segment over time")
    labels = frame["segment"].to_list()
    state.bind(K_PICK, "segment", lambda v: v if v in labels else None)
    pick = st.selectbox("Segment", labels, key=K_PICK, help="Its own time series, per version.")
    state.set_param("segment", None if pick == labels[0] else pick)
    row = frame.filter(pl.col("segment") == pick).row(0, named=True)
    where = dict(ctx.filters.where)
    for k in keys:
        where[k] = (str(row[k]),)
    sel = ctx.selection.replace(where=tuple(where.items()))
    with spinner():
        ts = resources.metrics(ctx.ws_key, sel, Grouping(by=("period", "version"), period=ctx.filters.period),
                               (metric,), False)
    chart(charts.metric_over_time(ts.to_polars(), metric, label=d.label, fmt=d.fmt,
                                  title=f"{d.label} for {pick}, per {ctx.filters.period} and version"),
          key="seg_series")


run_page("Segments", body, caption="Where does the model do worst? Every slice with its interval and size.")
