"""Estimates over time: measured values solid, label-free estimates dashed with their band.

A pure function of an :class:`~analytics.analyses.estimate.EstimateResult` grouped by
period (and optionally version), for the dashboard and the PDF alike. A period is
drawn as *estimated* while its labels are not in (label coverage below
``matured``); estimates the guard does not trust are drawn hollow and grey,
with the reason in the hover text: never as if they were a measurement.
"""

from __future__ import annotations

import plotly.graph_objects as go

from analytics.render import format as F
from .base import color, empty_figure, rgba, style, user_text

UNTRUSTED = "#9aa5b1"


def _short(reasons) -> str:
    text = "; ".join(reasons)
    return text if len(text) <= 160 else text[:157] + "…"


@user_text
def estimate_over_time(result, metric: str, *, label: str | None = None, fmt: str = "num",
                       matured: float = 0.8, title: str | None = None, height: int = 360) -> go.Figure:
    """Per series (version, or all rows): the realized metric where labels are in, then the
    estimate (dashed line, 95% band) where they are not."""
    label = label or metric
    if not result.rows or metric not in result.metric_names:
        return empty_figure(f"No estimate of {label} for this selection.")
    by = "version" if "version" in result.group_keys else None
    series: dict[str, list] = {}
    for r in sorted(result.rows, key=lambda r: str(r.group.get("period"))):
        series.setdefault(str(r.group[by]) if by else "all versions", []).append(r)
    fig = go.Figure()
    d3 = F.D3.get(fmt, "")
    any_estimate = False
    for i, (name, rows) in enumerate(series.items()):
        c = color(i)
        shown = name
        real = [(r.group["period"], r.realized[metric].value) for r in rows
                if r.realized and r.label_coverage >= matured and r.realized.get(metric) is not None
                and r.realized[metric].value is not None]
        est = [r for r in rows if r.label_coverage < matured and r.estimated[metric].value is not None]
        if real:
            fig.add_trace(go.Scatter(x=[p for p, _ in real], y=[v for _, v in real], mode="lines+markers",
                                     name=f"{shown}: measured", line=dict(color=c, width=2),
                                     hovertemplate=f"%{{y:{d3}}} measured<extra>%{{fullData.name}}</extra>"))
        if not est:
            continue
        any_estimate = True
        xs = [r.group["period"] for r in est]
        lo = [r.estimated[metric].ci_low for r in est]
        hi = [r.estimated[metric].ci_high for r in est]
        fig.add_trace(go.Scatter(x=xs + xs[::-1], y=hi + lo[::-1], fill="toself", fillcolor=rgba(c, 0.15),
                                 line=dict(width=0), hoverinfo="skip", showlegend=True,
                                 name=f"{shown}: estimated, 95% band"))
        # the dashed line starts at the last measured point, so the eye follows one series
        lx = ([real[-1][0]] if real else []) + xs
        ly = ([real[-1][1]] if real else []) + [r.estimated[metric].value for r in est]
        fig.add_trace(go.Scatter(x=lx, y=ly, mode="lines", line=dict(color=c, width=2, dash="dash"),
                                 name=f"{shown}: estimated (no labels yet)", hoverinfo="skip"))
        text = [("estimated" if r.reliable else "estimated, NOT TRUSTED: " + _short(r.reasons))
                + f" · {r.n_labeled:,} of {r.n:,} labeled" for r in est]
        fig.add_trace(go.Scatter(
            x=xs, y=[r.estimated[metric].value for r in est], mode="markers", showlegend=False,
            name=f"{shown}: estimated", text=text,
            marker=dict(size=9, color=[c if r.reliable else "white" for r in est],
                        line=dict(width=2, color=[c if r.reliable else UNTRUSTED for r in est]),
                        symbol=["circle" if r.reliable else "circle-open" for r in est]),
            hovertemplate=f"%{{y:{d3}}} %{{text}}<extra>%{{fullData.name}}</extra>"))
    if not any_estimate and not fig.data:
        return empty_figure(f"No {label} to show for this selection.")
    return style(fig, title=title or f"{label}: measured, then estimated where labels are missing",
                 y_fmt=fmt, height=height)
