"""The figures: one function per kind of chart, each result -> Figure."""

from __future__ import annotations

import math
from typing import Any, Iterable, Sequence

import plotly.graph_objects as go
import polars as pl

from analytics.render import format as F
from .base import PALETTE, color, empty_figure, rgba, style, template_text, user_text


def _finite(v: Any) -> bool:
    return v is not None and not (isinstance(v, float) and not math.isfinite(v))


def _groups(frame: pl.DataFrame, by: str | None) -> list[tuple[str, pl.DataFrame]]:
    if not by or by not in frame.columns:
        return [("", frame)]
    out = []
    for key in sorted(frame[by].unique().to_list(), key=lambda x: (x is None, str(x))):
        out.append((str(key), frame.filter(pl.col(by) == key) if key is not None else frame.filter(pl.col(by).is_null())))
    return out


def _known_runs(xs: Sequence, lows: Sequence, highs: Sequence) -> list[tuple[list, list, list]]:
    """Contiguous stretches where both interval bounds are known.

    A band is one closed polygon per stretch: a missing bound (a week without
    labels) inside one polygon would split it into two paths that plotly closes
    on themselves, drawing triangles instead of a band.
    """
    runs: list[tuple[list, list, list]] = []
    cur: tuple[list, list, list] = ([], [], [])
    for x, lo, hi in zip(xs, lows, highs):
        if lo is None or hi is None:
            if cur[0]:
                runs.append(cur)
            cur = ([], [], [])
            continue
        cur[0].append(x)
        cur[1].append(lo)
        cur[2].append(hi)
    if cur[0]:
        runs.append(cur)
    return runs


@user_text
def metric_over_time(frame: pl.DataFrame, metric: str, *, label: str | None = None, fmt: str = "num",
                     by: str | None = "version", x: str = "period", title: str | None = None,
                     height: int = 360) -> go.Figure:
    """A metric over time, one line per ``by`` group, with its interval as a shaded band.

    ``frame`` has the columns of ``MetricsResult.to_polars()``: ``x``, ``by``,
    ``<metric>``, ``<metric>_ci_low``, ``<metric>_ci_high`` (and ``n`` for the hover).
    """
    if frame.is_empty() or metric not in frame.columns or frame[metric].drop_nulls().is_empty():
        return empty_figure(f"No {label or metric} to show for this selection.")
    fig = go.Figure()
    lo, hi = f"{metric}_ci_low", f"{metric}_ci_high"
    for i, (name, g) in enumerate(_groups(frame.sort(x), by)):
        c = color(i)
        xs = g[x].to_list()
        if lo in g.columns and hi in g.columns:
            for run_x, run_lo, run_hi in _known_runs(xs, g[lo].to_list(), g[hi].to_list()):
                fig.add_trace(go.Scatter(x=run_x + run_x[::-1], y=run_hi + run_lo[::-1],
                                         fill="toself", fillcolor=rgba(c, 0.15), line=dict(width=0),
                                         hoverinfo="skip", showlegend=False, legendgroup=name))
        custom = g["n"].to_list() if "n" in g.columns else None
        fig.add_trace(go.Scatter(
            x=xs, y=g[metric].to_list(), mode="lines+markers", name=name or (label or metric),
            line=dict(color=c, width=2), marker=dict(size=5), legendgroup=name, customdata=custom,
            hovertemplate=f"%{{y:{F.D3.get(fmt, '')}}}" + (" (n=%{customdata:,})" if custom else "")
            + ("<extra>%{fullData.name}</extra>" if name else "<extra></extra>")))
    return style(fig, title, fmt, height, legend=by is not None)


@user_text
def sparkline(values: Sequence[float | None], *, fmt: str = "num", height: int = 60,
              line_color: str = PALETTE[0]) -> go.Figure:
    """A tiny trend line without axes (for tables and tiles)."""
    fig = go.Figure(go.Scatter(y=list(values), mode="lines", line=dict(color=line_color, width=2),
                               hovertemplate=f"%{{y:{F.D3.get(fmt, '')}}}<extra></extra>"))
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=0, b=0), showlegend=False,
                      template="plotly_white")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return fig


