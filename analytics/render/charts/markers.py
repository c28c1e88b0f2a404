"""Marks on time charts: each version's first day, the start of detected drift and a
shaded period (the report's), from an :class:`analytics.analyses.timeline.Timeline`.

Pure: takes a figure with a date x axis and returns it with the marks. Labels sit
inside the plot, just under its top edge and left-aligned on their line (right-aligned
when the line is in the right fifth of the chart), so they are never cut off.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Mapping

import plotly.graph_objects as go

from .base import plain

VERSION_COLOR = "#52606d"
DRIFT_COLOR = "#D55E00"
PERIOD_FILL = "rgba(0,114,178,0.08)"


def _x_range(fig: go.Figure) -> tuple[Any, Any] | None:
    xs = [x for tr in fig.data for x in (getattr(tr, "x", None) or ()) if x is not None]
    if not xs:
        return None
    key = [(_dt.datetime.fromisoformat(str(x)) if not isinstance(x, (_dt.date, _dt.datetime)) else x) for x in xs]
    key = [k if isinstance(k, _dt.datetime) else _dt.datetime.combine(k, _dt.time()) for k in key]
    return min(key), max(key)


def _line(fig: go.Figure, x: _dt.datetime, text: str, color: str, dash: str, row: int, span) -> None:
    fig.add_shape(type="line", x0=x, x1=x, xref="x", y0=0, y1=1, yref="paper",
                  line=dict(color=color, width=1.2, dash=dash), layer="below")
    right = False
    if span is not None:
        lo, hi = span
        width = (hi - lo).total_seconds() or 1.0
        right = (x - lo).total_seconds() / width > 0.8
    fig.add_annotation(x=x, xref="x", y=1 - 0.075 * row, yref="paper", yanchor="top", text=plain(text),
                       showarrow=False, xanchor="right" if right else "left", xshift=-3 if right else 3,
                       font=dict(size=11, color=color), bgcolor="rgba(255,255,255,0.6)")


def mark_timeline(fig: go.Figure, version_starts: Mapping[str, _dt.date] | None = None,
                  drift_start: _dt.date | None = None, period: tuple[Any, Any] | None = None,
                  period_label: str = "report period") -> go.Figure:
    """Dashed lines at each version's first day (within the chart's dates, the first
    version of the data left out), a dotted line where drift began, a band over ``period``."""
    span = _x_range(fig)

    def inside(d) -> _dt.datetime | None:
        x = d if isinstance(d, _dt.datetime) else _dt.datetime.combine(d, _dt.time())
        if span is None or span[0] < x <= span[1] + _dt.timedelta(days=7):
            return x
        return None

    row = 0
    for v, d in sorted((version_starts or {}).items(), key=lambda kv: kv[1]):
        x = inside(d) if d is not None else None
        if x is not None:
            _line(fig, x, f"{v} live", VERSION_COLOR, "dash", row % 3, span)
            row += 1
    if drift_start is not None and (x := inside(drift_start)) is not None:
        _line(fig, x, "drift began", DRIFT_COLOR, "dot", row % 3, span)
    if period is not None and period[0] is not None and period[1] is not None:
        fig.add_vrect(x0=period[0], x1=period[1], fillcolor=PERIOD_FILL, line_width=0, layer="below")
        fig.add_annotation(x=period[0], xref="x", y=0, yref="paper", yanchor="bottom", xanchor="left",
                           xshift=3, text=plain(period_label), showarrow=False,
                           font=dict(size=11, color="#0072B2"))
    return fig


def mark_events(fig: go.Figure, timeline, period: tuple[Any, Any] | None = None) -> go.Figure:
    """:func:`mark_timeline` with a Timeline's version starts and drift start (None: unchanged)."""
    if timeline is None:
        return fig
    return mark_timeline(fig, timeline.version_starts, timeline.drift_start, period)
