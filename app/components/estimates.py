"""Estimates where labels are missing, on the overview and the portfolio (one call each).

The library estimates (:mod:`analytics.analyses.estimate`); this draws it: the
measured series solid, the estimated weeks dashed with their 95% band
(:func:`analytics.charts.estimates.estimate_over_time`), and a sentence for the
latest estimated week that says "estimated" and, when the guard does not trust
it, why. An estimate is never shown as a measurement.
"""

from __future__ import annotations

import streamlit as st

from analytics.analyses.estimate import METRICS, EstimateConfig
from dataclasses import replace

from analytics.errors import LastmileError
from analytics.metrics import get_metric
from analytics.query.selection import Grouping, Selection
from analytics.render import format as F
from analytics.render.charts.estimates import estimate_over_time

from app import resources
from app.components.text import escape_md
from app.components.widgets import chart, spinner


def latest_estimate(result, metric: str, matured: float):
    """The latest row still waiting for labels that has an estimate of ``metric`` (or None)."""
    rows = [r for r in result.rows if r.label_coverage < matured and r.estimated.get(metric) is not None
            and r.estimated[metric].value is not None]
    return max(rows, key=lambda r: str(r.group.get("period")), default=None)


def sentence(row, metric: str, task: str) -> str:
    d = get_metric(metric, task)
    e = row.estimated[metric]
    where = f"week of {row.group.get('period')}" if "period" in row.group else "this range"
    head = (f"**Estimated** {d.label} for the {where} ({F.pct(row.label_coverage, 0)} labeled): "
            f"{F.by_kind(e.value, d.fmt)}, 95% {F.interval(e.ci_low, e.ci_high, d.fmt)}")
    if row.reliable:
        return head + "."
    return head + " — **not trusted**: " + escape_md("; ".join(row.reasons)) + "."


def _estimates(ws_key, selection: Selection, grouping: Grouping):
    try:
        return resources.estimates(ws_key, selection, grouping)
    except LastmileError as exc:
        st.caption(f"No estimate: {escape_md(str(exc))}")
        return None


def estimate_panel(ctx, metric: str) -> None:
    """Overview: the metric per period and version, measured then estimated (dashed, band)."""
    spec = ctx.spec
    if metric not in METRICS[spec.task]:
        return
    matured = EstimateConfig.from_spec(spec).matured_coverage
    with spinner("Estimating where labels are missing…"):
        res = _estimates(ctx.ws_key, ctx.selection, Grouping(by=("period", "version"), period=ctx.filters.period))
    if res is None or not any(r.label_coverage < matured for r in res.rows):
        return
    d = get_metric(metric, spec.task)
    chart(estimate_over_time(res, metric, label=d.label, fmt=d.fmt, matured=matured,
                             title=f"{d.label}: measured, then estimated where labels are missing "
                                   "(dashed, 95% band; hollow grey: not trusted)"),
          key="ov_estimate_chart")
    lines = [sentence(r, metric, spec.task) + f" ({escape_md(str(r.group.get('version')))})"
             for r in [latest_estimate(_only(res, v), metric, matured) for v in _versions(res)] if r is not None]
    if lines:
        st.markdown("\n".join(f"- {x}" for x in lines))
    st.caption("Estimates come from the scores (or an error model) without labels, and hold while the "
               "relation between inputs and outcomes stays as in the reference; each is backtested on "
               "the weeks whose labels are in. Method: analytics/docs/estimate.md.")


def _versions(res):
    return sorted({str(r.group.get("version")) for r in res.rows})


def _only(res, version):
    return replace(res, rows=tuple(r for r in res.rows if str(r.group.get("version")) == version))


def estimate_card(ws_key, spec, metric: str, selection: Selection) -> None:
    """Portfolio card: the latest estimated week of the primary metric, and a small chart."""
    if metric not in METRICS[spec.task]:
        return
    matured = EstimateConfig.from_spec(spec).matured_coverage
    serving, _ = resources.serving_selection(ws_key, selection)   # as the card's tiles: shadows left out
    res = _estimates(ws_key, serving, Grouping(by=("period",)))
    if res is None:
        return
    row = latest_estimate(res, metric, matured)
    if row is None:
        return
    d = get_metric(metric, spec.task)
    st.caption(sentence(row, metric, spec.task))
    fig = estimate_over_time(res, metric, label=d.label, fmt=d.fmt, matured=matured, height=140)
    fig.update_layout(showlegend=False, title=None, margin=dict(l=0, r=0, t=4, b=0))
    st.plotly_chart(fig, width="stretch", key=f"pf_estimate_{spec.name}", config={"displayModeBar": False})