@user_text
def bar_by_group(frame: pl.DataFrame, metric: str, group: str, *, label: str | None = None,
                 fmt: str = "num", title: str | None = None, reference: float | None = None,
                 height: int | None = None) -> go.Figure:
    """A metric per group as horizontal bars with interval error bars (groups in frame order)."""
    if frame.is_empty() or metric not in frame.columns:
        return empty_figure(f"No {label or metric} to show for this selection.")
    names = [str(v) for v in frame[group].to_list()]
    vals = frame[metric].to_list()
    lo = frame[f"{metric}_ci_low"].to_list() if f"{metric}_ci_low" in frame.columns else [None] * len(vals)
    hi = frame[f"{metric}_ci_high"].to_list() if f"{metric}_ci_high" in frame.columns else [None] * len(vals)
    plus = [(h - v) if _finite(h) and _finite(v) else None for v, h in zip(vals, hi)]
    minus = [(v - lw) if _finite(lw) and _finite(v) else None for v, lw in zip(vals, lo)]
    n = frame["n"].to_list() if "n" in frame.columns else None
    fig = go.Figure(go.Bar(
        y=names, x=vals, orientation="h", marker_color=PALETTE[0], customdata=n,
        error_x=dict(type="data", array=plus, arrayminus=minus, color="#52606d", thickness=1.2),
        hovertemplate=f"%{{y}}: %{{x:{F.D3.get(fmt, '')}}}" + (" (n=%{customdata:,})" if n else "") + "<extra></extra>"))
    if reference is not None and _finite(reference):
        fig.add_vline(x=reference, line=dict(color="#C62828", dash="dash", width=1.5),
                      annotation_text="overall", annotation_position="top")
    fig.update_yaxes(autorange="reversed")
    fig = style(fig, title, None, height or max(220, 28 * len(names) + 80), legend=False)
    fig.update_xaxes(tickformat=F.D3.get(fmt, ""))
    fig.update_layout(hovermode="closest")
    return fig


@user_text
def volume_chart(frame: pl.DataFrame, *, x: str = "period", by: str | None = "version",
                 y: str = "n", title: str | None = "Predictions", height: int = 320) -> go.Figure:
    """Prediction volume over time, stacked by ``by``."""
    if frame.is_empty():
        return empty_figure("No predictions in this selection.")
    fig = go.Figure()
    for i, (name, g) in enumerate(_groups(frame.sort(x), by)):
        fig.add_trace(go.Bar(x=g[x].to_list(), y=g[y].to_list(), name=name or "predictions",
                             marker_color=color(i), hovertemplate="%{y:,}" + ("<extra>%{fullData.name}</extra>" if name else "<extra></extra>")))
    fig.update_layout(barmode="stack")
    return style(fig, title, "count", height)


@user_text
def latency_chart(frame: pl.DataFrame, *, x: str = "period", by: str | None = None,
                  quantiles: Iterable[str] = ("latency_p50", "latency_p95", "latency_p99"),
                  title: str | None = "Latency", height: int = 320) -> go.Figure:
    """Latency percentiles over time (one line per percentile, or per group for one percentile)."""
    qs = [q for q in quantiles if q in frame.columns]
    if frame.is_empty() or not qs or all(frame[q].drop_nulls().is_empty() for q in qs):
        return empty_figure("No latency recorded for this selection.")
    fig = go.Figure()
    dashes = ("solid", "dash", "dot")
    for gi, (name, g) in enumerate(_groups(frame.sort(x), by)):
        for qi, q in enumerate(qs):
            label = q.replace("latency_", "").upper()
            fig.add_trace(go.Scatter(
                x=g[x].to_list(), y=g[q].to_list(), mode="lines+markers",
                name=f"{name} {label}".strip(), line=dict(color=color(gi if by else qi),
                                                          dash=dashes[qi % 3] if by else "solid"),
                hovertemplate="%{y:,.1f} ms<extra>%{fullData.name}</extra>"))
    fig = style(fig, title, "ms", height)
    fig.update_yaxes(title_text="ms")
    return fig


@user_text
def distribution_chart(frame: pl.DataFrame, *, bucket: str, ref: str = "ref_share", cur: str = "cur_share",
                       title: str | None = None, height: int = 340) -> go.Figure:
    """Reference versus current share per bin or category, side by side."""
    if frame.is_empty():
        return empty_figure("No values of this feature in the selected windows.")
    xs = [str(v) for v in frame[bucket].to_list()]
    fig = go.Figure([
        go.Bar(x=xs, y=frame[ref].to_list(), name="reference", marker_color=PALETTE[4],
               hovertemplate="%{y:.1%}<extra>reference</extra>"),
        go.Bar(x=xs, y=frame[cur].to_list(), name="current", marker_color=PALETTE[1],
               hovertemplate="%{y:.1%}<extra>current</extra>"),
    ])
    fig.update_layout(barmode="group", bargap=0.15)
    fig = style(fig, title, "pct", height)
    # the legend above the plot: below it, it collides with long, slanted bin labels
    fig.update_layout(legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1, title=None))
    return fig


