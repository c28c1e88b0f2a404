"""The report's data-quality section: the checks of :mod:`analytics.analyses.quality`
over the report period (by day for up to 31 days, else by week) against the reference
window, as a heat map (the Data quality page's, the worst rows first) and a table of
the problems. ``now`` is the end of the report period (freshness is judged there)."""

from __future__ import annotations

import datetime as _dt

import dataclasses

from analytics.analyses.quality.compute import run_quality
from analytics.render import format as fmt
from analytics.render.charts.quality import quality_heatmap, quality_matrix

TITLE = "Data quality"
MAX_ROWS = 12


def quality(mi, earlier, width: int = 720) -> dict:
    sel = mi.selection
    days = (sel.end - sel.start).days if sel.start and sel.end else 999
    period = "day" if days <= 31 else "week"
    now = sel.end - _dt.timedelta(microseconds=1) if sel.end else None
    res = run_quality(mi.engine, mi.spec, start=sel.start, end=sel.end, period=period, now=now)
    problems = res.problems("warn")
    rows = [{"level": f.level, "check": f.check.replace("_", " "), "column": f.column or f.version or "",
             "period": f.period or "", "message": f.message} for f in problems[:40]]
    ref = res.reference
    out = {"template": "quality.html.j2", "title": TITLE, "model": mi.model, "status": res.status, "period": period,
           "reference": f"{fmt.date(ref[0])} to {fmt.date(ref[1] - _dt.timedelta(days=1))}" if ref[0] else "",
           "rows": rows, "more": max(0, len(problems) - len(rows)), "chart": None,
           "empty": None if problems else "No data-quality check is at warn or pull in the report period.",
           "summary": {"quality_status": res.status}}
    matrix, _, _ = quality_matrix(res, problems_only=True)
    if matrix:
        keys = {r.key for r in matrix[:MAX_ROWS]}
        shown = dataclasses.replace(res, findings=tuple(f for f in res.findings
                                                        if (f.check, f.column, f.version) in keys))
        fig = quality_heatmap(shown, title=f"Checks at warn or pull, by {period} (amber warn, red pull)")
        out["chart"] = mi.charts.add(fig, alt="Data-quality checks by column and period", width=width,
                                     height=int(fig.layout.height))
    return out
