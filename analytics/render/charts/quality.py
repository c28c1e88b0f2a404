"""Charts of a quality run (:class:`analytics.analyses.quality.QualityResult`): a heat map
of every check by column (rows) and period (columns), worst first, and one row's history.

:func:`quality_matrix` is the data behind the heat map (also used by the PDF section):
one row per (check, column or version), ordered worst first (its worst level, then how
many periods are at warn or pull, then by name)."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from analytics.analyses.quality.checks import CHECKS

from .base import color, empty_figure, style, user_text

#: heat-map value per level; null (not computed) stays blank
SEVERITY = {"ok": 0, "info": 0, "warn": 1, "pull": 2}
COLORS = [[0.0, "#e8f3ec"], [0.33, "#e8f3ec"], [0.34, "#f6c85f"], [0.66, "#f6c85f"], [0.67, "#d1495b"],
          [1.0, "#d1495b"]]


@dataclass(frozen=True)
class MatrixRow:
    key: tuple[str, str | None, str | None]     # (check, column, version)
    label: str
    worst: str
    problems: int


def row_key(f) -> tuple[str, str | None, str | None]:
    return (f.check, f.column, f.version)


def row_label(key) -> str:
    check, column, version = key
    return f"{check} · {column or ('all versions' if version == 'all' else version) or 'model'}"


def quality_matrix(result, *, problems_only: bool = False):
    """``(rows, periods, cells)``: rows worst first, periods in order, and
    ``cells[(key, period)]`` the finding. Findings without a period (freshness, schema)
    are left out; ``problems_only`` keeps rows with a warn or pull somewhere."""
    cells, periods, rows = {}, set(), {}
    rank = {"ok": 0, "info": 1, "warn": 2, "pull": 3}
    for f in result.findings:
        if not f.period or f.check == "schema":
            continue
        k = row_key(f)
        cells[(k, f.period)] = f
        periods.add(f.period)
        r = rows.setdefault(k, [0, 0])
        r[0] = max(r[0], rank[f.level])
        r[1] += f.level in ("warn", "pull")
    out = [MatrixRow(k, row_label(k), {0: "ok", 1: "info", 2: "warn", 3: "pull"}[w], n)
           for k, (w, n) in rows.items() if not problems_only or n]
    out.sort(key=lambda r: (-rank[r.worst], -r.problems, r.label))
    return out, sorted(periods), cells


@user_text
def quality_heatmap(result, *, title: str | None = None, max_rows: int = 40) -> go.Figure:
    """Check · column down (worst first), period across; green ok, amber warn, red pull,
    blank not computed. The hover gives the finding's sentence."""
    rows, periods, cells = quality_matrix(result)
    if not rows:
        return empty_figure("No period to check in this selection.")
    rows = rows[:max_rows]
    z, text = [], []
    for r in rows:
        z.append([SEVERITY[cells[(r.key, p)].level] if (r.key, p) in cells and cells[(r.key, p)].observed is not None
                  else None for p in periods])
        text.append([cells[(r.key, p)].message if (r.key, p) in cells else "" for p in periods])
    fig = go.Figure(go.Heatmap(z=z, x=periods, y=[r.label for r in rows], customdata=text, zmin=0, zmax=2,
                               colorscale=COLORS, showscale=False, xgap=1, ygap=1,
                               hovertemplate="%{customdata}<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category", showgrid=False)
    fig.update_xaxes(type="category", showgrid=False)
    fig = style(fig, title, None, max(260, 22 * len(rows) + 120), legend=False)
    fig.update_layout(hovermode="closest")
    return fig


@user_text
def quality_history(result, key, *, title: str | None = None) -> go.Figure:
    """One row of the heat map over time: the observed value per period, its warn and
    pull levels dashed, the periods at warn or pull marked."""
    fs = sorted((f for f in result.findings if row_key(f) == tuple(key) and f.period), key=lambda f: f.period)
    if not fs:
        return empty_figure("No period of this check in the selection.")
    check = CHECKS[key[0]]
    x = [f.period for f in fs]
    y = [f.observed for f in fs]
    fig = go.Figure(go.Scatter(x=x, y=y, mode="lines+markers", name="observed", line=dict(color=color(0)),
                               customdata=[f.message for f in fs], hovertemplate="%{customdata}<extra></extra>"))
    bad = [f for f in fs if f.level in ("warn", "pull")]
    if bad:
        fig.add_trace(go.Scatter(x=[f.period for f in bad], y=[f.observed for f in bad], mode="markers",
                                 name="warn / pull", marker=dict(size=11, color=["#f6c85f" if f.level == "warn"
                                                                                 else "#d1495b" for f in bad]),
                                 hoverinfo="skip"))
    cfg = result_levels(result, check)
    for lv, dash in (("warn", "dash"), ("pull", "dot")):
        if cfg.get(lv) is not None:
            fig.add_hline(y=cfg[lv], line=dict(dash=dash, color="#52606d", width=1),
                          annotation_text=lv, annotation_position="top left")
    fmt = "pct" if check.unit == "share" else None
    fig = style(fig, title or f"{row_label(key)}: {check.measures}", fmt, 320)
    fig.update_xaxes(type="category")
    fig.update_layout(hovermode="closest")
    return fig


def result_levels(result, check) -> dict:
    """The warn/pull levels the run used for ``check`` (its findings' thresholds, else the defaults)."""
    return {"warn": check.warn, "pull": check.pull, **dict(result.levels.get(check.name, {}))}