@user_text
def drift_over_time_chart(frame: pl.DataFrame, *, stat: str = "psi", x: str = "period",
                          by: str = "feature", threshold: float | None = 0.2,
                          title: str | None = None, height: int = 340, threshold_label: str | None = None,
                          hover: str | None = None) -> go.Figure:
    """A drift statistic per period, one line per feature, with the decision threshold.

    ``threshold`` is the drift rule's threshold for ``stat`` (the line drawn,
    labelled ``threshold_label``); ``hover``, a text column (the rule applied to
    each point: ``why``), is shown in each point's tooltip.
    """
    if frame.is_empty() or stat not in frame.columns:
        return empty_figure("No drift statistics for this selection.")
    fig = go.Figure()
    for i, (name, g) in enumerate(_groups(frame.sort(x), by)):
        extra = dict(customdata=[[t] for t in g[hover].to_list()],
                     hovertemplate="%{y:.3f}: %{customdata[0]}<extra>%{fullData.name}</extra>") \
            if hover and hover in g.columns else dict(hovertemplate="%{y:.3f}<extra>%{fullData.name}</extra>")
        fig.add_trace(go.Scatter(x=g[x].to_list(), y=g[stat].to_list(), mode="lines+markers",
                                 name=name, line=dict(color=color(i), width=2), **extra))
    if threshold is not None:
        fig.add_hline(y=threshold, line=dict(color="#C62828", dash="dash", width=1),
                      annotation_text=threshold_label or f"drift threshold {threshold:g}",
                      annotation_position="top left")
    return style(fig, title, "num", height)


@user_text
def threshold_curve_chart(curves: Sequence[tuple[str, Sequence[float], Sequence[float], float | None, float | None]],
                          *, currency: str = "USD", title: str | None = None, height: int = 360) -> go.Figure:
    """Net value against the decision threshold, per version.

    ``curves`` are ``(name, thresholds, values, best_threshold, current_threshold)``;
    the best threshold is marked with a dot, the current one with a dashed line.
    """
    if not curves:
        return empty_figure("No labeled predictions to draw the threshold curve from.")
    fig = go.Figure()
    current_drawn = set()
    for i, (name, ts, vs, best, current) in enumerate(curves):
        c = color(i)
        fig.add_trace(go.Scatter(x=list(ts), y=list(vs), mode="lines", name=name, line=dict(color=c, width=2),
                                 hovertemplate="threshold %{x:.3f}: %{y:,.0f} " + template_text(currency)
                                 + ("<extra>%{fullData.name}</extra>" if name else "<extra></extra>")))
        if best is not None and len(ts):
            j = min(range(len(ts)), key=lambda k: abs(ts[k] - best))
            fig.add_trace(go.Scatter(x=[ts[j]], y=[vs[j]], mode="markers", marker=dict(color=c, size=11, symbol="star"),
                                     name=f"{name} best {best:.3f}", hovertemplate="best %{x:.3f}: %{y:,.0f}<extra></extra>"))
        if current is not None and current not in current_drawn:
            current_drawn.add(current)
            fig.add_vline(x=current, line=dict(color="#52606d", dash="dash", width=1),
                          annotation_text=f"current {current:.2f}", annotation_position="bottom right")
    fig = style(fig, title, "money", height)
    fig.update_xaxes(title_text="decision threshold", range=[0, 1])
    fig.update_yaxes(title_text=f"value ({currency})")
    fig.update_layout(hovermode="closest", legend=dict(y=-0.22))
    return fig


@user_text
def value_over_time(frame: pl.DataFrame, *, x: str = "period", by: str | None = "version",
                    y: str = "net_value", currency: str = "USD", title: str | None = None,
                    height: int = 340) -> go.Figure:
    """Net value (or any money column) per period, bars per group, with a zero line."""
    if frame.is_empty() or y not in frame.columns:
        return empty_figure("No value to show for this selection.")
    fig = go.Figure()
    for i, (name, g) in enumerate(_groups(frame.sort(x), by)):
        fig.add_trace(go.Bar(x=g[x].to_list(), y=g[y].to_list(), name=name or y, marker_color=color(i),
                             hovertemplate="%{y:,.0f} " + template_text(currency)
                             + ("<extra>%{fullData.name}</extra>" if name else "<extra></extra>")))
    fig.update_layout(barmode="group")
    fig.add_hline(y=0, line=dict(color="#52606d", width=1))
    fig = style(fig, title, None, height)
    fig.update_yaxes(title_text=currency, tickformat=F.d3_money(frame[y].to_list()))
    return fig


