"""Drift: the feature table (method, statistic, drifted), the reference-versus-current
distribution of a chosen feature, and drift over time."""

from __future__ import annotations

import datetime as _dt

import polars as pl
import streamlit as st

from analytics.analyses.drift.rule import CHART_STATS, LABELS
from analytics.analyses.drift.statistics import STATISTICS, cell, shown
from analytics.render import charts, format as F
from analytics.render.charts.drift_rule import drift_rule_chart

from app import resources, state
from app.components import urlwidgets
from app.components.marks import marked
from app.components.page import PageContext, run_page
from app.components.text import literal
from app.components.widgets import chart, kpi, spinner

K_REF, K_FEATURE = "dr_ref", "dr_feature"
STAT_HELP = {
    "why": "The drift rule applied to this row's numbers: which effect size reached its threshold, or none.",
    "PSI": "Population stability index on the reference's bins: 0.1-0.2 moderate, 0.2 and above a major shift.",
    "JS distance": "Jensen-Shannon distance between the binned distributions (0 = same, 1 = disjoint).",
    "KS": "Two-sample Kolmogorov-Smirnov statistic (largest gap between the two CDFs) and its p-value.",
    "Wasserstein (norm.)": "Earth mover's distance divided by the reference's standard deviation.",
    "χ² p": "Chi-square test of homogeneity of the category counts (no continuity correction).",
}
# a statistic registered without its own sentence here gets its registry docs
STAT_HELP.update({s.label: s.doc for s in STATISTICS.values() if s.shown and s.label not in STAT_HELP})


def stat_cells(f) -> dict[str, str]:
    """One column per registered statistic shown (analytics/analyses/drift/statistics/), by its label."""
    return {s.label: cell(s, f) for s in shown()}


#: feature_table's columns shown at once (they fit at 1280 px); the others are in the details.
MAIN_COLUMNS = ("target", "drifted", "why", "PSI", "JS distance", "Wasserstein (norm.)")


def feature_table(res, main: bool = True) -> pl.DataFrame:
    """One row per target: ``main`` the columns of :data:`MAIN_COLUMNS`, else the target and the rest."""
    rows = []
    for role, f in res.targets():
        rows.append({
            "target": f.name if role == "feature" else f"{f.name} ({role})", "kind": f.kind,
            "drifted": "yes" if f.drifted else "no", "why": f.why,
            **stat_cells(f),
            "n reference": F.count(f.n_ref), "n current": F.count(f.n_cur), "rule": f.rule, "note": f.reason or "",
        })
    frame = pl.DataFrame(rows)
    frame = frame.sort("drifted", descending=True, maintain_order=True) if rows else frame
    if not rows:
        return frame
    keep = [c for c in frame.columns if (c in MAIN_COLUMNS) == main or c == "target"]
    return frame.select(keep)


def _to_datetime(d: _dt.date) -> _dt.datetime:
    return _dt.datetime(d.year, d.month, d.day)


