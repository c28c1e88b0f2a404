"""Per-period answers after a refresh: only the periods whose days changed are computed again.

A remembered answer (:mod:`.answers`) records the model's stored files by day. When the
same question is asked on new data, the days whose files differ (:func:`changed_days`:
new days, days rebuilt for late outcomes, days gone) are known; an answer made of one
row per period (metrics by period, drift over time) keeps the rows of every other
period and computes again only the runs of consecutive periods holding a changed day
(:func:`runs`, :func:`narrowed`). Each period's row depends only on that period's rows
(and, for drift, on a reference window the changed days must not touch), so the merged
answer is the answer computed whole. The analyses decide when that holds (their hooks:
``analytics.metrics.compute``, ``analytics.analyses.drift.remember``).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import logging
from typing import Any

#: One debug line per recomputation (which answer, which periods): what tests count.
log = logging.getLogger(__name__)


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


def runs(days: set[_dt.date], period: str) -> list[tuple[_dt.date, _dt.date]]:
    """``[(lo, hi), ...]``: the runs of consecutive periods holding a changed day."""
    out: list[list[_dt.date]] = []
    for start in sorted({period_of(d, period) for d in days}):
        if out and out[-1][1] == start:
            out[-1][1] = next_period(start, period)
        else:
            out.append([start, next_period(start, period)])
    return [(lo, hi) for lo, hi in out]


def within(day: Any, spans: list[tuple[_dt.date, _dt.date]]) -> bool:
    """Whether ``day`` (a period's start) lies in one of ``spans``."""
    d = as_date(day)
    return any(lo <= d < hi for lo, hi in spans)


def prediction_days(entry: dict) -> dict[str, str]:
    """Per stored day, a fingerprint of what its prediction rows depend on: the prediction
    files holding that day (path, size, mtime) and the model's settings. Outcome files are
    left out: late labels rebuild a day's files but keep this fingerprint."""
    holders: dict[str, list] = {}
    stats = entry.get("pred_files", {})
    for f, ds in entry.get("pred_days", {}).items():
        for d in ds:
            holders.setdefault(d, []).append((f, *(stats.get(f) or [None])[:2]))
    base = (entry.get("fingerprint"), entry.get("repeats"))
    return {d: hashlib.sha1(repr((base, sorted(holders.get(d, [])))).encode("utf-8")).hexdigest()
            for d in entry.get("days", {})}


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
    prev = previous_split(q, days)
    return None if prev is None else prev[:2]


def previous_split(q, days: dict[str, list[str]]):
    """(the last answer of ``q``'s question, the changed days, the days whose prediction
    rows changed) when one was kept on other data with its days; else None. Without
    prediction fingerprints on either side, every changed day counts as changed predictions."""
    old = q.latest()
    if old is None or not old.get("days"):
        return None
    changed = changed_days(old["days"], days)
    if not changed:
        return None
    new_pred, old_pred = getattr(q, "pred_days", None), old.get("pred_days")
    if not new_pred or not old_pred:
        return old["answer"], changed, changed
    pred = {_dt.date.fromisoformat(d) for d in set(old_pred) | set(new_pred) if old_pred.get(d) != new_pred.get(d)}
    return old["answer"], changed, pred & changed