@user_text
def compare_forest(rows: Sequence[dict], *, title: str | None = None, height: int | None = None) -> go.Figure:
    """Candidate minus baseline per metric with its interval (a forest plot).

    ``rows``: ``{"metric", "label", "delta", "ci_low", "ci_high", "better"}`` where
    ``better`` is True/False/None (colours the point green/red/grey).
    """
    rows = [r for r in rows if _finite(r.get("delta"))]
    if not rows:
        return empty_figure("No metric differences to show.")
    colors = {True: "#2E7D32", False: "#C62828", None: "#52606d"}
    fig = go.Figure()
    for r in rows:
        lo, hi, d = r.get("ci_low"), r.get("ci_high"), r["delta"]
        fig.add_trace(go.Scatter(
            x=[d], y=[r.get("label") or r["metric"]], mode="markers",
            marker=dict(color=colors[r.get("better")], size=10),
            error_x=dict(type="data", symmetric=False, array=[hi - d if _finite(hi) else 0],
                         arrayminus=[d - lo if _finite(lo) else 0], color=colors[r.get("better")]),
            showlegend=False, hovertemplate=template_text(r.get("label") or r["metric"]) + ": %{x:.4f}<extra></extra>"))
    fig.add_vline(x=0, line=dict(color="#52606d", width=1))
    fig.update_yaxes(autorange="reversed")
    fig = style(fig, title, None, height or max(240, 30 * len(rows) + 80), legend=False)
    fig.update_xaxes(title_text="candidate − baseline (95% interval)")
    fig.update_layout(hovermode="closest")
    return fig


@user_text
def explore_chart(frame: pl.DataFrame, *, y: str, x: str | None, color_by: str | None, kind: str = "line",
                  fmt: str = "num", title: str | None = None, height: int = 380) -> go.Figure:
    """The Explore page's chart: ``y`` against ``x`` (a group key), coloured by another key.

    ``kind`` is ``line`` or ``bar``; intervals (``<y>_ci_low/_ci_high``) show as bands or error bars.
    """
    if frame.is_empty() or y not in frame.columns:
        return empty_figure("Nothing to chart: pick a metric and a group-by.")
    if x is None:
        frame = frame.with_columns(pl.lit("all").alias("_all"))
        x = "_all"
    if kind == "line":
        return metric_over_time(frame, y, fmt=fmt, by=color_by, x=x, title=title, height=height)
    fig = go.Figure()
    lo, hi = f"{y}_ci_low", f"{y}_ci_high"
    for i, (name, g) in enumerate(_groups(frame.sort(x), color_by)):
        vals = g[y].to_list()
        err = None
        if lo in g.columns and hi in g.columns:
            err = dict(type="data", symmetric=False,
                       array=[(h - v) if _finite(h) and _finite(v) else None for v, h in zip(vals, g[hi].to_list())],
                       arrayminus=[(v - lw) if _finite(lw) and _finite(v) else None for v, lw in zip(vals, g[lo].to_list())],
                       color="#52606d")
        fig.add_trace(go.Bar(x=[str(v) for v in g[x].to_list()], y=vals, name=name or y, error_y=err,
                             marker_color=color(i), hovertemplate=f"%{{y:{F.D3.get(fmt, '')}}}"
                             + ("<extra>%{fullData.name}</extra>" if name else "<extra></extra>")))
    fig.update_layout(barmode="group")
    return style(fig, title, fmt, height, legend=color_by is not None)


def confusion_heatmap(confusion: Any, *, normalized: bool = False, title: str | None = None,
                      height: int | None = None) -> go.Figure:
    """A confusion matrix as a heat map: true class down, predicted class across.

    ``confusion`` is a :class:`~analytics.metrics.perclass.Confusion` (``classes``,
    ``counts``, ``row_normalized``, ``support``). ``normalized`` colours and labels
    each cell by its share of the true class's rows (the diagonal is the recall);
    otherwise by its count. The hover shows both.
    """
    classes = [str(c) for c in confusion.classes]
    if not classes or not confusion.total:
        return empty_figure("No labeled predictions to build the confusion matrix from.")
    counts = [list(r) for r in confusion.counts]
    shares = [list(r) for r in confusion.row_normalized]
    z = shares if normalized else counts
    text = [[(F.pct(v) if v is not None else F.MISSING) if normalized else F.count(v) for v in row] for row in z]
    custom = [[[c, F.pct(s) if s is not None else F.MISSING] for c, s in zip(cr, sr)] for cr, sr in zip(counts, shares)]
    fig = go.Figure(go.Heatmap(
        z=z, x=classes, y=classes, text=text, texttemplate="%{text}", customdata=custom,
        colorscale="Blues", zmin=0, zmax=1 if normalized else None, showscale=True,
        colorbar=dict(title=dict(text="share of true" if normalized else "rows"),
                      tickformat=".0%" if normalized else ",d"),
        hovertemplate="true %{y}, predicted %{x}: %{customdata[0]:,} rows (%{customdata[1]} of %{y})<extra></extra>"))
    fig.update_yaxes(autorange="reversed", title_text="true class", type="category", showgrid=False)
    fig.update_xaxes(title_text="predicted class", type="category", side="bottom")
    fig = style(fig, title, None, height or max(300, 46 * len(classes) + 140), legend=False)
    fig.update_layout(hovermode="closest")
    return fig
