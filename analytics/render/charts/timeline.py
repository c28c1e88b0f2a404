"""The health timeline: status bands per model over time (from
:func:`analytics.alerts.timeline.bands`), each band's reasons on hover, and the
version releases (a version's first prediction) marked. Pure: no query, no
history read."""

from __future__ import annotations

import datetime as _dt
from typing import Mapping, Sequence

import plotly.graph_objects as go

from analytics.alerts.timeline import DAY, Band
from analytics.render.charts.base import empty_figure, style, template_text, user_text

STATUS_COLORS = {"healthy": "#009E73", "warn": "#E69F00", "pull": "#D55E00", "error": "#CC79A7"}


@user_text
def timeline_figure(all_bands: Sequence[Band], releases: Mapping[str, Sequence[tuple[str, _dt.datetime]]]
                    | None = None, title: str | None = "Health over time", height: int | None = None) -> go.Figure:
    """Status bands per model (one row each), reasons on hover, releases marked."""
    if not all_bands:
        return empty_figure("No verdicts recorded yet: `lastmile check` records one per run, and "
                            "`lastmile check --backfill --since DATE` fills past days.", height=160)
    models = list(dict.fromkeys(b.model for b in all_bands))
    fig = go.Figure()
    for status, colour in STATUS_COLORS.items():
        bs = [b for b in all_bands if b.status == status]
        if not bs:
            continue
        hover = []
        for b in bs:
            lines = [template_text(r if len(r) < 160 else r[:157] + "...") for r in b.reasons[:6]]
            more = f"<br>... and {len(b.reasons) - 6} more" if len(b.reasons) > 6 else ""
            hover.append(f"<b>{template_text(b.model)}: {status}</b><br>{b.start:%Y-%m-%d} to "
                         f"{(b.end - DAY):%Y-%m-%d}<br>" + ("<br>".join(lines) or "every rule passes") + more)
        fig.add_trace(go.Bar(
            y=[b.model for b in bs], x=[(b.end - b.start).total_seconds() * 1000 for b in bs],
            base=[b.start.isoformat() for b in bs], orientation="h", name=status,
            marker=dict(color=colour, line=dict(width=1, color="white")), hovertext=hover, hovertemplate="%{hovertext}<extra></extra>",
        ))
    shown = False
    for m in models:
        rel = (releases or {}).get(m) or ()
        if not rel:
            continue
        fig.add_trace(go.Scatter(
            x=[t.isoformat() for _, t in rel], y=[m] * len(rel), mode="markers+text",
            text=[v for v, _ in rel], textposition="top center", name="release",
            legendgroup="release", showlegend=not shown,
            marker=dict(symbol="triangle-down", size=11, color="#1f2933"),
            hovertemplate="release of %{text}: first prediction %{x|%Y-%m-%d}<extra></extra>",
        ))
        shown = True
    fig.update_layout(barmode="overlay", bargap=0.35)
    fig.update_xaxes(type="date")
    fig.update_yaxes(categoryorder="array", categoryarray=list(reversed(models)))
    style(fig, title=title, height=height or (110 + 48 * len(models)))
    fig.update_layout(hovermode="closest")
    return fig
