"""Outcomes that are still arriving: the newest periods' low label coverage is expected
(outcomes come days or weeks after the prediction), so it is shown as "still arriving",
in grey, never as a red drop."""

from __future__ import annotations

import datetime as _dt


def still_arriving(health, period_start) -> bool:
    """True when the period starting at ``period_start`` lies after the health check's
    performance window (the newest week with enough labels): its outcomes are still coming."""
    perf = getattr(health, "windows", {}).get("performance") if health is not None else None
    if perf is None or period_start is None:
        return False
    try:
        day = _dt.date.fromisoformat(str(period_start)[:10])
    except ValueError:
        return False
    return day >= perf[1].date()


def coverage_tile(health, period_start, delta: float | None) -> dict:
    """The label coverage tile's note when its outcomes are still arriving (the tile then
    shows no change arrow), else ``{}``."""
    if delta is not None and delta < 0 and still_arriving(health, period_start):
        return {"note": "outcomes still arriving (expected: they come later)"}
    return {}
