"""What the report's section builders share: the chart width, the period of over-time
charts, the windows, metric cells formatted by the registry, and the champion."""

from __future__ import annotations

from analytics.query.selection import Selection
from analytics.metrics import format_value
from analytics.render import format as fmt

#: Chart width in CSS pixels (the content width of A4 and Letter at 96 px/in is ~690-720).
WIDTH = 720


def chart_period(days: float) -> str:
    """Granularity of over-time charts and tables for a window of ``days``."""
    if days <= 21:
        return "day"
    if days <= 200:
        return "week"
    return "month"


def history(mi) -> Selection:
    """The report period together with the previous one (the over-time window)."""
    return mi.selection.replace(start=mi.previous.start) if mi.previous is not None else mi.selection


def window_days(sel: Selection) -> float:
    if sel.start is None or sel.end is None:
        return 0.0
    return (sel.end - sel.start).total_seconds() / 86400


def interval(d, lo: float | None, hi: float | None) -> str:
    return f"[{format_value(d, lo)}, {format_value(d, hi)}]" if lo is not None and hi is not None else fmt.MISSING


def metric_cells(d, v) -> dict:
    """A registry value formatted as ``lastmile metrics`` prints it (the registry's formatter)."""
    if v is None:
        return {"value": fmt.MISSING, "interval": fmt.MISSING, "n": fmt.MISSING, "reason": None}
    return {"value": format_value(d, v.value),
            "interval": interval(d, v.ci_low, v.ci_high) if v.value is not None else fmt.MISSING,
            "n": fmt.count(v.n) if v.value is not None else fmt.MISSING, "reason": v.reason}


def direction(change: float | None, higher_is_better: bool | None) -> str:
    if change is None or higher_is_better is None or change == 0:
        return ""
    return "good" if (change > 0) == higher_is_better else "bad"


def champion_and_challengers(kpis_section: dict, limit: int = 2) -> tuple[str | None, list[str]]:
    """Champion: the version with most traffic in the period; challengers: the next ones."""
    versions = list(kpis_section.get("versions", ()))
    return (versions[0] if versions else None), versions[1:1 + limit]