def body(ctx: PageContext) -> None:
    spec = ctx.spec
    if not spec.columns.features:
        st.info(f"Model {literal(spec.name)} declares no feature columns; drift of its predictions and labels is below. "
                "Add `features = [...]` to [models.columns] to watch its inputs.")
    default_ref, default_cur = resources.default_windows(ctx.ws_key, spec.name)
    first = ctx.facts.first_ts.date()
    last = ctx.facts.last_ts.date()

    def parse_ref(_):
        a = state.parse_date(state.get("ref_from")) or default_ref.start.date()
        b = state.parse_date(state.get("ref_to")) or (default_ref.end.date() - _dt.timedelta(days=1))
        return (max(first, a), min(last, b)) if a <= b else None

    state.bind(K_REF, "ref_from", parse_ref)
    seeded = {} if K_REF in st.session_state else {
        "value": (default_ref.start.date(), default_ref.end.date() - _dt.timedelta(days=1))}
    ref_range = st.columns([1, 2])[0].date_input("Reference window", key=K_REF, min_value=first, max_value=last, format="YYYY-MM-DD",
                              help="The period the model was built or validated on: what 'normal' looks like.",
                              **seeded)
    if not isinstance(ref_range, (tuple, list)) or len(ref_range) != 2:
        st.info("Pick the first and the last day of the reference window.")
        return
    urlwidgets.set_unless_default("ref_from", ref_range[0].isoformat(), default_ref.start.date().isoformat())
    urlwidgets.set_unless_default("ref_to", ref_range[1].isoformat(),
                                  (default_ref.end.date() - _dt.timedelta(days=1)).isoformat())
    flt = ctx.filters
    ref = ctx.selection.replace(start=_to_datetime(ref_range[0]),
                                end=_to_datetime(ref_range[1]) + _dt.timedelta(days=1))
    if flt.start or flt.end:
        cur = ctx.selection
        cur_text = "the time range of the filter bar"
    else:
        cur = ctx.selection.replace(start=default_cur.start, end=default_cur.end)
        cur_text = "the last 28 days of data (set a time range in the filter bar to change it)"
    last_day = (cur.end - _dt.timedelta(days=1)).date() if cur.end else last
    st.caption(f"Reference: {F.date(ref_range[0])} to {F.date(ref_range[1])}. Current: "
               f"{F.date(cur.start) if cur.start else F.date(first)} to {F.date(last_day)}, {cur_text}. "
               "Both days included; version and segment filters apply to both windows.")
    # drift per period does not depend on the table: it computes meanwhile
    resources.prefetch([(resources.drift_over_time, (ctx.ws_key, spec.name, ref, ctx.selection, flt.period))])
    with spinner("Comparing distributions…"):
        res = resources.drift(ctx.ws_key, spec.name, ref, cur)
    c = st.columns(3)
    kpi(c[0], "Drifted features", f"{len(res.drifted_features)} of {len(res.features)}",
        help=("Decided per feature by the drift rule: numeric "
              f"{res.config.rule('numeric').text()}; categorical {res.config.rule('categorical').text()}. "
              "Each row's 'why' applies it to its numbers."),
        caption=", ".join(res.drifted_features) or "none")
    pred = res.prediction
    kpi(c[1], "Prediction drift", ("yes" if pred.drifted else "no") if pred else F.MISSING,
        help="Has the distribution of the model's output changed?",
        caption=pred.why if pred else None)
    lab = res.label
    kpi(c[2], "Label drift", ("yes" if lab.drifted else "no") if lab else F.MISSING,
        help="Has the distribution of the outcomes changed (labeled rows only)?",
        caption=lab.why if lab else None)
    st.dataframe(feature_table(res), hide_index=True, width="stretch",
                 column_config={k: st.column_config.TextColumn(k, help=v) for k, v in STAT_HELP.items()})
    with st.expander("Details: kind, KS and χ² tests, rows, rule, notes"):
        st.table(feature_table(res, main=False).to_pandas().set_index("target"))  # static: wraps, never cut

    targets = [f.name if role == "feature" else role for role, f in res.targets()]
    state.bind(K_FEATURE, "feature", lambda v: v if v in targets else None)
    default = (res.drifted_features or targets)[0]
    feature = st.selectbox("Distribution of", targets, key=K_FEATURE,
                           **({} if K_FEATURE in st.session_state else {"index": targets.index(default)}))
    urlwidgets.set_unless_default("feature", feature, default)
    with spinner():
        dist = resources.distribution(ctx.ws_key, spec.name, feature, ref, cur)
    chosen = next(f for role, f in res.targets() if (f.name if role == "feature" else role) == feature)
    st.caption(f"**{feature}**: {'drifted' if chosen.drifted else 'not drifted'}: {chosen.why} "
               f"(rule: {chosen.rule}).")
    chart(charts.distribution_chart(dist, bucket="bin", title=f"{feature}: reference vs current (share of rows)"),
          key="dr_dist")
    with spinner("Drift per period…"):
        over = resources.drift_over_time(ctx.ws_key, spec.name, ref, ctx.selection, flt.period)
    over = over.with_columns(pl.col("period").cast(pl.Utf8))
    stat = st.radio("Statistic per period", list(CHART_STATS), horizontal=True, key="dr_stat",
                    format_func=lambda s: f"{LABELS[s]} ({', '.join(CHART_STATS[s])})",
                    help="The dashed line is the drift rule's threshold for this statistic; a target "
                         "drifts when any of its kind's statistics reaches its line.")
    chart(marked(ctx, drift_rule_chart(over, res.config, stat, title=f"{LABELS[stat]} per {flt.period} against the reference")),
          key="dr_time")


run_page("Drift", body, caption="Has what the model sees, says or meets changed since the reference period?")
