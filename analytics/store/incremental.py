"""Per-period answers after a refresh: only the periods whose days changed are computed again.

A remembered answer (:mod:`.answers`) records the model's stored files by day. When the
same question is asked on new data, the days whose files differ (:func:`changed_days`:
new days, days rebuilt for late outcomes, days gone) are known; an answer made of one
row per period (metrics by period, drift over time) keeps the rows of every other
period and computes again only the span of periods holding a changed day
(:func:`span`, :func:`narrowed`). Each period's row depends only on that period's rows
(and, for drift, on a reference window the changed days must not touch), so the merged
answer is the answer computed whole. The analyses decide when that holds (their hooks:
``analytics.metrics.compute``, ``analytics.analyses.drift.remember``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from typing import Any


def changed_days(old: dict[str, list[str]], new: dict[str, list[str]]) -> set[_dt.date]:
    """The days whose stored files differ between two answers' data."""
    return {_dt.date.fromisoformat(d) for d in set(old) | set(new) if old.get(d) != new.get(d)}


def period_of(day: _dt.date, period: str) -> _dt.date:
    """The date that starts the period holding ``day`` (weeks start on Monday), as the
    engine's :func:`analytics.query.selection.period_start`."""
    if period == "day":
        return day
    if period == "week":
        return day - _dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    raise ValueError(period)


def next_period(start: _dt.date, period: str) -> _dt.date:
    if period == "day":
        return start + _dt.timedelta(days=1)
    if period == "week":
        return start + _dt.timedelta(days=7)
    return (start.replace(day=28) + _dt.timedelta(days=4)).replace(day=1)


def span(days: set[_dt.date], period: str) -> tuple[_dt.date, _dt.date]:
    """``[lo, hi)``: the periods from the first to the last changed day's."""
    lo = period_of(min(days), period)
    return lo, next_period(period_of(max(days), period), period)


def as_date(value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    if isinstance(value, _dt.date):
        return value
    return _dt.date.fromisoformat(str(value)[:10])


def midnight(day: _dt.date) -> _dt.datetime:
    return _dt.datetime.combine(day, _dt.time())


def narrowed(selection, lo: _dt.date, hi: _dt.date):
    """``selection`` cut to ``[lo, hi)`` (None: nothing of it is left)."""
    start, end = midnight(lo), midnight(hi)
    if selection.start is not None and selection.start > start:
        start = selection.start
    if selection.end is not None and selection.end < end:
        end = selection.end
    return dataclasses.replace(selection, start=start, end=end) if start < end else None


def touches(selection, days: set[_dt.date]) -> bool:
    """Whether any of ``days`` lies (at least partly) in ``selection``'s time span."""
    for d in days:
        if (selection.end is None or midnight(d) < selection.end) and \
                (selection.start is None or midnight(d) + _dt.timedelta(days=1) > selection.start):
            return True
    return False


def previous(q, days: dict[str, list[str]]):
    """(the last answer of ``q``'s question, the changed days) when one was kept on
    other data with its days; else None."""
    old = q.latest()
    if old is None or not old.get("days"):
        return None
    changed = changed_days(old["days"], days)
    return (old["answer"], changed) if changed else None
